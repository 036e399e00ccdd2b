"""The glossary (docs/glossary.yml): its page in each language, and its words for the zh search."""
from __future__ import annotations

import functools

import yaml

from .paths import DOCS

GLOSSARY_FILE = DOCS / "glossary.yml"
HEADER = {
    "zh": "# 术语表\n\n本手册使用的技术术语，中英对照。各章译文统一采用这里的译法。\n\n| 中文 | English | 释义 |\n|---|---|---|\n",
    "en": "# Glossary\n\nThe technical terms this handbook uses, Chinese and English side by side. Both editions use these renderings.\n\n| English | 中文 | Meaning |\n|---|---|---|\n",
}


@functools.lru_cache(maxsize=1)
def terms() -> list[dict]:
    return yaml.safe_load(GLOSSARY_FILE.read_text(encoding="utf-8"))


def page(lang: str) -> str:
    rows = []
    for t in terms():
        first, second = (t["zh"], t["en"]) if lang == "zh" else (t["en"], t["zh"])
        rows.append(f"| **{first}** | {second} | {t[f'{lang}_def']} |")
    return HEADER[lang] + "\n".join(rows) + "\n"


def teach_segmenter() -> None:
    """Keep glossary terms whole in the zh search index: jieba would split 召回率 into 召回 + 率."""
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    for t in terms():
        if any("\u4e00" <= ch <= "\u9fff" for ch in t["zh"]):
            jieba.add_word(t["zh"], freq=100000)
