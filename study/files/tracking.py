"""MLflow, owned here: the tracking URI, one :class:`Tracker` through which launch, the driver's
trial recorder (:mod:`study.run.recording`), report and reproduce log, and the names and tags a study's
runs carry. Only the driver writes: trials never open the store.

One parent run per study, one nested run per trial, also after resume. Ray's
``MLflowLoggerCallback`` opens a new run for every resumed trial and keeps no state, so trial runs
go through :meth:`Tracker.trial_run` instead: a trial's run is found again by its
``scalefree.trial_id`` tag under the study's parent run and continued, never duplicated.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import time
import typing
from pathlib import Path
from urllib.parse import urlparse

from physics.checks import shown
from study.files.outage import Patient

__all__ = [
    "Tracker",
    "redact",
    "unredact",
    "resolve_uri",
    "check_uri",
    "git_commit",
    "finite_numbers",
    "metric_name",
]

TRIAL_TAG = "scalefree.trial_id"
STUDY_TAG = "scalefree.study"
EXIT_TAG = "scalefree.driver_exit"  # why the last driver stopped (study/run/driver.py)
COLLAPSED_TAG = "scalefree.collapsed_reason"  # why a trial's nets or designs count as collapsed
COMPUTE_TAG = "scalefree.compute_interval"  # "start end" Unix seconds of a trial's run_trial
BASELINES_TAG = "scalefree.baselines_interval"  # "start end" of the dataset baselines' task
VERDICT_TAG = "scalefree.alpha_verdict"  # heavy / not heavy / too short to tell (PowerLawFit)
FAILURE_KIND_TAG = "scalefree.failure_kind"  # trial (its own computation) / infrastructure
CONFIRMS_TAG = "scalefree.confirms"  # on a confirmation run: the Tune id of the trial it confirms
CONFIRMED_BY_TAG = (
    "scalefree.confirmed_by"  # on a confirmed trial: its confirmation runs, comma-separated
)
PARETO_TAG = "scalefree.pareto"  # "true" on the trials of the study's Pareto front
REDACTED = "***"  # stands for a password in stored and logged URIs
MODEL_TRAINING_KIND = "custom_model_development"  # MLflow 3's experiment kind for runs, not traces


def resolve_uri(uri: str = "") -> str:
    """The tracking URI, with relative SQLite paths made absolute (Ray workers run elsewhere)."""
    uri = uri or os.environ.get("MLFLOW_TRACKING_URI", "") or "sqlite:///mlflow.db"
    if uri.startswith("sqlite:///") and not uri.startswith("sqlite:////"):
        uri = "sqlite:///" + str(Path(uri[len("sqlite:///") :]).resolve())
    return uri


def redact(uri: str) -> str:
    """``uri`` with the password of its user part replaced by ``***`` (nothing else changes)."""
    parsed = urlparse(uri)
    if parsed.password is None:
        return uri
    user = parsed.username or ""
    host = parsed.netloc.rpartition("@")[2]
    return parsed._replace(netloc=f"{user}:{REDACTED}@{host}").geturl()


def unredact(stored: str) -> str:
    """The real URI for a stored (possibly redacted) one: itself, or ``MLFLOW_TRACKING_URI`` when
    that is the same URI with its password; else one error line saying how to supply it."""
    if REDACTED not in (urlparse(stored).password or ""):
        return stored
    given = os.environ.get("MLFLOW_TRACKING_URI", "")
    if given and redact(given) == stored:
        return given
    raise ValueError(
        "tracking.uri: holds a password, which scalefree never stores; set MLFLOW_TRACKING_URI "
        f"to the full URI to use this study, but got {stored!r}."
    )


def _fail_uri(rule: str, uri: str) -> typing.NoReturn:
    raise ValueError(f"tracking.uri: {rule}, but got {shown(redact(uri))}.")


def check_uri(uri: str) -> None:
    """Open the tracking store far enough to know it works, before anything starts: a SQLite file
    or its folder writable, a server that answers as MLflow, a database driver installed."""
    parsed = urlparse(uri)
    scheme = parsed.scheme.partition("+")[0]
    if scheme in ("http", "https"):
        _check_server(uri)
    elif scheme in ("sqlite", "file"):
        path = Path(parsed.path if scheme == "file" else uri[len("sqlite:///") :])
        if scheme == "sqlite" and not uri.startswith("sqlite:///"):
            _fail_uri("must be sqlite:///RELATIVE or sqlite:////ABSOLUTE path", uri)
        target = path if path.exists() else path.parent
        if not (target.exists() and os.access(target, os.W_OK)):
            _fail_uri("must name a file (or folder) we can write to", uri)
    elif scheme in ("postgresql", "mysql", "mssql", "oracle"):
        _check_driver(uri)
    elif scheme != "databricks":
        _fail_uri("must be sqlite:///, http(s):// or a database URI", uri)


def _check_server(uri: str) -> None:
    """A GET of the server's /health must answer OK (an MLflow server does; other servers 404)."""
    import urllib.error
    import urllib.request

    parsed = urlparse(uri)
    host = parsed.netloc.rpartition("@")[2]  # credentials travel in headers, not in this probe
    url = parsed._replace(netloc=host).geturl().rstrip("/") + "/health"
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            ok = answer.status == 200 and answer.read(64).strip() == b"OK"
    except urllib.error.HTTPError as err:
        ok, reason = False, f"HTTP {err.code} on /health"
    except (OSError, ValueError) as err:
        reason = getattr(err, "reason", None) or getattr(err, "strerror", None) or err
        _fail_uri(f"must name a reachable MLflow server ({str(reason)[:60]})", uri)
    else:
        reason = "its /health did not answer OK"
    if not ok:
        _fail_uri(f"must name an MLflow server ({reason})", uri)


