"""The reproduction's run loop: one dataset, the four runs (the 3-pool physics and hybrid runs on the
surrogate run's trained forward net), measurements, report, one MLflow run holding it all."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from study.files.config import StudyConfig
from study.reproduce.claims import build_rows
from study.reproduce.controls import build_controls, draw_control_figures
from study.reproduce.measure import RunResult, measure
from study.reproduce.paper import EXPERIMENT, MAIN, ONE_POOL, RUNS, SHARED_FORWARD
from study.reproduce.render import draw_figures, markdown
from study.reproduce.scales import load_scale, reproduction_configs
from study.reproduce.spread import SPREAD_FIGURE, draw_seed_spread, seed_table
from study.reproduce.store import Store
from study.reproduce.tasks import channel, sender
from trainables.config import TrialConfig, to_flat

__all__ = ["run_one", "reproduce"]

SPREAD_TITLE = "Seed spread per run: validated accuracy, α (Fig. 4g band), α_hill"


def _progress(name: str, config: TrialConfig, say: Callable[[str], None]) -> Callable[[dict], None]:
    """One line per epoch of run ``name``, with the run's ETA at its mean epoch time so far.
    A run on a shared forward net starts counting at its first inverse epoch: the forward epochs
    it skipped are in its step count but took none of its time."""
    totals = config.phase_epochs()
    total, start = sum(totals.values()), time.perf_counter()
    skipped: list[int] = []

    def show(row: dict) -> None:
        from study.console import checkpoint, clock

        checkpoint()  # in the driver a progress line is a safe point (no-op in a Ray worker)
        step = row["step"] if "step" in row else row["epoch"]
        if not skipped:
            skipped.append(step - 1)
        done = step - skipped[0]
        left = (time.perf_counter() - start) / done * (total - skipped[0] - done)
        say(
            f"[reproduce] {name}: {row['phase']} epoch {row['epoch']}/{totals[row['phase']]} "
            f"({row['objective']}) val {row['val_accuracy']:.4f} · {row['seconds']:.0f} s · "
            f"run ETA {clock(left)}"
        )

    return show


def run_one(name: str, config: TrialConfig, data: dict, forward=None, lines=None) -> RunResult:
    """:func:`trainables.run_trial` (on ``forward`` if given), then :func:`measure`. Progress
    lines go to ``lines`` (a :func:`study.reproduce.tasks.channel` the driver prints from) or, in-process, to the
    terminal."""
    from study.console import say
    from trainables.trial import run_trial

    emit = say if lines is None else sender(lines)
    data = {k: tuple(np.require(a, requirements="W") for a in v) for k, v in data.items()}
    start = time.perf_counter()
    trial = run_trial(config, _progress(name, config, emit), data=data, forward=forward)
    measures = measure(trial, data["train"])
    seconds = time.perf_counter() - start
    done = (
        f"[reproduce] {name}: done in {seconds:.0f} s — validated "
        f"{trial.metrics['validated_accuracy']:.2%}, α {measures.fit.alpha:.2f}"
    )
    if lines is None:
        say(done)
    else:  # waited for: every line of the run is in before its result is
        import ray

        ray.get(lines.put.remote(done))
    return RunResult(name, trial, measures, seconds)


def _seeded(configs: dict[str, StudyConfig], seed: int) -> dict[str, TrialConfig]:
    """Each run's trial config with trial seed ``seed``."""
    return {name: dataclasses.replace(cfg.trial, seed=seed) for name, cfg in configs.items()}


