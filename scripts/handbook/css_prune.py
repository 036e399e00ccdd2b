"""Drop CSS rules whose selectors name classes that no page uses.

JupyterLab's stylesheet (~590 KB) styles the whole Lab UI, Material's (~135 KB) every feature Material has;
a page of this handbook uses a small part of each. A selector can match only when every class it requires
occurs in the pages (or, for Material's, in a script that may add it); classes inside a functional
pseudo-class (:not(.x), :is(.a, .b)) are not required, so such selectors are judged by the rest. A rule is
kept when one of its selectors can match; at-rules that are not conditional groups (@font-face,
@keyframes, ...) are kept whole.
"""
from __future__ import annotations

import re

_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_CLASS = re.compile(r"\.(-?[_a-zA-Z][\w-]*)")
_GROUPS = ("@media", "@supports", "@layer", "@container")
_CLASS_ATTR = re.compile(r'\bclass="([^"]*)"')
_NAME = re.compile(r"-?[_a-zA-Z][\w-]*")
_ATTR_VALUE = re.compile(r"\[([\w-]+)=[\"']?([\w-]+)[\"']?\]")
_ATTR_NAME = re.compile(r"\[([\w-]+)")


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


def _required_classes(selector: str) -> set[str]:
    """The classes a selector requires: those outside the parentheses of functional pseudo-classes (and
    outside attribute selectors, where a dot is part of a value: [href$=".pdf"])."""
    outside, depth = [], 0
    for c in selector:
        depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(c, 0)
        if depth == 0 and c not in ")]":
            outside.append(c)
    return set(_CLASS.findall("".join(outside)))


def classes_in_html(html: str) -> set[str]:
    return {c for value in _CLASS_ATTR.findall(html) for c in value.split()}


def names_in_script(js: str) -> set[str]:
    """Every word a script could put in a class attribute (a superset: identifiers and string contents)."""
    return set(_NAME.findall(js))


def _matches_allowed(selector: str, allowed: dict[str, set[str]]) -> bool:
    """Whether every `[attribute=value]` of the selector, for an attribute with a known set of values, names
    one of them (Material's palette CSS has rules for 21 colours; a site's palette uses one or two)."""
    return all(value in allowed[name] for name, value in _ATTR_VALUE.findall(selector) if name in allowed)


def prune(css: str, used: set[str], allowed: dict[str, set[str]] | None = None, dropped: frozenset[str] = frozenset()) -> str:
    """The rules of `css` a page can match, given every class in `used` and, for the attributes in
    `allowed`, the only values they take; selectors that test an attribute in `dropped` go too."""
    allowed = allowed or {}
    out = []
    for prelude, body in _blocks(_COMMENT.sub("", css)):
        if body is None:
            if not prelude.startswith("@charset"):  # only valid first in a file: write_shared_css adds one
                out.append(prelude + ";")
        elif prelude.startswith(_GROUPS):
            inner = prune(body, used, allowed, dropped)
            if inner:
                out.append(f"{prelude}{{{inner}}}")
        elif prelude.startswith("@"):
            out.append(f"{prelude}{{{body}}}")
        else:
            kept = [s for s in _selectors(prelude) if _required_classes(s) <= used and _matches_allowed(s, allowed)
                    and not dropped.intersection(_ATTR_NAME.findall(s))]
            if kept:
                out.append(f"{','.join(s.strip() for s in kept)}{{{body.strip()}}}")
    return "\n".join(out)

