# %% [markdown] lang="zh"
# # 实验：从零训练字节级 BPE 分词器
#
# 配套题目：第二部分《大模型内部原理》第 1 题[BPE、字节级 BPE、WordPiece 和 Unigram 分词有什么区别？](../chapters/llm-internals.md#q-subword-tokenizers)、
# 第 2 题[同一段中文，为什么在不同模型里消耗的词元数差很多？词表该多大？](../chapters/llm-internals.md#q-tokenizer-vocabulary-size)。
#
# 大模型按**词元**（token）计算上下文长度、算力和价格，而一段文字切成多少个词元由分词器决定。
# 训练流程里"在语料上训练子词分词器（如 BPE）"这一步（见[如何设计一个 AI 大模型训练流程？](../chapters/training-and-evaluation.md#q-training-pipeline)），
# 本实验在 CPU 上从头做一遍。
#
# **本实验做什么：** 在本手册自己的中文和英文正文上，用几十行 Python 实现字节级 BPE：以 256 个字节为初始词表，
# 反复把最常见的相邻字节对合并成新词元（[Sennrich et al., arXiv:1508.07909](https://arxiv.org/abs/1508.07909) 的合并循环，
# 加上 [GPT-2](https://cdn.openai.com/better-language-models/language_models_are_unsupervised_multitask_learners.pdf) 的字节级变体和预分词规则）。
# 然后验证：留出文本和训练中从未出现的字符都能精确往返（`decode(encode(x)) == x`）；比较中英文每个字符花多少词元，
# 与字符词表和原始字节对照，并扫描词表大小；最后在同样的文本、同样的词表大小上训练 Hugging Face `tokenizers` 库的字节级 BPE，
# 比较每字符词元数和速度。

# %% [markdown] lang="en"
# # Lab: a byte-level BPE tokenizer from scratch
#
# Accompanies, in Part 2: *How LLMs work inside*, question 1, [What is the difference between BPE, byte-level BPE, WordPiece and Unigram tokenization?](../chapters/llm-internals.md#q-subword-tokenizers)
# and question 2, [Why does the same Chinese text cost very different numbers of tokens in different models? How large should the vocabulary be?](../chapters/llm-internals.md#q-tokenizer-vocabulary-size).
#
# A large model counts its context length, compute and price in **tokens**, and how many tokens a text becomes is
# decided by the tokenizer. The pipeline step "train a subword tokenizer (such as BPE) on the corpus" (see
# [How would you design a training pipeline for a large AI model?](../chapters/training-and-evaluation.md#q-training-pipeline))
# is done here from scratch, on a CPU.
#
# **What this lab does:** on this handbook's own Chinese and English prose, it implements byte-level BPE in a few dozen
# lines of Python: start from a vocabulary of the 256 byte values and repeatedly merge the most frequent adjacent pair
# into a new token (the merge loop of [Sennrich et al., arXiv:1508.07909](https://arxiv.org/abs/1508.07909), with the
# byte-level variant and the pre-tokenization rule of
# [GPT-2](https://cdn.openai.com/better-language-models/language_models_are_unsupervised_multitask_learners.pdf)).
# It then checks that held-out text, and characters never seen in training, round-trip exactly
# (`decode(encode(x)) == x`); compares how many tokens a character costs in Chinese and in English against a character
# vocabulary and raw bytes, sweeping the vocabulary size; and finally trains the Hugging Face `tokenizers` library's
# byte-level BPE on the same text with the same vocabulary size to compare tokens per character and speed.

# %%
import heapq
import time
from collections import Counter, defaultdict
from functools import lru_cache

import matplotlib.pyplot as plt
import regex  # GPT-2's split pattern needs the Unicode classes \p{L} (letters) and \p{N} (numbers), which `re` lacks
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

from labkit import block_split, handbook_prose, seed_everything, setup_plots

seed_everything(0, threads=1)  # nothing here is random; one thread keeps the timings comparable from run to run
setup_plots()

