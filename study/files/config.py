"""Study configuration: the trial's config plus search space, search, resources and tracking.

Sources, later wins: dataclass defaults → preset YAML (``study/presets/NAME.yaml``) or a user YAML
(which may name ``preset:`` to start from) → ``--set key=value`` overrides. Every key is flat
(``forward.filters``, ``search.num_samples``); nested YAML mappings are flattened the same way.
Every error names the key, the rule and the value.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field, make_dataclass
from pathlib import Path

import yaml

from physics.checks import fail
from study.files.params import PARAMS
from trainables.config import TrialConfig, _build, from_flat, max_stages, to_flat
from trainables.metrics import CONTRACT_METRICS, EXTRA_METRICS

__all__ = [
    "SpaceConfig",
    "SearchConfig",
    "ResourcesConfig",
    "TrackingConfig",
    "StudyConfig",
    "PRESETS",
    "load_config",
    "study_to_flat",
    "study_from_flat",
    "config_yaml",
    "read_yaml",
]

PRESET_DIR = Path(__file__).resolve().parents[1] / "presets"  # study/presets
PRESETS = ("smoke", "reference", "paper")
# Objectives a search may use: the trial's final metrics plus |alpha − search.alpha_target|.
METRICS = (*CONTRACT_METRICS, *EXTRA_METRICS, "alpha_error")


def _element_type(param) -> type:
    if param.kind in ("float", "log"):
        return float
    return {"bool": bool, "text": str}.get(param.element, int)


# The search space: one field per row of study.files.params.PARAMS, with its default and comment.
SpaceConfig = make_dataclass(
    "SpaceConfig",
    [
        (p.name, tuple[_element_type(p), ...], field(default=p.default, metadata={"doc": p.doc}))
        for p in PARAMS
    ],
    frozen=True,
)
SpaceConfig.__module__ = __name__  # pickles and reprs name it here


@dataclass(frozen=True)
class SearchConfig:
    num_samples: int = 4  # trials (sampled configurations) in the study
    # Trial seeds per configuration (trial.seed, trial.seed + 1, …): Optuna optimises their mean,
    # and every metric a study compares gets its standard error and interval over them.
    seeds: int = 1
    max_concurrent: int = 2  # trials running at once
    # Default front: design accuracy beyond a trivial designer against the Δr exponent (smaller =
    # heavier tail). Both mean something on any trial; robustness_gain on 2–8 attacked pairs is noise.
    objectives: tuple[str, ...] = ("validated_skill", "alpha")  # final metrics
    modes: tuple[str, ...] = ("max", "min")  # one of max/min per objective
    alpha_target: float = 3.79  # target of the `alpha_error` objective |alpha − target|
    sampler_seed: int = 0  # Optuna sampler seed
    # Trials sampled at random before TPE models the space (Optuna's default 10): a study with
    # fewer trials than this is a random search.
    startup_trials: int = 10
    scheduler: str = "none"  # none | asha (on the per-epoch inverse validation accuracy)
    grace_period: int = 1  # asha: epochs before a trial may be stopped
    max_failures: int = 1  # retries of a trial whose worker crashed
    keep_checkpoints: int = 0  # per trial; 0 keeps all (safest resume), N bounds disk use


@dataclass(frozen=True)
class ResourcesConfig:
    cpus_per_trial: float = 1.0  # CPUs reserved per trial (also its torch threads)
    gpus_per_trial: float = 0.0  # GPU fraction per trial (0.5 = two trials share a GPU)
    data_workers: int = 0  # concurrent generation tasks (0 = one per cluster CPU)


@dataclass(frozen=True)
class TrackingConfig:
    uri: str = ""  # MLflow tracking URI ('' = MLFLOW_TRACKING_URI or sqlite:///mlflow.db)
    experiment: str = "scalefree"  # MLflow experiment name
    studies_dir: str = "studies"  # study directories live here
    data_dir: str = "studies/_data"  # dataset cache (content-hashed)


@dataclass(frozen=True)
class StudyConfig:
    trial: TrialConfig = field(default_factory=TrialConfig)
    space: SpaceConfig = field(default_factory=SpaceConfig)
    search: SearchConfig = field(default_factory=SearchConfig)
    resources: ResourcesConfig = field(default_factory=ResourcesConfig)
    tracking: TrackingConfig = field(default_factory=TrackingConfig)

    def __post_init__(self) -> None:
        _validate_study(self)

    def trial_seeds(self) -> tuple[int, ...]:
        """The trial seeds every sampled configuration runs with (``search.seeds`` of them)."""
        return tuple(range(self.trial.seed, self.trial.seed + self.search.seeds))


_SECTIONS = ("space", "search", "resources", "tracking")


def _check_range(key: str, values: tuple, *, positive: bool = False) -> None:
    if len(values) != 2 or not all(math.isfinite(v) for v in values):
        fail(key, "must be [low, high] of finite numbers", list(values))
    if values[0] > values[1]:
        fail(key, "must be [low, high] with low <= high", list(values))
    if positive and values[0] <= 0:
        fail(key, "must be > 0 (log-uniform)", list(values))


def _check_space(param, values: tuple, size: int) -> None:
    """``space.<name>`` by the kind of its row: a [low, high] range (positive on a log scale,
    the depths a lattice allows), or a non-empty list of allowed choices."""
    key = param.key
    if param.kind in ("stages", "int", "float", "log"):
        _check_range(key, values, positive=param.kind == "log")
        if param.name == "dropout" and (values[0] < 0 or values[1] >= 1):
            fail(key, "must lie in [0, 1)", list(values))
        if param.kind == "stages":
            top = max_stages(size)
            if values[0] < 1 or values[1] > top:
                fail(key, f"must lie in [1, {top}] for a {size}×{size} lattice", list(values))
        return
    if param.element == "positive" and (not values or any(v <= 0 for v in values)):
        fail(key, "must be a non-empty list of positive integers", list(values))
    if param.element == "natural" and (not values or any(v < 0 for v in values)):
        fail(key, "must be a non-empty list of integers >= 0", list(values))
    if param.element == "bool" and not values:
        fail(key, "must list at least one of true/false", list(values))
    if param.allowed and (not values or any(v not in param.allowed for v in values)):
        fail(key, f"must be a non-empty subset of {param.allowed}", list(values))


def _validate_study(cfg: StudyConfig) -> None:
    sp, se, size = cfg.space, cfg.search, cfg.trial.data.size
    for param in PARAMS:
        _check_space(param, getattr(sp, param.name), size)
    for key, least in (
        ("num_samples", 1),
        ("seeds", 1),
        ("startup_trials", 1),
        ("max_concurrent", 1),
        ("grace_period", 1),
        ("max_failures", 0),
    ):
        if getattr(se, key) < least:
            fail(f"search.{key}", f"must be >= {least}", getattr(se, key))
    if not se.objectives or any(o not in METRICS for o in se.objectives):
        unknown = [o for o in se.objectives if o not in METRICS]
        rule = "must be a non-empty list of final metrics, e.g. [validated_skill, alpha]"
        if unknown:
            close = ", ".join(difflib.get_close_matches(str(unknown[0]), METRICS, n=3))
            rule += f" ({unknown[0]!r} is not one" + (f"; did you mean {close}?)" if close else ")")
        fail("search.objectives", rule, list(se.objectives))
    if len(se.modes) != len(se.objectives) or any(m not in ("max", "min") for m in se.modes):
        fail(
            "search.modes",
            f"needs one of max/min per objective ({len(se.objectives)})",
            list(se.modes),
        )
    if not math.isfinite(se.alpha_target):
        fail("search.alpha_target", "must be finite", se.alpha_target)
    if se.scheduler not in ("none", "asha"):
        fail("search.scheduler", "must be none or asha", se.scheduler)
    if se.keep_checkpoints < 0:
        fail("search.keep_checkpoints", "must be >= 0 (0 keeps all)", se.keep_checkpoints)
    r = cfg.resources
    if not (math.isfinite(r.cpus_per_trial) and r.cpus_per_trial > 0):
        fail("resources.cpus_per_trial", "must be a finite number > 0", r.cpus_per_trial)
    if not (math.isfinite(r.gpus_per_trial) and 0 <= r.gpus_per_trial <= 8):
        fail("resources.gpus_per_trial", "must be in [0, 8]", r.gpus_per_trial)
    if r.data_workers < 0:
        fail("resources.data_workers", "must be >= 0", r.data_workers)
    if not cfg.tracking.experiment:
        fail("tracking.experiment", "must be a non-empty name", cfg.tracking.experiment)


def study_to_flat(cfg: StudyConfig) -> dict[str, object]:
    flat = to_flat(cfg.trial)
    for name in _SECTIONS:
        flat.update(to_flat(getattr(cfg, name), f"{name}."))
    return flat


def study_flat_redacted(cfg: StudyConfig) -> dict[str, object]:
    """:func:`study_to_flat` with the password of ``tracking.uri`` redacted: what files and MLflow
    params may hold."""
    from study.files.tracking import redact

    flat = study_to_flat(cfg)
    flat["tracking.uri"] = redact(str(flat["tracking.uri"]))
    return flat


def study_from_flat(flat: dict[str, object]) -> StudyConfig:
    known = set(study_to_flat(StudyConfig()))
    unknown = sorted(set(flat) - known)
    if unknown:
        fail(
            unknown[0],
            "is not a known key (see `scalefree config smoke` for all keys)",
            flat[unknown[0]],
        )
    trial_flat = {k: v for k, v in flat.items() if k.split(".")[0] not in _SECTIONS}
    trial = from_flat(trial_flat)
    sections = {
        name: _build(type(getattr(StudyConfig(), name)), flat, f"{name}.", set())
        for name in _SECTIONS
    }
    return StudyConfig(trial=trial, **sections)


def _flatten_yaml(tree: dict, prefix: str = "") -> dict[str, object]:
    flat: dict[str, object] = {}
    for key, value in tree.items():
        full = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten_yaml(value, full + "."))
        else:
            flat[full] = value
    return flat


# YAML aliases per document: plenty for a config, and k aliases expand a document at most ~3^(k/3)
# times (16: a few hundred), so a few hundred bytes cannot become gigabytes.
MAX_ALIASES = 16


class _BoundedLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses documents with more than :data:`MAX_ALIASES` aliases, so a
    few hundred bytes of nested aliases cannot expand into gigabytes."""

    def compose_document(self):
        self._aliases = 0
        return super().compose_document()

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise yaml.YAMLError(f"more than {MAX_ALIASES} aliases (&anchor / *alias)")
        return super().compose_node(parent, index)


