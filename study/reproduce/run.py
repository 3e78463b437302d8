"""The reproduction's run loop: one dataset, the four runs (the 3-pool physics and hybrid runs on the
surrogate run's trained forward net), measurements, report, one MLflow run holding it all."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from study.config import StudyConfig
from study.reproduce.claims import build_rows
from study.reproduce.controls import build_controls, draw_control_figures
from study.reproduce.measure import RunResult, measure
from study.reproduce.paper import EXPERIMENT, MAIN, ONE_POOL, RUNS, SHARED_FORWARD
from study.reproduce.render import draw_figures, markdown
from study.reproduce.scales import load_scale, reproduction_configs
from trainables.config import TrialConfig, to_flat

__all__ = ["run_one", "reproduce"]


def _progress(name: str, config: TrialConfig, say: Callable[[str], None]) -> Callable[[dict], None]:
    """One line per epoch of run ``name``, with the run's ETA at its mean epoch time so far."""
    totals = config.phase_epochs()
    total, start = sum(totals.values()), time.perf_counter()

    def show(row: dict) -> None:
        from study.terminal import clock

        done = row["step"] if "step" in row else row["epoch"]
        left = (time.perf_counter() - start) / done * (total - done)
        say(
            f"[reproduce] {name}: {row['phase']} epoch {row['epoch']}/{totals[row['phase']]} "
            f"({row['objective']}) val {row['val_accuracy']:.4f} · {row['seconds']:.0f} s · "
            f"run ETA {clock(left)}"
        )

    return show


def run_one(name: str, config: TrialConfig, data: dict, forward=None, lines=None) -> RunResult:
    """:func:`trainables.run_trial` (on ``forward`` if given), then :func:`measure`. Progress
    lines go to ``lines`` (a Ray queue the driver prints from) or, in-process, to the terminal."""
    from study.terminal import say
    from trainables.trial import run_trial

    emit = say if lines is None else lines.put
    data = {k: tuple(np.require(a, requirements="W") for a in v) for k, v in data.items()}
    start = time.perf_counter()
    trial = run_trial(config, _progress(name, config, emit), data=data, forward=forward)
    measures = measure(trial, data["train"])
    seconds = time.perf_counter() - start
    emit(
        f"[reproduce] {name}: done in {seconds:.0f} s — validated "
        f"{trial.metrics['validated_accuracy']:.2%}, α {measures.fit.alpha:.2f}"
    )
    return RunResult(name, trial, measures, seconds)


def _run_all(configs: dict[str, StudyConfig], data: dict, *, parallel: bool) -> dict:
    """MAIN and the 1-pool run first; the runs of :data:`SHARED_FORWARD` then start from MAIN's
    trained forward net (same forward config and seed: training it again would repeat it)."""
    first = (MAIN, ONE_POOL)
    if not parallel:
        results = {name: run_one(name, configs[name].trial, data) for name in first}
        forward = results[MAIN].trial.forward
        for name in SHARED_FORWARD:
            results[name] = run_one(name, configs[name].trial, data, forward)
        return {name: results[name] for name in RUNS}
    import ray

    resources = configs[MAIN].resources
    gpus = resources.gpus_per_trial
    if gpus > ray.cluster_resources().get("GPU", 0):
        print("[reproduce] no GPU in the Ray cluster: trials run on CPU", flush=True)
        gpus = 0
    from ray.util.queue import Queue

    from study.terminal import clock, say

    remote = ray.remote(num_cpus=resources.cpus_per_trial, num_gpus=gpus, max_retries=0)(run_one)
    data_ref = ray.put(data)
    lines = Queue()  # the workers' progress lines, printed here (workers' own output is quiet)
    pending = {
        remote.remote(name, configs[name].trial, data_ref, None, lines): name for name in first
    }
    say(f"[reproduce] {len(pending)} runs submitted as Ray tasks")
    results, start = {}, time.perf_counter()
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1, timeout=1.0)
        while not lines.empty():
            say(lines.get())
        if not ready:
            continue
        name = pending.pop(ready[0])
        results[name] = ray.get(ready[0])
        say(
            f"[reproduce] {len(results)}/{len(RUNS)} runs done · "
            f"{clock(time.perf_counter() - start)} elapsed"
        )
        if name == MAIN:
            forward = ray.put(results[MAIN].trial.forward)
            for other in SHARED_FORWARD:  # longest last in the queue: hybrid, then physics
                ref = remote.remote(other, configs[other].trial, data_ref, forward, lines)
                pending[ref] = other
            say(f"[reproduce] {', '.join(SHARED_FORWARD)} submitted on its forward net")
    while not lines.empty():
        say(lines.get())
    return {name: results[name] for name in RUNS}


