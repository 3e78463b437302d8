"""Each claim's verdict rule on made-up measurements: the verdict the rule's text says.

The rules are pure functions of measured numbers (study/reproduce/rules.py); the end-to-end smoke
reproduction (test_reproduce.py) only shows that every row gets some allowed verdict.
"""

from __future__ import annotations

import math

import pytest

from study.reproduce import CLAIMS, VERDICTS, rules
from study.reproduce.paper import PAPER_ALPHA, PAPER_ALPHA_1POOL, PAPER_VALIDATED, PAPER_XMIN

YES, PARTLY, NO = VERDICTS
NAN = math.nan


def test_the_registry_holds_every_claim_once_with_its_rule_and_text():
    # Rule: one Claim per paper claim, unique keys and texts, each with a rule and its statement.
    assert len({c.key for c in CLAIMS}) == len({c.text for c in CLAIMS}) == len(CLAIMS) == 13
    assert all(callable(c.rule) and c.rule_text and callable(c.build) for c in CLAIMS)


@pytest.mark.parametrize(
    ("value", "verdict"),
    [
        (PAPER_VALIDATED + 0.05, YES),  # better than the paper
        (PAPER_VALIDATED - 0.019, YES),  # within 2 points
        (PAPER_VALIDATED - 0.05, PARTLY),  # within 10 points
        (PAPER_VALIDATED - 0.11, NO),
        (NAN, NO),
    ],
)
def test_accuracy_rule(value, verdict):
    assert rules.accuracy(value, PAPER_VALIDATED) == verdict


@pytest.mark.parametrize(
    ("heavy", "alpha", "xmin", "verdict"),
    [
        (True, PAPER_ALPHA + 0.4, PAPER_XMIN - 0.1, YES),
        (True, PAPER_ALPHA + 0.6, PAPER_XMIN, PARTLY),  # heavy, other exponent
        (True, PAPER_ALPHA, PAPER_XMIN + 0.2, PARTLY),  # heavy, other tail start
        (False, PAPER_ALPHA, PAPER_XMIN, NO),  # the paper's numbers but not heavy
        (True, NAN, NAN, PARTLY),
    ],
)
def test_alpha_rule(heavy, alpha, xmin, verdict):
    assert rules.alpha_band(heavy, alpha, xmin) == verdict


@pytest.mark.parametrize(
    ("fitted", "heavy", "inside", "verdict"),
    [(3, 3, True, YES), (3, 3, False, PARTLY), (3, 1, True, PARTLY), (1, 1, True, PARTLY),
     (3, 0, True, NO), (0, 0, True, NO)],
)  # fmt: skip
def test_bands_rule(fitted, heavy, inside, verdict):
    assert rules.bands(fitted, heavy, inside) == verdict


def test_band_alphas_inside_the_papers_range_with_tolerance():
    assert rules.band_alpha_inside(3.0) and rules.band_alpha_inside(4.4)
    assert not rules.band_alpha_inside(2.7) and not rules.band_alpha_inside(NAN)


@pytest.mark.parametrize(
    ("n", "alpha_by_k", "alpha_all", "verdict"),
    [
        (300, {10: 4.0, 100: 3.9}, 3.8, YES),
        (300, {10: 5.0, 100: 3.9}, 3.8, PARTLY),  # settles by 100, not by 10
        (300, {10: 5.0, 100: 5.0}, 3.8, NO),
        (29, {10: 3.8}, 3.8, NO),  # fewer than 3·10 structures: stability cannot be shown
        (100, {10: 3.8, 100: 3.8}, 3.8, YES),  # 100 < 300: α(100) does not count, α(10) does
        (300, {}, 3.8, NO),  # no α(k) at all
    ],
)
def test_realisations_rule(n, alpha_by_k, alpha_all, verdict):
    assert rules.realisations(n, alpha_by_k, alpha_all) == verdict


@pytest.mark.parametrize(
    ("kept", "heavy", "rho", "p", "verdict"),
    [
        (True, True, 0.5, 0.01, YES),
        (False, True, 0.5, 0.01, PARTLY),  # an alternative is preferred, still linked
        (True, True, 0.1, 0.01, PARTLY),  # heavy but not linked
        (False, False, 0.5, 0.2, NO),  # correlation not significant
        (False, False, NAN, NAN, NO),
    ],
)
def test_weights_rule(kept, heavy, rho, p, verdict):
    assert rules.weights(kept, heavy, rho, p) == verdict


@pytest.mark.parametrize(
    ("high", "low", "a_high", "a_low", "verdict"),
    [(True, True, 3.8, 4.2, YES), (True, True, 3.0, 4.2, PARTLY), (True, False, 3.8, 4.0, PARTLY),
     (True, False, 3.0, 4.2, NO), (True, True, 3.8, NAN, PARTLY)],
)  # fmt: skip
def test_subsets_rule(high, low, a_high, a_low, verdict):
    assert rules.subsets(high, low, a_high, a_low) == verdict


@pytest.mark.parametrize(("gain", "verdict"), [(1e3, YES), (100.0, YES), (20.0, PARTLY), (1.0, NO)])
def test_robustness_rule(gain, verdict):
    assert rules.robustness(gain) == verdict


@pytest.mark.parametrize(
    ("gini", "seed", "verdict"), [(0.35, 0.2, YES), (0.25, 0.2, PARTLY), (0.2, 0.2, NO)]
)
def test_hubs_rule(gini, seed, verdict):
    assert rules.hubs(gini, seed) == verdict


@pytest.mark.parametrize(
    ("shift", "reference", "verdict"), [(2.0, 1.0, YES), (1.5, 1.0, PARTLY), (0.9, 1.0, NO)]
)
def test_spectra_rule(shift, reference, verdict):
    assert rules.spectra(shift, reference) == verdict


@pytest.mark.parametrize(
    ("heavy_3", "heavy_1", "alpha_3", "alpha_1", "verdict"),
    [
        (True, True, PAPER_ALPHA, PAPER_ALPHA_1POOL, YES),
        (True, True, 6.0, PAPER_ALPHA_1POOL, PARTLY),  # both heavy, 3-pool exponent off
        (False, True, PAPER_ALPHA, PAPER_ALPHA_1POOL, PARTLY),  # the exponents, one not heavy
        (False, True, 6.0, 6.0, NO),
    ],
)
def test_one_pool_rule(heavy_3, heavy_1, alpha_3, alpha_1, verdict):
    assert rules.one_pool(heavy_3, heavy_1, alpha_3, alpha_1) == verdict


@pytest.mark.parametrize(
    ("fitted", "tail", "preferred", "alpha_seed", "alpha_gen", "verdict"),
    [
        (True, "not heavy", False, 8.0, 4.0, YES),  # seeds' tail judged not heavy
        (True, "heavy", True, 5.0, 4.0, YES),  # heavy, but an alternative is preferred
        (True, "too short to tell", False, 8.0, 4.0, PARTLY),  # undecided, only lighter
        (True, "too short to tell", False, 4.2, 4.0, NO),  # undecided shows nothing
        (True, "heavy", False, 4.2, 4.0, NO),
        (False, "no fit", False, NAN, 4.0, NO),  # no fit: nothing shown
    ],
)
def test_seeds_rule(fitted, tail, preferred, alpha_seed, alpha_gen, verdict):
    assert rules.seeds(fitted, tail, preferred, alpha_seed, alpha_gen) == verdict
