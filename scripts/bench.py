"""Benchmark and budgets: build speed, what every page transfers, and Lighthouse on the pages that matter.

    scripts/run bench [--cold-runs 3] [--warm-runs 3] [--lighthouse-runs 5]

1. Cold build (lab cache, notebook render cache and site/ deleted; every lab executed; both languages)
   and warm rebuild (nothing changed): medians, against BUILD_BUDGET.
2. The site is served from 127.0.0.1 with gzip, built for that address (HANDBOOK_SITE_URL), so canonical
   and hreflang links point at what is served. Every page of both languages is loaded in Chromium with
   an empty cache; its transfer is the bytes the server sent, plus every image on the page that loads
   lazily (plots count even when below the fold). Against PAGE_BUDGET.
3. Lighthouse, mobile preset with its default throttling, runs on the pages where a budget is hardest to
   meet, in each language: the home page, the question bank, and of the chapters and of the labs the
   one that transfers the most and the one with the most elements (the main thread's work grows with
   it); medians of --lighthouse-runs runs, every one against its budget.
4. Search, per language: the index's size (gzip), the golden set's Recall@3 and MRR typed into the
   served site, and the time from a keystroke to rendered results with the CPU slowed down 4x (a
   mid-range phone): the first query, index load included, and the median of the next ones.

Prints a table, writes .bench/summary.json (and every Lighthouse report under .bench/lighthouse/), and
exits with status 1 when a budget is missed.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from handbook import lighthouse, search_golden, search_index
from handbook.gzip_server import GzipServer
from handbook.paths import CACHE, LANGS, ROOT, SITE
from handbook.search_browser import latency, search_each

OUT = ROOT / ".bench"
BUILD_BUDGET = {"cold": 300.0, "warm": 15.0}  # seconds, both languages
# kind -> transfer in KB (gzip, images included), then Lighthouse mobile minimum per category
PAGE_BUDGET = {
    "page": {"KB": 120, "performance": 98, "accessibility": 100, "best-practices": 100, "seo": 100},
    "lab": {"KB": 250, "performance": 95, "accessibility": 100, "best-practices": 100, "seo": 100},
}
SEARCH_BUDGET = {"index_KB": search_index.BUDGET_KB, "first_ms": 500, "median_ms": 100}  # ms at 4x CPU slowdown
LATENCY_QUERIES = 30
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic"]


def timed_build(site_url: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "handbook", "build"], cwd=ROOT, check=True, capture_output=True,
                   env={**os.environ, "HANDBOOK_SITE_URL": site_url})
    return time.perf_counter() - start


def cold_build(site_url: str) -> float:
    shutil.rmtree(CACHE, ignore_errors=True)
    shutil.rmtree(SITE, ignore_errors=True)
    return timed_build(site_url)


def pages() -> list[str]:
    """Every page a reader can land on, as a path under the site root ('', 'en/labs/x/', ...)."""
    found = []
    for index in sorted(SITE.rglob("index.html")):
        text = index.read_text(encoding="utf-8")
        if 'http-equiv="refresh"' not in text[:2000]:  # not a redirect stub
            found.append(index.parent.relative_to(SITE).as_posix().removeprefix(".") + "/")
    return [p.removeprefix("/") for p in found]


def kind(path: str) -> str:
    parts = path.removeprefix("en/").strip("/").split("/")
    return "lab" if parts[0] == "labs" and len(parts) == 2 else "page"


def transfers(server: GzipServer, paths: list[str]) -> tuple[dict[str, float], dict[str, int]]:
    """path -> KB the page transfers on a first visit (empty cache), lazily loaded images included;
    and path -> elements in its DOM once loaded."""
    from playwright.sync_api import sync_playwright

    result, elements = {}, {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium", args=FLAGS)
        for path in paths:
            context = browser.new_context(viewport={"width": 412, "height": 823})
            page = context.new_page()
            server.sent.clear()
            page.goto(server.url + path, wait_until="networkidle")
            sent = dict(server.sent)
            images = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.src)")
            lazy = {urlsplit(u).path for u in images if u.startswith(server.url)} - set(sent)
            result[path] = (sum(sent.values()) + sum((SITE / p.lstrip("/")).stat().st_size for p in lazy)) / 1024
            elements[path] = page.evaluate("document.getElementsByTagName('*').length")
            context.close()
        browser.close()
    return result, elements


def lighthouse_targets(weights: dict[str, float], elements: dict[str, int]) -> list[str]:
    targets = []
    for lang in LANGS:
        prefix = "" if lang == LANGS[0] else f"{lang}/"
        mine = [p for p in weights if p.startswith(prefix) and not (prefix == "" and p.startswith("en/"))]
        targets += [prefix, f"{prefix}questions/"]
        for section in ("chapters", "labs"):
            pages = [p for p in mine if p.startswith(f"{prefix}{section}/") and p != f"{prefix}{section}/"]
            targets += [max(pages, key=weights.get), max(pages, key=elements.get)]
    return list(dict.fromkeys(targets))  # the heaviest page may also be the largest


def search(server: GzipServer) -> tuple[dict, list[str]]:
    """Per language: index size, the golden set's scores in the served site, latency at 4x CPU slowdown."""
    import gzip

    from playwright.sync_api import sync_playwright

    golden, out, missed = search_golden.load(), {}, []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium", args=FLAGS)
        for lang in LANGS:
            root = server.url + ("" if lang == LANGS[0] else f"{lang}/")
            index = next((SITE / root.removeprefix(server.url) / search_index.INDEX_DIR).glob(f"handbook-{lang}.*.js"))
            kb = len(gzip.compress(index.read_bytes(), 6)) / 1024
            page = browser.new_page()
            page.goto(root)
            score = search_golden.score(golden[lang], search_each(page, [q.text for q in golden[lang]]))
            page.close()
            page = browser.new_page()
            page.goto(root)
            times = latency(page, [q.text for q in golden[lang]][:LATENCY_QUERIES], cpu_slowdown=4)
            page.close()
            out[lang] = {"index_KB": kb, "recall@3": score.recall, "mrr": score.mrr, "queries": score.queries, **times}
            if kb > SEARCH_BUDGET["index_KB"]:
                missed.append(f"{lang} search index {kb:.0f} KB > {SEARCH_BUDGET['index_KB']} KB")
            if not score.passes():
                missed.append(f"{lang} search below the floor: Recall@3 {score.recall:.3f}, MRR {score.mrr:.3f}")
            missed += [f"{lang} search {k} {times[k]:.0f} ms > {SEARCH_BUDGET[k]} ms" for k in ("first_ms", "median_ms")
                       if times[k] > SEARCH_BUDGET[k]]
        browser.close()
    return out, missed