# %% [markdown] lang="zh"
# ## 数据：本手册的中英文正文
#
# 语料是各章正文的两种语言版本（`handbook_prose(lang=...)`，去掉代码和公式）。留出集按**位置**切分：
# 每种语言都切成连续的 250 字符块，每 10 块留出 1 块，分词器只在其余 90 % 上训练，中英文合在一起训练**一个**分词器。
#
# 字节级 BPE 的起点是 UTF-8 字节。UTF-8 用 1 到 4 个字节编码一个字符：U+0000–U+007F（ASCII）1 个字节，
# U+0080–U+07FF 2 个，U+0800–U+FFFF 3 个，更高的码位 4 个（[RFC 3629 第 3 节](https://www.rfc-editor.org/rfc/rfc3629#section-3)）。
# 常用汉字所在的"中日韩统一表意文字"区块是 U+4E00–U+9FFF（[Unicode 码表](https://www.unicode.org/charts/PDF/U4E00.pdf)），
# 所以**每个常用汉字是 3 个字节**，英文字母是 1 个。下面打印的中文正文平均每字符少于 3 个字节，
# 因为其中夹着 1 个字节的空格、数字和英文术语（汉字所占的比例见输出）。

# %% [markdown] lang="en"
# ## Data: the handbook's Chinese and English prose
#
# The corpus is the chapters' prose in both languages (`handbook_prose(lang=...)`, code and formulas removed). The
# held-out set is split **by position**: each language is cut into consecutive 250-character blocks and every 10th block
# is held out; the tokenizer trains on the other 90 %, and **one** tokenizer is trained on both languages together.
#
# Byte-level BPE starts from UTF-8 bytes. UTF-8 encodes a character in 1 to 4 bytes: U+0000–U+007F (ASCII) take 1 byte,
# U+0080–U+07FF 2, U+0800–U+FFFF 3, and higher code points 4 ([RFC 3629, section 3](https://www.rfc-editor.org/rfc/rfc3629#section-3)).
# The common Chinese characters live in the CJK Unified Ideographs block, U+4E00–U+9FFF
# ([Unicode code chart](https://www.unicode.org/charts/PDF/U4E00.pdf)), so **every common Chinese character is 3 bytes**
# and an English letter is 1. The Chinese prose printed below averages fewer than 3 bytes per character because
# 1-byte spaces, digits and English terms are mixed into it (the share of Chinese characters is printed).

# %%
LANGS = ("zh", "en")
text = {lang: "\n".join(handbook_prose(lang=lang)) for lang in LANGS}
train, held = {}, {}
for lang in LANGS:
    train[lang], held[lang] = block_split(text[lang], block=250, every=10)  # every 10th 250-character block held out
train_texts = train["zh"] + train["en"]  # one tokenizer for both languages
seen_chars = set("".join(train_texts))


def utf8_len(s: str) -> int:
    return len(s.encode("utf-8"))


for lang in LANGS:
    h = "".join(held[lang])
    print(f"{lang}: {len(text[lang]):,} characters, {len(h):,} held out; "
          f"UTF-8 {utf8_len(h) / len(h):.2f} bytes per character")
han = [c for c in text["zh"] if "\u4e00" <= c <= "\u9fff"]
print(f"zh text: {len(han) / len(text['zh']):.0%} of its characters are in U+4E00..U+9FFF "
      f"({len(set(han)):,} different ones), byte lengths {sorted({utf8_len(c) for c in han})}")
for ch in ("a", "é", "中", "🙂"):
    print(f"{ch!r:5} U+{ord(ch):04X}  UTF-8 {ch.encode('utf-8').hex(' '):12} ({utf8_len(ch)} bytes)")

# %% [markdown] lang="zh"
# ## 预分词：合并不跨越"词"的边界
#
# Sennrich 等人的 BPE 只在词内合并，不考虑跨词的字符对。GPT-2 先用一个正则表达式把文本切成块：
# 带前导空格的字母串、数字串、标点串和空白，合并只发生在块内；论文的说法是"不让 BPE 跨字符类别合并"，
# 避免词表里出现 `dog.`、`dog!`、`dog?` 这样的变体。下面用的正是 GPT-2 [`encoder.py`](https://github.com/openai/gpt-2/blob/master/src/encoder.py)
# 里的模式（去掉它的特殊词元 `<|endoftext|>`），Hugging Face 的 `ByteLevel` 预分词器用的也是同一个模式
# （[源码](https://github.com/huggingface/tokenizers/blob/main/tokenizers/src/pre_tokenizers/byte_level.rs)），所以后面的对比是公平的。
#
# 注意中文：汉字都属于 Unicode 字母类 `\p{L}`，中文又不用空格分词，所以两个标点之间的一整串汉字是**一个**块，
# 合并可以跨越中文的词界，学出"的大模型"这类跨词片段。

