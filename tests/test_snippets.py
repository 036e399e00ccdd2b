"""Every ```python block in docs/ runs (blocks on one page share a namespace)."""
import pytest

from handbook import snippets
from handbook.paths import DOCS, ROOT

PAGES = sorted(p for lang in ("zh", "en") for p in (DOCS / lang).rglob("*.md") if snippets.python_blocks(p))


# a warning is noise the reader would see when pasting the snippet: fix the code or filter it in the snippet
@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("markdown_page", PAGES, ids=[p.relative_to(DOCS).as_posix() for p in PAGES])
def test_python_blocks_run(markdown_page):
    assert snippets.run_page(markdown_page, ROOT) > 0


def test_some_pages_have_snippets():
    assert len(PAGES) >= 2, "no ```python blocks found in docs/: is the fence parser broken?"


def test_a_failing_snippet_names_file_and_line(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# T\n\ntext\n\n```python\nx = 1\n```\n\n```python\ny = x + 1\nraise ValueError('boom')\n```\n", encoding="utf-8")
    with pytest.raises(snippets.SnippetError) as err:
        snippets.run_page(page, tmp_path)
    assert "page.md:11" in str(err.value) and "ValueError: boom" in str(err.value)


def test_blocks_on_one_page_share_a_namespace(tmp_path):
    page = tmp_path / "page.md"
    page.write_text('```python\nx = 41\n```\n\n!!! tip "Inside a note"\n\n    ```python\n    assert x + 1 == 42\n    ```\n', encoding="utf-8")
    assert snippets.run_page(page, tmp_path) == 2
