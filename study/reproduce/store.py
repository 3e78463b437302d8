"""What a reproduction keeps on disk between sittings: each finished run, and each sitting's time."""

from __future__ import annotations

import json
import os
import pickle
import time
from collections.abc import Callable
from pathlib import Path

from study.reproduce.measure import RunResult

__all__ = ["Store"]


class Store:
    """Finished runs of a reproduction on disk, one pickle per (seed, run), written atomically
    as each run finishes: a reproduction started again after Ctrl-C or kill -9 loads them and
    runs only what is missing."""

    def __init__(self, directory: Path) -> None:
        self.root = Path(directory) / "results"

    def path(self, seed: int, name: str) -> Path:
        return self.root / f"seed{seed}" / f"{name}.pkl"

    def load(self, seed: int, name: str) -> RunResult | None:
        path = self.path(seed, name)
        if not path.is_file():
            return None
        try:
            with open(path, "rb") as fh:
                return pickle.load(fh)
        except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError):
            return None  # half-written or from other code: run it again

    def sitting(self, start: float) -> Callable[[], list[dict]]:
        """Record a new sitting (a run of the command) starting at wall-clock ``start``; the
        returned call stores its seconds so far and gives every sitting's ``{"start", "seconds"}``.
        Called as each run finishes, at the end and on Ctrl-C or an error, so a sitting ended by
        kill -9 counts to its last finished run. A file that is not such a list is started over."""
        path = self.root.parent / "sittings.json"
        try:
            past = json.loads(path.read_text())
        except (OSError, ValueError):
            past = []
        if not (
            isinstance(past, list)
            and all(isinstance(s, dict) and {"start", "seconds"} <= set(s) for s in past)
        ):
            past = []
        iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start))

        def tick() -> list[dict]:
            now = [*past, {"start": iso, "seconds": round(time.time() - start, 1)}]
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(now, indent=1))
            os.replace(tmp, path)
            return now

        tick()
        return tick

    def save(self, seed: int, name: str, result: RunResult) -> None:
        path = self.path(seed, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with open(tmp, "wb") as fh:
            pickle.dump(result, fh)
        os.replace(tmp, path)