# %% [markdown] lang="en"
# ## Pre-tokenization: merges do not cross "word" boundaries
#
# Sennrich et al.'s BPE merges only inside words and ignores pairs across them. GPT-2 first cuts the text into chunks
# with a regular expression: runs of letters with their leading space, runs of digits, runs of punctuation, and
# whitespace; merges happen only inside a chunk. In the paper's words, BPE is prevented from merging across character
# categories, so the vocabulary does not fill up with variants such as `dog.`, `dog!` and `dog?`. The pattern below is
# the one in GPT-2's [`encoder.py`](https://github.com/openai/gpt-2/blob/master/src/encoder.py) (without its special
# token `<|endoftext|>`); Hugging Face's `ByteLevel` pre-tokenizer uses the same pattern
# ([source](https://github.com/huggingface/tokenizers/blob/main/tokenizers/src/pre_tokenizers/byte_level.rs)), so the
# comparison later is like for like.
#
# Mind Chinese: Chinese characters are Unicode letters (`\p{L}`) and Chinese puts no spaces between words, so a whole
# run of characters between two punctuation marks is **one** chunk, and merges may cross Chinese word boundaries.

# %%
GPT2_SPLIT = regex.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")


def pretokenize(s: str) -> list[str]:
    """Cut text into GPT-2's chunks (letters with their leading space, digits, punctuation, whitespace)."""
    return GPT2_SPLIT.findall(s)


print(pretokenize("BPE merges byte pairs, it's that simple: 2026 年，分词器把文本切成词元。"))

# %% [markdown] lang="zh"
# ## 合并循环
#
# 训练就是 Sennrich 等人论文里的算法：词表从 256 个字节开始；统计所有相邻符号对的出现次数（每个不同的块只存一次，
# 乘上它的出现次数），把最常见的一对合并成新符号，重复到词表达到目标大小。最终词表大小 = 初始 256 + 合并次数。
# 朴素的写法每次合并都要重数全部语料；这里给每个符号对记下"哪些块含有它"，一次合并只改这些块，
# 并用一个堆找出最常见的对（堆里过时的计数在弹出时跳过）。次数相同的对取编号较小的一对，结果每次运行都一样。
#
# 贪心合并有一个好性质：每一步只取决于之前的合并，所以训练到 8,192 个词元时，前 $k$ 次合并就是训练到
# $256+k$ 个词元时的全部合并。训练一次，就能得到后面扫描用的所有较小词表。

# %% [markdown] lang="en"
# ## The merge loop
#
# Training is the algorithm of Sennrich et al.'s paper: the vocabulary starts as the 256 bytes; count every adjacent
# pair of symbols (each distinct chunk is stored once and weighted by its count), merge the most frequent pair into a
# new symbol, and repeat until the vocabulary reaches the target size. The final size is the initial 256 plus the number
# of merges. A naive loop recounts the whole corpus after every merge; here each pair keeps the set of chunks that
# contain it, so a merge only rewrites those chunks, and a heap finds the most frequent pair (outdated counts in the
# heap are skipped when popped). Ties go to the pair with the smaller ids, so every run gives the same merges.
#
# Greedy merging has a handy property: each step depends only on the merges before it, so the first $k$ merges of a
# run to 8,192 tokens are exactly the merges of a run to $256+k$ tokens. One training run gives every smaller
# vocabulary of the sweep below.

# %%
def merge(ids: list[int], pair: tuple[int, int], new_id: int) -> list[int]:
    """Replace each occurrence of `pair` in `ids`, left to right, by `new_id`."""
    out, i = [], 0
    while i < len(ids):
        if i + 1 < len(ids) and ids[i] == pair[0] and ids[i + 1] == pair[1]:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def train_bpe(texts: list[str], vocab_size: int) -> list[tuple[int, int]]:
    """Byte-level BPE. Tokens 0..255 are the bytes; merge i creates token 256 + i from the most frequent pair."""
    chunk_counts = Counter(chunk for t in texts for chunk in pretokenize(t))
    words = [list(chunk.encode("utf-8")) for chunk in chunk_counts]  # each distinct chunk once, as byte ids
    freq = list(chunk_counts.values())
    pair_count, where = Counter(), defaultdict(set)  # pair -> weighted count; pair -> chunks that contain it
    for w, (ids, f) in enumerate(zip(words, freq)):
        for pair in zip(ids, ids[1:]):
            pair_count[pair] += f
            where[pair].add(w)
    heap = [(-n, pair) for pair, n in pair_count.items()]  # most frequent first; ties: smaller pair of ids
    heapq.heapify(heap)
    merges = []
    while heap and len(merges) < vocab_size - 256:
        neg_n, pair = heapq.heappop(heap)
        if pair_count[pair] != -neg_n:
            continue  # an outdated count: this pair's current count is elsewhere in the heap
        new_id = 256 + len(merges)
        merges.append(pair)
        touched = set()
        for w in where.pop(pair):
            ids, f = words[w], freq[w]
            for p in zip(ids, ids[1:]):
                pair_count[p] -= f
                touched.add(p)
            ids = words[w] = merge(ids, pair, new_id)
            for p in zip(ids, ids[1:]):
                pair_count[p] += f
                where[p].add(w)
                touched.add(p)
        del pair_count[pair]
        touched.discard(pair)
        for p in touched:
            if pair_count[p] > 0:
                heapq.heappush(heap, (-pair_count[p], p))
    return merges


