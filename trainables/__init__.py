"""The trial: the paper's D2L and L2D CNNs, their training, inverse design and scoring.

models (ForwardNet, InverseNet) → training (fit_forward, fit_inverse; the 'physics' inverse mode
differentiates physics.hamiltonian) → designs (structures for targets, validated against the true
Hamiltonian) → score (the contract's final metrics; baseline for the bars they are read against) →
trial.run_trial, which strings them together and returns a :class:`~trainables.trial.TrialResult`.
Knows nothing of Ray, Optuna or MLflow; imports :mod:`analysis` only inside scoring.
"""

__all__ = ["run_trial", "TrialResult"]


def __getattr__(name: str):
    # Lazy, so that `import trainables.config` (the CLI's config checks) does not load torch.
    if name in __all__:
        from trainables import trial

        return getattr(trial, name)
    raise AttributeError(f"module 'trainables' has no attribute {name!r}")
