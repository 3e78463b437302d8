"""Fixed-share tail measures recover known tail indices and say when a tail is not heavy."""

import math

import numpy as np
import pytest

from analysis.tails import hill_alpha, moment_xi, tail_size

ALPHA = 3.79  # the paper's pdf exponent: survival ~ x^-(α − 1)


def _pareto(rng, n: int, alpha: float = ALPHA) -> np.ndarray:
    return 0.4 * (1 - rng.random(n)) ** (-1 / (alpha - 1))


def test_hill_alpha_is_the_formula_of_the_top_share():
    # Rule: k = ⌈share·n⌉ and α_hill = 1 + k / Σ ln(x(i) / x(k+1)), x in decreasing order.
    rng = np.random.default_rng(0)
    x = rng.lognormal(size=1234)
    k = math.ceil(0.05 * x.size)
    top = np.sort(x)[::-1]
    expected = 1 + k / np.sum(np.log(top[:k] / top[k]))
    tail = hill_alpha(x, share=0.05)
    assert tail.k == k == tail_size(x.size, 0.05) and tail.threshold == top[k]
    assert tail.value == pytest.approx(expected, rel=1e-12)
    assert tail.interval.low < tail.value < tail.interval.high


def test_hill_interval_holds_a_known_pareto_alpha_at_the_nominal_rate():
    # Rule: on exact Pareto data the Gamma interval is exact; 200 samples, binomial sd 1.5 points.
    rng = np.random.default_rng(1)
    hits = []
    for _ in range(200):
        tail = hill_alpha(_pareto(rng, 5000), share=0.01)  # k = 50
        hits.append(tail.interval.low <= ALPHA <= tail.interval.high)
    assert 0.91 <= np.mean(hits) <= 0.99, np.mean(hits)


def test_moment_xi_of_a_pareto_tail_is_positive_and_near_its_index():
    rng = np.random.default_rng(2)
    tail = moment_xi(_pareto(rng, 200_000), share=0.01)
    assert tail.interval.low > 0  # heavy, resolved
    assert tail.interval.low <= 1 / (ALPHA - 1) <= tail.interval.high


def test_an_exponential_tail_is_not_heavy_and_its_hill_alpha_rises_with_a_smaller_share():
    # Rule: for a light (exponential-type) tail the Hill α keeps rising as the tail shrinks, which
    # a power law does not do; the moment ξ has 0 or less inside its interval.
    rng = np.random.default_rng(3)
    x = rng.exponential(size=65_536)  # one smoke trial's worth of Δr values, 256 designs × 256
    alphas = [hill_alpha(x, share=s).value for s in (0.1, 0.03, 0.01, 0.003)]
    assert all(b > a for a, b in zip(alphas, alphas[1:], strict=False)), alphas
    xi = moment_xi(x, share=0.01)
    assert xi.interval.low <= 0, xi


def test_a_bounded_tail_has_a_negative_xi():
    # Uniform values end at 1: ξ = −1, the estimator must say negative.
    xi = moment_xi(np.random.default_rng(4).random(100_000), share=0.01)
    assert xi.interval.high < 0 and xi.interval.low <= -1 <= xi.interval.high + 0.3


def test_too_few_tail_points_and_bad_shares_are_refused():
    with pytest.raises(ValueError, match="at least 10 are needed"):
        hill_alpha(np.arange(1.0, 101.0), share=0.01)
    with pytest.raises(ValueError, match=r"share must be in \(0, 0.5\], but got share=0"):
        moment_xi(np.arange(1.0, 101.0), share=0)
    with pytest.raises(ValueError, match="all equal the threshold"):
        hill_alpha(np.ones(5000), share=0.01)
