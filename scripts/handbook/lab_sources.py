"""A lab's source as a document: `notebooks/<slug>.py` in jupytext percent format, code cells written
once and markdown cells marked `lang="zh"` or `lang="en"`. Read apart from executing it (labs.py), so
the registry, the generated pages and the search index can name a lab without running anything."""
from __future__ import annotations

import functools
from pathlib import Path

import jupytext

from .content import ContentError
from .markdown_model import Page
from .paths import LANGS, NOTEBOOKS


class LabSourceError(ContentError):
    """A lab source that cannot be read as a lab: the message names the file and what to fix."""


def read(slug: str):
    """The parsed lab; parsed once per version of the file (titles are looked up on every page build)."""
    path = NOTEBOOKS / f"{slug}.py"
    return _parse(path, path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _parse(path: Path, mtime_ns: int):
    return jupytext.read(path)


def slugs() -> list[str]:
    """Every lab source in notebooks/ (modules imported by labs are not labs)."""
    return sorted(p.stem for p in NOTEBOOKS.glob("*.py") if p.read_text(encoding="utf-8").lstrip().startswith("# %%"))


def markdown(slug: str, lang: str) -> Page:
    """The lab's prose in one language, as one Markdown page (cells in order); parsed once per version."""
    path = NOTEBOOKS / f"{slug}.py"
    return _markdown(path, path.stat().st_mtime_ns, lang)


@functools.lru_cache(maxsize=128)
def _markdown(path: Path, mtime_ns: int, lang: str) -> Page:
    cells = [c.source for c in _parse(path, mtime_ns).cells if c.cell_type == "markdown" and c.metadata.get("lang") == lang]
    return Page("\n\n".join(cells), f"notebooks/{path.name} ({lang})")


def title(slug: str, lang: str) -> str:
    """A lab's title in one language: its first level-1 heading of that language."""
    return next((h.text for h in markdown(slug, lang).headings if h.level == 1), slug)


def heading_ids(slug: str) -> list[str]:
    """Ids for a lab's headings, in page order, taken from the English headings for both languages
    (mkdocs-jupyter's slugs drop Chinese characters, which would leave every zh heading with id="")."""
    from mkdocs_jupyter.utils import slugify

    texts = {lang: [h.text for h in markdown(slug, lang).headings] for lang in LANGS}
    if len(texts["zh"]) != len(texts["en"]):
        raise LabSourceError(f"notebooks/{slug}.py: {len(texts['zh'])} zh headings but {len(texts['en'])} en headings; "
                             f"give every heading of one language its twin in the other, in the same order")
    ids, seen = [], set()
    for text in texts["en"]:
        base = slugify(text) or "section"
        hid, n = base, 1
        while hid in seen:
            n += 1
            hid = f"{base}-{n}"
        seen.add(hid)
        ids.append(hid)
    return ids
