"""Errors the CLI maps to exit codes, importable without loading torch, Ray or MLflow."""

from __future__ import annotations

__all__ = ["StudyFailed"]


class StudyFailed(RuntimeError):
    """The study ran but produced nothing to report (every trial failed)."""
