"""A row of the reproduction table, the runs a row is built from, and number formatting."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from study.reproduce.measure import RunResult
from study.reproduce.paper import LABELS, MAIN, ONE_POOL, RUNS

__all__ = ["Finding", "Row", "Context", "pct", "num"]


@dataclass(frozen=True)
class Finding:
    """What a claim's row builder measured and the verdict its rule gave."""

    paper: str
    measured: str
    others: str  # the other runs' numbers
    baselines: str
    verdict: str
    why: str  # likely reason, from the measured numbers (shown when not reproduced)
    metrics: dict  # the measured numbers, logged to MLflow


@dataclass(frozen=True)
class Row:
    """One line of the table: a claim, its rule and what was found."""

    claim: str
    rule: str  # how the verdict was decided
    finding: Finding

    def __getattr__(self, name: str):  # row.verdict, row.measured, … read through to the finding
        if name == "finding":
            raise AttributeError(name)
        return getattr(self.finding, name)


def pct(x: float) -> str:
    return "n/a" if not math.isfinite(x) else f"{100 * x:.2f} %"


def num(x: float, digits: int = 3) -> str:
    return "n/a" if not math.isfinite(x) else f"{x:.{digits}g}"


@dataclass(frozen=True)
class Context:
    scale: str
    runs: dict[str, RunResult]

    @property
    def main(self) -> RunResult:
        return self.runs[MAIN]

    @property
    def one_pool(self) -> RunResult:
        return self.runs[ONE_POOL]

    def others(self, cell: Callable[[RunResult], str], names: tuple[str, ...] = RUNS[1:]) -> str:
        return "; ".join(f"{LABELS[n]}: {cell(self.runs[n])}" for n in names)

    def scale_reason(self) -> str:
        t = self.main.config
        if self.scale == "paper":
            return "at the paper's sizes"
        return (
            f"at {self.scale} scale: L = {t.data.size}, {t.data.n_train} training structures "
            f"(paper 20000), filters {list(t.forward.filters)} + FC {t.forward.fc} "
            f"(paper [256, 512, 1024] + FC 2048), {t.forward_train.epochs} forward / "
            f"{t.inverse_train.epochs} inverse epochs"
        )
