"""What runs a study: launch, resume, confirm and ablate (:mod:`.launch`), the driver
(:mod:`.driver`) over the study's Tune experiments (:mod:`.experiments`) to its end
(:mod:`.finish`); the trainable (:mod:`.trainable`) and the recorder of its runs
(:mod:`.recording`); the search (:mod:`.search`, :mod:`.optuna_search`); confirmation and
ablation rounds (:mod:`.rounds`) and races (:mod:`.race`); live progress (:mod:`.progress`,
:mod:`.progress_view`); data fan-out (:mod:`.data`), the cluster (:mod:`.cluster`), what a killed
driver left (:mod:`.leftovers`) and fault points for tests (:mod:`.faults`)."""
