"""Search as a reader uses it: queries typed into Material's search box in Chromium (Playwright), the
result URLs read from the rendered list, and the time from a keystroke to the rendered results.
Shared by tests/test_search.py and the benchmark."""
from __future__ import annotations

import statistics

BOX = "input[data-md-component=search-query]"
META = ".md-search-result__meta"

# In the page: type a query as a keystroke does (Material reads the box on keyup), then resolve with the
# milliseconds until the result list shows the worker's answer.
_TIMED_QUERY = """query => new Promise(done => {
    const box = document.querySelector("%s"), meta = document.querySelector("%s");
    const observer = new MutationObserver(() => { observer.disconnect(); done(performance.now() - start); });
    observer.observe(meta, {childList: true, characterData: true, subtree: true});
    box.value = query;
    const start = performance.now();
    box.dispatchEvent(new KeyboardEvent("keyup", {key: "End"}));
})""" % (BOX, META)


def _placeholder(pg) -> str:
    return pg.evaluate("JSON.parse(document.getElementById('__config').textContent)"
                       ".translations['search.result.placeholder']")


def _clear(pg, placeholder: str) -> None:
    from playwright.sync_api import expect

    box = pg.locator(BOX)
    box.fill("")
    box.press("End")
    expect(pg.locator(META)).to_have_text(placeholder)


def _results(pg) -> list[str]:
    """For each result, the URL it lands on (a question shown under its page's title: the question's)."""
    return pg.eval_on_selector_all(".md-search-result__item",
                                   "items => items.map(li => [...li.querySelectorAll(':scope > a')].pop().href)")


def search_each(pg, queries: list[str]) -> list[list[str]]:
    """Each query typed into the search box in turn, the box cleared between them: the URLs its results
    land on, best first, read once Material has rendered the worker's answer to that query."""
    from playwright.sync_api import expect

    placeholder = _placeholder(pg)
    pg.locator(BOX).click()  # opens search; from file:// search starts on the toggle's change event
    out = []
    for query in queries:
        _clear(pg, placeholder)
        box = pg.locator(BOX)
        box.fill(query)
        box.press("End")
        expect(pg.locator(META)).not_to_have_text(placeholder, timeout=15_000)
        out.append(_results(pg))
    return out


def latency(pg, queries: list[str], cpu_slowdown: float = 1) -> dict:
    """Milliseconds from a keystroke to rendered results, with the CPU slowed down `cpu_slowdown` times
    (Chrome DevTools' throttling: 4 is a mid-range phone): the first query, which loads the index, and
    the median of the others."""
    cdp = pg.context.new_cdp_session(pg)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": cpu_slowdown})
    placeholder = _placeholder(pg)
    pg.locator(BOX).click()
    times = []
    for query in queries:
        _clear(pg, placeholder)
        times.append(pg.evaluate(_TIMED_QUERY, query))
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})
    return {"first_ms": times[0], "median_ms": statistics.median(times[1:]), "timed_queries": len(times)}