VOCAB_MAX = 8192
start = time.perf_counter()
merges = train_bpe(train_texts, VOCAB_MAX)
ours_train_s = time.perf_counter() - start
vocab = {i: bytes([i]) for i in range(256)}
for i, (a, b) in enumerate(merges):
    vocab[256 + i] = vocab[a] + vocab[b]
print(f"{len(merges):,} merges in {ours_train_s:.1f} s -> a vocabulary of {len(vocab):,} tokens")


def show(token: bytes) -> str:
    """A token as text; a token holding only part of a UTF-8 character is shown as its bytes."""
    try:
        return repr(token.decode("utf-8"))
    except UnicodeDecodeError:
        return "<" + token.hex(" ") + ">"


print("first 16 merges:", " ".join(show(vocab[256 + i]) for i in range(16)))
char_counts = Counter("".join(train_texts))
for token in [vocab[256 + i] for i in range(16)]:
    if show(token).startswith("<"):  # part of a character: which characters start with these bytes?
        starts = Counter({c: n for c, n in char_counts.items() if c.encode("utf-8").startswith(token)})
        print(f"  {show(token)} begins {len(starts)} different characters, most often "
              + " ".join(c for c, _ in starts.most_common(10)))
print("longest tokens: ", " ".join(show(t) for t in sorted(vocab.values(), key=len, reverse=True)[:6]))

# %% [markdown] lang="zh"
# 最早的合并里有几个不是完整的字，而是**许多字符共有的前两个字节**（上面打印了这些合并，以及以它们开头的常见字符：
# 中文标点，或码表里相邻的一段汉字）。UTF-8 里码位相邻的字符共用前导字节，这一对字节的次数是所有这些字符的次数之和，所以排在前面。
# 之后还要再合并一次才得到完整的字：一个汉字要成为单个词元，至少要有一次属于它自己的合并，
# 而英文常见词则一步步从字母对长成整词。
#
# 最长的词元是整句短语，例如在手册里反复出现的题目标题：这份语料很小，词表一大，出现几次的长短语就被整个记住了。
# 真实的分词器在大得多的语料上训练；`BpeTrainer` 也提供 `max_token_length` 来限制词元长度
# （[trainers 文档](https://huggingface.co/docs/tokenizers/api/trainers)）。

# %% [markdown] lang="en"
# A few of the earliest merges are not whole characters but **the first two bytes shared by many characters** (printed
# above with the common characters that start with them: Chinese punctuation, or a stretch of neighbouring Chinese
# characters in the code table). In UTF-8, characters with neighbouring code points share their leading bytes, so the
# count of that byte pair is the sum over all of them and it ranks high. One more merge is needed to complete each character: a Chinese character becomes a single token only
# with at least one merge of its own, while common English words grow from letter pairs into whole words.
#
# The longest tokens are whole phrases, such as question titles that recur in the handbook: the corpus is small, and
# with a large vocabulary a long phrase seen a few times is memorised whole. Real tokenizers train on far more text;
# `BpeTrainer` also offers `max_token_length` to cap the length of a token
# ([trainers docs](https://huggingface.co/docs/tokenizers/api/trainers)).

