"""Practice: key points and follow-ups for every question, the self-test on chapters, the mock interview,
progress kept in the browser (hosted and from file://), export and import, and the Anki decks."""
from __future__ import annotations

import json
import re
import sqlite3
import zipfile

import genanki
import pytest
from playwright.sync_api import expect

from conftest import lang_root
from handbook import anki, consistency, practice, registry
from handbook.paths import DOCS, LANGS

CHAPTER = "chapters/training-and-evaluation"
QUESTION = "q-evaluation-methods"       # repeated question: its grade is kept under q-evaluate-llm
CANONICAL = "q-evaluate-llm"


# --- the data, without a browser -----------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_every_question_has_key_points_and_follow_ups(lang):
    drills = practice.all_questions(lang)
    assert set(drills) == set(registry.load().questions)
    for qid, drill in drills.items():
        assert 3 <= len(drill.key_points) <= 6 and 1 <= len(drill.follow_ups) <= 3, qid
    assert practice.problems() == []


@pytest.fixture
def chapters(chapter_copy):
    return chapter_copy(practice)


def test_a_question_without_key_points_names_the_file_and_the_question(chapters):
    page = chapters / "en" / "chapters" / "llm-internals.md"
    text = page.read_text(encoding="utf-8")
    start = text.index('!!! keypoints "Key points"')
    end = text.index('!!! followups "Follow-ups"', start)
    page.write_text(text[:start] + text[end:], encoding="utf-8")
    found = practice.problems()
    assert any(p.endswith('question q-subword-tokenizers has no `!!! keypoints "Key points"` at the end of its section; '
                          "add (see CONTRIBUTING.md, Key points and follow-ups)") and "en/chapters/llm-internals.md:" in p
               for p in found), found


def test_a_follow_up_linking_a_missing_anchor_is_named(chapters):
    page = chapters / "zh" / "chapters" / "training-and-evaluation.md"
    text = page.read_text(encoding="utf-8").replace("(user-data-and-training.md#q-data-requirements)", "(user-data-and-training.md#q-nowhere)", 1)
    page.write_text(text, encoding="utf-8")
    found = practice.problems()
    assert any("zh/chapters/training-and-evaluation.md: question q-training-pipeline, follow-up 1 links #q-nowhere, "
               "which is not a heading of chapters/user-data-and-training.md; fix the link" in p for p in found), found


def test_too_many_key_points_are_refused(chapters):
    page = chapters / "zh" / "chapters" / "llm-internals.md"
    text = page.read_text(encoding="utf-8")
    at = text.index('!!! keypoints "要点"') + len('!!! keypoints "要点"\n\n')
    page.write_text(text[:at] + "    - 多余\n" * 6 + text[at:], encoding="utf-8")
    assert any("question q-subword-tokenizers has" in p and "key points; give 3 to 6" in p for p in practice.problems())


def _notes(apkg: bytes, tmp_path) -> list[tuple]:
    path = tmp_path / "deck.apkg"
    path.write_bytes(apkg)
    with zipfile.ZipFile(path) as z:
        z.extract("collection.anki2", tmp_path)
    with sqlite3.connect(tmp_path / "collection.anki2") as db:
        return db.execute("select guid, flds, tags from notes").fetchall()


@pytest.mark.parametrize("lang", LANGS)
def test_a_deck_has_one_note_per_unique_question_in_its_language_with_stable_guids(lang, tmp_path):
    reg = registry.load()
    unique = [q.id for q in reg.questions.values() if not q.same_as]
    first = _notes(anki.package(lang, "https://example.org/h/"), tmp_path)
    again = _notes(anki.package(lang, "https://example.org/h/"), tmp_path)
    assert sorted(g for g, *_ in first) == sorted(genanki.guid_for(q) for q in unique)
    assert sorted(g for g, *_ in first) == sorted(g for g, *_ in again), "GUIDs change between builds"
    questions = [fields.split("\x1f")[0] for _, fields, _ in first]
    chinese = [q for q in questions if re.search(r"[\u4e00-\u9fff]", q)]
    assert (len(chinese) == len(questions)) if lang == "zh" else not chinese, chinese[:3]
    assert all("topic::" in tags and "difficulty::" in tags for *_, tags in first)


def test_the_content_check_runs_the_practice_check():
    assert consistency.problems() == []


