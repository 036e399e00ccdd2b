"""Search finds the answer: the golden set (tests/golden/*.yml) typed into the built site in Chromium,
hosted and from file://, in both languages, scored by Recall@3 and MRR against the floor; and the same
engine without a browser (node), for the one-minute loop."""
from __future__ import annotations

import json
import subprocess

import pytest

from conftest import lang_root
from handbook import search_golden, search_index
from handbook.search_browser import search_each
from handbook.paths import DOCS, LANGS

WORKER = DOCS / "overrides" / search_index.WORKER
ENGINE = DOCS.parent / "tests" / "search_engine.cjs"


@pytest.fixture(scope="module")
def golden():
    return search_golden.load()


def _start(pg, root_url: str, errors: list[str]) -> None:
    pg.on("console", lambda m: errors.append(m.text) if m.type in ("error", "warning") else None)
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(root_url)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("build", ["hosted", "offline"])
def test_golden_queries_find_their_answers_in_the_browser(browser, golden, lang, build, request, capsys):
    if build == "hosted":
        root = request.getfixturevalue("server") + ("/" if lang == "zh" else "/en/")
    else:
        root = (lang_root(request.getfixturevalue("offline_site"), lang) / "index.html").as_uri()
    base = root.rsplit("/", 1)[0] + "/"
    pg, errors = browser.new_page(), []
    _start(pg, root, errors)
    results = search_each(pg, [q.text for q in golden[lang]])
    pg.close()
    other = [(q.text, u) for q, urls in zip(golden[lang], results) for u in urls
             if not u.startswith(base) or (lang == "zh" and u.startswith(base + "en/"))]
    assert not other, f"results in the other language: {other[:5]}"
    assert not errors, errors
    score = search_golden.score(golden[lang], results)
    with capsys.disabled():
        print(f"\nsearch, {build} {lang}:\n{search_golden.table({lang: score})}")
    misses = "\n".join(f"  {q.text!r}: answer at {n}, top 3 {top}" for q, n, top in score.misses)
    assert score.passes(), f"{build} {lang} below the floor {search_golden.FLOOR}:\n{misses}"


def test_an_empty_or_blank_query_shows_no_error(browser, server):
    pg, errors = browser.new_page(), []
    _start(pg, server + "/", errors)
    assert search_each(pg, ["召回率"])[0]
    box = pg.locator("input[data-md-component=search-query]")
    for blank in ("", "   ", "\t"):
        box.fill(blank)
        box.press("End")
        pg.wait_for_timeout(300)
    pg.close()
    assert not errors, errors


@pytest.mark.parametrize("lang", LANGS)
def test_golden_queries_find_their_answers_without_a_browser(golden, lang, tmp_path):
    """The worker's engine run by node on an index built from the sources: no lab run, no site build."""
    index = tmp_path / f"handbook-{lang}.js"
    index.write_text(search_index.script(search_index.build(lang, directory_urls=True)), encoding="utf-8")
    out = subprocess.run(["node", str(ENGINE), str(WORKER), str(index)],
                         input=json.dumps([q.text for q in golden[lang]]), capture_output=True, text=True, check=True)
    score = search_golden.score(golden[lang], json.loads(out.stdout)["results"])
    misses = "\n".join(f"  {q.text!r}: answer at {n}, top 3 {top}" for q, n, top in score.misses)
    assert score.passes(), f"{lang} below the floor {search_golden.FLOOR}:\n{search_golden.table({lang: score})}\n{misses}"