# %% [markdown] lang="zh"
# ## 编码、解码与精确往返
#
# 编码时先预分词，再在每个块内按**学到的顺序**应用合并：反复找出块里最早学到的那一对并合并，直到没有可用的合并，
# 这和 GPT-2 的 `encoder.py` 一样。参数 `vocab_size` 只允许用前 `vocab_size - 256` 次合并，后面的扫描靠它。
# 解码把每个词元的字节拼起来，再按 UTF-8 解码；这里用严格模式，字节序列不合法就报错，所以往返检查是真检查
# （GPT-2 用 `errors='replace'`，因为模型可能生成半个字符）。
#
# 因为 256 个字节都在词表里，**任何**字符串都能编码：训练时没见过的字符只是退回到它的 UTF-8 字节，
# 不需要 `[UNK]`。SentencePiece 对以字符为单位的词表提供同样的保障，选项叫 `byte_fallback`
# （"把未知片段分解成 UTF-8 字节片段"，[SentencePiece 选项](https://github.com/google/sentencepiece/blob/master/doc/options.md)）。
# 作为对照，**字符词表**（训练文本中出现过的每个字符一个编号，外加 `[UNK]`）每个字符恰好 1 个词元，
# 但留出文本里的新字符只能变成 `[UNK]`，原文就找不回来了。

# %% [markdown] lang="en"
# ## Encoding, decoding and the exact round trip
#
# Encoding pre-tokenizes, then applies the merges inside each chunk **in the order they were learned**: repeatedly
# merge the earliest-learned pair present in the chunk until no learned merge applies, as GPT-2's `encoder.py` does.
# The `vocab_size` argument allows only the first `vocab_size - 256` merges, which the sweep below relies on. Decoding
# concatenates each token's bytes and decodes them as UTF-8; strictly here, so that an invalid byte sequence raises and
# the round-trip check is a real one (GPT-2 uses `errors='replace'` because a model may generate half a character).
#
# Because all 256 bytes are in the vocabulary, **any** string can be encoded: a character never seen in training just
# falls back to its UTF-8 bytes, with no `[UNK]`. SentencePiece gives a character-based vocabulary the same guarantee
# with its `byte_fallback` option ("decompose unknown pieces into UTF-8 byte pieces",
# [SentencePiece options](https://github.com/google/sentencepiece/blob/master/doc/options.md)). For contrast, a
# **character vocabulary** (one id per character seen in the training text, plus `[UNK]`) spends exactly 1 token per
# character, but a new character in held-out text can only become `[UNK]`, and the original is lost.

# %%
ranks = {pair: 256 + i for i, pair in enumerate(merges)}
NEVER = 1 << 30  # rank of a pair that was never merged


@lru_cache(maxsize=None)
def encode_chunk(chunk: str, vocab_size: int) -> tuple[int, ...]:
    """Apply the first vocab_size - 256 merges to one chunk, earliest-learned pair first."""
    ids = list(chunk.encode("utf-8"))
    while len(ids) > 1:
        pair = min(zip(ids, ids[1:]), key=lambda p: ranks.get(p, NEVER))
        new_id = ranks.get(pair, NEVER)
        if new_id >= vocab_size:
            break
        ids = merge(ids, pair, new_id)
    return tuple(ids)


def encode(s: str, vocab_size: int = VOCAB_MAX) -> list[int]:
    return [i for chunk in pretokenize(s) for i in encode_chunk(chunk, vocab_size)]


def decode(ids: list[int]) -> str:
    return b"".join(vocab[i] for i in ids).decode("utf-8")  # strict: an invalid byte sequence raises


UNSEEN = "Emoji 🙂, rare 龘 and 𠀀, Greek Ω, Spanish ñ, Japanese アイウ, Korean 한국어."
unseen_chars = sorted({c for c in UNSEEN if not c.isascii()} - seen_chars)
round_trip = {lang: all(decode(encode(block)) == block for block in held[lang]) for lang in LANGS}
round_trip["unseen"] = decode(encode(UNSEEN)) == UNSEEN
print(f"exact round trip: {round_trip}")
print(f"{len(unseen_chars)} characters of the test string never occur in training: {''.join(unseen_chars)}")
print("龘 ->", [show(vocab[i]) for i in encode("龘")], " 𠀀 ->", [show(vocab[i]) for i in encode("𠀀")])

# the character vocabulary: exactly one token per character, [UNK] for anything not seen in training
char_vocab_size = len(seen_chars) + 1
for lang in LANGS:
    h = "".join(held[lang])
    new = sorted(set(h) - seen_chars)
    n_unk = sum(c not in seen_chars for c in h)
    print(f"character vocabulary ({char_vocab_size:,} entries) on held-out {lang}: {len(new)} new characters, "
          f"{n_unk} [UNK] tokens ({n_unk / len(h):.2%}) {''.join(new)}")

