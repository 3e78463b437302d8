"""Errors the CLI maps to exit codes, importable without loading torch, Ray or MLflow."""

from __future__ import annotations

__all__ = ["StudyFailed", "TrialFailed"]


class StudyFailed(RuntimeError):
    """The study ran but produced nothing to report (every trial failed), or trials failed for a
    reason outside their configuration (a host that cannot reach something): not a result."""


class TrialFailed(RuntimeError):
    """A trial's own computation raised (it diverged, its architecture cannot run): a result about
    that configuration. Anything else that ends a trial (storage, a lost node) is the cluster's."""
