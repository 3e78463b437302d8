"""The study driver, shared by launch and resume: data, Tune (fresh, restored or topped up),
reconciliation of MLflow and Optuna, the report; and the parent run's end however the driver ends.

A study can be interrupted anywhere and resumed:

* during data generation or before Tune's first snapshot: there is no Tune state, or one that does
  not know every trial; the trials Tune does not know are run by a new Tune experiment in the same
  study directory (``tune-2``, ``tune-3``, …) and the same Optuna study, until ``num_samples``
  trials have ended;
* during training or scoring: the restored experiment continues each trial from its last epoch
  checkpoint; a trial that finished just before the kill replays its MLflow run;
* during the report: the restored experiment has nothing left to run and the report is made again.

Ctrl-C (SIGINT) lets Tune save its state and stop its trials; the driver then ends the parent run as
KILLED and raises ``KeyboardInterrupt`` (the CLI exits 130 with one line). Any other failure ends it
as FAILED. ``resume`` reopens it.
"""

from __future__ import annotations

import os

from study.files.config import StudyConfig
from study.files.directory import StudyInfo
from study.files.errors import DiskFull, TrackingGone, disk_full, disk_full_line
from study.files.outage import OUTAGE_BACKOFF, OUTAGE_RETRIES, outage_seconds, unreachable
from study.run import faults
from study.run.experiments import (
    ENDED,
    check_not_interrupted,
    ended,
    experiments,
    statuses_of,
)
from study.run.finish import finish
from study.run.trainable import CONFIRM_KEY

__all__ = ["drive", "experiments"]

METRIC_COLUMNS = ["val_accuracy", "validated_accuracy", "validated_skill", "alpha", "collapsed"]


def environment(cfg: StudyConfig) -> None:
    from study.console import quiet

    quiet()
    # A tracking server that goes away is waited for (study.files.outage.outage_seconds).
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", str(OUTAGE_RETRIES))
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", str(OUTAGE_BACKOFF))
    # Tune's classic reporter API (study.run.progress.StudyProgress; with -v its status table).
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    # Per-epoch results carry the ASHA metric; objectives arrive only with the final result.
    os.environ.setdefault("TUNE_DISABLE_STRICT_METRIC_CHECKING", "1")
    os.environ.setdefault("RAY_DEDUP_LOGS", "1")
    # Tune keeps one trial pending for a searcher (its default): the second trial's actor would
    # only start once the first runs, 4 s later on 2 cores. As many as run at once may be pending;
    # the ConcurrencyLimiter still asks Optuna for no more than that.
    os.environ["TUNE_MAX_PENDING_TRIALS_PG"] = str(cfg.search.max_concurrent)
    # Every epoch checkpoints (resume continues from there); the snapshot-rate warning is noise here.
    os.environ.setdefault("TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S", "0")
    # Snapshot Tune's experiment state every 2 s (default: adaptive, often tens of seconds), so a
    # killed driver loses few trials; those it loses are run again by a top-up experiment.
    os.environ.setdefault("TUNE_GLOBAL_CHECKPOINT_S", "2")
    # Ctrl-C: Tune waits this long for trials to stop at their next report before it kills their
    # actors (default 600 s, while an epoch may take minutes); the checkpoint of the last epoch is
    # what resume continues from either way.
    os.environ.setdefault("TUNE_FORCE_TRIAL_CLEANUP_S", "20")
    # Tune's default loggers: CSV and JSON are kept (:func:`_run_config` passes them); its
    # TensorBoard logger is not, since MLflow holds every curve, and tensorboardX imports torch in
    # the driver as the experiment starts (2 s of the study's start, benchmarks/study_overhead.py).
    os.environ["TUNE_DISABLE_AUTO_CALLBACK_LOGGERS"] = "1"


def _base_flat(cfg: StudyConfig) -> dict:
    from study.run.search import base_flat

    return base_flat(cfg)


