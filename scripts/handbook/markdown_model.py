"""The one Markdown model of the handbook: a page read once into headings, fenced blocks,
admonitions and sections, each with its line numbers, and the plain prose of any part of it.

Parsed with markdown-it-py and the plugins for the syntax the site uses (admonitions, math,
footnotes, definition lists, tables). Everything that needs to know what a page holds (the registry,
the snippet runner, the lab corpus, the generated pages, the search index and the hooks) reads it
through this module, so a fence, a heading or an admonition is recognised the same way everywhere.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.admon import admon_plugin
from mdit_py_plugins.deflist import deflist_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.footnote import footnote_plugin

from .content import where

# `### 3. 如何评估？ {#q-evaluate-llm}`: the explicit id of attr_list, with optional classes after it
_HEADING_ID = re.compile(r"\s*\{\s*#([A-Za-z0-9_-]+)[^}]*\}\s*$")
_ATTR_LIST = re.compile(r"^\{:[^}]*\}$")        # a paragraph that is only `{: .class }` (attr_list)


@dataclass(frozen=True)
class Heading:
    line: int               # 1-based line of the heading
    level: int
    text: str               # the heading's Markdown text without its `{#id}`
    id: str | None          # the explicit id, or None


@dataclass(frozen=True)
class Fence:
    line: int               # 1-based line of the opening fence
    lang: str               # the info string's language, lower case ("" when none)
    code: str               # the code, dedented to the fence, ending with a newline


@dataclass(frozen=True)
class Admonition:
    line: int               # 1-based line of `!!! kind "title"`
    kind: str               # warning, tip, keypoints, ...
    title: str
    end: int                # 1-based line after its last line
    tokens: tuple[Token, ...] = field(repr=False, compare=False)   # the body's, without the title

    def sources(self) -> list[str]:
        """The Markdown of each paragraph or list item in the body, in order, each on one line."""
        return [" ".join(t.content.split("\n")) for t in self.tokens if t.type == "inline"]

    def items(self) -> list[Token]:
        """The inline token of each top-level list item's first paragraph."""
        depth, out, take = 0, [], False
        for t in self.tokens:
            if t.type in ("bullet_list_open", "ordered_list_open"):
                depth += 1
            elif t.type in ("bullet_list_close", "ordered_list_close"):
                depth -= 1
            elif t.type == "list_item_open" and depth == 1:
                take = True
            elif t.type == "inline" and take:
                out.append(t)
                take = False
        return out


@dataclass(frozen=True)
class Section:
    heading: Heading | None  # None: the part before the first heading
    start: int               # 1-based first line after the heading (or 1)
    end: int                 # 1-based line where the next heading of the same or a higher level starts (exclusive)


@functools.lru_cache(maxsize=1)
def _renderer() -> MarkdownIt:
    """For short inline Markdown shown outside the pages (practice page, Anki decks): math as MathML."""
    from .mathml import to_mathml

    md = MarkdownIt("commonmark").use(dollarmath_plugin)
    # the formula as bare MathML, as on the chapter pages (the plugin would wrap it in a span of its own)
    md.add_render_rule("math_inline", lambda self, tokens, idx, options, env: to_mathml(tokens[idx].content, False))
    return md


def render_inline(markdown: str) -> str:
    """One line of inline Markdown as HTML (links, code, emphasis, $math$)."""
    return _renderer().renderInline(markdown)


@functools.lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return (MarkdownIt("commonmark").enable("table")
            .use(admon_plugin).use(dollarmath_plugin).use(footnote_plugin).use(deflist_plugin))


