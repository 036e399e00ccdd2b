# %% [markdown] lang="zh"
# # 实验：推测解码与解码策略
#
# 配套题目：第二部分《推理与服务》第 7 题[贪心解码、束搜索、温度、top-k、top-p 分别是什么？怎么选？](../chapters/inference-and-serving.md#q-decoding-strategies)、
# 第 8 题[推测解码是怎么工作的？为什么说它是无损的？](../chapters/inference-and-serving.md#q-speculative-decoding)。
#
# 自回归解码每生成一个词元，大模型就要完整地前向一次，而且这些步骤只能一步接一步地做。推测解码（speculative decoding）
# 让一个小的**草稿模型**先连续猜 $k$ 个词元，再让大的**目标模型**用**一次**前向（带 KV 缓存）给这 $k$ 个词元一起打分：
# 从第一个草稿数起、目标模型认可的最长前缀被接受，再加上目标模型自己给出的一个词元。接受的草稿越多，目标模型的前向次数就省得越多
# （[Leviathan 等，arXiv:2211.17192](https://arxiv.org/abs/2211.17192)；[Chen 等，arXiv:2302.01318](https://arxiv.org/abs/2302.01318)）。
#
# **本实验做什么：** 以 `labkit` 的小型字符级 GPT 为目标模型，另训练一个只有一层的草稿模型，然后：
#
# 1. 从零写出贪心推测解码，证明它的输出与目标模型自己的贪心解码**逐词元相同**；
# 2. 对草稿长度 $k$ 做一个小扫描：接受率、每次目标前向产出的词元数、省下的目标前向次数，并与论文的公式对照；
# 3. 在这台 CPU 上测墙钟时间，如实说明这里为什么**没有**变快；
# 4. 写出修正的拒绝采样规则（采样版的推测解码），用 20 万次抽样和总变差距离验证它的输出分布就是目标模型的分布；
# 5. 在同一个模型上看温度、top-k、top-p 各自怎样改变下一个词元的分布。

# %% [markdown] lang="en"
# # Lab: speculative decoding and decoding strategies
#
# Accompanies, in Part 2: *Inference and serving*, question 7, [What are greedy decoding, beam search, temperature, top-k and top-p, and how do you choose?](../chapters/inference-and-serving.md#q-decoding-strategies)
# and question 8, [How does speculative decoding work, and why is it lossless?](../chapters/inference-and-serving.md#q-speculative-decoding).
#
# Autoregressive decoding runs one full forward pass of the large model per generated token, and the steps can only run
# one after another. Speculative decoding lets a small **draft model** guess $k$ tokens in a row, then has the large
# **target model** score all $k$ in **one** forward pass (with its KV cache): the longest prefix the target agrees with,
# counted from the first draft, is accepted, plus one token from the target itself. The more drafts are accepted, the
# more target passes are saved ([Leviathan et al., arXiv:2211.17192](https://arxiv.org/abs/2211.17192);
# [Chen et al., arXiv:2302.01318](https://arxiv.org/abs/2302.01318)).
#
# **What this lab does:** with the small character-level GPT from `labkit` as the target and a one-layer draft model
# trained the same way, it
#
# 1. writes greedy speculative decoding from scratch and shows that its output is **token for token identical** to the
#    target's own greedy decoding;
# 2. sweeps the draft length $k$: acceptance rate, tokens per target pass, target passes saved, against the papers'
#    formula;
# 3. measures wall-clock time on this CPU and explains honestly why it does **not** get faster here;
# 4. writes out the modified rejection sampling rule (the sampling version of speculative decoding) and checks with
#    200,000 draws and the total variation distance that its output distribution is the target's;
# 5. shows, on the same model, what temperature, top-k and top-p each do to the next-token distribution.

# %%
import math

import matplotlib.pyplot as plt
import torch

from labkit import generate, handbook_char_data, handbook_gpt, next_token_probs, seed_everything, setup_plots, time_call

seed_everything(0, threads=1)  # one thread: tiny models run fastest that way on a shared CPU, and timings repeat
setup_plots()

# %% [markdown] lang="zh"
# ## 目标模型与草稿模型
#
# 目标模型与 [KV 缓存实验](kv-cache.ipynb)的完全相同：`handbook_gpt(steps=150, block_size=128, batch_size=4)`，
# 2 层、`d_model`=96，在本手册的中文文本上训练。草稿模型用同一个函数、同样的数据和步数训练，有两个候选：
# 宽度缩到 32 的一层模型（"窄"），和宽度不变、只有一层的模型（"半深"）。
#
# 选草稿看两件事。第一，草稿必须和目标模型用**同一个词表**，否则它猜出的词元目标模型无法打分（Hugging Face 的
# [辅助解码文档](https://huggingface.co/docs/transformers/assisted_decoding)同样要求助手模型与主模型使用同一个分词器）；
# 这里两个模型都从同一份文本建字符表，自然满足。第二，草稿要**又便宜又常猜对**。下面在整段留出文本上逐位置比较：
#
# - **计算量**：每个词元要做的矩阵乘法，按参与矩阵乘法的权重数算，是目标模型的几分之几；
# - **贪心一致率**：草稿的 argmax 与目标模型的 argmax 相同的比例，即贪心解码时一个草稿被接受的概率；
# - **$\sum_x \min(p(x), q(x))$ 的平均值**：$p$、$q$ 分别是目标模型和草稿模型给出的下一个词元分布。下文会说明，这正是采样时一个草稿被接受的概率。
#
# 另一条路是不另训模型，而是跳过目标模型的部分层来起草（自推测解码，[Zhang 等，arXiv:2309.08168](https://arxiv.org/abs/2309.08168)）；
# 我们的目标模型只有两层，跳过一层就去掉了一半网络，这里不采用。

# %% [markdown] lang="en"
# ## Target and draft
#
# The target is exactly the model of the [KV-cache lab](kv-cache.ipynb): `handbook_gpt(steps=150, block_size=128,
# batch_size=4)`, 2 layers, `d_model`=96, trained on this handbook's Chinese text. The draft is trained by the same
# function on the same data for the same number of steps; there are two candidates: a one-layer model of width 32
# ("narrow"), and a one-layer model of the full width ("half depth").
#
# Two things decide the draft. First, it must share the target's **vocabulary**, or the target cannot score its
# guesses (Hugging Face's [assisted decoding guide](https://huggingface.co/docs/transformers/assisted_decoding) likewise
# requires the assistant to use the main model's tokenizer); both models build their character table from the same
# text, so that holds here. Second, it must be **cheap and often right**. Below, at every position of the held-out text:
#
# - **work**: the matrix multiplications per token, counted as the weights they use, as a fraction of the target's;
# - **greedy agreement**: how often the draft's argmax equals the target's, i.e. the probability that a draft is
#   accepted in greedy decoding;
# - **the mean of $\sum_x \min(p(x), q(x))$**, with $p$ and $q$ the target's and the draft's next-token distributions. As
#   shown further down, this is exactly the probability that a draft is accepted when sampling.
#
# The alternative, no second model but drafting with some of the target's layers skipped (self-speculative decoding,
# [Zhang et al., arXiv:2309.08168](https://arxiv.org/abs/2309.08168)), is not used here: our target has only two layers,
# and skipping one removes half the network.

