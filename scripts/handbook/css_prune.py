"""Drop CSS rules whose selectors name classes that no page uses.

JupyterLab's stylesheet (~590 KB) styles the whole Lab UI; a rendered notebook uses a small part.
A rule is kept when at least one of its selectors names only classes that occur in the pages;
at-rules that are not conditional groups (@font-face, @keyframes, ...) are kept whole.
"""
from __future__ import annotations

import re

_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_CLASS = re.compile(r"\.(-?[_a-zA-Z][\w-]*)")
_GROUPS = ("@media", "@supports", "@layer", "@container")


def _blocks(css: str):
    """Yield (prelude, body) for each top-level rule; a bare statement (`@import ...;`) has body None."""
    i, n = 0, len(css)
    while i < n:
        brace, semi = css.find("{", i), css.find(";", i)
        if brace == -1:
            return
        if semi != -1 and semi < brace and css[i:semi].strip().startswith("@"):
            yield css[i:semi].strip(), None
            i = semi + 1
            continue
        depth, j = 1, brace + 1
        while j < n and depth:
            depth += {"{": 1, "}": -1}.get(css[j], 0)
            j += 1
        yield css[i:brace].strip(), css[brace + 1:j - 1]
        i = j


def _selectors(prelude: str) -> list[str]:
    """Split a selector list at its top-level commas (not those inside :is(...), :not(...))."""
    parts, depth, start = [], 0, 0
    for i, c in enumerate(prelude):
        depth += {"(": 1, ")": -1}.get(c, 0)
        if c == "," and depth == 0:
            parts.append(prelude[start:i])
            start = i + 1
    return parts + [prelude[start:]]


def prune(css: str, used: set[str]) -> str:
    out = []
    for prelude, body in _blocks(_COMMENT.sub("", css)):
        if body is None:
            if not prelude.startswith("@charset"):  # only valid first in a file: write_shared_css adds one
                out.append(prelude + ";")
        elif prelude.startswith(_GROUPS):
            inner = prune(body, used)
            if inner:
                out.append(f"{prelude}{{{inner}}}")
        elif prelude.startswith("@"):
            out.append(f"{prelude}{{{body}}}")
        else:
            kept = [s for s in _selectors(prelude) if set(_CLASS.findall(s)) <= used]
            if kept:
                out.append(f"{','.join(s.strip() for s in kept)}{{{body.strip()}}}")
    return "\n".join(out)

