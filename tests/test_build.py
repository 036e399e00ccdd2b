"""Both languages build strictly, online and offline, with a search index of their own, and Material's
shipped files untouched."""
import json
import re
from importlib import metadata
from pathlib import Path

from conftest import lang_root
from handbook import build
from handbook.paths import DOCS
from handbook import page_html


def test_both_languages_build_with_their_own_html_lang(site):
    assert 'lang="zh"' in (site / "index.html").read_text(encoding="utf-8")[:300]
    assert 'lang="en"' in (site / "en" / "index.html").read_text(encoding="utf-8")[:300]


def test_offline_build_uses_file_urls_and_its_search_reads_from_disk(offline_site):
    """From file://, Material reads its index from a script (search_index.js), which names ours: a
    script too, since the worker loads it with importScripts."""
    for lang in ("zh", "en"):
        root = lang_root(offline_site, lang)
        assert (root / "chapters" / "llm-fundamentals.html").exists()
        stub = (root / "search" / "search_index.js").read_text(encoding="utf-8")
        assert stub.startswith("var __index = ")
        index = json.loads(stub.removeprefix("var __index = "))["config"]["index"]
        assert (root / "assets" / "javascripts" / index).resolve().is_file(), index


def test_materials_index_is_a_stub_that_names_the_handbooks(site):
    for lang in ("zh", "en"):
        root = lang_root(site, lang)
        stub = json.loads((root / "search" / "search_index.json").read_text(encoding="utf-8"))
        assert stub["docs"] == [] and stub["config"]["lang"] == [lang]
        index = (root / "assets" / "javascripts" / stub["config"]["index"]).resolve()
        assert index.name.startswith(f"handbook-{lang}.") and index.read_text(encoding="utf-8").startswith("self.handbookIndex=")


def test_materials_shipped_files_are_byte_identical_in_the_build(any_site):
    """Material is used through its extension points only: every script, worker, lunr file and
    stylesheet it ships reaches the site unchanged."""
    import material

    theme = Path(material.__file__).parent / "templates"
    shipped = [p for folder in ("assets/javascripts", "assets/stylesheets") for p in (theme / folder).rglob("*") if p.is_file()]
    assert len(shipped) > 20
    changed = [f"{lang}: {p.relative_to(theme)}" for lang in ("zh", "en") for p in shipped
               if (lang_root(any_site, lang) / p.relative_to(theme)).read_bytes() != p.read_bytes()]
    assert not changed, changed


LEADING_COMMENT = re.compile(r"\A\{#-.*?-#\}\n", re.S)  # Material's "automatically generated" notice
COPY_HEADER = re.compile(r"\{#- Material's (\S+) \(([\d.]+)\) with (one|two|three) changes?(?:, in (two|three) places)?.*?-#\}\n", re.S)
NUMBERS = ["one", "two", "three"]


def test_template_copies_match_the_installed_material_but_for_their_declared_changes():
    """A template copied from Material names its source, Material's version and how many changes it makes; an
    upgrade of Material, or an edit that slips in another change, fails here until the copy is redone."""
    import difflib

    import material

    theme = Path(material.__file__).parent / "templates"
    copies = {}
    for path in sorted((DOCS / "overrides").rglob("*.html")):
        match = COPY_HEADER.match(path.read_text(encoding="utf-8"))
        if match:
            copies[path.name] = match
            source, version, changes, places = match.groups()
            assert version == metadata.version("mkdocs-material"), f"{path.name} copies Material {version}"
            ours = path.read_text(encoding="utf-8")[match.end():].splitlines()
            theirs = LEADING_COMMENT.sub("", (theme / source).read_text(encoding="utf-8"), count=1).splitlines()
            hunks = [op for op in difflib.SequenceMatcher(None, theirs, ours, autojunk=False).get_opcodes() if op[0] != "equal"]
            assert len(hunks) == NUMBERS.index(places or changes) + 1, (path.name, hunks)
    assert set(copies) == {"base.html", "nav-item.html", "search.html"}


def test_formulas_are_rendered_to_mathml_at_build_time(site):
    pages = list(site.rglob("*.html"))
    leftovers = [p for p in pages if 'class="arithmatex"' in p.read_text(encoding="utf-8")]
    assert not leftovers, f"formulas left for a client-side renderer in {leftovers[:3]}"
    assert any("<math" in p.read_text(encoding="utf-8") for p in (site / "chapters").rglob("*.html"))


