# %% [markdown] lang="zh"
# # 实验：在本手册上做检索，并引用原文作答
#
# 配套题目：第二部分《检索增强与智能体》第 1 题[讲一讲一个 RAG 系统从文档入库到生成答案的完整流程。](../chapters/rag-and-agents.md#q-rag-pipeline)、
# 第 3 题[稀疏检索、稠密检索和混合检索有什么区别？RRF 是怎么融合的？](../chapters/rag-and-agents.md#q-hybrid-retrieval)、
# 第 6 题[怎么评估一个 RAG 系统？检索和回答分别看什么指标？](../chapters/rag-and-agents.md#q-rag-evaluation)、
# 第 7 题[大模型为什么会产生幻觉？RAG 系统里怎么检测和减少幻觉？](../chapters/rag-and-agents.md#q-rag-hallucination)。
#
# 检索增强生成（RAG）先从知识库里找出相关段落，再让模型依据它们作答并给出出处
# （[Lewis et al., arXiv:2005.11401](https://arxiv.org/abs/2005.11401)；本手册在
# [如何进行大模型的产品化？](../chapters/product-strategy.md#q-productization)里把它列为问答系统的主流架构）。
# 答案好不好，先取决于**检索**有没有把对的段落找出来。
#
# **本实验做什么：** 把本手册各章按题目切成段落（中英文各一份），用手写的读者查询（每种语言四十多条，每条标注了能回答它的题目）
# 比较三种检索：在 jieba 分词（中文）和英文单词上的 BM25（`bm25s` 库）、字符 n-gram 上的潜在语义分析（LSA，一种稠密向量检索），
# 以及用倒数排名融合（RRF）把两者合起来的混合检索；用 recall@k 和 MRR 评估。最后对几条查询给出**抽取式**回答：
# 从检索到的段落里挑出与问题最匹配的句子，原样引用，并注明题号和链接。

# %% [markdown] lang="en"
# # Lab: search this handbook and answer by quoting it
#
# Accompanies, in Part 2: *RAG and agents*, question 1, [Walk me through a RAG system end to end, from ingesting documents to generating an answer.](../chapters/rag-and-agents.md#q-rag-pipeline),
# question 3, [What is the difference between sparse, dense and hybrid retrieval, and how does RRF fuse them?](../chapters/rag-and-agents.md#q-hybrid-retrieval),
# question 6, [How do you evaluate a RAG system? Which metrics for retrieval, which for the answers?](../chapters/rag-and-agents.md#q-rag-evaluation)
# and question 7, [Why do large models hallucinate? How do you detect and reduce hallucination in a RAG system?](../chapters/rag-and-agents.md#q-rag-hallucination).
#
# Retrieval-augmented generation (RAG) first finds relevant passages in a knowledge base, then has the model answer from
# them with citations ([Lewis et al., arXiv:2005.11401](https://arxiv.org/abs/2005.11401); this handbook names it the
# mainstream architecture for question answering in
# [How do you turn a large model into a product?](../chapters/product-strategy.md#q-productization)). Whether the answer
# is any good depends first on whether **retrieval** found the right passages.
#
# **What this lab does:** it cuts the handbook's chapters into one section per question (in Chinese and in English) and,
# with hand-written reader queries (over 40 per language, each labelled with the questions that answer it), compares three
# retrievers: BM25 over jieba-segmented Chinese and plain English words (the `bm25s` library), latent semantic analysis
# (LSA, a dense-vector retriever) over character n-grams, and a hybrid of the two by reciprocal rank fusion (RRF),
# evaluated with recall@k and MRR. Finally it answers a few queries **extractively**: it picks the sentences of the
# retrieved sections that best match the question, quotes them verbatim, and cites the question id and link.

# %%
import logging
import re
import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
import yaml
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

warnings.filterwarnings("ignore", message="pkg_resources is deprecated")  # jieba 0.42 imports pkg_resources; harmless
warnings.filterwarnings("ignore", message="IProgress not found")  # bm25s imports tqdm.auto; we show no progress bars
import bm25s  # noqa: E402
import jieba  # noqa: E402
from bm25s.stopwords import STOPWORDS_CHINESE, STOPWORDS_EN_PLUS  # noqa: E402

