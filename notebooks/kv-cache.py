# %% [markdown] lang="zh"
# # 实验：KV 缓存
#
# 配套题目：第二部分《大模型内部原理》第 4 题[MHA、MQA 和 GQA 有什么区别？KV 缓存能省多少？](../chapters/llm-internals.md#q-mha-mqa-gqa)；
# 《推理与服务》第 1 题[预填充和解码有什么区别？为什么说解码受显存带宽限制？](../chapters/inference-and-serving.md#q-prefill-vs-decode)、
# 第 2 题[KV 缓存是什么？它占多少显存，怎么算？](../chapters/inference-and-serving.md#q-kv-cache)。
#
# 自回归解码每步只新增一个词元，但注意力要用到前面**所有**位置的键（K）和值（V）。不缓存，就得每步把整段前文重新算一遍；
# KV 缓存把每层算过的 K、V 存下来，新的一步只算新词元自己的那一份。
#
# **本实验做什么：** 用 `labkit` 里的小型字符级 GPT（与[从零实现 GPT](gpt-from-scratch.ipynb) 同一个模型）：
#
# 1. 证明有缓存和无缓存的贪心解码给出**完全相同的词元**，logits 只在浮点最后几位上有差别，并解释原因；
# 2. 测量每生成一个词元的耗时随序列长度的变化，说明总计算量为什么从 $O(T^2)$ 降到 $O(T)$（就矩阵乘法而言），以及解码为什么受限于访存；
# 3. 用真实张量核对 KV 缓存的显存公式，比较 MHA、GQA、MQA 的缓存大小；
# 4. 按 Llama 3.1 8B 公开的 `config.json` 算出它每个词元、以及 128k 上下文下的缓存大小。

# %% [markdown] lang="en"
# # Lab: the KV cache
#
# Accompanies, in Part 2: *How LLMs work inside*, question 4, [What is the difference between MHA, MQA and GQA? How much KV cache do they save?](../chapters/llm-internals.md#q-mha-mqa-gqa);
# *Inference and serving*, question 1, [What is the difference between prefill and decode, and why is decode memory-bandwidth bound?](../chapters/inference-and-serving.md#q-prefill-vs-decode)
# and question 2, [What is the KV cache, how much memory does it take, and how do you compute it?](../chapters/inference-and-serving.md#q-kv-cache).
#
# Autoregressive decoding adds one token per step, but attention needs the keys (K) and values (V) of **all** earlier
# positions. Without a cache, every step recomputes the whole prefix; the KV cache stores each layer's K and V once
# computed, so a new step computes only the new token's share.
#
# **What this lab does:** with the small character-level GPT from `labkit` (the same model as in
# [GPT from scratch](gpt-from-scratch.ipynb)), it
#
# 1. shows that greedy decoding with and without the cache gives **identical tokens**, with logits that differ only in
#    the last bits of the floats, and explains why;
# 2. measures the time per generated token against sequence length, and explains why the total work drops from
#    $O(T^2)$ to $O(T)$ (for the matrix multiplications) and why decoding is memory-bound;
# 3. checks the KV-cache memory formula against the real tensors, comparing MHA, GQA and MQA;
# 4. works out the cache of Llama 3.1 8B, per token and for a 128k context, from its published `config.json`.

# %%
import time

import matplotlib.pyplot as plt
import torch

from labkit import GPT, generate, handbook_gpt, seed_everything, setup_plots, time_call

seed_everything(0, threads=1)  # one thread: fastest for a tiny model on a shared CPU, and repeatable timings
setup_plots()

# %% [markdown] lang="zh"
# ## 一个训练好的小 GPT
#
# `handbook_gpt()` 按[从零实现 GPT](gpt-from-scratch.ipynb) 的做法，在本手册的中文文本上训练一个约 0.47 M 参数的字符级 GPT
# （2 层、4 个头、`d_model`=96）。这里把位置表加长到 128（每步 4 个 128 字的窗口，每步的字数与那个实验相同），
# 好让生成的序列长一些；训练步数减半到 150，省下时间。模型质量不是本实验的重点：只要留出损失明显低于一元字频基线
# （约 5.99 奈特/字），说明它确实学到了东西即可。

# %% [markdown] lang="en"
# ## A trained small GPT
#
# `handbook_gpt()` trains a character-level GPT of about 0.47 M parameters (2 layers, 4 heads, `d_model`=96) on this
# handbook's Chinese text, following [GPT from scratch](gpt-from-scratch.ipynb). Here the position table is
# longer, 128 positions (4 windows of 128 characters per step, as many characters per step as in that lab), so that the
# generated sequences can be longer; training is halved to 150 steps to save time. The model's quality is not the point
# of this lab: it only has to have learned something, i.e. a held-out loss well below the unigram character-frequency
# baseline (about 5.99 nats per character).

