"""What the paper measures on one run's generated structures (Figs. 4–6, Notes S3–S6): power laws
of Δr in the w_avg band and other bands, against the number of realisations, for high- and
low-accuracy subsets, of the seeds; W_j of the inverse head and its link to Δr; single-atom attacks;
energy spectra. ``w_avg`` of a generated structure is the mean of its *true* (Hamiltonian) mode
areas; the accuracy of one structure is :func:`physics.accuracy.accuracy` along its modes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from physics.accuracy import accuracy as physics_accuracy
from study.reproduce.paper import (
    BAND,
    HEAVY_ALPHA_MAX,
    HIGH_ACCURACY,
    LOW_ACCURACY,
    MIN_STRUCTURES,
    MIN_SUBSET,
    SPECTRA_ACCURACY,
    SPECTRA_MAX,
    SUBSET_FRACTION,
    W_AVG_BANDS,
)

if TYPE_CHECKING:
    from trainables.trial import TrialResult

__all__ = ["Fit", "fit_tail", "dr", "Measures", "measure", "RunResult"]


@dataclass(frozen=True)
class Fit:
    """A power-law fit, or why there is none."""

    law: object | None  # analysis.PowerLawFit
    reason: str = ""  # why law is None

    @property
    def alpha(self) -> float:
        return self.law.alpha if self.law is not None else math.nan

    @property
    def xmin(self) -> float:
        return self.law.xmin if self.law is not None else math.nan

    def preferred(self) -> list[str]:
        """Alternatives the likelihood ratio significantly prefers (:meth:`PowerLawFit.preferred`)."""
        return self.law.preferred() if self.law is not None else []

    @property
    def heavy(self) -> bool:
        return self.law is not None and self.law.heavy

    @property
    def verdict(self) -> str:
        return self.law.verdict if self.law is not None else "no fit"

    @property
    def power_law_kept(self) -> bool:
        return self.law is not None and self.law.power_law_kept

    def short(self, xname: str = "Δr_min") -> str:
        if self.law is None:
            return f"n/a ({self.reason})"
        law = self.law
        return (
            f"α {self.alpha:.2f} ± {law.sigma:.2f}, {xname} {self.xmin:.3g} "
            f"({law.n_tail} in a tail of {law.tail_decades:.2f} decades)"
        )

    def tail(self) -> str:
        """The verdict of :attr:`analysis.PowerLawFit.verdict`, with what decided it."""
        if self.law is None:
            return f"no fit ({self.reason})"
        verdict, better = self.law.verdict, self.preferred()
        if verdict == "heavy":
            return "heavy tailed" + (f" ({', '.join(better)} preferred)" if better else "")
        if verdict == "not heavy":
            why = "exponential preferred" if "exponential" in better else f"α > {HEAVY_ALPHA_MAX:g}"
            return f"not heavy tailed ({why})"
        if not self.law.comparisons:
            return "too short to tell (no comparisons)"
        why = (
            "a Rayleigh control of the same size passes the same test"
            if self.law.control_passes
            else "the power law does not beat the exponential significantly"
        )
        return f"too short to tell ({why}; {self.law.tail_decades:.2f} decades)"

    def comparisons(self) -> str:
        if self.law is None or not self.law.comparisons:
            return "no comparisons"
        names = {"lognormal": "lognormal", "exponential": "exp", "truncated_power_law": "cutoff"}
        parts = [
            f"{names.get(n, n)} R {r:+.1f} (p {p:.2g})"
            for n, (r, p) in self.law.comparisons.items()
        ]
        wins = len(self.law.better_than())
        total = len(self.law.comparisons)
        return f"PL vs {', '.join(parts)}: PL significantly better than {wins}/{total}"


def fit_tail(
    values: np.ndarray, *, compare: bool = True, weights: bool = False, size: int = 0
) -> Fit:
    import analysis

    try:
        if weights:
            return Fit(analysis.weight_power_law(values, size=size, compare=compare))
        return Fit(analysis.fit_power_law(values, compare=compare))
    except ValueError as err:
        reason = str(err).split(", but")[0]
        return Fit(None, reason[:90])


def dr(displacements: np.ndarray) -> np.ndarray:
    import analysis

    return analysis.displacement_magnitudes(displacements)


@dataclass(frozen=True)
class Measures:
    """What the paper measures on one run's generated structures (all numpy, picklable)."""

    true_areas: np.ndarray  # (n, N) Hamiltonian mode areas of the generated structures, sorted
    w_avg: np.ndarray  # (n,) mean true mode area per generated structure
    structure_accuracy: np.ndarray  # (n,) 1 − mean_m |w_true − w_target| / w_target
    population: np.ndarray  # indices of the Fig. 4g population (the band, or all)
    population_note: str
    in_band: bool  # population is the band (else the fallback to all)
    fit: Fit  # generated Δr of the population
    seed_fit: Fit  # seed Δr of the same structures
    bands: tuple  # ((label, count, Fit | None, seed Fit | None), ...) over W_AVG_BANDS, Note S4
    realisations: tuple  # ((k, Fit), ...) on the first k structures of the population
    weight_fit: Fit  # W_j of the trained inverse head
    initial_weight_fit: Fit  # W_j of the same head at initialisation
    weight_link: tuple[float, float]  # Spearman (ρ, p) of W_j vs mean Δr_j over the population
    weight_strength: np.ndarray  # (N,) W_j
    subsets: dict  # high/low: (indices, Fit, seed Fit); note: str
    robustness: object  # analysis.RobustnessGain of the trial's attacked pairs
    first_pair_dw: tuple[np.ndarray, np.ndarray]  # |Δw| (N_att, N_modes) of seed 0, generated 0
    spectra: object  # analysis.SpectraShift of generated vs seed
    spectra_reference: float  # level shift between seeds of nearest w_avg (t0 units)
    spectra_note: str
    retrieval_accuracy: float  # nearest training structure in log w, true accuracy
    training_max: float  # max |Δ| of the training displacements
    # share of the population fit's tail atoms (Δr ≥ Δr_min) with a component beyond the training
    # range: a heavy tail made of atoms the net flung out is no tail the forward net was trained on
    tail_out_of_range: float = math.nan


