"""Run analysis tests' eigensolvers single-threaded: on 2 shared cores, 2-thread LAPACK collapses
10–20× whenever the other core is busy (design.md). The previous setting is restored."""

import pytest
import torch


@pytest.fixture(autouse=True)
def single_thread_torch():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