# %%
BLOCK = 128
model, tok, history = handbook_gpt(steps=150, block_size=BLOCK, batch_size=4)
n_params = sum(p.numel() for p in model.parameters())
print(f"{n_params:,} parameters, trained in {history['seconds']:.1f} s; "
      f"held-out loss {history['held_loss'][-1][1]:.3f} nats/char")

# %% [markdown] lang="zh"
# ## 缓存里存的是什么
#
# 先把整段提示一次性送进模型（预填充，prefill），得到每层的 `(k, v)`，形状是
# `(批大小, KV 头数, 已缓存的位置数, 每头维度)`。之后每一步只把**新词元**和缓存送进去：模型按缓存长度给新词元编位置号，
# 新词元的查询和缓存里全部的键做注意力，再把自己的 `k`、`v` 接到缓存末尾。下面走一步，并和"把 5 个字一次性重算"的结果对比；
# 再故意弄丢缓存里的第一个位置（一个常见的"差一"错误），看看出错时差别有多大。

# %% [markdown] lang="en"
# ## What the cache holds
#
# First the whole prompt goes through the model in one pass (prefill), which yields each layer's `(k, v)`, shaped
# `(batch, KV heads, cached positions, head dim)`. After that each step feeds only the **new token** plus the cache: the
# model numbers the new token's position from the cache length, the new token's query attends to every cached key, and
# its own `k` and `v` are appended to the cache. Below we take one step and compare it with recomputing all 5
# characters in one pass; then we deliberately lose the first cached position (a common off-by-one bug) to see how large
# the difference is when something is wrong.

# %%
prompt = tok.encode("大模型的")[None]  # (1, 4): a batch of one prompt
with torch.no_grad():
    logits, cache = model(prompt, use_cache=True)  # prefill
    print(f"after prefill: {len(cache)} layers, k and v each {tuple(cache[0][0].shape)}")
    nxt = logits[:, -1].argmax(dim=-1, keepdim=True)  # greedy choice of the 5th character
    step_logits, new_cache = model(nxt, cache, use_cache=True)  # one decoding step: one token in
    print(f"after one step: k and v each {tuple(new_cache[0][0].shape)}; the step's logits {tuple(step_logits.shape)}")
    full = model(torch.cat([prompt, nxt], dim=1))  # no cache: all 5 positions again
    off_by_one = [(k[:, :, 1:], v[:, :, 1:]) for k, v in cache]  # a bookkeeping bug: the first cached position lost
    bug_logits, _ = model(nxt, off_by_one, use_cache=True)
print(f"next character: {tok.decode(nxt[0])!r}; max |logit difference| from a full recompute: "
      f"{(step_logits[:, -1] - full[:, -1]).abs().max().item():.1e} with the cache, "
      f"{(bug_logits[:, -1] - full[:, -1]).abs().max().item():.1e} with an off-by-one cache")

# %% [markdown] lang="zh"
# ## 有缓存与无缓存：同样的词元
#
# 用贪心解码把提示续写到 128 个字，一次带缓存、一次不带（`generate(..., use_cache=False)` 每步重算全部前文），
# 并记下每一步挑选词元所依据的 logits。判据有两条：
#
# - **词元必须完全相同。** 两条路径在数学上是同一个函数，差别只有浮点舍入（下一节解释）；
# - **logits 的差不超过 `TOL` = 1e-4。** float32 的相对精度约为 $2^{-24}\approx 6\times10^{-8}$，这里的 logits 绝对值在 10 以内，
#   经过两层网络累积，舍入差应在 $10^{-6}$ 量级；1e-4 留出约 100 倍余量，又远小于真正的错误造成的差别——上一节那个"差一"的缓存，
#   logits 的差要大好几个数量级。
#
# 贪心解码取最大的 logit。只有当最大和第二大的 logit 之差小于舍入误差时，两条路径才可能选出不同的词元。
# 所以我们同时打印所有步骤中"第一名减第二名"的最小差距：只要它比 logits 的最大差大几个数量级，argmax 就不可能翻转。
# （这么小的模型做贪心解码，很快就会陷入重复；这里只关心两条路径是否一致。）

# %% [markdown] lang="en"
# ## Same tokens with and without the cache
#
# We extend the prompt to 128 characters with greedy decoding, once with the cache and once without
# (`generate(..., use_cache=False)` recomputes the whole prefix at every step), keeping the logits each token was chosen
# from. Two criteria:
#
# - **The tokens must be identical.** Both paths compute the same mathematical function and differ only in floating-point
#   rounding (explained in the next section);
# - **the logits may differ by at most `TOL` = 1e-4.** float32 has a relative precision of about
#   $2^{-24}\approx 6\times10^{-8}$; the logits here are at most about 10 in size and pass through two layers, so rounding differences
#   should be of order $10^{-6}$. 1e-4 leaves about 100 times that as margin and is still far below what a real bug
#   does: the off-by-one cache of the previous section moves the logits by several orders of magnitude more.
#
# Greedy decoding takes the largest logit. The two paths can pick different tokens only when the largest and the
# second-largest logit are closer than the rounding error. So we also print the smallest "first minus second" gap over
# all steps: when it is orders of magnitude larger than the largest logit difference, the argmax cannot flip.
# (Greedy decoding with a model this small soon falls into repetition; all that matters here is whether the two paths agree.)

