"""Anki decks of the handbook's questions (genanki): handbook-zh.apkg and handbook-en.apkg, one per site.

One note per question (a group of repeated questions, registry `same_as`, is one note under its first
id): the question on the front; its key points, follow-ups and the link to the answer on the back;
tagged by topic and difficulty. The note's GUID comes from the question id, so importing a newer deck
updates the cards a reader already studies instead of adding copies.
"""
from __future__ import annotations

import html
import tempfile
from pathlib import Path

import genanki

from . import practice, registry, urls
from .markdown_model import render_inline

# fixed ids: Anki recognises the same note type and deck in every release
MODEL_ID = 1_766_200_001
DECK_ID = {"zh": 1_766_200_101, "en": 1_766_200_102}
DECK_NAME = {"zh": "AI 大模型创业：面试题", "en": "AI Large Models for Startups: interview questions"}
LABELS = {"zh": {"points": "要点", "followups": "追问", "answer": "完整答案"},
          "en": {"points": "Key points", "followups": "Follow-ups", "answer": "Full answer"}}
CSS = """.card { font-family: system-ui, sans-serif; font-size: 18px; line-height: 1.5; text-align: left; max-width: 40em; margin: auto; }
h2 { font-size: 0.9em; text-transform: uppercase; letter-spacing: .05em; color: #666; margin: 1.2em 0 .3em; }
li { margin: .2em 0; }"""
MODEL = genanki.Model(
    MODEL_ID, "Handbook question",
    fields=[{"name": "Question"}, {"name": "KeyPoints"}, {"name": "FollowUps"}, {"name": "Link"}],
    templates=[{"name": "Question → key points",
                "qfmt": "{{Question}}",
                "afmt": "{{FrontSide}}<hr id=answer>{{KeyPoints}}{{FollowUps}}{{Link}}"}],
    css=CSS,
)


def file_name(lang: str) -> str:
    return f"handbook-{lang}.apkg"


def deck(lang: str, root: str) -> genanki.Deck:
    """The deck of one language; `root` is that site's hosted URL (links open the hosted answer)."""
    reg, names, drills, label = registry.load(), registry.titles(lang), practice.all_questions(lang), LABELS[lang]
    out = genanki.Deck(DECK_ID[lang], DECK_NAME[lang])
    for q in reg.unique_questions():
        drill = drills[q.id]
        points = "".join(f"<li>{render_inline(p)}</li>" for p in drill.key_points)
        follow = "".join(
            f"<li>{render_inline(f.text)}" + (f' <a href="{html.escape(root + urls.site_path(f.target))}">→</a>' if f.target else "") + "</li>"
            for f in drill.follow_ups)
        answer = root + urls.site_path(f"chapters/{q.chapter}.md#{q.id}")
        out.add_note(genanki.Note(
            model=MODEL,
            fields=[render_inline(names[q.id]),
                    f"<h2>{label['points']}</h2><ul>{points}</ul>",
                    f"<h2>{label['followups']}</h2><ul>{follow}</ul>",
                    f'<p><a href="{html.escape(answer)}">{label["answer"]}</a></p>'],
            tags=[f"topic::{q.topic}", f"difficulty::{q.difficulty}"],
            guid=genanki.guid_for(q.id),
        ))
    return out


def package(lang: str, root: str) -> bytes:
    """The .apkg file (a zip holding Anki's SQLite collection) of one language's deck."""
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / file_name(lang)
        genanki.Package(deck(lang, root)).write_to_file(str(target))
        return target.read_bytes()
