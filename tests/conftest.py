"""Shared fixtures: one local Ray instance per test session (starting Ray costs ~10 s)."""

import os
import tempfile

import pytest

os.environ.setdefault("RAY_DEDUP_LOGS", "0")
# physics.eigh remembers the machine's faster LAPACK under XDG_CACHE_HOME: one per test session,
# shared by its subprocesses and Ray workers, never the user's.
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="sf-test-cache-")
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def ray_session():
    import ray

    if not ray.is_initialized():
        ray.init(num_cpus=4, include_dashboard=False, configure_logging=False, log_to_driver=False)
    yield ray
    ray.shutdown()