# %%
BLOCK = 128
target, tok, hist = handbook_gpt(steps=150, block_size=BLOCK, batch_size=4)
candidates = {
    "narrow (d_model 32, 1 layer)": handbook_gpt(steps=150, block_size=BLOCK, batch_size=4, d_model=32, n_heads=2,
                                                 n_layers=1),
    "half depth (d_model 96, 1 layer)": handbook_gpt(steps=150, block_size=BLOCK, batch_size=4, n_layers=1),
}
_, _, held_ids = handbook_char_data()
n_held = (len(held_ids) - 1) // BLOCK * BLOCK
windows = held_ids[:n_held].view(-1, BLOCK)  # the held-out text as non-overlapping windows
with torch.no_grad():
    logits_held = target(windows)  # the target's next-token logits at every held-out position
p_held = logits_held.softmax(dim=-1)


def matmul_params(m):
    """Weights used in matrix multiplications per token (the embeddings are table lookups)."""
    return sum(mod.weight.numel() for mod in m.modules() if isinstance(mod, torch.nn.Linear))


print(f"vocabulary {tok.vocab_size:,} characters; held-out positions compared: {windows.numel():,}")
print(f"target: {matmul_params(target):,} weights in matrix multiplications, "
      f"held-out loss {hist['held_loss'][-1][1]:.3f} nats/char, trained in {hist['seconds']:.1f} s")
for name, (m, _, h) in candidates.items():
    with torch.no_grad():
        q_held = m(windows).softmax(dim=-1)
    agree = (q_held.argmax(-1) == p_held.argmax(-1)).float().mean().item()
    overlap = torch.minimum(p_held, q_held).sum(-1).mean().item()
    print(f"draft {name}: work {matmul_params(m) / matmul_params(target):.2f} x the target's, "
          f"held-out loss {h['held_loss'][-1][1]:.3f}, greedy agreement {agree:.0%}, mean sum of min(p, q) {overlap:.2f}")
draft = candidates["half depth (d_model 96, 1 layer)"][0]

# %% [markdown] lang="zh"
# 窄草稿的计算量只有目标模型的一小部分，但与目标模型的贪心选择一致得少得多；半深草稿一致得多，代价是计算量省得少：
# 输出层（`d_model` × 词表大小）在两个模型里一样大，减掉一层并不能把计算量减半。在这么小的语料上，窄草稿学到的太少，
# 所以下文用**半深**草稿。上面提到的 Hugging Face 文档指出，助手模型明显小于主模型时效果最好；为什么，留到"墙钟时间"一节再谈。

# %% [markdown] lang="en"
# The narrow draft does a small fraction of the target's work but agrees with the target's greedy choice far less
# often; the half-depth draft agrees much more often, at the price of saving less work: the output layer
# (`d_model` × vocabulary size) is the same size in both models, so dropping a layer does not halve the work. On a
# corpus this small the narrow draft learns too little, so the rest of the lab uses the **half-depth** draft. The Hugging
# Face guide cited above says assisted decoding works best when the assistant is significantly smaller than the main
# model; the section on wall-clock time explains why.

# %% [markdown] lang="zh"
# ## 贪心推测解码
#
# 下面的 `speculative_generate` 每一轮做四件事：
#
# 1. **起草**：草稿模型带自己的 KV 缓存，逐个贪心地生成 $k$ 个词元（$k$ 次小模型前向）；
# 2. **验证**：把"上一轮的最后一个词元 + $k$ 个草稿"一次送进目标模型（带 KV 缓存），得到 $k+1$ 个位置的 logits。
#    第 $j$ 行（从 0 数）就是目标模型在"已接受的文本 + 前 $j$ 个草稿"之后想要的下一个词元；
# 3. **接受**：从第一个草稿起逐个比较，草稿等于目标模型的 argmax 就接受；遇到第一个不等就停下，换上目标模型的 argmax，
#    后面的草稿全部作废。如果 $k$ 个都被接受，最后一行的 argmax 再白送一个词元。所以每轮产出 1 到 $k+1$ 个词元，目标模型只前向 1 次；
# 4. **回滚**：两个模型的缓存都截回已接受的文本（被拒草稿的 K、V 丢掉），用的正是 KV 缓存实验里的切片。
#
# 每个被接受的词元都等于目标模型在同样前文之后的 argmax，所以输出必然与目标模型自己逐个贪心生成的结果完全一样——前提是两种算法算出的
# logits 相同。它们只在浮点舍入上有差别（一次算 $k+1$ 个位置与一次算 1 个位置，累加顺序不同，见 KV 缓存实验），
# 只有当第一名与第二名的 logit 几乎相等时 argmax 才可能翻转。Chen 等的摘要也写明了这一限定：目标分布"在硬件数值精度之内"得以保持。
# 下面取 4 段留出文本的开头（各 8 个字）作提示，各生成 96 个词元，对 $k$ = 1、2、4、8 逐词元比较。

# %% [markdown] lang="en"
# ## Greedy speculative decoding
#
# `speculative_generate` below does four things per round:
#
# 1. **draft**: the draft model, with its own KV cache, generates $k$ tokens greedily, one at a time ($k$ small passes);
# 2. **verify**: "the last token of the previous round + the $k$ drafts" go through the target in one pass (with its KV
#    cache), which gives logits at $k+1$ positions. Row $j$ (counting from 0) is the token the target wants after "the
#    accepted text + the first $j$ drafts";
# 3. **accept**: compare from the first draft on; a draft equal to the target's argmax is accepted; at the first
#    mismatch stop, put the target's argmax in its place and drop the remaining drafts. If all $k$ are accepted, the
#    argmax of the last row is one more token for free. So a round yields 1 to $k+1$ tokens for one target pass;
# 4. **roll back**: both caches are cut back to the accepted text (the K and V of rejected drafts are dropped), with
#    the slicing from the KV-cache lab.
#
# Every accepted token equals the target's argmax after the same text, so the output must equal the target's own
# one-by-one greedy output, provided both algorithms compute the same logits. They differ only in floating-point
# rounding (scoring $k+1$ positions in one pass sums in a different order than scoring one; see the KV-cache lab), which
# can flip an argmax only when the top two logits are nearly equal. Chen et al.'s abstract states the same caveat: the
# target distribution is preserved "within hardware numerics". Below, the first 8 characters of 4 held-out passages
# serve as prompts, each is extended by 96 tokens, and the outputs are compared token by token for $k$ = 1, 2, 4 and 8.


