"""The question registry and the chapters agree: every entry has its heading in both languages, in
its chapter and in article order, and every question heading has its entry."""
import pytest

from handbook import registry
from handbook.markdown_model import Page
from handbook.paths import DOCS

REG = registry.load()
CHAPTERS = [c["slug"] for c in REG.chapters]


def test_registry_is_consistent():
    assert registry.problems(REG) == []


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("slug", CHAPTERS)
def test_chapter_questions_match_the_registry_in_order(slug, lang):
    on_page = [qid for qid, _ in registry.chapter_questions(lang, slug)]
    expected = [q.id for q in REG.questions.values() if q.chapter == slug]
    missing = [q for q in expected if q not in on_page]
    extra = [q for q in on_page if q not in expected]
    assert not missing, f"docs/{lang}/chapters/{slug}.md lacks headings for {missing}"
    assert not extra, f"docs/{lang}/chapters/{slug}.md has question headings with no registry entry (or in the wrong chapter): {extra}"
    assert on_page == expected, f"docs/{lang}/chapters/{slug}.md: questions are not in the article's order"


def test_question_ids_are_unique_across_the_handbook():
    seen = {}
    for slug in CHAPTERS:
        for qid, _ in registry.chapter_questions("zh", slug):
            assert qid not in seen, f"{qid} is a heading in both {seen[qid]} and {slug}"
            seen[qid] = slug


@pytest.mark.parametrize("slug", [c["slug"] for c in REG.part(1)])
def test_each_chapter_names_its_source_article(slug):
    title = next(c["title"] for c in REG.chapters if c["slug"] == slug)
    for lang in ("zh", "en"):
        head = (DOCS / lang / "chapters" / f"{slug}.md").read_text(encoding="utf-8")[:1500]
        assert title in head, f"docs/{lang}/chapters/{slug}.md must name its source article 《{title}》 at the top"


def test_repeated_questions_link_each_other():
    """Each member of a same-question group links every other member, in both languages."""
    missing = []
    for q in REG.questions.values():
        group = registry.same_question_group(REG, q.id)
        for lang in ("zh", "en"):
            page = Page.read(DOCS / lang / "chapters" / f"{q.chapter}.md")
            section = page.source(page.section(page.heading(q.id)))
            for other in group:
                if other != q.id and f"#{other})" not in section:
                    missing.append(f"docs/{lang}/chapters/{q.chapter}.md#{q.id} does not link {other}")
    assert not missing, "\n".join(missing)
