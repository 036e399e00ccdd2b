"""Pages generated from the registry and the chapters: the question bank, the errata, the reading
paths, and the machine-readable questions.json. Nothing here is kept by hand."""
from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass


from . import lab_sources, practice, registry, urls
from .content import read_yaml
from .markdown_model import Page
from .paths import READING_PATHS, lang_dir

DIFFICULTY = {
    "zh": {"basic": "基础", "intermediate": "进阶", "advanced": "高级"},
    "en": {"basic": "basic", "intermediate": "intermediate", "advanced": "advanced"},
}
SECTION_EN = {"面试题": "interview question", "编程题": "coding question", "问题": "question", "编程练习": "exercise"}
CORRECTION = {"zh": ("勘误", "**原文：**", "**更正：**"), "en": ("Correction", "**The article said:**", "**What is right:**")}
TEXT = {
    "zh": {
        "bank_title": "题库",
        "bank_intro": "全书每一道题，按主题分组。在多篇文章里重复出现的题只列一次，后面给出它的所有位置。"
                      "难度分三级：基础、进阶、高级。你在练习模式或[模拟面试](practice.md)中的自评显示在题目旁，可以只看“还没掌握”的题。"
                      "下面的筛选需要 JavaScript；没有 JavaScript 时列表完整显示。",
        "also": "也见：", "all_topics": "全部主题", "all_levels": "全部难度", "all_progress": "全部进度",
        "todo": "还没掌握", "unseen": "未自评过", "shown": "显示 {n} / {total} 道题",
        "article": "文章 {a}", "errata_title": "勘误表",
        "errata_intro": "本手册对原文所做的每一处更正，按章节排列。每条引用原文的说法，并链接到给出正确答案的题目。共 {n} 处。",
        "fix": "更正", "paths_title": "阅读路径",
        "paths_intro": "为入职准备的几条路线：按顺序读题、跑实验，每项标了预计用时。页面可以直接打印成清单。",
        "read": "阅读约 {m} 分钟", "run": "运行约 {s} 秒", "total": "合计：阅读约 {m} 分钟，运行实验约 {s} 秒。",
    },
    "en": {
        "bank_title": "Question bank",
        "bank_intro": "Every question in the handbook, grouped by topic. A question asked in several articles is listed once, "
                      "with all the places it is asked. Difficulty has three levels: basic, intermediate, advanced. "
                      "Your self-grades from practice mode or the [mock interview](practice.md) show beside each question, and you can "
                      "list only the ones you do not know yet. The filter below needs JavaScript; without it the full list shows.",
        "also": "also asked in:", "all_topics": "All topics", "all_levels": "All levels", "all_progress": "All progress",
        "todo": "Not known yet", "unseen": "Never graded", "shown": "{n} of {total} questions shown",
        "article": "article {a}", "errata_title": "Errata",
        "errata_intro": "Every correction this handbook makes to the original articles, chapter by chapter. Each quotes the "
                        "article's claim and links the question that gives the right answer. {n} in all.",
        "fix": "Fix", "paths_title": "Reading paths",
        "paths_intro": "Routes for onboarding: questions to read and labs to run, in order, each with an estimated time. "
                       "Print the page to get a checklist.",
        "read": "about {m} min to read", "run": "about {s} s to run", "total": "In all: about {m} min of reading and {s} s of running labs.",
    },
}


EDITORIAL_LABEL = {"zh": "本手册编写", "en": "written for this handbook"}


def source_label(q: registry.Question, lang: str) -> str:
    if q.editorial:
        return EDITORIAL_LABEL[lang]
    kind, _, number = q.section.rpartition(" ")
    if lang == "en":
        kind = SECTION_EN.get(kind, kind)
    return f"{TEXT[lang]['article'].format(a=q.article)}, {kind} {number}" if lang == "en" else f"{TEXT[lang]['article'].format(a=q.article)} · {kind} {number}"


def _link(q: registry.Question, title: str, prefix: str = "") -> str:
    return f"[{title}]({prefix}chapters/{q.chapter}.md#{q.id})"


