# %% [markdown] lang="zh"
# # 实验：从零实现 GPT
#
# 来源：第 000 篇《AI 大模型创业：如何利用创新优势？》编程题 1（[章节](../chapters/llm-fundamentals.md#q-implement-gpt)）。
#
# **原代码的问题：**
#
# - 用的是 `nn.Transformer`（编码器–解码器），而 GPT 是**只有解码器**的模型；
# - 没有因果掩码（causal mask），每个位置都能"偷看"后面的字，训练目标形同虚设；
# - 目标没有右移一位：`loss(out, tgt)` 让模型复制输入，而不是预测下一个词元；
# - `data_loader` 从未定义，代码无法运行。
#
# **本实验做什么：** 在本手册自己的中文文本上，按字符训练一个小型解码器 GPT：词元嵌入 + 可学习的位置嵌入、
# 手写的因果自注意力、Pre-LN 残差块、下一个词元的交叉熵。我们按位置留出约 10 % 的文本块，
# 画出训练与留出损失曲线，与"一元字频"基线比较，最后用不同温度采样生成文本。
# 模型代码放在共享模块 `labkit.py` 里（下文会打印出关键部分），后面的 KV 缓存、推测解码、量化、LoRA 等实验都复用同一个模型。

# %% [markdown] lang="en"
# # Lab: GPT from scratch
#
# Source: article 000, "AI 大模型创业：如何利用创新优势？", coding question 1 ([chapter](../chapters/llm-fundamentals.md#q-implement-gpt)).
#
# **What was wrong with the original code:**
#
# - It used `nn.Transformer` (encoder–decoder), but GPT is a **decoder-only** model;
# - there was no causal mask, so every position could "peek" at later characters and the objective was trivial;
# - the targets were not shifted: `loss(out, tgt)` teaches the model to copy its input, not to predict the next token;
# - `data_loader` was never defined, so the code could not run.
#
# **What this lab does:** it trains a small decoder-only GPT, character by character, on this handbook's own
# Chinese text: token embeddings plus learned position embeddings, causal self-attention written out by hand,
# pre-LN residual blocks, and a next-token cross-entropy loss. About 10 % of the text, in blocks
# chosen by position, is held out; we plot training and held-out loss, compare with a unigram character-frequency baseline, and
# sample text at different temperatures. The model code lives in the shared module `labkit.py` (its key parts are printed
# below), and the later labs on the KV cache, speculative decoding, quantization, LoRA and more reuse the same model.

# %%
import inspect
import math

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

from labkit import (GPT, CausalSelfAttention, causal_attention, generate, get_batch, handbook_char_data, seed_everything,
                    setup_plots, train_gpt)

seed_everything(0, threads=1)  # tiny models run fastest on one thread; a fixed thread count also keeps runs repeatable
setup_plots()

# %% [markdown] lang="zh"
# ## 数据与基线
#
# 语料是本手册各章的中文正文（`handbook_prose()` 只保留以中文为主的行，去掉代码和参考文献）。
# 词表是文本中出现的全部字符（排序后编号，保证每次运行一致）。留出集按**位置**切分：把文本切成连续的
# 250 字块，每 10 块留出 1 块（约 10 %）。不能随机抽取窗口——随机窗口会和训练窗口重叠，留出损失就不再衡量泛化；
# 也不只取末尾 10 %——那样留出集全部来自最后一章，衡量的更多是"换了话题"，而不是"没见过的段落"。
# 这几步由 `handbook_char_data()` 完成，返回字符分词器和两段字符编号。
#
# 基线是最简单的语言模型：不看上下文，只按训练集中每个字符的频率下注（加一平滑，避免留出集中
# 新字符的概率为 0）。它在留出集上的交叉熵就是"一元模型"的损失；GPT 必须利用上下文才能低于它。

# %% [markdown] lang="en"
# ## Data and baseline
#
# The corpus is the Chinese prose of the handbook's chapters (`handbook_prose()` keeps the lines that are mainly
# Chinese, dropping code and reference lists). The vocabulary is every character that occurs in the text,
# numbered in sorted order so that every run agrees. The held-out set is split **by position**: the text is cut
# into consecutive 250-character blocks and every 10th block is held out (about 10 %). Not randomly drawn
# windows: they would overlap the training windows, and the held-out loss would no longer measure
# generalisation. Not just the last 10 % either: that would all come from the last chapter and measure a change
# of topic more than unseen passages. `handbook_char_data()` does these steps and returns the character tokenizer and the
# two runs of character ids.
#
# The baseline is the simplest language model: ignore the context and bet on each character according to its
# frequency in the training text (add-one smoothing, so that a character unseen in training does not get
# probability 0). Its cross-entropy on the held-out text is the unigram loss; GPT must use context to beat it.

# %%
tok, train_data, held_data = handbook_char_data(block=250, every=10)  # every 10th 250-character block held out
V = tok.vocab_size

counts = torch.bincount(train_data, minlength=V).double() + 1.0  # add-one smoothing
unigram_p = counts / counts.sum()
unigram_loss = -torch.log(unigram_p[held_data]).mean().item()

