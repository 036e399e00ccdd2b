"""Lighthouse (npm, mobile preset, default simulated throttling) on built pages, through
scripts/lighthouse.mjs; each page runs several times and its scores and metrics are medians."""
from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
from pathlib import Path

from .paths import ROOT

CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
METRICS = {"FCP": "first-contentful-paint", "LCP": "largest-contentful-paint", "TBT": "total-blocking-time",
           "CLS": "cumulative-layout-shift", "SI": "speed-index"}


def _summary(report: dict) -> dict:
    audits = report["audits"]
    failed = [k for k, a in audits.items() if a.get("score") is not None and a["score"] < 1
              and a.get("scoreDisplayMode") == "binary"]
    return {
        **{c: round(report["categories"][c]["score"] * 100) for c in CATEGORIES},
        **{m: audits[a]["numericValue"] for m, a in METRICS.items()},
        "failed_audits": failed,
    }


def run(urls: list[str], runs: int, out_dir: Path) -> dict[str, dict]:
    """url -> median scores and metrics over `runs` runs (pages interleaved, so noise is shared)."""
    if out_dir.exists():
        shutil.rmtree(out_dir)
    order = urls * runs
    env = {**os.environ, "CHROME_PATH": shutil.which("chromium") or "/usr/bin/chromium"}
    subprocess.run(["node", str(ROOT / "scripts" / "lighthouse.mjs"), str(out_dir), *order],
                   cwd=ROOT, env=env, check=True, stderr=subprocess.DEVNULL)
    per_url: dict[str, list[dict]] = {u: [] for u in urls}
    for i, url in enumerate(order):
        per_url[url].append(_summary(json.loads((out_dir / f"{i}.json").read_text(encoding="utf-8"))))
    medians = {}
    for url, results in per_url.items():
        keys = [*CATEGORIES, *METRICS]
        medians[url] = {k: statistics.median(r[k] for r in results) for k in keys}
        medians[url]["runs"] = [{k: r[k] for k in CATEGORIES} for r in results]
        medians[url]["failed_audits"] = sorted({a for r in results for a in r["failed_audits"]})
    return medians
