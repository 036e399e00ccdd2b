"""The ```python blocks of the docs: found, and executed page by page in one namespace per page."""
from __future__ import annotations

import os
import re
import tempfile
import traceback
from dataclasses import dataclass
from pathlib import Path

OPEN = re.compile(r"^(\s*)(`{3,}|~{3,})\s*(?:\{\s*\.)?([\w+-]*)")


@dataclass
class Block:
    path: Path
    line: int          # line of the opening fence, 1-based
    lang: str
    code: str


def blocks(path: Path) -> list[Block]:
    """Every fenced block of a Markdown file (any language), with its dedented code."""
    out, lines, i = [], path.read_text(encoding="utf-8").splitlines(), 0
    while i < len(lines):
        m = OPEN.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence, lang = m.group(1), m.group(2), m.group(3).lower()
        start, body = i + 1, []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(fence):
            body.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i].lstrip())
            i += 1
        out.append(Block(path, start, lang, "\n".join(body) + "\n"))
        i += 1
    return out


def python_blocks(path: Path) -> list[Block]:
    return [b for b in blocks(path) if b.lang in ("python", "py")]


class SnippetError(AssertionError):
    pass


def run_page(path: Path, root: Path) -> int:
    """Run a page's python blocks top to bottom in one namespace; raise naming file:line on failure."""
    todo = python_blocks(path)
    if not todo:
        return 0
    import matplotlib

    matplotlib.use("Agg")
    namespace: dict = {"__name__": "__snippet__"}
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)  # a snippet that writes files writes them here, never into the repository
        try:
            for b in todo:
                where = f"{path.relative_to(root)}:{b.line}"
                try:
                    exec(compile(b.code, where, "exec"), namespace)
                except Exception as exc:
                    tb = "".join(traceback.format_exception_only(type(exc), exc)).strip()
                    lineno = next((f.lineno for f in reversed(traceback.extract_tb(exc.__traceback__)) if f.filename == where), None)
                    at = f"{path.relative_to(root)}:{b.line + lineno}" if lineno else where
                    raise SnippetError(f"{at}: the python block starting at line {b.line} raised {tb}; fix the snippet or make it a link to a lab") from exc
        finally:
            os.chdir(cwd)
            import matplotlib.pyplot as plt

            plt.close("all")
    return len(todo)
