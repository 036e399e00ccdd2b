"""Everything the labs, snippets, tools and tests import is pinned in pyproject.toml (or is stdlib/local),
and the environment holds exactly the packages of requirements.lock."""
import ast
import importlib.metadata
import re
import sys
import tomllib

from handbook import lock, snippets
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


def test_the_environment_is_exactly_the_lock():
    """scripts/run installs requirements.lock (hashes required) and removes anything else."""
    assert lock.differences() == [], "run `scripts/run test` again to reinstall from requirements.lock, or `scripts/run lock` after changing pyproject.toml"


def test_the_lock_pins_every_package_with_a_hash():
    text = lock.LOCK_FILE.read_text(encoding="utf-8")
    entries = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n\n", 1)[1])
    unhashed = [e.split()[0] for e in entries if e.strip() and not e.startswith("#") and "--hash=sha256:" not in e]
    assert not unhashed and len(lock.locked()) > 100, unhashed
    assert PINNED <= set(lock.locked()), f"pyproject.toml pins what the lock lacks: {sorted(PINNED - set(lock.locked()))}"
