"""How a study's live progress is drawn (:class:`study.run.progress.StudyProgress` tracks it):
on a terminal a live ``rich`` table, redrawn twice a second, with the study's counts, elapsed and
remaining time and each running trial's phase, epoch and ETA; elsewhere (CI logs, a file)
append-only lines of at most :data:`study.console.WIDTH` characters, one per event."""

from __future__ import annotations

import math
import sys
import time

from study.console import clock, say

__all__ = ["ProgressView", "shown_path", "number"]


class ProgressView:
    """The drawing half of :class:`study.run.progress.StudyProgress`: reads its ``_trials``,
    counts and ETA, keeps nothing of its own but the live display."""

    def _start_display(self) -> None:
        if sys.stdout.isatty():
            from rich.console import Console
            from rich.live import Live

            self._live = Live(console=Console(), refresh_per_second=2, transient=True)
            self._live.start()

    def _draw(self, done: bool) -> None:
        if self._live is not None:
            self._live.update(self._table())
            if done:
                self._live.stop()
                self._live = None
                say(self._summary())

    def _emit(self, line: str) -> None:
        stamp = f"[{clock(time.time() - self._start)}] "
        if self._live is not None:
            self._live.console.print(stamp + line, highlight=False, soft_wrap=False)
        else:
            say(stamp + line)

    def _best(self) -> str:
        cells = []
        finished = [t.final for t in self._trials.values() if t.final.get("final")]
        finished = [f for f in finished if f.get("collapsed", 0) < 1]
        for objective, mode in zip(self.objectives, self.modes, strict=True):
            values = [f[objective] for f in finished if _finite(f.get(objective))]
            if values:
                cells.append(f"{objective} {number(max(values) if mode == 'max' else min(values))}")
        return "best so far: " + (" · ".join(cells) if cells else "none yet")

    def _summary(self) -> str:
        counts = self._counts()
        return (
            f"{self.name}: {counts['ended']}/{self._total} trials done in "
            f"{clock(time.time() - self._start)} · {self._best()}"
        )

    def _table(self):
        from rich.table import Table

        now = time.time()
        counts = self._counts()
        title = (
            f"{self.name} · {counts['ended']}/{self._total} done · {counts['running']} running · "
            f"{counts['pending']} pending · {clock(now - self._start)} elapsed · "
            f"~{clock(self._remaining())} left"
        )
        table = Table(title=title, caption=self._best(), title_justify="left")
        for column in ("trial", "configuration", "phase", "epoch", "ETA"):
            table.add_column(column)
        for t in self._trials.values():
            if t.status == "RUNNING":
                table.add_row(t.shown, t.label, t.phase, f"{t.done}/{t.total}", clock(t.eta(now)))
        return table


def shown_path(path) -> str:
    """``path`` relative to the working directory when it lies below it (shorter lines)."""
    from pathlib import Path

    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def number(value) -> str:
    return f"{value:.4g}" if _finite(value) else "—"
