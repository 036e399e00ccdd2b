"""Every way the content files can disagree with each other, found by the build before it uses them
(the plugin's on_config), each reported as one sentence that names the file and says what to fix:
the registry and the chapters of both languages, the labs listed and the lab sources, the glossary,
the reading paths, the redirects, and every question's key points and follow-ups."""
from __future__ import annotations

from collections import Counter

from . import glossary, lab_sources, practice, registry
from .content import ContentError, read_yaml, where
from .markdown_model import Page
from .paths import DOCS, LANGS, READING_PATHS, lang_dir

REDIRECTS_FILE = DOCS / "redirects.yml"


def problems() -> list[str]:
    try:
        reg = registry.load()
    except ContentError as exc:
        return [str(exc)]
    out = registry.problems(reg) + chapters(reg) + labs(reg) + glossary_problems(reg) + paths(reg)
    if not out:  # key points and follow-ups are read per question: only once the chapters agree with the registry
        out += practice.problems()
    try:
        redirects = read_yaml(REDIRECTS_FILE) or {}
        if not isinstance(redirects, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in redirects.items()):
            out.append(f"{where(REDIRECTS_FILE)}: must map each old path to its new path (`old.md: new.md`)")
    except ContentError as exc:
        out.append(str(exc))
    return out


def chapters(reg: registry.Registry) -> list[str]:
    """Each registry chapter has a page in both languages holding exactly its questions, in order."""
    out, listed = [], {c["slug"] for c in reg.chapters}
    for lang in LANGS:
        for path in sorted((lang_dir(lang) / "chapters").glob("*.md")):
            if path.stem not in listed:
                out.append(f"{where(path)} is not a chapter in docs/registry.yml; add it under `chapters:` (or remove the page)")
    seen: dict[str, str] = {}
    for chapter in reg.chapters:
        slug = chapter["slug"]
        expected = [q.id for q in reg.questions.values() if q.chapter == slug]
        for lang in LANGS:
            path = lang_dir(lang) / "chapters" / f"{slug}.md"
            if not path.exists():
                out.append(f"docs/registry.yml lists chapter {slug}, but {where(path)} does not exist; write it (in both languages)")
                continue
            page = Page.read(path)
            on_page = {h.id: h.line for h in page.questions()}
            for qid, line in on_page.items():
                if qid not in reg.questions:
                    out.append(f"{where(path)}:{line}: question heading #{qid} is not in docs/registry.yml; add it there, "
                               f"or give the heading the id the registry and the other language use")
                elif reg.questions[qid].chapter != slug:
                    out.append(f"{where(path)}:{line}: question #{qid} belongs to chapter {reg.questions[qid].chapter} in docs/registry.yml")
                elif lang == LANGS[0] and qid in seen:
                    out.append(f"{where(path)}:{line}: question id #{qid} is also used in {seen[qid]}; ids are unique across the handbook")
                seen.setdefault(qid, where(path))
            missing = [q for q in expected if q not in on_page]
            if missing:
                out.append(f"{where(path)} has no question heading for {', '.join(missing)} (docs/registry.yml lists "
                           f"{'it' if len(missing) == 1 else 'them'} in chapter {slug}); add the heading with that id")
            elif [q for q in on_page if q in expected] != expected:
                out.append(f"{where(path)}: its questions are not in the order of docs/registry.yml; put them in the same order")
    return out


