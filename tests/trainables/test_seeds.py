"""A configuration's numbers over its seeds: means, spreads and every seed kept."""

import math

import numpy as np
import pytest

from trainables.seeds import SUMMARISED, combine, seed_prefix


def _seed(alpha: float, skill: float, collapsed: float = 0.0, verdict: str = "not heavy") -> dict:
    return {
        "alpha": alpha,
        "validated_skill": skill,
        "alpha_lo": alpha - 1,  # a bootstrap interval over structures
        "alpha_hi": alpha + 1,
        "collapsed": collapsed,
        "alpha_verdict": verdict,
        "compute_seconds": 10.0,
        "compute_start": 100.0 + alpha,
        "compute_end": 110.0 + alpha,
    }


def test_one_seed_is_reported_as_it_is():
    # Rule: one seed keeps its own numbers, names and bootstrap interval; nothing is prefixed.
    only = _seed(8.7, 0.42)
    assert combine({0: only}) == only | {"n_seeds": 1}
    assert seed_prefix(0, 1) == ""


def test_seeds_give_mean_standard_error_interval_and_every_seed():
    per_seed = {0: _seed(16.9, 0.437), 1: _seed(6.2, 0.404), 2: _seed(8.7, 0.421)}
    out = combine(per_seed)
    alphas = np.array([16.9, 6.2, 8.7])
    assert out["n_seeds"] == 3 and out["alpha"] == pytest.approx(alphas.mean())
    assert out["alpha_se"] == pytest.approx(alphas.std(ddof=1) / math.sqrt(3))
    # The configuration's interval is over seeds (t, 2 dof), not the seeds' bootstrap intervals:
    # on log(α − 1) for α, which is bounded below; plain t for skill, which is not.
    logs = np.log(alphas - 1)
    half = 4.303 * logs.std(ddof=1) / math.sqrt(3)
    assert out["alpha_lo"] == pytest.approx(1 + math.exp(logs.mean() - half), rel=1e-3)
    assert out["alpha_hi"] == pytest.approx(1 + math.exp(logs.mean() + half), rel=1e-3)
    assert 1 < out["alpha_lo"] < out["alpha"] < out["alpha_hi"]
    # |α − target| sits near its bound 0: plain t, cut at 0 (a log interval would explode).
    near = combine({s: {"alpha_error": e} for s, e in enumerate((0.1, 0.2, 2.5))})
    half = 4.303 * np.std([0.1, 0.2, 2.5], ddof=1) / math.sqrt(3)
    assert near["alpha_error_lo"] == 0.0
    assert near["alpha_error_hi"] == pytest.approx(np.mean([0.1, 0.2, 2.5]) + half, rel=1e-3)
    skills = np.array([0.437, 0.404, 0.421])
    assert out["validated_skill_lo"] == pytest.approx(
        skills.mean() - 4.303 * skills.std(ddof=1) / math.sqrt(3), rel=1e-3
    )
    assert {f"seed{s}/alpha" for s in range(3)} <= set(out)
    assert out["seed1/alpha"] == 6.2 and out["seed1/alpha_lo"] == 5.2
    assert set(SUMMARISED) >= {"alpha", "validated_skill"} and "validated_skill_se" in out
    # Compute time adds up; the interval spans all seeds; no per-seed interval bookkeeping.
    assert out["compute_seconds"] == 30.0 and out["compute_start"] == 106.2
    assert out["compute_end"] == 126.9 and "seed0/compute_start" not in out


def test_a_collapsed_seed_collapses_the_configuration_and_verdicts_are_counted():
    out = combine({3: _seed(5.0, 0.1, verdict="heavy"), 4: _seed(9.0, 0.3, collapsed=1.0)})
    assert out["collapsed"] == 1.0
    assert out["alpha_verdict"] in ("heavy 1/2, not heavy 1/2", "not heavy 1/2, heavy 1/2")


def test_nothing_to_combine_is_an_error():
    with pytest.raises(ValueError, match="at least one seed"):
        combine({})
