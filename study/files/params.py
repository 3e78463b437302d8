"""The searchable parameters, one declarative row each.

Everything the study does with a searchable parameter comes from its row here: the ``space.<name>``
config key with its default and its check (:mod:`study.files.config`), Optuna's suggestion and the
trial-config keys it sets (:mod:`study.run.search`), the Tune parameter name, and the report's
column, label, axis and the mark it gives a trial's architecture (:mod:`study.read.report`).
Adding a searchable parameter is one row here plus the trial-side field that uses it.

The rows' order is the order Optuna is asked in: a study's random start-up draws depend on it, so
new rows go last.
"""

from __future__ import annotations

from dataclasses import dataclass

from trainables.config import INVERSE_MODES, SYMMETRIES

__all__ = ["Param", "PARAMS", "BY_NAME", "param_keys", "searched_keys", "mark"]


@dataclass(frozen=True)
class Param:
    """One searchable parameter."""

    name: str  # Optuna's and Tune's name, and the config key ``space.<name>``
    keys: tuple[str, ...]  # the flat trial-config keys its value sets
    kind: str  # stages | filters (one choice per stage) | int | float | log | choice
    default: tuple  # the space's default: [low, high] for int/float/log, else the choices
    doc: str  # what ``scalefree config`` says of ``space.<name>``
    label: str = ""  # the report's axis label
    allowed: tuple = ()  # a choice's possible values (empty: any of its element type)
    element: str = ""  # a choice's values: positive (ints > 0), natural (ints ≥ 0), bool, text
    marks: tuple = ()  # (value, mark) pairs: how a trial's architecture shows the value
    mark_format: str = ""  # else a format of the value for values other than the default's first
    column: bool = True  # a column of trials.csv and the report's rows

    @property
    def key(self) -> str:
        return f"space.{self.name}"

    @property
    def numeric(self) -> bool:
        """A number on an axis (the report's scatter figures and slopes)."""
        return self.kind in ("int", "float", "log") or self.element in ("positive", "natural")

    @property
    def log(self) -> bool:
        return self.kind == "log"

    @property
    def levels(self) -> bool:
        """Compared level by level (a categorical or integer parameter), not by a slope."""
        return self.kind in ("stages", "filters", "int", "choice")


PARAMS: tuple[Param, ...] = (
    Param(
        "stages",
        ("forward.stages", "inverse_net.stages"),
        "stages",
        (1, 3),
        "[min, max] pooling stages, shared by both nets",
        "pooling stages of both nets",
    ),
    Param(
        "filters",
        ("forward.filters", "inverse_net.filters"),
        "filters",
        (16, 32, 64),
        "filter choices, drawn per stage",
        element="positive",
        column=False,  # one column per stage would say less than the architecture's "16/32/64"
    ),
    Param(
        "fc",
        ("forward.fc", "inverse_net.fc"),
        "choice",
        (128, 256, 512),
        "FC width choices",
        "FC width of both nets",
        element="positive",
    ),
    Param("dropout", ("forward.dropout",), "float", (0.0, 0.5), "[low, high] forward FC dropout"),
    Param(
        "l2",
        ("inverse_net.l2",),
        "log",
        (1e-5, 5e-2),
        "[low, high] inverse L2 scale, log-uniform",
        "L2 scale of the inverse net",
    ),
    Param(
        "lr",
        ("forward_train.lr", "inverse_train.lr"),
        "log",
        (3e-4, 3e-3),
        "[low, high] Adam learning rate, log-uniform",
    ),
    Param(
        "batch_size",
        ("forward_train.batch_size", "inverse_train.batch_size"),
        "choice",
        (32, 64),
        "mini-batch choices (both nets)",
        element="positive",
    ),
    Param(
        "inverse_mode",
        ("inverse.mode",),
        "choice",
        ("surrogate",),
        "inverse training mode choices",
        allowed=INVERSE_MODES,
        element="text",
    ),
    Param(
        "bound",
        ("inverse.bound",),
        "choice",
        (False, True),
        "inverse output bound choices",
        element="bool",
    ),
    Param(
        "bonds",
        ("forward.bonds",),
        "choice",
        (False, True),
        "forward bond-hopping input channels choices",
        element="bool",
        marks=((True, " +b"),),
    ),
    Param(
        "symmetry",
        ("forward.symmetry",),
        "choice",
        ("none",),
        "forward D4 symmetry choices (none|augment|average|both)",
        allowed=SYMMETRIES,
        element="text",
        marks=(("augment", " aug"), ("average", " avg"), ("both", " aug+avg")),
    ),
    Param(
        "refine_steps",
        ("inverse.refine_steps",),
        "choice",
        (0,),
        "choices of refinement steps of the designs (0 = none)",
        element="natural",
        mark_format=" r{}",
    ),
)
BY_NAME = {p.name: p for p in PARAMS}


def param_keys() -> dict[str, tuple[str, ...]]:
    """Sampled parameter → the flat trial-config keys it sets (stages and filters: both nets'
    depth and their per-stage filters, :func:`study.run.search.apply_params`)."""
    return {p.name: p.keys for p in PARAMS if p.kind not in ("stages", "filters")}


def searched_keys() -> frozenset[str]:
    """Trial-config keys every trial takes from the search, never from the preset."""
    return frozenset(k for p in PARAMS for k in p.keys)


def mark(name: str, value: object) -> str:
    """How a trial's architecture shows ``value`` of parameter ``name`` ('' for the plain one)."""
    param = BY_NAME[name]
    for known, shown in param.marks:
        if str(known) == str(value):
            return shown
    if param.mark_format and value not in (None, "", 0, "0"):
        return param.mark_format.format(value)
    return ""
