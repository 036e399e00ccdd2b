"""What a rebuild would compute again for a page whose inputs did not change, kept in .cache/pages/.

Parsing a page's HTML and rewriting it (page_html.py) is most of a rebuild's time, and the same input gives
the same result. An entry is keyed by a hash of everything its result is computed from: the inputs the
caller names, the handbook package's own source and requirements.lock (the code and the libraries that
compute it). A change to any of them computes the entry again; there is no version to bump by hand.
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


def remember(inputs: list, compute: Callable[[], dict]) -> dict:
    """compute()'s result (JSON data), or the one it gave before for the same inputs and code."""
    key = hashlib.sha256(json.dumps([_code(), inputs], ensure_ascii=False, sort_keys=True).encode()).hexdigest()[:24]
    path = PAGE_CACHE / f"{key}.json"
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    result = compute()
    write(path.name, json.dumps(result, ensure_ascii=False))
    return result


def write(name: str, text: str) -> Path:
    """A file in the cache, written whole or not at all (both languages build at once, each in a process)."""
    PAGE_CACHE.mkdir(parents=True, exist_ok=True)
    path, partial = PAGE_CACHE / name, PAGE_CACHE / f"{name}.{os.getpid()}.partial"
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)
    return path