print(f"characters: {len(train_data) + len(held_data):,}  vocabulary: {V}  train: {len(train_data):,}  held-out: {len(held_data):,}")
print(f"unigram baseline on held-out: {unigram_loss:.3f} nats/char  (uniform guess: ln {V} = {math.log(V):.3f})")


# %% [markdown] lang="zh"
# ## 因果自注意力
#
# 因果掩码是一个下三角矩阵：第 $t$ 行只允许看第 $0..t$ 列。被遮住的位置在 softmax 之前填成 $-\infty$，
# 权重就变成 0。下面先打印 `labkit` 里手写的注意力函数和一个 5×5 的掩码，再把它和 PyTorch 的
# `F.scaled_dot_product_attention(..., is_causal=True)` 对比，确认两者数值一致。
# 函数也接受比查询更长的键和值（前面的位置来自 KV 缓存），掩码随之右移；[KV 缓存实验](kv-cache.ipynb)会用到这一点。

# %% [markdown] lang="en"
# ## Causal self-attention
#
# The causal mask is lower-triangular: row $t$ may only look at columns $0..t$. Masked positions are set to
# $-\infty$ before the softmax, so their weights become 0. Below we print the hand-written attention function from
# `labkit` and a 5×5 mask, then compare it with PyTorch's `F.scaled_dot_product_attention(..., is_causal=True)` to confirm
# they agree numerically. The function also accepts keys and values longer than the queries (the earlier positions come
# from a KV cache), and shifts the mask accordingly; the [KV cache lab](kv-cache.ipynb) relies on that.

# %%
print(inspect.getsource(causal_attention))
print(torch.tril(torch.ones(5, 5, dtype=torch.int)))

q, k, v = torch.randn(3, 2, 4, 5, 8).unbind(0)
ours = causal_attention(q, k, v)
ref = F.scaled_dot_product_attention(q, k, v, is_causal=True)
print("max |ours - SDPA| =", (ours - ref).abs().max().item())
assert torch.allclose(ours, ref, atol=1e-6)


# %% [markdown] lang="zh"
# ## 模型
#
# 每个块是 Pre-LN 结构：`x + Attn(LN(x))`，再 `x + MLP(LN(x))`。先做 LayerNorm 再进子层，
# 残差通路上没有归一化，深层训练更稳定（GPT-2 起的做法）。输出层把每个位置映射到词表上的 logits。
#
# 注意力层的查询、键、值和输出各用一个独立的线性层（`q_proj`、`k_proj`、`v_proj`、`o_proj`），
# 这样 LoRA 可以只挂在其中几个上。参数 `n_kv_heads` 决定键值头的个数：等于 `n_heads` 是标准多头注意力（MHA），
# 取 `n_heads` 的约数是分组查询注意力（GQA），取 1 是多查询注意力（MQA）；本实验用 MHA。
# `past` 参数和返回的 `(k, v)` 就是 KV 缓存，生成时用，训练时不用。

# %% [markdown] lang="en"
# ## Model
#
# Each block is pre-LN: `x + Attn(LN(x))`, then `x + MLP(LN(x))`. Normalising before each sub-layer leaves the
# residual path untouched, which makes deeper stacks train more stably (the GPT-2 arrangement). The output layer
# maps every position to logits over the vocabulary.
#
# The attention layer has a separate linear layer for each of queries, keys, values and output (`q_proj`, `k_proj`,
# `v_proj`, `o_proj`), so that LoRA can attach to just some of them. The `n_kv_heads` argument sets the number of key/value
# heads: equal to `n_heads` is standard multi-head attention (MHA), a divisor of `n_heads` is grouped-query attention
# (GQA), 1 is multi-query attention (MQA); this lab uses MHA. The `past` argument and the returned `(k, v)` are the KV
# cache, used in generation and not in training.

# %%
print(inspect.getsource(CausalSelfAttention.forward))

BLOCK = 32
model = GPT(V, BLOCK, d_model=96, n_heads=4, n_layers=2, dropout=0.1)
print(model)
print(f"parameters: {sum(p.numel() for p in model.parameters()):,}")

# %% [markdown] lang="zh"
# ## 训练
#
# 关键在于**目标右移一位**：输入是 `data[i : i+T]`，目标是 `data[i+1 : i+T+1]`，
# 每个位置都预测它后面的那个字符（下面打印一个窗口对照）。配合因果掩码，模型只能依据前文做预测。
# `train_gpt` 每步随机取 16 个这样的窗口，用 AdamW 更新 300 步，每 25 步在整段留出文本上按不重叠的窗口算一次留出损失。

# %% [markdown] lang="en"
# ## Training
#
# The key is the **one-position shift**: the input is `data[i : i+T]` and the target is `data[i+1 : i+T+1]`,
# so every position predicts the character that follows it (one window is printed below, input above target). With the
# causal mask, the model can use only the preceding text. `train_gpt` draws 16 such windows per step and updates with
# AdamW for 300 steps; every 25 steps it computes the held-out loss over the whole held-out text in non-overlapping windows.

