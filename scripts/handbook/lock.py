"""requirements.lock (made by `scripts/run lock`) against the installed environment: every package the
set-up installs is pinned there with its hashes, and the venv holds exactly those versions.

    python -m handbook.lock                   list the differences (exit 1 when there are any)
    python -m handbook.lock --remove-unlocked uninstall what the lock does not name (scripts/run, after installing)
"""
from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
import sysconfig

from .paths import ROOT

LOCK_FILE = ROOT / "requirements.lock"
PROJECT = "ai-llm-startup-handbook"   # installed in editable mode, not from the lock
TOOLING = {"pip"}                      # the venv's own installer


def _name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked() -> dict[str, str]:
    """name -> version pinned in the lock file."""
    pins = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)", LOCK_FILE.read_text(encoding="utf-8"), re.M)
    return {_name(name): version for name, version in pins}


def installed() -> dict[str, str]:
    """What the environment's site-packages hold (not what a running process happens to see: importing
    jieba puts setuptools' vendored packages on sys.path)."""
    folders = sorted({sysconfig.get_paths()[key] for key in ("purelib", "platlib")})
    return {_name(d.metadata["Name"]): d.version for d in importlib.metadata.distributions(path=folders)}


def differences() -> list[str]:
    """Each way the environment differs from the lock, as a sentence."""
    lock, have = locked(), installed()
    out = [f"{name} {version} is locked but not installed" for name, version in lock.items() if name not in have]
    out += [f"{name} is {have[name]} but the lock pins {version}" for name, version in lock.items()
            if name in have and have[name] != version]
    out += [f"{name} {version} is installed but not in the lock" for name, version in have.items()
            if name not in lock and name not in TOOLING and name != PROJECT]
    return out


def main(argv: list[str]) -> int:
    if "--remove-unlocked" in argv:
        extra = [name for name in installed() if name not in locked() and name not in TOOLING and name != PROJECT]
        if extra:
            subprocess.run([sys.executable, "-m", "pip", "uninstall", "--quiet", "--yes", *extra], check=True)
        return 0
    problems = differences()
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
