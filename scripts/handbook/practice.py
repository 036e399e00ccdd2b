"""Key points and follow-ups: kept once, beside each answer, as two admonitions at the end of the
question's section (CONTRIBUTING.md):

    !!! keypoints "要点"            3 to 6 points an interviewer expects to hear
    !!! followups "追问"            1 to 3 next questions, each ending with a link where the handbook answers it

The chapters show them as they are; the practice mode, the mock interview page, questions.json and
the Anki decks are generated from what this module reads. The build fails, naming the file and the
question, when one is missing, out of bounds or links nowhere.
"""
from __future__ import annotations

import posixpath
from dataclasses import dataclass

from . import lab_sources, registry
from .content import where
from .markdown_model import Page, links
from .paths import LANGS, lang_dir

KEY_POINTS = (3, 6)
FOLLOW_UPS = (1, 3)
TITLES = {"keypoints": {"zh": "要点", "en": "Key points"}, "followups": {"zh": "追问", "en": "Follow-ups"}}


@dataclass(frozen=True)
class FollowUp:
    text: str             # the question, inline Markdown, without its link
    target: str | None    # where the handbook answers it: `chapters/<slug>.md#<id>` or `labs/<slug>.ipynb[#<id>]`
    title: str | None     # the link's text


@dataclass(frozen=True)
class Practice:
    key_points: tuple[str, ...]       # inline Markdown
    follow_ups: tuple[FollowUp, ...]


def _follow_up(token, chapter_path: str) -> FollowUp:
    """A follow-up item: its question, and the link at its end (resolved to a docs path) if it has one."""
    hrefs = links(token)
    if not hrefs:
        return FollowUp(token.content.strip(), None, None)
    path, _, anchor = hrefs[-1].partition("#")
    path = posixpath.normpath(posixpath.join(posixpath.dirname(chapter_path), path)) if path else chapter_path
    return FollowUp(token.content[: token.content.rfind("[")].strip(), path + (f"#{anchor}" if anchor else ""), _link_text(token))


def _link_text(token) -> str:
    """The text of the last link of an inline token."""
    out, inside = [], False
    for child in token.children or ():
        if child.type == "link_open":
            out, inside = [], True
        elif child.type == "link_close":
            inside = False
        elif inside and child.type in ("text", "code_inline"):
            out.append(child.content)
    return "".join(out).strip()


def read(lang: str, chapter: str) -> dict[str, Practice | str]:
    """question id -> its key points and follow-ups, or a sentence saying what is wrong with them."""
    path = lang_dir(lang) / "chapters" / f"{chapter}.md"
    page = Page.read(path)
    out: dict[str, Practice | str] = {}
    for heading in page.questions():
        section = page.section(heading)
        found = {kind: page.admonitions_in(section, kind) for kind in TITLES}
        at = f"{where(path)}:{heading.line}: question {heading.id}"
        if not found["keypoints"] or not found["followups"]:
            missing = " and ".join(f'`!!! {kind} "{TITLES[kind][lang]}"`' for kind in TITLES if not found[kind])
            out[heading.id] = f"{at} has no {missing} at the end of its section; add (see CONTRIBUTING.md, Key points and follow-ups)"
            continue
        points = [t.content.strip() for t in found["keypoints"][0].items()]
        ups = [_follow_up(t, f"chapters/{chapter}.md") for t in found["followups"][0].items()]
        (low, high), (flow, fhigh) = KEY_POINTS, FOLLOW_UPS
        if not low <= len(points) <= high:
            out[heading.id] = f"{at} has {len(points)} key points; give {low} to {high}"
        elif not flow <= len(ups) <= fhigh:
            out[heading.id] = f"{at} has {len(ups)} follow-ups; give {flow} to {fhigh}"
        else:
            out[heading.id] = Practice(tuple(points), tuple(ups))
    return out


def _target_problem(target: str, reg: registry.Registry) -> str | None:
    path, _, anchor = target.partition("#")
    if path.startswith("chapters/") and path.endswith(".md"):
        slug = path[len("chapters/"):-3]
        if slug not in {c["slug"] for c in reg.chapters}:
            return f"links {target}, which is not a chapter"
        ids = {h.id for h in Page.read(lang_dir(LANGS[0]) / path).headings if h.id}
        return None if not anchor or anchor in ids else f"links #{anchor}, which is not a heading of {path}"
    if path.startswith("labs/") and path.endswith(".ipynb"):
        slug = path[len("labs/"):-6]
        if slug not in reg.labs:
            return f"links {target}, which is not a lab"
        return None if not anchor or anchor in lab_sources.heading_ids(slug) else f"links #{anchor}, which is not a section of lab {slug}"
    return f"links {target}; a follow-up links a question (`chapter.md#q-id`) or a lab (`../labs/<slug>.ipynb`)"


def problems() -> list[str]:
    """Every question, both languages: key points and follow-ups present, within bounds, linking somewhere real."""
    reg, out = registry.load(), []
    for chapter in reg.chapters:
        for lang in LANGS:
            path = lang_dir(lang) / "chapters" / f"{chapter['slug']}.md"
            if not path.exists():
                continue  # consistency.chapters reports it
            for qid, practice in read(lang, chapter["slug"]).items():
                if isinstance(practice, str):
                    out.append(practice)
                    continue
                for n, up in enumerate(practice.follow_ups, 1):
                    problem = _target_problem(up.target, reg) if up.target else None
                    if problem:
                        out.append(f"{where(path)}: question {qid}, follow-up {n} {problem}; fix the link")
    return out


def all_questions(lang: str) -> dict[str, Practice]:
    """Every question's key points and follow-ups in one language (the content is consistent: see problems)."""
    reg = registry.load()
    return {qid: p for c in reg.chapters for qid, p in read(lang, c["slug"]).items() if isinstance(p, Practice)}
