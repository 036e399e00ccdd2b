"""The handbook's MkDocs plugin: its build-time rules and generated content.

Registered as `handbook` (an entry point in pyproject.toml) and listed last under `plugins:` in each
language's config, after the search plugin whose index it replaces. Every check fails the build with
a message that names the file and says what to do; nothing fails silently.
"""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin
from mkdocs.structure.files import File
from mkdocs.utils import get_relative_url

from . import anki, consistency, css_prune, glossary, knowledge, lab_sources, notebook_pages, page_html, practice_page, registry, search_index, urls
from .markdown_model import Page
from .paths import LANGS, lang_dir

NAV_TITLES = {
    "zh": {"home": "首页", "chapters": "章节", "part2": "大模型专题", "labs": "实验", "reference": "参考"},
    "en": {"home": "Home", "chapters": "Chapters", "part2": "LLM engineering", "labs": "Labs", "reference": "Reference"},
}
# Pages generated from the registry, the chapters and the glossary: never edited by hand
GENERATED = {
    "questions.md": knowledge.question_bank,
    "errata.md": knowledge.errata,
    "paths.md": knowledge.reading_paths,
    "glossary.md": glossary.page,
    "labs/index.md": notebook_pages.index_page,
}
# ... so "edit this page" on them opens the file they are generated from (errata: the chapters themselves)
GENERATED_FROM = {"questions.md": "docs/registry.yml", "paths.md": "docs/paths.yml",
                  "glossary.md": "docs/glossary.yml", "labs/index.md": "docs/registry.yml"}
# Material's stylesheets reduced to the rules the pages can match (main.html links these)
MATERIAL_CSS = {"assets/stylesheets/material-used.css": "assets/stylesheets/main.*.min.css",
                "assets/stylesheets/palette-used.css": "assets/stylesheets/palette.*.min.css"}
# Material marks <body> with data-md-color-switching while it applies the palette, on every page load too, and
# `[data-md-color-switching] *{transition-duration:0s}` then restyles every element of the page: on the longest
# chapter a tenth of a second of blocking time (Lighthouse, 4x slower CPU). Without the rule, switching between
# light and dark lets the links' 0.125 s colour transitions run.
MATERIAL_ATTRIBUTES_DROPPED = frozenset({"data-md-color-switching"})
LAB_LINE = {"zh": "相关实验：", "en": "Related labs: "}


def _lang(config) -> str:
    return config.theme["language"]


def _material_asset(config, pattern: str) -> Path:
    """One of Material's hashed assets (assets/javascripts/bundle.*.min.js, ...) in the theme."""
    found = [p for d in config.theme.dirs for p in Path(d).glob(pattern)]
    if len(found) != 1:
        raise PluginError(f"expected one {pattern} in the theme, found {found}; is mkdocs-material installed as pinned?")
    return found[0]


def _site_path(asset: Path) -> str:
    return asset.relative_to(asset.parents[2]).as_posix()


def _write_material_css(config, page_classes: set[str]) -> None:
    """Material's stylesheets without the rules no page can match (css_prune): classes come from the built
    pages and from every script that may add one (Material's bundle, the handbook's own); the palette's
    colours and schemes are the ones mkdocs.yml configures, the only ones its switch can select; the rules on
    MATERIAL_ATTRIBUTES_DROPPED go."""
    scripts = {p for d in config.theme.dirs for p in Path(d).glob("assets/javascripts/*.js")}
    used = page_classes.union(*(css_prune.names_in_script(p.read_text(encoding="utf-8")) for p in scripts))
    palette = config.theme.get("palette") or []
    palettes = palette if isinstance(palette, list) else [palette]
    allowed = {f"data-md-color-{key}": {p.get(key, "default" if key == "scheme" else "indigo") for p in palettes}
               for key in ("scheme", "primary", "accent")}
    for target, pattern in MATERIAL_CSS.items():
        css = _material_asset(config, pattern).read_text(encoding="utf-8")
        pruned = css_prune.prune(css, used, allowed, MATERIAL_ATTRIBUTES_DROPPED)
        (Path(config.site_dir) / target).write_text('@charset "UTF-8";\n' + pruned, encoding="utf-8")


