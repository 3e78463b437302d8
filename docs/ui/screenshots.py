"""The screenshots of docs/ui.md, taken as a user sees the study: `scalefree ui NAME` serves the
UI, headless Chromium opens the links it prints.

Usage (in the folder holding ./studies and ./mlflow.db, e.g. after `make study` and
`scalefree confirm smoke --seeds 2 --trials front`):

    python docs/ui/screenshots.py smoke --out docs/ui

Needs Playwright (`pip install playwright`) and Chromium (`apt-get install -y chromium`); no
browser download. Prints what each page showed, so a run without a screen can be checked.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# MLflow 3.17's runs table: the run-name cell's expander button, "+" while collapsed
EXPANDER = "runnamecellrenderer.tsx_46"
PLUS = "M7.25 7.25V4.5"
GENAI_ONLY = ("Judges", "Prompts", "Agent versions")  # MLflow's GenAI side bar, not model training


def serve(study: str, port: int) -> tuple[subprocess.Popen, dict[str, str]]:
    """`scalefree ui STUDY --port PORT` in its own process group; its printed links."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "study.cli", "ui", study, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    links = {}
    for line in proc.stdout:
        found = re.search(r"(http://\S+)", line)
        if found:
            links["parent" if "parent run" in line else "runs"] = found.group(1)
        if len(links) == 2:
            break
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as answer:
                if answer.status == 200:
                    return proc, links
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"the UI did not answer on port {port}: {proc.stderr.read()[-2000:]}")


def _click(page, locator) -> None:
    if locator.count():
        locator.first.click(timeout=5000)
        time.sleep(1)


def shoot(links: dict[str, str], out: Path) -> dict[str, str]:
    """Screenshots of the runs table (parent expanded) and the parent run; each page's text."""
    from playwright.sync_api import sync_playwright

    texts = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        page.goto(links["runs"])
        page.wait_for_selector("text=validated_skill", timeout=60_000)
        time.sleep(2)
        _click(page, page.get_by_label("Close"))  # MLflow's assistant panel: a third of the width
        # the study's trials, then each confirmed trial's confirmation runs
        for _ in range(6):
            expanders = page.locator(
                f"button[data-component-id$='{EXPANDER}']:has(path[d^='{PLUS}'])"
            )
            if not expanders.count():
                break
            _click(page, expanders)
        time.sleep(2)
        page.screenshot(path=str(out / "runs.png"))
        texts["runs"] = page.inner_text("body")
        page.goto(links["parent"])
        page.wait_for_selector("text=Description", timeout=60_000)
        time.sleep(2)
        page.screenshot(path=str(out / "parent_run.png"), full_page=True)
        texts["parent"] = page.inner_text("body")
        browser.close()
    return texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study")
    parser.add_argument("--out", default="docs/ui")
    parser.add_argument("--port", type=int, default=5077)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    server, links = serve(args.study, args.port)
    try:
        texts = shoot(links, out)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
    for name, text in texts.items():
        shown = [w for w in GENAI_ONLY if w in text]
        print(f"{name}: {links[name]}")
        print(f"  GenAI-only items shown: {shown or 'none'}; {len(text)} characters of text")


if __name__ == "__main__":
    main()
