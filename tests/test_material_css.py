"""The reduced Material stylesheets (plugin: material-used.css, palette-used.css) style every element exactly as
Material's own files do: in Chromium, each page and state below is drawn twice, once as served and once with
Material's shipped files answering the same requests, and every computed property of every element and of
its ::before and ::after is compared. States cover what scripts add after load: the drawer, search results,
practice mode, the mock interview, the dark scheme, a phone's and a desktop's width."""
from __future__ import annotations

from pathlib import Path

import pytest

from helpers import search

PHONE, DESKTOP = {"width": 412, "height": 823}, {"width": 1280, "height": 800}

# Every standard property of an element and of its ::before and ::after when they are drawn (custom
# properties only matter through the standard ones that use them); DIGESTS gives a hash per element, so
# that thousands of elements cross to Python as numbers, and STYLE one element's text when two differ.
STYLE_OF = """const styleOf = el => {
  const parts = [el.tagName + (el.id ? "#" + el.id : "") + "." + el.className];
  for (const pseudo of [null, "::before", "::after"]) {
    const style = getComputedStyle(el, pseudo);
    if (pseudo && style.content === "none") continue;
    for (const name of style) if (!name.startsWith("--")) parts.push((pseudo || "") + name + ": " + style.getPropertyValue(name));
  }
  return parts.join("\\n");
};"""
DIGESTS = "() => { " + STYLE_OF + """
  return Array.from(document.querySelectorAll("*"), el => {
    const text = styleOf(el);
    let h = 0x811c9dc5;
    for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
    return h >>> 0;
  });
}"""
STYLE = "n => { " + STYLE_OF + " return styleOf(document.querySelectorAll('*')[n]); }"


def _drawer(pg):
    pg.locator("label.md-header__button[for=__drawer]").click()
    pg.wait_for_timeout(400)


def _search(pg):
    assert search(pg, "召回率")


def _practice(pg):
    pg.locator("button.practice-toggle").click()
    pg.locator(".q-drill button").first.click()


def _interview(pg):
    pg.locator("form.mock-form button[type=submit]").click()
    pg.get_by_role("button", name="Show key points").click()


CASES = {  # name: (path, viewport, colour scheme, what the reader does)
    "home, dark": ("", DESKTOP, "dark", None),
    "chapter, phone": ("chapters/user-data-and-training/", PHONE, "light", None),
    "chapter, drawer": ("chapters/product-strategy/", PHONE, "light", _drawer),
    "chapter, practice mode": ("en/chapters/inference-and-serving/", DESKTOP, "light", _practice),
    "search results": ("", DESKTOP, "light", _search),
    "lab": ("en/labs/kv-cache/", DESKTOP, "light", None),
    "lab, phone, dark": ("labs/rnn-lstm/", PHONE, "dark", None),
    "question bank": ("questions/", PHONE, "light", None),
    "mock interview": ("en/practice/", DESKTOP, "light", _interview),
    "glossary": ("glossary/", DESKTOP, "light", None),
}


def _serve(file: Path):
    return lambda route: route.fulfill(path=file, content_type="text/css")


def _open(browser, server: str, case: tuple, originals: dict[str, Path] | None):
    """A page in the case's state, its stylesheets served as built or, given `originals`, as Material ships them."""
    path, viewport, scheme, act = case
    context = browser.new_context(viewport=viewport, color_scheme=scheme)
    pg = context.new_page()
    pg.add_init_script("Math.random = () => 0.5")  # the mock interview draws the same questions both times
    for name, original in (originals or {}).items():
        pg.route(f"**/assets/stylesheets/{name}", _serve(original))
    pg.goto(f"{server}/{path}", wait_until="networkidle")
    pg.wait_for_function("() => window.document$ !== undefined")  # Material's bundle has mounted
    # every block rendered: a skipped block's height is its placeholder or its last rendered height, which
    # depends on what the page showed before, not on the stylesheets under test
    pg.add_style_tag(content="* { content-visibility: visible !important; }")
    if act:
        act(pg)
    return context, pg


def _settled(pg) -> list[int]:
    """The styles once transitions and late layout have ended: two readings 300 ms apart agree."""
    before = pg.evaluate(DIGESTS)
    for _ in range(20):
        pg.wait_for_timeout(300)
        now = pg.evaluate(DIGESTS)
        if now == before:
            return now
        before = now
    pytest.fail("the page's styles kept changing for 6 s")


@pytest.fixture(scope="module")
def material_files():
    import material

    from handbook.plugin import MATERIAL_CSS

    theme = Path(material.__file__).parent / "templates"
    return {Path(ours).name: next(theme.glob(pattern)) for ours, pattern in MATERIAL_CSS.items()}


@pytest.mark.parametrize("case", CASES)
def test_reduced_material_css_draws_every_element_as_material_does(browser, server, material_files, case):
    opened = [_open(browser, server, CASES[case], files) for files in (None, material_files)]
    try:
        ours, theirs = (_settled(pg) for _, pg in opened)
        assert len(ours) == len(theirs), f"{case}: {len(ours)} elements with ours, {len(theirs)} with Material's"
        first = next((n for n, (a, b) in enumerate(zip(ours, theirs)) if a != b), None)
        if first is not None:
            mine, material = (pg.evaluate(STYLE, first).split("\n") for _, pg in opened)
            diff = [(a, b) for a, b in zip(mine, material) if a != b][:5]
            pytest.fail(f"{case}: {mine[0]} differs (ours, Material's): {diff or (len(mine), len(material))}")
    finally:
        for context, _ in opened:
            context.close()