# %%
TOL = 1e-4
N_NEW = BLOCK - prompt.size(1)  # fill the whole position table
t0 = time.perf_counter()
ids_cached, logits_cached = generate(model, prompt, N_NEW, temperature=0, use_cache=True, return_logits=True)
t_cached = time.perf_counter() - t0
t0 = time.perf_counter()
ids_plain, logits_plain = generate(model, prompt, N_NEW, temperature=0, use_cache=False, return_logits=True)
t_plain = time.perf_counter() - t0

same_tokens = torch.equal(ids_cached, ids_plain)
max_diff = (logits_cached - logits_plain).abs().max().item()
top2 = logits_cached.topk(2, dim=-1).values
min_margin = (top2[..., 0] - top2[..., 1]).min().item()
print(tok.decode(ids_cached[0]).replace("\n", "⏎"))
print(f"{N_NEW} greedy tokens: identical = {same_tokens}; max |logit difference| = {max_diff:.1e} (tolerance {TOL:.0e}); "
      f"smallest top-1 minus top-2 logit gap = {min_margin:.1e}; largest |logit| = {logits_cached.abs().max().item():.1f}")
print(f"wall time: {t_cached:.2f} s with the cache, {t_plain:.2f} s without")

# %% [markdown] lang="zh"
# ## 为什么最后几位会不同
#
# 浮点加法不满足结合律：先加哪两个数，会影响最后一位。有缓存时，每个线性层乘的是**一行**（新词元）；无缓存时乘的是
# **整段前文组成的矩阵**，再取最后一行。数学上这一行的结果相同，但矩阵乘法库会按矩阵形状选择不同的分块和累加顺序，
# 于是同一行在批量计算和单独计算时，最后几位可能不同。PyTorch 文档明确说明：批量计算与逐个计算、或对切片计算，
# 不保证逐位相同（[Numerical accuracy: Batched computations or slice computations](https://docs.pytorch.org/docs/stable/notes/numerical_accuracy.html#batched-computations-or-slice-computations)）。
# 下面用一个线性层和两种加法顺序直接看这个现象。
#
# 这不是缓存的错误，也无法通过"修好缓存"消除；正确的检查方式就是带容差比较 logits、逐个比较词元。
# 采样时同理：两条路径的概率只差最后几位，用同一个随机数种子几乎总能抽到同样的词元，但无法保证每次都完全一致。

# %% [markdown] lang="en"
# ## Why the last bits differ
#
# Floating-point addition is not associative: which two numbers are added first can change the last bit. With the cache,
# each linear layer multiplies **one row** (the new token); without it, it multiplies **the matrix of the whole prefix**
# and we keep the last row. Mathematically that row is the same, but matrix-multiplication libraries choose their
# blocking and summation order by matrix shape, so the same row computed in a batch and on its own can differ in the
# last bits. PyTorch's documentation says so explicitly: batched computation and per-element or sliced computation are
# not guaranteed to be bitwise identical
# ([Numerical accuracy: Batched computations or slice computations](https://docs.pytorch.org/docs/stable/notes/numerical_accuracy.html#batched-computations-or-slice-computations)).
# Below, a linear layer and two orders of addition show the effect directly.
#
# This is not a bug in the cache, and no "fix" of the cache removes it; the right check is to compare logits with a
# tolerance and tokens exactly. The same holds for sampling: the two paths' probabilities differ only in the last bits,
# so with the same random seed they almost always draw the same tokens, but that is not guaranteed every time.

# %%
layer = model.blocks[0].mlp.up_proj  # any nn.Linear will do
x = torch.randn(1, 100, layer.in_features, generator=torch.Generator().manual_seed(0))
with torch.no_grad():
    row_in_batch = layer(x)[:, -1]  # the last row, computed as part of a 100-row matrix
    row_alone = layer(x[:, -1:])[:, 0]  # the same row on its own
differ = (row_in_batch != row_alone).sum().item()
print(f"same row, batched vs alone: {differ} of {row_alone.numel()} outputs differ, "
      f"by at most {(row_in_batch - row_alone).abs().max().item():.1e}")
print(f"(0.1 + 0.2) + 0.3 = {(0.1 + 0.2) + 0.3!r}   0.1 + (0.2 + 0.3) = {0.1 + (0.2 + 0.3)!r}")

