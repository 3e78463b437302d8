"""The reproduction's Ray tasks keep to the CPUs they reserve while they send progress lines."""

from __future__ import annotations

import time

from study.reproduce.tasks import channel, sender

LINES = 150  # 3 s a run: time for the scheduler to start a worker for the next one


def test_progress_lines_do_not_lend_a_task_s_cpus_to_the_next_run(ray_session):
    # Rule: a run that sends a progress line keeps its CPUs. A task waiting in ray.get lends
    # them back, and the scheduler started the next queued run on them: 3 and more single-CPU
    # runs shared 2 cores. Here each task reserves every CPU, so none may overlap another.
    ray = ray_session
    cpus = ray.cluster_resources()["CPU"]
    lines = channel()

    @ray.remote(num_cpus=cpus, max_retries=0)
    def run(i, lines):
        send = sender(lines)
        start = time.time()
        for k in range(LINES):
            send(f"run {i} line {k}")
            time.sleep(0.02)
        return start, time.time()

    spans = sorted(ray.get([run.remote(i, lines) for i in range(3)]))
    for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
        assert start >= end, f"runs overlapped: {spans}"
    got, deadline = [], time.time() + 30
    while len(got) < 3 * LINES and time.time() < deadline:
        got += ray.get(lines.drain.remote())
        time.sleep(0.1)
    assert len(got) == 3 * LINES
    for i in range(3):  # each run's lines arrive in the order it sent them
        mine = [int(line.split()[-1]) for line in got if line.startswith(f"run {i} ")]
        assert mine == list(range(LINES))


def test_a_run_on_a_shared_forward_net_estimates_its_time_from_its_own_epochs(monkeypatch):
    # Rule: the ETA counts the epochs this run trains. A hybrid run on the shared forward net
    # reports steps from forward epochs + 1, and took none of their time: counting them made a
    # 4-minute run say 0:13 left.
    from study.reproduce import run as module
    from study.reproduce.scales import reproduction_configs

    config = reproduction_configs("smoke")["3pool-hybrid"].trial
    totals = config.phase_epochs()
    forward, inverse = totals["forward"], totals["inverse"]
    clock = iter([0.0, 10.0])  # the progress starts at 0 s; its first line comes at 10 s
    monkeypatch.setattr(module.time, "perf_counter", lambda: next(clock))
    lines = []
    show = module._progress("3pool-hybrid", config, lines.append)
    row = {"phase": "inverse", "epoch": 1, "step": forward + 1, "objective": "surrogate"}
    show({**row, "val_accuracy": 0.9, "seconds": 10.0})
    left = (inverse - 1) * 10
    assert lines[0].endswith(f"run ETA {left // 60}:{left % 60:02d}"), lines[0]