def _write_runs(directory: Path, runs: dict[str, RunResult]) -> None:
    import yaml

    for name, run in runs.items():
        folder = directory / "runs" / name
        run.trial.save(folder)
        flat = {k: list(v) if isinstance(v, tuple) else v for k, v in to_flat(run.config).items()}
        (folder / "config.yaml").write_text(yaml.safe_dump(flat, sort_keys=False))
        (folder / "metrics.json").write_text(json.dumps(run.metrics, indent=2))
        (folder / "history.json").write_text(json.dumps(run.history, indent=2))


def _default_dir(scale: str) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return Path("studies") / f"reproduce-{scale}-{stamp}"


def reproduce(
    *,
    scale: str = "cpu",
    address: str | None = None,
    out_dir: str | Path | None = None,
    parallel: bool | None = None,
) -> Path:
    """Run the paper's protocol at ``scale`` and write ``reproduction.md`` + figures; returns the
    run directory. ``parallel`` runs the trials as Ray tasks (default: all scales but smoke,
    which runs them in-process one after the other)."""
    from study.cluster import check_address, connect
    from study.data import generate_with_ray, load_splits
    from study.terminal import every, quiet
    from study.tracking import Tracker, check_uri, git_commit, redact, resolve_uri

    quiet()
    spec = load_scale(scale)
    configs = reproduction_configs(scale)
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")  # progress lines of different runs look alike
    uri = resolve_uri("")
    check_uri(uri)
    if address:
        check_address(address)
    parallel = scale != "smoke" if parallel is None else parallel
    directory = Path(out_dir) if out_dir is not None else _default_dir(scale)
    directory.mkdir(parents=True, exist_ok=True)
    tracker = Tracker(uri)
    commit = git_commit()  # the code that runs: HEAD may move while a long reproduction runs
    tags = {"scalefree.scale": scale, "mlflow.source.git.commit": commit}
    run_id = tracker.create_run(tracker.experiment(EXPERIMENT), directory.name, tags)
    flat = {f"{run}.{k}": v for run, cfg in configs.items() for k, v in to_flat(cfg.trial).items()}
    tracker.log_params(run_id, {"scale": scale, **flat})
    print(f"[reproduce] {scale}: {directory} (MLflow run {run_id} on {redact(uri)})", flush=True)
    start = time.perf_counter()
    timing = {}
    try:
        with connect(address):
            data_spec, data_dir = configs[MAIN].trial.data, configs[MAIN].tracking.data_dir
            workers = configs[MAIN].resources.data_workers or None
            generate_with_ray(data_spec, data_dir, max_in_flight=workers, progress=every(15.0))
            data = load_splits(data_spec, data_dir)
            timing["data"] = time.perf_counter() - start
            print(f"[reproduce] data ready in {timing['data']:.0f} s ({data_dir})", flush=True)
            runs = _run_all(configs, data, parallel=parallel)
        timing["trials"] = time.perf_counter() - start - timing["data"]
        print("[reproduce] trials done; building the table and figures", flush=True)
        _write_runs(directory, runs)
        rows = build_rows(scale, runs)
        print(
            "[reproduce] controls: trivial designers, band populations, synthetic tails, ρa sweep"
        )
        controls, extras = build_controls(runs)
        figures = draw_figures(runs, data["train"], directory)
        figures += draw_control_figures(runs, extras, directory)
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
            f"out_dir={call_dir!r})",
        }
        report = markdown(spec, configs, runs, rows, controls, figures, timing, info)
        (directory / "reproduction.md").write_text(report)
        values = {k: v for r in [*rows, *controls] for k, v in r.metrics.items()}
        for name, run in runs.items():
            values.update({f"{name}.{k}": v for k, v in run.metrics.items()})
        tracker.log_metrics(run_id, values)
        tracker.log_artifacts(run_id, directory)
        tracker.finish(run_id)
    except BaseException:
        tracker.finish(run_id, "FAILED")
        raise
    print(
        f"[reproduce] wrote {directory / 'reproduction.md'} in {timing['total']:.0f} s", flush=True
    )
    return directory