def _population(w_avg: np.ndarray) -> tuple[np.ndarray, str, bool]:
    lo, hi = BAND
    idx = np.flatnonzero((w_avg >= lo) & (w_avg <= hi))
    band = f"{lo:.2f} ≤ w_avg ≤ {hi:.2f}"
    if idx.size >= MIN_STRUCTURES:
        return idx, f"{idx.size} of {w_avg.size} generated structures with {band}", True
    note = (
        f"only {idx.size} of {w_avg.size} generated structures with {band} "
        f"(< {MIN_STRUCTURES}): all {w_avg.size} used"
    )
    return np.arange(w_avg.size), note, False


def _band_label(lo: float, hi: float) -> str:
    return f"w_avg ≥ {lo:.1f}" if math.isinf(hi) else f"[{lo:.1f}, {hi:.1f})"


def _band_fits(w_avg: np.ndarray, generated: np.ndarray, seeds: np.ndarray) -> tuple:
    """((label, count, generated Fit | None, seed Fit | None), ...) over W_AVG_BANDS."""
    out = []
    for lo, hi in W_AVG_BANDS:
        idx = np.flatnonzero((w_avg >= lo) & (w_avg < hi))
        fits = (None, None)
        if idx.size >= MIN_STRUCTURES:
            fits = (fit_tail(dr(generated[idx])), fit_tail(dr(seeds[idx])))
        out.append((_band_label(lo, hi), int(idx.size), *fits))
    return tuple(out)


def _counts(n: int) -> list[int]:
    return sorted({k for k in (1, 10, 100) if k < n} | {n})


def _realisation_fits(generated: np.ndarray) -> tuple:
    return tuple((k, fit_tail(dr(generated[:k]), compare=False)) for k in _counts(len(generated)))


