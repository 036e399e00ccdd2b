"""The glossary (docs/glossary.yml): its page in each language, and its words for the zh search."""
from __future__ import annotations

import functools
import re

import yaml

from .paths import DOCS

GLOSSARY_FILE = DOCS / "glossary.yml"
HEADER = {
    "zh": "# 术语表\n\n本手册使用的技术术语，中英对照。各章译文统一采用这里的译法。\n\n| 中文 | English | 释义 |\n|---|---|---|\n",
    "en": "# Glossary\n\nThe technical terms this handbook uses, Chinese and English side by side. Both editions use these renderings.\n\n| English | 中文 | Meaning |\n|---|---|---|\n",
}


@functools.lru_cache(maxsize=1)
def terms() -> list[dict]:
    return yaml.safe_load(GLOSSARY_FILE.read_text(encoding="utf-8"))


def page(lang: str) -> str:
    rows = []
    for t in terms():
        first, second = (t["zh"], t["en"]) if lang == "zh" else (t["en"], t["zh"])
        rows.append(f"| **{first}** | {second} | {t[f'{lang}_def']} |")
    return HEADER[lang] + "\n".join(rows) + "\n"


def teach_segmenter() -> None:
    """Keep glossary terms whole in the zh search index: jieba would split 召回率 into 召回 + 率."""
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    for t in terms():
        if any("\u4e00" <= ch <= "\u9fff" for ch in t["zh"]):
            jieba.add_word(t["zh"], freq=100000)


_SKIP = {"code", "pre", "a", "abbr", "h1", "h2", "h3", "h4", "h5", "h6", "math", "script", "style", "button", "kbd"}


def _surfaces(term: str) -> list[str]:
    """The forms a term takes in running text: `large language model (LLM)` -> the name and `LLM`."""
    m = re.match(r"^(.*?)\s*[（(]([^）)]+)[）)]$", term)
    if not m:
        return [term]
    name, inner = m.group(1).strip(), m.group(2).strip()
    return [name, inner] if re.fullmatch(r"[A-Z][A-Za-z0-9-]+", inner) else [name]


@functools.lru_cache(maxsize=2)
def _matcher(lang: str) -> tuple[re.Pattern, dict[str, str]]:
    other = "en" if lang == "zh" else "zh"
    titles = {}
    for t in terms():
        for surface in _surfaces(t[lang]):
            if len(surface) >= 2 and surface.lower() != t[other].lower():  # no tooltip that repeats the word
                titles.setdefault(surface.lower(), t[other])
    alternation = "|".join(re.escape(s) for s in sorted(titles, key=len, reverse=True))
    edge = r"(?<![A-Za-z0-9-])({})(?![A-Za-z0-9-])"  # whole words for Latin terms; CJK has no word edges
    return re.compile(edge.format(alternation), re.I), titles


def add_tooltips(html: str, lang: str) -> str:
    """Mark the first use of each glossary term in every question (h2/h3 section) with its translation."""
    from bs4 import BeautifulSoup, NavigableString

    pattern, titles = _matcher(lang)
    soup = BeautifulSoup(html, "html.parser")
    seen: set[str] = set()
    for node in list(soup.descendants):
        if getattr(node, "name", None) in ("h2", "h3"):
            seen = set()
        if not isinstance(node, NavigableString) or any(p.name in _SKIP for p in node.parents):
            continue
        text, pieces, last = str(node), [], 0
        for m in pattern.finditer(text):
            key = m.group(1).lower()
            if key in seen:
                continue
            seen.add(key)
            pieces += [text[last:m.start()], (m.group(1), titles[key])]
            last = m.end()
        if not pieces:
            continue
        pieces.append(text[last:])
        for piece in pieces:
            if isinstance(piece, tuple):
                abbr = soup.new_tag("abbr", title=piece[1])
                abbr.string = piece[0]
                node.insert_before(abbr)
            elif piece:
                node.insert_before(NavigableString(piece))
        node.extract()
    return str(soup)
