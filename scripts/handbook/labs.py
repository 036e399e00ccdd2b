"""Execute the labs once, cache the results, and write one executed notebook per language.

A lab is `notebooks/<slug>.py` in jupytext percent format: code cells written once, markdown cells
marked `lang="zh"` or `lang="en"`. The code runs once per change in a fresh kernel; the result is
cached under a hash of everything that can change it (the lab, the shared modules and data next to
it, the pinned environment). Each language then gets `docs/<lang>/labs/<slug>.ipynb`, rendered by
mkdocs-jupyter.
"""
from __future__ import annotations

import copy
import hashlib
import json
import os
import platform
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError

from . import lab_sources, mathml, registry
from .paths import CACHE, LANGS, NOTEBOOKS, ROOT, lang_dir

CELL_TIMEOUT = 180          # seconds; a lab should take well under a minute in all
CACHE_DIR = CACHE / "labs"
MODEL_CACHE = CACHE / "models"  # what labkit.handbook_gpt trains once for every lab that asks for the same model
FORMAT_VERSION = "1"        # bump when the way notebooks are written changes
COST = {
    "zh": "**运行成本：** CPU，约 {s} 秒（在 2 核 CPU 上实测，离线运行）。",
    "en": "**Cost:** CPU, about {s} s (measured on 2 CPU cores, offline).",
}


class LabError(RuntimeError):
    """A lab failed: the message names the lab, the cell and the error."""


@dataclass
class Result:
    slug: str
    seconds: float
    cached: bool


