"""In Debian's headless Chromium, on the hosted build served from 127.0.0.1: search per language, a
switcher that keeps page and anchor, the question bank, copy-link, and not one request to another host.
(The offline edition is browsed from disk in test_release.py.)"""
from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from helpers import ANCHOR, CHAPTER, search, switch


def test_chinese_query_finds_only_chinese_pages(page, server):
    page.goto(f"{server}/")
    hrefs = search(page, "召回率")
    assert hrefs and not any("/en/" in h for h in hrefs), hrefs


def test_english_query_finds_only_english_pages(page, server):
    page.goto(f"{server}/en/")
    hrefs = search(page, "recall")
    assert hrefs and all("/en/" in h for h in hrefs), hrefs


def test_switcher_keeps_page_and_anchor_both_ways(page, server):
    page.goto(f"{server}/{CHAPTER}/#{ANCHOR}")
    switch(page, "en")
    assert page.url == f"{server}/en/{CHAPTER}/#{ANCHOR}"
    expect(page.locator(f"#{ANCHOR}")).to_be_visible()
    switch(page, "zh")
    assert page.url == f"{server}/{CHAPTER}/#{ANCHOR}"


def test_question_bank_filters_by_topic_and_difficulty(page, server):
    page.goto(f"{server}/questions/")
    items = page.locator("li:has(> a[data-topic])")
    total = items.count()
    page.select_option("form.qbank-filter select[name=topic]", "evaluation")
    visible = page.locator("li:has(> a[data-topic]):visible")
    assert 0 < visible.count() < total
    assert all(visible.nth(i).locator("a[data-topic]").get_attribute("data-topic") == "evaluation" for i in range(visible.count()))
    page.select_option("form.qbank-filter select[name=difficulty]", "advanced")
    assert page.locator("li:has(> a[data-topic]):visible").count() == 0
    expect(page.locator("form.qbank-filter output")).to_contain_text(f"0 / {total}")
    page.select_option("form.qbank-filter select[name=topic]", "")
    assert page.locator("li:has(> a[data-topic]):visible").count() > 0


def test_question_bank_lists_everything_without_javascript(browser, server):
    context = browser.new_context(java_script_enabled=False)
    pg = context.new_page()
    pg.goto(f"{server}/questions/")
    items = pg.locator("li:has(> a[data-topic])")
    assert items.count() >= 30 and pg.locator("li:has(> a[data-topic]):visible").count() == items.count()
    assert not pg.locator("form.qbank-filter").is_visible()
    context.close()


def test_copy_link_gives_the_hosted_url_of_the_question(browser, server):
    from handbook import build

    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    pg = context.new_page()
    pg.goto(f"{server}/en/{CHAPTER}/")
    button = pg.locator(f"h3#{ANCHOR} button.q-copy")
    button.click()
    expect(button).to_have_text("Copied")
    expected = build.load("zh").site_url + f"en/{CHAPTER}/#{ANCHOR}"
    assert pg.evaluate("navigator.clipboard.readText()") == expected
    context.close()


def test_search_index_is_fetched_only_when_a_reader_searches(page, server):
    """The handbook's index is most of a page's weight: a reader who never searches never downloads it.
    (Material's own index file is a stub of a few hundred bytes that names it.)"""
    search_requests = []
    page.on("request", lambda r: search_requests.append(r.url) if "/search/handbook-" in r.url else None)
    page.goto(f"{server}/{CHAPTER}/", wait_until="networkidle")
    page.wait_for_timeout(500)
    assert not search_requests, f"fetched on page load: {search_requests}"
    assert search(page, "召回率")
    assert len(search_requests) == 1 and "/search/handbook-zh." in search_requests[0], search_requests


def test_a_followed_search_result_highlights_the_query_on_its_page(page, server):
    page.goto(f"{server}/en/{CHAPTER}/?h=recall")
    expect(page.locator("article mark").first).to_be_visible(timeout=10_000)


@pytest.mark.parametrize("width", [390, 1280])
def test_a_link_to_a_question_lands_on_its_heading(browser, server, width):
    """Off-screen blocks skip rendering (content-visibility) until scrolled to; a pasted link to any
    question must still put its heading at the top of the screen, on a phone and on a desktop."""
    pg = browser.new_page(viewport={"width": width, "height": 800})
    pg.goto(f"{server}/{CHAPTER}/")
    ids = pg.eval_on_selector_all("h2[id^='q-'], h3[id^='q-']", "hs => hs.map(h => h.id)")
    assert len(ids) >= 3
    misplaced = {}
    for qid in ids:
        pg.goto("about:blank")
        pg.goto(f"{server}/{CHAPTER}/#{qid}")
        pg.wait_for_timeout(300)
        top = pg.eval_on_selector(f"#{qid}", "h => h.getBoundingClientRect().top")
        if not 0 <= top <= 120:  # just below Material's sticky header
            misplaced[qid] = top
    pg.close()
    assert not misplaced, misplaced


