"""Bad input fails the build with a message that names the file and says what to do.

Each case builds the Chinese site of a copy of the repository (with its generated notebooks and
their render cache, so no lab runs) with one thing broken, and checks the failure message.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from handbook import registry

# as `scripts/run build` reports it: a content mistake is a message, never a traceback
BUILD_ZH = ("import logging, sys; logging.basicConfig(); from handbook import build; from handbook.__main__ import reported; "
            "sys.exit(reported(lambda: build.build_lang('zh', build.SITE)))")
RUN_LABS = "import sys; from handbook import labs; from handbook.__main__ import reported; sys.exit(reported(labs.run_all))"


@pytest.fixture
def repo(site, tmp_path) -> Path:
    """A copy of the repository with its generated notebooks."""
    copy = tmp_path / "repo"
    copy.mkdir()
    for name in ("docs", "scripts", "notebooks", "mkdocs.yml", "pyproject.toml", "requirements.lock"):
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(src, copy / name)
    jupyter_cache = ROOT / ".cache" / "mkdocs-jupyter"
    if jupyter_cache.exists():
        shutil.copytree(jupyter_cache, copy / ".cache" / "mkdocs-jupyter")
    return copy


def run(repo: Path, code: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(repo / "scripts"), NO_MKDOCS_2_WARNING="1")
    return subprocess.run([sys.executable, "-W", "ignore", "-c", code], cwd=repo, env=env, capture_output=True, text=True, timeout=300)


def fails_with(repo: Path, *needles: str, code: str = BUILD_ZH) -> None:
    result = run(repo, code)
    out = result.stdout + result.stderr
    assert result.returncode != 0, f"the build passed but should have failed:\n{out[-2000:]}"
    assert "Traceback" not in out, f"a traceback reached the contributor:\n{out[-3000:]}"
    for needle in needles:
        assert needle in out, f"expected {needle!r} in the failure message:\n{out[-3000:]}"


def test_the_unbroken_copy_builds(repo):
    result = run(repo, BUILD_ZH)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]


def test_a_page_without_its_twin(repo):
    (repo / "docs" / "zh" / "extra.md").write_text("# 额外\n", encoding="utf-8")
    fails_with(repo, "docs/zh/extra.md has no twin docs/en/extra.md")


def test_a_heading_id_used_twice(repo):
    with open(repo / "docs" / "zh" / "index.md", "a", encoding="utf-8") as f:
        f.write("\n## 甲 {#twice}\n\n## 乙 {#twice}\n")
    fails_with(repo, "docs/zh/index.md", "'#twice' is used 2 times")


def test_a_heading_without_an_explicit_id(repo):
    with open(repo / "docs" / "zh" / "index.md", "a", encoding="utf-8") as f:
        f.write("\n## 没有 id 的标题\n")
    fails_with(repo, "docs/zh/index.md", "has no explicit id")


def test_a_broken_link(repo):
    with open(repo / "docs" / "zh" / "index.md", "a", encoding="utf-8") as f:
        f.write("\n[坏链接](chapters/no-such-page.md)\n")
    fails_with(repo, "index.md", "chapters/no-such-page.md")


def test_a_broken_anchor(repo):
    with open(repo / "docs" / "zh" / "index.md", "a", encoding="utf-8") as f:
        f.write("\n[坏锚点](chapters/llm-fundamentals.md#q-no-such-question)\n")
    fails_with(repo, "index.md", "q-no-such-question")


def test_a_notebook_copied_as_raw_json(repo):
    config = repo / "docs" / "mkdocs.zh.yml"
    config.write_text(config.read_text(encoding="utf-8").replace('include: ["labs/*.ipynb"]', 'include: ["nothing/*.ipynb"]'), encoding="utf-8")
    fails_with(repo, "is not a rendered notebook page", f"docs/zh/labs/{registry.load().labs[0]}.ipynb")


def test_a_missing_search_plugin_gives_an_empty_index(repo):
    config = repo / "docs" / "mkdocs.zh.yml"
    text = config.read_text(encoding="utf-8")
    start = text.index("  - search:")
    end = text.index("  - offline:")
    config.write_text(text[:start] + text[end:], encoding="utf-8")
    fails_with(repo, "search index", "docs/mkdocs.zh.yml")


def test_a_registry_entry_with_an_unknown_topic(repo):
    reg = repo / "docs" / "registry.yml"
    reg.write_text(reg.read_text(encoding="utf-8").replace("q-what-is-llm: {source: [\"000\", 面试题 1], topic: fundamentals", "q-what-is-llm: {source: [\"000\", 面试题 1], topic: astrology"), encoding="utf-8")
    fails_with(repo, "q-what-is-llm has unknown topic 'astrology'")


def test_a_lab_source_missing_from_the_registry(repo):
    (repo / "notebooks" / "stray-lab.py").write_text("# %%\nprint(1)\n", encoding="utf-8")
    fails_with(repo, "notebooks/stray-lab.py is not listed", code=RUN_LABS)


def test_a_question_id_renamed_in_the_english_chapter_only(repo):
    page = repo / "docs" / "en" / "chapters" / "training-and-evaluation.md"
    page.write_text(page.read_text(encoding="utf-8").replace("{#q-evaluation-methods}", "{#q-evaluation-method}"), encoding="utf-8")
    fails_with(repo, "docs/en/chapters/training-and-evaluation.md", "#q-evaluation-method is not in docs/registry.yml",
               "has no question heading for q-evaluation-methods")


def test_a_syntax_error_in_the_registry(repo):
    reg = repo / "docs" / "registry.yml"
    reg.write_text(reg.read_text(encoding="utf-8").replace("topics:\n", "topics:\n  broken: {zh: [\n", 1), encoding="utf-8")
    fails_with(repo, "docs/registry.yml:", "not valid YAML")
