"""MLflow bookkeeping: one parent run per study, one nested run per trial, also after resume.

Ray's ``MLflowLoggerCallback`` opens a new run for every resumed trial and keeps no state, so trials
log through this module instead: a trial's run is found again by its ``scalefree.trial_id`` tag under
the study's parent run and continued, never duplicated.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

__all__ = [
    "resolve_uri",
    "check_uri",
    "ensure_experiment",
    "start_parent",
    "trial_run",
    "trial_name",
    "architecture_tags",
    "log_flat_params",
    "serve_ui",
    "git_commit",
]

TRIAL_TAG = "scalefree.trial_id"
STUDY_TAG = "scalefree.study"
COLLAPSED_TAG = "scalefree.collapsed_reason"  # why a trial's nets or designs count as collapsed
COMPUTE_TAG = "scalefree.compute_interval"  # "start end" Unix seconds of a trial's run_trial
PARETO_TAG = "scalefree.pareto"  # "true" on the trials of the study's Pareto front


def resolve_uri(uri: str = "") -> str:
    """The tracking URI, with relative SQLite paths made absolute (Ray workers run elsewhere)."""
    uri = uri or os.environ.get("MLFLOW_TRACKING_URI", "") or "sqlite:///mlflow.db"
    if uri.startswith("sqlite:///") and not uri.startswith("sqlite:////"):
        uri = "sqlite:///" + str(Path(uri[len("sqlite:///") :]).resolve())
    return uri


def check_uri(uri: str) -> None:
    """Fail before anything starts when a tracking server does not answer."""
    parsed = urlparse(uri)
    if parsed.scheme in ("http", "https"):
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        try:
            with socket.create_connection((parsed.hostname, port), timeout=3):
                pass
        except OSError as err:
            reason = err.strerror or type(err).__name__
            raise ValueError(
                f"tracking.uri: must name a reachable MLflow server ({reason}), but got {uri!r}."
            ) from None
    elif parsed.scheme not in ("sqlite", "postgresql", "mysql", "file", "databricks"):
        raise ValueError(
            f"tracking.uri: must be sqlite:///, http(s):// or a database URI, but got {uri!r}."
        )


def ensure_experiment(uri: str, name: str, artifact_root: Path) -> str:
    """Experiment id; artifacts go to an absolute folder so workers in any cwd find it."""
    import mlflow

    mlflow.set_tracking_uri(uri)
    client = mlflow.MlflowClient(uri)
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        return experiment.experiment_id
    parsed = urlparse(uri)
    location = None if parsed.scheme in ("http", "https") else artifact_root.resolve().as_uri()
    experiment_id = client.create_experiment(name, artifact_location=location)
    _experiment_kind(client, experiment_id)
    return experiment_id


def start_parent(uri: str, experiment_id: str, study: str, run_id: str | None) -> str:
    """Create (or reopen) the study's parent run; returns its id."""
    import mlflow

    client = mlflow.MlflowClient(uri)
    if run_id is None:
        run = client.create_run(
            experiment_id,
            run_name=study,
            tags={STUDY_TAG: study, "mlflow.source.git.commit": git_commit()},
        )
        return run.info.run_id
    client.update_run(run_id, status="RUNNING")
    return run_id


def architecture_tags(cfg) -> dict[str, str]:
    """The trial's architecture as readable tags (a trial config, :class:`TrialConfig`)."""
    net = cfg.forward
    return {
        "scalefree.stages": str(net.stages),
        "scalefree.filters": "/".join(str(f) for f in net.filters),
        "scalefree.fc": str(net.fc),
        "scalefree.inverse_mode": cfg.inverse.mode,
        "scalefree.inverse_l2": f"{cfg.inverse_net.l2:.2g}",
        "scalefree.bonds": str(net.bonds).lower(),
    }


def trial_name(cfg, trial_id: str) -> str:
    """Run name that says what the trial is, e.g. ``p2-16x32-fc128-hybrid-bonds-d76b7b92``."""
    net = cfg.forward
    filters = "x".join(str(f) for f in net.filters)
    bonds = "-bonds" if net.bonds else ""
    return f"p{net.stages}-{filters}-fc{net.fc}-{cfg.inverse.mode}{bonds}-{trial_id}"


