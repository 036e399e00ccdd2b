"""The handbook's own text for the labs: the prose of the chapters in each language, and its questions.

`scripts/run corpus` writes them into notebooks/data/ (committed), so a lab's data changes only
when someone refreshes it on purpose, and the lab cache follows.
"""
from __future__ import annotations

import json
import re

from . import knowledge, registry
from .paths import NOTEBOOKS, lang_dir

TEXT_FILES = {lang: NOTEBOOKS / "data" / f"handbook_{lang}.txt" for lang in ("zh", "en")}
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


def write() -> list:
    reg = registry.load()
    texts, questions = {lang: [] for lang in TEXT_FILES}, []
    titles = {lang: knowledge.titles(lang) for lang in TEXT_FILES}
    for chapter in reg.chapters:
        slug = chapter["slug"]
        pages = {lang: (lang_dir(lang) / "chapters" / f"{slug}.md").read_text(encoding="utf-8") for lang in TEXT_FILES}
        for lang, page in pages.items():
            texts[lang].append(plain(page))
        for qid, _ in registry.chapter_questions("zh", slug):
            questions.append({
                "id": qid, "chapter": slug, "title_zh": titles["zh"][qid], "title_en": titles["en"].get(qid, ""),
                "answer_zh": plain(registry.question_section(pages["zh"], qid)),
                "answer_en": plain(registry.question_section(pages["en"], qid)),
            })
    for lang, path in TEXT_FILES.items():
        path.write_text("\n".join(texts[lang]) + "\n", encoding="utf-8")
    QUESTIONS_FILE.write_text(json.dumps(questions, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return [*TEXT_FILES.values(), QUESTIONS_FILE]