# %%
def truncate(cache, n):
    """The first n positions of a KV cache (roll back rejected drafts); a shorter cache is returned whole."""
    return [(k[:, :, :n], v[:, :, :n]) for k, v in cache]


def accept_or_resample(p, q, x, generator=None):
    """The modified rejection sampling rule: draft tokens x (N,), drawn from the draft's distribution q, are kept with
    probability min(1, p[x] / q[x]); a rejected one is replaced by a draw from norm(max(0, p - q)).
    p, q: the target's and the draft's next-token distributions (V,). Returns (tokens (N,), accepted (N,) bool)."""
    accepted = torch.rand(x.shape, generator=generator) < p[x] / q[x]  # the uniform draw is < 1, so p >= q always keeps x
    tokens = x.clone()
    n_rejected = int((~accepted).sum())
    if n_rejected:
        residual = (p - q).clamp(min=0)
        tokens[~accepted] = torch.multinomial(residual / residual.sum(), n_rejected, replacement=True, generator=generator)
    return tokens, accepted


@torch.no_grad()
def speculative_generate(target, draft, prompt, n_new, k, temperature=0.0, generator=None):
    """Extend prompt (1, T0) by n_new tokens with speculative decoding: per round the draft proposes up to k tokens,
    the target scores them in one cached forward pass, and the accepted prefix plus one target token is kept.
    temperature 0 is greedy (a draft is accepted when it equals the target's argmax); above 0 is speculative sampling
    (`accept_or_resample`). Returns (ids (1, T0 + n_new), {"target_passes", "drafted", "accepted"})."""
    ids, end = prompt, prompt.size(1) + n_new
    t_cache = d_cache = None  # each covers every accepted position but the newest, which is fed in the next round
    stats = {"target_passes": 0, "drafted": 0, "accepted": 0}
    while ids.size(1) < end:
        k_now = min(k, end - ids.size(1) - 1)  # never draft past the requested length
        seq, qs = ids, []
        for _ in range(k_now):  # 1) draft, one small forward pass per token
            done = 0 if d_cache is None else d_cache[0][0].size(2)
            logits, d_cache = draft(seq[:, done:], d_cache, use_cache=True)
            if temperature == 0:
                x = logits[:, -1].argmax(dim=-1, keepdim=True)
            else:
                qs.append(next_token_probs(logits[0, -1], temperature))
                x = torch.multinomial(qs[-1], 1, generator=generator)[None]
            seq = torch.cat([seq, x], dim=1)
        done = 0 if t_cache is None else t_cache[0][0].size(2)
        logits, t_cache = target(seq[:, done:], t_cache, use_cache=True)  # 2) verify: one target pass
        rows = logits[0, -(k_now + 1):]  # row j: the target's logits after the accepted text + the first j drafts
        new = []
        for j in range(k_now):  # 3) accept the longest agreeing prefix, then the target's own token
            x = seq[0, ids.size(1) + j]
            if temperature == 0:
                y = rows[j].argmax()
                ok = bool(y == x)
            else:
                y, ok = accept_or_resample(next_token_probs(rows[j], temperature), qs[j], x.view(1), generator)
                y, ok = y[0], bool(ok[0])
            new.append(y)
            if not ok:
                break
        else:  # every draft accepted (or none asked for): the last row gives one more token for free
            last = rows[k_now]
            new.append(last.argmax() if temperature == 0
                       else torch.multinomial(next_token_probs(last, temperature), 1, generator=generator)[0])
        stats["target_passes"] += 1
        stats["drafted"] += k_now
        stats["accepted"] += len(new) - 1  # all tokens of the round but the target's own last one
        ids = torch.cat([ids, torch.stack(new).view(1, -1)], dim=1)
        t_cache = truncate(t_cache, ids.size(1) - 1)  # 4) roll back to the accepted text
        d_cache = None if d_cache is None else truncate(d_cache, ids.size(1) - 1)
    return ids, stats


PROMPT_LEN, N_NEW, KS = 8, 96, (1, 2, 4, 8)
prompts = [held_ids[i * 500 : i * 500 + PROMPT_LEN][None] for i in range(4)]
reference = [generate(target, p, N_NEW) for p in prompts]  # the target's own greedy decoding, with its KV cache

greedy_runs, identical = {}, []
for k in KS:
    totals = {"target_passes": 0, "drafted": 0, "accepted": 0}
    for p, ref in zip(prompts, reference):
        out, stats = speculative_generate(target, draft, p, N_NEW, k)
        identical.append(torch.equal(out, ref))
        for key in totals:
            totals[key] += stats[key]
    greedy_runs[k] = totals
print(f"{sum(identical)} of {len(identical)} speculative outputs identical to the target's greedy output "
      f"({len(prompts)} prompts x k in {KS})")
print("prompt:", tok.decode(prompts[0][0]).replace("\n", "⏎"))
print("output:", tok.decode(reference[0][0, PROMPT_LEN:]).replace("\n", "⏎"))


# %% [markdown] lang="zh"
# 全部相同。生成的文字本身很差，而且很快陷入重复：这是一个只在四万多字上训练了几秒钟的小模型，贪心解码又总挑最可能的字符；
# Hugging Face 的[生成策略文档](https://huggingface.co/docs/transformers/generation_strategies)也提到，贪心搜索生成长序列时会开始重复。
# 这不影响验证：推测解码要复现的就是目标模型自己的输出，无论好坏。

# %% [markdown] lang="en"
# All identical. The text itself is poor and soon repeats itself: this is a small model trained for seconds on about
# forty thousand characters, and greedy decoding always takes the most likely character; Hugging Face's
# [generation strategies guide](https://huggingface.co/docs/transformers/generation_strategies) likewise notes that
# greedy search starts repeating itself on long outputs. That does not weaken the check: speculative decoding must
# reproduce the target's own output, good or bad.

