"""The GitHub workflow runs the project's own scripts: CI's tests, the build for the hosted base URL,
the release zip. Parsed here so the workflow cannot drift from scripts/ without a test failing."""
from __future__ import annotations

import fnmatch
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from conftest import ROOT
from handbook import build, release
from handbook.paths import SITE

GITHUB = ROOT / ".github"


@pytest.fixture(scope="module")
def workflow() -> dict:
    return yaml.safe_load((GITHUB / "workflows" / "pages.yml").read_text(encoding="utf-8"))


def job_running(workflow: dict, command: str) -> tuple[str, dict, dict]:
    """The job's name, the job and the step whose script has `command` as one of its lines."""
    for name, job in workflow["jobs"].items():
        for step in job["steps"]:
            if re.search(rf"^\s*{re.escape(command)}\s*$", step.get("run", ""), re.M):
                return name, job, step
    pytest.fail(f"no workflow step runs `{command}`")


def ci_job(workflow: dict) -> str:
    return job_running(workflow, "bash .ci/run")[0]


def step_using(job: dict, action: str) -> dict | None:
    return next((s for s in job["steps"] if s.get("uses", "").split("@")[0] == action), None)


def needs(job: dict) -> list[str]:
    return [job["needs"]] if isinstance(job.get("needs"), str) else job.get("needs", [])


def test_tests_run_as_in_ci_on_main_tags_and_by_hand(workflow):
    on = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` key as true
    assert on["push"]["branches"] == ["main"] and on["push"]["tags"] == ["v*"] and "workflow_dispatch" in on
    job_running(workflow, "bash .ci/run")


def test_pages_are_built_by_scripts_run_build_for_the_hosted_url_then_deployed(workflow, monkeypatch):
    name, job, step = job_running(workflow, "scripts/run build")
    assert ci_job(workflow) in needs(job), "publish only what passed the tests"
    assert step["env"]["HANDBOOK_SITE_URL"] == "${{ vars.HANDBOOK_SITE_URL }}"
    monkeypatch.setenv("HANDBOOK_SITE_URL", "https://example.test/handbook/")
    assert build.load("zh").site_url == "https://example.test/handbook/", "the config ignores HANDBOOK_SITE_URL"
    assert step_using(job, "actions/upload-pages-artifact")["with"]["path"].rstrip("/") == SITE.relative_to(ROOT).as_posix()
    deploy = next(j for j in workflow["jobs"].values() if step_using(j, "actions/deploy-pages"))
    assert needs(deploy) == [name]
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}


def test_a_version_tag_attaches_the_release_zip(workflow):
    _, job, _ = job_running(workflow, "scripts/run release")
    assert ci_job(workflow) in needs(job) and "refs/tags/v" in job["if"]
    attach = next(s for s in job["steps"] if "gh release create" in s.get("run", ""))
    pattern = re.search(r"(dist/\S+\.zip)", attach["run"]).group(1)
    zip_name = (release.DIST / f"handbook-offline-{release.project()['version']}.zip").relative_to(ROOT).as_posix()
    assert fnmatch.fnmatch(zip_name, pattern), f"{pattern} does not match {zip_name}"
    assert attach["env"]["GH_TOKEN"] == "${{ github.token }}" and job["permissions"] == {"contents": "write"}


def test_the_workflow_cannot_be_hijacked():
    """zizmor (offline) finds nothing at medium severity or above: actions pinned to full commit SHAs, no
    credentials persisted in checkouts, no cache a pull request could poison."""
    out = subprocess.run([str(Path(sys.executable).with_name("zizmor")), "--offline", "--min-severity", "medium",
                          "--format", "json", str(GITHUB)], capture_output=True, text=True, check=False)
    findings = json.loads(out.stdout)
    assert out.returncode == 0 and findings == [], [f"{f['ident']}: {f['desc']}" for f in findings]
    workflows = (GITHUB / "workflows" / "pages.yml").read_text(encoding="utf-8")
    pinned = re.findall(r"uses: ([\w./-]+)@([0-9a-f]{40}) # v[\d.]+$", workflows, re.M)
    assert len(pinned) == workflows.count("uses: ") - workflows.count("uses: ./"), "every action is pinned, with its version"


def test_ci_python_is_the_one_pyproject_requires():
    action = yaml.safe_load((GITHUB / "actions" / "python" / "action.yml").read_text(encoding="utf-8"))
    version = step_using(action["runs"], "actions/setup-python")["with"]["python-version"]
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["requires-python"]
    assert re.match(rf">={re.escape(version)}(,|$)", requires), f"CI sets up Python {version}, pyproject needs {requires}"


def test_nothing_in_the_repository_points_outside_it():
    """A contributor has everything in the clone: no path into a sibling folder or this machine."""
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    outside = re.compile(r"\.\./shared|/work/|\.\./\.\./(?!\.\.)\w")
    found = [f"{name}: {m.group(0)}" for name in tracked
             if not name.endswith((".lock", ".json", ".txt", ".tsv")) and name != "tests/test_delivery.py"  # it names them
             for m in [outside.search((ROOT / name).read_text(encoding="utf-8", errors="replace"))] if m]
    assert not found, found
