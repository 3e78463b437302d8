"""``scalefree ui``: the MLflow UI on a study's tracking store, opened on its runs table."""

from __future__ import annotations

import os
import subprocess
import sys
from urllib.parse import urlparse

from study.files.links import WORKFLOW, runs_view, ui_links, view_key
from study.files.tracking import Tracker, redact, resolve_uri

__all__ = ["serve_ui", "ui_workers"]


def ui_workers() -> int:
    """Web workers for the UI: one per two cores, 1 to 4 (MLflow's default is 4 on any machine)."""
    return max(1, min(4, (os.cpu_count() or 1) // 2))


def serve_ui(study: str | None, *, port: int = 5000) -> int:
    """Serve the MLflow UI on the tracking store of ``study`` (or the default store).

    Prints full links to the study's runs table (its columns and filter stored as an MLflow
    shared view) and to its parent run, both in MLflow's model-training workflow. The server runs in a process group of its
    own without MLflow's job runner (scalefree starts no jobs); SIGTERM or Ctrl-C stops the whole
    group, so no worker is left holding the port.
    """
    import signal

    uri, info = resolve_uri(""), None
    if study:
        from study.files.directory import read_study

        info = read_study(study)
        uri = info.tracking_uri
    remote = urlparse(uri).scheme in ("http", "https")
    base = redact(uri).rstrip("/") if remote else f"http://127.0.0.1:{port}"
    if info is not None:
        _prepare(info)
        links = ui_links(base, info.experiment_id, info.name, info.parent_run_id)
    else:
        links = {"runs": f"{base}/#/?{WORKFLOW}"}
    if remote:
        print(f"the study logs to a server: open {links['runs']}")
        return 0
    cmd = [sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", uri]
    cmd += ["--port", str(port), "--workers", str(ui_workers())]
    # uvicorn's access and start-up lines and Starlette's deprecation warnings are the server's
    # business: the command prints its links and nothing else
    cmd += ["--uvicorn-opts", "--log-level warning --no-access-log"]
    env = {
        **os.environ,
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        "PYTHONWARNINGS": "ignore",
    }
    server = subprocess.Popen(cmd, env=env, start_new_session=True)
    print(f"MLflow UI for {redact(uri)}: {links['runs']}", flush=True)
    if "parent" in links:
        print(f"the study's answers (its parent run): {links['parent']}", flush=True)

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


def _prepare(info) -> None:
    """The experiment opens as model training, and the study's runs-table view is stored."""
    from study.files.config import load_config

    tracker = Tracker(info.tracking_uri)
    tracker.mark_model_training(info.experiment_id)
    cfg = load_config(str(info.dir / "config.yaml"))
    tracker.share_view(
        info.experiment_id, view_key(info.name), runs_view(info.name, cfg.search.objectives)
    )


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
