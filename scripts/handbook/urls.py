"""Links that never break: the committed list of every published page URL and question anchor.

`scripts/run urls` writes docs/published-urls.txt from a fresh build. The tests fail when a URL on
the list is gone without a redirect in docs/redirects.yml (a moved page: `old.md: new.md`; a moved
question: `chapters/a.md#q-x: chapters/b.md#q-x`), and when the build has a URL the list lacks.
"""
from __future__ import annotations

import re
from pathlib import Path

from .content import read_yaml
from .paths import DOCS, LANGS

PUBLISHED = DOCS / "published-urls.txt"
REDIRECTS = DOCS / "redirects.yml"
_ID = re.compile(r'\sid="(q-[^"]+)"')
_SKIP = {"404.html"}


def redirects() -> dict[str, str]:
    return read_yaml(REDIRECTS) or {}


def site_path(src: str) -> str:
    """`chapters/a.md#q-x` -> `chapters/a/#q-x` (directory URLs, as hosted)."""
    path, _, anchor = src.partition("#")
    path = re.sub(r"(^|/)index\.(md|ipynb)$", r"\1", path)
    path = re.sub(r"\.(md|ipynb)$", "/", path)
    return path + (f"#{anchor}" if anchor else "")


def current(site: Path) -> set[str]:
    """Every page URL and question anchor of an online build (zh at /, en at /en/)."""
    urls = set()
    for page in site.rglob("index.html"):
        rel = page.relative_to(site).parent.as_posix()
        url = "/" if rel == "." else f"/{rel}/"
        if _is_redirect(page):
            continue
        urls.add(url)
        urls |= {f"{url}#{qid}" for qid in _ID.findall(page.read_text(encoding="utf-8"))}
    return urls


def _is_redirect(page: Path) -> bool:
    return 'http-equiv="refresh"' in page.read_text(encoding="utf-8")[:2000]


def covered(site: Path) -> set[str]:
    """URLs that a redirect keeps alive, in both languages."""
    out = set()
    for old in redirects():
        for prefix in ("/", "/en/"):
            out.add(prefix + site_path(old))
    return out


def problems(site: Path) -> list[str]:
    listed = {line.strip() for line in PUBLISHED.read_text(encoding="utf-8").splitlines() if line.strip() and not line.startswith("#")}
    now, kept = current(site), covered(site)
    out = [f"{url} was published but is gone: add a redirect for it in docs/redirects.yml" for url in sorted(listed - now - kept)]
    out += [f"{url} is new and not in docs/published-urls.txt: run `scripts/run urls` to record it" for url in sorted(now - listed)]
    return out


def write(site: Path) -> Path:
    lines = ["# Every published page URL and question anchor (zh at /, en at /en/). Regenerate: scripts/run urls"]
    PUBLISHED.write_text("\n".join(lines + sorted(current(site))) + "\n", encoding="utf-8")
    return PUBLISHED


def moved_anchors(src_uri: str) -> dict[str, str]:
    """For one page: question ids that moved elsewhere -> their new `.md#id` location."""
    out = {}
    for old, new in redirects().items():
        path, _, anchor = old.partition("#")
        if anchor and path == src_uri:
            out[anchor] = new
    return out
