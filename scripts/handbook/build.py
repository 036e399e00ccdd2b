"""Build both language sites, online (site/) or offline (site-offline/; release.py zips it)."""
from __future__ import annotations

import gc
import os
import shutil
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from mkdocs.commands.build import build as mkdocs_build
from mkdocs.config import load_config

from .paths import LANGS, SITE, SITE_OFFLINE, config_file


@contextmanager
def _env(**values):
    old = {k: os.environ.get(k) for k in values}
    os.environ.update({k: v for k, v in values.items()})
    try:
        yield
    finally:
        for k, v in old.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)


def site_dir(lang: str, root: Path) -> Path:
    """zh at the root, en under en/: one tree that works hosted and from disk."""
    return root if lang == LANGS[0] else root / lang


def load(lang: str, root: Path = SITE, offline: bool = False, **overrides):
    with _env(HANDBOOK_OFFLINE="true" if offline else "false"):
        return load_config(str(config_file(lang)), site_dir=str(site_dir(lang, root)), **overrides)


@contextmanager
def _rare_collections():
    """A build makes millions of objects that live until it ends (parsed pages, HTML trees); with Python's
    default threshold the cyclic garbage collector walked them ~1,300 times per language, a tenth of the
    build's time. A generation-0 threshold of 50,000 makes it ~15 times."""
    old = gc.get_threshold()
    gc.set_threshold(50_000, *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)


def build_lang(lang: str, root: Path = SITE, offline: bool = False, dirty: bool = False) -> None:
    with _rare_collections():
        mkdocs_build(load(lang, root, offline), dirty=dirty)  # strict: true in mkdocs.yml turns warnings into a failure


def build_all(root: Path | None = None, offline: bool = False) -> Path:
    """Both languages at once, a process each (they share nothing). The zh build cleans the root it
    builds into, so en builds beside it and moves to root/en when both are done."""
    root = root or (SITE_OFFLINE if offline else SITE)
    staging = root.with_name(root.name + ".en-staging")
    for old in (root, staging):
        if old.exists():
            shutil.rmtree(old)
    with ProcessPoolExecutor(max_workers=len(LANGS)) as pool:
        jobs = [pool.submit(build_lang, lang, root if lang == LANGS[0] else staging, offline) for lang in LANGS]
        for job in jobs:
            job.result()  # re-raises a build error
    for lang in LANGS[1:]:
        site_dir(lang, staging).rename(site_dir(lang, root))
    shutil.rmtree(staging)
    return root