# %% [markdown] lang="zh"
# ## 每个词元的耗时与序列长度
#
# 计时用同样结构、但位置表有 1,024 个位置的新模型（耗时只取决于张量形状，与权重取值无关，所以不必训练）。对每个长度 $L$，
# 测"生成第 $L$ 个词元"这一步：有缓存时，是把 1 个词元和 $L-1$ 个位置的缓存送进模型；无缓存时，是把全部 $L$ 个词元重新送一遍。
# 每个长度重复 5 次取中位数。
#
# **计算量。** 一个线性层对每个词元、每个权重做一次乘加，即 2 次浮点运算，所以一个词元过一遍网络约需 $2N$ 次
# （$N$ 是参与矩阵乘法的参数数量；[Kaplan 等，arXiv:2001.08361](https://arxiv.org/abs/2001.08361) 估算的每词元前向计算量
# 同样约为 $2N$，再加一项注意力开销）。注意力对每个"查询–键"对、每层约做 $4d$ 次（$QK^\top$ 和乘 $V$ 各 $2d$）。于是：
#
# - 有缓存，第 $L$ 步约 $2N + 4\,n_\text{layer}\,d\,L$：矩阵乘法部分是常数，只有注意力随 $L$ 线性增长；
# - 无缓存，第 $L$ 步约 $2NL + 4\,n_\text{layer}\,d\,L^2$。
#
# 生成 $T$ 个词元的总量把每步相加：矩阵乘法部分有缓存是 $2NT$，即 $O(T)$，无缓存是 $2N\cdot T(T+1)/2$，即 $O(T^2)$；
# 注意力部分分别是 $O(T^2)$ 和 $O(T^3)$。缓存省掉的是对旧词元的重复计算，不是注意力本身：每一步仍要读完全部缓存。

# %% [markdown] lang="en"
# ## Time per token against sequence length
#
# Timing uses a fresh model of the same shape but with a 1,024-position table (the time depends only on tensor shapes,
# not on the weights' values, so it needs no training). For each length $L$ we time the step that produces token $L$:
# with the cache, 1 token plus a cache of $L-1$ positions goes in; without it, all $L$ tokens go in again. Each length
# is repeated 5 times and the median kept.
#
# **The work.** A linear layer does one multiply-add, i.e. 2 floating-point operations, per weight and per token, so
# one token through the network costs about $2N$ ($N$ = the parameters used in matrix multiplications; the per-token
# forward cost estimated in [Kaplan et al., arXiv:2001.08361](https://arxiv.org/abs/2001.08361) is likewise about $2N$,
# plus an attention term).
# Attention costs about $4d$ per query–key pair and layer ($2d$ each for $QK^\top$ and for weighting $V$). Hence:
#
# - with the cache, step $L$ costs about $2N + 4\,n_\text{layer}\,d\,L$: constant for the matrix multiplications, only
#   attention grows linearly with $L$;
# - without it, step $L$ costs about $2NL + 4\,n_\text{layer}\,d\,L^2$.
#
# Summed over the $T$ generated tokens, the matrix multiplications cost $2NT$ with the cache, $O(T)$, and
# $2N\cdot T(T+1)/2$ without, $O(T^2)$; attention costs $O(T^2)$ and $O(T^3)$ respectively. The cache removes the
# recomputation of old tokens, not attention itself: every step still reads the whole cache.

# %%
LENGTHS = (16, 32, 64, 128, 256, 512, 1024)
REPEATS = 5
timing_model = GPT(tok.vocab_size, max(LENGTHS)).eval()  # untrained: timing depends only on the shapes
seq = torch.randint(tok.vocab_size, (1, max(LENGTHS)), generator=torch.Generator().manual_seed(0))
n_matmul = sum(m.weight.numel() for m in timing_model.modules() if isinstance(m, torch.nn.Linear))
n_layers, d_model = len(timing_model.blocks), timing_model.tok_emb.embedding_dim


def flops(new, context):
    """Approximate forward FLOPs for `new` query positions attending to `context` key positions
    (our attention computes every score and masks afterwards, so it is `new` x `context` pairs)."""
    return 2 * n_matmul * new + 4 * n_layers * d_model * new * context


rows = []
with torch.no_grad():
    for L in LENGTHS:
        _, past = timing_model(seq[:, : L - 1], use_cache=True)  # the cache of the first L-1 positions
        cached = time_call(lambda: timing_model(seq[:, L - 1 : L], past, use_cache=True), REPEATS)
        uncached = time_call(lambda: timing_model(seq[:, :L]), REPEATS)
        rows.append((L, cached, uncached))

