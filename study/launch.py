"""Launch and resume studies: data once, Tune + Optuna search, MLflow parent run, final report.

A study lives in ``studies/NAME/``: ``config.yaml`` (resolved), ``study.json`` (tracking ids),
``optuna.db`` (the Optuna study), ``tune/`` (Tune's experiment state and trial checkpoints) and
``report/``. Everything is checked before that directory is created.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

from study.config import StudyConfig, config_yaml, load_config, study_to_flat
from study.directory import StudyInfo, driver_lock, read_study
from trainables.config import to_flat

__all__ = ["launch", "resume"]

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")  # used with fullmatch: no trailing newline
METRIC_COLUMNS = ["val_accuracy", "validated_accuracy", "validated_skill", "alpha", "collapsed"]


def _environment() -> None:
    # The classic progress table (validated accuracy, α, robustness gain per trial).
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    # Per-epoch results carry the ASHA metric; objectives arrive only with the final result.
    os.environ.setdefault("TUNE_DISABLE_STRICT_METRIC_CHECKING", "1")
    os.environ.setdefault("RAY_DEDUP_LOGS", "1")
    os.environ.setdefault("TUNE_MAX_PENDING_TRIALS_PG", "1")
    # Every epoch checkpoints (resume continues from there); the snapshot-rate warning is noise here.
    os.environ.setdefault("TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S", "0")
    # Snapshot Tune's experiment state every 2 s (default: adaptive, often tens of seconds), so a
    # killed driver loses at most the trials started in its last two seconds (see _reconcile).
    os.environ.setdefault("TUNE_GLOBAL_CHECKPOINT_S", "2")


def _trainable(cfg: StudyConfig, info: StudyInfo, data: dict):
    from ray import tune

    from study.tune_trial import tune_trial

    base = to_flat(cfg.trial)
    base["threads"] = max(1, int(cfg.resources.cpus_per_trial))
    resources = {"cpu": cfg.resources.cpus_per_trial, "gpu": cfg.resources.gpus_per_trial}
    trainable = tune.with_parameters(tune_trial, base_flat=base, data=data, study=info)
    return tune.with_resources(trainable, resources)


def _run_config(cfg: StudyConfig, directory: Path):
    from ray import tune

    reporter = tune.CLIReporter(
        metric_columns=METRIC_COLUMNS,
        parameter_columns=["stages", "fc", "inverse_mode"],
        max_report_frequency=20,
    )
    return tune.RunConfig(
        name="tune",
        storage_path=str(directory),
        failure_config=tune.FailureConfig(max_failures=cfg.search.max_failures),
        # Tune deletes checkpoints beyond num_to_keep from the worker, ahead of its own state
        # snapshot: a driver killed in between resumes towards a deleted checkpoint. Keeping all
        # (the default) makes kill -9 safe; the paper preset bounds it for its large nets.
        checkpoint_config=tune.CheckpointConfig(num_to_keep=cfg.search.keep_checkpoints or None),
        progress_reporter=reporter,
        verbose=1,
    )


def _data(cfg: StudyConfig, info: StudyInfo, tracker) -> dict:
    """Generate (or find in the cache) the study's dataset once; every trial gets it by reference."""
    import time

    from study.data import generate_with_ray, load_splits

    spec = cfg.trial.data
    started = time.time()
    generate_with_ray(spec, cfg.tracking.data_dir, max_in_flight=cfg.resources.data_workers or None)
    splits = load_splits(spec, cfg.tracking.data_dir)
    tracker.log_metrics(info.parent_run_id, {"data_seconds": time.time() - started})
    return splits


