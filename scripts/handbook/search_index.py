"""The handbook's own search index: prose first, one entry per question or lab section.

Material's search plugin indexes the rendered pages: every code cell and output of the labs (most of
the text), the copy buttons' labels, the generated pages that repeat the questions. Readers look for
questions and their answers. This index is built from the sources instead, through the Markdown model:

- a question (kind "q"): its title, the first line of its answer (the result's snippet) and the prose
  of its section, key points included, follow-ups, code, formulas and the references line left out;
  past its first VERBATIM_CHARS characters, the prose is kept as its vocabulary (each word once);
- a lab section ("l"): its heading and first line (the lab's prose explains its code; the questions it
  demonstrates hold the explanations); a page's introduction ("i": a chapter's source note, a lab's
  summary, the home page's lead) and its other sections ("p"); a glossary term ("g") with its definition, for
  the terms no question explains (a term that one explains leads to its questions through the synonyms);
- for the zh site, the segmentation dictionary: jieba's words (with the glossary taught to it) that
  occur in the text, with jieba's own costs, so that the browser cuts a query as jieba cut the text;
- the synonyms: every glossary term's names in both languages and its `aka` names, with the questions
  that explain it.

docs/overrides/assets/javascripts/search-worker.js loads it with the engine (search-engine.js) on the first
query, and the engine ranks.
Material's own index file becomes a stub that carries only the configuration and this file's name.
"""
from __future__ import annotations

import functools
import hashlib
import json
import math
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path

from . import glossary, lab_sources, registry
from .markdown_model import Heading, Page
from .paths import lang_dir

# what a result snippet holds: the first sentence(s) of the answer, cut near this many characters
SNIPPET_CHARS = {"zh": 90, "en": 200}
# How much of a question's prose is kept word for word (the short answer and a paragraph or two): there a
# word counts each time it occurs and phrases match across words. Past it the index holds each further
# word once, which keeps every word findable in two thirds of the bytes (BUDGET_KB).
VERBATIM_CHARS = {"zh": 800, "en": 2000}
REFERENCES = {"zh": "参考：", "en": "References:"}   # a question's sources, there to check it, not to find it
BUDGET_KB = 200   # gzip, per language: every reader downloads it on the first query (tests, scripts/bench.py)
QUESTION_LABEL = {"zh": ("题目：", "答案："), "en": ("Question:", "Answer:")}
INDEX_DIR = "search"
WORKER = "assets/javascripts/search-worker.js"   # docs/overrides/; named in base.html's config block
ENGINE = "assets/javascripts/search-engine.js"   # docs/overrides/; the worker loads it on the first query


@dataclass
class Doc:
    kind: str          # q question, l lab section, i a page's introduction, p other page section, g glossary term
    location: str      # site-relative URL with #anchor
    title: str
    text: str          # plain prose, blocks separated by newlines
    snippet: tuple[int, int, bool]   # where the result's snippet lies in text (see _snippet)
    page: int          # index into the page list (title and URL of the page the doc is on)


def page_url(src_uri: str, directory_urls: bool) -> str:
    """The site-relative URL of a page source path, in this build's style."""
    stem = src_uri.rsplit(".", 1)[0]
    if stem == "index" or stem.endswith("/index"):
        stem = stem[: -len("index")]
        return stem if directory_urls else stem + "index.html"
    return f"{stem}/" if directory_urls else f"{stem}.html"


def _snippet(text: str, paragraphs: list[str], lang: str) -> tuple[int, int, bool]:
    """Where the first line of an answer lies in its text, as (start, end, cut): its first paragraph
    (not a table cell), without the restated question and the answer label, ending after the sentence
    that passes SNIPPET_CHARS (cut: ended mid-sentence, the reader sees an ellipsis)."""
    question, answer = QUESTION_LABEL[lang]
    first = next((p for p in paragraphs if p and not p.startswith(question)), "")
    start = text.find(first) if first else 0
    if first.startswith(answer):
        rest = first[len(answer):].lstrip()
        start += len(first) - len(rest)
        first = rest
    limit = SNIPPET_CHARS[lang]
    if len(first) <= limit:
        return start, start + len(first), False
    ends = [m.end() for m in re.finditer(r"[。！？；]|[.!?;:](?=\s)", first) if limit * 0.6 <= m.end() <= limit * 1.6]
    return (start, start + ends[0], False) if ends else (start, start + limit, True)


