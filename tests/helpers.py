"""Small parsers shared by the tests: built HTML pages, their links and ids."""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path


class PageParser(HTMLParser):
    """Collects (tag, attrs) of every element and every id on a page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict]] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.elements.append((tag, a))
        for key in ("id", "name"):
            if a.get(key):
                self.ids.add(a[key])


_parsed: dict[Path, PageParser] = {}


def parse(path: Path) -> PageParser:
    if path not in _parsed:
        p = PageParser()
        p.feed(path.read_text(encoding="utf-8"))
        _parsed[path] = p
    return _parsed[path]


def html_pages(root: Path, exclude_en: bool = False) -> list[Path]:
    pages = sorted(root.rglob("*.html"))
    if exclude_en:
        pages = [p for p in pages if p.relative_to(root).parts[0] != "en"]
    return pages


EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//)", re.I)