# %% [markdown] lang="zh"
# ## 每字符词元数与词表大小
#
# 同一份留出文本，在不同词表大小下各要多少个词元？下面用同一次训练的前若干次合并，扫描 256（只有字节）到 8,192，
# 并标出两个参照：原始字节（每字符的词元数 = 每字符的字节数）和字符词表（每字符 1 个词元，词表大小见上）。
#
# 读图时看三件事：
#
# - **256（只有字节）**：中文每个汉字 3 个词元，英文每个字母 1 个。中文从最差的位置出发。
# - **中等词表**：合并次数先花在最常见的字节对上。英文字母少、常见词反复出现，很快就学会整词；中文正文用到上千个不同的汉字（数目见上），
#   每个字都要有一次属于它自己的合并才能成为一个词元，所以中文曲线要到词表更大时才降到"每字 1 个词元"以下，
#   而同样大小的字符词表早就做到了每字 1 个。
# - **大词表**：常见汉字都成了单个词元，常见的双字词、多字词也成了词元，中文才降到每字 1 个词元以下。
#
# 所以"一个中文句子要花多少词元"不是常数：同一句话，在只有字节的词表里约是字数的 3 倍，在为中文分配了足够词表的分词器里
# 可以少于字数。这正是多语言模型扩大词表的原因：Llama 3 的 128K 词表在 tiktoken 的 10 万个词元之外，另加了 2.8 万个
# 为非英语语言准备的词元，报告说这同时改善了压缩率和下游效果（[Llama 3 技术报告 §3.2, arXiv:2407.21783](https://arxiv.org/abs/2407.21783)）。
# 代价是嵌入矩阵和输出层随词表变大。

# %% [markdown] lang="en"
# ## Tokens per character and vocabulary size
#
# How many tokens does the same held-out text take at different vocabulary sizes? Below, the first merges of the one
# training run give every size from 256 (bytes only) to 8,192, with two references: raw bytes (tokens per character =
# bytes per character) and the character vocabulary (1 token per character, its size printed above).
#
# Three things to read off the plot:
#
# - **256 (bytes only)**: a Chinese character costs 3 tokens, an English letter 1. Chinese starts from the worst place.
# - **Medium vocabularies**: merges go to the most frequent pairs first. English has few letters and its common words
#   recur, so it learns whole words quickly; the Chinese prose uses over a thousand different characters (counted above), and each
#   needs a merge of its own before it is a single token, so the Chinese curve falls below one token per character only at a
#   larger vocabulary, while a character vocabulary of the same size is already at one per character.
# - **Large vocabularies**: the common characters are single tokens and common two- and multi-character words become
#   tokens too; only then does Chinese drop below one token per character.
#
# So "how many tokens a Chinese sentence costs" is not a constant: the same sentence costs about 3 tokens per
# character with a bytes-only vocabulary, and fewer tokens than characters with a tokenizer that gives Chinese enough
# of its vocabulary. That is why multilingual models grow their vocabularies: Llama 3's 128K vocabulary adds 28K tokens
# for non-English languages to 100K tokens from tiktoken, which the report says improved both compression and
# downstream performance ([Llama 3 report, §3.2, arXiv:2407.21783](https://arxiv.org/abs/2407.21783)). The price is a
# larger embedding matrix and output layer.

# %%
SIZES = [256, 512, 1024, 2048, 4096, 8192]


def tokens_per_char(encode_fn, lang: str) -> float:
    """Tokens per character over the held-out blocks of one language."""
    return sum(len(encode_fn(b)) for b in held[lang]) / sum(len(b) for b in held[lang])


ours = {lang: [tokens_per_char(lambda s, v=v: encode(s, v), lang) for v in SIZES] for lang in LANGS}
raw_bytes = {lang: utf8_len("".join(held[lang])) / len("".join(held[lang])) for lang in LANGS}
print("vocabulary size: " + "".join(f"{v:>8,}" for v in SIZES))
for lang in LANGS:
    print(f"{lang} tokens/char:  " + "".join(f"{x:8.3f}" for x in ours[lang])
          + f"   (raw bytes {raw_bytes[lang]:.3f}, character vocabulary 1.000 at {char_vocab_size:,} entries)")

SENTENCE = "按词元计费时，同一句中文的成本取决于分词器的词表。"
for v in (256, 1024, VOCAB_MAX):
    pieces = [show(vocab[i]) for i in encode(SENTENCE, v)]
    print(f"vocabulary {v:>5,}: {len(pieces):2d} tokens for {len(SENTENCE)} characters  " + " ".join(pieces))