# --- in the browser --------------------------------------------------------------------------------------

def _practice_on(pg):
    pg.locator("button.practice-toggle").click()
    expect(pg.locator("html")).to_have_class(re.compile(r"\bpractice\b"))


def test_practice_mode_hides_the_answers_and_reveals_key_points_and_grades(page, server):
    page.goto(f"{server}/en/{CHAPTER}/")
    answer = page.locator(f'[data-q="{QUESTION}"].q-answer').first
    expect(answer).to_be_visible()
    _practice_on(page)
    expect(answer).to_be_hidden()
    expect(page.locator(f'[data-q="{QUESTION}"].q-points')).to_be_hidden()
    expect(page.locator(f"h3#{QUESTION}")).to_be_visible()
    page.locator(f"#drill-{QUESTION} button").click()
    expect(answer).to_be_visible()
    points = page.locator(f'[data-q="{QUESTION}"].q-points li input[type=checkbox]')
    assert points.count() >= 3
    expect(page.get_by_role("button", name="Knew it")).to_be_visible()


def test_without_javascript_every_answer_stays_visible(browser, server):
    context = browser.new_context(java_script_enabled=False)
    pg = context.new_page()
    pg.goto(f"{server}/en/{CHAPTER}/")
    expect(pg.locator(f'[data-q="{QUESTION}"].q-points')).to_be_visible()
    toggle = pg.locator("button.practice-toggle")
    expect(toggle).to_have_count(1)
    expect(toggle).to_be_hidden()  # in the page, but without JavaScript it could do nothing
    context.close()


def _grade(pg, question, grade, canonical=None):
    pg.locator(f"#drill-{question} button").click()
    pg.locator(f'.q-grades[data-question="{canonical or question}"] button', has_text=grade).click()


@pytest.mark.parametrize("build", ["hosted", "offline"])
def test_a_grade_survives_navigation_and_reload(browser, build, request):
    if build == "hosted":
        base, chapter, bank = request.getfixturevalue("server") + "/en/", f"{CHAPTER}/", "questions/"
    else:
        base = (lang_root(request.getfixturevalue("offline_site"), "en")).as_uri() + "/"
        chapter, bank = f"{CHAPTER}.html", "questions.html"
    context = browser.new_context()
    pg = context.new_page()
    pg.goto(base + chapter)
    _practice_on(pg)
    _grade(pg, QUESTION, "Partly", CANONICAL)
    pg.goto(base + bank)
    badge = pg.locator(f'a[data-qid="{CANONICAL}"] ~ .q-grade')
    expect(badge).to_have_attribute("data-grade", "partly")
    pg.reload()
    expect(pg.locator(f'a[data-qid="{CANONICAL}"] ~ .q-grade')).to_have_text("Partly")
    pg.select_option("form.qbank-filter select[name=progress]", "unseen")
    expect(pg.locator(f'li:has(> a[data-qid="{CANONICAL}"])')).to_be_hidden()
    pg.goto(base + chapter)
    expect(pg.locator("html")).to_have_class(re.compile(r"\bpractice\b"))  # the mode was kept too
    context.close()


def _start(pg, chapters=None, topics=None, count=5):
    form = pg.locator("form.mock-form")
    if chapters is not None:
        for box in form.locator("input[name=chapter]").all():
            box.set_checked(box.get_attribute("value") in chapters)
    if topics is not None:
        for box in form.locator("input[name=topic]").all():
            box.set_checked(box.get_attribute("value") in topics)
    form.locator("input[name=count]").fill(str(count))
    form.locator("button[type=submit]").click()


def test_the_mock_interview_honours_its_filters_never_repeats_and_ends_with_a_summary(page, server):
    reg = registry.load()
    page.goto(f"{server}/en/practice/")
    pool = {q.id for q in reg.questions.values() if not q.same_as and q.chapter in ("llm-internals", "inference-and-serving")
            and q.topic in ("llm-internals", "inference")}
    _start(page, chapters=["llm-internals", "inference-and-serving"], topics=["llm-internals", "inference"], count=len(pool) + 5)
    expect(page.locator(".mock-note")).to_contain_text(f"Only {len(pool)} questions match")
    seen = []
    for n in range(len(pool)):
        question = page.locator(".mock-question")
        seen.append(question.get_attribute("data-id"))
        expect(page.locator(".mock-timer")).to_have_text(re.compile(r"^−?\d+:\d\d$"))
        page.get_by_role("button", name="Show key points").click()
        page.get_by_role("button", name="Not yet").click()
        page.locator(".mock-stage button.md-button--primary").click()
    assert len(seen) == len(set(seen)) == len(pool) and set(seen) == pool
    expect(page.locator(".mock-summary")).to_be_visible()
    assert page.locator(".mock-stage ol li a").count() == len(pool)
    expect(page.locator(".mock-stage ol li").first).to_contain_text("Not yet")


