"""``scalefree status [NAME]`` and ``scalefree list``: where studies stand, from what is on disk and
in the tracking store. Neither starts Ray nor writes anything.

A study's state:

* **running**: a driver holds its lock (``driver.lock``; the kernel releases it when the driver
  dies, kill -9 included), named with its PID and host;
* **finished**: its parent run FINISHED;
* **failed**: its parent run FAILED (every trial failed, or trials failed for reasons outside
  their configuration): ``resume`` retries;
* **interrupted**: anything else (Ctrl-C, kill -9, a lost machine): ``resume`` continues it.
"""

from __future__ import annotations

import fcntl
import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from study.files.directory import INFO_FILE, LOCK_FILE, StudyInfo, read_study

UI_BASE = "http://127.0.0.1:5000"  # where `scalefree ui` serves by default

__all__ = ["StudyState", "state_of", "studies", "print_status", "print_list"]


@dataclass
class StudyState:
    """Where one study stands."""

    name: str
    directory: Path
    state: str  # running / interrupted / finished / failed
    driver: str = ""  # "pid 123 on host" while running
    preset: str = ""
    started: float = math.nan  # Unix seconds of the launch
    planned: int = 0  # search trials the study runs
    trials: dict[str, int] = field(default_factory=dict)  # MLflow status → count
    best: dict[str, tuple[float, str]] = field(default_factory=dict)  # objective → (value, trial)
    objectives: tuple[str, ...] = ()
    report: str = ""
    ui: str = ""
    why: str = ""  # the driver's last words when it did not finish
    # "confirmed" / "ablated" → [finished runs, seeds over them] of its confirmations and ablations
    rounds: dict[str, list[int]] = field(default_factory=dict)
    job: str = ""  # a detached study's Ray job: "launch job ID RUNNING on URL"


def _driver(directory: Path) -> str:
    """'pid N on HOST' when a driver holds the study's lock, else ''. A shared lock is tried and
    released at once: it fails only while a driver holds the exclusive one."""
    path = directory / LOCK_FILE
    if not path.is_file():
        return ""
    with open(path) as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return handle.read().strip() or "another driver"
        fcntl.flock(handle, fcntl.LOCK_UN)
    return ""


def state_of(name_or_dir: str, trackers: dict | None = None) -> StudyState:
    """The state of one study (see the module docstring); ``trackers`` caches one MLflow client
    per tracking URI when many studies are read."""
    from study.files.config import load_config
    from study.files.links import ui_links
    from study.files.tracking import CONFIRMS_TAG, EXIT_TAG, TRIAL_TAG, Tracker

    info: StudyInfo = read_study(name_or_dir)
    cfg = load_config(str(info.dir / "config.yaml"))
    trackers = {} if trackers is None else trackers
    tracker = trackers.setdefault(info.tracking_uri, Tracker(info.tracking_uri))
    out = StudyState(info.name, info.dir, "interrupted", preset=info.preset)
    out.planned, out.objectives = cfg.search.num_samples, tuple(cfg.search.objectives)
    out.driver = _driver(info.dir)
    parent = tracker.client.get_run(info.parent_run_id)
    out.started = parent.info.start_time / 1000
    if out.driver:
        out.state = "running"
    elif parent.info.status == "FINISHED":
        out.state = "finished"
    elif parent.info.status == "FAILED":
        out.state = "failed"
    out.why = parent.data.tags.get(EXIT_TAG, "")
    every = tracker.child_runs(info.experiment_id, info.parent_run_id)
    runs = [r for r in every if not r.data.tags.get(CONFIRMS_TAG) and not _ablation(r)]
    from study.read.ablation import ABLATION_TAG, LEVEL_TAG

    # A configuration confirmed twice (two `confirm` rounds) is one configuration with the seeds
    # of both; an ablation's level is one per experiment.
    seen: dict[str, set] = {}
    for run in every:
        tags = run.data.tags
        kind = "confirmed" if tags.get(CONFIRMS_TAG) else "ablated" if _ablation(run) else ""
        if kind and run.info.status == "FINISHED":
            seeds = int(run.data.metrics.get("n_seeds", 1))
            runs_seeds = out.rounds.setdefault(kind, [0, 0])
            what = tags.get(CONFIRMS_TAG) or (tags.get(ABLATION_TAG), tags.get(LEVEL_TAG))
            if what not in seen.setdefault(kind, set()):
                seen[kind].add(what)
                runs_seeds[0] += 1
            runs_seeds[1] += seeds
    for run in runs:
        out.trials[run.info.status] = out.trials.get(run.info.status, 0) + 1
    finished = [
        r for r in runs if r.info.status == "FINISHED" and r.data.metrics.get("collapsed", 0) < 1
    ]
    for objective, mode in zip(cfg.search.objectives, cfg.search.modes, strict=True):
        scored = [
            (r.data.metrics[objective], r.data.tags.get(TRIAL_TAG, ""))
            for r in finished
            if math.isfinite(r.data.metrics.get(objective, math.nan))
        ]
        if scored:
            out.best[objective] = max(scored) if mode == "max" else min(scored)
    if (info.dir / "report" / "trials.csv").is_file():
        out.report = str(info.dir / "report")
    out.job = _job(info.dir.parent, info.name)
    links = ui_links(UI_BASE, info.experiment_id, info.name, info.parent_run_id)
    out.ui = links["runs"]
    return out