# %% [markdown] lang="zh"
# ## 与 Hugging Face `tokenizers` 对比
#
# 用同一份训练文本、同样的词表大小训练 `tokenizers` 的字节级 BPE：`ByteLevel` 预分词器（`add_prefix_space=False`，
# 不在文本开头补空格，和我们的实现一致）负责同样的正则切分，并把每个字节映射成一个可见字符；`BpeTrainer` 的 `vocab_size`
# 包含初始字母表和全部合并（[trainers 文档](https://huggingface.co/docs/tokenizers/api/trainers)），
# `initial_alphabet=ByteLevel.alphabet()` 让 256 个字节全部进入词表（[pre-tokenizers 文档](https://huggingface.co/docs/tokenizers/api/pre-tokenizers)）。
# 两者算法相同，差别来自实现细节，主要是次数相同的字节对谁先合并：早期一次不同的取舍会让后面的合并略有不同。
# 为了比较词表本身，我们把库的词元从它的"字节→可见字符"映射（GPT-2 的 `bytes_to_unicode`）还原成字节。
#
# 速度上，库的核心是 Rust，训练和编码都比我们的纯 Python 快得多；下面打印实测时间。

# %% [markdown] lang="en"
# ## Against Hugging Face `tokenizers`
#
# Train the `tokenizers` byte-level BPE on the same training text with the same vocabulary size: the `ByteLevel`
# pre-tokenizer (`add_prefix_space=False`, no space added at the start, as in our implementation) does the same regex
# split and maps each byte to a visible character; `BpeTrainer`'s `vocab_size` includes the initial alphabet and all
# merges ([trainers docs](https://huggingface.co/docs/tokenizers/api/trainers)), and
# `initial_alphabet=ByteLevel.alphabet()` puts all 256 bytes in the vocabulary
# ([pre-tokenizers docs](https://huggingface.co/docs/tokenizers/api/pre-tokenizers)). The algorithm is the same, so
# differences come from implementation details, above all which of several equally frequent pairs is merged first: one
# different choice early on shifts later merges a little. To compare the vocabularies themselves, we map the library's
# tokens back from its byte-to-visible-character table (GPT-2's `bytes_to_unicode`) to bytes.
#
# On speed, the library's core is Rust, so it trains and encodes far faster than our pure Python; the measured times
# are printed below.

# %%
def train_hf(texts: list[str], vocab_size: int) -> Tokenizer:
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)  # GPT-2's split, then bytes as symbols
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(texts, trainer=trainer)
    return tok


def byte_of_char() -> dict[str, int]:
    """GPT-2's bytes_to_unicode, inverted: the visible character the library uses for each byte -> the byte."""
    keep = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    moved = [b for b in range(256) if b not in keep]
    return {chr(b): b for b in keep} | {chr(256 + n): b for n, b in enumerate(moved)}


hf = {}
for v in SIZES:
    start = time.perf_counter()
    hf[v] = train_hf(train_texts, v)
    hf_train_s = time.perf_counter() - start  # the last one is the 8,192-token run
theirs = {lang: [tokens_per_char(lambda s, t=hf[v]: t.encode(s).ids, lang) for v in SIZES] for lang in LANGS}
gap = {lang: [abs(a - b) / b for a, b in zip(ours[lang], theirs[lang])] for lang in LANGS}
for lang in LANGS:
    print(f"{lang} tokens/char  ours " + "".join(f"{x:7.3f}" for x in ours[lang]))
    print(f"{lang} tokens/char  HF   " + "".join(f"{x:7.3f}" for x in theirs[lang])
          + f"   largest relative gap {max(gap[lang]):.2%}")

to_byte = byte_of_char()
hf_vocab = {bytes(to_byte[c] for c in token) for token in hf[VOCAB_MAX].get_vocab()}
shared = len(hf_vocab & set(vocab.values()))
print(f"vocabularies at {VOCAB_MAX:,}: {shared:,} tokens in common ({shared / VOCAB_MAX:.1%})")
hf_round_trip = all(hf[VOCAB_MAX].decode(hf[VOCAB_MAX].encode(b).ids) == b for lang in LANGS for b in held[lang])
print(f"HF round trip exact on held-out zh and en: {hf_round_trip}")

encode_chunk.cache_clear()  # time our encoder from a cold cache, as on new text
all_held = held["zh"] + held["en"]
start = time.perf_counter()
for b in all_held:
    encode(b)
ours_encode_s = time.perf_counter() - start
start = time.perf_counter()
hf[VOCAB_MAX].encode_batch(all_held)
hf_encode_s = time.perf_counter() - start
n_chars = sum(map(len, all_held))
print(f"training to {VOCAB_MAX:,} tokens: ours {ours_train_s:.2f} s, HF {hf_train_s:.2f} s "
      f"({ours_train_s / hf_train_s:.0f}x)")
