"""Nothing on any built page loads from another host: no fonts, no CDN, no API calls."""
import re

from helpers import EXTERNAL, html_pages, parse

# Only a plain <a href> may point elsewhere (an outbound reading link). The canonical <link> names the
# hosted URL of the page and is never fetched; there is no <link rel=alternate>, whose sitemap Material
# would fetch (main.html; the browser tests catch any request that leaves).
LOADING = {"script": "src", "link": "href", "img": "src", "iframe": "src", "source": "src", "audio": "src",
           "video": "src", "embed": "src", "object": "data", "track": "src", "input": "src"}
CSS_REMOTE = re.compile(r"""@import\s+(url\()?["']?(https?:)?//|url\(\s*["']?(https?:)?//""", re.I)


def test_no_page_loads_anything_from_another_host(any_site):
    offenders = []
    for page in html_pages(any_site):
        for tag, attrs in parse(page).elements:
            attr = LOADING.get(tag)
            url = attrs.get(attr) if attr else None
            if url and EXTERNAL.match(url) and not url.startswith("data:") and attrs.get("rel") != "canonical":
                offenders.append(f"{page.relative_to(any_site)}: <{tag} {attr}={url}>")
        if CSS_REMOTE.search(page.read_text(encoding="utf-8")):
            offenders.append(f"{page.relative_to(any_site)}: inline CSS loads a remote URL")
    for css in any_site.rglob("*.css"):
        if CSS_REMOTE.search(css.read_text(encoding="utf-8")):
            offenders.append(f"{css.relative_to(any_site)} loads a remote URL")
    assert not offenders, "\n".join(offenders[:40])


def test_no_empty_script_src(site):
    """An empty src makes the browser fetch the page itself again (mkdocs-jupyter's MathJax slot)."""
    bad = [p for p in html_pages(site) if re.search(r'<script[^>]*\ssrc=""', p.read_text(encoding="utf-8"))]
    assert not bad, bad[:5]