def chinese_fonts() -> str:
    """The fonts fontconfig offers Chromium for Chinese text: every reader's device has one, and without
    any, Chinese pages measure slower than they are (scripts/run installs one)."""
    found = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True).stdout.split("\n")
    return ", ".join(sorted({f.strip() for f in found if f.strip()})) or "none (Chinese pages measure slower than they are)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cold-runs", type=int, default=3)
    parser.add_argument("--warm-runs", type=int, default=3)
    parser.add_argument("--lighthouse-runs", type=int, default=5)  # Lighthouse's advice for its variance
    args = parser.parse_args()
    missed: list[str] = []
    server = GzipServer(SITE)  # bound now: the site is built for its address
    summary: dict = {"site_url": server.url}

    builds = {"cold": [cold_build(server.url) for _ in range(args.cold_runs)],
              "warm": [timed_build(server.url) for _ in range(args.warm_runs)]}
    print("\nbuild (both languages)      median    runs              budget")
    for name, runs in builds.items():
        if not runs:
            continue
        median = statistics.median(runs)
        ok = median <= BUILD_BUDGET[name]
        missed += [] if ok else [f"{name} build {median:.1f} s > {BUILD_BUDGET[name]:.0f} s"]
        print(f"  {name:26}{median:6.1f} s  {str([round(r, 1) for r in runs]):18}≤ {BUILD_BUDGET[name]:.0f} s {'ok' if ok else 'MISSED'}")
    summary["builds"] = builds

    with server:
        weights, elements = transfers(server, pages())
        over = {p: kb for p, kb in weights.items() if kb > PAGE_BUDGET[kind(p)]["KB"]}
        missed += [f"/{p} transfers {kb:.0f} KB > {PAGE_BUDGET[kind(p)]['KB']} KB" for p, kb in over.items()]
        for k in PAGE_BUDGET:
            mine = {p: kb for p, kb in weights.items() if kind(p) == k}
            top = max(mine, key=mine.get)
            print(f"\ntransfer, {len(mine)} {k}s: heaviest /{top} {mine[top]:.0f} KB, median {statistics.median(mine.values()):.0f} KB, "
                  f"budget ≤ {PAGE_BUDGET[k]['KB']} KB: {'ok' if not set(over) & set(mine) else 'MISSED'}")
        targets = lighthouse_targets(weights, elements)
        scores = lighthouse.run([server.url + t for t in targets], args.lighthouse_runs, OUT / "lighthouse")
        search_summary, search_missed = search(server)
        missed += search_missed

    summary["chinese_fonts"] = chinese_fonts()
    print(f"\nChinese text drawn in: {summary['chinese_fonts']}")
    print(f"\nLighthouse mobile, median of {args.lighthouse_runs}  KB elements perf a11y  bp  seo    FCP    LCP   TBT   CLS")
    for t in targets:
        s, budget = scores[server.url + t], PAGE_BUDGET[kind(t)]
        short = [c for c in lighthouse.CATEGORIES if s[c] < budget[c]]
        missed += [f"/{t}: {c} {s[c]:.0f} < {budget[c]}" for c in short]
        print(f"  /{t:36}{weights[t]:4.0f} {elements[t]:6} {s['performance']:5.0f}{s['accessibility']:5.0f}{s['best-practices']:5.0f}"
              f"{s['seo']:5.0f} {s['FCP']:6.0f} {s['LCP']:6.0f} {s['TBT']:5.0f} {s['CLS']:5.3f}  {'ok' if not short else 'MISSED'}"
              + (f"  failed: {', '.join(s['failed_audits'])}" if s["failed_audits"] else ""))
    budgets = ", ".join(f"{k}s ≥ {'/'.join(str(v) for c, v in b.items() if c != 'KB')}" for k, b in PAGE_BUDGET.items())
    print(f"  budgets: {budgets} (performance/accessibility/best practices/SEO)")

    print(f"\nsearch, golden set typed into the served site; latency with the CPU slowed down 4x\n"
          f"  {'':4}{'queries':>8}{'Recall@3':>10}{'MRR':>7}{'index KB':>10}{'first ms':>10}{'median ms':>11}")
    for lang, s in search_summary.items():
        print(f"  {lang:4}{s['queries']:8}{s['recall@3']:10.3f}{s['mrr']:7.3f}{s['index_KB']:10.0f}{s['first_ms']:10.0f}{s['median_ms']:11.0f}")
    print(f"  budgets: Recall@3 ≥ {search_golden.FLOOR['recall@3']}, MRR ≥ {search_golden.FLOOR['mrr']}, index ≤ {SEARCH_BUDGET['index_KB']} KB gzip, "
          f"first query ≤ {SEARCH_BUDGET['first_ms']} ms, later queries ≤ {SEARCH_BUDGET['median_ms']} ms (median)")

    summary.update(search=search_summary, transfer_kb=weights, elements=elements, lighthouse={t: scores[server.url + t] for t in targets},
                   budgets={"build_s": BUILD_BUDGET, "pages": PAGE_BUDGET, "search": SEARCH_BUDGET}, missed=missed)
    OUT.mkdir(exist_ok=True)
    (OUT / "summary.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    print(f"\n{'all budgets hold' if not missed else 'BUDGETS MISSED: ' + '; '.join(missed)}  (summary: {OUT / 'summary.json'})")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
