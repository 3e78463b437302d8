"""How big a reproduction is: ``study/presets/scales/NAME.yaml`` (a study preset, overrides of every
run and of single runs, and a note on the sizes), turned into the four runs' study configs through
the study's own config loader."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

from physics.checks import fail
from study.files.config import StudyConfig, load_config, read_yaml
from study.reproduce.paper import RUNS

__all__ = ["Scale", "SCALES", "load_scale", "reproduction_configs"]

SCALE_DIR = Path(__file__).resolve().parents[1] / "presets" / "scales"
SCALES = ("smoke", "cpu", "paper")
# Every run is the paper's method unless its scale says otherwise (presets may train hybrid).
PAPER_METHOD = {"inverse.mode": "surrogate", "forward.bonds": False}


@dataclass(frozen=True)
class Scale:
    name: str
    preset: str  # study preset the four runs start from
    common: dict[str, object]  # overrides of every run
    runs: dict[str, dict[str, object]]  # extra overrides per run
    note: str  # why these sizes

    def overrides(self, run: str | None = None) -> list[str]:
        """``key=value`` items (``--set`` syntax) of the common overrides, plus ``run``'s own."""
        items = {**self.common, **(self.runs.get(run, {}) if run else {})}
        return [f"{k}={json.dumps(v)}" for k, v in items.items()]


def load_scale(name: str) -> Scale:
    if name not in SCALES:
        fail("--scale", f"must be one of {SCALES}", name)
    tree = read_yaml(SCALE_DIR / f"{name}.yaml")
    runs = tree.get("runs") or {}
    unknown = sorted(set(runs) - set(RUNS))
    if unknown:
        fail(f"scales/{name}.yaml runs", f"must name runs of {RUNS}", unknown[0])
    return Scale(
        name=name,
        preset=tree["preset"],
        common=dict(tree.get("common") or {}),
        runs={run: dict(values or {}) for run, values in runs.items()},
        note=" ".join(str(tree.get("note", "")).split()),
    )


def reproduction_configs(scale: str) -> dict[str, StudyConfig]:
    """The four runs' study configs: preset + the paper's method + the scale's common and per-run
    overrides. Trials run with ``threads = max(1, resources.cpus_per_trial)`` as in a study; all
    four share one dataset."""
    spec = load_scale(scale)
    base = [f"{k}={json.dumps(v)}" for k, v in PAPER_METHOD.items()]
    configs = {}
    for name in RUNS:
        cfg = load_config(spec.preset, [*base, *spec.overrides(name)])
        threads = max(1, int(cfg.resources.cpus_per_trial))
        configs[name] = dataclasses.replace(
            cfg, trial=dataclasses.replace(cfg.trial, threads=threads)
        )
    assert len({c.trial.data for c in configs.values()}) == 1, "runs must share one dataset"
    return configs
