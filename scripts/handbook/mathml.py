"""Formulas rendered to MathML at build time: no MathJax or KaTeX shipped, nothing fetched.

Chapters go through pymdownx.arithmatex (generic mode), which wraps each formula in a span or div;
page_html.render_math swaps those for MathML. Lab prose never passes through Markdown-in-MkDocs, so
`render_markdown` turns its `$...$` / `$$...$$` into MathML before the notebook is written.
"""
from __future__ import annotations

import re

from latex2mathml.converter import convert

_MD_BLOCK = re.compile(r"\$\$(.+?)\$\$", re.S)
# `$x$` but not `\$`, `$ 5 and $ 6`, or a price: the opening $ is followed and the closing $ preceded by non-space
_MD_INLINE = re.compile(r"(?<![\\$])\$(?=\S)([^$\n]+?)(?<=\S)\$(?!\d)")
# latex2mathml writes \mathrm{softmax} as seven upright one-letter identifiers; one identifier of several
# letters is upright by default (MathML Core), is read as a word by screen readers, and is a fifth the size
_UPRIGHT_LETTERS = re.compile(r'(?:<mi mathvariant="normal">[^<]</mi>){2,}')


def to_mathml(latex: str, display: bool) -> str:
    """MathML for one formula; a formula latex2mathml cannot parse raises with the formula in the message."""
    try:
        out = convert(latex.strip(), display="block" if display else "inline")
    except Exception as exc:  # latex2mathml raises several exception types
        raise ValueError(f"cannot render formula {latex!r}: {exc}") from exc
    return _UPRIGHT_LETTERS.sub(lambda m: "<mi>" + re.sub(r"<[^>]+>", "", m.group(0)) + "</mi>", out)


def render_markdown(text: str) -> str:
    text = _MD_BLOCK.sub(lambda m: "\n" + to_mathml(m.group(1), True) + "\n", text)
    return _MD_INLINE.sub(lambda m: to_mathml(m.group(1), False), text)
