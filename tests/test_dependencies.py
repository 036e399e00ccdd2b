"""Everything the labs, snippets, tools and tests import is pinned in pyproject.toml (or is stdlib/local)."""
import ast
import importlib.metadata
import re
import sys
import tomllib

from handbook import snippets
from handbook.paths import DOCS, NOTEBOOKS, ROOT

PINNED = {re.split(r"[=<>\[ ]", d)[0].lower().replace("_", "-")
          for d in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]}
LOCAL = {p.stem for p in NOTEBOOKS.glob("*.py")} | {"handbook", "conftest", "helpers"} | {p.stem for p in (ROOT / "tests").glob("*.py")}


def _imports(code: str) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _sources():
    for path in sorted([*NOTEBOOKS.glob("*.py"), *(NOTEBOOKS / "data").glob("*.py"), *(ROOT / "scripts").rglob("*.py"), *(ROOT / "tests").glob("*.py")]):
        yield path.relative_to(ROOT), path.read_text(encoding="utf-8")
    for lang in ("zh", "en"):
        for page in sorted((DOCS / lang).rglob("*.md")):
            for block in snippets.python_blocks(page):
                yield f"{page.relative_to(ROOT)}:{block.line}", block.code


def test_every_import_is_pinned():
    dists = importlib.metadata.packages_distributions()
    missing = []
    for where, code in _sources():
        for name in sorted(_imports(code)):
            if name in sys.stdlib_module_names or name in LOCAL:
                continue
            owners = {d.lower().replace("_", "-") for d in dists.get(name, [])}
            if not owners & PINNED and not _provided_by_a_pinned_package(owners):
                missing.append(f"{where} imports {name!r} (distribution {sorted(owners) or 'not installed'}), which pyproject.toml does not pin: add it to [project] dependencies")
    assert not missing, "\n".join(missing)


def _provided_by_a_pinned_package(owners: set[str]) -> bool:
    """A module from a dependency of a pinned package (e.g. matplotlib_inline via ipykernel) is fine."""
    for pinned in PINNED:
        try:
            requires = importlib.metadata.requires(pinned) or []
        except importlib.metadata.PackageNotFoundError:
            continue
        if any(re.split(r"[=<>;\[ (!~]", r)[0].lower().replace("_", "-") in owners for r in requires):
            return True
    return False
