"""What search engines and assistive technology read on every built page: language, description,
canonical link, sitemaps with hreflang links to the twin, image alt text and heading order."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from conftest import lang_root
from handbook import build
from helpers import html_pages, parse

HOSTED = build.load("zh").site_url  # the default hosted root; the `site` fixture is built with it


def _content_pages(root):
    """Pages a reader lands on (not the 404 page, not the redirect stubs of moved pages)."""
    return [p for p in html_pages(root, exclude_en=root.name != "en")
            if p.name != "404.html" and not any(t == "meta" and a.get("http-equiv") == "refresh" for t, a in parse(p).elements)]


def _hosted_url(root, page, lang):
    path = page.relative_to(root).as_posix().removesuffix("index.html")
    return HOSTED + ("en/" if lang == "en" else "") + path


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_names_its_language_description_and_canonical_url(site, lang):
    root = lang_root(site, lang)
    for page in _content_pages(root):
        elements = parse(page).elements
        where = page.relative_to(site)
        assert next(a for t, a in elements if t == "html").get("lang") == lang, f"{where}: <html lang> is not {lang}"
        meta = {a.get("name"): a.get("content") for t, a in elements if t == "meta"}
        assert len(meta.get("description") or "") > 20, f"{where}: no meta description"
        links = [a for t, a in elements if t == "link"]
        canonical = [a["href"] for a in links if a.get("rel") == "canonical"]
        assert canonical == [_hosted_url(root, page, lang)], f"{where}: canonical {canonical}"
        assert not [a for a in links if a.get("rel") == "alternate"], f"{where}: <link rel=alternate> (Material fetches its sitemap)"


def test_one_setting_moves_every_hosted_url(monkeypatch):
    """HANDBOOK_SITE_URL alone sets both sites' URLs (en is served under zh at en/)."""
    monkeypatch.setenv("HANDBOOK_SITE_URL", "https://docs.example.org/handbook/")
    urls = {}
    for lang in ("zh", "en"):
        config = build.load(lang)
        urls[lang] = config.plugins.on_config(config).site_url
    assert urls == {"zh": "https://docs.example.org/handbook/", "en": "https://docs.example.org/handbook/en/"}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_each_language_has_a_sitemap_of_exactly_its_pages_with_their_twins(site, lang):
    root = lang_root(site, lang)
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}
    urls = ET.parse(root / "sitemap.xml").getroot().findall("s:url", ns)
    locs = [u.find("s:loc", ns).text for u in urls]
    assert sorted(locs) == sorted(_hosted_url(root, p, lang) for p in _content_pages(root))
    for url, loc in zip(urls, locs):
        alternates = {a.get("hreflang"): a.get("href") for a in url.findall("x:link", ns) if a.get("rel") == "alternate"}
        zh_url = loc.replace(HOSTED + "en/", HOSTED, 1)
        assert alternates == {"zh": zh_url, "en": zh_url.replace(HOSTED, HOSTED + "en/", 1), "x-default": zh_url}, loc
        twin = site / alternates["en" if lang == "zh" else "zh"].removeprefix(HOSTED) / "index.html"
        assert twin.exists(), f"{loc}: its hreflang twin {twin} was not built"


def test_every_image_has_alt_text_that_says_something(site):
    placeholders = {"", "No description has been provided for this image"}  # nbconvert's default
    missing = [f"{p.relative_to(site)}: {a.get('src', '')[:60]}" for p in html_pages(site)
               for t, a in parse(p).elements if t == "img" and (a.get("alt") or "").strip() in placeholders]
    assert not missing, missing
    plots = [a for t, a in parse(site / "labs" / "sync-async-training" / "index.html").elements if "plots/" in a.get("src", "")]
    assert plots and all(a["alt"].startswith("图：") and len(a["alt"]) > 15 for a in plots), plots


def test_headings_start_at_h1_and_never_skip_a_level(site):
    problems = []
    for page in _content_pages(site) + _content_pages(site / "en"):
        levels = [int(t[1]) for t, _ in parse(page).elements if re.fullmatch("h[1-6]", t)]
        if not levels or levels[0] != 1:
            problems.append(f"{page.relative_to(site)}: first heading is h{levels[0] if levels else '-'}")
        problems += [f"{page.relative_to(site)}: h{a} then h{b}" for a, b in zip(levels, levels[1:]) if b > a + 1]
    assert not problems, problems[:20]


def test_plots_are_lazy_sized_webp_files_not_inline_data(site):
    for page in (site / "labs").rglob("index.html"):
        assert "data:image/png;base64" not in page.read_text(encoding="utf-8"), page
    page = site / "labs" / "sync-async-training" / "index.html"
    plots = [a for t, a in parse(page).elements if t == "img" and "plots/" in a.get("src", "")]
    assert plots
    for a in plots:
        data = (page.parent / a["src"]).resolve().read_bytes()
        assert data[:4] == b"RIFF" and data[8:12] == b"WEBP", a["src"]
        assert int(a["width"]) > 100 and int(a["height"]) > 100 and a["loading"] == "lazy"
