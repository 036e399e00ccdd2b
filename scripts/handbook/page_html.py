"""What the build changes in a page's HTML, done on a parsed tree (BeautifulSoup), one parse per page,
in the plugin's on_page_content.

Every page: formulas become MathML (no MathJax or KaTeX shipped) and pygments' spans around names
and whitespace go (both themes draw them in the code's own colour: a sixth of a chapter's elements and
a quarter of a lab page's, each costing style and layout time on a phone).
Chapters: the first use of each glossary term in a question gets its translation as a tooltip, and
each question heading a "copy link" button holding the question's hosted URL.
Lab pages (mkdocs-jupyter): links to chapters point at this build's URLs, headings get the ids the
executor chose, the ~590 KB of inlined Jupyter CSS goes to one shared stylesheet, MathJax's and
Mermaid's unused script slots go, plots become lazy, sized WebP files with alt text naming their
section, and a download button for the notebook leads the page. Each page's result is cached by what
it is computed from (page_cache.py): these parses are most of a rebuild's time.
"""
from __future__ import annotations

import hashlib
import html as html_lib
import json
import posixpath
from pathlib import Path

from bs4 import BeautifulSoup, Comment, NavigableString

from . import glossary, mathml, page_cache, plots

SHARED_CSS = "assets/stylesheets/jupyter.css"
COPY_LINK = {"zh": ("复制链接", "复制这道题在网站上的链接"), "en": ("Copy link", "Copy the link to this question on the website")}
DOWNLOAD = {"zh": "下载这个笔记本（.ipynb，中文说明）", "en": "Download this notebook (.ipynb, English prose)"}
PLOT_ALT = {"zh": "图：{section}（上方代码单元格的输出）", "en": "Plot: {section} (output of the code cell above)"}
NBCONVERT_ALT = "No description has been provided for this image"
_MATHJAX_COMMENTS = ("Load mathjax", "MathJax configuration", "End of mathjax configuration")


