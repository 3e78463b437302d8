"""Intervals cover known answers about as often as they say, and difference verdicts follow them."""

import math

import numpy as np
import pytest

from analysis.uncertainty import (
    RESOLVED,
    TOO_FEW,
    WITHIN_NOISE,
    Interval,
    alpha_interval,
    difference_interval,
    gain_interval,
    seed_interval,
    slope_interval,
)

ALPHA = 3.5


def _pareto_structures(rng, n: int, alpha: float, side: int = 4) -> np.ndarray:
    """(n, 2, side, side) displacements whose magnitudes are Pareto(alpha) above 0.1."""
    r = 0.1 * (1 - rng.random((n, side, side))) ** (-1 / (alpha - 1))
    theta = rng.random((n, side, side)) * 2 * np.pi
    return np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1)


def test_alpha_interval_covers_a_known_exponent_about_as_often_as_it_says():
    # Rule: a 95 % bootstrap interval of α over structures holds the true α of Pareto data in
    # about 95 % of independent samples (60 samples: a binomial sd of 2.8 points).
    rng = np.random.default_rng(1)
    hits = [_covers(rng, k) for k in range(60)]
    assert 0.85 <= np.mean(hits) <= 1.0, np.mean(hits)


def _covers(rng, k: int) -> bool:
    interval = alpha_interval(_pareto_structures(rng, 40, ALPHA), n_boot=80, seed=k)
    assert interval.made and interval.n == 40 and interval.low < interval.high
    return interval.low <= ALPHA <= interval.high


def test_alpha_interval_narrows_with_more_structures():
    rng = np.random.default_rng(2)
    few = alpha_interval(_pareto_structures(rng, 20, ALPHA), n_boot=100, seed=0)
    many = alpha_interval(_pareto_structures(rng, 320, ALPHA), n_boot=100, seed=0)
    assert many.high - many.low < 0.5 * (few.high - few.low)


def test_alpha_interval_of_one_structure_is_not_made():
    # One structure cannot be resampled: no interval rather than a zero-width one.
    one = alpha_interval(_pareto_structures(np.random.default_rng(3), 1, ALPHA, side=16))
    assert not one.made and one.verdict == TOO_FEW


def test_gain_interval_covers_a_known_geometric_mean():
    # Per-pair ratios lognormal around a gain of 10: the interval of the geometric mean over
    # 16 pairs holds 10 in about 95 % of samples.
    rng = np.random.default_rng(4)
    hits = []
    for k in range(200):
        ratios = 10.0 ** rng.normal(1.0, 0.5, size=16)
        interval = gain_interval(ratios, n_boot=400, seed=k)
        hits.append(interval.low <= 10.0 <= interval.high)
    assert 0.88 <= np.mean(hits) <= 0.99, np.mean(hits)


def test_gain_interval_rejects_non_ratios():
    with pytest.raises(ValueError, match=r"per_pair must be finite ratios > 0"):
        gain_interval(np.array([1.0, -2.0]))


def test_seed_interval_is_the_t_interval_and_needs_two_seeds():
    values = np.array([6.2, 8.7, 16.9])  # one architecture's α over three seeds
    interval = seed_interval(values)
    half = 4.303 * values.std(ddof=1) / math.sqrt(3)  # t(0.975, 2) = 4.303
    assert interval.low == pytest.approx(values.mean() - half, rel=1e-3)
    assert interval.high == pytest.approx(values.mean() + half, rel=1e-3)
    assert not seed_interval(np.array([7.0, math.nan])).made


def test_bounded_seed_interval_covers_the_centre_and_never_leaves_the_range():
    # Known answer: α − 1 lognormal across seeds with median 5 (α's centre 6), three seeds a
    # configuration, spread as wide as one architecture's measured α (6.2 to 16.9).
    rng = np.random.default_rng(11)
    draws = 1.0 + 5.0 * np.exp(rng.normal(0.0, 0.6, size=(4000, 3)))
    bounded = [seed_interval(d, lower=1.0) for d in draws]
    plain = [seed_interval(d) for d in draws]
    coverage = np.mean([i.low <= 6.0 <= i.high for i in bounded])
    assert 0.935 <= coverage <= 0.965, coverage  # exact for a normal log(α − 1)
    assert all(i.low > 1.0 for i in bounded)
    assert np.mean([i.low < 1.0 for i in plain]) > 0.05  # what the plain t interval does
    # Values at the bound cannot be logged: the plain interval, cut at the bound.
    cut = seed_interval(np.array([0.0, 0.1, 2.0]), lower=0.0)
    assert cut.low == 0.0 and cut.high == pytest.approx(seed_interval([0.0, 0.1, 2.0]).high)


