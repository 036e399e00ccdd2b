"""The one registry (docs/registry.yml) and what the chapters say about it."""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

from .content import ContentError, read_yaml, where
from .markdown_model import Page
from .paths import DOCS, NOTEBOOKS, lang_dir

REGISTRY_FILE = DOCS / "registry.yml"
DIFFICULTIES = ("basic", "intermediate", "advanced")



EDITORIAL = "editorial"      # the source of a Part 2 question: written for this handbook, not from an article


@dataclass(frozen=True)
class Question:
    id: str
    chapter: str
    article: str | None        # the seed article (Part 1), or None for an editorial question (Part 2)
    section: str | None        # its place in the article, e.g. "面试题 2"
    topic: str
    difficulty: str
    labs: tuple[str, ...] = ()
    same_as: str | None = None

    @property
    def editorial(self) -> bool:
        return self.article is None

    @property
    def canonical_id(self) -> str:
        """The id a group of repeated questions is kept under: the question the others are `same_as`."""
        return self.same_as or self.id


@dataclass(frozen=True)
class Registry:
    topics: dict
    chapters: list[dict]
    labs: list[str]           # in reading order; each is notebooks/<slug>.py
    questions: dict[str, Question] = field(default_factory=dict)

    def part(self, number: int) -> list[dict]:
        """The chapters of Part 1 (the five articles, corrected) or Part 2 (written for this handbook)."""
        return [c for c in self.chapters if c.get("part", 1) == number]

    def unique_questions(self) -> list[Question]:
        """Each question once: a group of repeated questions (`same_as`) by its canonical question, in registry order."""
        return [q for q in self.questions.values() if not q.same_as]



@functools.lru_cache(maxsize=1)
def _load(mtime: float) -> Registry:
    data = read_yaml(REGISTRY_FILE)
    name = where(REGISTRY_FILE)
    if not isinstance(data, dict) or not all(isinstance(data.get(k), t) for k, t in
                                             (("topics", dict), ("chapters", list), ("labs", list), ("questions", dict))):
        raise ContentError(f"{name}: needs the four sections `topics:` (a mapping), `chapters:` and `labs:` (lists) and `questions:` (a mapping)")
    chapters = data["chapters"]
    for n, c in enumerate(chapters, 1):
        if not isinstance(c, dict) or "slug" not in c or ("article" not in c and c.get("part") != 2):
            raise ContentError(f"{name}: chapter {n} needs a `slug` and either `article` and `title` (Part 1) or `part: 2`")
    by_article = {c["article"]: c["slug"] for c in chapters if "article" in c}
    questions = {}
    for qid, meta in data["questions"].items():
        missing = [k for k in ("source", "topic", "difficulty") if not isinstance(meta, dict) or k not in meta]
        if missing:
            raise ContentError(f"{name}: question {qid} lacks {', '.join(f'`{k}`' for k in missing)}")
        if meta["source"] == EDITORIAL:
            if "chapter" not in meta:
                raise ContentError(f"{name}: question {qid} is editorial but names no `chapter:`")
            article = section = None
            chapter = meta["chapter"]
        else:
            if not (isinstance(meta["source"], list) and len(meta["source"]) == 2 and meta["source"][0] in by_article):
                raise ContentError(f"{name}: question {qid} has source {meta['source']!r}; use [<article of a chapter>, <its place>] "
                                   f"with an article among {sorted(by_article)}, or `editorial`")
            article, section = meta["source"]
            chapter = by_article[article]
        questions[qid] = Question(
            id=qid,
            chapter=chapter,
            article=article,
            section=section,
            topic=meta["topic"],
            difficulty=meta["difficulty"],
            labs=tuple(meta.get("labs", ())),
            same_as=meta.get("same_as"),
        )
    return Registry(topics=data["topics"], chapters=chapters, labs=data["labs"], questions=questions)


def load() -> Registry:
    return _load(REGISTRY_FILE.stat().st_mtime)


def problems(reg: Registry) -> list[str]:
    """Inconsistencies inside the registry itself, each a sentence that says what to fix."""
    out = []
    part2 = {c["slug"] for c in reg.part(2)}
    for q in reg.questions.values():
        if q.editorial and q.chapter not in part2:
            out.append(f"{REGISTRY_FILE.name}: {q.id} is editorial but its chapter {q.chapter!r} is not a Part 2 chapter (`part: 2` under chapters)")
        if q.topic not in reg.topics:
            out.append(f"{REGISTRY_FILE.name}: {q.id} has unknown topic {q.topic!r}; use one of {sorted(reg.topics)}")
        if q.difficulty not in DIFFICULTIES:
            out.append(f"{REGISTRY_FILE.name}: {q.id} has difficulty {q.difficulty!r}; use one of {DIFFICULTIES}")
        for lab in q.labs:
            if lab not in reg.labs:
                out.append(f"{REGISTRY_FILE.name}: {q.id} names lab {lab!r}, which is not in the labs list")
        if q.same_as and q.same_as not in reg.questions:
            out.append(f"{REGISTRY_FILE.name}: {q.id} is same_as {q.same_as!r}, which is not a question")
        if q.same_as and reg.questions.get(q.same_as, q).same_as:
            out.append(f"{REGISTRY_FILE.name}: {q.id} is same_as {q.same_as!r}, which itself points elsewhere; point at the canonical id")
    return out


def same_question_group(reg: Registry, qid: str) -> list[str]:
    """Every id asked as the same question as `qid` (itself included), in registry order."""
    root = reg.questions[qid].canonical_id
    return [q.id for q in reg.questions.values() if q.canonical_id == root]


def chapter_questions(lang: str, slug: str) -> list[tuple[str, str]]:
    """(id, heading text) of each question heading in a chapter, in page order."""
    path = lang_dir(lang) / "chapters" / f"{slug}.md"
    if not path.exists():
        return []
    return [(h.id, h.text) for h in Page.read(path).questions()]


def clean_title(text: str) -> str:
    """A question heading's text without the article's numbering (`3. ` or `练习 2：`)."""
    return re.sub(r"^(?:练习\s*|Exercise\s*)?\d+[.、:：]\s*", "", text).strip()


def titles(lang: str) -> dict[str, str]:
    """Question id -> its heading text (without the article's numbering), read from the chapters."""
    return {qid: clean_title(t) for c in load().chapters for qid, t in chapter_questions(lang, c["slug"])}


def page_title(lang: str, slug: str) -> str:
    """A chapter's title: its first-level heading."""
    return next(h.text for h in Page.read(lang_dir(lang) / "chapters" / f"{slug}.md").headings if h.level == 1)