print(f"{n_matmul:,} parameters in matrix multiplications, {n_layers} layers, d_model {d_model}")
print(f"{'L':>5} {'cached ms':>10} {'uncached ms':>12} {'speed-up':>9} {'cached GFLOP/s':>15} {'uncached GFLOP/s':>17}")
for L, c, u in rows:
    print(f"{L:>5} {c * 1e3:>10.2f} {u * 1e3:>12.2f} {u / c:>8.1f}x {flops(1, L) / c / 1e9:>15.2f} {flops(L, L) / u / 1e9:>17.2f}")

# %% [markdown] lang="zh"
# 无缓存的曲线随 $L$ 上升，长序列时比线性还快（注意力那一项是 $L^2$）；有缓存的曲线几乎是平的。
# 表中最后两列是按上面的公式估算的实际运算速度：无缓存时，同一套运算被一次做成大矩阵乘法，CPU 跑得相当满，
# 但其中绝大部分是在重复计算旧词元；有缓存时，每步只有约百万次运算，耗时主要花在固定开销上（Python 调用、几十个小算子的调度），
# 硬件大部分时间是空闲的。这个玩具模型放大了固定开销，但"解码一步做的运算太少，喂不饱硬件"这个结论对大模型同样成立，
# 只是瓶颈换成了访存——见后文。

# %% [markdown] lang="en"
# The uncached curve rises with $L$, faster than linearly for long sequences (the attention term is $L^2$); the cached
# curve is almost flat. The last two columns of the table are the achieved speeds, estimated with the formula above:
# without the cache the work comes as large matrix multiplications and the CPU runs fairly busy, but most of that work
# recomputes old tokens; with the cache a step is only about a million operations, and its time goes mostly to fixed
# overhead (Python calls, scheduling a few dozen small operators) while the hardware sits mostly idle. This toy model
# exaggerates the fixed overhead, but the conclusion, that one decoding step does too little arithmetic to keep the
# hardware busy, holds for large models too; there the bottleneck is memory traffic instead (see below).

# %%
L_axis = [r[0] for r in rows]
fig, ax = plt.subplots()
ax.plot(L_axis, [r[2] * 1e3 for r in rows], "o-", label="without cache (recompute the prefix)")
ax.plot(L_axis, [r[1] * 1e3 for r in rows], "s-", label="with KV cache (one new token)")
ax.set_xscale("log", base=2)
ax.set_yscale("log")
ax.set_xlabel("sequence length L (position of the generated token)")
ax.set_ylabel("time for that token (ms)")
ax.set_title("Time per generated token, small GPT on one CPU thread")
ax.legend()
plt.show()

# %% [markdown] lang="zh"
# ## 缓存有多大：公式与实测
#
# 每层为每个位置存一个 $K$ 和一个 $V$，各有"KV 头数 × 每头维度"个数。于是每条序列的缓存字节数是
#
# $$\text{bytes} = 2 \times n_\text{layers} \times n_\text{kv\_heads} \times d_\text{head} \times \text{每个元素的字节数} \times \text{词元数},$$
#
# 批量为 $B$ 时再乘 $B$。模型宽度 `d_model` 和查询头数不变时，只有 KV 头数改变缓存大小：多头注意力（MHA）每个查询头都有自己的键值头；
# 分组查询注意力（GQA）让几个查询头共用一组键值头（[Ainslie 等，arXiv:2305.13245](https://arxiv.org/abs/2305.13245)）；
# 多查询注意力（MQA）所有查询头共用一组（[Shazeer，arXiv:1911.02150](https://arxiv.org/abs/1911.02150)）。
# 注意力计算前，共用的键值头被复制给各自的查询头，和 Hugging Face 的 Llama 实现（`repeat_kv`，等价于 `repeat_interleave`，见
# [modeling_llama.py](https://github.com/huggingface/transformers/blob/main/src/transformers/models/llama/modeling_llama.py)）一样；
# 缓存里只存没复制的那一份。
#
# 下面用同样宽度（96）、同样 4 个查询头、KV 头数分别为 4、2、1 的三个模型，以 float32 和 bfloat16 两种精度，
# 对一批 2 条、每条 64 个词元的序列做预填充，把缓存张量的实际字节数和公式对比。

# %% [markdown] lang="en"
# ## Cache size: the formula against the tensors
#
# Every layer stores one $K$ and one $V$ per position, each with "KV heads × head dim" numbers. So a sequence's cache
# takes
#
# $$\text{bytes} = 2 \times n_\text{layers} \times n_\text{kv\_heads} \times d_\text{head} \times \text{bytes per element} \times \text{tokens},$$
#
# times $B$ for a batch of $B$. With the model width `d_model` and the number of query heads fixed, only the number of
# KV heads changes the cache: multi-head attention (MHA) gives every query head its own key/value head; grouped-query
# attention (GQA) lets a few query heads share one ([Ainslie et al., arXiv:2305.13245](https://arxiv.org/abs/2305.13245));
# multi-query attention (MQA) lets all of them share one ([Shazeer, arXiv:1911.02150](https://arxiv.org/abs/1911.02150)).
# Before attention, a shared key/value head is copied to its query heads, as in Hugging Face's Llama implementation
# (`repeat_kv`, equivalent to `repeat_interleave`, in
# [modeling_llama.py](https://github.com/huggingface/transformers/blob/main/src/transformers/models/llama/modeling_llama.py));
# the cache holds only the uncopied heads.
#
# Below, three models of the same width (96) and the same 4 query heads, with 4, 2 and 1 KV heads, in float32 and in
# bfloat16, prefill a batch of 2 sequences of 64 tokens each, and we compare the cache tensors' real byte count with the
# formula.


