"""The trial: the paper's D2L and L2D CNNs, their training, inverse design and scoring.

models (ForwardNet, InverseNet) → training (fit_forward, fit_inverse; the 'physics' inverse mode
differentiates physics.hamiltonian) → generate (design, validate against the true Hamiltonian) → score
(the contract's final metrics; baseline for the k-NN bar) → trial.run_trial, which strings them
together. Knows nothing of Ray, Optuna or MLflow; imports :mod:`analysis` only inside scoring.
"""

__all__ = ["run_trial"]


def __getattr__(name: str):
    # Lazy, so that `import trainables.config` (the CLI's config checks) does not load torch.
    if name == "run_trial":
        from trainables.trial import run_trial

        return run_trial
    raise AttributeError(f"module 'trainables' has no attribute {name!r}")