# %% [markdown] lang="zh"
# ## 接受率与草稿长度 k
#
# 设每个草稿被接受的概率都是 $\alpha$，且彼此独立。一轮里前 $i$ 个草稿全被接受的概率是 $\alpha^i$，
# 所以每次目标前向平均产出的词元数是
#
# $$E[\text{词元数}] = 1 + \alpha + \alpha^2 + \dots + \alpha^k = \frac{1-\alpha^{k+1}}{1-\alpha},$$
#
# 这是 Leviathan 等论文分析中的公式。它随 $k$ 增长，但不会超过 $1/(1-\alpha)$：$\alpha$ 不高时，草稿起得再长也是浪费。
# 下面用同样 4 个提示，分别以贪心和温度 1 的采样（采样规则见后文）跑 $k$ = 1、2、4、8，统计：
#
# - **接受率** = 被接受的草稿数 / 起草的草稿数。一轮中一旦有草稿被拒，它后面的草稿不经检查就作废，所以即使 $\alpha$ 不变，
#   这个比例也会随 $k$ 下降——那是白做的草稿计算；
# - **每次目标前向的词元数** = 生成的词元数 / 目标前向次数（普通解码恰好是 1）；
# - **省下的目标前向次数** = 普通解码的次数（每个词元一次，共 4 × 96 = 384 次）减去推测解码的次数。
#
# 公式中的 $\alpha$ 取 $k=1$ 时实测的接受率（每轮只有一个草稿，它的接受率就是 $\alpha$ 的估计），用来预测其他 $k$。

# %% [markdown] lang="en"
# ## Acceptance rate against the draft length k
#
# Suppose every draft is accepted with the same probability $\alpha$, independently. The first $i$ drafts of a round
# are all accepted with probability $\alpha^i$, so the mean number of tokens per target pass is
#
# $$E[\text{tokens}] = 1 + \alpha + \alpha^2 + \dots + \alpha^k = \frac{1-\alpha^{k+1}}{1-\alpha},$$
#
# the formula in Leviathan et al.'s analysis. It grows with $k$ but never exceeds $1/(1-\alpha)$: when $\alpha$ is not
# high, longer drafts are wasted. Below, the same 4 prompts run with greedy decoding and with sampling at temperature 1 (the sampling
# rule comes later), for $k$ = 1, 2, 4, 8, and we count:
#
# - **acceptance rate** = accepted drafts / drafted tokens. After the first rejection in a round, the remaining drafts
#   are dropped unchecked, so this ratio falls with $k$ even when $\alpha$ does not: that is wasted drafting;
# - **tokens per target pass** = tokens generated / target passes (exactly 1 for plain decoding);
# - **target passes saved** = the passes of plain decoding (one per token, 4 × 96 = 384) minus those of speculative
#   decoding.
#
# The $\alpha$ in the formula is the acceptance rate measured at $k=1$ (one draft per round, so its acceptance rate
# estimates $\alpha$ directly), used to predict the other $k$.

# %%
sampled_runs = {}
for k in KS:
    gen = torch.Generator().manual_seed(k)
    totals = {"target_passes": 0, "drafted": 0, "accepted": 0}
    for p in prompts:
        _, stats = speculative_generate(target, draft, p, N_NEW, k, temperature=1.0, generator=gen)
        for key in totals:
            totals[key] += stats[key]
    sampled_runs[k] = totals

n_tokens = len(prompts) * N_NEW
sweep = {}
print(f"{'mode':<9} {'k':>2} {'acceptance':>10} {'tokens/pass':>12} {'predicted':>10} {'target passes':>14} {'saved':>6}")
for mode, runs in (("greedy", greedy_runs), ("sampling", sampled_runs)):
    alpha = runs[1]["accepted"] / runs[1]["drafted"]
    for k, r in runs.items():
        per_pass = n_tokens / r["target_passes"]
        predicted = (1 - alpha ** (k + 1)) / (1 - alpha)
        sweep[mode, k] = (r["accepted"] / r["drafted"], per_pass, predicted, n_tokens - r["target_passes"])
        print(f"{mode:<9} {k:>2} {r['accepted'] / r['drafted']:>10.2f} {per_pass:>12.2f} {predicted:>10.2f} "
              f"{r['target_passes']:>14} {n_tokens - r['target_passes']:>6}")
gap = max(abs(per_pass / predicted - 1) for _, per_pass, predicted, _ in sweep.values())
print(f"largest gap between measured and predicted tokens per pass: {gap:.0%}")

# %%
fig, ax = plt.subplots()
for mode, marker, color in (("greedy", "o", "tab:blue"), ("sampling", "s", "tab:green")):
    ax.plot(KS, [sweep[mode, k][1] for k in KS], marker + "-", color=color, label=f"{mode}, measured")
    ax.plot(KS, [sweep[mode, k][2] for k in KS], marker + "--", color=color, alpha=0.5,
            label=f"{mode}, (1 - a^(k+1)) / (1 - a)")
ax.axhline(1, color="grey", lw=1)
ax.set_xticks(KS)
ax.set_xlabel("draft length k")
ax.set_ylabel("tokens per target pass")
ax.set_title("Tokens per target forward pass (plain decoding: 1)")
ax.legend(fontsize=8)
plt.show()

# %% [markdown] lang="zh"
# 每次目标前向产出的词元数随 $k$ 上升而增速放缓，实测与公式大体吻合（上面打印了最大偏差）。公式假设各草稿的接受相互独立、概率相同，
# 而真实文本有难有易——贪心生成又会陷入重复，重复段落很好猜——所以不会严丝合缝。接受率随 $k$ 下降：草稿越长，被作废的越多。
# 省下的目标前向次数随 $k$ 增加，但每省一次要付出更多次草稿前向；划不划算，要看下一节的耗时。

# %% [markdown] lang="en"
# Tokens per target pass rise with $k$, more and more slowly, and measurement and formula roughly agree (the largest gap
# is printed above). The formula assumes that drafts are accepted independently with one probability, while real text
# has easy and hard stretches (and greedy output falls into repetition, which is easy to guess), so the fit is not exact.
# The acceptance rate falls with $k$: the longer the draft, the more of it is thrown away. The target passes saved grow
# with $k$, but each saving costs more draft passes; whether that pays depends on time, the subject of the next section.

# %% [markdown] lang="zh"
# ## 这台 CPU 上的墙钟时间
#
# 省下目标前向次数不等于省下时间。设草稿模型一步的耗时是目标模型一步的 $c$ 倍，并假设目标模型一次给 $k+1$ 个词元打分与生成一个词元耗时相同，
# Leviathan 等的分析给出期望的墙钟加速比
#
# $$\text{加速比} = \frac{1-\alpha^{k+1}}{(1-\alpha)(k c + 1)}:$$
#
# 一轮花 $k$ 次草稿前向（折合 $kc$ 个目标步）加一次验证（1 个目标步），平均产出 $(1-\alpha^{k+1})/(1-\alpha)$ 个词元。
# 以 $k=1$ 为例，加速比是 $(1+\alpha)/(1+c)$，大于 1 当且仅当 $c < \alpha$。要明显变快，需要 $c$ 很小、验证几乎不比一步贵。
#
# 下面先测这两个前提：目标模型和两个草稿模型带缓存走一步的耗时（各取 30 次的中位数），以及目标模型一次给 5 个词元打分的耗时；
# 再测 4 个提示各生成 96 个词元的总耗时，普通贪心解码与推测解码对比。每种设置跑两次取较快的一次：
# Python 的 [`timeit` 文档](https://docs.python.org/3/library/timeit.html#timeit.Timer.repeat)指出，较慢的结果通常不是 Python 本身变慢，
# 而是其他进程的干扰，最小值才是值得看的那个数。