def _trainable(cfg: StudyConfig, info: StudyInfo, data: dict, baselines, finished: dict):
    from ray import tune

    from study.run.trainable import tune_trial

    resources = {"cpu": cfg.resources.cpus_per_trial, "gpu": cfg.resources.gpus_per_trial}
    trainable = tune.with_parameters(
        tune_trial,
        base_flat=_base_flat(cfg),
        data=data,
        study=info.name,
        alpha_target=info.alpha_target,
        seeds=cfg.trial_seeds(),
        baselines=baselines,
        finished=finished,
    )
    return tune.with_resources(trainable, resources)


def _finished(info: StudyInfo, tracker) -> dict[str, dict]:
    """Tune trial id → final metrics of every trial whose MLflow run FINISHED: a trial Tune still
    counts as unfinished (it ended after Tune's last snapshot) reports these instead of rerunning."""
    from study.files.tracking import TRIAL_TAG
    from study.run.trainable import FINAL_KEYS

    return {
        run.data.tags[TRIAL_TAG]: {k: v for k, v in run.data.metrics.items() if k in FINAL_KEYS}
        for run in tracker.child_runs(info.experiment_id, info.parent_run_id)
        if run.info.status == "FINISHED" and TRIAL_TAG in run.data.tags
    }


def _per_seed(info: StudyInfo, tracker) -> dict[str, float]:
    """Search trial's Tune id → its compute seconds a seed (what a confirmation of it takes a
    seed), for the finished search trials."""
    from study.files.tracking import CONFIRMS_TAG, TRIAL_TAG

    out = {}
    for run in tracker.child_runs(info.experiment_id, info.parent_run_id):
        metrics, tags = run.data.metrics, run.data.tags
        if (
            run.info.status == "FINISHED"
            and "compute_seconds" in metrics
            and not tags.get(CONFIRMS_TAG)
        ):
            out[tags.get(TRIAL_TAG, "")] = metrics["compute_seconds"] / metrics.get("n_seeds", 1)
    return out


def _run_config(cfg: StudyConfig, info: StudyInfo, tracker, name: str, per_seed=None):
    from ray import tune
    from ray.tune.logger import CSVLoggerCallback, JsonLoggerCallback

    from study.console import verbose
    from study.run.nodes import NodeWatch
    from study.run.progress import StudyProgress
    from study.run.recording import TrialRecorder

    if verbose():  # Ray's and Tune's own output, as -v asks
        reporter = tune.CLIReporter(
            metric_columns=METRIC_COLUMNS,
            parameter_columns=["stages", "fc", "inverse_mode"],
            max_report_frequency=20,
        )
    else:
        objectives, modes = cfg.search.objectives, cfg.search.modes
        base = _base_flat(cfg)
        reporter = StudyProgress(
            info.name, info.dir, objectives, modes, base, cfg.search.seeds, per_seed
        )

    return tune.RunConfig(
        name=name,
        # The recorder is MLflow's one writer for trials (trials never open the store).
        callbacks=[
            TrialRecorder(info, _base_flat(cfg), tracker),
            NodeWatch(info.name, cfg.resources.cpus_per_trial, cfg.resources.gpus_per_trial),
            CSVLoggerCallback(),
            JsonLoggerCallback(),
        ],
        storage_path=str(info.dir),
        failure_config=tune.FailureConfig(max_failures=cfg.search.max_failures),
        # Tune deletes checkpoints beyond num_to_keep from the worker, ahead of its own state
        # snapshot: a driver killed in between resumes towards a deleted checkpoint. Keeping all
        # (the default) makes kill -9 safe; the paper preset bounds it for its large nets.
        checkpoint_config=tune.CheckpointConfig(num_to_keep=cfg.search.keep_checkpoints or None),
        progress_reporter=reporter,
        verbose=1,
    )


def _new_experiment(cfg: StudyConfig, info: StudyInfo, tracker, trainable, name: str, samples: int):
    from ray import tune

    from study.run.search import make_scheduler, make_searcher

    return tune.Tuner(
        trainable,
        tune_config=tune.TuneConfig(
            search_alg=make_searcher(cfg, info.dir, info.name),
            scheduler=make_scheduler(cfg),
            num_samples=samples,
            # Trial actors outlive their trial: the next one skips process start and imports.
            reuse_actors=True,
        ),
        run_config=_run_config(cfg, info, tracker, name),
    )


