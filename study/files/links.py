"""How a study's runs are named and found in MLflow's UI: run names and architecture tags, the
links ``scalefree ui`` and ``status`` print, and the runs-table view those links open."""

from __future__ import annotations

import re

from study.files.tracking import CONFIRMS_TAG, PARETO_TAG, STUDY_TAG

__all__ = ["WORKFLOW", "view_key", "ui_links", "runs_view", "architecture_tags", "trial_name"]


# MLflow 3's UI keeps a workflow type per browser (GenAI by default) and reads it from this URL
# parameter first: every link scalefree prints asks for the model-training views.
WORKFLOW = "workflowType=machine_learning"


def view_key(study: str) -> str:
    """The shared-view key of a study's runs table."""
    return f"scalefree-{re.sub(r'[^A-Za-z0-9_.-]', '-', study)}"


def ui_links(base: str, experiment_id: str, study: str, parent_run_id: str) -> dict[str, str]:
    """Full URLs of the study in the MLflow UI at ``base`` (``http://127.0.0.1:5000``): ``runs``,
    its runs table with the study's columns and filter (:meth:`Tracker.share_view`), and
    ``parent``, the study's parent run; both in the model-training workflow."""
    base = base.rstrip("/")
    return {
        "runs": f"{base}/#/experiments/{experiment_id}/runs?{WORKFLOW}&viewStateShareKey="
        f"{view_key(study)}",
        "parent": f"{base}/#/experiments/{experiment_id}/runs/{parent_run_id}?{WORKFLOW}",
    }


def runs_view(study: str, objectives) -> dict:
    """The runs-table view of a study: its runs only, with the objectives, α's interval, the
    validated skill, the collapse flag and the Pareto and confirmation marks as columns (few
    enough to fit a laptop's screen beside the run names; MLflow orders them itself)."""
    metrics = list(
        dict.fromkeys(
            [
                *objectives,
                "validated_skill",
                "alpha",
                "alpha_lo",
                "alpha_hi",
                "collapsed",
            ]
        )
    )
    columns = [f"metrics.`{m}`" for m in metrics]
    columns += [f"tags.`{PARETO_TAG}`", f"tags.`{CONFIRMS_TAG}`"]
    return {"searchFilter": f"tags.`{STUDY_TAG}` = '{study}'", "selectedColumns": columns}


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