def _parse(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


# --- every page -------------------------------------------------------------------------------------

def render_math(soup: BeautifulSoup) -> None:
    """pymdownx.arithmatex (generic mode) wraps each formula as \\(...\\) or \\[...\\] in a span or div."""
    for el in soup.select("span.arithmatex, div.arithmatex"):
        text = el.get_text().strip()
        display = text.startswith("\\[")
        latex = text[2:-2]
        el.replace_with(_parse(mathml.to_mathml(latex, display)))


def wrap_tables_and_formulas(soup: BeautifulSoup) -> None:
    """Each top-level table and display formula goes into a plain div. handbook.css lets off-screen blocks
    skip rendering (content-visibility), which a table or a math box ignores (no size containment): the
    tables and formulas of the longest chapter were laid out while it loaded, half its layout time. A table
    also stays class-less when practice mode marks its question's parts, so Material still styles it."""
    for el in soup.find_all(["table", "math"], recursive=False):
        if el.name == "table" or el.get("display") == "block":
            el.wrap(soup.new_tag("div"))


def unwrap_plain_tokens(soup: BeautifulSoup) -> None:
    """Pygments' name (n) and whitespace (w) spans: drawn in the code's colour anyway."""
    for span in soup.find_all("span", class_=["n", "w"]):
        if span.get("class") in (["n"], ["w"]):
            span.unwrap()


# --- chapters ----------------------------------------------------------------------------------------

_NO_TOOLTIP = {"code", "pre", "a", "abbr", "h1", "h2", "h3", "h4", "h5", "h6", "math", "script", "style", "button", "kbd"}


def add_tooltips(soup: BeautifulSoup, lang: str) -> None:
    """Mark the first use of each glossary term in every question (h2/h3 section) with its translation."""
    pattern, titles = glossary.matcher(lang)
    seen: set[str] = set()
    for node in list(soup.descendants):
        if getattr(node, "name", None) in ("h2", "h3"):
            seen = set()
        if not isinstance(node, NavigableString) or isinstance(node, Comment) or any(p.name in _NO_TOOLTIP for p in node.parents):
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


def add_copy_buttons(soup: BeautifulSoup, page_url: str, lang: str) -> None:
    """A "copy link" button in every question heading, built here so no script has to add it while the
    page loads; handbook.js copies its data-url (the hosted URL, also when reading offline)."""
    label, hint = COPY_LINK[lang]
    for heading in soup.find_all(["h2", "h3"], id=lambda i: bool(i) and i.startswith("q-")):
        button = soup.new_tag("button", attrs={"type": "button", "class": "q-copy",
                                               "title": hint, "data-url": f"{page_url}#{heading['id']}"})
        button.string = label
        heading.append(button)


PRACTICE_TOGGLE = {"zh": "练习模式", "en": "Practice mode"}


def add_practice_toggle(soup: BeautifulSoup, lang: str) -> None:
    """The practice-mode switch under a chapter's title. It is in the page, so that practice.js needs to load
    only when the reader turns the mode on (handbook.js); practice.css hides it without JavaScript."""
    button = soup.new_tag("button", attrs={"type": "button", "class": "practice-toggle md-button", "aria-pressed": "false"})
    button.string = PRACTICE_TOGGLE[lang]
    soup.find("h1").insert_after(button)


PROMPT = ("题目：", "Question:")   # Part 1 restates the article's question before the answer
_HEADINGS = ["h1", "h2", "h3", "h4", "h5", "h6"]


def mark_for_practice(soup: BeautifulSoup, canonical: dict[str, str]) -> None:
    """What the practice mode hides until the reader reveals it: every element of a question's section
    but its prompt (data-prompt: Part 1's restated question) gets data-q (the question) and a class naming
    its part (q-answer, q-points for the key points, q-followups); the heading gets data-canon, the id
    under which a self-grade is kept (one per group of repeated questions). Without JavaScript nothing
    is hidden."""
    for heading in soup.find_all(["h2", "h3"], id=lambda i: bool(i) and i.startswith("q-")):
        qid = heading["id"]
        heading["data-canon"] = canonical.get(qid, qid)
        stop = _HEADINGS[: _HEADINGS.index(heading.name) + 1]
        for el in heading.find_next_siblings():
            if el.name in stop:
                break
            if el.name == "p" and el.get_text().strip().startswith(PROMPT):
                el["data-prompt"] = qid
                continue
            classes = el.get("class", [])
            part = "q-points" if "keypoints" in classes else "q-followups" if "followups" in classes else "q-answer"
            el["data-q"] = qid
            el["class"] = [*classes, part]


def article(html: str, lang: str, page_url: str | None, canonical: dict[str, str]) -> str:
    """A Markdown page's content; `page_url` (the page's hosted URL) for a chapter, None otherwise."""
    inputs = ["article", html, lang, page_url, canonical, glossary.terms()]
    return page_cache.remember(inputs, lambda: {"html": _article(html, lang, page_url, canonical)})["html"]


def _article(html: str, lang: str, page_url: str | None, canonical: dict[str, str]) -> str:
    soup = _parse(html)
    render_math(soup)
    wrap_tables_and_formulas(soup)
    unwrap_plain_tokens(soup)
    if page_url:
        add_tooltips(soup, lang)
        add_copy_buttons(soup, page_url, lang)
        mark_for_practice(soup, canonical)
        add_practice_toggle(soup, lang)
    return str(soup)


# --- lab pages ----------------------------------------------------------------------------------------

class SharedStylesheet:
    """The lab pages' CSS, collected as they are built and written once, pruned to the classes they use."""

    def __init__(self):
        self.css, self.used = "", set()

    def add(self, css: str, used: set[str]) -> None:
        self.css = self.css or css  # mkdocs-jupyter inlines the same CSS in every notebook page
        self.used |= used

    def write(self, site_dir: str) -> None:
        from . import css_prune

        if self.css:
            target = Path(site_dir) / SHARED_CSS
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text('@charset "UTF-8";\n' + css_prune.prune(self.css, self.used), encoding="utf-8")


class LabLinkError(LookupError):
    pass


def notebook(html: str, page, files, lang: str, site_dir: str, directory_urls: bool, stylesheet: SharedStylesheet) -> str:
    """A rendered notebook's content, light and self-contained (cached, see the module's doc)."""
    heading_ids = json.loads(Path(page.file.abs_src_path).read_text(encoding="utf-8"))["metadata"]["handbook"]["heading_ids"]
    _set_toc_ids(page, heading_ids)
    targets = {f.src_uri: f.url for f in files.documentation_pages()}
    inputs = ["notebook", html, page.url, lang, directory_urls, heading_ids, targets]
    entry = page_cache.remember(inputs, lambda: _slim_notebook(html, page, targets, lang, heading_ids))
    css = page_cache.read(f"css-{entry['css']}.css") if entry["css"] else ""
    stylesheet.add(css, set(entry["classes"]))
    plots.publish(entry["plots"], site_dir)
    return entry["html"]


def _set_toc_ids(page, heading_ids: list[str]) -> None:
    """The page's table of contents takes the executor's ids, in page order."""
    ids = iter(heading_ids)
    stack = list(page.toc)[::-1]
    while stack:
        item = stack.pop()
        item.id = next(ids, item.id)
        stack.extend(list(item.children)[::-1])


def _slim_notebook(html: str, page, targets: dict[str, str], lang: str, heading_ids: list[str]) -> dict:
    from mkdocs.utils import get_relative_url

    soup = _parse(html)
    base = page.url.count("/") * "../" if page.url else ""
    slug = Path(page.file.src_uri).stem

    # links to chapters (`../chapters/x.md#q-id` in the lab's prose): MkDocs leaves notebook links alone
    folder = posixpath.dirname(page.file.src_uri)
    for a in soup.find_all("a", href=True):
        href = a["href"]
        path, _, fragment = href.partition("#")
        if not path.endswith((".md", ".ipynb")) or path.startswith(("/", "#")) or ":" in path.split("/")[0]:
            continue
        target = targets.get(posixpath.normpath(posixpath.join(folder, path)))
        if target is None:
            raise LabLinkError(f"notebooks/{slug}.py links {path}, which is not a page; fix the link in the lab")
        a["href"] = get_relative_url(target, page.url) + (f"#{fragment}" if fragment else "")

    # headings: the executor's ids (mkdocs-jupyter's slugs drop Chinese characters)
    ids = iter(heading_ids)
    for heading in soup.find_all(["h1", "h2", "h3", "h4", "h5", "h6"]):
        anchor = heading.find("a", class_="anchor-link")
        if anchor is None:
            continue
        hid = next(ids, "")
        heading["id"], anchor["href"] = hid, f"#{hid}"

    # the inlined Jupyter CSS becomes one shared, cached, pruned file
    styles = [s.extract().get_text() for s in soup.find_all("style")]
    css = "\n".join(s for s in styles if not s.lstrip().startswith("['"))  # skip a stringified list
    css_key = hashlib.sha256(css.encode()).hexdigest()[:16] if css else ""
    if css:
        page_cache.write(f"css-{css_key}.css", css)
    wrapper = soup.find("div", class_="jupyter-wrapper")
    if wrapper is not None:
        wrapper.insert_before(soup.new_tag("link", rel="stylesheet", href=f"{base}{SHARED_CSS}"))

    # MathJax (formulas are MathML already) and Mermaid (imported from cdnjs when a diagram exists): unused
    for script in soup.find_all("script"):
        if script.get("src") == "" or script.get("type") == "text/x-mathjax-config" or "const diagrams" in script.get_text():
            script.decompose()
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment) and s.strip() in _MATHJAX_COMMENTS):
        comment.extract()

    # plots: alt text naming their section (nbconvert's says nothing, in English), then lazy WebP files
    section = ""
    for el in soup.find_all(["h2", "h3", "h4", "img"]):
        if el.name != "img":
            section = el.get_text().replace("¶", "").strip()
        elif not el.get("alt") or el["alt"] == NBCONVERT_ALT:
            el["alt"] = PLOT_ALT[lang].format(section=section)
    published = plots.extract(soup, base)

    # nbconvert's copy buttons: a stray "," attribute, and an aria-label on an element with no role (Nu Html Checker)
    for copy in soup.find_all("clipboard-copy"):
        copy.attrs.pop(",", None)
        copy.attrs.setdefault("role", "button")
        copy.attrs.setdefault("tabindex", "0")

    # pandas' empty top-left header cell of a DataFrame heads nothing (axe: empty-table-header)
    for table in soup.find_all("table", class_="dataframe"):
        corner = table.select_one("thead tr th")
        if corner is not None and not corner.get_text() and corner is table.select_one("thead tr").find(["th", "td"]):
            corner.name = "td"

    unwrap_plain_tokens(soup)
    classes = sorted({c for el in soup.find_all(class_=True) for c in el.get("class", [])})
    button = f'<p><a class="md-button" href="{html_lib.escape(Path(page.file.src_uri).name)}" download>{DOWNLOAD[lang]}</a></p>'
    return {"html": button + str(soup), "css": css_key, "classes": classes, "plots": published}