from labkit import DATA_DIR, handbook_questions, handbook_text, limit_threads, seed_everything, setup_plots  # noqa: E402

seed_everything(0)
limit_threads(1)  # small matrices on a shared CPU: one thread is fastest, and exactly repeatable
setup_plots()
jieba.setLogLevel(logging.WARNING)  # no "Building prefix dict" messages
LANGS = ("zh", "en")

# %% [markdown] lang="zh"
# ## 语料与查询
#
# 每道题的一节（标题 + 答案，包括勘误和补充，见 `handbook_questions()`）就是一个检索单元：读者要找的正是"哪道题回答了我的问题"，
# 引用时也以题为单位。查询写在 `notebooks/data/rag_queries.yml` 里，是读者会问的说法（口语、同义词、中英混写），
# 不照抄题目标题；每条都标注了**所有**能回答它的题目（同一问题在几章里出现时，几节都算对）。
# 标注只对文件里列出的章节做过，所以只检索这些章节：以后新增的章节如果没有标注，就不会悄悄地被当成"答错"。

# %% [markdown] lang="en"
# ## Corpus and queries
#
# Each question's section (title plus answer, corrections and notes included, from `handbook_questions()`) is one
# retrieval unit: what a reader wants is "which question answers mine", and citations point at questions too. The
# queries live in `notebooks/data/rag_queries.yml`, phrased the way readers ask (colloquial, synonyms, mixed Chinese and
# English), not copied from the question titles; each is labelled with **every** question that answers it (when a
# question is asked in several chapters, all those sections count). The labels were made for the chapters listed in that
# file, so only those chapters are searched: a chapter added later without labels cannot silently count as a wrong answer.

# %%
spec = yaml.safe_load((DATA_DIR / "rag_queries.yml").read_text(encoding="utf-8"))
sections = [q for q in handbook_questions() if q["chapter"] in spec["chapters"]]
ids = [s["id"] for s in sections]
queries = spec["queries"]
unknown = sorted({a for q in queries for a in q["answers"]} - set(ids))
assert not unknown, f"labels name questions that are not in the searched chapters: {unknown}"
docs = {lang: [s[f"title_{lang}"] + "\n" + s[f"answer_{lang}"] for s in sections] for lang in LANGS}
for lang in LANGS:
    lengths = [len(d) for d in docs[lang]]
    print(f"{lang}: {len(sections)} sections from {len(spec['chapters'])} chapters, "
          f"{min(lengths):,}-{max(lengths):,} characters (median {int(np.median(lengths)):,})")
n_answers = [len(q["answers"]) for q in queries]
print(f"{len(queries)} queries per language, {np.mean(n_answers):.1f} answering sections on average (1 to {max(n_answers)})")
print("example:", queries[3]["zh"], "|", queries[3]["en"], "->", queries[3]["answers"])

# %% [markdown] lang="zh"
# ## BM25：中文用 jieba 分词，英文用单词
#
# BM25 给文档中出现的每个查询词打分再相加：词越少见（逆文档频率 IDF 越高）分越高；同一个词出现多次，得分增长逐渐饱和（参数 $k_1$）；
# 长文档按长度打折（参数 $b$）（[Robertson & Zaragoza, 2009](https://doi.org/10.1561/1500000019)）。它只认字面上相同的词，
# 所以中文要先分词：这里用 jieba 的搜索引擎模式（"在精确模式的基础上，对长词再次切分，提高召回率"，[jieba README](https://github.com/fxsjy/jieba)），
# 文档和查询用同一种切法；英文按单词切分并转成小写，不做词干化。两种语言都去掉 `bm25s` 自带的较完整的停用词表
# （`STOPWORDS_CHINESE`、`STOPWORDS_EN_PLUS`），"什么""怎么""what""how"这类疑问词也在其中：它们出现在几乎每条查询里，却说明不了要找什么。
# 打分用 `bm25s`（[Lù, arXiv:2407.03618](https://arxiv.org/abs/2407.03618)）的默认设置：Lucene 的 BM25 变体，$k_1=1.5$，$b=0.75$。

