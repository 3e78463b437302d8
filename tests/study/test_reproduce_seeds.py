"""The reproduction over seeds: each verdict rule on constructed intervals, and rows combined."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time

import pytest

from analysis.uncertainty import Interval
from study.reproduce import VERDICTS
from study.reproduce.seeds import (
    TARGETS,
    TOO_FEW_SEEDS,
    Target,
    by_interval,
    combine,
    tally,
    with_condition,
)
from study.reproduce.table import Finding, Row

YES, PARTLY, NO = VERDICTS
NEAR = Target("alpha_band", 3.79, 0.5, lower=1.0)
AT_LEAST = Target("validated_accuracy", 0.791, 0.02, "above")


@pytest.mark.parametrize(
    ("low", "high", "target", "verdict"),
    [
        (3.5, 4.1, NEAR, YES),  # wholly inside 3.79 ± 0.5
        (3.3, 4.25, NEAR, YES),
        (4.4, 9.0, NEAR, NO),  # excludes the paper's value by more than the tolerance
        (1.2, 3.2, NEAR, NO),
        (2.0, 9.5, NEAR, TOO_FEW_SEEDS),  # straddling: holds the paper's value and clear misses
        (4.2, 5.0, NEAR, TOO_FEW_SEEDS),  # across the band's edge
        (0.78, 0.90, AT_LEAST, YES),  # wholly above 0.771 = paper − 2 points
        (0.70, 0.76, AT_LEAST, NO),
        (0.95, 0.97, AT_LEAST, YES),  # better than the paper is no miss
        (0.40, 1.06, AT_LEAST, TOO_FEW_SEEDS),  # two seeds' t interval: reaches both sides
        (math.nan, math.nan, NEAR, TOO_FEW_SEEDS),  # one seed: no interval
    ],
)
def test_an_interval_decides_a_number_claim(low, high, target, verdict):
    assert by_interval(Interval(low, high, 3), target) == verdict


def test_a_condition_most_seeds_miss_makes_a_reproduced_number_partly():
    assert with_condition(YES, True) == YES and with_condition(YES, False) == PARTLY
    assert with_condition(NO, True) == PARTLY and with_condition(NO, False) == NO
    assert with_condition(TOO_FEW_SEEDS, True) == TOO_FEW_SEEDS
    assert with_condition(NO, None) == NO


def test_a_tally_claim_needs_every_seed():
    assert tally([YES, YES, YES]) == YES
    assert tally([YES, NO, YES]) == PARTLY and tally([PARTLY, NO]) == PARTLY
    assert tally([NO, NO]) == NO and tally([]) == TOO_FEW_SEEDS


def _row(claim: str, verdict: str, metrics: dict) -> Row:
    return Row(
        claim, "rule", Finding("paper", "measured", "others", "base", verdict, "why", metrics)
    )


def test_one_seed_keeps_the_single_seed_rows():
    rows = [_row("alpha", YES, {"alpha_band": 3.8})]
    assert combine({0: rows}, ["alpha"]) == rows


def test_seeds_give_a_mean_an_interval_each_seed_and_the_interval_s_verdict():
    # α of three seeds 2.4, 9.5, 7.4 (one configuration of the reference study), heavy in all:
    # the log interval [1.4, 48] holds 3.79 and 20 alike: too few seeds to tell
    per_seed = {
        s: [_row("alpha", NO, {"alpha_band": a, "heavy_band": 1.0})]
        for s, a in enumerate((2.4, 9.5, 7.4))
    }
    (row,) = combine(per_seed, ["alpha"])
    assert row.verdict == TOO_FEW_SEEDS
    assert "α 6.43 [1.38, 48.2]" in row.measured and "(seeds: 2.4, 9.5, 7.4)" in row.measured
    assert "seed 0: not reproduced" in row.measured
    assert row.metrics["alpha_band_lo"] > 1 and row.metrics["seed2/alpha_band"] == 7.4
    # the same numbers from tails mostly beyond the training range: not heavy, so only partly
    flung = {s: [_row("alpha", NO, {"alpha_band": a, "heavy_band": 0.0})] for s, a in
             enumerate((3.7, 3.8, 3.9))}  # fmt: skip
    assert combine(flung, ["alpha"])[0].verdict == PARTLY


def test_a_tail_claim_shows_its_fixed_share_measures_and_heavy_seeds_beside_the_verdict():
    # Rule: the 1-pool/3-pool row shows each net's α_hill and ξ over seeds with an interval and
    # counts the seeds whose tail is heavy inside the training range; they decide nothing
    per_seed = {
        s: [
            _row(
                "one_pool",
                NO,
                {
                    "alpha_1pool": a1,
                    "alpha_3pool": 8.0,
                    "one_pool_heavy": 0.0,
                    "heavy_1pool": h1,
                    "heavy_3pool": 0.0,
                    "alpha_hill_1pool": a1 + 0.5,
                    "alpha_hill_3pool": 9.0 + s,
                    "tail_xi_1pool": 0.1 * s,
                    "tail_xi_3pool": -0.2,
                    "off_range_1pool": 0.0,
                },
            )
        ]
        for s, (a1, h1) in enumerate(((4.0, 1.0), (5.0, 0.0), (4.5, 1.0)))
    }
    (row,) = combine(per_seed, ["one_pool"])
    assert "1-pool heavy inside the training range in 2/3 seeds" in row.measured
    assert "3-pool heavy inside the training range in 0/3 seeds" in row.measured
    assert "3-pool α_hill 10 [" in row.measured and "(seeds: 9, 10, 11)" in row.measured
    assert "1-pool ξ 0.1 [" in row.measured and "(seeds: 0, 0.1, 0.2)" in row.measured


def test_a_seed_that_reproduced_is_not_explained_as_a_miss():
    # Rule: a row's why explains a miss; over seeds, a seed that reproduced says only that
    per_seed = {
        0: [_row("alpha", YES, {"alpha_band": 3.8, "heavy_band": 1.0})],
        1: [_row("alpha", NO, {"alpha_band": 9.0, "heavy_band": 0.0})],
    }
    (row,) = combine(per_seed, ["alpha"])
    assert row.why == "seed 0: reproduced; seed 1: why"


def test_a_comparison_claim_gets_welch_over_seeds():
    # 1-pool minus 3-pool exponent, paper +0.30: far apart in every seed → not reproduced
    per_seed = {
        s: [_row("one_pool", NO, {"alpha_1pool": a1, "alpha_3pool": a3, "one_pool_heavy": 1.0})]
        for s, (a1, a3) in enumerate(((12.0, 4.0), (13.0, 4.5), (12.5, 3.8)))
    }
    (row,) = combine(per_seed, ["one_pool"])
    assert TARGETS["one_pool"].other == "alpha_3pool"
    assert row.verdict == PARTLY  # the difference misses, the heavy condition holds
    assert "α₁ − α₃ 8.4" in row.measured and "Welch" in row.rule


SMOKE = ["reproduce", "--scale", "smoke", "--seeds", "2", "--out", "run"]


def _cli(args, cwd, **kwargs):
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    env["PYTHONUNBUFFERED"] = "1"
    return subprocess.Popen(
        [sys.executable, "-m", "study.cli", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        # as in a terminal: a child of a background job inherits SIGINT ignored otherwise
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        **kwargs,
    )


def _runs_done(results) -> int:
    return len(list(results.rglob("*.pkl")))


def _wait_for_runs(driver, results, count: int) -> None:
    deadline = time.time() + 600
    while time.time() < deadline and _runs_done(results) < count:
        assert driver.poll() is None, driver.stdout.read()[-3000:]
        time.sleep(0.5)


@pytest.mark.slow
def test_smoke_reproduction_over_two_seeds_survives_ctrl_c_and_kill_9_and_shows_intervals(
    tmp_path,
):
    # Rule: the same command after Ctrl-C or kill -9 loads the runs that finished and runs only
    # the rest; Ctrl-C stops at the next progress line with one line saying so; the report
    # counts every sitting's time; the measured column holds each claim's interval over seeds.
    results = tmp_path / "run" / "results"
    driver = _cli(SMOKE, tmp_path)
    _wait_for_runs(driver, results, 2)
    os.killpg(driver.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    try:
        out, _ = driver.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(driver.pid, signal.SIGKILL)
        pytest.fail("Ctrl-C: the reproduction did not stop within 120 s")
    assert driver.returncode == 130, out[-3000:]
    assert out.rstrip().splitlines()[-1] == (
        "scalefree: interrupted; the same `scalefree reproduce` command continues where this "
        "stopped"
    ), out[-3000:]
    first = _runs_done(results)
    assert 2 <= first < 8

    driver = _cli(SMOKE, tmp_path)
    _wait_for_runs(driver, results, first + 1)
    os.killpg(driver.pid, signal.SIGKILL)
    driver.wait()
    before = _runs_done(results)
    assert first < before < 8

    again = _cli(SMOKE, tmp_path)
    out, _ = again.communicate(timeout=900)
    assert again.returncode == 0, out[-3000:]
    assert f"{before} finished runs loaded; {8 - before} to run" in out
    assert "continuing" in out
    text = (tmp_path / "run" / "reproduction.md").read_text()
    assert "mean [95 % interval] over 2 seeds" in text
    assert "(seeds: " in text and "--seeds 2" in text
    assert _runs_done(results) == 8
    sittings = json.loads((tmp_path / "run" / "sittings.json").read_text())
    assert len(sittings) == 3 and all(s["seconds"] > 0 for s in sittings)
    assert "over 3 sittings" in text
    every = text.split("## Every seed", 1)[1].split("##", 1)[0]  # a line per run and seed
    assert sum(line.startswith("| 3-pool surrogate | ") for line in every.splitlines()) == 2
    assert (tmp_path / "run" / "figures" / "seed_spread.png").stat().st_size > 10_000
