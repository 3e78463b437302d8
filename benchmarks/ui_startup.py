"""UI start-up: seconds from ``scalefree ui`` to the MLflow UI answering, on the default store.

Starts ``scalefree ui --port PORT`` (MLflow's server on the study's SQLite store) and polls, side by
side in one run: the server's ``/health``, the UI page ``/``, and the first experiments search the
page makes (``/ajax-api/2.0/mlflow/experiments/search``). Prints each time and its ratio to the
10 s target, then stops the server's process group. Usage: python benchmarks/ui_startup.py [PORT]
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request

from timing import print_machine

TARGET_S = 10.0
CHECKS = (
    ("/health", "GET"),
    ("/", "GET"),
    ("/ajax-api/2.0/mlflow/experiments/search", "POST"),
)


def _answers(url: str, method: str) -> bool:
    body = b'{"max_results": 10}' if method == "POST" else None
    request = urllib.request.Request(url, data=body, method=method)
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def main() -> None:
    print_machine()
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 5077
    load = os.getloadavg()[0]
    start = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-m", "study.cli", "ui", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    seen: dict[str, float] = {}
    try:
        while len(seen) < len(CHECKS) and time.perf_counter() - start < 120:
            for path, method in CHECKS:
                if path not in seen and _answers(f"http://127.0.0.1:{port}{path}", method):
                    seen[path] = time.perf_counter() - start
            time.sleep(0.1)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    print(f"load average at start {load:.1f} on {os.cpu_count()} cores")
    for path, _ in CHECKS:
        t = seen.get(path)
        shown = "no answer in 120 s" if t is None else f"{t:5.1f} s ({t / TARGET_S:.2f}× target)"
        print(f"{path:<45} {shown}")


if __name__ == "__main__":
    main()