# %%
def kv_cache_bytes(n_layers, n_kv_heads, head_dim, bytes_per_element, tokens, batch=1):
    """The KV-cache formula: K and V, per layer, per KV head, per head dimension, per token (times the batch)."""
    return 2 * n_layers * n_kv_heads * head_dim * bytes_per_element * tokens * batch


def tensor_bytes(cache):
    """What the cache really takes: the bytes of every k and v tensor."""
    return sum(t.numel() * t.element_size() for kv in cache for t in kv)


BATCH, TOKENS = 2, 64
batch_ids = torch.randint(tok.vocab_size, (BATCH, TOKENS), generator=torch.Generator().manual_seed(1))
size_checks = []
print(f"{'attention':<10} {'dtype':<9} {'k_proj params':>13} {'cache bytes':>12} {'formula':>9}")
for name, n_kv in (("MHA", 4), ("GQA", 2), ("MQA", 1)):
    for dtype in (torch.float32, torch.bfloat16):
        m = GPT(tok.vocab_size, BLOCK, d_model=96, n_heads=4, n_layers=2, n_kv_heads=n_kv).eval().to(dtype)
        with torch.no_grad():
            _, kv = m(batch_ids, use_cache=True)
        attn = m.blocks[0].attn
        real = tensor_bytes(kv)
        expected = kv_cache_bytes(len(m.blocks), attn.n_kv_heads, attn.head_dim, kv[0][0].element_size(), TOKENS, BATCH)
        size_checks.append((name, str(dtype), real, expected))
        print(f"{name:<10} {str(dtype).removeprefix('torch.'):<9} {attn.k_proj.weight.numel():>13,} {real:>12,} {expected:>9,}")

# %% [markdown] lang="zh"
# 实测字节数与公式逐一相等。KV 头数减半，缓存就减半，`k_proj`、`v_proj` 的参数也随之变少；查询头数和模型宽度都没变。
# 代价在质量上：MQA 论文报告质量只有小幅下降，GQA 论文报告 GQA 的质量接近 MHA、速度接近 MQA（见上面两篇论文的摘要）。
# 这些小模型没有训练，所以本实验不比较质量。

# %% [markdown] lang="en"
# The measured bytes equal the formula in every row. Halving the KV heads halves the cache and shrinks `k_proj` and
# `v_proj`; the query heads and the model width stay the same. The price is in quality: the MQA paper reports only minor
# quality degradation, and the GQA paper reports GQA close to MHA in quality and close to MQA in speed (see the two
# papers' abstracts above). These small models are untrained, so this lab does not compare quality.

# %% [markdown] lang="zh"
# ## 真实模型：Llama 3.1 8B
#
# 下面的数字抄自 Meta 发布的 [Llama 3.1 8B `config.json`](https://huggingface.co/meta-llama/Llama-3.1-8B/blob/main/config.json)：
# 32 层，32 个查询头，8 个 KV 头（GQA，每 4 个查询头共用一组），隐藏维度 4096，所以每头 128 维；`max_position_embeddings` 为 131,072，
# 即"128k"上下文（128 × 1024）。缓存按 bfloat16（每个元素 2 字节，与发布的权重同精度）计算。
# 为了对比，同时算出同一模型若用 MHA（32 个 KV 头）或 MQA（1 个）时的缓存，以及权重本身的大小
# （参数按配置逐项相加：词嵌入与输出层不共享，`tie_word_embeddings` 为 false；注意力无偏置；MLP 有 gate、up、down 三个矩阵，
# 见上面的 `modeling_llama.py`）。

# %% [markdown] lang="en"
# ## A real model: Llama 3.1 8B
#
# The numbers below are copied from Meta's published [Llama 3.1 8B `config.json`](https://huggingface.co/meta-llama/Llama-3.1-8B/blob/main/config.json):
# 32 layers, 32 query heads, 8 KV heads (GQA, one per 4 query heads), hidden size 4096, hence 128 dimensions per head;
# `max_position_embeddings` is 131,072, the "128k" context (128 × 1024). The cache is taken in bfloat16 (2 bytes per
# element, the precision of the published weights). For comparison we also work out the cache if the same model used
# MHA (32 KV heads) or MQA (1), and the size of the weights themselves (parameters added up from the config: input
# embedding and output layer untied, `tie_word_embeddings` false; no attention biases; an MLP with three matrices, gate,
# up and down, see `modeling_llama.py` above).

