"""The offline edition as one versioned zip: dist/handbook-offline-<version>.zip.

Inside, everything sits under handbook-<version>/ next to a README.txt (Chinese, then English) that
says what the edition is, which version and commit it was built from, and how to open it.
"""
from __future__ import annotations

import datetime
import subprocess
import tomllib
import zipfile
from pathlib import Path

from .paths import ROOT

DIST = ROOT / "dist"

README = """\
{title_zh}（离线版）

版本：{version}
提交：{commit}
构建日期：{date}

这是什么：本手册网站的完整离线版，中文与英文两种语言，所有页面、实验和搜索都在这个文件夹里。
如何打开：
  1. 解压这个 zip 文件。
  2. 用浏览器打开 handbook-{version}/index.html（中文）或 handbook-{version}/en/index.html（英文）。
直接从本地磁盘打开即可，不需要网络，搜索同样可用。


{title_en} (offline edition)

Version: {version}
Commit: {commit}
Built: {date}

What this is: the complete offline edition of the handbook's website, in Chinese and English; every
page, lab and the search live in this folder.
How to open it:
  1. Unzip this file.
  2. Open handbook-{version}/index.html (Chinese) or handbook-{version}/en/index.html (English) in a browser.
It works straight from disk with no network, search included.
"""


def project() -> dict:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]


def commit() -> str:
    """The short sha of HEAD, or "unknown" outside a git checkout (e.g. an unpacked source tarball)."""
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.stdout.strip()


def readme(meta: dict) -> str:
    title_zh, title_en = meta["description"].split(" / ", 1)  # pyproject holds the one bilingual title
    return README.format(title_zh=title_zh, title_en=title_en, version=meta["version"], commit=commit(),
                         date=datetime.datetime.now(datetime.timezone.utc).date().isoformat())


def make(offline_site: Path, dist: Path = DIST) -> Path:
    """Zip an offline build (build.build_all(offline=True)) into dist/handbook-offline-<version>.zip."""
    meta = project()
    version = meta["version"]
    top = Path(f"handbook-{version}")
    dist.mkdir(parents=True, exist_ok=True)
    target = dist / f"handbook-offline-{version}.zip"
    partial = target.with_suffix(".zip.part")  # an interrupted run leaves no zip that looks complete
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        info = zipfile.ZipInfo(str(top / "README.txt"), datetime.datetime.now().timetuple()[:6])
        info.external_attr = 0o100644 << 16  # a regular file readable by all once unzipped, like the pages
        z.writestr(info, readme(meta), zipfile.ZIP_DEFLATED)
        for path in sorted(offline_site.rglob("*")):
            if path.is_file():
                z.write(path, top / path.relative_to(offline_site))
    return partial.replace(target)
