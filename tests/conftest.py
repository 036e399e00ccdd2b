"""Session fixtures: the labs executed fresh, then both sites built once (online and offline), all with
the network cut off; and the headless browser the browser tests share."""
from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
warnings.filterwarnings("ignore", message="pkg_resources is deprecated")

from handbook import build, labs, netns, registry  # noqa: E402
from handbook.paths import LANGS  # noqa: E402
from helpers import CHROMIUM, FLAGS  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

# For a quick local loop only: reuse cached lab results. CI and `scripts/run test` never set it.
REUSE_LAB_CACHE = os.environ.get("HANDBOOK_REUSE_LAB_CACHE") == "1"
# Why the session could not be cut off the network; None when it was.
NOT_ISOLATED = pytest.StashKey[str | None]()


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    # Before any thread exists: the lab kernels, both builds and the browser started later all inherit
    # the empty network namespace, so a page or lab that reaches for the network fails here.
    config.stash[NOT_ISOLATED] = netns.isolate()


# Tests that use these need labs executed, a site built or a browser: the full suite (CI). The others are
# the one-minute loop, `scripts/run test -m "not slow"`.
SLOW_FIXTURES = {"lab_results", "site", "offline_site", "any_site", "server", "browser", "page"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


def pytest_report_header(config):
    reason = config.stash[NOT_ISOLATED]
    lines = ["network: isolated (empty network namespace, loopback only)" if reason is None
             else f"network: NOT isolated: {reason}"]
    if REUSE_LAB_CACHE:
        lines.append("HANDBOOK_REUSE_LAB_CACHE=1: labs NOT executed fresh (local loop only)")
    return lines


@pytest.fixture(scope="session")
def lab_results() -> dict:
    """Every lab executed in a fresh kernel (no cache): slug -> Result or the LabError it raised."""
    return labs.run_each(registry.load().labs, force=not REUSE_LAB_CACHE, jobs=2)


def _build(root: Path, offline: bool) -> Path:
    build.build_all(root, offline=offline)
    return root


@pytest.fixture(scope="session")
def site(lab_results, tmp_path_factory) -> Path:
    """Both languages built with --strict (mkdocs.yml has strict: true) into a fresh directory."""
    failed = {s: r for s, r in lab_results.items() if isinstance(r, Exception)}
    if failed:
        pytest.fail(f"cannot build the site: labs failed: {failed}")
    return _build(tmp_path_factory.mktemp("site"), offline=False)


@pytest.fixture(scope="session")
def offline_site(site, tmp_path_factory) -> Path:
    return _build(tmp_path_factory.mktemp("site-offline"), offline=True)


@pytest.fixture(scope="session", params=["online", "offline"])
def any_site(request, site, offline_site) -> Path:
    return site if request.param == "online" else offline_site


def lang_root(root: Path, lang: str) -> Path:
    return build.site_dir(lang, root)


@pytest.fixture
def chapter_copy(tmp_path, monkeypatch):
    """Copies of both languages' chapters that the given modules read instead of docs/ (their lang_dir
    points at the copy): returns the copy's root, for a test to break one thing in it."""
    from handbook.paths import DOCS

    def copy(*modules):
        for lang in LANGS:
            shutil.copytree(DOCS / lang / "chapters", tmp_path / lang / "chapters")
        for module in modules:
            monkeypatch.setattr(module, "lang_dir", lambda lang: tmp_path / lang)
        return tmp_path

    return copy


@pytest.fixture(scope="session")
def langs():
    return LANGS


@pytest.fixture(scope="module")
def server(site):
    """The site as a host serves it (gzip), on a free port: the benchmark's server."""
    from handbook.gzip_server import GzipServer

    with GzipServer(site) as httpd:
        yield httpd.url.rstrip("/")


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, request):
    """A page that records every request; the test fails if one goes anywhere but the disk or, when the
    test uses the `server` fixture, that server."""
    allowed = ("file://", "data:", "blob:", "about:")
    if "server" in request.fixturenames:
        allowed += (request.getfixturevalue("server") + "/",)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    pg = context.new_page()
    seen: list[str] = []
    pg.on("request", lambda r: seen.append(r.url))
    yield pg
    context.close()
    foreign = [u for u in seen if not u.startswith(allowed)]
    assert not foreign, f"requests left the site: {foreign}"