def test_every_rule_of_the_shared_notebook_stylesheet_parses(page, server, site):
    """One unbalanced selector makes the browser drop the rest of the file, silently."""
    from handbook import css_prune

    css = (site / "assets" / "stylesheets" / "jupyter.css").read_text(encoding="utf-8")
    page.goto(f"{server}/labs/evaluation-metrics/")
    parsed = page.evaluate("[...[...document.styleSheets].find(s => (s.href || '').endsWith('jupyter.css')).cssRules]"
                           ".map(r => r.selectorText || r.cssText)")
    blocks = [b for b in css_prune._blocks(css) if not b[0].startswith("@charset")]  # not a rule in the CSSOM
    foreign = [p for p, _ in blocks if "-moz-" in p]  # Firefox-only selectors: Chromium drops just those rules
    assert len(parsed) == len(blocks) - len(foreign)
    assert parsed[-1].replace('"', "").replace(" ", "") == blocks[-1][0].replace(" ", "")
    assert page.eval_on_selector(".clipboard-copy-txt", "e => getComputedStyle(e).display") == "none"


BLOCKS = ".md-content__inner > *, .jp-Notebook > .jp-Cell"  # what handbook.css may skip (content-visibility)


def _pages(site) -> list[str]:
    """Every page of both languages, as a path under the server (redirect stubs left out)."""
    return [p.relative_to(site).parent.as_posix().removeprefix(".") + "/"
            for p in sorted(site.rglob("index.html")) if "md-content" in p.read_text(encoding="utf-8")]


def test_no_block_on_the_first_screen_starts_unrendered(browser, server, site):
    """handbook.css skips rendering of blocks below the fold (content-visibility: auto). One that is on the
    first screen after all is painted at its placeholder height first, and the page jumps: on no page, on
    the tallest common desktop screen, which shows the most blocks."""
    pages = _pages(site)
    pg = browser.new_page(viewport={"width": 1920, "height": 1200})
    skipped_on_screen = {}
    for path in pages:
        pg.goto(f"{server}/{path}")
        tops = pg.eval_on_selector_all(
            BLOCKS,
            "els => els.filter(e => getComputedStyle(e).contentVisibility === 'auto')"
            "          .map(e => Math.round(e.getBoundingClientRect().top)).filter(t => t < innerHeight)")
        if tops:
            skipped_on_screen[path] = tops
    pg.close()
    assert len(pages) > 50 and not skipped_on_screen, skipped_on_screen


@pytest.mark.parametrize("path", ["", "questions/", f"{CHAPTER}/", "en/questions/", "labs/rnn-lstm/"])
def test_nothing_moves_while_a_page_loads_on_a_phone(browser, server, path):
    """Cumulative layout shift 0 on a phone-sized screen, Material's bundle and handbook.js included. Every
    script arrives late, so that it runs after the first paint (as on a slow phone), where anything it adds
    or changes would move what the reader already sees."""
    pg = browser.new_page(viewport={"width": 412, "height": 823}, is_mobile=True, has_touch=True)
    pg.route("**/*.js", lambda route: (time.sleep(0.3), route.continue_()))
    pg.goto(f"{server}/{path}")
    pg.wait_for_function("() => window.component$ !== undefined")  # Material's bundle has run
    pg.wait_for_timeout(1000)
    shifts = pg.evaluate("""() => new Promise(done => {
        const values = [];
        new PerformanceObserver(list => list.getEntries().forEach(e => e.hadRecentInput || values.push(e.value)))
            .observe({type: "layout-shift", buffered: true});
        setTimeout(() => done(values), 200);
    })""")
    pg.close()
    assert sum(shifts) == 0, shifts


