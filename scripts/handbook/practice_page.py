"""The mock interview page (/practice/, /en/practice/): chapters, topics, difficulty and a count to draw
from, every unique question's drill (title, key points, follow-ups, link) as JSON for practice.js,
the progress tools, and the Anki decks. Generated; never edited by hand."""
from __future__ import annotations

import json

from . import anki, knowledge, practice, registry, urls
from .markdown_model import render_inline
from .paths import LANGS

PAGE = {
    "zh": {
        "title": "模拟面试",
        "intro": "从选定的章节、主题和难度中随机抽题，一次一道、计时作答，然后对照要点给自己打分；最后得到一份带链接的复习清单。"
                 "也可以打印成纸质面试单（要点在最后一页）。进度只保存在这个浏览器里，不上传到任何地方。",
        "nojs": "模拟面试需要 JavaScript。没有 JavaScript 时，每章的题目、答案和要点都完整显示，可以从[题库](questions.md)开始。",
        "progress": "进度", "progress_intro": "自评（会了 / 部分 / 还不会）保存在本浏览器的 localStorage 中。可以导出为 JSON 文件备份或换设备导入。",
        "anki": "Anki 卡组", "anki_intro": "每道题一张卡片：正面是题目，背面是要点、追问和答案链接。按主题和难度打了标签；导入新版卡组会更新已有卡片，不会重复。",
        "deck": {"zh": "中文卡组", "en": "English deck"},
    },
    "en": {
        "title": "Mock interview",
        "intro": "Draw questions at random from the chapters, topics and difficulty you choose, answer them one at a time against "
                 "a timer, then grade yourself against the key points; you end with a review list of links. You can also print "
                 "a paper interview sheet (key points on the last page). Progress stays in this browser and is sent nowhere.",
        "nojs": "The mock interview needs JavaScript. Without it every chapter shows its questions, answers and key points in full; "
                "start from the [question bank](questions.md).",
        "progress": "Progress", "progress_intro": "Your self-grades (knew it / partly / not yet) are kept in this browser's localStorage. "
                    "Export them to a JSON file as a backup or to move to another device, and import them there.",
        "anki": "Anki decks", "anki_intro": "One card per question: the question on the front; key points, follow-ups and a link to the "
                "answer on the back. Tagged by topic and difficulty; importing a newer deck updates the cards you have, without copies.",
        "deck": {"zh": "Chinese deck", "en": "English deck"},
    },
}


def _build_path(target: str, directory_urls: bool) -> str:
    """A docs path (`chapters/x.md#q-y`) as a URL path from the site root, in this build's style."""
    path, _, anchor = urls.site_path(target).partition("#")
    if not directory_urls:
        path = path.rstrip("/") + ".html" if path else "index.html"
    return path + (f"#{anchor}" if anchor else "")


def page(lang: str, directory_urls: bool) -> str:
    """The mock interview page: its controls (drawn by practice.js), every question's drill data as JSON
    (links from the site root, in this build's URL style), the progress tools and the Anki decks."""
    reg, names, drills, t = registry.load(), registry.titles(lang), practice.all_questions(lang), PAGE[lang]
    data = {
        "chapters": [[c["slug"], registry.page_title(lang, c["slug"])] for c in reg.chapters],
        "topics": [[k, v[lang]] for k, v in reg.topics.items() if any(q.topic == k for q in reg.questions.values())],
        "levels": [[k, v] for k, v in knowledge.DIFFICULTY[lang].items()],
        "questions": [
            {"id": q.id, "chapter": q.chapter, "topic": q.topic, "level": q.difficulty,
             "title": render_inline(names[q.id]), "url": _build_path(f"chapters/{q.chapter}.md#{q.id}", directory_urls),
             "points": [render_inline(p) for p in drills[q.id].key_points],
             "followups": [[render_inline(f.text), _build_path(f.target, directory_urls) if f.target else None]
                           for f in drills[q.id].follow_ups]}
            for q in reg.unique_questions()
        ],
    }
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    base = "../" if directory_urls else ""  # from practice/ (or practice.html) to this site's root
    deck_paths = {lang: f"{base}{anki.file_name(lang)}"}
    deck_paths.update({code: f"{base}{'en/' if lang == 'zh' else '../'}{anki.file_name(code)}" for code in LANGS if code != lang})
    decks = " · ".join(f'<a href="{deck_paths[code]}" download>{t["deck"][code]}</a>' for code in LANGS)
    return "\n".join([
        f"# {t['title']}", "", t["intro"], "",
        '<div class="mock" data-mock></div>', "",
        t["nojs"], "{: .mock-nojs }", "",
        f'<script type="application/json" id="practice-data">{payload}</script>', "",
        f"## {t['progress']} {{#progress}}", "", t["progress_intro"], "", '<div class="progress-tools" data-progress></div>', "",
        f"## {t['anki']} {{#anki}}", "", t["anki_intro"], "", f"<p>{decks}</p>", "",
    ])
