"""The cluster's nodes while a study runs: a lost node said in one line, and a study with no node
left that can run a trial stopped in one line (``resume`` finishes it once a node is back).

A Ray Tune callback in the driver: after each step of Tune's loop (at most every
:data:`EVERY_S` seconds) it reads which nodes are alive. A node that was alive and is not is
named once; the trials it ran are retried by Tune on the nodes left from their last checkpoint
(``search.max_failures``) and :mod:`study.run.recording.opening` says which moved. When trials
wait and no alive node has the CPUs and GPUs one trial asks for, for :data:`GRACE_S` seconds,
the study stops: Tune's state is saved every few seconds and the trials keep their checkpoints.
"""

from __future__ import annotations

import os
import time

from ray.tune import Callback

from study.console import say
from study.files.errors import StudyFailed

__all__ = ["NodeWatch", "NoNodeLeft"]

EVERY_S = 5.0  # between two looks at the cluster
# trials waiting with no node that can run one, before the study stops (tests shorten it)
GRACE_S = float(os.environ.get("SCALEFREE_NODE_GRACE_S", "60"))


class NoNodeLeft(StudyFailed):
    """No alive node can run a trial: the study stops, and ``resume`` continues it."""


class NodeWatch(Callback):
    """Says which node was lost; stops a study no node is left to run (module docstring)."""

    def __init__(self, name: str, cpus: float, gpus: float) -> None:
        self.name, self.cpus, self.gpus = name, cpus, gpus
        self._alive: dict[str, str] | None = None
        self._last = 0.0
        self._stranded_since: float | None = None

    def __getstate__(self) -> dict:
        return {"name": self.name, "cpus": self.cpus, "gpus": self.gpus}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["name"], state["cpus"], state["gpus"])

    def on_step_end(self, iteration, trials, **info) -> None:
        now = time.monotonic()
        if now - self._last < EVERY_S:
            return
        self._last = now
        import ray

        nodes = [n for n in ray.nodes() if n.get("Alive")]
        alive = {n["NodeID"]: _where(n) for n in nodes}
        if self._alive is not None:
            for node_id, where in self._alive.items():
                if node_id not in alive:
                    say(f"[study] lost node {where}: its trials go on from their last checkpoint")
        self._alive = alive
        waiting = any(t.status == "PENDING" for t in trials)
        running = any(t.status == "RUNNING" for t in trials)
        fits = any(
            n["Resources"].get("CPU", 0) >= self.cpus and n["Resources"].get("GPU", 0) >= self.gpus
            for n in nodes
        )
        if waiting and not running and not fits:
            self._stranded_since = self._stranded_since or now
            if now - self._stranded_since >= GRACE_S:
                raise NoNodeLeft(
                    f"cluster: must have a node that can run a trial ({self.cpus:g} CPU, "
                    f"{self.gpus:g} GPU), but got none alive for {GRACE_S:.0f} s (nodes left: "
                    f"{', '.join(alive.values()) or 'none'}); start one, then `scalefree "
                    f"resume {self.name}`."
                )
        else:
            self._stranded_since = None


def _where(node: dict) -> str:
    ip = node.get("NodeManagerAddress", "?")
    host = node.get("NodeManagerHostname", "")
    return f"{ip} ({host})" if host else ip
