"""Small helpers shared by the tests: parsers for built HTML pages, their links and ids; browser steps."""
from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

from playwright.sync_api import expect


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


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic"]
CHAPTER, ANCHOR = "chapters/training-and-evaluation", "q-evaluation-methods"


def search(pg, query: str) -> list[str]:
    """The absolute URLs of the results Material's search gives for the query."""
    box = pg.locator("input[data-md-component=search-query]")
    box.click()  # focusing the box flips the search toggle; from file:// search starts on that change event
    box.fill(query)
    box.press("End")  # fill() alone does not trigger Material's search
    links = pg.locator(".md-search-result__item a")
    expect(links.first).to_be_attached(timeout=15_000)
    return links.evaluate_all("links => links.map(a => a.href)")


def switch(pg, lang: str) -> None:
    pg.locator(".md-header__option .md-select").hover()
    with pg.expect_navigation():
        pg.locator(f".md-select__link[hreflang={lang}]").click()
