"""Every internal link and anchor in the built HTML resolves, in both builds and both languages."""
from pathlib import Path
from urllib.parse import unquote, urlsplit

from helpers import EXTERNAL, html_pages, parse

LINK_ATTRS = {"a": "href", "link": "href", "script": "src", "img": "src", "source": "src", "iframe": "src"}


def _target(page: Path, url: str, offline: bool) -> tuple[Path, str]:
    parts = urlsplit(url)
    path = unquote(parts.path)
    target = page if not path else (page.parent / path).resolve()
    if path.endswith("/") or (path and target.is_dir()):
        target = target / "index.html"
    return target, unquote(parts.fragment)


def _broken_links(root: Path, offline: bool) -> list[str]:
    broken = []
    for page in html_pages(root):
        if page.name == "404.html":
            continue  # served at any path by the host, so MkDocs gives it root-absolute links by design
        for tag, attrs in parse(page).elements:
            url = attrs.get(LINK_ATTRS.get(tag, ""), None)
            if not url or EXTERNAL.match(url) or url.startswith("data:"):
                continue
            target, fragment = _target(page, url, offline)
            where = f"{page.relative_to(root)}: <{tag}> {url}"
            if offline and tag == "a" and urlsplit(url).path.endswith("/"):
                broken.append(f"{where} is a directory link, which does not open from file://")
            elif not target.exists():
                broken.append(f"{where} -> missing {target.relative_to(root.resolve()) if target.is_relative_to(root.resolve()) else target}")
            elif fragment and target.suffix == ".html" and fragment not in parse(target).ids and not fragment.startswith("__"):
                broken.append(f"{where} -> no id '{fragment}' in {target.name}")
    return broken


def test_internal_links_and_anchors_resolve(any_site):
    broken = _broken_links(any_site.resolve(), offline=any_site.name.startswith("site-offline"))
    assert not broken, f"{len(broken)} broken links:\n" + "\n".join(broken[:40])


def test_the_link_checker_catches_a_broken_anchor(tmp_path):
    (tmp_path / "a.html").write_text('<a href="b.html#there">x</a><a href="b.html#here">y</a>', encoding="utf-8")
    (tmp_path / "b.html").write_text('<h2 id="here">Here</h2>', encoding="utf-8")
    assert _broken_links(tmp_path, offline=True) == ["a.html: <a> b.html#there -> no id 'there' in b.html"]
