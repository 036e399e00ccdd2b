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

ENGINE = DOCS / "overrides" / search_index.ENGINE
NODE_RUNNER = DOCS.parent / "tests" / "search_engine.cjs"


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
    """The engine run by node on an index built from the sources: no lab run, no site build."""
    index = tmp_path / f"handbook-{lang}.js"
    index.write_text(search_index.script(search_index.build(lang, directory_urls=True)), encoding="utf-8")
    out = subprocess.run(["node", str(NODE_RUNNER), str(ENGINE), str(index)],
                         input=json.dumps([q.text for q in golden[lang]]), capture_output=True, text=True, check=True)
    score = search_golden.score(golden[lang], json.loads(out.stdout)["results"])
    misses = "\n".join(f"  {q.text!r}: answer at {n}, top 3 {top}" for q, n, top in score.misses)
    assert score.passes(), f"{lang} below the floor {search_golden.FLOOR}:\n{search_golden.table({lang: score})}\n{misses}"


@pytest.fixture(scope="module")
def indexes():
    return {lang: search_index.build(lang, directory_urls=True) for lang in LANGS}


UI_STRINGS = ["Copied", "已复制", "复制链接", "Copy link", "Download this notebook", "下载这个笔记本", "运行成本：CPU", "Cost: CPU, about"]


def _code_lines() -> set[str]:
    """The long statements of every code block of the chapters and every code cell of the labs."""
    from handbook import lab_sources, registry
    from handbook.markdown_model import Page

    reg = registry.load()
    code = [f.code for lang in LANGS for c in reg.chapters for f in Page.read(DOCS / lang / "chapters" / f"{c['slug']}.md").fences]
    code += [cell.source for slug in reg.labs for cell in lab_sources.read(slug).cells if cell.cell_type == "code"]
    lines = {line.strip() for block in code for line in block.splitlines()}
    return {line for line in lines if len(line) >= 30 and " " in line and "(" in line}


@pytest.mark.parametrize("lang", LANGS)
def test_index_is_prose_first_without_ui_strings_or_code(indexes, lang):
    docs = indexes[lang]["docs"]
    text = "\n".join(d[2] + "\n" + d[3] for d in docs)
    assert not [s for s in UI_STRINGS if s in text], "UI strings in the index"
    code = [line for line in _code_lines() if line in text]
    assert not code, f"code in the index: {code[:3]}"
    locations = [d[1] for d in docs]
    assert len(locations) == len(set(locations)), "an entry is in the index twice"
    assert not [loc for loc in locations if loc.split("/")[0] in ("questions", "errata", "paths")], \
        "the generated pages repeat the questions; they are not indexed"


@pytest.mark.parametrize("lang", LANGS)
def test_every_question_is_an_entry_with_its_title_and_first_line(indexes, lang):
    from handbook import registry

    entries = {d[1].split("#")[1]: d for d in indexes[lang]["docs"] if d[0] == "q"}
    titles = registry.titles(lang)
    assert set(entries) == set(registry.load().questions)
    for qid, (kind, location, title, text, page, start, end, cut) in entries.items():
        assert title == titles[qid].replace("*", "").replace("`", ""), qid
        assert end > start and text[start:end].strip() and not text[start:end].startswith(("题目：", "Question:")), qid


def test_chinese_queries_are_cut_with_the_index_dictionary(indexes):
    """jieba's words with the glossary taught to it: glossary terms whole, and the words inside them too."""
    words = {w for group in indexes["zh"]["dict"].values() for w in group.split(" ")}
    assert {"召回率", "差分隐私", "数据并行", "注入"} <= words
    assert not [w for w in words if len(w) < 2]


@pytest.mark.parametrize("lang", LANGS)
def test_the_index_fits_its_budget(indexes, lang):
    """The benchmark's budget, in the one-minute loop."""
    import gzip

    kb = len(gzip.compress(search_index.script(indexes[lang]).encode(), 6)) / 1024
    assert kb <= search_index.BUDGET_KB, f"{lang} index {kb:.0f} KB gzip > {search_index.BUDGET_KB} KB"


@pytest.mark.parametrize("lang", LANGS)
def test_every_word_of_an_answer_stays_findable(indexes, lang):
    """Past its first lines a question's prose is indexed as its vocabulary: no word of it is lost."""
    from handbook import registry
    from handbook.markdown_model import Page

    entries = {d[1].split("#")[1]: d[3] for d in indexes[lang]["docs"] if d[0] == "q"}
    for chapter in registry.load().chapters:
        page = Page.read(DOCS / lang / "chapters" / f"{chapter['slug']}.md")
        for h in page.questions():
            section = page.section(h)
            prose = search_index.without_references(page.plain(section.start, section.end, skip=("followups",)), lang)
            indexed = entries[h.id].lower()  # the engine finds a word anywhere in the text
            lost = {w.lower() for _, w in search_index._words(prose) if w.lower() not in indexed}
            assert not lost, f"{h.id}: {sorted(lost)[:10]} not in the index"