def _data(cfg: StudyConfig, info: StudyInfo, tracker) -> dict:
    """Generate (or find in the cache) the study's dataset once; every trial gets it by reference."""
    import time

    from study.console import every, say
    from study.run.data import generate_with_ray, load_splits

    spec = cfg.trial.data
    started = time.time()
    faults.point("data")
    workers = cfg.resources.data_workers or None
    progress = every(15.0)  # a line per shard is noise in a log; one every 15 s says enough
    generate_with_ray(spec, cfg.tracking.data_dir, max_in_flight=workers, progress=progress)
    splits = load_splits(spec, cfg.tracking.data_dir)
    seconds = time.time() - started
    count = sum(len(split[0]) for split in splits.values())
    say(f"[study] dataset: {count} structures ready in {seconds:.0f} s ({cfg.tracking.data_dir})")
    if "data_seconds" not in tracker.metrics(info.parent_run_id):  # the launch's, not a resume's
        tracker.log_metrics(info.parent_run_id, {"data_seconds": seconds})
    return splits


def drive(cfg: StudyConfig, info: StudyInfo, tracker, *, record_ray: bool) -> None:
    """Run (or continue) the study to its report; see the module docstring."""
    from ray import tune

    from study.files.tracking import BASELINES_TAG, EXIT_TAG
    from study.run import leftovers
    from study.run.data import baselines_interval, save_baselines, start_baselines

    def record() -> None:  # Ray's agents start a moment after ray.init: recorded twice
        if record_ray:
            import ray

            session = ray._private.worker._global_node.get_session_dir_path()
            leftovers.record_ray(info.dir, session)

    from study.console import checkpoint

    try:
        checkpoint()
        record()
        data = _data(cfg, info, tracker)
        record()
        checkpoint()
        # Once per dataset, cached beside it; computed beside the first trials when not cached.
        baselines = start_baselines(cfg.trial, cfg.tracking.data_dir, data)
        trainable = _trainable(cfg, info, data, baselines, _finished(info, tracker))
        done = experiments(info.dir)
        if done:
            print(f"[study] restoring {done[-1].name}", flush=True)
            tuner = tune.Tuner.restore(
                str(done[-1]),
                trainable=trainable,
                resume_unfinished=True,
                resume_errored=True,
            )
            _fit(tuner)
            check_not_interrupted(done[-1])
        while (missing := cfg.search.num_samples - ended(info.dir)) > 0:
            count = len(experiments(info.dir))
            name = f"tune-{count + 1}" if count else "tune"
            print(f"[study] {missing} trial(s) to run in {name}", flush=True)
            _fit(_new_experiment(cfg, info, tracker, trainable, name, missing))
            check_not_interrupted(info.dir / name)
        _confirm(cfg, info, tracker, trainable)
        _race(cfg, info, tracker, trainable)
        checkpoint()
        computed = baselines_interval(save_baselines(cfg.trial, cfg.tracking.data_dir, baselines))
        if computed:  # computation like the dataset's (benchmarks/study_overhead.py)
            start, end = computed
            tracker.set_tags(info.parent_run_id, {BASELINES_TAG: f"{start:.3f} {end:.3f}"})
        finish(info, tracker)
    except BaseException as err:
        interrupted = isinstance(err, KeyboardInterrupt)
        why = "interrupted" if interrupted else f"{type(err).__name__}: {err}"
        if not interrupted and disk_full(err):
            why = "disk full"
        if not interrupted and unreachable(err):  # nothing can be written there: say so, stop
            raise TrackingGone(_gone_line(info)) from None
        stopped = _study_failed(err)  # a Tune callback's one line (no node left), Tune-wrapped
        tracker.set_tags(info.parent_run_id, {EXIT_TAG: why})
        tracker.finish(info.parent_run_id, "KILLED" if interrupted else "FAILED")
        for run in tracker.child_runs(info.experiment_id, info.parent_run_id):
            if (
                run.info.status == "RUNNING"
            ):  # its trial was stopped with the driver; resume reopens it
                tracker.set_tags(run.info.run_id, {EXIT_TAG: why})
                tracker.finish(run.info.run_id, "KILLED")
        if why == "disk full":
            raise DiskFull(disk_full_line(info.dir, info.name)) from None
        if stopped is not None and stopped is not err:
            raise stopped from None
        raise


