"""Lab pages rendered by mkdocs-jupyter, made light and self-contained, and the labs index page."""
from __future__ import annotations

import json
import posixpath
import re
from pathlib import Path

from . import css_prune, lab_sources, plots, registry

# mkdocs-jupyter inlines ~590 KB of Jupyter CSS into every notebook page; one shared file is cached once
_INLINE_STYLE = re.compile(r"<style[^>]*>(.*?)</style>", re.S)
# MathJax (formulas are MathML already) and Mermaid (imported from cdnjs when a diagram exists): none used
_UNUSED_SCRIPTS = re.compile(
    r'<script[^>]*\ssrc=""[^>]*>\s*</script>'
    r'|<script type="text/x-mathjax-config">.*?</script>'
    r'|<script type="module">\s*document.addEventListener\("DOMContentLoaded", async \(\) => \{\s*const diagrams.*?</script>'
    r"|<!-- (?:Load mathjax|MathJax configuration|End of mathjax configuration) -->",
    re.S,
)
# pandas' empty top-left header cell of a DataFrame heads nothing (axe: empty-table-header): a plain cell
_DATAFRAME_CORNER = re.compile(r'(<table[^>]*class="dataframe"[^>]*>\s*<thead>\s*<tr[^>]*>\s*)<th></th>')
SHARED_CSS = "assets/stylesheets/jupyter.css"
# nbconvert's alt text for every figure says nothing (and is English on zh pages): name the plot's section
_NBCONVERT_ALT = ' alt="No description has been provided for this image"'
_HEADING_OR_BARE_IMG = re.compile(r'<h([2-4])[^>]*>(.*?)</h\1>|<img (?![^>]*\balt=)', re.S)
PLOT_ALT = {"zh": "图：{section}（上方代码单元格的输出）", "en": "Plot: {section} (output of the code cell above)"}

INDEX = {
    "zh": "# 实验\n\n每个实验都是一份已执行的笔记本：代码只写一次，在笔记本电脑的 CPU 上几秒到几十秒跑完，完全离线。"
          "每页顶部注明来源文章、原代码的问题和运行成本，末尾的“检查”单元格断言实验结果。\n\n",
    "en": "# Labs\n\nEach lab is an executed notebook: the code runs on a laptop CPU in seconds, fully offline. "
          "The top of each page names its source article, what the original code got wrong and what the lab costs "
          "to run; a final check cell asserts the result.\n\n",
}


def index_page(lang: str) -> str:
    reg = registry.load()
    items = [f"- [{lab_sources.title(slug, lang)}]({slug}.ipynb)" for slug in reg.labs]
    return INDEX[lang] + "\n".join(items) + "\n"


_HEADING = re.compile(r'(<h[1-6] id=")[^"]*(">.*?<a class="anchor-link" href="#)[^"]*(")', re.S)


def set_heading_ids(html: str, page) -> str:
    """Give a lab page's headings (and its table of contents) the ids the executor chose."""
    meta = json.loads(Path(page.file.abs_src_path).read_text(encoding="utf-8"))["metadata"]
    ids = iter(meta.get("handbook", {}).get("heading_ids", []))
    html = _HEADING.sub(lambda m: f"{m.group(1)}{(hid := next(ids, ''))}{m.group(2)}{hid}{m.group(3)}", html)
    ids = iter(meta.get("handbook", {}).get("heading_ids", []))
    stack = list(page.toc)[::-1]
    while stack:
        item = stack.pop()
        item.id = next(ids, item.id)
        stack.extend(list(item.children)[::-1])
    return html


_DOC_LINK = re.compile(r'href="(?![a-z][a-z0-9+.-]*:|/|#)([^"#]+\.(?:md|ipynb))(#[^"]*)?"')


def rewrite_links(html: str, page, files) -> str:
    """Lab prose links chapters as `../chapters/x.md#q-id`; MkDocs does not touch links inside a
    notebook, so turn them into the page URLs of this build (directory or .html style)."""
    from mkdocs.utils import get_relative_url

    base = posixpath.dirname(page.file.src_uri)

    def swap(m: re.Match) -> str:
        target = files.get_file_from_path(posixpath.normpath(posixpath.join(base, m.group(1))))
        if target is None:
            raise LookupError(f"notebooks/{Path(page.file.src_uri).stem}.py links {m.group(1)}, which is not a page")
        return f'href="{get_relative_url(target.url, page.url)}{m.group(2) or ""}"'

    return _DOC_LINK.sub(swap, html)


def is_notebook_page(html: str) -> bool:
    return 'class="jupyter-wrapper"' in html


class SharedStylesheet:
    """The lab pages' CSS, collected as they are built and written once, pruned to the classes they use."""

    def __init__(self):
        self.css, self.used = "", set()

    def add(self, css: str, html: str) -> None:
        self.css = self.css or css  # mkdocs-jupyter inlines the same CSS in every notebook page
        self.used |= css_prune.classes_in(html)

    def write(self, site_dir: str) -> None:
        if self.css:
            target = Path(site_dir) / SHARED_CSS
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text('@charset "UTF-8";\n' + css_prune.prune(self.css, self.used), encoding="utf-8")


def slim(html: str, page, config, stylesheet: SharedStylesheet) -> str:
    styles = [css for css in _INLINE_STYLE.findall(html) if not css.lstrip().startswith("['")]  # skip a stringified list
    stylesheet.add("\n".join(styles), html)
    base = page.url.count("/") * "../" if page.url else ""
    link = f'<link rel="stylesheet" href="{base}{SHARED_CSS}">'
    html = _INLINE_STYLE.sub("", html)
    html = html.replace('<div class="jupyter-wrapper">', link + '<div class="jupyter-wrapper">', 1)
    html = _describe_plots(html.replace(_NBCONVERT_ALT, ""), config.theme["language"])
    html = plots.extract(html, config.site_dir, base)
    html = _DATAFRAME_CORNER.sub(r"\1<td></td>", html)
    return _UNUSED_SCRIPTS.sub("", html)


def _describe_plots(html: str, lang: str) -> str:
    section = ""

    def visit(m: re.Match) -> str:
        nonlocal section
        if m.group(1):
            section = re.sub(r"<[^>]+>|¶", "", m.group(2)).strip()
            return m.group(0)
        return f'<img alt="{PLOT_ALT[lang].format(section=section)}" '

    return _HEADING_OR_BARE_IMG.sub(visit, html)