def _check_driver(uri: str) -> None:
    """SQLAlchemy must find the URI's database driver (psycopg2 for postgresql://, …)."""
    try:
        from sqlalchemy.engine import make_url

        make_url(uri).get_dialect().import_dbapi()
    except ImportError as err:
        _fail_uri(f"needs its database driver installed ({str(err)[:60]})", uri)
    except Exception as err:  # noqa: BLE001 - SQLAlchemy raises several kinds for a bad URL
        _fail_uri(f"must be a database URL SQLAlchemy understands ({type(err).__name__})", uri)


class Tracker:
    """The one owner of MLflow calls: launch, the Tune trial, report and reproduce go through it.

    ``mlflow`` is imported when a tracker is made, so modules that only name a tracker stay light.
    """

    def __init__(self, uri: str) -> None:
        import mlflow

        self.uri = uri
        self.client = Patient(mlflow.MlflowClient(uri))

    # experiments and runs

    def experiment(self, name: str, artifact_root: Path = Path("mlruns")) -> str:
        """Id of experiment ``name``, created if missing; artifacts go to an absolute folder so
        workers in any cwd find it (a server keeps its own)."""
        import mlflow

        mlflow.set_tracking_uri(self.uri)
        experiment = self.client.get_experiment_by_name(name)
        if experiment is not None:
            return experiment.experiment_id
        remote = urlparse(self.uri).scheme in ("http", "https")
        location = None if remote else artifact_root.resolve().as_uri()
        experiment_id = self.client.create_experiment(name, artifact_location=location)
        self.mark_model_training(experiment_id)
        return experiment_id

    def mark_model_training(self, experiment_id: str) -> None:
        """MLflow 3 opens an experiment on its GenAI overview unless the experiment says it holds
        model-training runs (tag ``mlflow.experimentKind``): say so, so the runs table comes first."""
        self.client.set_experiment_tag(experiment_id, "mlflow.experimentKind", MODEL_TRAINING_KIND)

    def create_run(self, experiment_id: str, name: str, tags: dict[str, str]) -> str:
        return self.client.create_run(experiment_id, run_name=name, tags=tags).info.run_id

    def start_parent(self, experiment_id: str, study: str, run_id: str | None = None) -> str:
        """Create the study's parent run, or reopen ``run_id``; returns its id."""
        if run_id is None:
            tags = {STUDY_TAG: study, "mlflow.source.git.commit": git_commit()}
            return self.create_run(experiment_id, study, tags)
        self.client.update_run(run_id, status="RUNNING")
        return run_id

    def trial_run(
        self,
        experiment_id: str,
        parent_id: str,
        study: str,
        trial_id: str,
        tags: dict[str, str],
        *,
        run_name: str | None = None,
    ) -> tuple[str, bool]:
        """The trial's nested run under ``parent_id`` (the study's parent run, or for a
        confirmation the run of the trial it confirms) and whether it already FINISHED.

        An existing run for ``trial_id`` in the study is continued (a resumed or retried trial); a
        finished one is left untouched, so a trial that completed just before a crash is never run
        twice.
        """
        found = self.client.search_runs(
            [experiment_id],
            filter_string=f"tags.`{TRIAL_TAG}` = '{trial_id}' and tags.`{STUDY_TAG}` = '{study}'",
            max_results=1,
        )
        if found:
            run = found[0]
            if run.info.status == "FINISHED":
                return run.info.run_id, True
            self.client.update_run(run.info.run_id, status="RUNNING")
            self.set_tags(run.info.run_id, tags)
            return run.info.run_id, False
        all_tags = {TRIAL_TAG: trial_id, STUDY_TAG: study, "mlflow.parentRunId": parent_id, **tags}
        return self.create_run(experiment_id, run_name or trial_id, all_tags), False

    def child_runs(self, experiment_id: str, parent_id: str) -> list:
        """Every run nested under ``parent_id`` (MLflow ``Run`` objects): its children and
        theirs (a confirmation run sits under the trial it confirms)."""
        children = self._search(experiment_id, f"tags.`mlflow.parentRunId` = '{parent_id}'")
        ids = {r.info.run_id for r in children}
        study = self.client.get_run(parent_id).data.tags.get(STUDY_TAG)
        if not study or not ids:
            return children
        study_runs = self._search(experiment_id, f"tags.`{STUDY_TAG}` = '{study}'")
        return children + [r for r in study_runs if r.data.tags.get("mlflow.parentRunId") in ids]

    def _search(self, experiment_id: str, where: str) -> list:
        runs, token = [], None
        while True:
            page = self.client.search_runs(
                [experiment_id], filter_string=where, max_results=10000, page_token=token
            )
            runs += list(page)
            token = page.token
            if not token:
                return runs

    def trial_run_id(self, experiment_id: str, study: str, trial_id: str) -> str | None:
        """The run of the study's trial ``trial_id`` (its Tune id), or None."""
        found = self.client.search_runs(
            [experiment_id],
            filter_string=f"tags.`{TRIAL_TAG}` = '{trial_id}' and tags.`{STUDY_TAG}` = '{study}'",
            max_results=1,
        )
        return found[0].info.run_id if found else None

    def status(self, run_id: str) -> str:
        return self.client.get_run(run_id).info.status

    def metrics(self, run_id: str) -> dict[str, float]:
        """The latest value of every metric of the run."""
        return dict(self.client.get_run(run_id).data.metrics)

    def last_step(self, run_id: str, keys: tuple[str, ...]) -> int:
        """Highest step logged for any of ``keys`` (0 if none)."""
        return max(
            (m.step for key in keys for m in self.client.get_metric_history(run_id, key)),
            default=0,
        )

    def finish(self, run_id: str, status: str = "FINISHED") -> None:
        self.client.set_terminated(run_id, status)

    def discard(self, run_id: str, why: str) -> None:
        """Tag, close and delete a run that must not count (a trial lost with its driver)."""
        self.set_tags(run_id, {"scalefree.orphan": why})
        self.finish(run_id, "KILLED")
        self.client.delete_run(run_id)

    # what runs hold

    def log_params(self, run_id: str, flat: dict) -> None:
        """Params are write-once in MLflow: log only keys the run does not have yet."""
        from mlflow.entities import Param

        have = self.client.get_run(run_id).data.params
        params = [Param(k, str(v)) for k, v in flat.items() if k not in have]
        for start in range(0, len(params), 100):
            self.client.log_batch(run_id, params=params[start : start + 100])

    def log_metrics(self, run_id: str, values: dict, *, step: int = 0) -> None:
        """Every finite number of ``values`` (bools and text are left out), in batches."""
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        metrics = [
            Metric(metric_name(k), float(v), now, step) for k, v in finite_numbers(values).items()
        ]
        for start in range(0, len(metrics), 500):
            self.client.log_batch(run_id, metrics=metrics[start : start + 500])

    def set_tags(self, run_id: str, tags: dict[str, object]) -> None:
        for key, value in tags.items():
            self.client.set_tag(run_id, key, str(value)[:MAX_TAG])

    def drop_tag(self, run_id: str, key: str) -> None:
        """Remove ``key`` from the run where it has it (a reason that no longer holds)."""
        if key in self.client.get_run(run_id).data.tags:
            self.client.delete_tag(run_id, key)

    def log_artifacts(self, run_id: str, directory: Path, path: str | None = None) -> None:
        self.client.log_artifacts(run_id, str(directory), artifact_path=path)

    def log_artifact(self, run_id: str, file: Path) -> None:
        self.client.log_artifact(run_id, str(file))

    def log_table(self, run_id: str, rows: list[dict], folder: Path, artifact_file: str) -> None:
        """``rows`` as an MLflow table on the run: ``mlflow.load_table(artifact_file,
        run_ids=[…])`` joins the tables of several runs (several studies' trials), and the UI
        lists it with the run's tables. Written the way ``MlflowClient.log_table`` writes one
        (pandas' split JSON, the ``mlflow.loggedArtifacts`` tag) into ``folder``, which holds the
        artifact's folder, and logged from there, because ``log_table`` appends to a table the run
        already has (every report would add the trials again) and prints a download progress bar
        while doing so."""
        import json

        import pandas as pd

        columns = list(dict.fromkeys(k for row in rows for k in row))
        data = pd.DataFrame({c: [_cell(row.get(c)) for row in rows] for c in columns})
        target = Path(folder) / Path(artifact_file).name
        data.to_json(target, orient="split", index=False, date_format="iso")
        self.client.log_artifact(run_id, str(target), artifact_path=str(Path(artifact_file).parent))
        logged = json.loads(self.client.get_run(run_id).data.tags.get(LOGGED_ARTIFACTS, "[]"))
        entry = {"path": artifact_file, "type": "table"}
        if entry not in logged:
            self.client.set_tag(run_id, LOGGED_ARTIFACTS, json.dumps([*logged, entry]))

    def share_view(self, experiment_id: str, key: str, view: dict) -> None:
        """Store a runs-table view (columns, filter) as MLflow's UI shares one: the experiment
        tag ``mlflow.sharedViewState.<key>`` holding its JSON, which a link's
        ``viewStateShareKey=<key>`` opens (:func:`ui_links`)."""
        import json

        tag = f"{SHARED_VIEW_PREFIX}{key}"
        self.client.set_experiment_tag(experiment_id, tag, json.dumps(view))


MAX_TAG = 4000  # characters MLflow keeps of a tag comfortably on every backend
LOGGED_ARTIFACTS = "mlflow.loggedArtifacts"  # the run's tables, as MlflowClient.log_table tags them
SHARED_VIEW_PREFIX = "mlflow.sharedViewState."  # MLflow 3 UI: a shared runs-table view


def _cell(value: object) -> object:
    """A table cell MLflow can store: numbers and text as they are, NaN and the rest as None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value
    return str(value)


def finite_numbers(values: dict) -> dict[str, float]:
    """The finite int/float entries of ``values`` as floats (bools are not numbers here)."""
    return {
        k: float(v)
        for k, v in values.items()
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
    }


def metric_name(key: str) -> str:
    """MLflow allows letters, digits, _ - . space : / in metric names."""
    key = key.replace("≥", "ge").replace("[", "").replace(")", "").replace(", ", "-")
    return re.sub(r"[^A-Za-z0-9_\-. :/]", "_", key)


def git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).parent,
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