def launch(cfg: StudyConfig, *, name: str, address: str | None = None) -> Path:
    """Start a new study ``name``; returns its directory."""
    from study.cluster import check_address, connect
    from study.search import make_scheduler, make_searcher
    from study.tracking import Tracker, check_uri, git_commit, resolve_uri

    if not _NAME.fullmatch(name):
        raise ValueError(f"--name: must be letters, digits, '_', '.' or '-', but got {name!r}.")
    directory = Path(cfg.tracking.studies_dir).resolve() / name
    if directory.exists():
        raise ValueError(
            f"--name: must be a new study (use `scalefree resume {name}`), but got {name!r}."
        )
    uri = resolve_uri(cfg.tracking.uri)
    check_uri(uri)
    if address:
        check_address(address)
    _environment()

    from ray import tune

    with contextlib.ExitStack() as stack, connect(address):
        try:
            directory.mkdir(parents=True)
        except FileExistsError:  # another launch of this name got there first
            raise ValueError(
                f"--name: must be a new study (use `scalefree resume {name}`), but got {name!r}."
            ) from None
        stack.enter_context(driver_lock(directory))
        (directory / "config.yaml").write_text(config_yaml(cfg))
        tracker = Tracker(uri)
        experiment_id = tracker.experiment(cfg.tracking.experiment)
        info = StudyInfo(
            name=name,
            tracking_uri=uri,
            experiment_id=experiment_id,
            parent_run_id=tracker.start_parent(experiment_id, name),
            git_commit=git_commit(),
            data_key=cfg.trial.data.key(),
            alpha_target=cfg.search.alpha_target,
            config=_fingerprint(cfg),
            dir=directory,
        )
        info.save()
        _log_parent_start(tracker, info.parent_run_id, cfg, directory)
        print(
            f"[study] {name}: {directory}  (MLflow run {info.parent_run_id} on {uri})", flush=True
        )
        data = _data(cfg, info, tracker)
        tuner = tune.Tuner(
            _trainable(cfg, info, data),
            tune_config=tune.TuneConfig(
                search_alg=make_searcher(cfg, directory, name),
                scheduler=make_scheduler(cfg),
                num_samples=cfg.search.num_samples,
                # Trial actors outlive their trial: the next one skips process start and imports.
                reuse_actors=True,
            ),
            run_config=_run_config(cfg, directory),
        )
        results = tuner.fit()
        _finish(info, tracker, results)
    return directory


def resume(name_or_dir: str, *, address: str | None = None) -> Path:
    """Continue a study: finished trials kept, unfinished continued, errored retried. One driver
    at a time: a study that another driver is running is refused (:func:`driver_lock`)."""
    info = read_study(name_or_dir)
    with driver_lock(info.dir):
        return _resume(info, name_or_dir, address=address)


def _resume(info: StudyInfo, name_or_dir: str, *, address: str | None) -> Path:
    from study.cluster import check_address, connect
    from study.search import check_directions
    from study.tracking import Tracker, check_uri

    directory = info.dir
    cfg = load_config(str(directory / "config.yaml"))
    _check_unchanged(cfg, info)
    check_uri(info.tracking_uri)
    check_directions(cfg, directory, info.name)
    if address:
        check_address(address)
    if not (directory / "tune").is_dir():
        raise ValueError(
            f"study: has no Tune state to resume under {directory}, but got {name_or_dir!r}."
        )
    _environment()
    from ray import tune

    with connect(address):
        tracker = Tracker(info.tracking_uri)
        tracker.start_parent(info.experiment_id, info.name, info.parent_run_id)
        print(f"[study] resuming {info.name} from {directory}", flush=True)
        data = _data(cfg, info, tracker)
        tuner = tune.Tuner.restore(
            str(directory / "tune"),
            trainable=_trainable(cfg, info, data),
            resume_unfinished=True,
            resume_errored=True,
        )
        results = tuner.fit()
        _finish(info, tracker, results)
    return directory


# Keys a resume may change: where and how wide the study runs, not what its trials compute.
RESUMABLE_CHANGES = ("resources.", "search.max_concurrent", "tracking.uri")


def _fingerprint(cfg: StudyConfig) -> dict[str, str]:
    """The launched config, key → repr, minus the tracking URI (it may hold credentials)."""
    return {k: repr(v) for k, v in study_to_flat(cfg).items() if k != "tracking.uri"}