def _clean_title(text: str) -> str:
    """A heading's text without the article's numbering and inline markup."""
    return re.sub(r"[*`]", "", registry.clean_title(text)).strip()


# what a word is, for the vocabulary: a glossary name of several Latin words (kept whole: "teacher
# forcing"), a run of Han characters (cut by jieba, taught the glossary), a Latin word
_HAN_RUN = r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+"
_LATIN_WORD = r"[A-Za-z0-9]+(?:['.][A-Za-z0-9]+)*"


@functools.lru_cache(maxsize=1)
def _word_pattern() -> re.Pattern:
    return re.compile(f"({glossary.phrase_pattern().pattern})|({_HAN_RUN})|{_LATIN_WORD}", re.I)


def _words(text: str) -> list[tuple[int, str]]:
    """The words of a text with where each ends."""
    import jieba

    glossary.teach_segmenter()
    out = []
    for m in _word_pattern().finditer(text):
        if m.group(2):
            end = m.start()
            for w in jieba.cut(m.group(0), HMM=False):
                end += len(w)
                out.append((end, w))
        else:
            out.append((m.end(), m.group(0)))
    return out


def without_references(text: str, lang: str) -> str:
    """Plain text (a block per line) without its references lines."""
    return "\n".join(line for line in text.split("\n") if not line.startswith(REFERENCES[lang]))


def _condensed(text: str, keep: int) -> str:
    """The text's first `keep` characters (to the end of the word there), then each word of the rest that is
    not in them, once, in order of appearance; separated by a character that the engine reads as punctuation,
    so no phrase spans two of them."""
    words = _words(text)
    cut = next((end for end, _ in words if end >= keep), len(text))
    seen = {w.lower() for end, w in words if end <= cut}
    rest = []
    for end, w in words:
        if end > cut and w.lower() not in seen:
            seen.add(w.lower())
            rest.append(w)
    return text[:cut] + ("\n" + ";".join(rest) if rest else "")


class _Builder:
    def __init__(self, lang: str, directory_urls: bool):
        self.lang, self.dirs = lang, directory_urls
        self.pages: list[list[str]] = []
        self.docs: list[Doc] = []

    def add_page(self, src_uri: str, title: str) -> int:
        self.pages.append([page_url(src_uri, self.dirs), _clean_title(title)])
        return len(self.pages) - 1

    def add(self, kind: str, page: int, anchor: str | None, title: str, text: str, paragraphs: list[str]) -> None:
        if not text.strip() and kind != "q":
            return
        text = without_references(text, self.lang)
        snippet = _snippet(text, paragraphs, self.lang)
        if kind == "q":
            text = _condensed(text, max(snippet[1], VERBATIM_CHARS[self.lang]))
        elif kind == "l":
            text = text[: snippet[1]]
        location = self.pages[page][0] + (f"#{anchor}" if anchor else "")
        self.docs.append(Doc(kind, location, _clean_title(title), text, snippet, page))

    def markdown_page(self, src_uri: str) -> None:
        page = Page.read(lang_dir(self.lang) / src_uri)
        title = next((h.text for h in page.headings if h.level == 1), src_uri)
        pid = self.add_page(src_uri, title)
        heads = [h for h in page.headings if h.level >= 2]
        first = heads[0].line if heads else len(page.lines) + 1
        self.add("i", pid, None, title, page.plain(1, first), page.paragraphs(1, first))
        for h in heads:
            if h.id and h.id.startswith("q-"):
                section = page.section(h)
                self.add("q", pid, h.id, h.text, page.plain(section.start, section.end, skip=("followups",)),
                         page.paragraphs(section.start, section.end))
            elif h.level == 2 and h.id:  # a chapter part: only its own lead text (its questions are docs of their own)
                end = next((x.line for x in heads if x.line > h.line), len(page.lines) + 1)
                self.add("p", pid, h.id, h.text, page.plain(h.line + 1, end), page.paragraphs(h.line + 1, end))

    def lab(self, slug: str) -> None:
        page = lab_sources.markdown(slug, self.lang)
        heads: list[Heading] = page.headings
        if not heads:
            return
        ids = lab_sources.heading_ids(slug)
        pid = self.add_page(f"labs/{slug}.ipynb", heads[0].text)
        for n, h in enumerate(heads):
            end = heads[n + 1].line if n + 1 < len(heads) else len(page.lines) + 1
            self.add("l" if n else "i", pid, ids[n] if n else None, h.text, page.plain(h.line + 1, end), page.paragraphs(h.line + 1, end))

    def glossary_terms(self) -> None:
        pid = self.add_page("glossary.md", glossary.TITLE[self.lang])
        other = "en" if self.lang == "zh" else "zh"
        for t in glossary.terms():
            if t.get("questions"):  # found through the questions that explain it (the synonyms name them)
                continue
            definition = t[f"{self.lang}_def"]
            self.add("g", pid, glossary.anchor(t), f"{t[self.lang]} · {t[other]}", definition, [definition])