def _spearman(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    from scipy.stats import spearmanr

    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return math.nan, math.nan
    result = spearmanr(x, y)
    return float(result.statistic), float(result.pvalue)


def _subsets(accuracy: np.ndarray, population: np.ndarray, generated, seeds) -> dict:
    acc = accuracy[population]
    high, low = population[acc >= HIGH_ACCURACY], population[acc <= LOW_ACCURACY]
    note = f"{high.size} ≥ 84 % and {low.size} ≤ 69 % of {population.size}"
    if min(high.size, low.size) < MIN_SUBSET:
        k = min(max(1, round(SUBSET_FRACTION * population.size)), population.size // 2)
        order = population[np.argsort(acc, kind="stable")]
        low, high = order[:k], order[order.size - k :]
        note = (
            f"only {note} (< {MIN_SUBSET}): top and bottom {k} by accuracy used "
            f"({SUBSET_FRACTION:.0%}, the paper's share)"
        )
    out = {"note": note}
    for name, idx in (("high", high), ("low", low)):
        if idx.size == 0:
            none = Fit(None, "no structures")
            out[name] = (idx, none, none)
        else:
            out[name] = (idx, fit_tail(dr(generated[idx])), fit_tail(dr(seeds[idx]), compare=False))
    return out


def _retrieval_accuracy(train_areas: np.ndarray, targets: np.ndarray) -> float:
    """True accuracy of answering each target with the training structure nearest in log w."""
    from sklearn.neighbors import NearestNeighbors

    index = NearestNeighbors(n_neighbors=1, algorithm="brute").fit(np.log(train_areas))
    nearest = index.kneighbors(np.log(targets), return_distance=False)[:, 0]
    return float(physics_accuracy(train_areas[nearest], targets))


def _spectra(targets, seeds, generated, accuracy, population, physics_kw):
    import analysis

    good = population[accuracy[population] >= SPECTRA_ACCURACY]
    if good.size >= MIN_STRUCTURES:
        note = f"{min(good.size, SPECTRA_MAX)} pairs with accuracy ≥ 80 %"
    else:
        good = population
        note = f"only {good.size} pairs ≥ 80 %: {min(good.size, SPECTRA_MAX)} of the population"
    idx = good[:SPECTRA_MAX]
    shift = analysis.spectra_shift(seeds[idx], generated[idx], **physics_kw)
    w = targets.mean(axis=1)  # (n,) seeds' w_avg
    if w.size < 2:
        return shift, math.nan, note
    gap = np.abs(w[idx, None] - w[None, :])  # (k, n)
    gap[np.arange(idx.size), idx] = np.inf  # never a seed with itself
    reference = analysis.spectra_shift(seeds[idx], seeds[gap.argmin(axis=1)], **physics_kw)
    return shift, reference.dos_distance, note


def measure(result: TrialResult, train: tuple[np.ndarray, np.ndarray]) -> Measures:
    """The paper's measurements of one run, from what the trial returned (its designs, their true
    mode areas, its attacks and both heads of the inverse net) and the training split."""
    import analysis
    from trainables.training import training_range

    config, designs = result.config, result.designs
    d = config.data
    physics_kw = {"a": d.a, "t0": d.t0, "onsite": d.onsite, "device": config.device}
    targets, generated, seeds = designs.targets, designs.displacements, designs.seed_displacements
    true = result.true_areas  # (n, N) float64, the trial's validation
    accuracy = physics_accuracy(true, targets, axis=1)  # (n,)
    w_avg = true.mean(axis=1)
    population, note, in_band = _population(w_avg)
    gen_pop, seed_pop = generated[population], seeds[population]
    head = result.head_weight
    strength = analysis.weight_strength(head, size=d.size)  # (N,)
    mean_dr = np.hypot(gen_pop[:, 0], gen_pop[:, 1]).reshape(len(population), -1).mean(axis=0)
    attack = {
        "strength": config.score.attack_strength,
        "seed": result.seeds.attacks,
        "device": config.device,
    }
    first = tuple(analysis.attack_perturbations(x[:1], **attack)[0] for x in (seeds, generated))
    shift, reference, spectra_note = _spectra(
        targets, seeds, generated, accuracy, population, physics_kw
    )
    fit = fit_tail(dr(gen_pop))
    training_max = training_range(train[0])
    return Measures(
        true_areas=true,
        w_avg=w_avg,
        structure_accuracy=accuracy,
        population=population,
        population_note=note,
        in_band=in_band,
        fit=fit,
        seed_fit=fit_tail(dr(seed_pop)),
        bands=_band_fits(w_avg, generated, seeds),
        realisations=_realisation_fits(gen_pop),
        weight_fit=fit_tail(head, weights=True, size=d.size),
        initial_weight_fit=fit_tail(result.initial_head, weights=True, size=d.size),
        weight_link=_spearman(strength, mean_dr),
        weight_strength=strength,
        subsets=_subsets(accuracy, population, generated, seeds),
        robustness=result.attacks,
        first_pair_dw=first,
        spectra=shift,
        spectra_reference=reference,
        spectra_note=spectra_note,
        retrieval_accuracy=_retrieval_accuracy(train[1], targets),
        training_max=training_max,
        tail_out_of_range=_out_of_range(gen_pop, fit, training_max),
    )


def _out_of_range(generated: np.ndarray, fit: Fit, training_max: float) -> float:
    """Share of the fitted tail's atoms (Δr ≥ Δr_min) with a component beyond ``training_max``."""
    if fit.law is None:
        return math.nan
    tail = dr(generated) >= fit.xmin  # atom by atom, structure-major
    beyond = np.abs(generated).max(axis=1).reshape(-1) > training_max
    return float(beyond[tail].mean()) if tail.any() else math.nan


@dataclass(frozen=True)
class RunResult:
    """One run of the reproduction: the trial's result, its measurements and its wall time."""

    name: str
    trial: TrialResult
    measures: Measures
    seconds: float  # trial + measurements, wall

    @property
    def config(self):
        return self.trial.config

    @property
    def metrics(self) -> dict:
        return self.trial.metrics

    @property
    def history(self) -> list[dict]:
        return self.trial.history

    @property
    def designs(self) -> dict[str, np.ndarray]:
        """generated.npz's arrays: targets, displacements, seed_displacements."""
        d = self.trial.designs
        return {
            "targets": d.targets,
            "displacements": d.displacements,
            "seed_displacements": d.seed_displacements,
        }

    @property
    def head_weight(self) -> np.ndarray:
        return self.trial.head_weight
