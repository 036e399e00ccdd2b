"""Where things live in the repository."""
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
NOTEBOOKS = ROOT / "notebooks"
CACHE = ROOT / ".cache"
SITE = ROOT / "site"
SITE_OFFLINE = ROOT / "site-offline"
READING_PATHS = DOCS / "paths.yml"
LANGS = ("zh", "en")          # zh first: the source language, served at the site root


def config_file(lang: str) -> Path:
    return DOCS / f"mkdocs.{lang}.yml"


def lang_dir(lang: str) -> Path:
    return DOCS / lang