# %% [markdown] lang="en"
# ## BM25 on jieba words (Chinese) and plain words (English)
#
# BM25 scores each query term that occurs in a document and adds the scores up: rarer terms (higher inverse document
# frequency, IDF) count more; repeated occurrences of a term add less and less (parameter $k_1$); long documents are
# discounted by their length (parameter $b$) ([Robertson & Zaragoza, 2009](https://doi.org/10.1561/1500000019)). It only
# matches identical terms, so Chinese must be segmented first: here with jieba's search-engine mode ("on top of the
# precise mode, cut long words again to raise recall", [jieba README](https://github.com/fxsjy/jieba)), the same way for
# documents and queries; English is split into lowercase words, without stemming. Both drop the fuller stopword lists that
# ship with `bm25s` (`STOPWORDS_CHINESE`, `STOPWORDS_EN_PLUS`), which include question words such as 什么, 怎么, "what" and
# "how": they occur in almost every query and say nothing about what is sought. Scoring uses `bm25s`
# ([Lù, arXiv:2407.03618](https://arxiv.org/abs/2407.03618)) with its defaults: the Lucene variant of BM25, $k_1=1.5$,
# $b=0.75$.

# %%
STOPWORDS = {"zh": set(STOPWORDS_CHINESE), "en": set(STOPWORDS_EN_PLUS)}  # the fuller lists: question words go too


def terms(text: str, lang: str) -> list[str]:
    """BM25 terms: jieba search-mode words for Chinese, lowercase words for English; no stopwords, no punctuation."""
    text = text.lower()
    words = jieba.lcut_for_search(text) if lang == "zh" else re.findall(r"\w+", text)
    return [w for w in words if re.search(r"\w", w) and w not in STOPWORDS[lang]]


def ranking(scores: np.ndarray) -> np.ndarray:
    """Section indices from the best score to the worst (ties keep section order)."""
    return np.argsort(-scores, kind="stable")


start = time.perf_counter()
bm25 = {}
for lang in LANGS:
    bm25[lang] = bm25s.BM25()  # defaults: method="lucene", k1=1.5, b=0.75
    bm25[lang].index([terms(d, lang) for d in docs[lang]], show_progress=False)
rank_bm25 = {lang: [ranking(bm25[lang].get_scores(terms(q[lang], lang))) for q in queries] for lang in LANGS}
print(f"BM25: indexed and searched both languages in {time.perf_counter() - start:.1f} s")
for lang in LANGS:
    print(f"{lang} query {queries[3][lang]!r} -> terms {terms(queries[3][lang], lang)}")

# %% [markdown] lang="zh"
# ## 稠密检索：字符 n-gram 上的 LSA
#
# 稠密检索把查询和文档都映射成低维向量，按余弦相似度排序，不要求字面相同。今天常用的是神经网络编码器
# （如 DPR，[Karpukhin et al., arXiv:2004.04906](https://arxiv.org/abs/2004.04906)），但它们的权重要从模型仓库下载，本手册的实验不联网；
# 本手册的环境里也没有装任何自带权重、能离线加载的中文嵌入模型。在几十个段落上从头训练一个编码器，又几乎没有可学的数据。
# 所以这里选经典的**潜在语义分析**（LSA）：先做 TF-IDF 矩阵，再用截断 SVD 降到 128 维
# （scikit-learn 的 `TruncatedSVD` 文档指出，它用在 TF-IDF 矩阵上就是 LSA，[文档](https://scikit-learn.org/stable/modules/generated/sklearn.decomposition.TruncatedSVD.html)）。
#
# 特征用**字符 n-gram** 而不是词：中文取单字和相邻两字，英文取词内 3 到 5 个字母的片段。这样不依赖分词，"显存"和"GPU 显存占用"、
# "standardize"和"standardizing"都有共同的片段，正好补 BM25 的短处。SVD 在本手册全文的各行上拟合（不用查询，128 维事先定好，没有在查询上调），
# 共现的片段被压到相近的方向上。要说清楚：LSA 不是神经网络，语义能力远不如现代嵌入模型；它在这里代表"稠密向量 + 余弦相似度"这一类方法。

