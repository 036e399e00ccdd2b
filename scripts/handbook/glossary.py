"""The glossary (docs/glossary.yml): its page in each language, and its words for the zh search."""
from __future__ import annotations

import functools
import re

from .content import read_yaml
from .paths import DOCS

GLOSSARY_FILE = DOCS / "glossary.yml"
TITLE = {"zh": "术语表", "en": "Glossary"}
HEADER = {
    "zh": "# 术语表\n\n本手册使用的技术术语，中英对照。各章译文统一采用这里的译法。\n\n| 中文 | English | 释义 |\n|---|---|---|\n",
    "en": "# Glossary\n\nThe technical terms this handbook uses, Chinese and English side by side. Both editions use these renderings.\n\n| English | 中文 | Meaning |\n|---|---|---|\n",
}
SEE = {"zh": "见：", "en": "See: "}
LIST_SEP = {"zh": "；", "en": "; "}


FIELDS = ("zh", "en", "zh_def", "en_def")


def terms() -> list[dict]:
    return _terms(GLOSSARY_FILE.stat().st_mtime_ns)


@functools.lru_cache(maxsize=1)
def _terms(mtime_ns: int) -> list[dict]:
    return read_yaml(GLOSSARY_FILE)


def anchor(term: dict) -> str:
    """The id of a term's row on the glossary page: from its English name, so both languages share it
    (pass@k and pass^k keep apart: @ and ^ are spelled out)."""
    name = term["en"].lower().replace("@", " at ").replace("^", " hat ")
    return "g-" + re.sub(r"[^a-z0-9]+", "-", name).strip("-")


def page(lang: str) -> str:
    """The glossary page: a row per term with an id, linking the questions that explain the term."""
    from . import registry

    reg, names = registry.load(), registry.titles(lang)
    rows = []
    for t in terms():
        first, second = (t["zh"], t["en"]) if lang == "zh" else (t["en"], t["zh"])
        see = [f"[{names[q]}](chapters/{reg.questions[q].chapter}.md#{q})" for q in t.get("questions", ())]
        meaning = t[f"{lang}_def"] + (f" {SEE[lang]}{LIST_SEP[lang].join(see)}" if see else "")
        rows.append(f'| <span id="{anchor(t)}"></span>**{first}** | {second} | {meaning} |')
    return HEADER[lang] + "\n".join(rows) + "\n"


def synonyms() -> list[list[list[str]]]:
    """For each term with more than one name or an explaining question: [its names in both languages
    (abbreviations and `aka` names included), the questions that explain it]. Search treats the names
    as one term and ranks those questions first."""
    out = []
    for t in terms():
        names = list(dict.fromkeys(n for n in _names(t) if n))
        if len({n.lower() for n in names}) > 1 or t.get("questions"):
            out.append([names, list(t.get("questions", ()))])
    return out


def chinese_surfaces() -> set[str]:
    """Every Chinese name of a term (its zh name's forms and its zh `aka` names)."""
    return {s for t in terms() for s in [*_surfaces(t["zh"]), *t.get("aka", {}).get("zh", ())] if _HAN.search(s)}


_HAN = re.compile(r"[\u4e00-\u9fff]")


def teach_segmenter() -> None:
    """Keep glossary terms whole when jieba cuts Chinese text: it would split 召回率 into 召回 + 率."""
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    for surface in chinese_surfaces() - _taught:  # once each: every add_word also raises jieba's total count
        jieba.add_word(surface, freq=100000)
        _taught.add(surface)


_taught: set[str] = set()


def _names(term: dict) -> list[str]:
    """A term's names in both languages: each name's forms in running text, then its `aka` names."""
    return [*_surfaces(term["zh"]), *_surfaces(term["en"]), *term.get("aka", {}).get("zh", ()), *term.get("aka", {}).get("en", ())]


def _surfaces(term: str) -> list[str]:
    """The forms a term takes in running text: `large language model (LLM)` -> the name and `LLM`."""
    m = re.match(r"^(.*?)\s*[（(]([^）)]+)[）)]$", term)
    if not m:
        return [term]
    name, inner = m.group(1).strip(), m.group(2).strip()
    return [name, inner] if re.fullmatch(r"[A-Z][A-Za-z0-9-]+", inner) else [name]


@functools.lru_cache(maxsize=1)
def phrase_pattern() -> re.Pattern:
    """Every name of several Latin words in either language (teacher forcing, KV cache), as whole words:
    the names that a cut into words would split (jieba keeps the Chinese names whole, once taught)."""
    names = {n.lower() for t in terms() for n in _names(t) if re.fullmatch(r"[A-Za-z0-9]+(?:[ -][A-Za-z0-9]+)+", n)}
    return re.compile(r"(?<![A-Za-z0-9-])(?:{})(?![A-Za-z0-9-])".format(_trie(names)), re.I)


@functools.lru_cache(maxsize=2)
def matcher(lang: str) -> tuple[re.Pattern, dict[str, str]]:
    """A pattern for every name of every term in one language (whole words for Latin names: CJK has no word
    edges), and name -> its translation. The names form a trie in the pattern: an alternation of a
    thousand names would be tried name by name at every character."""
    other = "en" if lang == "zh" else "zh"
    titles = {}
    for t in terms():
        for surface in _surfaces(t[lang]):
            if len(surface) >= 2 and surface.lower() != t[other].lower():  # no tooltip that repeats the word
                titles.setdefault(surface.lower(), t[other])
    edge = r"(?<![A-Za-z0-9-])({})(?![A-Za-z0-9-])"
    return re.compile(edge.format(_trie(titles)), re.I), titles


def _trie(words) -> str:
    """A regex matching any of the words, longest first, as a trie of shared prefixes."""
    root: dict = {}
    for word in words:
        node = root
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def pattern(node: dict) -> str:
        branches = [re.escape(ch) + pattern(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return pattern(root)
