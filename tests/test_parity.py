"""Both languages have the same pages, the same heading ids on each pair, and identical code."""
import json

import pytest

from handbook.markdown_model import Page
from handbook.paths import DOCS
from helpers import html_pages

SOURCE_SUFFIXES = {".md", ".ipynb"}


def _pages(lang):
    root = DOCS / lang
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.suffix in SOURCE_SUFFIXES}


def test_the_same_pages_exist_in_both_languages(lab_results):
    zh, en = _pages("zh"), _pages("en")
    problems = [f"docs/zh/{p} has no twin docs/en/{p}" for p in sorted(zh - en)]
    problems += [f"docs/en/{p} has no twin docs/zh/{p}" for p in sorted(en - zh)]
    assert not problems, "\n".join(problems)


MARKDOWN_PAIRS = sorted(_pages("zh") & _pages("en"))
MARKDOWN_PAIRS = [p for p in MARKDOWN_PAIRS if p.endswith(".md")]


@pytest.mark.parametrize("pair", MARKDOWN_PAIRS)
def test_heading_ids_match(pair):
    ids = {lang: [h.id for h in Page.read(DOCS / lang / pair).headings] for lang in ("zh", "en")}
    assert ids["zh"] == ids["en"], f"{pair}: heading ids differ between zh and en:\nzh {ids['zh']}\nen {ids['en']}"


@pytest.mark.parametrize("pair", MARKDOWN_PAIRS)
def test_code_blocks_are_identical(pair):
    code = {lang: [(b.lang, b.code) for b in Page.read(DOCS / lang / pair).fences] for lang in ("zh", "en")}
    assert len(code["zh"]) == len(code["en"]), f"{pair}: {len(code['zh'])} code blocks in zh, {len(code['en'])} in en"
    for i, (a, b) in enumerate(zip(code["zh"], code["en"]), 1):
        assert a == b, f"{pair}: code block {i} differs between zh and en"


def test_lab_notebooks_share_code_and_outputs(lab_results):
    for nb_zh in sorted((DOCS / "zh" / "labs").glob("*.ipynb")):
        nb_en = DOCS / "en" / "labs" / nb_zh.name
        cells = {}
        for lang, path in (("zh", nb_zh), ("en", nb_en)):
            nb = json.loads(path.read_text(encoding="utf-8"))
            cells[lang] = [(c["source"], json.dumps(c.get("outputs"))) for c in nb["cells"] if c["cell_type"] == "code"]
        assert cells["zh"] == cells["en"], f"{nb_zh.name}: code or outputs differ between languages"


def test_built_sites_have_the_same_pages(site):
    zh = {p.relative_to(site).as_posix() for p in html_pages(site, exclude_en=True)}
    en = {p.relative_to(site / "en").as_posix() for p in html_pages(site / "en")}
    assert zh == en, f"only in zh: {sorted(zh - en)}; only in en: {sorted(en - zh)}"
