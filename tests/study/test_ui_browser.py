"""The study in a real browser: the links `scalefree ui` prints open MLflow's model-training views
on the study's columns (headless Chromium through Playwright; skipped where neither is installed:
`apt-get install -y chromium`, and Playwright comes with the dev extra)."""

import shutil
import sys
from pathlib import Path

import pytest
from studyutil import cli, write_tiny

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "docs" / "ui"))

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    pytest.importorskip("playwright")
    if not shutil.which("chromium"):
        pytest.skip("no chromium on this machine (apt-get install -y chromium)")
    import os

    cwd = tmp_path_factory.mktemp("ui")
    proc = cli(["launch", str(write_tiny(cwd)), "--name", "tiny"], cwd)
    assert proc.returncode == 0, proc.stderr[-3000:]
    here = Path.cwd()
    os.chdir(cwd)  # `scalefree ui` reads ./studies
    try:
        import signal

        from screenshots import serve, shoot

        server, links = serve("tiny", 5091)
        try:
            texts = shoot(links, cwd)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(30)
    finally:
        os.chdir(here)
    return cwd, links, texts


def test_the_printed_links_open_model_training_not_genai(shots):
    # Rule: MLflow 3's UI defaults to its GenAI views (Judges, Prompts, an assistant); the links
    # scalefree prints ask for the model-training ones.
    _, links, texts = shots
    for name in ("runs", "parent"):
        assert "workflowType=machine_learning" in links[name]
        for genai in ("Judges", "Prompts", "Agent versions"):
            assert genai not in texts[name], (name, genai)
        assert "Models" in texts[name]


def test_the_runs_table_shows_the_study_s_columns_and_trials(shots):
    cwd, _, texts = shots
    for column in ("validated_skill", "alpha_lo", "alpha_hi", "collapsed"):
        assert column in texts["runs"], column
    assert "p1-" in texts["runs"] or "p2-" in texts["runs"]  # the trials, expanded under the study
    assert "Study tiny" in texts["parent"]  # the parent's Markdown description, rendered
    assert (cwd / "runs.png").stat().st_size > 20_000