def _check_heading_ids(page: Page, where: str) -> None:
    for h in page.headings:
        if h.level >= 2 and h.id is None:
            raise PluginError(
                f"{where}:{h.line}: heading '{h.text}' has no explicit id; add one like "
                f"`{{#short-english-id}}` (ids are part of the URL and must match the other language)"
            )
    counts = Counter(h.id for h in page.headings if h.id)
    for h in page.headings:
        if h.id and counts[h.id] > 1:
            raise PluginError(f"{where}:{h.line}: heading id '#{h.id}' is used {counts[h.id]} times on the page; make each id unique")


def _add_lab_links(page: Page, lang: str) -> str:
    """Under each question heading, link the labs the registry names for it."""
    reg = registry.load()
    lines = list(page.lines)
    for h in reversed(page.questions()):
        labs = reg.questions[h.id].labs if h.id in reg.questions else ()
        if labs:
            links = " · ".join(f"[{lab_sources.title(lab, lang)}](../labs/{lab}.ipynb)" for lab in labs)
            lines[h.line:h.line] = ["", f"{LAB_LINE[lang]}{links}", "{: .q-labs }", ""]
    return "\n".join(lines) + "\n"


def _twins(page, config) -> dict[str, str]:
    """The hosted URL of this page in each language (directory style, even in the offline build)."""
    url = page.url.removesuffix("index.html").replace(".html", "/")
    root = knowledge.hosted_root(config.site_url, _lang(config))
    return {"zh": root + url, "en": f"{root}en/{url}", "x-default": root + url}


def _moved_questions(page, files) -> str:
    """A question that moved to another page: handbook.js sends its old #anchor to the new place."""
    moved = {}
    for anchor, target in urls.moved_anchors(page.file.src_uri).items():
        path, _, new_anchor = target.partition("#")
        file = files.get_file_from_path(path)
        if file is None:
            raise PluginError(f"docs/redirects.yml: {page.file.src_uri}#{anchor} points at {target}, which is not a page")
        moved[anchor] = get_relative_url(file.url, page.url) + (f"#{new_anchor}" if new_anchor else "")
    if not moved:
        return ""
    return f'<script type="application/json" id="handbook-moved">{json.dumps(moved)}</script>'