def _run_all(
    configs: dict[str, StudyConfig],
    data: dict,
    *,
    parallel: bool,
    seeds: tuple[int, ...] = (),
    store: Store | None = None,
    on_saved: Callable[[], object] | None = None,
) -> dict[int, dict[str, RunResult]]:
    """Seed → run name → result, for every trial seed of ``seeds`` (default: the config's own).
    For each seed, MAIN and the 1-pool run first; the runs of :data:`SHARED_FORWARD` then start
    from that seed's MAIN forward net (same forward config and seed: training it again would
    repeat it). Runs ``store`` already holds are loaded, not run; each finished one is saved."""
    seeds = seeds or (configs[MAIN].trial.seed,)
    done: dict[int, dict[str, RunResult]] = {s: {} for s in seeds}
    for s in seeds:
        for name in RUNS:
            found = store.load(s, name) if store is not None else None
            if found is not None:
                done[s][name] = found
    missing = sum(len(RUNS) - len(done[s]) for s in seeds)
    if store is not None and missing < len(RUNS) * len(seeds):
        print(
            f"[reproduce] {len(RUNS) * len(seeds) - missing} finished runs loaded; "
            f"{missing} to run",
            flush=True,
        )

    def keep(seed: int, name: str, result: RunResult) -> None:
        result = dataclasses.replace(result, name=name)  # its progress label named the seed too
        done[seed][name] = result
        if store is not None:
            store.save(seed, name, result)
        if on_saved is not None:
            on_saved()

    if not parallel:
        for s in seeds:
            trials = _seeded(configs, s)
            for name in (MAIN, ONE_POOL):
                if name not in done[s]:
                    keep(s, name, run_one(_label(name, s, seeds), trials[name], data))
            forward = done[s][MAIN].trial.forward
            for name in SHARED_FORWARD:
                if name not in done[s]:
                    keep(s, name, run_one(_label(name, s, seeds), trials[name], data, forward))
        return {s: {name: done[s][name] for name in RUNS} for s in seeds}
    return _run_parallel(configs, data, seeds, done, keep)


def _label(name: str, seed: int, seeds: tuple[int, ...]) -> str:
    """A run's name in progress lines: ``3pool-surrogate`` or, over seeds, ``3pool-surrogate s1``."""
    return name if len(seeds) == 1 else f"{name} s{seed}"


def _run_parallel(configs, data, seeds, done, keep) -> dict[int, dict[str, RunResult]]:
    import ray

    resources = configs[MAIN].resources
    gpus = resources.gpus_per_trial
    if gpus > ray.cluster_resources().get("GPU", 0):
        print("[reproduce] no GPU in the Ray cluster: trials run on CPU", flush=True)
        gpus = 0
    from study.console import checkpoint, clock, say

    remote = ray.remote(num_cpus=resources.cpus_per_trial, num_gpus=gpus, max_retries=0)(run_one)
    data_ref = ray.put(data)
    lines = channel()  # the workers' progress lines, printed here (workers' own output is quiet)
    pending: dict = {}

    def submit(seed: int, name: str, forward=None) -> None:
        trial = _seeded(configs, seed)[name]
        ref = remote.remote(_label(name, seed, seeds), trial, data_ref, forward, lines)
        pending[ref] = (seed, name)

    def shared(seed: int) -> None:  # longest last in the queue: hybrid, then physics
        todo = [n for n in SHARED_FORWARD if n not in done[seed]]
        if todo:
            forward = ray.put(done[seed][MAIN].trial.forward)
            for other in todo:
                submit(seed, other, forward)

    for s in seeds:
        for name in (MAIN, ONE_POOL):
            if name not in done[s]:
                submit(s, name)
        if MAIN in done[s]:
            shared(s)
    total = len(RUNS) * len(seeds)
    say(f"[reproduce] {len(pending)} runs submitted as Ray tasks")
    start = time.perf_counter()
    while pending:
        checkpoint()  # a recorded Ctrl-C stops here; finished runs are stored already
        ready, _ = ray.wait(list(pending), num_returns=1, timeout=1.0)
        for line in ray.get(lines.drain.remote()):
            say(line)
        if not ready:
            continue
        seed, name = pending.pop(ready[0])
        keep(seed, name, ray.get(ready[0]))
        finished = sum(len(d) for d in done.values())
        say(
            f"[reproduce] {finished}/{total} runs done · "
            f"{clock(time.perf_counter() - start)} elapsed"
        )
        if name == MAIN:
            shared(seed)
            say(f"[reproduce] {', '.join(SHARED_FORWARD)} submitted on its forward net")
    for line in ray.get(lines.drain.remote()):
        say(line)
    return {s: {name: done[s][name] for name in RUNS} for s in seeds}


