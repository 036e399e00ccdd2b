"""The handbook's own text for the labs: Chinese prose of the chapters, and its questions.

`scripts/run corpus` writes both into notebooks/data/ (committed), so a lab's data changes only
when someone refreshes it on purpose, and the lab cache follows.
"""
from __future__ import annotations

import json
import re

from . import knowledge, registry
from .markdown_model import Page
from .paths import NOTEBOOKS, lang_dir

TEXT_FILE = NOTEBOOKS / "data" / "handbook_zh.txt"
QUESTIONS_FILE = NOTEBOOKS / "data" / "handbook_questions.json"

_FENCE = re.compile(r"^([ \t]*)(```|~~~).*?^\1\2[^\n]*$", re.S | re.M)
_STRIP = [
    (re.compile(r"\$\$.*?\$\$|\$[^$\n]+\$", re.S), ""),        # formulas
    (re.compile(r"!?\[([^\]]*)\]\([^)]*\)"), r"\1"),           # links -> their text
    (re.compile(r"\{[:#][^}]*\}"), ""),                        # attribute lists and heading ids
    (re.compile(r"<[^>]+>"), ""),                              # inline HTML
    (re.compile(r"^\s*(?:[!?]{3}\+?\s*\w+.*|#+\s*|[-*+]\s+|\d+\.\s+|>\s*)", re.M), ""),  # block markers
    (re.compile(r"^\s*\|?[-:| ]+\|?\s*$", re.M), ""),          # table rules
    (re.compile(r"\*+|`+"), ""),                               # emphasis and inline-code marks
    (re.compile(r"\|+"), " "),                                  # table pipes
    (re.compile(r"[ \t]+"), " "),
    (re.compile(r"\n\s*\n+"), "\n"),
]


def plain(markdown: str) -> str:
    text = _FENCE.sub("", markdown)
    for pattern, repl in _STRIP:
        text = pattern.sub(repl, text)
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())


def _section(markdown: str, qid: str) -> str:
    page = Page(markdown)
    return page.source(page.section(page.heading(qid)))


def write() -> list:
    reg = registry.load()
    texts, questions = [], []
    titles = {lang: knowledge.titles(lang) for lang in ("zh", "en")}
    for chapter in reg.chapters:
        slug = chapter["slug"]
        zh = (lang_dir("zh") / "chapters" / f"{slug}.md").read_text(encoding="utf-8")
        texts.append(plain(zh))
        for qid, _ in registry.chapter_questions("zh", slug):
            questions.append({
                "id": qid, "chapter": slug, "title_zh": titles["zh"][qid], "title_en": titles["en"].get(qid, ""),
                "answer_zh": plain(_section(zh, qid)),
            })
    TEXT_FILE.write_text("\n".join(texts) + "\n", encoding="utf-8")
    QUESTIONS_FILE.write_text(json.dumps(questions, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return [TEXT_FILE, QUESTIONS_FILE]
