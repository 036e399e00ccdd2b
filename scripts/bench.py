"""Benchmark: cold build (every lab executed), warm rebuild (nothing changed), and what a reader's
browser transfers for a chapter page and a lab page (raw and gzip bytes, request count).

    scripts/run bench [--cold-runs 1] [--warm-runs 5]

Prints medians. A cold run deletes the lab cache, the notebook render cache and site/.
"""
from __future__ import annotations

import argparse
import functools
import gzip
import shutil
import statistics
import subprocess
import sys
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from handbook.paths import CACHE, SITE  # noqa: E402

PAGES = {"chapter": "chapters/training-and-evaluation/", "lab page": "labs/evaluation-metrics/"}
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


def timed_build() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "handbook", "build"], cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - start


def cold() -> float:
    shutil.rmtree(CACHE, ignore_errors=True)
    shutil.rmtree(SITE, ignore_errors=True)
    return timed_build()


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def page_weight(path: str) -> tuple[int, int, int]:
    """(raw bytes, gzip bytes, requests) for one page load with an empty cache."""
    from playwright.sync_api import sync_playwright

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(SITE)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    bodies: list[bytes] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium", args=FLAGS)
            page = browser.new_page()
            page.on("response", lambda r: bodies.append(r.body() if r.ok else b""))
            page.goto(f"http://127.0.0.1:{httpd.server_address[1]}/{path}", wait_until="networkidle")
            browser.close()
    finally:
        httpd.shutdown()
    return sum(map(len, bodies)), sum(len(gzip.compress(b, 6)) for b in bodies), len(bodies)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cold-runs", type=int, default=1)
    parser.add_argument("--warm-runs", type=int, default=5)
    args = parser.parse_args()
    colds = [cold() for _ in range(args.cold_runs)]
    print(f"cold build (labs executed, both languages): median {statistics.median(colds):.1f} s over {len(colds)} run(s) {[round(c, 1) for c in colds]}")
    warms = [timed_build() for _ in range(args.warm_runs)]
    print(f"warm rebuild (no change, both languages):   median {statistics.median(warms):.1f} s over {len(warms)} run(s) {[round(w, 1) for w in warms]}")
    for name, path in PAGES.items():
        raw, gz, n = page_weight(path)
        print(f"{name:8} /{path}: {raw / 1024:.0f} KB raw, {gz / 1024:.0f} KB gzip, {n} requests")


if __name__ == "__main__":
    main()
