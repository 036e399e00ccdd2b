"""Write zh_en_corpus.tsv: a small, deterministic Chinese→English template corpus for the translation lab.

Every pair is subject × time × place × verb–object, rendered in Chinese word order
(subject, time, place, verb, object) and in English word order (subject, verb, object, place, time)
with the English verb inflected for the tense the time phrase implies:

    我昨天在图书馆读了一本书。        I read a book in the library yesterday.
    她每天在公司写代码。              She writes code at the office every day.
    他们明天会在家看电影。            They will watch a movie at home tomorrow.

Columns: zh, en, and the English subject and object of the pair (so that a lab can hold out whole
subject–object combinations). Run from anywhere: `python notebooks/data/make_zh_en_corpus.py`. The output depends on nothing but
this file (no randomness), so rerunning it reproduces the committed TSV byte for byte.
"""
from __future__ import annotations

from itertools import product
from pathlib import Path

OUT = Path(__file__).resolve().parent / "zh_en_corpus.tsv"

# (Chinese, English, third person singular?)
SUBJECTS = [
    ("我", "I", False),
    ("你", "you", False),
    ("他", "he", True),
    ("她", "she", True),
    ("我们", "we", False),
    ("他们", "they", False),
    ("老师", "the teacher", True),
    ("我的朋友", "my friend", True),
]

# (Chinese, English, tense)
TIMES = [
    ("昨天", "yesterday", "past"),
    ("上周", "last week", "past"),
    ("每天", "every day", "present"),
    ("每个周末", "every weekend", "present"),
    ("明天", "tomorrow", "future"),
    ("下周", "next week", "future"),
]

PLACES = [
    ("在家", "at home"),
    ("在图书馆", "in the library"),
    ("在公司", "at the office"),
]

# Chinese verb, English base form, third person singular, past tense, and the objects it takes.
VERBS = [
    ("读", "read", "reads", "read", [("一本书", "a book"), ("这篇文章", "this article")]),
    ("写", "write", "writes", "wrote", [("代码", "code"), ("一份报告", "a report")]),
    ("看", "watch", "watches", "watched", [("电影", "a movie"), ("新闻", "the news")]),
    ("吃", "eat", "eats", "ate", [("午饭", "lunch"), ("面条", "noodles")]),
    ("喝", "drink", "drinks", "drank", [("咖啡", "coffee"), ("茶", "tea")]),
    ("学习", "study", "studies", "studied", [("数学", "math"), ("机器学习", "machine learning")]),
    ("买", "buy", "buys", "bought", [("一台电脑", "a computer"), ("水果", "fruit")]),
    ("训练", "train", "trains", "trained", [("一个模型", "a model"), ("新员工", "new staff")]),
]
VERB_OBJECTS = [(verb, obj) for verb in VERBS for obj in verb[4]]


def render(subject, time, place, verb, obj) -> tuple[str, str]:
    s_zh, s_en, third = subject
    t_zh, t_en, tense = time
    p_zh, p_en = place
    v_zh, base, third_form, past, _ = verb
    o_zh, o_en = obj
    if tense == "past":
        zh = f"{s_zh}{t_zh}{p_zh}{v_zh}了{o_zh}。"
        v_en = past
    elif tense == "future":
        zh = f"{s_zh}{t_zh}会{p_zh}{v_zh}{o_zh}。"
        v_en = f"will {base}"
    else:
        zh = f"{s_zh}{t_zh}{p_zh}{v_zh}{o_zh}。"
        v_en = third_form if third else base
    en = f"{s_en} {v_en} {o_en} {p_en} {t_en}."
    return zh, en[0].upper() + en[1:]


def rows() -> list[tuple[str, str, str, str]]:
    """(zh, en, subject, object): subject and object in English, so a lab can split by combination."""
    return [
        (*render(s, t, p, v, o), s[1], o[1])
        for s, t, p, (v, o) in product(SUBJECTS, TIMES, PLACES, VERB_OBJECTS)
    ]


def main() -> None:
    table = rows()
    with OUT.open("w", encoding="utf-8", newline="\n") as f:
        f.write("zh\ten\tsubject\tobject\n")
        for row in table:
            f.write("\t".join(row) + "\n")
    print(f"wrote {len(table)} pairs to {OUT}")


if __name__ == "__main__":
    main()
