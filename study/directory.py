"""The study directory ``studies/NAME/``: finding a study by name or path and reading its
``study.json`` (tracking URI, experiment and parent run ids, git commit, dataset key).

Its own module so that launch, report and the UI read a study without importing each other.
"""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["read_study", "study_dir_of"]


def study_dir_of(name_or_dir: str, studies_dir: str = "studies") -> Path:
    path = Path(name_or_dir)
    if (path / "study.json").is_file():
        return path.resolve()
    candidate = Path(studies_dir) / name_or_dir
    if (candidate / "study.json").is_file():
        return candidate.resolve()
    raise ValueError(
        f"study: must name a study directory or a study under {studies_dir}/, but got {name_or_dir!r}."
    )


def read_study(name_or_dir: str) -> dict:
    directory = study_dir_of(name_or_dir)
    info = json.loads((directory / "study.json").read_text())
    info["dir"] = str(directory)
    return info