# %% [markdown] lang="en"
# ## Dense retrieval: LSA over character n-grams
#
# Dense retrieval maps queries and documents to low-dimensional vectors and ranks by cosine similarity, with no need for
# identical words. Today that usually means a neural encoder (for example DPR,
# [Karpukhin et al., arXiv:2004.04906](https://arxiv.org/abs/2004.04906)), but its weights come from a model hub, and this
# handbook's labs stay offline; no Chinese embedding model that ships its weights and loads offline is installed in this
# handbook's environment either. Training an encoder from scratch on a few dozen sections would leave it next to nothing
# to learn from. So this lab
# uses classic **latent semantic analysis** (LSA): a TF-IDF matrix reduced to 128 dimensions by truncated SVD (scikit-learn's
# `TruncatedSVD` documentation notes that on TF-IDF matrices it is known as LSA,
# [docs](https://scikit-learn.org/stable/modules/generated/sklearn.decomposition.TruncatedSVD.html)).
#
# The features are **character n-grams**, not words: single characters and adjacent pairs for Chinese, 3- to 5-letter
# pieces inside words for English. They need no segmentation, and "显存" and "GPU 显存占用", or "standardize" and
# "standardizing", share pieces, which covers a weakness of BM25. The SVD is fitted on the lines of the whole handbook
# text (no queries; the 128 dimensions were fixed beforehand, not tuned on the queries), so pieces that occur together end
# up in nearby directions. To be clear: LSA is not a neural network and understands far less than a modern embedding
# model; here it stands for the family "dense vectors plus cosine similarity".

# %%
NGRAMS = {"zh": dict(analyzer="char", ngram_range=(1, 2)), "en": dict(analyzer="char_wb", ngram_range=(3, 5))}
start = time.perf_counter()
rank_lsa, lsa, doc_vecs = {}, {}, {}
for lang in LANGS:
    lines = [line for line in handbook_text(lang).splitlines() if len(line) >= 20]  # skip headings and fragments
    tfidf = TfidfVectorizer(sublinear_tf=True, min_df=2, **NGRAMS[lang]).fit(lines)
    svd = TruncatedSVD(n_components=128, random_state=0).fit(tfidf.transform(lines))
    embed = lambda texts, tfidf=tfidf, svd=svd: normalize(svd.transform(tfidf.transform(texts)))  # noqa: E731
    lsa[lang], doc_vecs[lang] = embed, embed(docs[lang])
    rank_lsa[lang] = [ranking(doc_vecs[lang] @ v) for v in embed([q[lang] for q in queries])]  # unit vectors: dot = cosine
    print(f"{lang}: fitted on {len(lines)} lines, {len(tfidf.vocabulary_):,} n-grams -> 128 dimensions "
          f"({svd.explained_variance_ratio_.sum():.0%} of the variance)")
print(f"LSA: both languages in {time.perf_counter() - start:.1f} s")

# %% [markdown] lang="zh"
# ## 混合检索：倒数排名融合
#
# BM25 的分数和余弦相似度不在同一个尺度上，直接相加要先想办法归一化。倒数排名融合（RRF）只看名次：文档 $d$ 的融合得分是
# $\sum_r 1/(k + r(d))$，$r(d)$ 是它在第 $r$ 个检索器里的名次，$k=60$ 是原论文固定下来的常数
# （[Cormack, Clarke & Büttcher, SIGIR 2009](https://doi.org/10.1145/1571941.1572114)）。两个检索器都排得靠前的文档得分最高；
# 一个检索器完全漏掉的文档，只要另一个排得靠前，也不会沉底。

# %% [markdown] lang="en"
# ## Hybrid retrieval: reciprocal rank fusion
#
# BM25 scores and cosine similarities are on different scales, and adding them needs some normalisation first.
# Reciprocal rank fusion (RRF) looks only at ranks: document $d$ gets $\sum_r 1/(k + r(d))$, where $r(d)$ is its rank in
# retriever $r$ and $k=60$ is the constant fixed in the original paper
# ([Cormack, Clarke & Büttcher, SIGIR 2009](https://doi.org/10.1145/1571941.1572114)). Documents that both retrievers
# rank high score highest; a document that one retriever misses entirely does not sink as long as the other ranks it high.