def test_difference_of_levels_is_resolved_only_beyond_the_spread():
    rng = np.random.default_rng(5)
    apart = [
        [rng.normal(10, 1, 3).tolist() for _ in range(4)],
        [rng.normal(5, 1, 3).tolist() for _ in range(4)],
    ]
    diff, interval = difference_interval(*apart)
    assert diff == pytest.approx(5, abs=1.5) and interval.verdict == RESOLVED
    close = [
        [rng.normal(10, 3, 3).tolist() for _ in range(3)],
        [rng.normal(10, 3, 3).tolist() for _ in range(3)],
    ]
    _, interval = difference_interval(*close)
    assert interval.verdict == WITHIN_NOISE


def test_difference_interval_covers_a_null_difference_at_the_sizes_studies_have():
    # Known answer 0: two levels of 2, 3 or 4 trials (a configuration's seeds scatter around
    # its own centre, configurations scatter around the level's). A bootstrap over trials covered
    # 69 %, 80 %, 86 % here; the claim is 95 %, and "resolved" must not be said more often.
    rng = np.random.default_rng(1)
    for n in (2, 3, 4):
        hits = []
        for _ in range(600):
            a, b = (
                [(rng.normal() + rng.normal(0, 0.5, 2)).tolist() for _ in range(n)]
                for _ in range(2)
            )
            hits.append(difference_interval(a, b)[1].verdict == WITHIN_NOISE)
        assert 0.93 <= np.mean(hits) <= 0.995, (n, np.mean(hits))


def test_difference_needs_two_trials_a_side():
    # One trial on a side is no evidence of that level's spread, however many seeds it has.
    diff, interval = difference_interval([[7.0]], [[5.0], [6.0], [5.5]])
    assert diff == pytest.approx(1.5) and interval.verdict == TOO_FEW
    assert not difference_interval([[7.0, 7.5]], [[5.0], [6.0]])[1].made
    assert difference_interval([[7.0], [7.5]], [[5.0], [6.0]])[1].made


def test_overlap_and_exp10():
    a, b = Interval(1.0, 2.0, 5), Interval(1.5, 3.0, 5)
    assert a.overlaps(b) and not a.overlaps(Interval(2.5, 3.0, 5))
    assert Interval(0.0, 1.0, 3).exp10() == Interval(1.0, 10.0, 3)


def test_the_reference_preset_attacks_enough_pairs_to_see_the_papers_robustness():
    # Rule: with score.n_attacked of the reference preset, a gain of the paper's size (each pair
    # 10²–10⁴ more robust: log10 ratios around 2, spread 0.7) gives an interval above 1 nearly
    # always; so a reference trial whose interval holds 1 has no such effect.
    from study.files.config import load_config

    pairs = load_config("reference").trial.score.n_attacked
    rng = np.random.default_rng(6)
    above = [
        gain_interval(10.0 ** rng.normal(2.0, 0.7, size=pairs), n_boot=400, seed=k).low > 1
        for k in range(100)
    ]
    assert pairs >= 8 and np.mean(above) >= 0.98


def test_slope_interval_covers_a_known_slope_and_needs_distinct_trials():
    # Known answer: trial means on a line of slope 2 in log10(L2), seeds scattered around them,
    # at a study's size (6 trials).
    rng = np.random.default_rng(5)
    hits = []
    for _ in range(600):
        x = rng.uniform(-5, -1, size=6)
        groups = [2.0 * xi + rng.normal(0, 1.0) + rng.normal(0, 0.5, size=2) for xi in x]
        slope, interval = slope_interval(x, groups)
        hits.append(interval.low <= 2.0 <= interval.high)
    assert 0.93 <= np.mean(hits) <= 0.975, np.mean(hits)
    assert slope_interval([1.0, 1.0, 1.0], [[1.0], [2.0], [3.0]])[1].made is False
    slope, interval = slope_interval([1.0, 2.0], [[1.0], [3.0]])
    assert slope == pytest.approx(2.0) and not interval.made  # two points: a line, no spread
    slope, interval = slope_interval([0.1, 0.4, 0.7], [[0.0], [1.0], [2.0]])
    assert interval.low == pytest.approx(slope) == pytest.approx(interval.high)  # exact line