print(f"encoding {n_chars:,} held-out characters: ours {ours_encode_s * 1e3:.0f} ms, HF {hf_encode_s * 1e3:.1f} ms "
      f"({ours_encode_s / hf_encode_s:.0f}x)")

# %% [markdown] lang="zh"
# ## 曲线：每字符词元数随词表大小的变化
#
# 实线是我们的实现，叉号是 Hugging Face 的结果，两者几乎重合；横轴是对数刻度。灰色方块是字符词表（每字符 1 个词元，
# 词表大小为训练文本的不同字符数加 `[UNK]`）。

# %% [markdown] lang="en"
# ## The curve: tokens per character against vocabulary size
#
# Solid lines are our implementation, crosses the Hugging Face results; they nearly coincide. The x axis is
# logarithmic. The grey square is the character vocabulary (1 token per character, its size the number of distinct
# training characters plus `[UNK]`).

# %%
fig, ax = plt.subplots()
for lang, color in zip(LANGS, ("C3", "C0")):
    ax.plot(SIZES, ours[lang], "o-", color=color, label=f"{lang}: our BPE")
    ax.plot(SIZES, theirs[lang], "x", color="k", markersize=8)
ax.plot([], [], "x", color="k", label="HF tokenizers (same sizes)")
ax.plot([char_vocab_size], [1.0], "s", color="gray", markersize=8, label="character vocabulary")
ax.axhline(1.0, color="gray", lw=0.8, ls=":")
ax.set_xscale("log", base=2)
ax.set_xticks(SIZES, [f"{v:,}" for v in SIZES])
ax.set_xlabel("vocabulary size (tokens)")
ax.set_ylabel("tokens per character (held-out)")
ax.set_title("Byte-level BPE on the handbook text")
ax.legend()
plt.show()

# %% [markdown] lang="zh"
# ## 检查
#
# 断言：
#
# - 留出的中文、英文文本，以及含训练中从未出现字符的测试串，都能精确往返（`decode(encode(x)) == x`），
#   且测试串里确实有至少 5 个训练中没见过的字符（否则字节回退没有被检验）；
# - 在每个词表大小、两种语言上，我们的每字符词元数与 Hugging Face 的相差不超过 2 %。两者切分和起点都相同，
#   主要只在次数相同的字节对上取舍不同，所以差距应当很小（实测的最大差距见上文）；2 % 足以容纳取舍不同，
#   而实现上的真错误（例如合并顺序错、漏计某些字节对）会造成大得多的差距；
# - 在最大的词表上，BPE 在两种语言上用的词元都比原始字节少。

# %% [markdown] lang="en"
# ## Check
#
# Asserted:
#
# - held-out Chinese and English text, and a test string with characters never seen in training, round-trip exactly
#   (`decode(encode(x)) == x`), and the test string really holds at least 5 characters unseen in training (otherwise
#   the byte fallback would go untested);
# - at every vocabulary size and in both languages, our tokens per character are within 2 % of Hugging Face's. Both
#   start from the same bytes and the same split and differ mainly in how equally frequent pairs are chosen, so the
#   gap should be small (the largest measured gap is printed above); 2 % leaves room for those choices, while a real bug
#   (merges applied in the wrong order, pairs miscounted) makes a much larger gap;
# - at the largest vocabulary, BPE spends fewer tokens than raw bytes in both languages.

# %%
assert all(round_trip.values()), f"round trip failed: {round_trip}"
assert len(unseen_chars) >= 5, f"only {len(unseen_chars)} unseen characters in the test string"
for lang in LANGS:
    assert max(gap[lang]) <= 0.02, f"{lang}: ours vs HF tokens/char differ by {max(gap[lang]):.2%} (> 2 %)"
    assert ours[lang][-1] < raw_bytes[lang], f"{lang}: BPE {ours[lang][-1]:.3f} tokens/char is not below raw bytes {raw_bytes[lang]:.3f}"
print(f"check passed: exact round trip on held-out zh, en and {len(unseen_chars)} unseen characters; "
      f"ours vs HF within {max(max(g) for g in gap.values()):.2%}; at {VOCAB_MAX:,} tokens "
      + ", ".join(f"{lang} {ours[lang][-1]:.3f} vs {raw_bytes[lang]:.3f} tokens/char for raw bytes" for lang in LANGS))
