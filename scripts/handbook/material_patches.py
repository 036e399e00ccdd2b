"""Fixes to Material for MkDocs 9.8.1 (pinned in pyproject.toml), applied to the built site.

Each patch replaces text that must occur exactly once; after an upgrade that changes it, the build
fails here instead of shipping the old behaviour silently.
"""
from __future__ import annotations

import re
from pathlib import Path

from mkdocs.exceptions import PluginError

# Material fetches the search index (about 260 KB gzip for zh, more than the rest of a page) on every
# page load, hosted; from file:// it already waits until the reader opens search. Make hosted pages
# wait too: the index is then fetched on the first focus of the search box (or tap on its icon).
LAZY_INDEX = ('L($(location.protocol!=="file:"),Je("search"))', 'L($(!1),Je("search"))')

# ... and its search.highlight component subscribes to the index on every page, though it only uses it
# when the URL carries ?h= (a search result was followed): subscribe only then.
HIGHLIGHT_INDEX = ('z([t,r.pipe(Q(we()),g(o=>!!o.searchParams.get("h")))])',
                   'r.pipe(Q(we()),g(o=>!!o.searchParams.get("h")),b(n=>t.pipe(m(o=>[o,n]))))')

# ... and it starts the search worker (12 KB gzip, plus lunr) on every page. Start it on its first
# message instead, which is the index, sent when search is opened.
LAZY_WORKER = (
    "function Mn(e,t=new Worker(e)){",
    "function Mn(e,t=new(class{constructor(u){this.u=u;this.l=[]}"
    "addEventListener(...a){this.l.push(a);this.w&&this.w.addEventListener(...a)}"
    "removeEventListener(...a){this.l=this.l.filter(b=>b[1]!==a[1]);this.w&&this.w.removeEventListener(...a)}"
    "postMessage(m){if(!this.w){this.w=new Worker(this.u);for(let a of this.l)this.w.addEventListener(...a)}"
    "this.w.postMessage(m)}})(e)){",
)

# Material fetches <link rel=alternate>/sitemap.xml for every language to map its selector's links.
# Ours are built per page (partials/alternate.html), and the hreflang links are absolute hosted URLs:
# the fetch would reach the hosted site from a local or offline copy. Do not start that component.
ALTERNATE_SITEMAPS = ("ui({document$:ct});", "")

# Material's bundle is a plain <script> at the end of <body>, so it runs before the first paint, and
# the page's first style and layout happen inside it (it reads sizes and scroll offsets): one task
# that blocks a phone for 200 ms and more (Lighthouse's total blocking time). Each page loads it after
# its first paint instead (defer_bundle): the page reads fine without it, and a preload would make the
# first paint wait for its download on a slow link ...
BUNDLE_TAG = re.compile(r'<script src="([^"]*assets/javascripts/bundle\.[0-9a-f]{8}\.min\.js)"></script>')
BUNDLE_LOADER = ('<script>requestAnimationFrame(function () {{ setTimeout(function () {{ '
                 'var s = document.createElement("script"); s.src = "{src}"; document.body.appendChild(s) }}) }})</script>')

# ... when DOMContentLoaded has passed, which Material waits for to mount the page's components: mount
# them then, in a task of their own after the bundle's.
DOCUMENT_READY = (
    'h(document,"DOMContentLoaded",{once:!0}).subscribe(()=>e.next(document))',
    'document.readyState=="loading"?h(document,"DOMContentLoaded",{once:!0}).subscribe(()=>e.next(document))'
    ':setTimeout(()=>e.next(document))',
)

# The palette component marks <body> as "switching colours" (transitions off) on every page load, and
# unmarks it a moment later: two restyles of the whole page for nothing, since the colours set before
# the first paint are already the reader's. Mark it only when the colours really change.
PALETTE_SWITCHING = (
    'document.body.setAttribute("data-md-color-switching","")',
    '["scheme","primary","accent"].some(a=>document.body.getAttribute(`data-md-color-${a}`)!==s.color[a])'
    '&&document.body.setAttribute("data-md-color-switching","")',
)

# It also adds <meta name="color-scheme"> on every page load, which restyles the whole page once more.
# The page has it from the start (main.html); Material only updates it.
COLOR_SCHEME_META = ('let o=x("meta",{name:"color-scheme"});document.head.appendChild(o);',
                     'let o=document.querySelector("meta[name=color-scheme]");')

# The search overlay is a role="dialog" without a name (axe rule aria-dialog-name).
SEARCH_DIALOG = '<div class="md-search" data-md-component="search" role="dialog">'
SEARCH_LABEL = {"zh": "搜索", "en": "Search"}


def _replace_once(text: str, old: str, new: str, where: str) -> str:
    if text.count(old) != 1:
        raise PluginError(f"{where}: expected exactly one {old!r} (mkdocs-material changed?); update scripts/handbook/material_patches.py")
    return text.replace(old, new)


def patch_bundle(site_dir: str) -> None:
    bundles = list((Path(site_dir) / "assets" / "javascripts").glob("bundle.*.min.js"))
    if len(bundles) != 1:
        raise PluginError(f"{site_dir}: expected one Material bundle, found {bundles}")
    bundle = bundles[0]
    text = bundle.read_text(encoding="utf-8")
    if LAZY_INDEX[1] in text:  # a dirty rebuild keeps the already patched copy
        return
    for old, new in (LAZY_INDEX, HIGHLIGHT_INDEX, LAZY_WORKER, ALTERNATE_SITEMAPS, DOCUMENT_READY,
                     PALETTE_SWITCHING, COLOR_SCHEME_META):
        text = _replace_once(text, old, new, str(bundle))
    bundle.write_text(text, encoding="utf-8")


def name_search_dialog(html: str, lang: str, where: str) -> str:
    return _replace_once(html, SEARCH_DIALOG, SEARCH_DIALOG[:-1] + f' aria-label="{SEARCH_LABEL[lang]}">', where)


def defer_bundle(html: str, where: str) -> str:
    """Material's bundle, loaded after the page's first paint (see BUNDLE_TAG)."""
    tags = BUNDLE_TAG.findall(html)
    if len(tags) != 1:
        raise PluginError(f"{where}: expected one <script> of Material's bundle, found {len(tags)}; update scripts/handbook/material_patches.py")
    return BUNDLE_TAG.sub(lambda m: BUNDLE_LOADER.format(src=m.group(1)), html)