def question_bank(lang: str) -> str:
    reg, names, t = registry.load(), registry.titles(lang), TEXT[lang]
    listed = {topic: [q for q in reg.unique_questions() if q.topic == topic] for topic in reg.topics}
    out = [f"# {t['bank_title']}", "", t["bank_intro"], "", _filter_form(lang, reg, sum(map(len, listed.values()))), ""]
    for topic, label in reg.topics.items():
        canon = listed[topic]
        if not canon:
            continue
        out += [f"## {label[lang]} {{#topic-{topic}}}", ""]
        for q in canon:
            group = [reg.questions[i] for i in registry.same_question_group(reg, q.id) if i != q.id]
            line = (f"- {_link(q, names[q.id])}{{: data-qid=\"{q.id}\" data-topic=\"{q.topic}\" data-difficulty=\"{q.difficulty}\" }}"
                    f" · {DIFFICULTY[lang][q.difficulty]} · {source_label(q, lang)}")
            if group:
                line += f" · {t['also']} " + ", ".join(_link(o, source_label(o, lang)) for o in group)
            out.append(line)
        out.append("")
    return "\n".join(out)


def _filter_form(lang: str, reg, listed: int) -> str:
    """The filter controls, hidden without JavaScript (handbook.css), so that then nothing is hidden;
    shown from the first paint otherwise, with the count they show before any filter is chosen (all
    `listed` questions), so that nothing under them moves when practice.js wires them up."""
    t = TEXT[lang]
    shown = t["shown"].replace("{n}", str(listed)).replace("{total}", str(listed))
    topics = "".join(f'<option value="{k}">{html.escape(v[lang])}</option>' for k, v in reg.topics.items())
    levels = "".join(f'<option value="{k}">{v}</option>' for k, v in DIFFICULTY[lang].items())
    return (
        f'<form class="qbank-filter" data-shown="{html.escape(t["shown"])}">'
        f'<select name="topic" aria-label="{t["all_topics"]}"><option value="">{t["all_topics"]}</option>{topics}</select> '
        f'<select name="difficulty" aria-label="{t["all_levels"]}"><option value="">{t["all_levels"]}</option>{levels}</select> '
        f'<select name="progress" aria-label="{t["all_progress"]}"><option value="">{t["all_progress"]}</option>'
        f'<option value="todo">{t["todo"]}</option><option value="unseen">{t["unseen"]}</option></select> '
        f'<output>{html.escape(shown)}</output></form>'
    )


@dataclass
class Correction:
    question: str | None
    chapter: str
    claim: str
    fix: str


def corrections(lang: str) -> list[Correction]:
    """Every correction note in the chapters, with the question it sits under and its claim and fix."""
    reg = registry.load()
    label, claim_label, fix_label = CORRECTION[lang]
    out = []
    for chapter in reg.part(1):  # Part 2 has no article to correct (its notes are "common misconceptions")
        page = Page.read(lang_dir(lang) / "chapters" / f"{chapter['slug']}.md")
        for note in page.admonitions:
            if note.kind != "warning" or note.title != label:
                continue
            body = note.sources()
            claim = next((b[len(claim_label):].strip() for b in body if b.startswith(claim_label)), "")
            fix = next((b[len(fix_label):].strip() for b in body if b.startswith(fix_label)), "")
            out.append(Correction(page.question_of(note.line), chapter["slug"], claim, fix))
    return out


def _first_sentence(text: str) -> str:
    m = re.match(r"(.+?[。！？]|.+?[.!?](?=\s|$))", text)
    return (m.group(1) if m else text).strip()


def errata(lang: str) -> str:
    reg, names, t = registry.load(), registry.titles(lang), TEXT[lang]
    found = corrections(lang)
    out = [f"# {t['errata_title']}", "", t["errata_intro"].format(n=len(found)), ""]
    chapter_titles = {c["slug"]: c["title"] for c in reg.part(1)}
    for chapter in reg.part(1):
        items = [c for c in found if c.chapter == chapter["slug"]]
        if not items:
            continue
        page_title = registry.page_title(lang, chapter["slug"])
        out += [f"## {page_title} {{#{chapter['slug']}}}", "", f"《{chapter_titles[chapter['slug']]}》" if lang == "zh" else f"*{chapter_titles[chapter['slug']]}*", ""]
        colon = "：" if lang == "zh" else ":"
        for c in items:
            q = reg.questions.get(c.question)
            where = _link(q, names[q.id]) if q else f"[{page_title}](chapters/{c.chapter}.md)"
            claim = c.claim.strip('“”"')
            out.append(f"- {where}  \n  {CORRECTION[lang][1]} “{claim}”  \n  **{t['fix']}{colon}** {_first_sentence(c.fix)}")
        out.append("")
    return "\n".join(out)


