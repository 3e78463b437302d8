"""What a person sees while a study runs: quiet libraries, and live progress.

**Quiet by default.** Ray's worker chatter ("Checkpoint successfully created …"), Tune's status
tables and its tracebacks of failed trials, MLflow's migration lines and library warnings stay out
of the terminal; a failed trial is one line (trial, reason, the file with its whole traceback,
which is also an artifact of its MLflow run). ``-v`` (``SCALEFREE_VERBOSE=1``) brings Ray's and
Tune's own output back.

**Live progress** (:class:`StudyProgress`, a Ray Tune ``ProgressReporter``): trials finished /
running / pending, each running trial's phase and epoch of its total with an ETA, the best value
of each objective so far, the elapsed and the estimated remaining time. On a terminal it is a live
table drawn by ``rich``; elsewhere (CI logs, a file) it is plain append-only lines, one per event
(a trial started, finished a phase, finished, failed), never a carriage return, each at most
:data:`WIDTH` characters.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import time
import warnings

from ray.tune import ProgressReporter

__all__ = ["WIDTH", "verbose", "quiet", "say", "every", "StudyProgress", "clock"]

WIDTH = 120  # the widest line printed
VERBOSE = "SCALEFREE_VERBOSE"
# Libraries whose warnings are theirs to fix, not the reader's (shown again with -v).
LIBRARIES = r"(ray|optuna|mlflow|torch|sklearn|powerlaw|pydantic|pyarrow|pandas|alembic)(\..*)?"


def verbose() -> bool:
    return os.environ.get(VERBOSE, "") not in ("", "0")


def quiet() -> None:
    """Silence what the libraries print unless the user asked for it (``-v``). Idempotent."""
    # "Creating initial MLflow database tables…": MLflow sets its loggers' level when imported,
    # from this variable; alembic's migrations log through their own logger.
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    try:  # "A new study created in RDB with name: …"
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
    except ImportError:
        pass
    if verbose():
        return
    warnings.filterwarnings("ignore", module=LIBRARIES)
    try:
        from optuna.exceptions import ExperimentalWarning

        warnings.filterwarnings("ignore", category=ExperimentalWarning)
    except ImportError:
        pass
    # Tune logs every failed trial's traceback at ERROR: the recorder's one line says it instead.
    os.environ.setdefault("TUNE_PRINT_ALL_TRIAL_ERRORS", "0")
    for name in ("ray", "ray.tune", "ray.train", "ray.data"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def clock(seconds: float) -> str:
    """``1:05`` or ``1:02:05``; ``?`` when unknown."""
    if not math.isfinite(seconds) or seconds < 0:
        return "?"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def every(seconds: float):
    """A progress callback that prints at most one line per ``seconds`` (the first one always)."""
    last = [-math.inf]

    def show(line: str) -> None:
        now = time.time()
        if now - last[0] >= seconds:
            last[0] = now
            say(line)

    return show


def say(line: str) -> None:
    """One line of progress, cut to :data:`WIDTH` characters."""
    print(line if len(line) <= WIDTH else line[: WIDTH - 1] + "…", flush=True)


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


class StudyProgress(ProgressReporter):
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
        if sys.stdout.isatty():
            from rich.console import Console
            from rich.live import Live

            self._live = Live(console=Console(), refresh_per_second=2, transient=True)
            self._live.start()

    def should_report(self, trials, done: bool = False) -> bool:
        changed = self._update(trials)
        now = time.time()
        if self._live is not None and (changed or done or now - self._last > 1.0):
            self._last = now
            return True
        return bool(changed or done)

    def report(self, trials, done: bool, *sys_info: str) -> None:
        if self._live is not None:
            self._live.update(self._table())
            if done:
                self._live.stop()
                self._live = None
                say(self._summary())

    # the display

    def _emit(self, line: str) -> None:
        stamp = f"[{clock(time.time() - self._start)}] "
        if self._live is not None:
            self._live.console.print(stamp + line, highlight=False, soft_wrap=False)
        else:
            say(stamp + line)

    def _label(self, trial) -> tuple[str, int]:
        """(``p2 16/32 fc128 hybrid``, epochs over all seeds) of a trial's configuration."""
        from study.search import apply_params
        from study.tune_trial import configuration
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
        from study.tune_trial import configuration

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
            from study.recorder import error_file, failure, trial_error

            _, reason = failure(trial_error(trial))
            path = _shown(error_file(self.directory, known.id))
            self._emit(f"{known.shown} failed after {took} · {path} · {reason}")
            return
        if not result.get("final"):
            self._emit(f"{known.shown} stopped early after {took} (scheduler)")
            return
        values = " · ".join(f"{o} {_number(result.get(o))}" for o in self.objectives)
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

    def _best(self) -> str:
        cells = []
        finished = [t.final for t in self._trials.values() if t.final.get("final")]
        finished = [f for f in finished if f.get("collapsed", 0) < 1]
        for objective, mode in zip(self.objectives, self.modes, strict=True):
            values = [f[objective] for f in finished if _finite(f.get(objective))]
            if values:
                cells.append(
                    f"{objective} {_number(max(values) if mode == 'max' else min(values))}"
                )
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


def _shown(path) -> str:
    """``path`` relative to the working directory when it lies below it (shorter lines)."""
    from pathlib import Path

    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def _number(value) -> str:
    return f"{value:.4g}" if _finite(value) else "—"