# %%
def rrf(*rankings: np.ndarray, k: int = 60) -> np.ndarray:
    """Reciprocal rank fusion of full rankings (arrays of section indices, best first)."""
    fused = np.zeros(len(rankings[0]))
    for order in rankings:
        fused[order] += 1.0 / (k + np.arange(1, len(order) + 1))  # rank 1 for the first section
    return ranking(fused)


rank_hybrid = {lang: [rrf(b, d) for b, d in zip(rank_bm25[lang], rank_lsa[lang])] for lang in LANGS}
RETRIEVERS = {"BM25": rank_bm25, "LSA": rank_lsa, "hybrid (RRF)": rank_hybrid}

# %% [markdown] lang="zh"
# ## 评估：recall@k 与 MRR
#
# 对每条查询，找出第一个"能回答它"的段落排在第几名（$\text{rank}$）。**recall@k** 是这个名次不超过 $k$ 的查询所占比例，
# 也就是"读者在前 $k$ 条结果里能找到答案"的比例（本手册站内搜索的测试用同一个定义，$k=3$）；**MRR**（平均倒数排名）是
# $1/\text{rank}$ 的平均值，第一名得 1，第二名得 0.5。
#
# 四十多条查询不算多：$N$ 条查询里，一条查询就让 recall@k 变化 $1/N$，这里是两三个百分点。所以下面还用**配对自助法**估计差值的波动：
# 对查询有放回地重抽 2,000 次，每次计算"混合减单个检索器"的差值，取它的标准误。小于两倍标准误的差距，这份数据分辨不出来。

# %% [markdown] lang="en"
# ## Evaluation: recall@k and MRR
#
# For each query, find the rank of the first section that answers it. **recall@k** is the share of queries whose rank
# is at most $k$, i.e. the share of readers who find an answer among the first $k$ results (the handbook's site-search
# tests use the same definition, with $k=3$); **MRR** (mean reciprocal rank) is the mean of $1/\text{rank}$: 1 for the
# first place, 0.5 for the second.
#
# Forty-odd queries are not many: with $N$ queries, one query moves recall@k by $1/N$, two or three percentage points here. So a **paired bootstrap** estimates
# how much the differences wobble: resample the queries with replacement 2,000 times, compute "hybrid minus single
# retriever" each time, and take its standard error. Differences smaller than two standard errors are more than this
# data can tell apart.

# %%
K = 3


def first_hit(order: np.ndarray, answers: list[str]) -> int:
    """1-based rank of the first section that answers the query."""
    return next(i for i, d in enumerate(order, 1) if ids[d] in answers)


hit_rank = {lang: {name: np.array([first_hit(o, q["answers"]) for o, q in zip(ranks[lang], queries)])
                   for name, ranks in RETRIEVERS.items()} for lang in LANGS}
recall = {lang: {name: (r <= K).mean() for name, r in hit_rank[lang].items()} for lang in LANGS}
mrr = {lang: {name: (1 / r).mean() for name, r in hit_rank[lang].items()} for lang in LANGS}

rng = np.random.default_rng(0)
resamples = rng.integers(0, len(queries), size=(2000, len(queries)))  # the same resamples for every comparison


def bootstrap_se(per_query_diff: np.ndarray) -> float:
    return per_query_diff[resamples].mean(axis=1).std()


margin = {}
print(f"{'':4}{'retriever':14}{'recall@1':>9}{'recall@3':>9}{'recall@5':>9}{'MRR':>7}")
for lang in LANGS:
    for name, r in hit_rank[lang].items():
        print(f"{lang:4}{name:14}{(r <= 1).mean():9.3f}{(r <= 3).mean():9.3f}{(r <= 5).mean():9.3f}{(1 / r).mean():7.3f}")
    hybrid = hit_rank[lang]["hybrid (RRF)"]
    for name in ("BM25", "LSA"):
        single = hit_rank[lang][name]
        se_recall = bootstrap_se((hybrid <= K).astype(float) - (single <= K))
        se_mrr = bootstrap_se(1 / hybrid - 1 / single)
        margin[lang, name] = (2 * se_recall, 2 * se_mrr)
        print(f"    hybrid - {name}: recall@{K} {recall[lang]['hybrid (RRF)'] - recall[lang][name]:+.3f} "
              f"(2 SE {2 * se_recall:.3f}), MRR {mrr[lang]['hybrid (RRF)'] - mrr[lang][name]:+.3f} (2 SE {2 * se_mrr:.3f})")