# %%
llama = {  # meta-llama/Llama-3.1-8B config.json, the fields used here
    "hidden_size": 4096, "intermediate_size": 14336, "max_position_embeddings": 131072, "num_attention_heads": 32,
    "num_hidden_layers": 32, "num_key_value_heads": 8, "tie_word_embeddings": False, "vocab_size": 128256,
}
L_layers, d, h = llama["num_hidden_layers"], llama["hidden_size"], llama["num_attention_heads"]
kv_heads, ctx = llama["num_key_value_heads"], llama["max_position_embeddings"]
head_dim = d // h
BF16 = 2  # bytes per element
GiB = 2**30

per_token = kv_cache_bytes(L_layers, kv_heads, head_dim, BF16, tokens=1)
full_context = kv_cache_bytes(L_layers, kv_heads, head_dim, BF16, tokens=ctx)
print(f"head_dim = {d} / {h} = {head_dim}")
print(f"per token: 2 x {L_layers} x {kv_heads} x {head_dim} x {BF16} B = {per_token:,} B = {per_token // 1024} KiB")
print(f"one sequence of {ctx:,} tokens: {per_token:,} B x {ctx:,} = {full_context:,} B = {full_context / GiB:.0f} GiB")
for name, n in (("MHA", h), ("GQA (actual)", kv_heads), ("MQA", 1)):
    print(f"  {name:<13} {n:>2} KV heads: {kv_cache_bytes(L_layers, n, head_dim, BF16, 1) // 1024:>4} KiB per token, "
          f"{kv_cache_bytes(L_layers, n, head_dim, BF16, ctx) / GiB:>3.0f} GiB at {ctx:,} tokens")

per_layer = 2 * d * d + 2 * d * kv_heads * head_dim + 3 * d * llama["intermediate_size"] + 2 * d  # q,o + k,v + MLP + 2 norms
params = L_layers * per_layer + 2 * llama["vocab_size"] * d + d  # + untied embedding and output layer + final norm
weights = params * BF16
print(f"parameters: {params:,} -> weights in bfloat16: {weights / 1e9:.2f} GB = {weights / GiB:.1f} GiB")

# %% [markdown] lang="zh"
# 每个词元 128 KiB，一条 128k 的序列就是 16 GiB，比约 15 GiB 的权重还大；若用 MHA 则要 64 GiB，加上权重，一块 80 GB 的 H100 连一条这样的序列都放不下。
# 服务端同时跑的每条序列都有自己的缓存，所以能同时服务多少请求、能开多长的上下文，往往由 KV 缓存而不是权重决定。
# GQA（以及更激进的 MQA）、缓存量化、按块分配缓存（vLLM 的 PagedAttention，[Kwon 等，arXiv:2309.06180](https://arxiv.org/abs/2309.06180)）都是为此而生的。

# %% [markdown] lang="en"
# 128 KiB per token makes one 128k sequence 16 GiB, more than the weights' 15 GiB or so; with MHA it would be 64 GiB,
# and with the weights not even one such sequence would fit on an 80 GB H100. Every sequence a server runs at the same time has its own cache, so how many
# requests fit and how long their contexts can be is often set by the KV cache rather than by the weights. GQA (and the
# more drastic MQA), cache quantization, and block-wise cache allocation (vLLM's PagedAttention,
# [Kwon et al., arXiv:2309.06180](https://arxiv.org/abs/2309.06180)) all exist for that reason.

# %% [markdown] lang="zh"
# ## 解码为什么受限于访存
#
# 批大小为 1 时，解码一步要把全部权重从显存读一遍，每个权重（2 字节）只参与一次乘加（2 次运算），算术强度约 1 次运算/字节；
# 读缓存时，每个缓存元素（2 字节）被共用它的 4 个查询头各用一次乘加，约 4 次运算/字节。
# 而一块 H100 SXM 的稠密 BF16 算力约 989 TFLOPS、显存带宽 3.35 TB/s（[NVIDIA H100 规格](https://www.nvidia.com/en-us/data-center/h100/)），
# 要每读一字节做约 300 次运算才能把算力用满。差了两个数量级，所以这一步的耗时由"读多少字节"决定：
# 下面按带宽估算每个词元耗时的下限。[MQA 论文](https://arxiv.org/abs/1911.02150)的摘要说的正是这件事：增量解码慢，是因为反复加载庞大的键值张量所需的显存带宽。
#
# 把多条序列拼成一批能摊薄**权重**的读取（同一份权重服务 $B$ 条序列，算术强度随 $B$ 增长），却摊不薄**缓存**的读取：每条序列读的是自己的缓存。
# 预填充则不同：整段提示一次算完，每个权重被几百上千个词元复用，是计算受限的。

