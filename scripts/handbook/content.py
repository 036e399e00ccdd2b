"""Mistakes in the handbook's content files (chapters, registry, glossary, reading paths, lab sources),
reported as one sentence that names the file and says what to fix, never as a traceback."""
from __future__ import annotations

from pathlib import Path

import yaml

from .paths import ROOT


class ContentError(ValueError):
    """A content file the build cannot use: the message names it and says what to do."""


def where(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def read_yaml(path: Path):
    """A YAML file's data; a syntax error names the file, the line and the column."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ContentError(f"{where(path)}{at}: not valid YAML ({problem}); fix the syntax there") from None
