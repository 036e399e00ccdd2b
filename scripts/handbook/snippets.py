"""The ```python blocks of the docs: found, and executed page by page in one namespace per page."""
from __future__ import annotations

import os
import tempfile
import traceback
from pathlib import Path

from .markdown_model import Fence, Page


def python_blocks(path: Path) -> list[Fence]:
    """The ```python blocks of a Markdown page, with the line of their opening fence."""
    return [f for f in Page.read(path).fences if f.lang in ("python", "py")]


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
