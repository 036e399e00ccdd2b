"""Both languages build strictly, online and offline, with a search index of their own."""
import json
import re

from conftest import lang_root
from handbook import build
from handbook.code_tokens import unwrap_plain_tokens


def test_both_languages_build_with_their_own_html_lang(site):
    assert 'lang="zh"' in (site / "index.html").read_text(encoding="utf-8")[:300]
    assert 'lang="en"' in (site / "en" / "index.html").read_text(encoding="utf-8")[:300]


def test_offline_build_uses_file_urls_and_inlines_the_search_index(offline_site):
    for lang in ("zh", "en"):
        root = lang_root(offline_site, lang)
        assert (root / "chapters" / "llm-fundamentals.html").exists()
        index_js = (root / "search" / "search_index.js").read_text(encoding="utf-8")
        assert index_js.startswith("var __index = ") and len(index_js) > 10_000


def _index(root):
    return json.loads((root / "search" / "search_index.json").read_text(encoding="utf-8"))


def test_zh_search_index_is_segmented_and_keeps_glossary_terms_whole(site):
    index = _index(site)
    assert index["config"]["lang"] == ["zh"]
    assert "\\u200b" in index["config"]["separator"]
    text = " ".join(d["text"] for d in index["docs"])
    assert "\u200b" in text, "Chinese text was not segmented (is jieba installed?)"
    assert re.search("(^|[\u200b\\s])召回率([\u200b\\s]|$)", text), "召回率 was split by the segmenter"
    assert not any(d["location"].startswith("en/") for d in index["docs"])


def test_en_search_index_uses_the_english_pipeline(site):
    index = _index(site / "en")
    assert index["config"]["lang"] == ["en"]
    assert index["config"]["pipeline"] == ["stopWordFilter"], "not the English default pipeline"
    assert any("recall" in d["text"].lower() for d in index["docs"])


def test_formulas_are_rendered_to_mathml_at_build_time(site):
    pages = list(site.rglob("*.html"))
    leftovers = [p for p in pages if 'class="arithmatex"' in p.read_text(encoding="utf-8")]
    assert not leftovers, f"formulas left for a client-side renderer in {leftovers[:3]}"
    assert any("<math" in p.read_text(encoding="utf-8") for p in (site / "chapters").rglob("*.html"))


def test_name_and_whitespace_spans_go_and_the_code_text_stays():
    highlighted = ('<code><span class="k">def</span><span class="w"> </span><span class="nf">f</span>'
                   '<span class="p">(</span><span class="n">x_1</span><span class="p">):</span> '
                   '<span class="n">a</span><span class="o">&lt;</span><span class="nn">np</span></code>')
    assert unwrap_plain_tokens(highlighted) == (
        '<code><span class="k">def</span> <span class="nf">f</span><span class="p">(</span>x_1'
        '<span class="p">):</span> a<span class="o">&lt;</span><span class="nn">np</span></code>')
