"""What a rebuild would compute again for a page whose inputs did not change, kept in .cache/pages/.

Parsing a page's HTML and rewriting it (page_html.py) is most of a rebuild's time, and the same input gives
the same result. An entry is keyed by a hash of everything its result is computed from: the inputs the
caller names, the handbook package's own source and requirements.lock (the code and the libraries that
compute it). A change to any of them computes the entry again; there is no version to bump by hand.
Entries of other code versions can never be used again: the first write of a build deletes them, so the
cache holds one version's pages (about 10 MB), not one per edit of the code.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
from pathlib import Path
from typing import Callable

from .paths import CACHE, ROOT

PAGE_CACHE = CACHE / "pages"


@functools.lru_cache(maxsize=1)
def _code() -> str:
    h = hashlib.sha256()
    for path in [*sorted(Path(__file__).parent.glob("*.py")), ROOT / "requirements.lock"]:
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def _path(name: str) -> Path:
    return PAGE_CACHE / f"{_code()[:16]}-{name}"


def remember(inputs: list, compute: Callable[[], dict]) -> dict:
    """compute()'s result (JSON data), or the one it gave before for the same inputs and code."""
    name = hashlib.sha256(json.dumps(inputs, ensure_ascii=False, sort_keys=True).encode()).hexdigest()[:24] + ".json"
    if _path(name).exists():
        return json.loads(read(name))
    result = compute()
    write(name, json.dumps(result, ensure_ascii=False))
    return result


def read(name: str) -> str:
    return _path(name).read_text(encoding="utf-8")


def write(name: str, text: str) -> None:
    """A file in the cache, written whole or not at all (both languages build at once, each in a process)."""
    PAGE_CACHE.mkdir(parents=True, exist_ok=True)
    _forget_other_versions(_code()[:16])
    path = _path(name)
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


@functools.lru_cache(maxsize=1)
def _forget_other_versions(current: str) -> None:
    for old in PAGE_CACHE.iterdir():
        if not old.name.startswith(current):
            old.unlink(missing_ok=True)