def _write_runs(directory: Path, runs: dict[str, RunResult], folder: str = "runs") -> None:
    import yaml

    for name, run in runs.items():
        out = directory / folder / name
        run.trial.save(out)
        flat = {k: list(v) if isinstance(v, tuple) else v for k, v in to_flat(run.config).items()}
        (out / "config.yaml").write_text(yaml.safe_dump(flat, sort_keys=False))
        (out / "metrics.json").write_text(json.dumps(run.metrics, indent=2))
        (out / "history.json").write_text(json.dumps(run.history, indent=2))


def _default_dir(scale: str, seeds: int) -> Path:
    """The same for the same command, so that running it again continues it."""
    return Path("studies") / (f"reproduce-{scale}" + (f"-{seeds}seeds" if seeds > 1 else ""))


STATE = "reproduce.json"  # in the run directory: the scale, the seeds and the MLflow run


def _open_run(tracker, directory: Path, scale: str, seeds: int, configs) -> tuple[str, bool]:
    """(the reproduction's MLflow run, whether it continues an interrupted one): a directory
    holding another scale's or seed count's reproduction is refused with one line."""
    from study.files.tracking import git_commit

    state = directory / STATE
    if state.is_file():
        stored = json.loads(state.read_text())
        if (stored.get("scale"), stored.get("seeds")) != (scale, seeds):
            raise ValueError(
                f"--out: must be a new folder or one of the same reproduction (scale {scale}, "
                f"{seeds} seeds), but got {str(directory)!r} holding scale "
                f"{stored.get('scale')} with {stored.get('seeds')} seeds."
            )
        try:
            tracker.client.update_run(stored["run_id"], status="RUNNING")
            return stored["run_id"], True
        except Exception:  # noqa: BLE001 - the run is gone from this store: make a new one
            pass
    commit = git_commit()  # the code that runs: HEAD may move while a long reproduction runs
    tags = {"scalefree.scale": scale, "mlflow.source.git.commit": commit}
    run_id = tracker.create_run(tracker.experiment(EXPERIMENT), directory.name, tags)
    flat = {f"{run}.{k}": v for run, cfg in configs.items() for k, v in to_flat(cfg.trial).items()}
    tracker.log_params(run_id, {"scale": scale, "seeds": seeds, **flat})
    tmp = state.with_suffix(".tmp")
    tmp.write_text(json.dumps({"scale": scale, "seeds": seeds, "run_id": run_id}))
    os.replace(tmp, state)
    return run_id, False


