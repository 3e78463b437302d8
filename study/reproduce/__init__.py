"""The paper's protocol end to end, paper vs measured in one table (``scalefree reproduce``).

Four trials run through the study's own code (:func:`trainables.run_trial`) on one dataset
generated once with Ray (:func:`study.run.data.generate_with_ray`, the usual content-hashed cache):

* the Methods architecture, 3 pooling stages, with the inverse net trained through the frozen forward
  net (``surrogate``, the paper), through the true Hamiltonian (``physics``) and first one then the
  other (``hybrid``); the three share one trained forward net;
* the Note S6 architecture, 1 pooling stage, ``surrogate``.

The package: :mod:`~study.reproduce.paper` (the paper's numbers and the thresholds),
:mod:`~study.reproduce.scales` (``study/presets/scales/*.yaml`` → four study configs),
:mod:`~study.reproduce.measure` (the paper's measurements of one run),
:mod:`~study.reproduce.rules` (each verdict as a pure function of measured numbers),
:mod:`~study.reproduce.claims` (the registry of claims and their rows, :mod:`~study.reproduce.table`),
:mod:`~study.reproduce.render` (figures and ``reproduction.md``) and
:mod:`~study.reproduce.run` (the run loop and its MLflow run).

Every verdict is decided by a stated rule, never by hand: "reproduced", "partly" or "not
reproduced". A fitted tail is **heavy** and an alternative **preferred** as
:class:`analysis.PowerLawFit` judges them (Clauset et al. §5).

Output: ``reproduction.md`` and PNG figures in a run directory (default
``studies/reproduce-<scale>-<UTC timestamp>/``), all logged as artifacts of one MLflow run in the
experiment ``scalefree-reproduce`` together with the table's numbers as metrics.
"""

from study.reproduce.claims import CLAIMS, Claim, build_rows
from study.reproduce.measure import Fit, Measures, RunResult, measure
from study.reproduce.paper import EXPERIMENT, MAIN, RUNS, VERDICTS
from study.reproduce.run import reproduce
from study.reproduce.scales import SCALES, Scale, load_scale, reproduction_configs
from study.reproduce.table import Row

__all__ = [
    "CLAIMS",
    "Claim",
    "EXPERIMENT",
    "Fit",
    "MAIN",
    "Measures",
    "RUNS",
    "Row",
    "RunResult",
    "SCALES",
    "Scale",
    "VERDICTS",
    "build_rows",
    "load_scale",
    "measure",
    "reproduce",
    "reproduction_configs",
]