def _confirm(cfg: StudyConfig, info: StudyInfo, tracker, trainable) -> None:
    """Run or continue every confirmation round of the study (:mod:`study.run.rounds`): a grid of
    fixed parameter sets with the round's fresh seeds, no searcher, so Optuna never sees it."""
    import shutil

    from ray import tune

    from study.run.rounds import rounds

    for round_ in rounds(info.dir):
        path = info.dir / round_.experiment
        if (path / "tuner.pkl").is_file() and not list(path.glob("experiment_state-*.json")):
            shutil.rmtree(path)  # killed before Tune's first snapshot: nothing of it to restore
        if (path / "tuner.pkl").is_file():
            statuses = statuses_of(path)
            if statuses and all(s in ENDED for s in statuses.values()):
                continue
            print(f"[study] restoring {round_.experiment}", flush=True)
            tuner = tune.Tuner.restore(
                str(path), trainable=trainable, resume_unfinished=True, resume_errored=True
            )
        else:
            print(
                f"[study] {round_.experiment}: {len(round_.trials)} configuration(s) with seeds "
                f"{list(round_.seeds)}",
                flush=True,
            )
            tuner = tune.Tuner(
                trainable,
                param_space={CONFIRM_KEY: tune.grid_search(round_.param_sets())},
                tune_config=tune.TuneConfig(
                    num_samples=1,
                    max_concurrent_trials=cfg.search.max_concurrent,
                    reuse_actors=True,
                ),
                run_config=_run_config(
                    cfg, info, tracker, round_.experiment, _per_seed(info, tracker)
                ),
            )
        _fit(tuner)
        check_not_interrupted(path)


def _race(cfg: StudyConfig, info: StudyInfo, tracker, trainable) -> None:
    """Go on with the study's confirmation race (:mod:`study.run.race`), if it has one that is not
    over: one recorded round after another, each run like any confirmation round."""
    import dataclasses

    from study.console import say
    from study.run.race import load_race, next_round, save_race
    from study.run.rounds import add_round

    race = load_race(info.dir)
    if race is None or race.done:
        return
    # A bound on the rounds whatever happens to them (a configuration whose runs keep failing
    # would otherwise ask for its first confirmation again and again).
    for _ in range(len(race.trials) * race.max_seeds + 1):
        new, line = next_round(info, cfg, tracker, race)
        say(line)
        if new is None:
            break
        add_round(info.dir, new)
        _confirm(cfg, info, tracker, trainable)
    save_race(info.dir, dataclasses.replace(race, done=True))


def _fit(tuner) -> None:
    """``tuner.fit()``, then Ctrl-C interrupts Python again: Tune leaves its SIGINT handler (which
    only sets an event for its own loop) installed when no signal came during the run."""
    import signal

    from study.console import checkpoint

    checkpoint()  # a Ctrl-C recorded before Tune took the signal: no experiment starts
    handler = signal.getsignal(signal.SIGINT)
    try:
        tuner.fit()
    finally:
        signal.signal(signal.SIGINT, handler)
    checkpoint()  # one that came while Tune set its handler up: the experiment ran, now stop


def _gone_line(info: StudyInfo) -> str:
    from study.files.tracking import redact

    waited = outage_seconds(
        int(os.environ.get("MLFLOW_HTTP_REQUEST_MAX_RETRIES", OUTAGE_RETRIES)),
        int(os.environ.get("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", OUTAGE_BACKOFF)),
    )
    return (
        f"tracking.uri: must stay reachable (it did not answer for {waited:.0f} s of retries; the "
        f"study stopped with its trials' checkpoints and Tune's state saved, and `scalefree "
        f"resume {info.name}` completes its runs once the server is back), but got "
        f"{redact(info.tracking_uri)!r}."
    )


def _study_failed(error: BaseException | None):
    """The :class:`StudyFailed` in ``error``'s causes and contexts, if any."""
    from study.files.errors import StudyFailed

    seen = set()
    while isinstance(error, BaseException) and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, StudyFailed):
            return error
        error = error.__cause__ or error.__context__ or getattr(error, "cause", None)
    return None