def _job(studies: Path, name: str) -> str:
    """The study's Ray job when it was submitted from here with ``--detach`` (else '')."""
    from study.files.jobs import job_state, record_of

    record = record_of(studies, name)
    if record is None:
        return ""
    return f"{record.verb} job {record.job_id} {job_state(record)} on {record.server}"


def _ablation(run) -> bool:
    from study.read.ablation import ABLATION_TAG

    return bool(run.data.tags.get(ABLATION_TAG))


def studies(studies_dir: str = "studies") -> list[StudyState]:
    """Every study under ``studies_dir`` (folders holding a study.json), oldest first; a folder
    whose study.json cannot be read is shown as such, not skipped."""
    from study.files.jobs import records

    trackers: dict = {}
    out = []
    for path in sorted(Path(studies_dir).glob(f"*/{INFO_FILE}")):
        try:
            out.append(state_of(str(path.parent), trackers))
        except (ValueError, OSError) as err:
            out.append(StudyState(path.parent.name, path.parent, "unreadable", why=str(err)[:80]))
    known = {s.name for s in out}
    for record in records(Path(studies_dir)):  # submitted, not started yet (or elsewhere)
        if record.name not in known:
            folder = Path(studies_dir) / record.name
            out.append(
                StudyState(
                    record.name,
                    folder,
                    "submitted",
                    started=record.submitted,
                    job=_job(Path(studies_dir), record.name),
                )
            )
    return sorted(out, key=lambda s: (math.isnan(s.started), s.started))


def _when(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _counts(state: StudyState) -> str:
    finished = state.trials.get("FINISHED", 0)
    parts = [f"{finished} finished"]
    for status, word in (("RUNNING", "running"), ("FAILED", "failed"), ("KILLED", "stopped")):
        if state.trials.get(status):
            parts.append(f"{state.trials[status]} {word}")
    left = state.planned - sum(state.trials.values())
    if left > 0:
        parts.append(f"{left} not started")
    return f"{state.planned} planned: " + ", ".join(parts)


def print_status(state: StudyState) -> None:
    from study.console import say

    head = f"{state.name}: {state.state}"
    if state.driver:
        head += f" ({state.driver})"
    say(head)
    say(f"  started {_when(state.started)}, preset {state.preset or '?'}, {state.directory}")
    if state.job:
        say(f"  {state.job}")
    say(f"  trials: {_counts(state)}")
    for kind, (runs, seeds) in state.rounds.items():
        what = "configurations" if kind == "confirmed" else "levels"
        say(f"  {kind}: {runs} {what} with fresh seeds ({seeds} seed runs)")
    cells = [f"{o} {v:.4g} ({t})" for o, (v, t) in state.best.items()]
    say("  best so far: " + ("; ".join(cells) or "none (no finished trial that did not collapse)"))
    if state.state in ("interrupted", "failed"):
        say(
            f"  last driver: {state.why or 'killed'}; continue with `scalefree resume {state.name}`"
        )
    if state.report:
        say(f"  report: {state.report}")
    say(f"  UI: `scalefree ui {state.name}`, then open")
    print(f"    {state.ui}", flush=True)  # whole: a link cut short opens nothing


def print_list(states: list[StudyState]) -> None:
    from study.console import say

    if not states:
        say("no studies under ./studies (`scalefree launch smoke` makes one)")
        return
    say(f"{'study':<24}{'state':<13}{'trials':<22}{'preset':<12}started")
    for s in states:
        finished = s.trials.get("FINISHED", 0)
        trials = f"{finished}/{s.planned} finished" if s.planned else "—"
        if "confirmed" in s.rounds:
            trials += f" +{s.rounds['confirmed'][0]}c"
        if "ablated" in s.rounds:
            trials += f" +{s.rounds['ablated'][0]}a"
        preset = Path(s.preset).name if s.preset else "?"  # a YAML's name, not its folder
        state = s.state
        if s.job:  # a detached study: the job's state beside the study's
            state += "*"
        say(f"{s.name[:23]:<24}{state:<13}{trials:<22}{preset[:11]:<12}{_when(s.started)}")
    jobs = [s for s in states if s.job]
    for s in jobs:
        say(f"  * {s.name}: {s.job}")