# %%
x, y = get_batch(train_data, batch_size=1, block_size=BLOCK, generator=torch.Generator().manual_seed(1))
print("input: ", tok.decode(x[0]).replace("\n", "⏎"))
print("target:", tok.decode(y[0]).replace("\n", "⏎"))

STEPS = 300
history = train_gpt(model, train_data, held_data, steps=STEPS, batch_size=16, lr=2e-3, weight_decay=0.1, eval_every=25)
train_curve, held_curve = history["train_loss"], history["held_loss"]
print(f"training time: {history['seconds']:.1f} s")

held_loss = held_curve[-1][1]
best_step, best_held = min(held_curve, key=lambda s_l: s_l[1])
print(f"final train-batch loss {train_curve[-1]:.3f}; held-out loss {held_loss:.3f} "
      f"(best {best_held:.3f} at step {best_step}); unigram baseline {unigram_loss:.3f}")

# %% [markdown] lang="zh"
# ## 损失曲线
#
# 训练损失持续下降，而留出损失下降得越来越慢，两者的差距逐渐拉大：文本很小（字符数见上文），模型很快开始记忆训练文本。
# 留出损失仍远低于一元基线，说明模型确实学到了可迁移的上下文规律（常见词语、标点搭配），而不只是字频。

# %% [markdown] lang="en"
# ## Loss curves
#
# The training loss keeps falling while the held-out loss flattens out and the gap between them widens: the
# text is small (see the character count above), so the model soon starts memorising it. The held-out loss nevertheless stays far below the
# unigram baseline, so the model has learned context that transfers (common words, punctuation patterns), not
# just character frequencies.

# %%
kernel = 10
smooth = torch.tensor(train_curve).unfold(0, kernel, 1).mean(1)
fig, ax = plt.subplots()
ax.plot(range(kernel, STEPS + 1), smooth, label=f"train (batch loss, {kernel}-step mean)")
ax.plot(*zip(*held_curve), "o-", label="held-out (every 10th block)")
ax.axhline(unigram_loss, color="gray", ls="--", label="unigram baseline")
ax.set_xlabel("step")
ax.set_ylabel("cross-entropy (nats / char)")
ax.set_title("Character-level GPT on the handbook text")
ax.legend()
plt.show()


# %% [markdown] lang="zh"
# ## 带温度的采样
#
# 生成时每次把 logits 除以温度 $\tau$ 再做 softmax 采样：$\tau<1$ 让分布更尖锐（更保守、更重复），
# $\tau>1$ 让分布更平坦（更多样、更多错字）。`generate` 的 `temperature=0` 表示贪心解码（每步取概率最大的字），
# 它也支持 top-k 和 top-p 截断。上下文超过 `BLOCK` 个字符时只保留最后 `BLOCK` 个（`use_cache=False` 的滑动窗口），
# 因为位置嵌入只有这么长；带 KV 缓存的生成要求整段文本都在 `BLOCK` 以内。

# %% [markdown] lang="en"
# ## Sampling with temperature
#
# At each step the logits are divided by the temperature $\tau$ before the softmax: $\tau<1$ sharpens the
# distribution (safer, more repetitive), $\tau>1$ flattens it (more varied, more mistakes). In `generate`,
# `temperature=0` means greedy decoding (the most likely character at every step); it also supports top-k and top-p
# truncation. When the context grows beyond `BLOCK` characters we keep only the last `BLOCK` (the sliding window of
# `use_cache=False`), because that is as far as the position embeddings go; generation with a KV cache needs the whole
# text to fit in `BLOCK`.

# %%
prompt = tok.encode("大模型")[None]  # (1, 3): a batch of one prompt
for tau in (0.5, 1.0, 1.5):
    out = generate(model, prompt, 60, temperature=tau, use_cache=False, generator=torch.Generator().manual_seed(0))
    print(f"τ={tau}:", tok.decode(out[0]).replace("\n", "⏎"))

# %% [markdown] lang="zh"
# ## 检查
#
# 断言：留出集上的交叉熵比一元字频基线低至少 0.7 奈特（困惑度约减半；实测约低 1.7 奈特）；
# 手写注意力与 `scaled_dot_product_attention` 一致；训练确实让训练损失下降。

# %% [markdown] lang="en"
# ## Check
#
# Asserted: the held-out cross-entropy is at least 0.7 nats below the unigram baseline (perplexity roughly
# halved; measured: about 1.7 nats below); the hand-written attention matches `scaled_dot_product_attention`; training lowered the training loss.

# %%
gap = unigram_loss - held_loss
assert gap >= 0.7, f"held-out loss {held_loss:.3f} is only {gap:.3f} nats below the unigram baseline {unigram_loss:.3f}"
assert torch.allclose(ours, ref, atol=1e-6), "hand-written causal attention differs from SDPA"
assert train_curve[-1] < train_curve[0] - 3.0, f"training loss barely moved: {train_curve[0]:.3f} -> {train_curve[-1]:.3f}"
print(f"check passed: held-out {held_loss:.3f} vs unigram {unigram_loss:.3f} nats/char (gap {gap:.3f})")