def safe_load(text: str) -> object:
    """``yaml.safe_load`` with bounded alias expansion (:class:`_BoundedLoader`)."""
    return yaml.load(text, Loader=_BoundedLoader)  # noqa: S506 - a SafeLoader subclass


def read_yaml(path: Path) -> dict:
    try:
        tree = safe_load(path.read_text())
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as err:
        reason = str(err).splitlines()[0][:100] if str(err) else type(err).__name__
        fail("config", f"must be a readable YAML file ({reason})", str(path))
    if tree is None:
        return {}
    if not isinstance(tree, dict):
        fail("config", "must be a YAML mapping of keys to values", str(path))
    return tree


def _parse_override(item: str) -> tuple[str, object]:
    if "=" not in item:
        fail("--set", "must look like key=value", item)
    key, raw = item.split("=", 1)
    try:
        value = safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return key.strip(), value


def load_config(preset_or_path: str, overrides: list[str] | tuple[str, ...] = ()) -> StudyConfig:
    """Resolve a preset name or YAML path plus ``key=value`` overrides into a validated config."""
    flat: dict[str, object] = {}
    if preset_or_path in PRESETS:
        flat.update(_flatten_yaml(read_yaml(PRESET_DIR / f"{preset_or_path}.yaml")))
    else:
        path = Path(preset_or_path)
        if not path.is_file():
            fail("config", f"must be a preset {PRESETS} or an existing YAML file", preset_or_path)
        user = _flatten_yaml(read_yaml(path))
        if not user:
            rule = "must set at least one key, e.g. `preset: smoke` (an empty file is no study)"
            fail("config", rule, str(path))
        base = user.pop("preset", None)
        if base is not None:
            if base not in PRESETS:
                fail("preset", f"must be one of {PRESETS}", base)
            flat.update(_flatten_yaml(read_yaml(PRESET_DIR / f"{base}.yaml")))
        flat.update(user)
    flat.update(dict(_parse_override(item) for item in overrides))
    return study_from_flat(flat)


def _plain(value: object) -> object:
    return list(value) if isinstance(value, tuple) else value


def config_yaml(cfg: StudyConfig) -> str:
    """The resolved config as nested YAML (loadable again with :func:`load_config`); a password in
    ``tracking.uri`` is written as ``***`` (:func:`study.files.tracking.redact`)."""
    tree: dict = {}
    for key, value in study_flat_redacted(cfg).items():
        node = tree
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = _plain(value)
    return yaml.safe_dump(tree, sort_keys=False)
