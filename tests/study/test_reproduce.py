"""``scalefree reproduce`` at smoke scale: a complete paper-vs-measured table, figures, MLflow run."""

from __future__ import annotations

import re

import pytest

from study.reproduce import CLAIMS, EXPERIMENT, RUNS, VERDICTS, reproduce, reproduction_configs

COLUMNS = 6


@pytest.fixture(scope="module")
def smoke_run(ray_session, tmp_path_factory):
    """One smoke-scale reproduction in a scratch directory with its own SQLite tracking store."""
    cwd = tmp_path_factory.mktemp("reproduce")
    uri = f"sqlite:///{cwd / 'mlflow.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(cwd)
        patch.setenv("MLFLOW_TRACKING_URI", uri)
        directory = reproduce(scale="smoke", out_dir=cwd / "run")
    return directory, uri


def _table(markdown: str) -> list[list[str]]:
    """Cells of the first markdown table (header and separator dropped)."""
    lines = markdown.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| claim |"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]])
    return rows


def test_every_claim_has_one_complete_row_with_an_allowed_verdict(smoke_run):
    # Rule: one row per paper claim, six non-empty cells, verdict from the allowed set.
    directory, _ = smoke_run
    rows = _table((directory / "reproduction.md").read_text())
    assert [r[0] for r in rows] == [claim.text for claim in CLAIMS]
    for row in rows:
        assert len(row) == COLUMNS and all(cell for cell in row), row
        assert row[-1].strip("*") in VERDICTS, row


def test_every_row_that_does_not_reproduce_is_explained(smoke_run):
    # Rule: each non-reproduced row gets an auto-generated reason line below the table.
    directory, _ = smoke_run
    text = (directory / "reproduction.md").read_text()
    misses = [r[0] for r in _table(text) if r[-1].strip("*") != VERDICTS[0]]
    reasons = text.split("## Why rows did not reproduce", 1)[1].split("## Verdict rules")[0]
    for claim in misses:
        assert f"**{claim}**" in reasons, claim
    for needle in ("git commit:", "scalefree reproduce --scale smoke", "wall time:"):
        assert needle in text


def test_linked_figures_exist_and_are_png(smoke_run):
    # Rule: every figure the report embeds is a non-empty PNG next to it.
    directory, _ = smoke_run
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", (directory / "reproduction.md").read_text())
    assert len(links) >= 10 + len(RUNS)
    for link in links:
        data = (directory / link).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n", link


def test_mlflow_run_has_the_report_figures_and_table_metrics(smoke_run):
    import mlflow

    directory, uri = smoke_run
    client = mlflow.MlflowClient(uri)
    experiment = client.get_experiment_by_name(EXPERIMENT)
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.status == "FINISHED" and run.data.tags["scalefree.scale"] == "smoke"
    top = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"reproduction.md", "figures", "runs"} <= top
    figures = {a.path for a in client.list_artifacts(run.info.run_id, "figures")}
    assert "figures/dr_ccdf.png" in figures or "figures/dr_histogram.png" in figures
    metrics = run.data.metrics
    for key in ("d2l_accuracy", "validated_accuracy", "robustness_gain", "hub_gini"):
        assert key in metrics, key
    assert f"{RUNS[1]}.validated_accuracy" in metrics


def test_scales_build_valid_configs_sharing_one_dataset():
    # Rule: every scale builds four valid trial configs over one dataset; 1-pool has one stage.
    for scale in ("smoke", "cpu", "paper"):
        configs = reproduction_configs(scale)
        assert tuple(configs) == RUNS
        assert len({c.trial.data for c in configs.values()}) == 1
        assert [c.trial.inverse.mode for c in configs.values()] == [
            "surrogate",
            "physics",
            "hybrid",
            "surrogate",
        ]
        assert configs["1pool-surrogate"].trial.forward.stages == 1
        assert configs["3pool-surrogate"].trial.forward.stages == 3
    paper = reproduction_configs("paper")["3pool-surrogate"].trial
    assert paper.forward.filters == (256, 512, 1024) and paper.forward.fc == 2048
    assert paper.inverse_net.l2 == 0.05 and paper.forward_train.batch_size == 10


def test_unknown_scale_is_rejected_by_name():
    with pytest.raises(ValueError, match=r"scale: must be one of .*'huge'"):
        reproduce(scale="huge")


def test_controls_table_has_every_control_with_numbers(smoke_run):
    # Rule: the controls (trivial designers, band populations, synthetic tails, ρa sweep) each get
    # one complete row, and their numbers are logged with the run.
    import mlflow

    from study.reproduce.controls import CONTROL_STRENGTHS

    directory, uri = smoke_run
    text = (directory / "reproduction.md").read_text()
    section = text.split("## Controls", 1)[1].split("## Verdict rules")[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == 1 + 4, rows  # header + four controls
    for row in rows[1:]:
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", row.strip())[1:-1]]
        assert len(cells) == 3 and all(cells), row
    client = mlflow.MlflowClient(uri)
    (run,) = client.search_runs([client.get_experiment_by_name(EXPERIMENT).experiment_id])
    metrics = run.data.metrics
    for strength in CONTROL_STRENGTHS:
        assert f"control_gain_rho{strength:g}" in metrics
    assert "control_synthetic_gain" in metrics and "control_band_targets_0" in metrics