class HandbookPlugin(BasePlugin):
    """One instance per build of one language; it keeps what the lab pages share (their stylesheet)."""

    def on_config(self, config):
        self.notebook_css = page_html.SharedStylesheet()
        lang = _lang(config)
        errors = consistency.problems()
        if errors:
            raise PluginError("the content disagrees with itself:\n  " + "\n  ".join(errors))
        reg = registry.load()
        t = NAV_TITLES[lang]
        config.nav = [
            {t["home"]: "index.md"},
            {t["chapters"]: [f"chapters/{c['slug']}.md" for c in reg.part(1)]},
            *([{t["part2"]: [f"chapters/{c['slug']}.md" for c in reg.part(2)]}] if reg.part(2) else []),
            {t["labs"]: ["labs/index.md", *[f"labs/{slug}.ipynb" for slug in reg.labs]]},
            {t["reference"]: ["questions.md", "practice.md", "paths.md", "errata.md", "glossary.md"]},
        ]
        if lang == "zh":
            glossary.teach_segmenter()
        else:  # one setting (HANDBOOK_SITE_URL) for both: the en site is served under the zh one
            config.site_url = knowledge.hosted_root(config.site_url, "zh") + "en/"
        # main.html: Material's bundle, loaded after the first paint; its stylesheet, reduced to what the pages use
        config.extra["material_bundle"] = _site_path(_material_asset(config, "assets/javascripts/bundle.*.min.js"))
        config.extra["material_css"], config.extra["material_palette"] = MATERIAL_CSS
        self.page_classes: set[str] = set()
        if not config.plugins["material/offline"].config.enabled:
            # the iframe-worker shim only lets search run from file://; hosted pages would block on it
            config.extra["polyfills"] = []
        # moved pages get redirect pages (mkdocs-redirects keeps the #anchor); moved questions: see on_page_content
        config.plugins["redirects"].config["redirect_maps"] = {old: new for old, new in urls.redirects().items() if "#" not in old}
        return config

    def on_files(self, files, *, config):
        lang = _lang(config)
        other = next(l for l in LANGS if l != lang)
        for f in files.documentation_pages():
            if not (lang_dir(other) / f.src_uri).exists():
                raise PluginError(
                    f"docs/{lang}/{f.src_uri} has no twin docs/{other}/{f.src_uri}: every page exists in both "
                    f"languages with the same path; add the translation (or remove the page from both)."
                )
        for src_uri, make in GENERATED.items():
            files.append(File.generated(config, src_uri, content=make(lang)))
        files.append(File.generated(config, "practice.md", content=practice_page.page(lang, config.use_directory_urls)))
        files.append(File.generated(config, anki.file_name(lang), content=anki.package(lang, config.site_url)))
        return files

    def on_page_markdown(self, markdown, *, page, config, files):
        lang = _lang(config)
        # the page's hosted URL in each language: canonical link (main.html), hreflang in sitemap.xml, which
        # MkDocs renders before the pages themselves
        page.meta["twins"] = _twins(page, config)
        page.meta["hosted_url"] = page.meta["twins"][lang]
        # the handbook's own index replaces Material's (search_index.py): Material's search plugin skips the
        # page (documented front matter) instead of parsing its HTML for an index nobody loads
        page.meta["search"] = {"exclude": True}
        # practice mode (main.html): a chapter loads practice.js when the reader turns the mode on (handbook.js);
        # the question bank and the practice page show progress at once
        if page.file.src_uri.startswith("chapters/"):
            page.meta["practice"] = "on-demand"
        elif page.file.src_uri in ("questions.md", "practice.md"):
            page.meta["practice"] = "at-load"
        if page.file.src_uri.endswith(".ipynb"):
            return markdown  # the notebook's JSON, not Markdown; its headings get their ids from lab_sources.heading_ids
        where = f"docs/{lang}/{page.file.src_uri}"
        parsed = Page.of(markdown, where)
        if not page.file.generated_by:
            _check_heading_ids(parsed, where)
        if page.file.src_uri.startswith("chapters/"):
            markdown = _add_lab_links(parsed, lang)
        return markdown

    def on_page_content(self, html, *, page, config, files):
        lang = _lang(config)
        if page.file.src_uri.endswith(".ipynb"):
            try:
                return page_html.notebook(html, page, files, lang, config.site_dir, config.use_directory_urls, self.notebook_css)
            except page_html.LabLinkError as exc:
                raise PluginError(str(exc)) from exc
        chapter_url = _twins(page, config)[lang] if page.file.src_uri.startswith("chapters/") else None
        reg = registry.load()
        canonical = {q.id: q.canonical_id for q in reg.questions.values()}
        return page_html.article(html, lang, chapter_url, canonical) + _moved_questions(page, files)

    def on_page_context(self, context, *, page, config, nav):
        """Edit links to the real sources."""
        edit = f"{config.repo_url.rstrip('/')}/edit/main/"
        if page.file.src_uri.endswith(".ipynb"):  # the source of a lab page is notebooks/<slug>.py, not the generated notebook
            page.edit_url = f"{edit}notebooks/{Path(page.file.src_uri).stem}.py"
        elif page.file.generated_by:
            source = GENERATED_FROM.get(page.file.src_uri)
            page.edit_url = f"{edit}{source}" if source else None
        return context

    def on_post_page(self, output, *, page, config):
        self.page_classes |= css_prune.classes_in_html(output)
        return output

    def on_post_build(self, *, config):
        lang = _lang(config)
        self.notebook_css.write(config.site_dir)
        _write_material_css(config, self.page_classes)
        site = Path(config.site_dir)
        export = knowledge.export(knowledge.hosted_root(config.site_url, lang))
        (site / "questions.json").write_text(json.dumps(export, ensure_ascii=False, indent=1), encoding="utf-8")
        index = site / "search" / "search_index.json"
        if not index.exists():
            raise PluginError(f"the {lang} search index {index} is missing: is the search plugin configured in docs/mkdocs.{lang}.yml?")
        # Material's index (rendered pages, code included) gives way to the handbook's prose-first index;
        # Material keeps its file, reduced to its configuration and the name of ours (search_index.py)
        material_config = json.loads(index.read_text(encoding="utf-8"))["config"]
        search_index.write(config.site_dir, lang, config.use_directory_urls, material_config)
        for slug in registry.load().labs:
            name = f"labs/{slug}.html" if not config.use_directory_urls else f"labs/{slug}/index.html"
            page = site / name
            if not page.exists() or "jupyter-wrapper" not in page.read_text(encoding="utf-8"):
                raise PluginError(
                    f"{page} is not a rendered notebook page: mkdocs-jupyter did not render docs/{lang}/labs/{slug}.ipynb; "
                    f"run `scripts/run execute` and check the mkdocs-jupyter `include` pattern"
                )