def build(lang: str, directory_urls: bool) -> dict:
    """The index of one language's site."""
    b = _Builder(lang, directory_urls)
    reg = registry.load()
    b.markdown_page("index.md")
    for chapter in reg.chapters:
        b.markdown_page(f"chapters/{chapter['slug']}.md")
    for slug in reg.labs:
        b.lab(slug)
    b.glossary_terms()
    index = {
        "lang": lang,
        "pages": b.pages,
        "docs": [[d.kind, d.location, d.title, d.text, d.page, *d.snippet] for d in b.docs],
        "synonyms": glossary.synonyms(),
    }
    if lang == "zh":
        index["dict"], index["unknown"] = segmentation_dictionary([d.title + "\n" + d.text for d in b.docs])
    return index


def segmentation_dictionary(texts: list[str]) -> tuple[dict[str, str], int]:
    """Every multi-character word jieba (taught the glossary) finds in the text, with jieba's cost for it
    (-log of its frequency share, in tenths): the browser cuts queries with the same words and costs.
    Written as cost -> the words of that cost, space-separated (a third the size of word -> cost); and
    the cost of a character no word covers (jieba's cost of an unseen word)."""
    import jieba

    glossary.teach_segmenter()
    freq, total = jieba.dt.FREQ, jieba.dt.total
    # search mode also yields the words inside longer ones (注入 in 提示注入), so a query can name a part
    chinese_word = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]{2,}")  # what the browser cuts: runs of Han
    words = {w for text in texts for w in jieba.cut_for_search(text, HMM=False) if chinese_word.fullmatch(w)}
    words |= {s for s in glossary.chinese_surfaces() if chinese_word.fullmatch(s)}
    by_cost: dict[str, list[str]] = {}
    for w in sorted(words):
        by_cost.setdefault(str(round(-10 * math.log(max(freq.get(w, 0), 1) / total))), []).append(w)
    dictionary = {cost: " ".join(ws) for cost, ws in sorted(by_cost.items(), key=lambda kv: int(kv[0]))}
    return dictionary, round(10 * math.log(total))


def script(index: dict) -> str:
    """The index as the script the worker loads (importScripts, which also works from file://): JSON in
    a string given to JSON.parse, which V8 reads faster than the same data as an object literal."""
    data = json.dumps(index, ensure_ascii=False, separators=(",", ":"))
    literal = data.replace("\\", "\\\\").replace("'", "\\'").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return f"self.handbookIndex=JSON.parse('{literal}');\n"


def write(site_dir: str, lang: str, directory_urls: bool, material_config: dict) -> Path:
    """Write the index under a content-hashed name, and Material's index as a stub that names it."""
    text = script(build(lang, directory_urls))
    folder = Path(site_dir) / INDEX_DIR
    folder.mkdir(exist_ok=True)
    for old in folder.glob(f"handbook-{lang}.*.js"):
        old.unlink()
    target = folder / f"handbook-{lang}.{hashlib.sha256(text.encode()).hexdigest()[:10]}.js"
    target.write_text(text, encoding="utf-8")
    # the worker resolves the index against its own URL (it does not know the page's)
    relative = posixpath.relpath(f"{INDEX_DIR}/{target.name}", posixpath.dirname(WORKER))
    stub = {"config": {**material_config, "index": relative}, "docs": []}
    (folder / "search_index.json").write_text(json.dumps(stub, ensure_ascii=False), encoding="utf-8")
    return target
