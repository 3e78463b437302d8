"""Launch and resume studies: everything checked first, then the study directory, the MLflow
parent run and the driver (:mod:`study.run.driver`).

A study lives in ``studies/NAME/``: ``config.yaml`` (resolved), ``study.json`` (tracking ids),
``optuna.db`` (the Optuna study), ``tune/`` (Tune's experiment state and trial checkpoints; a
resumed study may add ``tune-2``, …) and ``report/``. Nothing is created before every check passed;
from the moment the directory exists, the study is one that ``resume`` continues.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

from study.files.config import (
    StudyConfig,
    config_yaml,
    load_config,
    study_flat_redacted,
    study_to_flat,
)
from study.files.directory import StudyInfo, driver_lock, read_study

__all__ = [
    "launch",
    "resume",
    "confirm",
    "ablate",
    "preflight",
    "check_resumable",
    "free_name",
]

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")  # used with fullmatch: no trailing newline


def check_config(cfg: StudyConfig) -> str:
    """What `config` and `launch` both check beyond the config's own rules: the studies folder can
    be written and the tracking store opens. Returns the tracking URI."""
    from study.files.tracking import check_uri, resolve_uri

    _check_writable(Path(cfg.tracking.studies_dir).resolve())
    uri = resolve_uri(cfg.tracking.uri)
    check_uri(uri)
    return uri


def preflight(cfg: StudyConfig, name: str, address: str | None) -> tuple[Path, str]:
    """Every check of a launch that needs no Ray and writes nothing: the name, the directory, the
    tracking store (opened), the cluster address. Returns (study directory, tracking URI)."""
    from study.run.cluster import check_address

    if not _NAME.fullmatch(name):
        raise ValueError(f"--name: must be letters, digits, '_', '.' or '-', but got {name!r}.")
    studies = Path(cfg.tracking.studies_dir).resolve()
    directory = studies / name
    if directory.exists():
        raise ValueError(
            f"--name: must be a new study (use `scalefree resume {name}`), but got {name!r}."
        )
    uri = check_config(cfg)
    if address:
        check_address(address)
    return directory, uri


def _check_writable(studies: Path) -> None:
    """The nearest existing folder of ``studies`` must let us create the study directory."""
    import os

    existing = studies
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not (existing.is_dir() and os.access(existing, os.W_OK | os.X_OK)):
        raise ValueError(
            f"tracking.studies_dir: must be a folder we can write to, but got {str(studies)!r}."
        )


def launch(
    cfg: StudyConfig,
    *,
    name: str,
    address: str | None = None,
    preset: str = "",
    start_from: str | None = None,
) -> Path:
    """Start a new study ``name`` (``preset``: what it was launched from, for `scalefree list`;
    ``start_from``: an earlier study whose finished trials the search starts with,
    :func:`study.run.search.warm_start`); returns its directory."""
    from study.files.tracking import git_commit
    from study.run import leftovers
    from study.run.driver import drive, environment

    directory, uri = preflight(cfg, name, address)
    earlier = _earlier(start_from)
    environment(cfg)
    with contextlib.ExitStack() as stack:
        ours = []  # the directory, once this launch made it: what a killed driver left is cleaned
        stack.callback(lambda: ours and leftovers.clean(directory, name))  # after Ray stopped
        tracker = _ray_and_tracker(stack, uri, address, shared=directory.parent)
        try:
            directory.mkdir(parents=True)
        except FileExistsError:  # another launch of this name got there first
            raise ValueError(
                f"--name: must be a new study (use `scalefree resume {name}`), but got {name!r}."
            ) from None
        ours.append(directory)
        stack.enter_context(driver_lock(directory))
        (directory / "config.yaml").write_text(config_yaml(cfg))
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
            preset=preset,
            dir=directory,
        )
        info.save()
        _log_parent_start(tracker, info.parent_run_id, cfg, directory)
        print(f"[study] {name}: {directory}  (MLflow run {info.parent_run_id})", flush=True)
        if earlier is not None:
            _start_from(cfg, info, tracker, earlier)
        drive(cfg, info, tracker, record_ray=not address)
    return directory


def _earlier(name: str | None):
    """The study ``--from`` names (checked before anything is created), or None."""
    if name is None:
        return None
    try:
        earlier = read_study(name)
    except ValueError:
        raise ValueError(
            f"--from: must be a study under ./studies (see `scalefree list`), but got {name!r}."
        ) from None
    if not (earlier.dir / "optuna.db").is_file():
        raise ValueError(f"--from: must be a study that has searched, but got {name!r}.")
    return earlier


def _start_from(cfg: StudyConfig, info: StudyInfo, tracker, earlier) -> None:
    """The earlier study's finished trials into this one's Optuna storage, said on the parent."""
    from study.files.tracking import Tracker
    from study.run.search import warm_start

    imported, skipped = warm_start(cfg, info.dir, info.name, earlier, Tracker(earlier.tracking_uri))
    tracker.set_tags(info.parent_run_id, {"scalefree.from": earlier.name})
    tracker.log_metrics(info.parent_run_id, {"imported_trials": imported})
    left = f" ({skipped} left out: outside this space or without this study's objectives)"
    print(
        f"[study] starts from {earlier.name}: {imported} finished trials for TPE to model"
        + (left if skipped else ""),
        flush=True,
    )


def resume(name_or_dir: str, *, address: str | None = None) -> Path:
    """Continue a study from wherever it stopped: finished trials kept, unfinished continued,
    errored retried, lost ones run again, unfinished confirmation rounds continued. One driver at
    a time (:func:`driver_lock`)."""
    info = read_study(name_or_dir)
    with driver_lock(info.dir):
        cfg = check_resumable(info, address)
        return _resume(info, cfg, address=address)


def confirm(
    name_or_dir: str,
    *,
    seeds: int = 3,
    trials: str = "front",
    address: str | None = None,
    race: bool = False,
    max_seeds: int = 8,
) -> Path:
    """Add a confirmation round to a study (:mod:`study.run.rounds`: the chosen configurations with
    ``seeds`` fresh trial seeds) and run it; the rest of the study is continued first if it was
    interrupted. With ``race``, the chosen configurations are raced instead (:mod:`study.run.race`:
    ``seeds`` first, then one more at a time where intervals overlap, up to ``max_seeds``).
    Checked before anything is written, like a launch."""
    from study.files.tracking import Tracker
    from study.run.race import Race, save_race
    from study.run.rounds import add_round, plan

    info = read_study(name_or_dir)
    with driver_lock(info.dir):
        cfg = check_resumable(info, address)
        new = plan(info, cfg, Tracker(info.tracking_uri), seeds=seeds, trials=trials)
        if not race:
            return _resume(info, cfg, address=address, before=lambda: add_round(info.dir, new))
        if not (isinstance(max_seeds, int) and max_seeds >= seeds):
            raise ValueError(
                f"--max-seeds: must be an integer >= --seeds ({seeds}), but got {max_seeds!r}."
            )
        raced = Race(tuple(new.trials), max_seeds=max_seeds, start_seeds=seeds)
        return _resume(info, cfg, address=address, before=lambda: save_race(info.dir, raced))


def ablate(
    name_or_dir: str, *, trial: str, vary: str, seeds: int = 3, address: str | None = None
) -> Path:
    """Add an ablation to a study (:mod:`study.read.ablation`: ``trial``'s configuration at every
    level of ``vary``, each with the same ``seeds`` fresh seeds) and run it, like a confirmation
    round; checked before anything is written."""
    from study.files.tracking import Tracker
    from study.run.rounds import add_round, plan_ablation

    info = read_study(name_or_dir)
    with driver_lock(info.dir):
        cfg = check_resumable(info, address)
        new = plan_ablation(
            info, cfg, Tracker(info.tracking_uri), trial=trial, vary=vary, seeds=seeds
        )
        return _resume(info, cfg, address=address, before=lambda: add_round(info.dir, new))


def check_resumable(info: StudyInfo, address: str | None) -> StudyConfig:
    """Every check of continuing a study that needs no Ray: its config, tracking store, Optuna
    study and the cluster address. Returns its config."""
    from study.files.tracking import check_uri
    from study.run.cluster import check_address
    from study.run.search import check_directions

    cfg = load_config(str(info.dir / "config.yaml"))
    _check_unchanged(cfg, info)
    check_uri(info.tracking_uri)
    check_directions(cfg, info.dir, info.name)
    if address:
        check_address(address)
    return cfg


def _resume(info: StudyInfo, cfg: StudyConfig, *, address: str | None, before=None) -> Path:
    """Continue the study; ``before`` runs once Ray is up and every node sees the study (a
    confirmation round is recorded there, so a refused cluster leaves the study as it was)."""
    from study.run import leftovers
    from study.run.driver import drive, environment

    directory = info.dir
    removed = leftovers.clean(directory, info.name)
    if removed:
        print(f"[study] removed what the last driver left: {len(removed)} item(s)", flush=True)
    environment(cfg)
    with contextlib.ExitStack() as stack:
        stack.callback(leftovers.clean, directory, info.name)
        tracker = _ray_and_tracker(stack, info.tracking_uri, address, shared=directory)
        if before is not None:
            before()
        tracker.start_parent(info.experiment_id, info.name, info.parent_run_id)
        print(f"[study] resuming {info.name} from {directory}", flush=True)
        drive(cfg, info, tracker, record_ray=not address)
    return directory


def _ray_and_tracker(stack: contextlib.ExitStack, uri: str, address: str | None, *, shared: Path):
    """Connect to Ray for the duration of ``stack`` and return the :class:`~study.files.tracking.Tracker`
    of ``uri``.

    On a local Ray the tracker opens in a thread while ``ray.init`` starts Ray's processes:
    importing MLflow's SQLAlchemy store and, for a new SQLite file, its schema migrations take ~5 s
    of one core, while ``ray.init`` mostly waits for its processes (8 s instead of 10.5 s one after
    the other, benchmarks/study_overhead.py). The thread is joined when ``stack`` closes, so a
    failed or interrupted start never leaves a half-migrated store.

    On a cluster (``address``) every node must first see ``shared``, the studies folder (launch) or
    the study directory (resume) where trials keep their checkpoints and files (:func:`study.run.cluster.check_shared`); the tracker opens
    after that check, so a refused launch creates nothing, not even the store."""
    from concurrent.futures import ThreadPoolExecutor

    from study.files.tracking import Tracker
    from study.run.cluster import check_shared, connect

    if address:
        stack.enter_context(connect(address))
        check_shared(shared, "tracking.studies_dir")
        return Tracker(uri)
    opening = stack.enter_context(ThreadPoolExecutor(1)).submit(Tracker, uri)
    stack.enter_context(connect(address))
    return opening.result()


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
    from study.read.answers import description
    from study.run.search import SEARCHED_KEYS

    # The parent holds what every trial shares plus the search space; the architecture keys are
    # sampled per trial, so the preset's values for them were never run and are not logged.
    flat = study_flat_redacted(cfg)
    tracker.log_params(run_id, {k: v for k, v in flat.items() if k not in SEARCHED_KEYS})
    tracker.set_tags(run_id, {"mlflow.note.content": description(directory.name, cfg)})
    tracker.log_artifact(run_id, directory / "config.yaml")


def _stem(config: str) -> str:
    """A valid study name from a preset or file name: other characters become '-'."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(config).stem).strip("-.") or "study"


def free_name(studies: Path, config: str) -> str:
    """Without --name: the preset or file name, or stem-2, stem-3, … if taken (an explicit --name
    that exists is refused instead, pointing at `scalefree resume`)."""
    stem = _stem(config)
    name, k = stem, 1
    while (studies / name).exists():
        k += 1
        name = f"{stem}-{k}"
    return name