def _check_unchanged(cfg: StudyConfig, info: StudyInfo) -> None:
    """Refuse a resume whose config.yaml was edited in a way that would change finished trials
    (a new dataset seed, other epochs, another space): name the first such key."""
    launched = info.config
    if launched is None:  # a study launched before fingerprints were kept
        return
    now = _fingerprint(cfg)
    for key in sorted(set(launched) | set(now)):
        if key.startswith(RESUMABLE_CHANGES) or launched.get(key) == now.get(key):
            continue
        raise ValueError(
            f"{key}: must stay as launched ({launched.get(key, 'unset')}) to resume "
            f"{info.name!r}, but got {now.get(key, 'unset')}."
        )


def _log_parent_start(tracker, run_id: str, cfg: StudyConfig, directory: Path) -> None:
    from study.search import SEARCHED_KEYS

    # The parent holds what every trial shares plus the search space; the architecture keys are
    # sampled per trial, so the preset's values for them were never run and are not logged.
    flat = study_to_flat(cfg)
    tracker.log_params(run_id, {k: v for k, v in flat.items() if k not in SEARCHED_KEYS})
    space = ", ".join(f"{k}={list(v)}" for k, v in flat.items() if k.startswith("space."))
    objectives = ", ".join(
        f"{m}imise {o}" for o, m in zip(cfg.search.objectives, cfg.search.modes, strict=True)
    )
    note = (
        f"Study {directory.name}: {cfg.search.num_samples} trials; objectives: {objectives}.\n\n"
        f"Search space: {space}.\n\nTrials are the nested runs; each is named "
        "p<pooling stages>-<filters>-fc<width>-<inverse mode>[-bonds]-<Tune id>."
    )
    tracker.set_tags(run_id, {"mlflow.note.content": note})
    tracker.log_artifact(run_id, directory / "config.yaml")


def _finish(info: StudyInfo, tracker, results) -> None:
    from study.report import report

    _reconcile(info, tracker)
    errors = sum(1 for r in results if r.error is not None)
    print(f"[study] {len(results)} trials, {errors} failed", flush=True)
    report(str(info.dir))
    tracker.log_metrics(info.parent_run_id, {"trials_failed": errors, "trials": len(results)})
    tracker.finish(info.parent_run_id)


def _reconcile(info: StudyInfo, tracker) -> None:
    """Close what a killed driver left open and Tune no longer knows about.

    A trial started after Tune's last experiment snapshot is lost with the driver: the restored
    searcher proposes it again under a new trial id. Its half-done MLflow run is marked and deleted
    (so every trial has exactly one run) and its Optuna trial, still RUNNING, is marked FAIL. Runs
    of trials Tune ended while their thread could not notice are closed as Tune ended them.
    """
    import optuna
    from ray.tune import ExperimentAnalysis

    from study.tracking import TRIAL_TAG

    known = {t.trial_id: t.status for t in ExperimentAnalysis(str(info.dir / "tune")).trials}
    for run in tracker.child_runs(info.experiment_id, info.parent_run_id):
        trial_id = run.data.tags.get(TRIAL_TAG)
        status = known.get(trial_id)
        if status is not None and run.info.status == "RUNNING":
            # Tune ended the trial without its thread seeing it (an ASHA stop of a reused actor):
            # the run closes as the trial did.
            if status == "TERMINATED":
                tracker.set_tags(run.info.run_id, {"stopped_early": "true"})
            tracker.finish(run.info.run_id, "FAILED" if status == "ERROR" else "KILLED")
        if status is None:
            tracker.discard(run.info.run_id, "trial lost with the driver; rerun")
            print(f"[study] removed the run of lost trial {trial_id}", flush=True)
    storage = f"sqlite:///{info.dir / 'optuna.db'}"
    study = optuna.load_study(study_name=info.name, storage=storage)
    for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        study.tell(trial.number, state=optuna.trial.TrialState.FAIL)
