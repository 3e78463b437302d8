"""Studies: the command line and what runs, reads and keeps a study.

Layers, lowest first (``tests/test_architecture.py`` holds the code to them):

* :mod:`study.console`: what every command prints, and the libraries kept quiet;
* :mod:`study.files`: a study's files and its tracking store (config and the searchable
  parameters, the study directory, MLflow);
* :mod:`study.read`: what reads a study (report, effects, confirmed numbers, ablations, the
  answers on the parent run, status); it never imports the run side;
* :mod:`study.run` and :mod:`study.reproduce`: what runs one (launch and resume, the driver, Tune's
  trainable, the recorder, the search, confirmation rounds and races, data, the cluster);
* :mod:`study.cli`, :mod:`study.detach` and :mod:`study.ui`: the command line (and its detached
  verbs), which nothing below imports.

Module names from before this layout stay importable (:data:`MOVED`): Tune pickles its
experiment with the module paths of its trainable, callbacks, reporter and searcher, so a study
launched before the move resumes after it.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys

MOVED = {
    "study.config": "study.files.config",
    "study.directory": "study.files.directory",
    "study.tracking": "study.files.tracking",
    "study.errors": "study.files.errors",
    "study.report": "study.read.report",
    "study.report_text": "study.read.text",
    "study.effects": "study.read.effects",
    "study.confirmed": "study.read.confirmed",
    "study.status": "study.read.status",
    "study.launch": "study.run.launch",
    "study.driver": "study.run.driver",
    "study.confirm": "study.run.rounds",
    "study.tune_trial": "study.run.trainable",
    "study.recorder": "study.run.recording",
    "study.search": "study.run.search",
    "study.optuna_search": "study.run.optuna_search",
    "study.terminal": "study.run.progress",
    "study.data": "study.run.data",
    "study.cluster": "study.run.cluster",
    "study.leftovers": "study.run.leftovers",
    "study.faults": "study.run.faults",
}


class _Moved(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports an old module name as the module that holds its code now."""

    def find_spec(self, name, path, target=None):
        return importlib.util.spec_from_loader(name, self) if name in MOVED else None

    def create_module(self, spec):
        return importlib.import_module(MOVED[spec.name])

    def exec_module(self, module) -> None:
        pass


if not any(isinstance(finder, _Moved) for finder in sys.meta_path):
    sys.meta_path.append(_Moved())