def reproduce(
    *,
    scale: str = "cpu",
    address: str | None = None,
    out_dir: str | Path | None = None,
    parallel: bool | None = None,
    seeds: int = 1,
) -> Path:
    """Run the paper's protocol at ``scale`` with ``seeds`` trial seeds and write
    ``reproduction.md`` + figures; returns the run directory (default
    ``studies/reproduce-<scale>[-<K>seeds]``). The same call again after Ctrl-C or kill -9
    continues: finished runs are loaded (:class:`Store`), the MLflow run is reopened. ``parallel``
    runs the trials as Ray tasks (default: all scales but smoke, which runs them in-process one
    after the other)."""
    from study.console import every, quiet
    from study.files.tracking import Tracker, check_uri, git_commit, redact, resolve_uri
    from study.reproduce.claims import CLAIMS
    from study.reproduce.seeds import combine
    from study.run.cluster import check_address, connect
    from study.run.data import generate_with_ray, load_splits

    quiet()
    if not (isinstance(seeds, int) and seeds >= 1):
        raise ValueError(f"--seeds: must be an integer >= 1, but got {seeds!r}.")
    spec = load_scale(scale)
    configs = reproduction_configs(scale)
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")  # progress lines of different runs look alike
    uri = resolve_uri("")
    check_uri(uri)
    if address:
        check_address(address)
    parallel = scale != "smoke" if parallel is None else parallel
    directory = Path(out_dir) if out_dir is not None else _default_dir(scale, seeds)
    directory.mkdir(parents=True, exist_ok=True)
    tracker = Tracker(uri)
    run_id, again = _open_run(tracker, directory, scale, seeds, configs)
    commit = git_commit()
    first = configs[MAIN].trial.seed
    trial_seeds = tuple(range(first, first + seeds))
    verb = "continuing" if again else "starting"
    print(
        f"[reproduce] {scale}, {seeds} seed(s): {verb} {directory} (MLflow run {run_id} on "
        f"{redact(uri)})",
        flush=True,
    )
    start = time.perf_counter()
    store = Store(directory)
    tick = store.sitting(time.time())
    timing = {}
    try:
        with connect(address):
            data_spec, data_dir = configs[MAIN].trial.data, configs[MAIN].tracking.data_dir
            workers = configs[MAIN].resources.data_workers or None
            generate_with_ray(data_spec, data_dir, max_in_flight=workers, progress=every(15.0))
            data = load_splits(data_spec, data_dir)
            timing["data"] = time.perf_counter() - start
            print(f"[reproduce] data ready in {timing['data']:.0f} s ({data_dir})", flush=True)
            by_seed = _run_all(
                configs, data, parallel=parallel, seeds=trial_seeds, store=store, on_saved=tick
            )
        timing["trials"] = time.perf_counter() - start - timing["data"]
        print("[reproduce] trials done; building the table and figures", flush=True)
        runs = by_seed[first]  # the figures, controls and per-run tables show the first seed
        for s, seed_runs in by_seed.items():
            _write_runs(directory, seed_runs, "runs" if seeds == 1 else f"runs/seed{s}")
        per_seed = {s: build_rows(scale, seed_runs) for s, seed_runs in by_seed.items()}
        rows = combine(per_seed, [c.key for c in CLAIMS])
        print(
            "[reproduce] controls: trivial designers, band populations, synthetic tails, ρa sweep"
        )
        controls, extras = build_controls(runs)
        figures = draw_figures(runs, data["train"], directory)
        figures += draw_control_figures(runs, extras, directory)
        if seeds > 1:
            try:
                draw_seed_spread(by_seed, directory)
                figures.insert(0, (SPREAD_TITLE, f"figures/{SPREAD_FIGURE}", ""))
            except ValueError as err:  # as draw_figures: the report says why, and is written
                figures.insert(0, (SPREAD_TITLE, None, str(err)[:120]))
        timing["total"] = time.perf_counter() - start
        timing["report"] = timing["total"] - timing["data"] - timing["trials"]
        call_dir = str(out_dir) if out_dir is not None else None
        info = {
            "address": address,
            "commit": commit,
            "run_id": run_id,
            "uri": redact(uri),
            "mode": "Ray tasks" if parallel else "in-process, one after the other",
            "call": f"study.reproduce.reproduce(scale={scale!r}, address={address!r}, "
            f"out_dir={call_dir!r}, seeds={seeds})",
            "seeds": trial_seeds,
            "resumed": again,
            "sittings": tick(),
            "per_seed": seed_table(by_seed) if seeds > 1 else [],
        }
        report = markdown(spec, configs, runs, rows, controls, figures, timing, info)
        (directory / "reproduction.md").write_text(report)
        values = {k: v for r in [*rows, *controls] for k, v in r.metrics.items()}
        for s, seed_runs in by_seed.items():
            prefix = "" if seeds == 1 else f"seed{s}/"
            for name, run in seed_runs.items():
                values.update({f"{prefix}{name}.{k}": v for k, v in run.metrics.items()})
        tracker.log_metrics(run_id, values)
        for item in sorted(directory.iterdir()):  # the finished runs' pickles stay local
            if item.name in ("results", STATE):
                continue
            if item.is_dir():
                tracker.log_artifacts(run_id, item, path=item.name)
            else:
                tracker.log_artifact(run_id, item)
        tracker.finish(run_id)
    except BaseException:
        tick()
        tracker.finish(
            run_id, "KILLED" if isinstance(sys.exc_info()[1], KeyboardInterrupt) else "FAILED"
        )
        raise
    print(
        f"[reproduce] wrote {directory / 'reproduction.md'} in {timing['total']:.0f} s", flush=True
    )
    return directory
