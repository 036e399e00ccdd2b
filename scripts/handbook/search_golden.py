"""The search golden set (tests/golden/*.yml): reader queries, each with every place that answers it,
and the measures of a ranking against it (Recall@3 and MRR per language).

An answer is a question id (`q-…`), a lab (`lab:<slug>`, any of its sections) or a lab section
(`lab:<slug>#<heading-id>`). A result is a URL of the built site; it answers when it is that question's
section, a section of that lab, or that very lab section.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import yaml

from . import lab_sources, registry
from .paths import LANGS, ROOT

GOLDEN_DIR = ROOT / "tests" / "golden"
TOP = 3
FLOOR = {"recall@3": 0.95, "mrr": 0.85}


class GoldenSetError(ValueError):
    """A golden-set entry that cannot be measured: the message names the file, the entry and the problem."""


@dataclass(frozen=True)
class Query:
    lang: str
    text: str
    answers: tuple[str, ...]
    where: str        # file and entry, for messages


def load(folder: Path = GOLDEN_DIR) -> dict[str, list[Query]]:
    """Every query of every file, per language, each answer checked against the registry and the labs."""
    reg = registry.load()
    lab_ids = {slug: set(lab_sources.heading_ids(slug)) for slug in reg.labs}
    out: dict[str, list[Query]] = {lang: [] for lang in LANGS}
    for path in sorted(folder.glob("*.yml")):
        name = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise GoldenSetError(f"{name}: not valid YAML ({exc.problem} at line {exc.problem_mark.line + 1})") from exc
        for lang, entries in data.items():
            if lang not in out:
                raise GoldenSetError(f"{name}: top-level key {lang!r} is not a language; use {' or '.join(LANGS)}")
            for n, entry in enumerate(entries or (), 1):
                where = f"{name}: {lang} entry {n} ({entry.get('query')!r})" if isinstance(entry, dict) else f"{name}: {lang} entry {n}"
                if not isinstance(entry, dict) or not str(entry.get("query", "")).strip() or not entry.get("answers"):
                    raise GoldenSetError(f"{where}: each entry needs a non-empty `query` and a list of `answers`")
                for answer in entry["answers"]:
                    problem = _unknown(answer, reg, lab_ids)
                    if problem:
                        raise GoldenSetError(f"{where}: answer {answer!r} {problem}")
                out[lang].append(Query(lang, str(entry["query"]), tuple(entry["answers"]), where))
    return out


def _unknown(answer: str, reg, lab_ids: dict[str, set[str]]) -> str | None:
    if answer.startswith("lab:"):
        slug, _, section = answer[4:].partition("#")
        if slug not in lab_ids:
            return f"names lab {slug!r}, which is not a lab on the site (docs/registry.yml, notebooks/)"
        if section and section not in lab_ids[slug]:
            return f"names section #{section}, which is not a heading of lab {slug} (its ids: {sorted(lab_ids[slug])})"
        return None
    if answer not in reg.questions:
        return "is not a question id in docs/registry.yml"
    return None


def target(url: str) -> str:
    """What a result URL lands on: `q-…`, `lab:<slug>#<id>`, `lab:<slug>` or the URL's path."""
    parts = urlsplit(url)
    fragment = unquote(parts.fragment)
    if fragment.startswith("q-"):
        return fragment
    path = [p for p in parts.path.split("/") if p]
    if "labs" in path[:-1] or (len(path) >= 2 and path[-2] == "labs"):
        slug = path[path.index("labs") + 1].removesuffix(".html")
        return f"lab:{slug}" + (f"#{fragment}" if fragment else "")
    return parts.path


def rank(query: Query, results: list[str]) -> int | None:
    """The 1-based position of the first result that answers the query, or None."""
    for n, url in enumerate(results, 1):
        got = target(url)
        for answer in query.answers:
            if got == answer or (answer.startswith("lab:") and "#" not in answer and got.split("#")[0] == answer):
                return n
    return None


@dataclass
class Score:
    queries: int
    recall: float      # share of queries answered in the first TOP results
    mrr: float
    misses: list[tuple[Query, int | None, list[str]]]   # queries not answered in the first TOP

    def passes(self) -> bool:
        return self.recall >= FLOOR["recall@3"] and self.mrr >= FLOOR["mrr"]


def score(queries: list[Query], results: list[list[str]]) -> Score:
    ranks = [rank(q, r) for q, r in zip(queries, results)]
    misses = [(q, n, [target(u) for u in r[:TOP]]) for q, n, r in zip(queries, ranks, results) if not n or n > TOP]
    return Score(len(queries), sum(1 for n in ranks if n and n <= TOP) / len(queries),
                 statistics.fmean(1 / n if n else 0 for n in ranks), misses)


def table(scores: dict[str, Score]) -> str:
    lines = [f"  {'':6}{'queries':>8}{'Recall@3':>10}{'MRR':>8}   floor {FLOOR['recall@3']} / {FLOOR['mrr']}"]
    for name, s in scores.items():
        lines.append(f"  {name:6}{s.queries:8}{s.recall:10.3f}{s.mrr:8.3f}   {'ok' if s.passes() else 'BELOW THE FLOOR'}")
    return "\n".join(lines)