def _configurations(rng, ratio: float, n_conf: int, seeds) -> tuple[float, list]:
    """Normal configurations with between/within variance ``ratio``: (true ICC, groups)."""
    centres = rng.normal(0, math.sqrt(ratio), n_conf)
    sizes = seeds if isinstance(seeds, list) else [seeds] * n_conf
    return ratio / (ratio + 1), [
        c + rng.normal(0, 1, k) for c, k in zip(centres, sizes, strict=False)
    ]


def test_icc_interval_covers_a_known_ratio_at_the_nominal_rate():
    # Rule: ICC(1)'s F interval holds the true share of between-configuration variance about 95 %
    # of the time: balanced (4 seeds) and unbalanced (2-5 seeds) groups, 300 studies each.
    from analysis.uncertainty import icc1

    rng = np.random.default_rng(5)
    for seeds in (4, [2, 3, 4, 5, 2, 3]):
        hits = []
        for _ in range(300):
            true, groups = _configurations(rng, 1.0, 6, seeds)
            icc = icc1(groups)
            hits.append(icc.interval.low <= true <= icc.interval.high)
        assert 0.90 <= np.mean(hits) <= 0.99, (seeds, np.mean(hits))


def test_icc_is_the_anova_formula_and_tells_signal_from_seed():
    from analysis.uncertainty import icc1

    groups = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]
    # MSB = 3·((2−5)² + 0 + (8−5)²)/2 = 27, MSW = 1, k0 = 3: (27 − 1)/(27 + 2)
    icc = icc1(groups)
    assert icc.value == pytest.approx(26 / 29) and icc.k0 == 3 and icc.within_sd == 1
    assert icc.configurations == 3 and icc.runs == 9
    rng = np.random.default_rng(6)
    noise = icc1([rng.normal(0, 1, 3) for _ in range(8)])  # seed only: ICC near 0
    assert noise.interval.low < 0.2 and noise.value < 0.5
    assert math.isnan(icc1([[1.0, 2.0], [3.0]]).value)  # one configuration with two runs


def test_seeds_for_power_matches_the_textbook_sample_size():
    # A difference of one sd needs 17 per group for 80 % power at 5 % (two-sample t); half an sd
    # 64 (Cohen's tables); none at all: NaN.
    from analysis.uncertainty import seeds_for_power

    assert seeds_for_power(1.0, 1.0) == 17
    assert seeds_for_power(-0.5, 1.0) == 64
    assert math.isnan(seeds_for_power(0.0, 1.0))
    assert seeds_for_power(1e-4, 1.0) == math.inf


def test_pairing_takes_out_what_the_seeds_share():
    # Rule: two levels measured on the same seeds, where every seed shifts both alike: the paired
    # interval of the difference is the t interval of the per-seed differences, far narrower than
    # Welch's over the same numbers, which counts the seeds' shared shift as noise.
    from analysis.uncertainty import difference_interval, paired_interval

    seeds = np.array([0.0, 5.0, -4.0, 9.0])
    a, b = 10 + seeds, 11 + seeds + np.array([0.1, -0.1, 0.05, -0.05])
    diff, paired = paired_interval(a, b)
    assert diff == pytest.approx(1.0) and paired.low > 0.7 and paired.high < 1.3
    _, welch = difference_interval([[v] for v in b], [[v] for v in a])
    assert welch.low < 0 < welch.high  # unpaired: within noise
    assert not paired_interval([1.0], [2.0])[1].made  # one seed: no interval


def test_blocked_anova_is_fishers_two_way_f_test():
    # Levels 0, 1, 2 added to blocks with large effects of their own: the level effect stands out
    # once the blocks are taken out; without a level effect, p is large.
    from analysis.uncertainty import blocked_anova

    rng = np.random.default_rng(8)
    blocks = rng.normal(0, 5, 4)
    table = np.array([blocks + level + rng.normal(0, 0.1, 4) for level in (0, 1, 2)])
    f, p = blocked_anova(table)
    assert f > 50 and p < 1e-4
    flat = np.array([blocks + rng.normal(0, 0.1, 4) for _ in range(3)])
    assert blocked_anova(flat)[1] > 0.01
    assert math.isnan(blocked_anova([[1.0, 2.0]])[0])  # one level