# %% [markdown] lang="en"
# ## Wall-clock time on this CPU
#
# Saving target passes is not the same as saving time. Let one draft step take $c$ times as long as one target step, and
# assume that the target scores $k+1$ tokens in one pass as fast as it generates one; then Leviathan et al.'s analysis
# gives the expected wall-clock speed-up
#
# $$\text{speed-up} = \frac{1-\alpha^{k+1}}{(1-\alpha)(k c + 1)}:$$
#
# a round costs $k$ draft passes ($kc$ target steps) plus one verification (1 target step) and yields
# $(1-\alpha^{k+1})/(1-\alpha)$ tokens on average. For $k=1$ the speed-up is $(1+\alpha)/(1+c)$, above 1 exactly when
# $c < \alpha$. A clear gain needs a small $c$ and a verification that costs hardly more than one step.
#
# Below we first measure those two premises: one cached step of the target and of both drafts (median of 30), and the
# target scoring 5 tokens in one pass; then the total time for 96 tokens from each of the 4 prompts, plain greedy
# decoding against speculative decoding. Each setting runs twice and the faster run counts: Python's
# [`timeit` documentation](https://docs.python.org/3/library/timeit.html#timeit.Timer.repeat) notes that slower results
# are typically caused not by Python's speed varying but by other processes interfering, and that the minimum is the
# number to look at.


# %%


narrow = candidates["narrow (d_model 32, 1 layer)"][0]
context, five = reference[0][:, :64], reference[0][:, 64:69]
with torch.no_grad():
    caches = {name: m(context, use_cache=True)[1] for name, m in (("target", target), ("draft", draft), ("narrow", narrow))}
    t_step = time_call(lambda: target(five[:, :1], caches["target"], use_cache=True), 30)
    t_verify = time_call(lambda: target(five, caches["target"], use_cache=True), 30)
    d_step = time_call(lambda: draft(five[:, :1], caches["draft"], use_cache=True), 30)
    n_step = time_call(lambda: narrow(five[:, :1], caches["narrow"], use_cache=True), 30)
c = d_step / t_step
print(f"one cached step: target {t_step * 1e3:.2f} ms; half-depth draft {d_step * 1e3:.2f} ms (c = {c:.2f}); "
      f"narrow draft {n_step * 1e3:.2f} ms (c = {n_step / t_step:.2f})")
print(f"the target scoring 5 tokens in one pass: {t_verify * 1e3:.2f} ms = {t_verify / t_step:.2f} x one step")

t_plain = time_call(lambda: [generate(target, p, N_NEW) for p in prompts], 2, min, warmup=0)
alpha_greedy = greedy_runs[1]["accepted"] / greedy_runs[1]["drafted"]
print(f"plain greedy decoding, {n_tokens} tokens: {t_plain:.2f} s")
for k in KS:
    t_spec = time_call(lambda: [speculative_generate(target, draft, p, N_NEW, k) for p in prompts], 2, min, warmup=0)
    predicted = (1 - alpha_greedy ** (k + 1)) / ((1 - alpha_greedy) * (k * c + 1))
    print(f"speculative, k={k}: {t_spec:.2f} s, speed-up {t_plain / t_spec:.2f}x "
          f"(formula with measured alpha and c: {predicted:.2f}x)")

# %% [markdown] lang="zh"
# 推测解码在这里没有变快，公式也预言了这一点（$k$ 小时公式给出的加速比在 1 左右，$k$ 大时明显小于 1）。两个前提里，"验证几乎免费"成立：
# 一次给 5 个词元打分只比走一步稍慢。不成立的是"草稿很便宜"：$c$ 一点也不小；窄草稿的计算量只有半深草稿的几分之一，
# 走一步却几乎一样慢。原因和 KV 缓存实验看到的一样：这么小的模型走一步只有约百万次运算，耗时主要是固定开销
# （Python 调用、几十个小算子的调度），与模型大小关系不大，所以 $c$ 降不下来。实测的加速比还低于公式：验证一次比一步稍贵，
# 我们的 Python 循环每轮还要拼接张量、截断缓存。
#
# 大模型在 GPU 上正好相反。批大小为 1 的解码受限于访存：一步的耗时约等于"把全部权重读一遍"（见 KV 缓存实验的[这一节](kv-cache.ipynb#why-decoding-is-memory-bound)），
# 一次给 $k+1$ 个词元打分读的还是同一份权重，所以验证几乎免费；草稿模型的权重少得多，走一步相应地快得多，$c$ 也就小。
# 这正是推测解码的论文结果的来源：Leviathan 等在 T5-XXL 上报告了 2–3 倍的加速且输出相同，Chen 等在 700 亿参数的 Chinchilla 上、
# 分布式环境中报告了 2–2.5 倍的解码加速。

# %% [markdown] lang="en"
# Speculative decoding is not faster here, and the formula says as much (around 1 for small $k$, clearly below 1 for
# large $k$). Of the two premises, "verification is nearly free" holds: scoring 5 tokens in one pass is only a little
# slower than one step. "The draft is cheap" does not: $c$ is far from small, and the narrow draft, with
# a fraction of the half-depth draft's work, takes almost as long per step. The reason is the one seen in the KV-cache
# lab: a step of a model this small is about a million operations, and its time is mostly fixed overhead (Python calls,
# scheduling a few dozen small operators) that hardly depends on the model's size, so $c$ cannot get small. The
# measured speed-up also falls below the formula: a verification costs slightly more than one step, and our Python loop
# concatenates tensors and cuts caches every round.
#
# Large models on GPUs are the opposite case. Decoding at batch size 1 is memory-bound: a step takes about as long as
# reading all the weights once (see [this section](kv-cache.ipynb#why-decoding-is-memory-bound) of the KV-cache lab),
# and scoring $k+1$ tokens reads the same weights, so verification is nearly free; a draft has far fewer weights, so its
# step is correspondingly shorter and $c$ is small. That is where the papers' results come from:
# Leviathan et al. report a 2X-3X speed-up on T5-XXL with identical outputs, and Chen et al. a 2-2.5x decoding speed-up
# on the 70-billion-parameter Chinchilla in a distributed setup.

