"""The handbook's command-line tool: `scripts/run <command>` (which sets up the venv first).

  execute [--force] [LAB ...]   run the labs (cached) and write their notebooks into docs/
  build [--offline]             execute, then build both languages (site/, or the file:// edition in site-offline/)
  release                       build the offline edition and zip it as dist/handbook-offline-<version>.zip
  serve [--port N]              build, then serve both languages on 127.0.0.1 with live reload
  urls                          record every published URL and question anchor (docs/published-urls.txt)
  corpus                        refresh notebooks/data/ from the chapters (the labs' own text)
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
warnings.filterwarnings("ignore", message="pkg_resources is deprecated")  # jieba 0.42, harmless


def _execute(args) -> None:
    from . import labs

    start = time.perf_counter()
    results = labs.run_all(args.labs or None, force=args.force, jobs=args.jobs)
    print(labs.timing_table(results))
    print(f"labs ready in {time.perf_counter() - start:.1f} s (wall clock)")


def _build(args) -> Path:
    from . import build

    _execute(argparse.Namespace(labs=None, force=False, jobs=args.jobs))
    start = time.perf_counter()
    root = build.build_all(offline=args.offline)
    print(f"built both languages into {root} in {time.perf_counter() - start:.1f} s")
    return root


def _release(args) -> None:
    from . import release

    target = release.make(_build(argparse.Namespace(offline=True, jobs=args.jobs)))
    print(f"release: {target} ({target.stat().st_size / 1e6:.1f} MB; its README.txt says how to open it)")


def _serve(args) -> None:
    from . import serve

    _execute(argparse.Namespace(labs=None, force=False, jobs=args.jobs))
    serve.serve(port=args.port)


def _urls(args) -> None:
    from . import build, urls

    _execute(argparse.Namespace(labs=None, force=False, jobs=args.jobs))
    print(f"wrote {urls.write(build.build_all())}")


def _corpus(args) -> None:
    from . import corpus

    for path in corpus.write():
        print(f"wrote {path}")


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)-7s - %(message)s")
    logging.getLogger("jieba").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(prog="scripts/run", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("execute", help="run the labs and write their notebooks")
    p.add_argument("labs", nargs="*", help="lab slugs (default: all)")
    p.add_argument("--force", action="store_true", help="ignore the cache and re-run")
    p.add_argument("--jobs", type=int, default=2)
    p.set_defaults(func=_execute)
    p = sub.add_parser("build", help="build both languages")
    p.add_argument("--offline", action="store_true", help="the file:// build, in site-offline/")
    p.add_argument("--jobs", type=int, default=2)
    p.set_defaults(func=_build)
    p = sub.add_parser("release", help="the offline build as dist/handbook-offline-<version>.zip")
    p.add_argument("--jobs", type=int, default=2)
    p.set_defaults(func=_release)
    p = sub.add_parser("serve", help="serve both languages with live reload")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--jobs", type=int, default=2)
    p.set_defaults(func=_serve)
    p = sub.add_parser("urls", help="record every published URL in docs/published-urls.txt")
    p.add_argument("--jobs", type=int, default=2)
    p.set_defaults(func=_urls)
    p = sub.add_parser("corpus", help="refresh the labs' copy of the handbook text")
    p.set_defaults(func=_corpus)
    args = parser.parse_args(argv)
    return reported(lambda: args.func(args))


def reported(task) -> int:
    """Run a command; a mistake in the content or a failing lab is printed as its message, not a traceback."""
    from mkdocs.exceptions import MkDocsException

    from .content import ContentError
    from .labs import LabError

    try:
        task()
    except (ContentError, LabError, MkDocsException) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