def test_an_upright_word_in_a_formula_is_one_identifier():
    from handbook.mathml import to_mathml

    out = to_mathml(r"\mathrm{softmax}(z) + \mathrm{KL} + x y", display=False)
    assert "<mi>softmax</mi>" in out and "<mi>KL</mi>" in out
    assert 'mathvariant="normal"' not in out and "<mi>x</mi><mi>y</mi>" in out  # italic letters stay apart


def test_name_and_whitespace_spans_go_and_the_code_text_stays():
    from bs4 import BeautifulSoup

    highlighted = ('<code><span class="k">def</span><span class="w"> </span><span class="nf">f</span>'
                   '<span class="p">(</span><span class="n">x_1</span><span class="p">):</span> '
                   '<span class="n">a</span><span class="o">&lt;</span><span class="nn">np</span></code>')
    soup = BeautifulSoup(highlighted, "html.parser")
    page_html.unwrap_plain_tokens(soup)
    assert str(soup) == (
        '<code><span class="k">def</span> <span class="nf">f</span><span class="p">(</span>x_1'
        '<span class="p">):</span> a<span class="o">&lt;</span><span class="nn">np</span></code>')


def test_tables_and_display_formulas_are_wrapped_in_a_block_that_can_skip_rendering():
    """content-visibility (handbook.css) cannot skip a table or a math box; a div around each can."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup('<p>x <math display="inline"></math></p><table><tr><td>1</td></tr></table>'
                         '<math display="block"><mi>x</mi></math><div><table></table></div>', "html.parser")
    page_html.wrap_tables_and_formulas(soup)
    assert str(soup) == ('<p>x <math display="inline"></math></p><div><table><tr><td>1</td></tr></table></div>'
                         '<div><math display="block"><mi>x</mi></math></div><div><table></table></div>')


def test_every_content_table_keeps_material_style_and_no_table_or_formula_is_a_top_level_block(site):
    """Material styles (and scrolls) only class-less tables, table:not([class]): practice mode marks the
    wrapping div instead. A top-level table or formula would be laid out while the page loads."""
    from bs4 import BeautifulSoup

    tables = 0
    for path in sorted(site.rglob("chapters/*/index.html")):
        article = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser").select_one(".md-content__inner")
        tables += len(article.find_all("table"))
        assert not article.select("table[class]"), path
        assert not article.find_all(["table", "math"], recursive=False), path
    assert tables > 20


def test_a_cached_page_result_is_reused_only_for_the_same_inputs_and_code(tmp_path, monkeypatch):
    """page_cache keys a result by its inputs and the handbook's code: a change to either computes it again."""
    from handbook import page_cache

    monkeypatch.setattr(page_cache, "PAGE_CACHE", tmp_path)
    calls = []

    def compute(value):
        calls.append(value)
        return {"html": f"<p>{value}</p>"}

    assert page_cache.remember(["article", "a"], lambda: compute("a")) == {"html": "<p>a</p>"}
    assert page_cache.remember(["article", "a"], lambda: compute("again")) == {"html": "<p>a</p>"}
    assert page_cache.remember(["article", "b"], lambda: compute("b")) == {"html": "<p>b</p>"}
    assert calls == ["a", "b"]
    assert len(list(tmp_path.iterdir())) == 2
    monkeypatch.setattr(page_cache, "_code", lambda: "the handbook's code, edited")
    assert page_cache.remember(["article", "a"], lambda: compute("a, new code")) == {"html": "<p>a, new code</p>"}
    assert calls == ["a", "b", "a, new code"]
    assert len(list(tmp_path.iterdir())) == 1, "the entries of the code before the edit are deleted"


def test_a_chapters_cached_html_is_what_the_page_rewrite_gives(tmp_path, monkeypatch):
    from handbook import page_cache

    monkeypatch.setattr(page_cache, "PAGE_CACHE", tmp_path)
    html = '<h1>T</h1><h2 id="q-x">Q</h2><p>LoRA <span class="arithmatex">\\(x^2\\)</span></p><table><tr><td>1</td></tr></table>'
    args = (html, "en", "https://example.org/chapters/x/", {"q-x": "q-x"})
    first = page_html.article(*args)
    assert first == page_html.article(*args) == page_html._article(*args)
    assert "<math" in first and 'data-url="https://example.org/chapters/x/#q-x"' in first and len(list(tmp_path.iterdir())) == 1