# %% [markdown] lang="zh"
# ## 采样版：修正的拒绝采样
#
# 贪心时，草稿只需"等于 argmax"。采样时，我们要输出严格服从目标模型的分布 $p$，而草稿是从草稿模型的分布 $q$ 里抽的。
# Leviathan 等的算法 1（Chen 等称之为修正的拒绝采样）这样做：
#
# 1. 草稿 $x \sim q$；以概率 $\min\!\big(1, p(x)/q(x)\big)$ 接受它；
# 2. 若拒绝，就从"剩余分布" $p'(x) = \max(0,\, p(x)-q(x)) \,/\, \sum_y \max(0,\, p(y)-q(y))$ 中重新抽一个。
#
# **为什么恰好是 $p$。** 记 $\beta = \sum_y \min(p(y), q(y))$，它就是一个草稿被接受的概率。输出为 $x$ 的概率是
#
# $$q(x)\min\!\Big(1,\frac{p(x)}{q(x)}\Big) + (1-\beta)\,p'(x) = \min(p(x), q(x)) + (1-\beta)\,\frac{\max(0,\, p(x)-q(x))}{\sum_y \max(0,\, p(y)-q(y))}.$$
#
# 因为 $\min(p, q) + \max(0, p-q) = p$，对 $y$ 求和得 $\beta + \sum_y \max(0, p(y)-q(y)) = 1$，即分母恰好等于 $1-\beta$，
# 两者约去，剩下 $\min(p(x), q(x)) + \max(0, p(x)-q(x)) = p(x)$。顺带得到：接受概率 $\beta = 1 - \mathrm{TV}(p, q)$，
# 草稿越接近目标，接受得越多；这就是前面第一张表里的 $\sum_x \min(p(x), q(x))$。贪心是它的特例：$p$、$q$ 都是独热分布时，
# 同一个词元才接受，剩余分布就是目标模型 argmax 的独热分布。推导对任何 $p$、$q$ 都成立，所以加了温度、top-k、top-p 时，
# 只要 $p$ 取目标模型**处理后**的分布、$q$ 取草稿真正从中抽样的那个分布，输出就严格服从处理后的 $p$。
#
# **检验。** 对 4 个提示中的每一个，取温度 1 下目标模型的 $p$ 和草稿的 $q$，抽 $N$ = 200,000 个草稿 $x \sim q$，用上面的
# `accept_or_resample` 处理，把输出的经验分布与 $p$ 比较总变差距离 $\mathrm{TV} = \tfrac12\sum_x |\hat p(x) - p(x)|$。
# 容差由两部分组成：抽样噪声的期望不超过 $\tfrac12 \sum_x \sqrt{p(x)(1-p(x))/N}$（由 Jensen 不等式 $E|X| \le \sqrt{E X^2}$ 得到）；
# 改变一个样本，TV 最多变 $1/N$，由 McDiarmid 不等式，TV 超出其期望 $t$ 的概率不超过 $e^{-2Nt^2}$，取 $t$ 使它等于 $10^{-4}$。
# 于是正确的采样器在一个上下文上越过容差的概率低于万分之一。为了说明这个检验确实能发现错误，同样的抽样还交给两个错误的做法：
# 只用草稿、不做拒绝（输出服从 $q$）；以及一个看似合理的错误——被拒后从 $p$ 而不是剩余分布里重抽，输出服从 $\min(p,q) + (1-\beta)p \ne p$。
# 直接从 $p$ 抽同样多的样本作为参照，它的 TV 就是纯粹的抽样噪声。

# %% [markdown] lang="en"
# ## Sampling: the modified rejection sampling rule
#
# In greedy decoding a draft only has to equal the argmax. When sampling, the output must follow the target's
# distribution $p$ exactly, while drafts are drawn from the draft model's $q$. Algorithm 1 of Leviathan et al. (Chen et
# al. call it modified rejection sampling) does this:
#
# 1. draft $x \sim q$; accept it with probability $\min\!\big(1, p(x)/q(x)\big)$;
# 2. if it is rejected, draw a replacement from the "residual" $p'(x) = \max(0,\, p(x)-q(x)) \,/\, \sum_y \max(0,\, p(y)-q(y))$.
#
# **Why the result is exactly $p$.** Let $\beta = \sum_y \min(p(y), q(y))$, the probability that a draft is accepted.
# The output is $x$ with probability
#
# $$q(x)\min\!\Big(1,\frac{p(x)}{q(x)}\Big) + (1-\beta)\,p'(x) = \min(p(x), q(x)) + (1-\beta)\,\frac{\max(0,\, p(x)-q(x))}{\sum_y \max(0,\, p(y)-q(y))}.$$
#
# Since $\min(p, q) + \max(0, p-q) = p$, summing over $y$ gives $\beta + \sum_y \max(0, p(y)-q(y)) = 1$: the denominator
# is exactly $1-\beta$, the two cancel, and what remains is $\min(p(x), q(x)) + \max(0, p(x)-q(x)) = p(x)$. On the way we
# get the acceptance probability $\beta = 1 - \mathrm{TV}(p, q)$: the closer the draft to the target, the more is
# accepted; this is the $\sum_x \min(p(x), q(x))$ of the first table. Greedy decoding is the special case of one-hot
# $p$ and $q$: a draft is accepted only if it is the same token, and the residual is the one-hot of the target's argmax.
# The derivation holds for any $p$ and $q$, so with temperature, top-k or top-p the output follows the target's
# processed distribution exactly, as long as $p$ is the target's distribution **after** processing and $q$ is the
# distribution the draft actually sampled from.
#
# **The test.** For each of the 4 prompts, take the target's $p$ and the draft's $q$ at temperature 1, draw $N$ =
# 200,000 drafts $x \sim q$, pass them through `accept_or_resample` above, and compare the output's empirical
# distribution with $p$ by the total variation distance $\mathrm{TV} = \tfrac12\sum_x |\hat p(x) - p(x)|$. The tolerance
# has two parts: the expected sampling noise is at most $\tfrac12 \sum_x \sqrt{p(x)(1-p(x))/N}$ (Jensen's inequality,
# $E|X| \le \sqrt{E X^2}$); and since changing one sample moves the TV by at most $1/N$, McDiarmid's inequality bounds
# the probability that the TV exceeds its mean by $t$ by $e^{-2Nt^2}$, with $t$ chosen to make that $10^{-4}$. A correct
# sampler therefore crosses the tolerance on a context with probability below one in ten thousand. To show that the
# test does catch errors, the same draws also go through two wrong procedures: the draft alone, with no rejection (the
# output follows $q$); and a plausible-looking mistake, redrawing from $p$ instead of the residual after a rejection,
# whose output follows $\min(p,q) + (1-\beta)p \ne p$. As a reference, as many samples drawn directly from $p$ give the
# TV of pure sampling noise.