class Page:
    """A Markdown page, parsed once."""

    def __init__(self, text: str, where: str = "<markdown>"):
        self.text, self.where = text, where
        self.lines = text.splitlines()
        self.tokens = _parser().parse(text)
        self.headings: list[Heading] = []
        self.fences: list[Fence] = []
        self.admonitions: list[Admonition] = []
        stack: list[tuple[int, Token]] = []
        for i, t in enumerate(self.tokens):
            if t.type == "heading_open":
                raw = self.tokens[i + 1].content
                m = _HEADING_ID.search(raw)
                text_ = raw[: m.start()] if m else raw
                self.headings.append(Heading(t.map[0] + 1, int(t.tag[1]), text_.strip(), m.group(1) if m else None))
            elif t.type == "fence":
                self.fences.append(Fence(t.map[0] + 1, (t.info.split() or [""])[0].strip("{}.").lower(), t.content))
            elif t.type == "admonition_open":
                stack.append((i, t))
            elif t.type == "admonition_close":
                j, opener = stack.pop()
                titled = self.tokens[j + 1].type == "admonition_title_open"
                title = self.tokens[j + 2].content if titled else ""
                self.admonitions.append(Admonition(opener.map[0] + 1, opener.meta.get("tag", ""), title,
                                                   opener.map[1] + 1, tuple(self.tokens[j + (4 if titled else 1):i])))
        self.admonitions.sort(key=lambda a: a.line)

    @classmethod
    def read(cls, path: Path) -> "Page":
        return _read(path, path.stat().st_mtime_ns)

    @classmethod
    def of(cls, text: str, where: str) -> "Page":
        """A page's text parsed, or the page already parsed from the same text (the build checks the chapters
        before it renders them: each is parsed once per build)."""
        return _parse(text, where)

    # --- sections -------------------------------------------------------------------------------

    def section(self, heading: Heading) -> Section:
        """The lines that belong to a heading: up to the next heading of the same or a higher level."""
        after = [h for h in self.headings if h.line > heading.line and h.level <= heading.level]
        return Section(heading, heading.line + 1, after[0].line if after else len(self.lines) + 1)

    def heading(self, hid: str) -> Heading | None:
        return next((h for h in self.headings if h.id == hid), None)

    def questions(self) -> list[Heading]:
        """The question headings (ids starting with `q-`), in page order."""
        return [h for h in self.headings if h.id and h.id.startswith("q-")]

    def source(self, section: Section) -> str:
        """The Markdown text of a section (without its heading)."""
        return "\n".join(self.lines[section.start - 1 : section.end - 1])

    def question_of(self, line: int) -> str | None:
        """The id of the question whose section holds a line, if any."""
        for h in reversed(self.questions()):
            if h.line <= line < self.section(h).end:
                return h.id
        return None

    def admonitions_in(self, section: Section, kind: str | None = None) -> list[Admonition]:
        return [a for a in self.admonitions if section.start <= a.line < section.end and (kind is None or a.kind == kind)]

    # --- prose ----------------------------------------------------------------------------------

    def plain(self, start: int = 1, end: int | None = None, skip: tuple[str, ...] = ()) -> str:
        """The prose between two lines as plain text, one block per line: no code blocks, formulas,
        link targets or markup; admonition titles dropped and the admonitions of the `skip` kinds left out."""
        end = end or len(self.lines) + 1
        out, skipped = [], []  # skipped: for each open admonition, whether it is left out
        for t in self.tokens:
            if t.type == "admonition_open":
                skipped.append(t.meta.get("tag") in skip)
                continue
            if t.type == "admonition_close":
                skipped.pop()
                continue
            if any(skipped) or t.type != "inline" or t.map is None or not (start <= t.map[0] + 1 < end):
                continue
            if _ATTR_LIST.match(t.content.strip()) or self._is_admonition_title(t):
                continue
            text = inline_text(t)
            if text:
                out.append(text)
        return "\n".join(out)

    def paragraphs(self, start: int = 1, end: int | None = None) -> list[str]:
        """The plain text of each paragraph between two lines (list items' and admonitions' included; table
        cells, headings and admonition titles are not paragraphs)."""
        end = end or len(self.lines) + 1
        return [inline_text(t) for prev, t in zip(self.tokens, self.tokens[1:])
                if prev.type == "paragraph_open" and t.map and start <= t.map[0] + 1 < end
                and not _ATTR_LIST.match(t.content.strip())]

    def _is_admonition_title(self, token: Token) -> bool:
        return any(a.line == token.map[0] + 1 and a.title == token.content for a in self.admonitions)


@functools.lru_cache(maxsize=256)
def _read(path: Path, mtime_ns: int) -> Page:
    return _parse(path.read_text(encoding="utf-8"), where(path))


@functools.lru_cache(maxsize=256)
def _parse(text: str, where_: str) -> Page:
    return Page(text, where_)


def inline_text(token: Token) -> str:
    """The visible text of an inline token: link text without targets, inline code kept, math and HTML dropped."""
    if token.type != "inline":
        return ""
    parts = []
    for child in token.children or ():
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":
            parts.append(child.content)
    text = "".join(parts)
    m = _HEADING_ID.search(text)
    return (text[: m.start()] if m else text).strip()


def links(token: Token) -> list[str]:
    """The targets of the links in an inline token, in order."""
    return [c.attrs.get("href", "") for c in token.children or () if c.type == "link_open"]