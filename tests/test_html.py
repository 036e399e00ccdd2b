"""Valid HTML: the Nu Html Checker (npm vnu-jar, run on Debian's Java) finds no error on any page of
either build, in either language. Errors from Material's templates are fixed in overridden partials
(docs/overrides), from the notebooks' HTML through the parser (handbook/page_html.py)."""
from __future__ import annotations

import json
import shutil
import subprocess

from conftest import ROOT

VNU = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"


def check(folder) -> list[str]:
    """Every error the checker reports on the HTML files under a folder, as 'file: message (extract)'."""
    out = subprocess.run([shutil.which("java") or "java", "-jar", str(VNU), "--errors-only", "--format", "json",
                          "--skip-non-html", str(folder)], capture_output=True, text=True, timeout=600)
    messages = json.loads(out.stderr)["messages"]
    return [f"{m['url'].split(str(folder))[-1]}: {m['message']} ({m.get('extract', '').strip()[:80]})" for m in messages]


def test_every_page_is_valid_html(any_site):
    errors = check(any_site)
    assert not errors, f"{len(errors)} errors, e.g.\n" + "\n".join(errors[:20])


def test_the_checker_reports_an_error(tmp_path):
    (tmp_path / "bad.html").write_text('<!doctype html><html lang="en"><title>x</title><label tabindex="">x</label>', encoding="utf-8")
    errors = check(tmp_path)
    assert len(errors) == 1 and "tabindex" in errors[0], errors
