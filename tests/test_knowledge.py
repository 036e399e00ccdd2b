"""The onboarding features, generated from the one registry: question bank, errata, glossary tooltips,
reading paths, questions.json, and the list of published URLs."""
import json
import re
from urllib.parse import urlsplit

import jsonschema
import pytest

from handbook import build, consistency, glossary, knowledge, page_html, registry, urls
from handbook.paths import DOCS

REG = registry.load()


def _page(root, path):
    return (root / path / "index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_questions_json_is_valid_and_complete(site, lang):
    root = site if lang == "zh" else site / "en"
    data = json.loads((root / "questions.json").read_text(encoding="utf-8"))
    jsonschema.validate(data, json.loads((DOCS / "questions.schema.json").read_text(encoding="utf-8")))
    assert [q["id"] for q in data["questions"]] == list(REG.questions)
    hosted = build.load("zh").site_url
    for q in data["questions"]:
        for l in ("zh", "en"):
            assert q["title"][l] == registry.titles(l)[q["id"]]
            local = site / urlsplit(q["url"][l].removeprefix(hosted)).path
            assert f'id="{q["id"]}"' in (local / "index.html").read_text(encoding="utf-8"), q["url"][l]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_question_bank_lists_every_question_once_with_all_its_places(site, lang):
    html = _page(site if lang == "zh" else site / "en", "questions")
    for q in REG.questions.values():
        assert f"#{q.id}\"" in html, f"{q.id} missing from the {lang} question bank"
    canonical = [q for q in REG.questions.values() if not q.same_as]
    entries = [dict(re.findall(r'([\w-]+)="([^"]*)"', tag)) for tag in re.findall(r"<a [^>]*data-topic=[^>]*>", html)]
    assert sorted(e["href"].split("#")[1] for e in entries) == sorted(q.id for q in canonical)
    for e in entries:
        q = REG.questions[e["href"].split("#")[1]]
        assert (q.topic, q.difficulty) == (e["data-topic"], e["data-difficulty"])


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_errata_quote_every_correction_under_its_question(site, lang):
    found = knowledge.corrections(lang)
    marker = '!!! warning "勘误"' if lang == "zh" else '!!! warning "Correction"'
    notes = sum(p.read_text(encoding="utf-8").count(marker) for p in (DOCS / lang / "chapters").glob("*.md"))
    assert len(found) == notes > 20
    assert all(c.claim and c.fix and c.question for c in found), [c for c in found if not (c.claim and c.fix and c.question)]
    html = _page(site if lang == "zh" else site / "en", "errata")
    assert html.count("<li>") >= len(found)
    assert len(knowledge.corrections("zh")) == len(knowledge.corrections("en"))


def test_glossary_pages_list_every_term_and_chapters_show_translations(site):
    zh, en = _page(site, "glossary"), _page(site / "en", "glossary")
    for term in glossary.terms():
        assert term["zh"] in zh and term["en"] in en
    chapter = _page(site, "chapters/training-and-evaluation")
    assert '<abbr title="recall">召回率</abbr>' in chapter
    assert '<abbr title="召回率">recall</abbr>' in _page(site / "en", "chapters/training-and-evaluation").lower() or \
        '<abbr title="召回率">Recall</abbr>' in _page(site / "en", "chapters/training-and-evaluation")
    assert not re.search(r"<code>[^<]*<abbr", chapter), "a tooltip was put inside code"


def test_tooltips_mark_a_term_once_per_question():
    from bs4 import BeautifulSoup

    soup = BeautifulSoup("<h3 id='q-a'>A</h3><p>召回率 and 召回率</p><h3 id='q-b'>B</h3><p>召回率 <code>召回率</code></p>", "html.parser")
    page_html.add_tooltips(soup, "zh")
    out = str(soup)
    assert out.count("<abbr") == 2 and "<code>召回率</code>" in out


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_reading_paths_are_ordered_checklists_with_times(site, lang):
    assert consistency.paths(registry.load()) == []
    html = _page(site if lang == "zh" else site / "en", "paths")
    lists = re.findall(r'<div class="checklist">\s*<ol>(.*?)</ol>', html, re.S)
    assert len(lists) >= 3 and sum(items.count("<li>") for items in lists) >= 25
    assert len(re.findall(r'<h2 id="[\w-]+"', html)) >= 3
    assert ("分钟" if lang == "zh" else "min to read") in html


def test_every_published_url_still_resolves(site):
    assert urls.problems(site) == []


def test_a_vanished_url_needs_a_redirect(tmp_path, monkeypatch):
    site = tmp_path / "site"
    (site / "chapters" / "b").mkdir(parents=True)
    (site / "index.html").write_text("<h1>home</h1>", encoding="utf-8")
    (site / "chapters" / "b" / "index.html").write_text('<h3 id="q-x">X</h3>', encoding="utf-8")
    published = tmp_path / "published.txt"
    published.write_text("/\n/chapters/a/\n/chapters/a/#q-x\n/chapters/b/\n/chapters/b/#q-x\n", encoding="utf-8")
    redirects = tmp_path / "redirects.yml"
    redirects.write_text("{}\n", encoding="utf-8")
    monkeypatch.setattr(urls, "PUBLISHED", published)
    monkeypatch.setattr(urls, "REDIRECTS", redirects)
    assert urls.problems(site) == [
        "/chapters/a/ was published but is gone: add a redirect for it in docs/redirects.yml",
        "/chapters/a/#q-x was published but is gone: add a redirect for it in docs/redirects.yml",
    ]
    redirects.write_text("chapters/a.md: chapters/b.md\nchapters/a.md#q-x: chapters/b.md#q-x\n", encoding="utf-8")
    assert urls.problems(site) == []
    (site / "chapters" / "c").mkdir()
    (site / "chapters" / "c" / "index.html").write_text("<h1>new</h1>", encoding="utf-8")
    assert urls.problems(site) == ["/chapters/c/ is new and not in docs/published-urls.txt: run `scripts/run urls` to record it"]