def _shared_inputs() -> list[Path]:
    """Files every lab may read: helper modules and data next to the labs, and the locked environment
    (requirements.lock, not pyproject.toml, whose tool settings do not change what a lab computes)."""
    labs = set(lab_sources.slugs())
    modules = [p for p in sorted(NOTEBOOKS.glob("*.py")) if p.stem not in labs]
    data = sorted(p for p in (NOTEBOOKS / "data").rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return modules + data + [ROOT / "requirements.lock"]


def cache_key(slug: str) -> str:
    h = hashlib.sha256()
    h.update(f"{FORMAT_VERSION} {sys.version} {platform.machine()}".encode())
    for path in [NOTEBOOKS / f"{slug}.py", *_shared_inputs()]:
        h.update(str(path.relative_to(ROOT)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def _code_notebook(lab) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(c.source) for c in lab.cells if c.cell_type == "code"]
    return nb


def _kernel_env(threads: int) -> dict:
    env = dict(os.environ)
    env.update(
        # labs running side by side share the cores instead of oversubscribing them
        LAB_THREADS=str(threads),
        OMP_NUM_THREADS=str(threads),
        PYTHONHASHSEED="0",
        MPLBACKEND="module://matplotlib_inline.backend_inline",
        HF_HUB_OFFLINE="1",            # a lab that tries to download fails here, not on a reader's laptop
        TRANSFORMERS_OFFLINE="1",
        TOKENIZERS_PARALLELISM="false",
        PYTHONPATH=os.pathsep.join(filter(None, [str(NOTEBOOKS), env.get("PYTHONPATH")])),
        LAB_MODEL_CACHE=str(MODEL_CACHE),
    )
    return env


def execute(slug: str, threads: int = 0) -> tuple[nbformat.NotebookNode, float]:
    """Run a lab's code in a fresh kernel; raise LabError naming the lab, the cell and what went wrong."""
    lab = lab_sources.read(slug)
    nb = _code_notebook(lab)
    running: dict[str, int] = {}
    client = NotebookClient(
        nb, timeout=CELL_TIMEOUT, kernel_name="python3", allow_errors=False,
        resources={"metadata": {"path": str(NOTEBOOKS)}},
        on_cell_start=lambda cell, cell_index: running.update(index=cell_index),
        shutdown_kernel="immediate",  # the last cell is done: nothing to wait for while a busy kernel exits
    )
    start = time.perf_counter()
    try:
        client.execute(env=_kernel_env(threads or os.cpu_count() or 1))
    except CellTimeoutError as exc:
        raise LabError(f"lab {slug} (notebooks/{slug}.py): {_cell(nb, running.get('index'))} did not finish within "
                       f"{CELL_TIMEOUT} s (CELL_TIMEOUT in scripts/handbook/labs.py); make it faster (a whole lab should "
                       f"take well under a minute), or raise the limit if it truly needs longer") from exc
    except CellExecutionError as exc:
        errors = [o for o in nb.cells[running["index"]].get("outputs", []) if o.get("output_type") == "error"]
        summary = f"{errors[0]['ename']}: {errors[0]['evalue']}" if errors else type(exc).__name__
        raise LabError(f"lab {slug} (notebooks/{slug}.py) failed in {_cell(nb, running.get('index'))}: {summary}") from exc
    return nb, time.perf_counter() - start


def _cell(nb: nbformat.NotebookNode, index: int | None) -> str:
    if index is None:
        return "a cell"
    first = next((line for line in nb.cells[index].source.splitlines() if line.strip()), "")
    return f"code cell {index + 1} (starts {first!r})"


def localise(slug: str, executed: nbformat.NotebookNode, seconds: float, lang: str) -> nbformat.NotebookNode:
    """The notebook a reader of `lang` gets: that language's prose, the shared executed code cells. Cells are
    built as plain dicts: nbformat.writes validates the whole notebook once (new_*_cell would validate each)."""
    lab = lab_sources.read(slug)
    outputs = iter(executed.cells)
    cells, costed = [], False
    for cell in lab.cells:
        if cell.cell_type == "code":
            ran = next(outputs)
            cells.append(nbformat.from_dict({"cell_type": "code", "metadata": {}, "source": cell.source,
                                             "outputs": ran.outputs, "execution_count": ran.execution_count}))
        elif cell.metadata.get("lang", lang) == lang:
            text = mathml.render_markdown(cell.source)
            if not costed:  # the cost goes right under the title and source note
                text += "\n\n" + COST[lang].format(s=max(1, round(seconds)))
                costed = True
            cells.append(nbformat.from_dict({"cell_type": "markdown", "metadata": {}, "source": text}))
    for i, cell in enumerate(cells):
        cell["id"] = f"{slug}-{i}"  # stable ids: unchanged labs give byte-identical files
    nb = nbformat.v4.new_notebook(cells=cells, metadata=copy.deepcopy(executed.metadata))
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.metadata["handbook"] = {"heading_ids": lab_sources.heading_ids(slug), "seconds": round(seconds, 1)}
    return nb


def _write_if_changed(path: Path, text: str) -> None:
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return  # keep the mtime, so serve does not rebuild and the page render cache stays valid
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def run_one(slug: str, force: bool = False, threads: int = 0) -> Result:
    key = cache_key(slug)
    cached_nb, cached_meta = CACHE_DIR / f"{slug}-{key}.ipynb", CACHE_DIR / f"{slug}-{key}.json"
    if not force and cached_nb.exists() and cached_meta.exists():
        executed = nbformat.read(cached_nb, as_version=4)
        seconds, cached = json.loads(cached_meta.read_text())["seconds"], True
    else:
        executed, seconds = execute(slug, threads)
        cached = False
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        for stale in CACHE_DIR.glob(f"{slug}-*"):
            stale.unlink()
        nbformat.write(executed, cached_nb)
        cached_meta.write_text(json.dumps({"seconds": seconds}))
    for lang in LANGS:
        nb = localise(slug, executed, seconds, lang)
        _write_if_changed(lang_dir(lang) / "labs" / f"{slug}.ipynb", nbformat.writes(nb) + "\n")
    return Result(slug, seconds, cached)


def unlisted_labs() -> list[str]:
    """Lab sources that the registry does not list (they would be in neither site)."""
    listed = set(registry.load().labs)
    return [slug for slug in lab_sources.slugs() if slug not in listed]


def forget_models() -> None:
    """Empty the models labs share (labkit.handbook_gpt), so that the next labs train them again."""
    shutil.rmtree(MODEL_CACHE, ignore_errors=True)


def remove_orphans() -> None:
    """Delete generated notebooks whose lab source is gone, so no page outlives its lab."""
    live = set(lab_sources.slugs())
    for lang in LANGS:
        for nb in (lang_dir(lang) / "labs").glob("*.ipynb"):
            if nb.stem not in live:
                nb.unlink()


def run_all(slugs: list[str] | None = None, force: bool = False, jobs: int = 1) -> list[Result]:
    unlisted = unlisted_labs()
    if unlisted:
        raise LabError(f"notebooks/{unlisted[0]}.py is not listed under `labs:` in docs/registry.yml; add it there so it is on the site")
    outcomes = run_each(slugs or registry.load().labs, force, jobs)
    for outcome in outcomes.values():
        if isinstance(outcome, LabError):
            raise outcome
    return list(outcomes.values())


def run_each(slugs: list[str], force: bool = False, jobs: int = 1) -> dict[str, Result | LabError]:
    """Every lab in `slugs`, `jobs` at a time, sharing the CPU: slug -> its Result, or the LabError it
    raised (one lab's failure does not stop the others)."""
    remove_orphans()
    if force:
        forget_models()
    jobs = max(1, jobs)
    threads = max(1, (os.cpu_count() or 1) // jobs)

    def run(slug: str):
        try:
            return slug, run_one(slug, force, threads)
        except LabError as exc:
            return slug, exc

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return dict(pool.map(run, slugs))


def timing_table(results: list[Result]) -> str:
    lines = [f"{'lab':28} {'seconds':>8}  status", "-" * 48]
    for r in results:
        lines.append(f"{r.slug:28} {r.seconds:8.1f}  {'cached' if r.cached else 'executed'}")
    lines.append("-" * 48)
    lines.append(f"{'total (as measured)':28} {sum(r.seconds for r in results):8.1f}")
    return "\n".join(lines)
