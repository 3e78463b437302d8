"""The paper's numbers (Yu, Piao & Park 2020, main text and Supplementary Notes), the four runs of a
reproduction and the thresholds every verdict rule uses."""

from __future__ import annotations

import math

from analysis.powerlaw import HEAVY_ALPHA_MAX, SIGNIFICANCE

__all__ = ["RUNS", "MAIN", "ONE_POOL", "LABELS", "VERDICTS", "HEAVY_ALPHA_MAX", "SIGNIFICANCE"]

EXPERIMENT = "scalefree-reproduce"
RUNS = ("3pool-surrogate", "3pool-physics", "3pool-hybrid", "1pool-surrogate")
MAIN = RUNS[0]  # the paper's protocol: every verdict but the 1-pool one is decided on this run
ONE_POOL = RUNS[3]
SHARED_FORWARD = RUNS[1:3]  # runs that reuse MAIN's trained forward net (same forward config)
LABELS = {
    "3pool-surrogate": "3-pool surrogate",
    "3pool-physics": "3-pool physics",
    "3pool-hybrid": "3-pool hybrid",
    "1pool-surrogate": "1-pool surrogate",
}
VERDICTS = ("reproduced", "partly", "not reproduced")

# Paper numbers
PAPER_D2L, PAPER_L2D2L, PAPER_VALIDATED = 0.9480, 0.9421, 0.7910
PAPER_ALPHA, PAPER_XMIN = 3.79, 0.432  # Fig. 4g-1, 3200 realisations with 0.20 ≤ w_avg ≤ 0.30
PAPER_ALPHA_1POOL = 4.09  # Note S6
PAPER_1POOL = {"d2l": 0.9489, "l2d2l": 0.9506, "validated": 0.8432}  # Note S6
PAPER_BAND_ALPHAS = (3.24, 3.92)  # Note S4, Fig. S5

# Rules (heavy / preferred: analysis.PowerLawFit, with HEAVY_ALPHA_MAX and SIGNIFICANCE)
ACCURACY_TOLERANCE = 0.02  # reproduced: within 2 points of the paper, or better
ACCURACY_PARTLY = 0.10  # partly: within 10 points
ALPHA_TOLERANCE = 0.5  # |α − paper| for "the same exponent"
XMIN_TOLERANCE = 0.15  # |Δr_min − paper| in lattice periods
GAIN_REPRODUCED, GAIN_PARTLY = 100.0, 10.0  # paper: 2–4 orders of magnitude
GINI_MARGIN = 0.1  # generated δ Gini above the seeds' by this much: non-democratic
SPECTRA_FACTOR = 2.0  # level shift vs the shift between seeds of similar w_avg
LINK_MIN_RHO, LINK_MAX_P = 0.3, 0.05  # Spearman ρ(W_j, mean Δr_j) for "linked"

# Measurement choices
BAND = (0.20, 0.30)  # Fig. 4g
W_AVG_BANDS = ((0.0, 0.1), (0.1, 0.2), (0.2, 0.3), (0.3, 0.4), (0.4, math.inf))  # Note S4
STABILITY_FACTOR = 3  # α(k) vs α(all) means something only with ≥ 3k structures in all
MIN_STRUCTURES = 10  # fewest structures in a band (α settles by ~10 realisations, Note S3)
HIGH_ACCURACY, LOW_ACCURACY = 0.84, 0.69  # Fig. 5c,d
MIN_SUBSET = 5  # fewer structures than this in a subset: fall back to quantiles
SUBSET_FRACTION = 0.06  # the paper's subsets are 194 and 191 of 3200 realisations
SPECTRA_ACCURACY = 0.80  # Note S5 uses structures with accuracy over 80 %
SPECTRA_MAX = 256  # pairs whose spectra are compared
LINEAR_FIT_MAX = 4096  # training structures for the linear-SPR weight map