# %% [markdown] lang="zh"
# 几个值得看的地方：
#
# - 三种检索在两种语言上都在大多数查询的前 3 名里找到了答案；它们之间的差距通常只有一两条查询，
#   自助法的标准误说明这份数据分不出谁更好，不能把几个百分点的差别当成结论。
# - 两个单独的检索器**错在不同的地方**（下面列出两者名次相差最大的查询）。查询和正文用词不同时，BM25 会失手，
#   例如英文查询说模型 "make things up"，正文写的是 "hallucination"；LSA 把一切压到 128 个方向上，
#   反而会模糊 BM25 能精确匹配的具体词语。
# - 融合后，一个检索器的严重失误会被另一个拉回来，这正是 RRF 的价值：不必事先知道哪个检索器更适合某条查询。
#   代价是：一个对、一个错时，融合名次落在两者之间，所以混合检索很少在单条查询上胜过较好的那个，第一名的命中率（recall@1）也可能更低。
# - 也有三者都失手的查询：口语说法和正文用词完全不同，只靠字面和共现都连不上。这类查询要靠真正的语义嵌入模型、
#   同义词表或查询改写来解决。

# %% [markdown] lang="en"
# Things worth noticing:
#
# - All three retrievers find an answer in the top 3 for most queries in both languages; the gaps between them are
#   usually one or two queries, and the bootstrap standard errors say that this data cannot rank them: a few
#   percentage points are not a finding.
# - The two single retrievers **fail on different queries** (the queries where their ranks differ most are listed
#   below). BM25 misses when the query's words differ from the text's, for example an English query about the model
#   that "makes things up" where the text says "hallucination"; LSA squeezes everything into 128 directions and blurs
#   specific words that BM25 matches exactly.
# - After fusion, a bad miss by one retriever is pulled back by the other, which is what RRF is for: you need not know in
#   advance which retriever suits a query. The price: where one is right and the other wrong, the fused rank lands in
#   between, so the hybrid seldom beats the better retriever on a single query, and its recall@1 can be lower.
# - Some queries defeat all three: the colloquial wording and the text share neither words nor co-occurring pieces.
#   Those need a real semantic embedding model, a synonym list or query rewriting.

# %%
for lang in LANGS:
    b, d, h = (hit_rank[lang][name] for name in RETRIEVERS)
    worst = np.argsort(-np.abs(np.log(b) - np.log(d)), kind="stable")[:4]  # largest disagreement, on a log scale
    print(f"{lang}: rank of the first answer by BM25, LSA, hybrid")
    for i in worst:
        print(f"    {b[i]:3d} {d[i]:3d} {h[i]:3d}   {queries[i][lang]}")
    print(f"    queries that no retriever ranks in the top {K}: {int(((b > K) & (d > K) & (h > K)).sum())}")

# %% [markdown] lang="zh"
# 下图把 $k$ 从 1 放到 10：读者多看几条结果，能找到答案的查询占多少。

# %% [markdown] lang="en"
# The plot lets $k$ run from 1 to 10: how many queries a reader answers by reading a few more results.

# %%
fig, axes = plt.subplots(1, 2, sharey=True)
ks = np.arange(1, 11)
for ax, lang in zip(axes, LANGS):
    for (name, r), style in zip(hit_rank[lang].items(), ("o-", "s--", "^-")):
        ax.plot(ks, [(r <= k).mean() for k in ks], style, label=name, markersize=4)
    ax.set_title(f"{lang} queries")
    ax.set_xlabel("k (results read)")
    ax.set_xticks(ks)
axes[0].set_ylabel("recall@k")
axes[1].legend(loc="lower right")
fig.suptitle("Retrieval over the handbook's question sections")
fig.tight_layout()
plt.show()

