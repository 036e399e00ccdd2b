"""Serve both languages from one server on 127.0.0.1, rebuilding on every change (live reload)."""
from __future__ import annotations

import logging
import subprocess
import sys
import time

from mkdocs.livereload import LiveReloadServer

from .paths import DOCS, NOTEBOOKS, ROOT, SITE

log = logging.getLogger("handbook.serve")
WATCHED = [DOCS, NOTEBOOKS, ROOT / "mkdocs.yml", ROOT / "scripts" / "handbook"]


def rebuild() -> None:
    """`python -m handbook build` in a fresh interpreter: an edit to the handbook's own code (watched) takes effect
    at once, and the page cache, keyed by that code, is never filled by modules older than their files."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "handbook", "build"], cwd=ROOT, capture_output=True, text=True)
    if done.returncode:  # keep serving the last good build; the message says what broke
        lines = (done.stdout + done.stderr).splitlines()
        log.error("rebuild failed:\n%s", "\n".join([l for l in lines if l.startswith(("ERROR", "error:"))] or lines[-20:]))
        return
    log.info("rebuilt both languages in %.1f s", time.perf_counter() - start)


def serve(port: int = 8000) -> None:
    rebuild()
    server = LiveReloadServer(builder=rebuild, host="127.0.0.1", port=port, root=str(SITE))
    for path in WATCHED:
        server.watch(str(path))
    log.info("serving zh at http://127.0.0.1:%d/ and en at http://127.0.0.1:%d/en/", port, port)
    try:
        server.serve()
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
