"""The handbook's own text for the labs: the prose of the chapters in both languages, and its questions.

`scripts/run corpus` writes both into notebooks/data/ (committed), so a lab's data changes only
when someone refreshes it on purpose, and the lab cache follows.
"""
from __future__ import annotations

import json

from . import registry
from .markdown_model import Page
from .paths import LANGS, NOTEBOOKS, lang_dir

TEXT_FILES = {lang: NOTEBOOKS / "data" / f"handbook_{lang}.txt" for lang in LANGS}
QUESTIONS_FILE = NOTEBOOKS / "data" / "handbook_questions.json"


def write() -> list:
    reg = registry.load()
    texts, questions = {lang: [] for lang in LANGS}, []
    titles = {lang: registry.titles(lang) for lang in LANGS}
    for chapter in reg.chapters:
        pages = {lang: Page.read(lang_dir(lang) / "chapters" / f"{chapter['slug']}.md") for lang in LANGS}
        for lang, page in pages.items():
            texts[lang].append(page.plain())
        for heading in pages["zh"].questions():
            qid = heading.id
            entry = {"id": qid, "chapter": chapter["slug"], "title_zh": titles["zh"][qid], "title_en": titles["en"].get(qid, "")}
            for lang, page in pages.items():
                section = page.section(page.heading(qid))
                entry[f"answer_{lang}"] = page.plain(section.start, section.end)
            questions.append(entry)
    for lang, path in TEXT_FILES.items():
        path.write_text("\n".join(texts[lang]) + "\n", encoding="utf-8")
    QUESTIONS_FILE.write_text(json.dumps(questions, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return [*TEXT_FILES.values(), QUESTIONS_FILE]
