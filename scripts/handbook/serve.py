"""Serve both languages from one server on 127.0.0.1, rebuilding on every change (live reload)."""
from __future__ import annotations

import logging
import time

from mkdocs.livereload import LiveReloadServer

from . import build, labs
from .paths import DOCS, NOTEBOOKS, ROOT, SITE

log = logging.getLogger("handbook.serve")
WATCHED = [DOCS, NOTEBOOKS, ROOT / "mkdocs.yml", ROOT / "scripts" / "handbook"]


def rebuild() -> None:
    start = time.perf_counter()
    try:
        labs.run_all()                 # cached: only a changed lab runs again
        build.build_all(SITE)
    except Exception as exc:           # keep serving the last good build; the message says what broke
        log.error("rebuild failed: %s", exc)
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