def test_material_runs_after_the_page_is_parsed_and_still_mounts_it(page, server):
    """main.html's scripts block: Material's bundle no longer runs while the page is parsed (then the
    page's first style and layout happen inside it), and it still mounts its components once it runs
    (the loader announces DOMContentLoaded again); code blocks get their copy buttons when they scroll into view
    (content.lazy), not all at once at load, where measuring them laid out every skipped block."""
    page.add_init_script("""
        Object.defineProperty(window, "component$", {configurable: true, set(value) {  // the bundle's last line
            Object.defineProperty(window, "component$", {value, writable: true});
            window.stateWhenMaterialRan = document.readyState;
        }});""")
    page.goto(f"{server}/chapters/user-data-and-training/")
    page.wait_for_function("() => window.component$ !== undefined")
    assert page.evaluate("window.stateWhenMaterialRan") in ("interactive", "complete")
    last = page.locator(".md-content__inner > div.highlight").last
    assert last.locator("button[data-md-type=copy]").count() == 0  # far below the first screen
    last.scroll_into_view_if_needed()
    expect(last.locator("button[data-md-type=copy]")).to_be_attached()


MOUNTED = """() => new Promise(done => (function wait() {  // Material has mounted the page's components
    window.document$ ? window.document$.subscribe(() => done()) : setTimeout(wait, 50);
})())"""


def _axe(pg, tags: list[str], off: tuple[str, ...] = ()) -> list[str]:
    """axe-core (the engine inside Lighthouse's accessibility score, from node_modules) on the whole page;
    `off`: rules not run."""
    from handbook.paths import ROOT

    pg.add_script_tag(path=str(ROOT / "node_modules" / "axe-core" / "axe.min.js"))
    options = {"runOnly": tags, "rules": {rule: {"enabled": False} for rule in off}}
    return pg.evaluate("async options => (await axe.run(document, options)).violations"
                       ".map(v => `${v.id}: ${v.nodes.length}, e.g. ${v.nodes[0].target.join(' ')}`)", options)


def test_every_page_passes_axe_as_a_phone_loads_it(browser, server, site):
    """What Lighthouse's accessibility audit sees, on every page and not only the budgeted ones: a phone
    screen, the light scheme, off-screen blocks still skipped (axe measures them where they stand). Like
    Lighthouse, without scrollable-region-focusable: a block that scrolls sideways becomes focusable when
    it renders (handbook.js), which the next test checks after scrolling through the pages."""
    context = browser.new_context(viewport={"width": 412, "height": 823}, is_mobile=True, has_touch=True)
    pg = context.new_page()
    found = {}
    for path in _pages(site):
        pg.goto(f"{server}/{path}")
        pg.evaluate(MOUNTED)
        violations = _axe(pg, ["wcag2a", "wcag2aa", "best-practice"], off=("scrollable-region-focusable",))
        if violations:
            found[path or "/"] = violations
    context.close()
    assert not found, found


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_block_meets_wcag_aa_in_both_colour_schemes(browser, server, scheme):
    """Lighthouse scores only the light scheme. Here a reader scrolls each page to its end on a phone (so
    handbook.js sees every block render and makes the ones that scroll sideways focusable), then every
    block is rendered and checked, in both schemes."""
    context = browser.new_context(color_scheme=scheme, viewport={"width": 412, "height": 823})
    pg = context.new_page()
    found = {}
    for path in ["", f"{CHAPTER}/", "chapters/user-data-and-training/", "questions/", "labs/sync-async-training/",
                 "en/labs/data-cleaning/"]:
        pg.goto(f"{server}/{path}")
        pg.evaluate(MOUNTED)
        pg.evaluate("""async () => {
            for (let y = 0; y < document.documentElement.scrollHeight; y += innerHeight / 2) {
                scrollTo(0, y);
                await new Promise(frame => requestAnimationFrame(() => setTimeout(frame)));
            }}""")
        pg.add_style_tag(content=f"{BLOCKS} {{ content-visibility: visible !important; }}")
        violations = _axe(pg, ["wcag2a", "wcag2aa"])
        if violations:
            found[path or "/"] = violations
    context.close()
    assert not found, found


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_name_in_code_is_drawn_in_the_colour_of_the_code_around_it(browser, server, scheme):
    """The build drops pygments' spans around names (handbook/code_tokens.py): right only while each
    theme draws a name span in the colour of the code it sits in. A chapter's code and a lab's."""
    context = browser.new_context(color_scheme=scheme)
    pg = context.new_page()
    colours = {}
    for path, code in [("chapters/user-data-and-training/", ".highlight code"), ("labs/rnn-lstm/", ".highlight-ipynb pre")]:
        pg.goto(f"{server}/{path}")
        assert pg.locator(f"{code} span.n").count() == 0, "name spans are still in the page"
        colours[path] = pg.evaluate("""code => {
            const block = document.querySelector(code), name = document.createElement("span");
            name.className = "n";
            name.textContent = "x";
            block.append(name);
            return [getComputedStyle(block).color, getComputedStyle(name).color];
        }""", code)
    context.close()
    assert all(block == name for block, name in colours.values()), colours