# %% [markdown] lang="en"
# ## Why decoding is memory-bound
#
# At batch size 1, a decoding step reads every weight from GPU memory once, and each weight (2 bytes) takes part in one
# multiply-add (2 operations): an arithmetic intensity of about 1 operation per byte. Reading the cache, each cached
# element (2 bytes) is used in one multiply-add by each of the 4 query heads sharing it: about 4 operations per byte.
# An H100 SXM does about 989 TFLOPS of dense BF16 and moves 3.35 TB/s from its memory
# ([NVIDIA H100 specifications](https://www.nvidia.com/en-us/data-center/h100/)), so it needs about 300 operations per
# byte read to be busy. That is two orders of magnitude more, so the step's time is set by how many bytes it reads:
# below we estimate the resulting lower bound on the time per token. The abstract of the
# [MQA paper](https://arxiv.org/abs/1911.02150) makes exactly this point: incremental decoding is slow because of the
# memory bandwidth needed to load the large key and value tensors again and again.
#
# Batching several sequences amortises the reading of the **weights** (one copy serves $B$ sequences, so their arithmetic
# intensity grows with $B$) but not the reading of the **cache**: every sequence reads its own. Prefill is different:
# the whole prompt goes through at once, each weight is reused by hundreds or thousands of tokens, and it is
# compute-bound.

# %%
H100_FLOPS, H100_BYTES_PER_S = 989e12, 3.35e12  # dense BF16 tensor FLOP/s, HBM3 bandwidth (H100 SXM)
ridge = H100_FLOPS / H100_BYTES_PER_S
weights_intensity = 2 / BF16  # one multiply-add per 2-byte weight
cache_intensity = 2 * (h // kv_heads) / BF16  # one multiply-add per 2-byte element for each query head sharing it
print(f"H100 needs {ridge:.0f} FLOP per byte to be compute-bound; a batch-1 decoding step does about "
      f"{weights_intensity:.0f} (weights) and {cache_intensity:.0f} (KV cache)")
for tokens in (1_000, ctx):
    read = weights + kv_cache_bytes(L_layers, kv_heads, head_dim, BF16, tokens)
    print(f"context {tokens:>7,}: reads {read / 1e9:5.1f} GB per token -> at least {read / H100_BYTES_PER_S * 1e3:4.1f} ms "
          f"per token, at most {H100_BYTES_PER_S / read:3.0f} tokens/s for one sequence")

# %% [markdown] lang="zh"
# ## 检查
#
# 断言（阈值的理由见各节）：
#
# - 有缓存和无缓存的贪心解码给出完全相同的词元；
# - 两者每一步的 logits 之差不超过 `TOL` = 1e-4；
# - MHA、GQA、MQA 在两种精度下，缓存张量的实际字节数都**等于**公式；
# - 在最长的长度（1,024）上，有缓存的一步至少比无缓存快 5 倍。按上面的公式，两者的运算量相差约 1000 倍，
#   实测有几十到几百倍，所以 5 倍的门槛即使在机器很忙时也站得住，而缓存若没有生效（每步仍重算全部前文）就过不了。

# %% [markdown] lang="en"
# ## Check
#
# Asserted (each threshold is argued in its section):
#
# - greedy decoding with and without the cache gives identical tokens;
# - their logits differ by at most `TOL` = 1e-4 at every step;
# - for MHA, GQA and MQA in both precisions, the cache tensors' real byte count **equals** the formula;
# - at the longest length (1,024), a cached step is at least 5 times faster than an uncached one. By the formula above
#   their work differs about 1000-fold, and the measured gap is tens to hundreds of times, so a threshold of 5 holds even on a busy
#   machine, while a cache that had no effect (every step still recomputing the prefix) would fail it.

# %%
L_max, c_max, u_max = rows[-1]
speed_up = u_max / c_max
assert same_tokens, "greedy decoding picked different tokens with and without the KV cache"
assert max_diff <= TOL, f"cached and uncached logits differ by {max_diff:.1e} > {TOL:.0e}"
for name, dtype, real, expected in size_checks:
    assert real == expected, f"{name} {dtype}: cache tensors take {real:,} B, the formula says {expected:,} B"
assert speed_up >= 5, f"at L={L_max} the cached step is only {speed_up:.1f}x faster than recomputing"
print(f"check passed: {N_NEW} identical greedy tokens, max |logit difference| {max_diff:.1e} <= {TOL:.0e}; "
      f"cache bytes == formula for {len(size_checks)} configurations; "
      f"cached step {speed_up:.0f}x faster at L={L_max} (flop ratio {flops(L_max, L_max) / flops(1, L_max):.0f}x)")
