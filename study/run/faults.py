"""Named points where the fault-injection tests stop a study (tests/study/test_interrupts.py).

With ``SCALEFREE_PAUSE_AT=<point>`` in the environment, the driver or a trial that reaches that
point writes the point's name to ``SCALEFREE_PAUSE_FILE`` and sleeps, so that a test can kill or
interrupt the study exactly there. Without the variable a point costs one dictionary lookup.

Points: ``data`` (the driver, before the dataset), ``trial_start`` (a trial, before its first
epoch), ``training`` (a trial, after its second epoch), ``scoring`` (a trial, after its last epoch,
before its final metrics) and ``report`` (the driver, before the report).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from study.console import checkpoint

__all__ = ["POINTS", "point"]

POINTS = ("data", "trial_start", "training", "scoring", "report")


def point(name: str) -> None:
    if os.environ.get("SCALEFREE_PAUSE_AT") != name:
        return
    marker = os.environ.get("SCALEFREE_PAUSE_FILE")
    if marker:
        Path(marker).write_text(name)
    while True:  # until the test kills or interrupts us; a recorded Ctrl-C acts here
        checkpoint()
        time.sleep(0.5)
