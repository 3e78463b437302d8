"""Live progress of a running study: what is tracked (this module) and how it is drawn
(:mod:`study.run.progress_view`).

A failed trial is one line (trial, reason, the file with its whole traceback, which is also an
artifact of its MLflow run); the libraries are kept quiet by :mod:`study.console`.

**Live progress** (:class:`StudyProgress`, a Ray Tune ``ProgressReporter``): trials finished /
running / pending, each running trial's phase and epoch of its total with an ETA, the best value
of each objective so far, the elapsed and the estimated remaining time. On a terminal it is a live
table drawn by ``rich``; elsewhere (CI logs, a file) it is plain append-only lines, one per event
(a trial started, finished a phase, finished, failed), never a carriage return, each at most
:data:`WIDTH` characters.
"""

from __future__ import annotations

import math
import time

from ray.tune import ProgressReporter

from study.console import clock
from study.run.progress_view import ProgressView, number, shown_path

__all__ = ["StudyProgress"]


class _Trial:
    """What the progress display knows of one trial."""

    def __init__(self, trial_id: str, label: str, total: int) -> None:
        self.id, self.label, self.total = trial_id, label, total  # total epochs over its seeds
        self.shown = trial_id  # what lines call it: the Tune id, or what a round's run is of
        self.expected = math.nan  # seconds it should take, where a search trial measured that
        self.status, self.started, self.ended = "PENDING", math.nan, math.nan
        self.done, self.phase, self.seed, self.n_seeds = 0, "", 0, 1
        self.final: dict = {}

    def eta(self, now: float) -> float:
        """Seconds left: from the epochs done so far, and where the trial's expected time is known
        (a confirmation: its search trial's seconds a seed times its seeds) at least what that
        leaves, since scoring after the last epoch takes a good part of a trial."""
        if not math.isfinite(self.started):
            return self.expected
        by_epochs = (
            (now - self.started) * (self.total - self.done) / self.done
            if self.done > 0
            else math.nan
        )
        if math.isfinite(self.expected):
            left = max(self.expected - (now - self.started), 0.0)
            return max(left, by_epochs) if math.isfinite(by_epochs) else left
        return by_epochs