def test_the_print_view_is_an_interview_sheet_with_key_points_last(page, server):
    page.goto(f"{server}/practice/")
    _start(page, count=3)
    page.emulate_media(media="print")
    sheet = page.locator(".mock-sheet")
    expect(sheet).to_be_visible()
    assert sheet.locator(":scope > h2").count() == 3 and sheet.locator(".mock-space").count() == 3
    assert sheet.locator(".mock-key h3").count() == 3 and sheet.locator(".mock-key li").count() >= 9
    assert page.eval_on_selector(".mock-key", "e => getComputedStyle(e).breakBefore") == "page"
    expect(page.locator("form.mock-form")).to_be_hidden()
    page.emulate_media(media="screen")


def _stored(pg) -> dict:
    return pg.evaluate("JSON.parse(localStorage.getItem('handbook.progress') || '{}').grades || {}")


def test_export_then_import_restores_the_same_grades_and_bad_files_change_nothing(page, server, tmp_path):
    page.goto(f"{server}/en/{CHAPTER}/")
    _practice_on(page)
    _grade(page, QUESTION, "Knew it", CANONICAL)
    _grade(page, "q-implement-rnn", "Not yet")
    page.goto(f"{server}/en/practice/")
    before = _stored(page)
    assert {k: v["grade"] for k, v in before.items()} == {CANONICAL: "knew", "q-implement-rnn": "notyet"}
    with page.expect_download() as download:
        page.get_by_role("button", name="Export progress").click()
    exported = tmp_path / "progress.json"
    download.value.save_as(exported)
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Clear progress").click()
    assert _stored(page) == {}
    upload = page.locator("input.progress-file")
    upload.set_input_files(str(exported))
    expect(page.locator(".progress-message")).to_have_text("Imported 2 self-grades.")
    assert _stored(page) == before
    for name, content, message in [("notes.txt", "not json", "the file is not JSON"),
                                   ("other.json", json.dumps({"format": "handbook-progress", "grades": {"q-nowhere": {"grade": "knew"}}}),
                                    "names questions this handbook does not have: q-nowhere")]:
        (tmp_path / name).write_text(content, encoding="utf-8")
        upload.set_input_files(str(tmp_path / name))
        expect(page.locator(".progress-message")).to_contain_text(message)
        assert _stored(page) == before, "a refused import changed the stored progress"


def test_the_practice_page_and_a_chapter_in_practice_mode_pass_axe(browser, server):
    from test_browser import _axe

    context = browser.new_context(viewport={"width": 412, "height": 823}, is_mobile=True, has_touch=True)
    pg = context.new_page()
    found = {}
    for path in ["practice/", "en/practice/"]:
        pg.goto(f"{server}/{path}")
        _start(pg, count=2)
        pg.get_by_role("button", name=re.compile("显示要点|Show key points")).click()
        found[path] = _axe(pg, ["wcag2a", "wcag2aa", "best-practice"], off=("scrollable-region-focusable",))
    pg.goto(f"{server}/{CHAPTER}/")
    _practice_on(pg)
    pg.locator(f"#drill-{QUESTION} button").click()
    found["chapter"] = _axe(pg, ["wcag2a", "wcag2aa", "best-practice"], off=("scrollable-region-focusable",))
    context.close()
    assert not any(found.values()), found


def test_practice_javascript_and_css_fit_their_budget():
    import gzip

    assets = DOCS / "overrides" / "assets"
    size = sum(len(gzip.compress((assets / p).read_bytes(), 9)) for p in ("javascripts/practice.js", "stylesheets/practice.css"))
    assert size <= 10 * 1024, f"practice JavaScript and CSS are {size / 1024:.1f} KB gzip, over 10 KB"