# %% [markdown] lang="zh"
# ## 抽取式回答：只引用原文
#
# 有了检索结果，就可以回答了。这里**不用生成模型**：在这台离线的 CPU 上没有可用的大模型权重，而几秒钟能训练出的小模型
# （见[实现一个 GPT 模型](../chapters/llm-fundamentals.md#q-implement-gpt)）只会写出通顺但不可靠的句子，没有办法核对。
# 抽取式回答只从检索到的段落里**原样摘句**，每句都带出处，读者可以点开核对；"答案里的每一句都能在所引段落里逐字找到"也能自动检查。
# 这也是生成式 RAG 该守的底线：答案必须能追溯到检索到的原文。
#
# 做法：取混合检索的前两个段落，把每段切成整句，用 BM25 在这些句子里找与查询最匹配的一句。有些句子不摘：
# 勘误里"原文："开头的行（那是文章的**错误**说法）、"依据："等出处行，以及语料去掉公式、压平表格后留下缺口的句子。
# 链接是题目在站内的地址（相对站点根目录）；所引段落不在这条查询的标注答案里时，后面会注明。

# %% [markdown] lang="en"
# ## Extractive answers: quote the text, nothing else
#
# With retrieval in place we can answer. **No generative model** here: this offline CPU has no large-model weights, and the
# small model we could train in seconds (see [Implement a GPT model](../chapters/llm-fundamentals.md#q-implement-gpt))
# writes fluent but unreliable sentences that nobody can check. An extractive answer only **quotes sentences verbatim**
# from the retrieved sections, each with its source, which a reader can open and verify; and "every sentence of the
# answer occurs word for word in the cited section" can be checked automatically. That is also the line a generative
# RAG system must hold: every answer traceable to the retrieved text.
#
# How: take the hybrid's top two sections, split each into whole sentences, and let BM25 pick the sentence that best
# matches the query. Some sentences are never quoted: the lines of a correction that start with "The article said:" (the
# article's **wrong** claim), reference lines such as "Reference:", and sentences with a gap where the corpus dropped a
# formula or flattened a table. Links are the question's address on the site (relative to the site root); a cited
# section that is not among the query's labelled answers is marked.

# %%
SKIP = re.compile(r"^(原文：|依据：|题目：|同一问题在其他章节：|The article said:|Reference:|Question:|Same question elsewhere:)")
LABEL = re.compile(r"^(答案：|更正：|Answer:|What is right:)\s*")  # a label before the sentence is not quoted
SENTENCE = {"zh": re.compile(r"[^。！？]+[。！？]"), "en": re.compile(r"[A-Z][^.!?]*?(?:\([^)]*\)[^.!?]*?)*[.!?](?=\s|$)")}
# The corpus drops formulas and flattens tables, which leaves gaps: "约为 （ 为", "about ( bytes", cells run together.
GAP = {"zh": re.compile(r"[\u4e00-\u9fff（），：] [\u4e00-\u9fff（），：]"), "en": re.compile(r"\( | [,.;:)]|\b(?:is|and|of|are) [,.;:]")}
section_of = {s["id"]: s for s in sections}


def sentences(text: str, lang: str) -> list[str]:
    """Whole sentences of a section that may be quoted, verbatim: none from the article's claims or the references,
    none with a gap left by a dropped formula or a flattened table."""
    out = []
    for line in text.splitlines():
        if not SKIP.match(line):
            out += [m.group() for m in SENTENCE[lang].finditer(LABEL.sub("", line)) if not GAP[lang].search(m.group())]
    return [s for s in out if len(s) >= (12 if lang == "zh" else 40)]


def best_sentence(query: str, qid: str, lang: str) -> str:
    candidates = sentences(section_of[qid][f"answer_{lang}"], lang)
    index = bm25s.BM25()
    index.index([terms(s, lang) for s in candidates], show_progress=False)
    return candidates[int(np.argmax(index.get_scores(terms(query, lang))))]


def answer(query: str, lang: str, n_sections: int = 2) -> list[tuple[str, str]]:
    """(quoted sentence, question id) from each of the hybrid's top sections."""
    order = rrf(ranking(bm25[lang].get_scores(terms(query, lang))),
                ranking(doc_vecs[lang] @ lsa[lang]([query])[0]))
    return [(best_sentence(query, ids[d], lang), ids[d]) for d in order[:n_sections]]


def url(qid: str, lang: str) -> str:
    """The question's address relative to the site root (the English site lives under en/)."""
    return ("en/" if lang == "en" else "") + f"chapters/{section_of[qid]['chapter']}/#{qid}"


