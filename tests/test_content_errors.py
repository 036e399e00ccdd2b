"""Content mistakes get sentences, not tracebacks: each way the content files can disagree is found by
the function the build calls (handbook.consistency, content.read_yaml, search_golden.load), and its
message names the file and says what to fix. Fast: no build, no lab run (tests/test_bad_input.py
checks the same through whole builds)."""
from __future__ import annotations

import shutil
from dataclasses import replace

import pytest

from handbook import consistency, content, glossary, lab_sources, registry, search_golden
from handbook.paths import DOCS, LANGS, NOTEBOOKS


@pytest.fixture
def chapters(chapter_copy):
    return chapter_copy(consistency)


def test_the_content_as_committed_agrees_with_itself():
    assert consistency.problems() == []


def test_a_question_id_renamed_in_one_language_only(chapters):
    page = chapters / "en" / "chapters" / "training-and-evaluation.md"
    page.write_text(page.read_text(encoding="utf-8").replace("{#q-evaluation-methods}", "{#q-evaluation-method}"), encoding="utf-8")
    found = consistency.chapters(registry.load())
    assert any("en/chapters/training-and-evaluation.md:" in p and "heading #q-evaluation-method is not in docs/registry.yml" in p
               for p in found), found
    assert any("has no question heading for q-evaluation-methods" in p for p in found), found


def test_questions_out_of_order_and_a_chapter_page_missing(chapters):
    reg = registry.load()
    (chapters / "zh" / "chapters" / "rag-and-agents.md").unlink()
    found = consistency.chapters(reg)
    assert any("lists chapter rag-and-agents, but" in p and "zh/chapters/rag-and-agents.md does not exist" in p for p in found), found


def test_a_yaml_syntax_error_names_the_file_and_line(tmp_path):
    broken = tmp_path / "registry.yml"
    broken.write_text("topics:\n  a: {zh: 甲, en: A}\nchapters: [\n  - slug: x\n", encoding="utf-8")
    with pytest.raises(content.ContentError) as err:
        content.read_yaml(broken)
    message = str(err.value)
    assert message.startswith(f"{broken}:") and "not valid YAML" in message and "fix the syntax" in message
    assert message.split(":")[1].isdigit(), message


def test_a_registry_question_without_its_fields(tmp_path, monkeypatch):
    text = (DOCS / "registry.yml").read_text(encoding="utf-8").replace(
        "q-what-is-llm: {source: [\"000\", 面试题 1], topic: fundamentals, difficulty: basic}", "q-what-is-llm: {topic: fundamentals}")
    (tmp_path / "registry.yml").write_text(text, encoding="utf-8")
    monkeypatch.setattr(registry, "REGISTRY_FILE", tmp_path / "registry.yml")
    with pytest.raises(content.ContentError, match=r"question q-what-is-llm lacks `source`, `difficulty`"):
        registry.load()


def test_a_lab_listed_but_missing_and_a_lab_source_not_listed(tmp_path, monkeypatch):
    for slug in registry.load().labs[:2]:
        shutil.copy(NOTEBOOKS / f"{slug}.py", tmp_path / f"{slug}.py")
    (tmp_path / "stray.py").write_text('# %% [markdown] lang="zh"\n# # 甲\n\n# %%\nx = 1\n', encoding="utf-8")
    monkeypatch.setattr(lab_sources, "NOTEBOOKS", tmp_path)
    reg = registry.load()
    found = consistency.labs(replace(reg, labs=[*reg.labs[:2], "ghost"]))
    assert "docs/registry.yml lists lab ghost, but notebooks/ghost.py does not exist; add the lab or remove it from `labs:`" in found
    assert any(p.startswith("notebooks/stray.py is not listed under `labs:`") for p in found), found


def test_a_lab_cell_without_a_language_and_unpaired_headings(tmp_path, monkeypatch):
    (tmp_path / "half.py").write_text('# %% [markdown] lang="zh"\n# # 甲\n\n# %% [markdown]\n# ## 乙\n\n# %%\nx = 1\n', encoding="utf-8")
    monkeypatch.setattr(lab_sources, "NOTEBOOKS", tmp_path)
    found = consistency.labs(replace(registry.load(), labs=["half"]))
    assert any(p.startswith("notebooks/half.py: 1 markdown cell(s) without lang") for p in found), found
    assert any("notebooks/half.py: 1 zh headings but 0 en headings" in p for p in found), found


def test_glossary_duplicates_and_unknown_questions(tmp_path, monkeypatch):
    text = (DOCS / "glossary.yml").read_text(encoding="utf-8")
    text += "- zh: 召回率\n  en: recall\n  zh_def: 重复。\n  en_def: Again.\n  questions: [q-nowhere]\n"
    (tmp_path / "glossary.yml").write_text(text, encoding="utf-8")
    monkeypatch.setattr(glossary, "GLOSSARY_FILE", tmp_path / "glossary.yml")
    found = consistency.glossary_problems(registry.load())
    assert any("term 'recall' names question(s) ['q-nowhere']" in p for p in found), found
    (tmp_path / "glossary.yml").write_text(text.replace("questions: [q-nowhere]\n", ""), encoding="utf-8")
    found = consistency.glossary_problems(registry.load())
    assert any("the English name 'recall' is defined 2 times" in p for p in found), found


def test_a_reading_path_naming_an_unknown_item(tmp_path, monkeypatch):
    text = (DOCS / "paths.yml").read_text(encoding="utf-8").replace("    - q-what-is-llm\n", "    - q-nowhere\n", 1)
    (tmp_path / "paths.yml").write_text(text, encoding="utf-8")
    monkeypatch.setattr(consistency, "READING_PATHS", tmp_path / "paths.yml")
    found = consistency.paths(registry.load())
    assert any("names 'q-nowhere', which is not a question or `lab:` in docs/registry.yml" in p for p in found), found


def test_a_golden_entry_naming_an_unknown_id(tmp_path):
    (tmp_path / "bad.yml").write_text("zh:\n  - {query: 召回率, answers: [q-evaluation-methods, q-nowhere]}\n", encoding="utf-8")
    with pytest.raises(search_golden.GoldenSetError) as err:
        search_golden.load(tmp_path)
    assert "bad.yml: zh entry 1 ('召回率'): answer 'q-nowhere' is not a question id in docs/registry.yml" in str(err.value)