def _reading_minutes(prose: str, lang: str) -> int:
    """Minutes to read some prose: 400 Chinese characters or 200 English words a minute."""
    if lang == "zh":
        units = len(re.findall(r"[\u4e00-\u9fff]", prose)) / 400 + len(re.findall(r"[A-Za-z]+", prose)) / 200
    else:
        units = len(re.findall(r"[A-Za-z0-9'-]+", prose)) / 200
    return max(1, round(units))


def _question_prose(lang: str, q: registry.Question) -> str:
    page = Page.read(lang_dir(lang) / "chapters" / f"{q.chapter}.md")
    section = page.section(page.heading(q.id))
    return page.plain(section.start, section.end)


def lab_seconds(lang: str, slug: str) -> int:
    nb = json.loads((lang_dir(lang) / "labs" / f"{slug}.ipynb").read_text(encoding="utf-8"))
    return max(1, round(nb["metadata"]["handbook"]["seconds"]))


def reading_paths(lang: str) -> str:
    reg, names, t = registry.load(), registry.titles(lang), TEXT[lang]
    out = [f"# {t['paths_title']}", "", t["paths_intro"], ""]
    for path in read_yaml(READING_PATHS):
        out += [f"## {path[lang]['title']} {{#{path['id']}}}", "", path[lang]["intro"], ""]
        # an ordered list drawn as a checklist (handbook.css): printable, with no form controls that do nothing
        out += ['<div class="checklist" markdown>', ""]
        total_min = total_s = 0
        for item in path["items"]:  # Markdown numbers the items itself
            if item.startswith("lab:"):
                slug = item[4:]
                seconds = lab_seconds(lang, slug)
                total_s += seconds
                out.append(f"1. [{lab_sources.title(slug, lang)}](labs/{slug}.ipynb) · {t['run'].format(s=seconds)}")
            else:
                q = reg.questions[item]
                minutes = _reading_minutes(_question_prose(lang, q), lang)
                total_min += minutes
                out.append(f"1. {_link(q, names[q.id])} · {t['read'].format(m=minutes)}")
        out += ["", "</div>", "", t["total"].format(m=total_min, s=total_s), ""]
    return "\n".join(out)


def hosted_root(site_url: str, lang: str) -> str:
    """The zh site's hosted root (the en site lives under it at en/)."""
    root = site_url if site_url.endswith("/") else site_url + "/"
    return root.removesuffix("en/") if lang == "en" else root


def export(root: str) -> dict:
    """questions.json: every question with both titles and URLs, its metadata, its labs, and its key points
    and follow-ups (inline Markdown; a follow-up with the URL where the handbook answers it)."""
    reg = registry.load()
    names = {lang: registry.titles(lang) for lang in ("zh", "en")}
    drills = {lang: practice.all_questions(lang) for lang in ("zh", "en")}
    url = {"zh": root, "en": root + "en/"}
    chapter_titles = {c["slug"]: c.get("title") for c in reg.chapters}
    return {
        "version": 2,
        "questions": [
            {
                "id": q.id,
                "title": {lang: names[lang][q.id] for lang in ("zh", "en")},
                "url": {lang: f"{url[lang]}chapters/{q.chapter}/#{q.id}" for lang in ("zh", "en")},
                "chapter": q.chapter,
                "topic": q.topic,
                "difficulty": q.difficulty,
                "source": ({"editorial": True} if q.editorial else
                           {"article": q.article, "article_title": chapter_titles[q.chapter], "section": q.section}),
                "labs": [{"slug": s, "url": {lang: f"{url[lang]}labs/{s}/" for lang in ("zh", "en")}} for s in q.labs],
                "same_as": q.same_as,
                "key_points": {lang: list(drills[lang][q.id].key_points) for lang in ("zh", "en")},
                "follow_ups": {lang: [{"text": f.text, "url": url[lang] + urls.site_path(f.target) if f.target else None}
                                      for f in drills[lang][q.id].follow_ups] for lang in ("zh", "en")},
            }
            for q in reg.questions.values()
        ],
    }
