"""Fewer elements in highlighted code, same look.

Pygments wraps every name and every run of whitespace in its own span, yet both themes colour a plain
name like the code around it (Material: --md-code-hl-name-color is --md-code-fg-color; the notebook
stylesheet has no rule for it) and whitespace has no colour to show. Those spans were a sixth of the
elements of the longest chapter and a quarter of a lab page's, and every element costs style and
layout time on a phone. tests/test_browser.py checks that a name is still drawn in the code's colour.
"""
from __future__ import annotations

import re

# A pygments token span holds escaped text only, never markup
_PLAIN_TOKEN = re.compile(r'<span class="[nw]">([^<]*)</span>')


def unwrap_plain_tokens(html: str) -> str:
    return _PLAIN_TOKEN.sub(r"\1", html)