def labs(reg: registry.Registry) -> list[str]:
    """Each listed lab has a source, each source is listed, and its prose comes in zh/en pairs."""
    out = []
    for slug, n in Counter(reg.labs).items():
        if n > 1:
            out.append(f"docs/registry.yml lists lab {slug} {n} times under `labs:`; list it once")
    sources = set(lab_sources.slugs())
    for slug in reg.labs:
        if slug not in sources:
            out.append(f"docs/registry.yml lists lab {slug}, but notebooks/{slug}.py does not exist; add the lab or remove it from `labs:`")
    for slug in sorted(sources - set(reg.labs)):
        out.append(f"notebooks/{slug}.py is not listed under `labs:` in docs/registry.yml; add it there so it is on the site")
    for slug in sorted(sources & set(reg.labs)):
        langs = [c.metadata.get("lang") for c in lab_sources.read(slug).cells if c.cell_type == "markdown"]
        unmarked = langs.count(None) + sum(1 for lang in langs if lang not in LANGS and lang is not None)
        if unmarked:
            out.append(f"notebooks/{slug}.py: {unmarked} markdown cell(s) without lang=\"zh\" or lang=\"en\"; mark each cell's language")
        elif langs.count("zh") != langs.count("en"):
            out.append(f"notebooks/{slug}.py: {langs.count('zh')} zh and {langs.count('en')} en markdown cells; give every cell its twin")
        try:
            lab_sources.heading_ids(slug)
        except ContentError as exc:
            out.append(str(exc))
    return out


def glossary_problems(reg: registry.Registry) -> list[str]:
    try:
        terms = glossary.terms()
    except ContentError as exc:
        return [str(exc)]
    name = where(glossary.GLOSSARY_FILE)
    if not isinstance(terms, list):
        return [f"{name}: must be a list of terms (`- zh: ...`)"]
    out = []
    for n, t in enumerate(terms, 1):
        if not isinstance(t, dict) or not all(isinstance(t.get(k), str) and t[k].strip() for k in glossary.FIELDS):
            out.append(f"{name}: term {n} needs {', '.join(glossary.FIELDS)}, each a non-empty line")
            continue
        extra = set(t) - set(glossary.FIELDS) - {"aka", "questions"}
        if extra:
            out.append(f"{name}: term {t['en']!r} has unknown field(s) {sorted(extra)}; use aka: or questions:")
        aka = t.get("aka", {})
        if not isinstance(aka, dict) or set(aka) - set(LANGS) or not all(isinstance(v, list) for v in aka.values()):
            out.append(f"{name}: term {t['en']!r}: write aka as {{zh: [...], en: [...]}}")
        unknown = [q for q in t.get("questions", ()) if q not in reg.questions]
        if unknown:
            out.append(f"{name}: term {t['en']!r} names question(s) {unknown}, which are not in docs/registry.yml")
    if out:
        return out
    for field, label in (("en", "English name"), ("zh", "Chinese name")):
        out += [f"{name}: the {label} {k!r} is defined {c} times; keep one entry (move other names to aka:)"
                for k, c in Counter(t[field].strip().lower() for t in terms).items() if c > 1]
    out += [f"{name}: two terms share the row id {k}; their English names differ only in punctuation"
            for k, c in Counter(glossary.anchor(t) for t in terms).items() if c > 1]
    return out


def paths(reg: registry.Registry) -> list[str]:
    """Each reading path has its titles and intros in both languages and names only registry items."""
    try:
        data = read_yaml(READING_PATHS)
    except ContentError as exc:
        return [str(exc)]
    name, out = where(READING_PATHS), []
    if not isinstance(data, list):
        return [f"{name}: must be a list of paths (`- id: ...`)"]
    for n, path in enumerate(data, 1):
        ok = isinstance(path, dict) and isinstance(path.get("items"), list) and path.get("id") and all(
            isinstance(path.get(lang), dict) and path[lang].get("title") and path[lang].get("intro") for lang in LANGS)
        if not ok:
            out.append(f"{name}: path {n} needs an `id`, `zh` and `en` each with `title` and `intro`, and a list of `items`")
            continue
        for item in path["items"]:
            known = str(item)[4:] in reg.labs if str(item).startswith("lab:") else item in reg.questions
            if not known:
                out.append(f"{name}: path {path['id']} names {item!r}, which is not a question or `lab:` in docs/registry.yml")
    return out