# %%
N_DRAWS, DELTA = 200_000, 1e-4


def tv(tokens, p):
    """Total variation distance between the empirical distribution of `tokens` and the distribution p."""
    return 0.5 * (torch.bincount(tokens, minlength=p.numel()) / len(tokens) - p).abs().sum().item()


gen = torch.Generator().manual_seed(0)
sampling_checks = []
print(f"{'context':<9} {'sum min(p,q)':>12} {'accepted':>9} {'TV: direct':>11} {'speculative':>12} "
      f"{'wrong redraw':>13} {'draft only':>11} {'tolerance':>10}")
for ctx in prompts:
    with torch.no_grad():
        p = next_token_probs(target(ctx)[0, -1])  # temperature 1
        q = next_token_probs(draft(ctx)[0, -1])
    x = torch.multinomial(q, N_DRAWS, replacement=True, generator=gen)  # N_DRAWS independent drafts
    spec, accepted = accept_or_resample(p, q, x, gen)
    wrong = torch.where(accepted, x, torch.multinomial(p, N_DRAWS, replacement=True, generator=gen))
    direct = torch.multinomial(p, N_DRAWS, replacement=True, generator=gen)
    noise_bound = 0.5 * (p * (1 - p) / N_DRAWS).sqrt().sum().item()
    tolerance = noise_bound + math.sqrt(math.log(1 / DELTA) / (2 * N_DRAWS))  # Jensen bound + McDiarmid margin
    row = {"overlap": torch.minimum(p, q).sum().item(), "accepted": accepted.float().mean().item(), "direct": tv(direct, p),
           "spec": tv(spec, p), "wrong": tv(wrong, p), "draft": tv(x, p), "tolerance": tolerance}
    sampling_checks.append(row)
    print(f"{tok.decode(ctx[0, -4:]).replace(chr(10), '⏎'):<9} {row['overlap']:>12.3f} {row['accepted']:>9.3f} "
          f"{row['direct']:>11.3f} {row['spec']:>12.3f} {row['wrong']:>13.3f} {row['draft']:>11.3f} {tolerance:>10.3f}")
    if row["overlap"] == min(r["overlap"] for r in sampling_checks):  # plot the context where p and q differ most
        shown = (p, q, torch.bincount(spec, minlength=p.numel()) / N_DRAWS)

# %% [markdown] lang="zh"
# 推测采样与 $p$ 的距离和直接从 $p$ 抽样的距离在同一水平，也就是只剩抽样噪声，远在容差之内；只用草稿和错误重抽这两种做法都远远超出容差。
# 接受的比例与 $\sum_x \min(p(x), q(x))$ 相符。下图取 $p$ 与 $q$ 差别最大的那个上下文，画出目标模型最可能的 12 个词元：推测采样的频率贴着 $p$，而不是 $q$。

# %% [markdown] lang="en"
# Speculative sampling is as far from $p$ as direct sampling from $p$ is, which is to say only sampling noise remains,
# well inside the tolerance; the draft alone and the wrong redraw are far beyond it. The accepted fraction matches
# $\sum_x \min(p(x), q(x))$. The plot takes the context where $p$ and $q$ differ most and shows the target's 12 most
# likely tokens: the frequencies of speculative sampling follow $p$, not $q$.

# %%
p0, q0, spec0 = shown
top = p0.argsort(descending=True)[:12]
ranks = torch.arange(len(top))
fig, ax = plt.subplots()
ax.bar(ranks - 0.27, p0[top], width=0.27, label="target p")
ax.bar(ranks, spec0[top], width=0.27, label=f"speculative sampling, {N_DRAWS:,} draws")
ax.bar(ranks + 0.27, q0[top], width=0.27, label="draft q")
ax.set_xticks(ranks, [str(int(r) + 1) for r in ranks])
ax.set_xlabel("token, ranked by the target's probability")
ax.set_ylabel("probability")
ax.set_title("Next-token distribution where draft and target differ most (temperature 1)")
ax.legend(fontsize=8)
plt.show()

# %% [markdown] lang="zh"
# ## 解码策略：温度、top-k 与 top-p
#
# 采样前通常先改一改目标分布。`labkit.next_token_probs` 实现了三个常用的旋钮：
#
# - **温度** $\tau$：$\mathrm{softmax}(z/\tau)$。$\tau < 1$ 让分布更尖，$\tau > 1$ 让分布更平，$\tau \to 0$ 就是贪心；
#   在数学上，无论 $\tau$ 取多少，每个词元的概率都不为 0；
# - **top-k**：只保留概率最高的 $k$ 个词元再归一化（[Fan 等，arXiv:1805.04833](https://arxiv.org/abs/1805.04833) 用它生成故事），
#   不管模型有多确定，候选数都是 $k$；
# - **top-p**（核采样，[Holtzman 等，arXiv:1904.09751](https://arxiv.org/abs/1904.09751)）：保留累计概率刚达到 $p$ 的最少一组高概率词元。
#   候选数随分布的形状变化：模型有把握时只剩几个，没把握时有很多。Holtzman 等提出它，正是因为固定的 $k$ 做不到这一点。
#
# 下面在整段留出文本的每个位置上（与第一节相同），按每种设置算出下一个词元的分布，统计平均熵（奈特）、最可能词元的平均概率，
# 以及候选词元数（概率不为 0 的词元个数）的中位数、最小值和最大值。

# %% [markdown] lang="en"
# ## Decoding strategies: temperature, top-k and top-p
#
# Before sampling, the target distribution is usually reshaped. `labkit.next_token_probs` implements the three common
# knobs:
#
# - **temperature** $\tau$: $\mathrm{softmax}(z/\tau)$. $\tau < 1$ sharpens the distribution, $\tau > 1$ flattens it,
#   $\tau \to 0$ is greedy; mathematically, whatever $\tau$ is, no token's probability becomes 0;
# - **top-k**: keep the $k$ most probable tokens and renormalise ([Fan et al., arXiv:1805.04833](https://arxiv.org/abs/1805.04833)
#   used it to generate stories); however sure the model is, there are $k$ candidates;
# - **top-p** (nucleus sampling, [Holtzman et al., arXiv:1904.09751](https://arxiv.org/abs/1904.09751)): keep the smallest
#   set of most probable tokens whose probabilities add up to at least $p$. The number of candidates follows the shape
#   of the distribution: a few when the model is sure, many when it is not. Holtzman et al. proposed it because a fixed
#   $k$ cannot do that.
#
# Below, at every position of the held-out text (as in the first section), each setting turns the target's logits into
# a next-token distribution, and we report the mean entropy (nats), the mean probability of the most likely token, and
# the median, minimum and maximum number of candidates (tokens with non-zero probability).

