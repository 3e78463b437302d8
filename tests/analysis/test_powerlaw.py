"""Power-law fits recover known exponents and lower bounds (Clauset et al. 2009; paper Fig. 4g-1)."""

import warnings

import numpy as np
import powerlaw
import pytest

import analysis


def pareto(rng, alpha, n, xmin=1.0):
    """Continuous power law p(x) ∝ x^−α above xmin by inverse CDF."""
    return xmin * (1.0 - rng.random(n)) ** (-1.0 / (alpha - 1.0))


def with_body(rng, alpha, n, xmin=1.0):
    """Half the values from the power law above xmin, half uniform on [0.1·xmin, xmin)."""
    tail = pareto(rng, alpha, n // 2, xmin)
    return np.concatenate([tail, rng.uniform(0.1 * xmin, xmin, n - n // 2)]), tail.size


def reference_scan(x, *, min_tail):
    """Brute force, independent of the module: (xmin, α, D) over every distinct value in turn."""
    xs = np.sort(x)
    best = (np.nan, np.nan, np.inf)
    for u in np.unique(xs):
        tail = xs[xs >= u]
        if tail.size < min_tail:
            break
        alpha = 1.0 + tail.size / np.log(tail / u).sum()
        empirical = np.searchsorted(tail, tail, side="left") / tail.size  # fraction strictly below
        d = np.max(np.abs(1.0 - (tail / u) ** (1.0 - alpha) - empirical))
        if d < best[2]:
            best = (u, alpha, d)
    return best


@pytest.mark.parametrize("alpha", [1.5, 2.5, 3.79, 6.0])
@pytest.mark.parametrize("body", [False, True])
def test_recovers_planted_exponent_and_lower_bound(alpha, body):
    # 10⁵ samples: α within ±0.05 (σ ≈ (α−1)/√n_tail ≤ 0.02); xmin never cuts into the body and
    # keeps at least a quarter of the planted tail (the KS-optimal xmin of a pure power law
    # wanders upwards by chance, more so for shallow α).
    rng = np.random.default_rng(int(alpha * 100) + body)
    planted_xmin = 0.432
    if body:
        x, n_planted = with_body(rng, alpha, 100_000, planted_xmin)
    else:
        x, n_planted = pareto(rng, alpha, 100_000, planted_xmin), 100_000
    fit = analysis.fit_power_law(x, compare=False)
    assert abs(fit.alpha - alpha) < 0.05
    assert fit.xmin >= 0.98 * planted_xmin
    assert fit.n_tail >= 0.25 * n_planted
    assert fit.n == 100_000 and fit.n_tail == int((x >= fit.xmin).sum())
    assert fit.sigma == pytest.approx((fit.alpha - 1.0) / np.sqrt(fit.n_tail))
    assert fit.p_value is None and fit.comparisons == {}


def test_powerlaw_alpha_equals_closed_form_mle():
    # Two routes to α at the same xmin: powerlaw's (numerical above α = 3) and Clauset Eq. 3.1.
    x, _ = with_body(np.random.default_rng(1), 3.79, 20_000)
    fit = analysis.fit_power_law(x, compare=False)
    tail = x[x >= fit.xmin]
    assert fit.alpha == pytest.approx(1.0 + tail.size / np.log(tail / fit.xmin).sum(), abs=1e-3)


def test_powerlaw_default_range_would_clip_alpha_at_3():
    # The fact that motivates alpha_range: powerlaw 2.0 confines α to [0, 3] unless told otherwise.
    x = pareto(np.random.default_rng(2), 3.79, 5_000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        default = powerlaw.Fit(x, xmin=1.0, verbose=0).power_law.alpha
    assert default <= 3.0 + 1e-9
    assert analysis.fit_power_law(x, xmin=1.0, compare=False).alpha == pytest.approx(3.79, abs=0.15)


def test_fast_search_matches_brute_force_on_a_small_sample():
    # All distinct values are candidates when there are at most n_candidates: same xmin, α and D.
    x, _ = with_body(np.random.default_rng(3), 2.5, 800)
    fit = analysis.fit_power_law(x, min_tail=20, compare=False)
    xmin, alpha, d = reference_scan(x, min_tail=20)
    assert fit.xmin == xmin
    assert fit.alpha == pytest.approx(alpha, rel=1e-9)
    assert fit.ks_distance == pytest.approx(d, rel=1e-9)
    assert analysis.exhaustive_xmin(x, min_tail=20)[0] == xmin


def test_pruned_search_is_exact_over_its_candidates(monkeypatch):
    # Lower bounds on a coarse rank grid and branch and bound must not change the argmin.
    from analysis import xmin_search

    monkeypatch.setattr(xmin_search, "_RANK_RESOLUTION", 8)
    monkeypatch.setattr(xmin_search, "_SURVIVORS", 2)
    x, _ = with_body(np.random.default_rng(4), 3.79, 6_000)
    s = xmin_search.Sorted.of(x)
    idx, alpha = xmin_search.eligible(s, 50, (1.0, 20.0))
    idx, alpha = idx[::40], alpha[::40]  # candidates sparse enough for the pruned path
    i, a, d = xmin_search.branch_and_bound(s, idx, alpha)
    exact = [xmin_search.ks_exact(s, int(j), float(b)) for j, b in zip(idx, alpha, strict=True)]
    k = int(np.argmin(exact))
    assert (i, a) == (int(idx[k]), float(alpha[k]))
    assert d == exact[k]


def test_xmin_search_agrees_with_powerlaw_exhaustive_scan():
    # With the same admissible candidates (every value but the last, α range widened) powerlaw's
    # own O(n²) scan and ours pick the same xmin.
    x, _ = with_body(np.random.default_rng(5), 2.5, 400)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = powerlaw.Fit(x, parameter_ranges={"alpha": [1.0, 20.0]}, verbose=0)
    fit = analysis.fit_power_law(x, min_tail=2, compare=False)
    assert fit.xmin == reference.xmin
    assert fit.alpha == pytest.approx(reference.power_law.alpha, rel=1e-6)


def test_grid_search_is_close_to_exhaustive_minimum():
    # With fewer candidates than values the KS minimum can only be slightly worse.
    x, _ = with_body(np.random.default_rng(6), 3.79, 5_000)
    coarse = analysis.fit_power_law(x, n_candidates=100, compare=False)
    xmin, _, d = reference_scan(x, min_tail=50)
    assert coarse.ks_distance <= d + 0.01
    assert coarse.xmin == pytest.approx(xmin, rel=0.25)


def test_given_xmin_is_used_as_is():
    x, _ = with_body(np.random.default_rng(7), 3.79, 20_000)
    fit = analysis.fit_power_law(x, xmin=1.0, compare=False, n_boot=20)
    assert fit.xmin == 1.0 and fit.n_tail == int((x >= 1.0).sum())
    assert abs(fit.alpha - 3.79) < 0.1
    assert fit.p_value > 0.1  # synthetic sets fitted at the same fixed xmin


def test_comparisons_favour_power_law_over_exponential():
    # R > 0 favours the power law; a pure power law beats an exponential decisively, and the
    # nested truncated power law cannot be significantly better.
    x = pareto(np.random.default_rng(8), 2.5, 20_000)
    fit = analysis.fit_power_law(x, compare_max=5_000)
    assert set(fit.comparisons) == {"lognormal", "exponential", "truncated_power_law"}
    for r, p in fit.comparisons.values():
        assert np.isfinite(r) and 0.0 <= p <= 1.0
    r_exp, p_exp = fit.comparisons["exponential"]
    assert r_exp > 0 and p_exp < 1e-3
    assert fit.comparisons["truncated_power_law"][1] > 0.01


def test_bootstrap_p_value_separates_power_law_from_bounded_data():
    # Clauset §4.1: p is large for a true power law and ≈ 0 for a flat density on [1, 2] (a
    # lognormal is not used: its tail passes for a power law at this sample size).
    rng = np.random.default_rng(9)
    x, _ = with_body(rng, 2.5, 2_000)
    good = analysis.fit_power_law(x, n_boot=30, seed=1, compare=False)
    bad = analysis.fit_power_law(rng.uniform(1.0, 2.0, 2_000), n_boot=30, seed=1, compare=False)
    assert good.p_value > 0.1
    assert bad.p_value < 0.1


def test_ccdf_of_the_fit_starts_at_the_tail_fraction():
    x, _ = with_body(np.random.default_rng(10), 3.0, 5_000)
    fit = analysis.fit_power_law(x, compare=False)
    assert fit.ccdf(fit.xmin) == pytest.approx(fit.n_tail / fit.n)
    assert fit.ccdf(2 * fit.xmin) == pytest.approx(fit.n_tail / fit.n * 2 ** (1 - fit.alpha))


@pytest.mark.parametrize(
    "x, kwargs, match",
    [
        ([], {}, "x must not be empty"),
        ([1.0, np.nan, 2.0], {}, r"x must be finite, but got 1 NaN/inf values"),
        ([1.0, np.inf, 2.0], {}, r"x must be finite, but got 1 NaN/inf values"),
        ([1.0, -2.0, 3.0], {}, r"x must be > 0 .* but got 1 values <= 0"),
        ([0.0, 2.0, 3.0], {}, r"x must be > 0 .* but got 1 values <= 0"),
        (["a", "b"], {}, "x must be real numbers"),
        ([2.0] * 100, {}, "x must hold at least two distinct values"),
        (np.arange(1.0, 31.0), {}, r"x must hold at least min_tail=50 values, but got n=30"),
        (np.arange(1.0, 101.0), {"xmin": 90.0}, r"at least min_tail=50 values >= xmin, but got 11"),
        (np.arange(1.0, 101.0), {"xmin": 0.0}, r"xmin must be > 0"),
        (np.arange(1.0, 101.0), {"xmin": np.nan}, r"xmin must be a finite number"),
        (np.arange(1.0, 101.0), {"min_tail": 1}, r"min_tail: must be an integer >= 2"),
        (np.arange(1.0, 101.0), {"n_candidates": 2.5}, r"n_candidates: must be an integer >= 4"),
        (np.arange(1.0, 101.0), {"n_boot": -1}, r"n_boot: must be an integer >= 0"),
        (np.arange(1.0, 101.0), {"compare_max": 10}, r"compare_max: must be an integer >= 50"),
        (np.arange(1.0, 101.0), {"alpha_range": (0.5, 3.0)}, r"alpha_range must be finite with 1"),
        (np.arange(1.0, 101.0), {"alpha_range": (3.0, 2.0)}, r"alpha_range must be finite with 1"),
        (np.arange(1.0, 101.0), {"alpha_range": 3.0}, r"alpha_range must be two numbers"),
        (np.arange(1.0, 101.0), {"alpha_range": (1.0, 1.01)}, r"no candidate xmin leaves"),
        (np.arange(1.0, 101.0), {"xmin": 1.0, "alpha_range": (5.0, 9.0)}, r"must lie inside"),
    ],
)
def test_bad_input_raises_naming_the_argument(x, kwargs, match):
    with pytest.raises(ValueError, match=match):
        analysis.fit_power_law(x, **kwargs)


def test_exhaustive_xmin_rejects_inadmissible_input():
    with pytest.raises(ValueError, match="no admissible xmin"):
        analysis.exhaustive_xmin(np.arange(1.0, 101.0), alpha_range=(1.0, 1.01))


def test_a_rayleigh_sample_with_a_sub_octave_tail_is_not_called_heavy():
    # Rule: light-tailed draws above a fixed xmin fit a finite α, but the verdict is not "heavy".
    rng = np.random.default_rng(3)
    values = rng.rayleigh(0.2, 5_000)  # the tail above 0.432 ends near 0.8, as the paper's does
    fit = analysis.fit_power_law(values, xmin=0.432)
    assert fit.tail_decades < 0.3 and fit.n_tail > 100
    assert not fit.heavy and fit.verdict in ("not heavy", "too short to tell"), fit


def test_an_exact_power_law_over_two_decades_is_heavy():
    # Rule: Pareto draws (α = 2.5) spanning two decades beat the exponential, and the Rayleigh
    # control of the same size does not: the verdict is "heavy".
    rng = np.random.default_rng(4)
    values = (1.0 - rng.random(5_000)) ** (-1.0 / 1.5)
    fit = analysis.fit_power_law(values, xmin=1.0)
    assert fit.tail_decades > 2.0
    assert fit.verdict == "heavy" and fit.heavy, (fit.comparisons, fit.control)