EXAMPLES = [q for q in queries if q["en"].startswith(("what does the KV cache", "does federated learning", "how do large-model"))]
quotes = []
for lang in LANGS:
    for q in EXAMPLES:
        print(f"Q ({lang}): {q[lang]}")
        for sentence, qid in answer(q[lang], lang):
            quotes.append((sentence, qid, lang))
            print(f"  > {sentence}\n    [{qid}] {url(qid, lang)}" + ("" if qid in q["answers"] else "   (not a labelled answer)"))
        print()

# %% [markdown] lang="zh"
# 引用都来自检索到的段落，但检索错了，引用也就跟着错了（上面注明"not a labelled answer"的就是这种情况）：
# 摘句只能保证"忠实于所引段落"，不能保证"回答了问题"。
# 所以评估 RAG 要分两步：检索有没有找对（上面的 recall@k、MRR），回答是否忠实于检索到的内容（这里由构造保证，并在下面检查）。

# %% [markdown] lang="en"
# The quotes all come from the retrieved sections, but when retrieval is wrong, so is the quote (the citations marked
# "not a labelled answer" above are such cases): extraction guarantees
# faithfulness to the cited section, not that the question was answered. Evaluating RAG therefore has two steps: did
# retrieval find the right sections (recall@k and MRR above), and is the answer faithful to what was retrieved (here by
# construction, and checked below).

# %% [markdown] lang="zh"
# ## 检查
#
# 断言：
#
# - 在两种语言上，混合检索的 recall@3 和 MRR 都不低于两个单独检索器中较差的那个，也不比较好的那个低出两倍自助标准误以上
#   （见上面的表：这是这些查询能分辨的最小差距）；融合如果做错了（例如名次用反），会同时输给两个检索器；
# - 每种语言、每个检索器的 recall@3 都明显好于随机排序（随机排序的期望值见打印）；
# - 每一句引用都能在它所引的段落里逐字找到。

# %% [markdown] lang="en"
# ## Check
#
# Asserted:
#
# - in both languages, the hybrid's recall@3 and MRR are no lower than the weaker single retriever's, and no more than two
#   bootstrap standard errors below the stronger one's (the table above: the smallest difference these queries can
#   resolve); a broken fusion (ranks used the wrong way round, say) would lose to both;
# - every retriever's recall@3 in each language is far above a random ranking (its expected value is printed);
# - every quoted sentence occurs verbatim in the section it cites.

# %%
for lang in LANGS:
    for metric, values in (("recall@3", recall[lang]), ("MRR", mrr[lang])):
        h, b, d = values["hybrid (RRF)"], values["BM25"], values["LSA"]
        assert h >= min(b, d), f"{lang}: hybrid {metric} {h:.3f} is below both BM25 {b:.3f} and LSA {d:.3f}"
        for name in ("BM25", "LSA"):
            m = margin[lang, name][0 if metric == "recall@3" else 1]
            assert h >= values[name] - m, f"{lang}: hybrid {metric} {h:.3f} < {name} {values[name]:.3f} - {m:.3f}"
# random ranking: P(first answer in the top K) = 1 - C(n - a, K) / C(n, K) for a query with a answering sections
n = len(ids)
random_recall = np.mean([1 - np.prod([(n - len(q["answers"]) - j) / (n - j) for j in range(K)]) for q in queries])
for lang in LANGS:
    for name, value in recall[lang].items():
        assert value >= 3 * random_recall, f"{lang} {name}: recall@{K} {value:.3f} is not far above random {random_recall:.3f}"
for sentence, qid, lang in quotes:
    assert sentence in section_of[qid][f"answer_{lang}"], f"not verbatim in {qid} ({lang}): {sentence!r}"
print(f"check passed: hybrid recall@{K} " + ", ".join(f"{lang} {recall[lang]['hybrid (RRF)']:.3f}" for lang in LANGS)
      + ", MRR " + ", ".join(f"{lang} {mrr[lang]['hybrid (RRF)']:.3f}" for lang in LANGS)
      + f" (within the bootstrap margin of the best single retriever, above the weaker); random recall@{K} {random_recall:.3f}; "
      f"{len(quotes)} quotes verbatim in their cited sections")