# %%
settings = {
    "temperature 0.5": dict(temperature=0.5), "temperature 1": dict(temperature=1.0),
    "temperature 2": dict(temperature=2.0), "top-k 20": dict(top_k=20), "top-p 0.9": dict(top_p=0.9),
    "top-p 0.5": dict(top_p=0.5),
}
flat = logits_held.reshape(-1, logits_held.size(-1))
strategy = {}
print(f"{'setting':<16} {'entropy (nats)':>14} {'top-1 prob':>11} {'candidates: median':>19} {'min':>5} {'max':>6}")
for name, kwargs in settings.items():
    probs = next_token_probs(flat, **kwargs)
    entropy = torch.special.entr(probs).sum(-1)  # entr(0) = 0, so excluded tokens add nothing
    candidates_n = (probs > 0).sum(-1)
    strategy[name] = entropy.mean().item()
    print(f"{name:<16} {entropy.mean().item():>14.2f} {probs.max(-1).values.mean().item():>11.2f} "
          f"{candidates_n.median().item():>19} {candidates_n.min().item():>5} {candidates_n.max().item():>6}")

# %% [markdown] lang="zh"
# 温度只改变分布的形状：升温，熵增大、最可能词元的概率下降，但候选数始终是整个词表。top-k 的候选数恒为 $k$；
# top-p 的候选数在不同位置之间相差很大，从一个到几百个都有。这个小模型很没把握（温度 1 时平均熵很高），所以 top-p 0.9 通常要留下几百个候选，
# 这正是"按累计概率截断"与"按个数截断"的区别。三种设置都可以与推测采样组合：如上一节所说，把 $p$ 换成目标模型处理后的分布、
# $q$ 取草稿实际抽样所用的分布，再用那条规则即可。

# %% [markdown] lang="en"
# Temperature only changes the shape: warmer means higher entropy and a less likely top token, but the candidates are
# always the whole vocabulary. top-k always has $k$ candidates; top-p's count varies widely from position to position,
# from one to hundreds. This small model is very unsure (its mean entropy at temperature 1 is high), so top-p 0.9
# typically keeps hundreds of candidates: that is the difference between cutting by cumulative probability and cutting by
# count. All three combine with speculative sampling: as the previous section says, apply the rule with $p$ the
# target's processed distribution and $q$ the distribution the draft actually sampled from.

# %% [markdown] lang="zh"
# ## 检查
#
# 断言（阈值的理由见各节）：
#
# - 4 个提示 × 4 个 $k$，共 16 次贪心推测解码的输出都与目标模型自己的贪心输出逐词元相同；
# - 每个接受率都在 $[0, 1]$ 之内；贪心时省下目标前向次数最多的那个 $k$ 省下的次数大于 0（验证若从不接受草稿，一次也省不下）；
# - 每个上下文上，推测采样与 $p$ 的 TV 不超过上面推出的容差（正确的采样器误报的概率低于万分之一）；而且检验确实能失败：
#   只用草稿时的 TV 超过容差的 3 倍，错误重抽的 TV 也超过容差；
# - 平均熵随温度严格上升（0.5 < 1 < 2）。对不全相等的 logits，$\mathrm{softmax}(z/\tau)$ 的熵随 $\tau$ 单调递增，
#   所以只有 `next_token_probs` 出错时这一条才会失败。
#
# 墙钟加速比不做断言：它取决于机器当时的负载，上文已经解释了它在这里为什么小于 1。

# %% [markdown] lang="en"
# ## Check
#
# Asserted (each threshold is argued in its section):
#
# - all 16 greedy speculative outputs (4 prompts × 4 values of $k$) equal the target's own greedy output token for
#   token;
# - every acceptance rate lies in $[0, 1]$; for greedy decoding, the $k$ that saves the most target passes saves more
#   than 0 (a verification that never accepted a draft would save none);
# - on every context, speculative sampling is within the tolerance derived above of $p$ in TV (a correct sampler fails
#   with probability below one in ten thousand); and the test can fail: the draft alone is more than 3 times the
#   tolerance away, and the wrong redraw is beyond the tolerance too;
# - the mean entropy rises strictly with temperature (0.5 < 1 < 2). For logits that are not all equal, the entropy of
#   $\mathrm{softmax}(z/\tau)$ increases with $\tau$, so this fails only if `next_token_probs` is wrong.
#
# The wall-clock speed-up is not asserted: it depends on the machine's load at the time, and the section above explains
# why it is below 1 here.

# %%
best_k = max(KS, key=lambda k: sweep["greedy", k][3])
assert all(identical), f"{identical.count(False)} speculative greedy outputs differ from the target's greedy output"
for (mode, k), (acceptance, _, _, _) in sweep.items():
    assert 0 <= acceptance <= 1, f"{mode}, k={k}: acceptance rate {acceptance} outside [0, 1]"
assert sweep["greedy", best_k][3] > 0, f"greedy k={best_k} saved no target passes"
for i, row in enumerate(sampling_checks):
    assert row["spec"] <= row["tolerance"], f"context {i}: speculative sampling is {row['spec']:.3f} from p (> {row['tolerance']:.3f})"
    assert row["draft"] > 3 * row["tolerance"], f"context {i}: the draft alone is only {row['draft']:.3f} from p: no power"
    assert row["wrong"] > row["tolerance"], f"context {i}: the wrong redraw ({row['wrong']:.3f}) was not detected"
entropies = [strategy[f"temperature {t}"] for t in ("0.5", "1", "2")]
assert entropies[0] < entropies[1] < entropies[2], f"entropy should rise with temperature: {entropies}"
spec_worst = max(r["spec"] / r["tolerance"] for r in sampling_checks)
wrong_best = min(r["wrong"] / r["tolerance"] for r in sampling_checks)
draft_best = min(r["draft"] / r["tolerance"] for r in sampling_checks)
print(f"check passed: {len(identical)} greedy outputs identical; acceptance rates in [0, 1]; greedy k={best_k} saves "
      f"{sweep['greedy', best_k][3]} of {n_tokens} target passes; on {len(sampling_checks)} contexts speculative sampling "
      f"is at most {spec_worst:.0%} of the tolerance from p, the wrong redraw at least {wrong_best:.1f}x and the draft "
      f"alone at least {draft_best:.1f}x; entropy " + " < ".join(f"{e:.2f}" for e in entropies) + " nats at temperature 0.5, 1, 2")