def trial_run(
    uri: str,
    experiment_id: str,
    parent_id: str,
    study: str,
    trial_id: str,
    tags: dict,
    *,
    run_name: str | None = None,
) -> tuple[str, bool]:
    """The trial's nested run and whether it already FINISHED.

    An existing run for ``trial_id`` is continued (a resumed or retried trial); a finished one is
    left untouched, so a trial that completed just before a crash is never run twice.
    """
    import mlflow

    client = mlflow.MlflowClient(uri)
    found = client.search_runs(
        [experiment_id],
        filter_string=f"tags.`{TRIAL_TAG}` = '{trial_id}' and tags.`mlflow.parentRunId` = '{parent_id}'",
        max_results=1,
    )
    if found:
        run = found[0]
        if run.info.status == "FINISHED":
            return run.info.run_id, True
        client.update_run(run.info.run_id, status="RUNNING")
        for key, value in tags.items():
            client.set_tag(run.info.run_id, key, value)
        return run.info.run_id, False
    all_tags = {TRIAL_TAG: trial_id, STUDY_TAG: study, "mlflow.parentRunId": parent_id, **tags}
    run = client.create_run(experiment_id, run_name=run_name or trial_id, tags=all_tags)
    return run.info.run_id, False


def log_flat_params(client, run_id: str, flat: dict) -> None:
    """Params are write-once in MLflow: log only keys the run does not have yet."""
    from mlflow.entities import Param

    have = client.get_run(run_id).data.params
    params = [Param(k, str(v)) for k, v in flat.items() if k not in have]
    for start in range(0, len(params), 100):
        client.log_batch(run_id, params=params[start : start + 100])


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


MODEL_TRAINING_KIND = "custom_model_development"  # MLflow 3's experiment kind for runs, not traces


def _experiment_kind(client, experiment_id: str) -> None:
    """MLflow 3 opens an experiment on its GenAI overview unless the experiment says it holds
    model-training runs (tag ``mlflow.experimentKind``): say so, so the runs table comes first."""
    client.set_experiment_tag(experiment_id, "mlflow.experimentKind", MODEL_TRAINING_KIND)


def ui_workers() -> int:
    """Web workers for the UI: one per two cores, 1 to 4 (MLflow's default is 4 on any machine)."""
    return max(1, min(4, (os.cpu_count() or 1) // 2))


def serve_ui(study: str | None, *, port: int = 5000) -> int:
    """Serve the MLflow UI on the tracking store of ``study`` (or the default store).

    Prints a direct link to the study's runs table. The server runs in a process group of its
    own without MLflow's job runner (scalefree starts no jobs); SIGTERM or Ctrl-C stops the whole
    group, so no worker is left holding the port.
    """
    import signal

    uri, link = resolve_uri(""), ""
    if study:
        from study.directory import read_study

        info = read_study(study)
        uri = info["tracking_uri"]
        link = f"#/experiments/{info['experiment_id']}/runs"
    if urlparse(uri).scheme in ("http", "https"):
        print(f"the study logs to a server: open {uri.rstrip('/')}/{link}")
        return 0
    if study:
        import mlflow

        _experiment_kind(mlflow.MlflowClient(uri), info["experiment_id"])
    cmd = [sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", uri]
    cmd += ["--port", str(port), "--workers", str(ui_workers())]
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    server = subprocess.Popen(cmd, env=env, start_new_session=True)
    print(f"MLflow UI for {uri}: http://127.0.0.1:{port}/{link}", flush=True)

    def stop(signum, _frame) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        return server.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
        _stop_group(server)


def _stop_group(process: subprocess.Popen) -> None:
    """SIGTERM to the server's whole process group, SIGKILL to what is left after 10 s."""
    import signal
    import time

    for sig, grace in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        deadline = time.monotonic() + grace
        try:
            os.killpg(process.pid, sig)
            while time.monotonic() < deadline:
                process.poll()  # reap the leader, or the group never empties
                os.killpg(process.pid, 0)
                time.sleep(0.2)
        except ProcessLookupError:
            return
