"""The offline release as a reader gets it: `scripts/run release`'s zip, small enough to pass around,
self-describing, and — unzipped and opened from file:// in headless Chromium — navigable, searchable in
both languages and rendering its labs without one request leaving the disk."""
from __future__ import annotations

import re
import tomllib
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from conftest import ROOT, lang_root
from handbook import registry, release
from handbook.paths import LANGS
from helpers import ANCHOR, CHAPTER, search, switch

MAX_MB = 15
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
TOP = f"handbook-{VERSION}"


@pytest.fixture(scope="module")
def release_zip(offline_site, tmp_path_factory) -> Path:
    return release.make(offline_site, tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="module")
def release_site(release_zip, tmp_path_factory) -> Path:
    """The zip unzipped: the folder a reader opens index.html from."""
    into = tmp_path_factory.mktemp("unzipped")
    with zipfile.ZipFile(release_zip) as z:
        z.extractall(into)
    return into / TOP


def test_release_zip_is_small_enough_to_pass_around(release_zip, capsys):
    size_mb = release_zip.stat().st_size / 1e6
    with capsys.disabled():
        print(f"\n{release_zip.name}: {size_mb:.2f} MB")
    assert size_mb <= MAX_MB, f"{release_zip.name} is {size_mb:.1f} MB, over {MAX_MB} MB"


def test_release_zip_holds_the_whole_offline_build_under_one_versioned_folder(release_zip, offline_site):
    assert release_zip.name == f"handbook-offline-{VERSION}.zip"
    names = set(zipfile.ZipFile(release_zip).namelist())
    built = {f"{TOP}/{p.relative_to(offline_site).as_posix()}" for p in offline_site.rglob("*") if p.is_file()}
    assert names == built | {f"{TOP}/README.txt"}
    for lang_prefix in ("", "en/"):
        assert {f"{TOP}/{lang_prefix}index.html", f"{TOP}/{lang_prefix}search/search_index.js"} <= names


def test_release_readme_says_what_version_commit_and_how_to_open_in_chinese_then_english(release_zip):
    text = zipfile.ZipFile(release_zip).read(f"{TOP}/README.txt").decode("utf-8")
    zh, en = text.index("版本："), text.index("Version:")
    assert zh < en, "the Chinese part comes first"
    for part in (text[:en], text[en:]):
        assert VERSION in part and f"{TOP}/index.html" in part and f"{TOP}/en/index.html" in part
        assert re.search(r"\d{4}-\d{2}-\d{2}", part), "no build date"
    commits = re.findall(r"(?:提交：|Commit: )(\S+)", text)
    assert len(commits) == 2 and commits[0] == commits[1], commits
    expected = r"[0-9a-f]{7,40}" if (ROOT / ".git").exists() else "unknown"
    assert re.fullmatch(expected, commits[0]), commits


def test_release_navigates_switches_and_searches_from_disk(page, release_site):
    home = (release_site / "index.html").as_uri()
    zh_root, en_root = release_site.as_uri() + "/", (release_site / "en").as_uri() + "/"
    page.goto(home)
    page.locator(f'.md-nav a[href$="{CHAPTER}.html"]').first.click()
    assert page.url == f"{zh_root}{CHAPTER}.html"
    expect(page.locator(f"#{ANCHOR}")).to_be_attached()
    page.goto(f"{page.url}#{ANCHOR}")
    switch(page, "en")
    assert page.url == f"{en_root}{CHAPTER}.html#{ANCHOR}"
    hrefs = search(page, "recall")
    assert hrefs and all(h.startswith(en_root) for h in hrefs), hrefs
    page.goto(home)
    hrefs = search(page, "召回率")
    assert hrefs and all(h.startswith(zh_root) and not h.startswith(en_root) for h in hrefs), hrefs


@pytest.mark.parametrize("lang", LANGS)
def test_release_lab_page_renders_its_notebook_with_its_shared_stylesheet(page, release_site, lang):
    lab = registry.load().labs[0]
    failed = []
    page.on("requestfailed", lambda r: failed.append(r.url))
    page.goto((lang_root(release_site, lang) / "labs" / f"{lab}.html").as_uri())
    expect(page.locator(".jupyter-wrapper")).to_be_visible()
    assert page.locator(".jupyter-wrapper .jp-Cell").count() > 3
    assert not [u for u in failed if not u.endswith("sitemap.xml")], failed
