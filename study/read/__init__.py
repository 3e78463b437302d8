"""What reads a study, never runs one: the report (:mod:`.report`, its text :mod:`.text` and its
figures :mod:`.figures`), the effects of the searched parameters and the variance components
(:mod:`.effects`), confirmed numbers (:mod:`.confirmed`), designed comparisons
(:mod:`.ablation`), the answers on the parent run (:mod:`.answers`) and where a study stands
(:mod:`.status`)."""