class StudyProgress(ProgressView, ProgressReporter):
    """Tune's reporter for a study (see the module docstring). Tune pickles it with the experiment;
    only the study's name, objectives and trial base config are kept, the display is made anew."""

    KEPT = ("name", "directory", "objectives", "modes", "base_flat", "seeds", "per_seed")

    def __init__(
        self,
        name: str,
        directory,
        objectives,
        modes,
        base_flat: dict,
        seeds: int,
        per_seed: dict | None = None,
    ):
        self.name, self.directory = name, str(directory)
        self.objectives, self.modes = list(objectives), list(modes)
        self.base_flat, self.seeds = dict(base_flat), int(seeds)
        # search trial's Tune id → its seconds a seed: what a confirmation or ablation of it takes
        self.per_seed = dict(per_seed or {})
        self._reset()

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update({"per_seed": {}} | state)  # pickled before per_seed existed
        self._reset()

    def __getstate__(self) -> dict:
        return {k: self.__dict__[k] for k in self.KEPT}

    def _reset(self) -> None:
        self._trials: dict[str, _Trial] = {}
        self._start, self._total, self._live, self._last = time.time(), 0, None, 0.0

    # Tune's reporter API

    def setup(self, start_time=None, total_samples=None, metric=None, mode=None, **kwargs) -> None:
        self._reset()
        self._start = start_time or time.time()
        self._total = int(total_samples or 0)
        self._start_display()

    def should_report(self, trials, done: bool = False) -> bool:
        changed = self._update(trials)
        now = time.time()
        if self._live is not None and (changed or done or now - self._last > 1.0):
            self._last = now
            return True
        return bool(changed or done)

    def report(self, trials, done: bool, *sys_info: str) -> None:
        self._draw(done)

    def _label(self, trial) -> tuple[str, int]:
        """(``p2 16/32 fc128 hybrid``, epochs over all seeds) of a trial's configuration."""
        from study.run.search import apply_params
        from study.run.trainable import configuration
        from trainables.config import from_flat

        params = configuration(trial.config)
        cfg = from_flat(apply_params(self.base_flat, params))
        seeds = len(params.get("seeds", ())) or self.seeds
        net = cfg.forward
        filters = "/".join(str(f) for f in net.filters)
        return f"p{net.stages} {filters} fc{net.fc} {cfg.inverse.mode}", cfg.total_epochs() * seeds

    def _name_round(self, trial, known: _Trial) -> None:
        """A confirmation's or an ablation's run is called after its search trial (``3a1f
        confirm``, ``3a1f stages=2``), and expected to take that trial's seconds a seed times its
        seeds."""
        from study.run.trainable import configuration

        params = configuration(trial.config)
        of = params.get("confirms") or params.get("ablates")
        if not of:
            return
        known.shown = f"{of} {'confirm' if params.get('confirms') else params.get('level', '')}"
        seeds = len(params.get("seeds", ())) or self.seeds
        known.expected = self.per_seed.get(of, math.nan) * seeds

    def _update(self, trials) -> bool:
        """Bring the known state up to date; emit one line per event; True when anything moved."""
        changed = False
        now = time.time()
        for trial in trials:
            known = self._trials.get(trial.trial_id)
            if known is None:
                label, total = self._label(trial)
                known = self._trials[trial.trial_id] = _Trial(trial.trial_id, label, total)
                self._name_round(trial, known)
                if trial.status in ("TERMINATED", "ERROR"):  # ended before this driver
                    known.status = trial.status
                    continue
            result = trial.last_result or {}
            if trial.status == "RUNNING" and known.status != "RUNNING":
                known.status, known.started, changed = "RUNNING", now, True
                where = result.get("node_ip") or ""
                self._emit(
                    f"{known.shown} started{' on ' + where if where else ''} · {known.label}"
                )
            if "step" in result and not result.get("final"):
                changed |= self._progress(known, result)
            if trial.status in ("TERMINATED", "ERROR") and known.status != trial.status:
                known.status, known.ended, changed = trial.status, now, True
                known.final = result
                self._ended(trial, known, result)
        return changed

    def _progress(self, known: _Trial, result: dict) -> bool:
        seed_index = int(result.get("seed_index", 0))
        per_seed = known.total // max(int(result.get("n_seeds", 1)), 1)
        done = seed_index * per_seed + int(result["step"])
        phase = f"{result.get('phase', '')}"
        if int(result.get("n_seeds", 1)) > 1:
            phase += f" s{seed_index + 1}/{int(result['n_seeds'])}"
        if done == known.done and phase == known.phase:
            return False
        if known.phase and phase != known.phase:  # a phase ended: one line
            self._emit(f"{known.shown} {known.phase} done · {known.done}/{known.total} epochs")
        known.done, known.phase = done, phase
        return True

    def _ended(self, trial, known: _Trial, result: dict) -> None:
        took = clock(known.ended - known.started) if math.isfinite(known.started) else "?"
        if known.status == "ERROR":
            from study.run.recording import error_file, failure, trial_error

            _, reason = failure(trial_error(trial))
            path = shown_path(error_file(self.directory, known.id))
            self._emit(f"{known.shown} failed after {took} · {path} · {reason}")
            return
        if not result.get("final"):
            self._emit(f"{known.shown} stopped early after {took} (scheduler)")
            return
        values = " · ".join(f"{o} {number(result.get(o))}" for o in self.objectives)
        counts = self._counts()
        self._emit(
            f"{known.shown} finished in {took} · {values} · {counts['ended']}/{self._total} done · "
            f"ETA {clock(self._remaining())}"
        )

    def _counts(self) -> dict[str, int]:
        statuses = [t.status for t in self._trials.values()]
        ended = sum(s in ("TERMINATED", "ERROR") for s in statuses)
        running = statuses.count("RUNNING")
        return {
            "ended": ended,
            "running": running,
            "pending": max(self._total - ended - running, 0),
        }

    def _remaining(self) -> float:
        """Seconds until the experiment ends: the running trials' ETAs, then the pending ones at
        the mean duration so far, as many at a time as run now."""
        now = time.time()
        counts = self._counts()
        took = [
            t.ended - t.started for t in self._trials.values() if math.isfinite(t.ended - t.started)
        ]
        running = [t for t in self._trials.values() if t.status == "RUNNING"]
        projected = [now - t.started + t.eta(now) for t in running if math.isfinite(t.eta(now))]
        mean = (
            float(sum(took + projected) / len(took + projected)) if took + projected else math.nan
        )
        waiting = [t.expected for t in self._trials.values() if t.status == "PENDING"]
        if waiting and all(math.isfinite(x) for x in waiting):
            mean = float(sum(waiting) / len(waiting))  # a round of known configurations
        lanes = max(len(running), 1)
        left = max((t.eta(now) for t in running), default=0.0)
        return left + math.ceil(counts["pending"] / lanes) * mean if counts["pending"] else left
