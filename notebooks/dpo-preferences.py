# %% [markdown] lang="zh"
# # 实验：DPO 偏好优化
#
# 配套题目：第二部分《微调与对齐》第 5 题[DPO 的原理是什么？IPO、KTO、ORPO、SimPO 各改了什么，什么时候用？](../chapters/fine-tuning-and-alignment.md#q-dpo-variants)。
#
# DPO（直接偏好优化，[Rafailov 等，arXiv:2305.18290](https://arxiv.org/abs/2305.18290)）不训练奖励模型，也不做强化学习采样，
# 直接在偏好对（同一提示下的"被选中"回答 $y_w$ 和"被拒绝"回答 $y_l$）上最小化
#
# $$\mathcal{L}_\text{DPO} = -\log\sigma\Big(\beta\big[(\log\pi_\theta(y_w\mid x)-\log\pi_\text{ref}(y_w\mid x)) - (\log\pi_\theta(y_l\mid x)-\log\pi_\text{ref}(y_l\mid x))\big]\Big),$$
#
# 其中 $\pi_\text{ref}$ 是冻结的参考模型（训练起点），$\hat r(x,y)=\beta\log\frac{\pi_\theta(y\mid x)}{\pi_\text{ref}(y\mid x)}$ 称为**隐式奖励**。
#
# **本实验做什么：** 在 `labkit` 的小型字符级 GPT 上从头写出 DPO：
#
# 1. 定义一条能用代码检查、而基座模型起初并不具备的偏好，用基座自己采样的续写造出偏好对，分成训练集和留出集；
# 2. 按序列对数概率（逐词元 gather 再求和）写出 DPO 损失，训练策略模型；
# 3. 记录留出偏好对上的准确率（被选中回答的隐式奖励更高的比例）、隐式奖励间隔和相对参考模型的对数概率比，画出它们随步数的变化；
# 4. 比较三个 $\beta$：策略离参考模型走了多远（在留出提示上估计 KL 散度），以及准确率和行为的变化。

# %% [markdown] lang="en"
# # Lab: DPO preference optimization
#
# Accompanies, in Part 2: *Fine-tuning and alignment*, question 5, [How does DPO work? What do IPO, KTO, ORPO and SimPO change, and when is each used?](../chapters/fine-tuning-and-alignment.md#q-dpo-variants).
#
# DPO (direct preference optimization, [Rafailov et al., arXiv:2305.18290](https://arxiv.org/abs/2305.18290)) trains no reward
# model and samples nothing with reinforcement learning: on preference pairs (a "chosen" answer $y_w$ and a "rejected" answer
# $y_l$ to the same prompt) it directly minimises
#
# $$\mathcal{L}_\text{DPO} = -\log\sigma\Big(\beta\big[(\log\pi_\theta(y_w\mid x)-\log\pi_\text{ref}(y_w\mid x)) - (\log\pi_\theta(y_l\mid x)-\log\pi_\text{ref}(y_l\mid x))\big]\Big),$$
#
# where $\pi_\text{ref}$ is the frozen reference model (the starting point) and
# $\hat r(x,y)=\beta\log\frac{\pi_\theta(y\mid x)}{\pi_\text{ref}(y\mid x)}$ is called the **implicit reward**.
#
# **What this lab does:** it writes DPO from scratch on the small character-level GPT from `labkit`:
#
# 1. it defines a preference that code can check and that the base model does not have at the start, builds preference pairs
#    from the base model's own sampled continuations, and splits them into training and held-out pairs;
# 2. it writes the DPO loss with sequence log-probabilities (a gather of token log-probabilities, summed) and trains a policy;
# 3. it tracks, on the held-out pairs, the preference accuracy (the share where the chosen answer's implicit reward is higher),
#    the implicit reward margin and the log-probability ratios to the reference, and plots them over the steps;
# 4. it compares three values of $\beta$: how far the policy moves from the reference (a KL divergence estimated on held-out
#    prompts), and what happens to accuracy and behaviour.

# %%
import copy
import time

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

from labkit import generate, handbook_char_data, handbook_gpt, seed_everything, setup_plots

seed_everything(0, threads=1)  # one thread: fastest for a tiny model on a shared CPU, and repeatable
setup_plots()

# %% [markdown] lang="zh"
# ## 参考模型与偏好
#
# 参考模型就是所有实验共用的那个小 GPT：`handbook_gpt()` 在本手册中文正文上训练 300 步得到。DPO 通常从 SFT 模型出发，
# 这里没有 SFT 阶段，预训练模型本身就是起点。
#
# **偏好：续写里要出现句号"。"**，相当于"把句子说完"这样一条风格要求，用一行代码就能判断。
# 提示是从正文中截取的 6 个字符，参考模型以温度 1 为每个提示采样 8 个 10 字符的续写；若其中既有带句号的、也有不带的，
# 就取第一个带句号的作为被选中回答、第一个不带的作为被拒绝回答。训练提示取自训练文本，留出提示取自留出文本（与 `handbook_gpt` 的划分相同），
# 所以留出偏好对的提示，模型在预训练和 DPO 中都没见过。
#
# 参考模型本身很少说完一句话：下面打印它的续写中带句号的比例。这就是"模型起初不具备这个偏好"的含义。

# %% [markdown] lang="en"
# ## The reference model and the preference
#
# The reference model is the small GPT all labs share: `handbook_gpt()` trains it for 300 steps on this handbook's Chinese
# prose. DPO usually starts from an SFT model; there is no SFT stage here, so the pretrained model itself is the starting point.
#
# **The preference: the continuation contains a full stop "。"**, a style rule in the spirit of "finish the sentence" that one
# line of code can check. Prompts are 6-character snippets of the prose; for each, the reference model samples 8 continuations
# of 10 characters at temperature 1; when some of them contain a full stop and some do not, the first with one becomes the
# chosen answer and the first without becomes the rejected one. Training prompts come from the training text, held-out prompts
# from the held-out text (the same split as `handbook_gpt`'s), so the model has seen the held-out pairs' prompts neither in
# pretraining nor in DPO.
#
# The reference model itself seldom finishes a sentence: below we print the share of its continuations that contain a full
# stop. That is what "the model does not have the preference at the start" means.

# %%
P, C, K = 6, 10, 8  # prompt characters, continuation characters, samples per prompt
TARGET = "。"

ref, tok, history = handbook_gpt()  # the reference model, in eval mode
ref.requires_grad_(False)
_, train_ids, held_ids = handbook_char_data()  # handbook_gpt's own split


def prefers(text: str) -> bool:
    """The preference, checked by code: the continuation finishes a sentence."""
    return TARGET in text


def make_pairs(ids: torch.Tensor, n_prompts: int, gen: torch.Generator):
    """Sample K continuations per prompt from the reference; keep (prompt, chosen, rejected) where both kinds occur.
    Returns three (N, length) id tensors and the share of all samples that satisfy the preference."""
    starts = torch.randint(len(ids) - P, (n_prompts,), generator=gen)
    prompts = torch.stack([ids[s : s + P] for s in starts.tolist()])
    samples = generate(ref, prompts.repeat_interleave(K, dim=0), C, temperature=1.0, generator=gen)
    samples = samples[:, P:].view(n_prompts, K, C)
    good = [[prefers(tok.decode(c)) for c in conts] for conts in samples]
    keep = [i for i, g in enumerate(good) if any(g) and not all(g)]
    chosen = torch.stack([samples[i, good[i].index(True)] for i in keep])
    rejected = torch.stack([samples[i, good[i].index(False)] for i in keep])
    return prompts[keep], chosen, rejected, sum(map(sum, good)) / (n_prompts * K)


t0 = time.perf_counter()
gen = torch.Generator().manual_seed(0)
train_pairs = make_pairs(train_ids, 600, gen)
held_pairs = make_pairs(held_ids, 200, gen)
print(f"{len(train_pairs[0])} training pairs, {len(held_pairs[0])} held-out pairs, built in {time.perf_counter() - t0:.1f} s; "
      f"{train_pairs[3]:.1%} of the reference's continuations contain {TARGET!r}")


def show(ids) -> str:
    return tok.decode(ids).replace("\n", "⏎")


for prompt, chosen, rejected in zip(*(t[:3] for t in held_pairs[:3])):  # the first three held-out pairs
    print(f"prompt {show(prompt)!r:10} chosen {show(chosen)!r:14} rejected {show(rejected)!r}")

# %% [markdown] lang="zh"
# ## 序列对数概率与 DPO 损失
#
# 一个回答的对数概率是它每个字符的对数概率之和：把"提示 + 回答"送进模型，对输出做 `log_softmax`，用 `gather` 取出每个位置上
# 真实下一个字符的对数概率，只对回答部分求和（提示部分的概率不属于回答）。参考模型的对数概率在训练前算一次即可，它不会变。
#
# 损失里只出现对数概率比之差 $h=(\log\pi_\theta-\log\pi_\text{ref})(y_w)-(\log\pi_\theta-\log\pi_\text{ref})(y_l)$。
# 它的梯度给每个偏好对的权重是 $\sigma(-\beta h)$：隐式奖励已经把 $y_w$ 排得越靠前，这一对的权重就越小（DPO 论文第 4 节）。
# 训练时关闭 dropout，与 TRL 的 `DPOTrainer` 默认做法一致（`DPOConfig.disable_dropout=True`，[TRL 文档](https://huggingface.co/docs/trl/dpo_trainer)）：
# 否则同一个模型两次前向的对数概率不同，训练开始时策略就已经"偏离"参考模型了。
#
# **准确率从哪里开始？** 训练开始时策略就是参考模型，每个隐式奖励都恰好为 0，所有偏好对都打平。我们把打平算作半对，所以起点正好是 0.5，即随机水平。

# %% [markdown] lang="en"
# ## Sequence log-probabilities and the DPO loss
#
# An answer's log-probability is the sum of its characters' log-probabilities: feed "prompt + answer" to the model, take
# `log_softmax` of the output, `gather` at each position the log-probability of the actual next character, and sum over the
# answer only (the prompt's probability is not the answer's). The reference model's log-probabilities are computed once before
# training; they never change.
#
# The loss only sees the difference of log-ratios
# $h=(\log\pi_\theta-\log\pi_\text{ref})(y_w)-(\log\pi_\theta-\log\pi_\text{ref})(y_l)$. Its gradient weights each pair by
# $\sigma(-\beta h)$: the more the implicit reward already ranks $y_w$ first, the less the pair counts (Section 4 of the DPO
# paper). Dropout is switched off during training, as TRL's `DPOTrainer` does by default (`DPOConfig.disable_dropout=True`,
# [TRL documentation](https://huggingface.co/docs/trl/dpo_trainer)): otherwise two forward passes of the same model give
# different log-probabilities, and the policy would "differ" from the reference before training even began.
#
# **Where does accuracy start?** At the start the policy is the reference model, so every implicit reward is exactly 0 and every
# pair is a tie. We count a tie as half right, so the starting point is exactly 0.5, chance.


# %%
def sequence_logp(model, prompts: torch.Tensor, answers: torch.Tensor) -> torch.Tensor:
    """log pi(answer | prompt) for each row: the answer's token log-probabilities, summed. Shapes (N, P), (N, C) -> (N,)."""
    x = torch.cat([prompts, answers], dim=1)
    logp = model(x[:, :-1]).log_softmax(dim=-1)  # position t predicts token t + 1
    token_logp = logp.gather(-1, x[:, 1:].unsqueeze(-1)).squeeze(-1)  # (N, P + C - 1)
    return token_logp[:, prompts.size(1) - 1 :].sum(dim=-1)  # the C answer tokens only


def dpo_loss(pi_c, pi_r, ref_c, ref_r, beta: float) -> torch.Tensor:
    """-log sigmoid(beta * ((pi_c - ref_c) - (pi_r - ref_r))), averaged over the pairs."""
    return -F.logsigmoid(beta * ((pi_c - ref_c) - (pi_r - ref_r))).mean()


with torch.no_grad():
    ref_logp = {name: (sequence_logp(ref, p, c), sequence_logp(ref, p, r))
                for name, (p, c, r, _) in (("train", train_pairs), ("held", held_pairs))}


@torch.no_grad()
def held_out_metrics(policy, beta: float) -> dict:
    """Preference accuracy (ties count half), mean implicit reward margin and mean log-ratios on the held-out pairs."""
    p, c, r, _ = held_pairs
    ref_c, ref_r = ref_logp["held"]
    ratio_c, ratio_r = sequence_logp(policy, p, c) - ref_c, sequence_logp(policy, p, r) - ref_r
    margin = beta * (ratio_c - ratio_r)  # implicit reward of chosen minus rejected
    accuracy = ((margin > 0).float() + 0.5 * (margin == 0).float()).mean().item()
    return {"accuracy": accuracy, "margin": margin.mean().item(),
            "ratio_chosen": ratio_c.mean().item(), "ratio_rejected": ratio_r.mean().item()}


print(held_out_metrics(ref, beta=0.1))  # the reference against itself: all ties

# %% [markdown] lang="zh"
# ## 训练：三个 β
#
# 从参考模型复制出策略模型，用 AdamW（学习率 1e-4）训练 100 步，每步 32 个偏好对，每 10 步在留出偏好对上记一次指标。
# $\beta$ 取 0.1（TRL 的默认值）、0.5 和 2.0，其余一切相同，包括批次顺序。

# %% [markdown] lang="en"
# ## Training with three values of β
#
# The policy starts as a copy of the reference model and is trained with AdamW (learning rate 1e-4) for 100 steps of 32
# pairs each; every 10 steps the held-out metrics are recorded. $\beta$ is 0.1 (TRL's default), 0.5 or 2.0; everything else
# is the same, including the order of the batches.

# %%
STEPS, LR, BATCH, EVAL_EVERY = 100, 1e-4, 32, 10
BETAS = (0.1, 0.5, 2.0)


def train_dpo(beta: float):
    """DPO from the reference model. Returns the policy, its held-out metrics every EVAL_EVERY steps, and the seconds taken."""
    policy = copy.deepcopy(ref).requires_grad_(True)  # eval mode, as the reference: dropout off
    opt = torch.optim.AdamW(policy.parameters(), lr=LR, weight_decay=0.0)
    batches = torch.Generator().manual_seed(1)
    (p, c, r, _), (ref_c, ref_r) = train_pairs, ref_logp["train"]
    curve = [(0, held_out_metrics(policy, beta))]
    start = time.perf_counter()
    for step in range(1, STEPS + 1):
        i = torch.randint(len(p), (BATCH,), generator=batches)
        loss = dpo_loss(sequence_logp(policy, p[i], c[i]), sequence_logp(policy, p[i], r[i]), ref_c[i], ref_r[i], beta)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % EVAL_EVERY == 0:
            curve.append((step, held_out_metrics(policy, beta)))
    return policy, curve, time.perf_counter() - start


runs = {beta: train_dpo(beta) for beta in BETAS}
print(f"{'beta':>5} {'step':>5} {'accuracy':>9} {'margin':>8} {'log-ratio chosen':>17} {'log-ratio rejected':>19}")
for beta, (_, curve, seconds) in runs.items():
    for step, m in curve[:: len(curve) // 2]:  # start, middle, end
        print(f"{beta:>5} {step:>5} {m['accuracy']:>9.3f} {m['margin']:>8.3f} {m['ratio_chosen']:>17.2f} {m['ratio_rejected']:>19.2f}")
    print(f"      ({seconds:.1f} s)")

# %% [markdown] lang="zh"
# ## 准确率、隐式奖励与对数概率比
#
# 左图：留出偏好对上的准确率，从 0.5 出发很快升高。右图：被选中回答（实线）和被拒绝回答（虚线）相对参考模型的平均对数概率比
# $\log\frac{\pi_\theta}{\pi_\text{ref}}$，单位是奈特/回答；两者之差乘以 $\beta$ 就是隐式奖励间隔。
#
# 注意 $\beta=0.1$ 那条实线：训练后期，被选中回答的对数概率比也降到了 0 以下，即策略给被选中回答的概率**低于**参考模型，
# 只是被拒绝回答降得更多。

# %% [markdown] lang="en"
# ## Accuracy, implicit rewards and log-ratios
#
# Left: the preference accuracy on the held-out pairs, rising fast from 0.5. Right: the mean log-probability ratio to the
# reference, $\log\frac{\pi_\theta}{\pi_\text{ref}}$, of the chosen answers (solid) and the rejected answers (dashed), in nats
# per answer; their difference times $\beta$ is the implicit reward margin.
#
# Note the solid line for $\beta=0.1$: late in training the chosen answers' log-ratio also falls below 0, i.e. the policy gives
# the chosen answers **less** probability than the reference does; the rejected answers just fall further.

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9.6, 3.4))
for (beta, (_, curve, _)), color in zip(runs.items(), ("C0", "C1", "C2")):
    steps = [s for s, _ in curve]
    ax1.plot(steps, [m["accuracy"] for _, m in curve], "o-", color=color, markersize=3, label=f"β = {beta}")
    ax2.plot(steps, [m["ratio_chosen"] for _, m in curve], "-", color=color, label=f"β = {beta}: chosen")
    ax2.plot(steps, [m["ratio_rejected"] for _, m in curve], "--", color=color, label=f"β = {beta}: rejected")
ax1.axhline(0.5, color="gray", ls=":", label="chance")
ax1.set_xlabel("DPO step")
ax1.set_ylabel("held-out preference accuracy")
ax1.set_title("Implicit reward ranks chosen first")
ax1.legend(fontsize=7)
ax2.axhline(0, color="gray", ls=":")
ax2.set_xlabel("DPO step")
ax2.set_ylabel("mean log π/π_ref (nats / answer)")
ax2.set_title("Log-ratio to the reference")
ax2.legend(fontsize=7)
fig.tight_layout()
plt.show()

# %% [markdown] lang="zh"
# > **常见误区：** "DPO 会提高被选中回答的概率。" DPO 只保证两个对数概率比之差变大；只要被拒绝回答降得更多，被选中回答的概率也可以一起下降。
# > Pal 等人证明并观察到了这一点（尤其当两个回答只差几个词元时），并提出了 DPO-Positive 来修正
# > （[arXiv:2402.13228](https://arxiv.org/abs/2402.13228)）。训练时要同时监控被选中回答本身的对数概率，而不只看准确率和间隔。

# %% [markdown] lang="en"
# > **Common misconception:** "DPO raises the probability of the chosen answer." DPO only guarantees that the difference of the
# > two log-ratios grows; as long as the rejected answer falls further, the chosen answer's probability can fall too. Pal et al.
# > proved and observed this (especially when the two answers differ in only a few tokens) and proposed DPO-Positive to fix it
# > ([arXiv:2402.13228](https://arxiv.org/abs/2402.13228)). Monitor the chosen answers' own log-probability during training, not
# > only the accuracy and the margin.

# %% [markdown] lang="zh"
# ## β 决定策略离参考模型多远
#
# DPO 的推导从带 KL 约束的目标出发，最优策略是 $\pi^*(y\mid x)\propto\pi_\text{ref}(y\mid x)\exp\big(r(x,y)/\beta\big)$（论文式 4）：
# $\beta$ 越小，同样的奖励差能把概率推得越远。TRL 对这个参数的说明也是"β 越大，偏离参考模型越少"（[TRL 文档](https://huggingface.co/docs/trl/dpo_trainer)）。
#
# 用两个量衡量"走了多远"：
#
# - **KL 散度估计**：对留出提示，从策略采样续写 $y\sim\pi_\theta$，求 $\log\pi_\theta(y\mid x)-\log\pi_\text{ref}(y\mid x)$ 的平均值，
#   这是 $\mathrm{KL}(\pi_\theta\,\|\,\pi_\text{ref})$（整段 10 字符续写上）的蒙特卡洛估计；
# - **行为**：这些采样续写中带句号的比例，与参考模型自己采样时的比例对比。

# %% [markdown] lang="en"
# ## β sets how far the policy moves from the reference
#
# DPO's derivation starts from a KL-constrained objective whose optimal policy is
# $\pi^*(y\mid x)\propto\pi_\text{ref}(y\mid x)\exp\big(r(x,y)/\beta\big)$ (Equation 4 of the paper): the smaller $\beta$,
# the further the same reward difference pushes the probabilities. TRL describes the parameter the same way: "Higher β means
# less deviation from the reference model" ([TRL documentation](https://huggingface.co/docs/trl/dpo_trainer)).
#
# Two measures of "how far":
#
# - **a KL estimate**: for held-out prompts, sample continuations $y\sim\pi_\theta$ from the policy and average
#   $\log\pi_\theta(y\mid x)-\log\pi_\text{ref}(y\mid x)$; this is a Monte Carlo estimate of
#   $\mathrm{KL}(\pi_\theta\,\|\,\pi_\text{ref})$ over the whole 10-character continuation;
# - **behaviour**: the share of those sampled continuations that contain a full stop, against the reference's own samples.


# %%
@torch.no_grad()
def drift(model, n_prompts: int = 100, per_prompt: int = 4) -> tuple[float, float]:
    """Sample continuations of held-out prompts from `model`; return (KL(model || ref) estimate in nats per continuation,
    share of samples that satisfy the preference). The same seed for every model."""
    prompts = held_pairs[0][:n_prompts].repeat_interleave(per_prompt, dim=0)
    out = generate(model, prompts, C, temperature=1.0, generator=torch.Generator().manual_seed(2))[:, P:]
    kl = (sequence_logp(model, prompts, out) - sequence_logp(ref, prompts, out)).mean().item()
    return kl, sum(prefers(tok.decode(o)) for o in out) / len(out)


_, ref_rate = drift(ref)
summary = {}
print(f"reference model: {ref_rate:.1%} of its continuations contain {TARGET!r}")
print(f"{'beta':>5} {'accuracy':>9} {'margin':>8} {'log-ratio chosen':>17} {'log-ratio rejected':>19} {'KL estimate':>12} {'with 。':>8}")
for beta, (policy, curve, _) in runs.items():
    kl, rate = drift(policy)
    summary[beta] = {**curve[-1][1], "kl": kl, "rate": rate}
    m = summary[beta]
    print(f"{beta:>5} {m['accuracy']:>9.3f} {m['margin']:>8.3f} {m['ratio_chosen']:>17.2f} {m['ratio_rejected']:>19.2f} "
          f"{kl:>12.2f} {rate:>8.1%}")

policy = runs[BETAS[0]][0]
prompts = held_pairs[0][:3]
for name, model in (("reference", ref), (f"policy β={BETAS[0]}", policy)):
    out = generate(model, prompts, C, temperature=1.0, generator=torch.Generator().manual_seed(3))
    print(f"{name:>14}: " + " | ".join(show(o[P:]) for o in out))

# %% [markdown] lang="zh"
# $\beta$ 越小，策略走得越远：KL 估计、被拒绝回答对数概率比的绝对值、带句号续写的比例，都随 $\beta$ 增大而减小。
# 隐式奖励间隔则反过来随 $\beta$ 增大，因为间隔本身就乘了 $\beta$：间隔的大小不能跨 $\beta$ 比较"学到了多少"。
# 三者在留出偏好对上的准确率都远高于 0.5，但行为变化差别很大：$\beta=0.1$ 的策略把句号塞进了绝大多数续写，离参考模型的分布也最远；
# $\beta=2.0$ 的策略离参考模型最近，行为变化也最小（比例见上表和上面的采样）。
# 准确率相近而偏离程度相差很大，所以实际训练中 $\beta$ 是一个要调的旋钮，调它时要同时看偏离参考模型的程度和生成结果，不能只看准确率。

# %% [markdown] lang="en"
# The smaller $\beta$, the further the policy moves: the KL estimate, the rejected answers' log-ratio in absolute value and the
# share of continuations with a full stop all shrink as $\beta$ grows. The implicit reward margin does the opposite and grows
# with $\beta$, because the margin itself is multiplied by $\beta$: margins cannot be compared across values of $\beta$ as a
# measure of how much was learned. All three rank the held-out pairs far above 0.5, but their behaviour differs a lot: the
# $\beta=0.1$ policy pushes a full stop into the great majority of its continuations and is the furthest from the
# reference's distribution; the $\beta=2.0$ policy stays closest to the reference and changes its behaviour least (see the
# table and the samples above). Similar accuracy with very different drift: that is why $\beta$ is a dial to tune in real
# training, watching the drift from the reference and the generations, not the accuracy alone.

# %% [markdown] lang="zh"
# ## 检查
#
# 断言：
#
# - 训练开始时（策略 = 参考模型）留出准确率恰好是 0.5；训练后每个 $\beta$ 的留出准确率都至少 0.8。
#   留出偏好对的数量见上文（一百多对），准确率在 0.5 附近的标准误约为 $\sqrt{0.25/n}\approx0.04$，0.8 比随机水平高出约 7 个标准误；
# - 在留出提示上，KL 估计随 $\beta$ 增大严格减小，被拒绝回答对数概率比的绝对值也严格减小（β 越小，离参考模型越远）；
#   隐式奖励间隔随 $\beta$ 严格增大（上文"间隔不能跨 β 比较"的依据）；
# - $\beta=0.1$ 的策略采样中带句号的比例至少 80 %，比参考模型至少高 20 个百分点（行为确实变了）；
# - $\beta=0.1$ 时被选中回答的平均对数概率比低于 0（上面那条"常见误区"在这次运行中确实出现）。

# %% [markdown] lang="en"
# ## Check
#
# Asserted:
#
# - at the start (policy = reference) the held-out accuracy is exactly 0.5; after training it is at least 0.8 for every
#   $\beta$. The number of held-out pairs is printed above (over a hundred); near 0.5 the standard error of an accuracy is
#   about $\sqrt{0.25/n}\approx0.04$, so 0.8 is about 7 standard errors above chance;
# - on held-out prompts, the KL estimate strictly decreases as $\beta$ grows, and so does the rejected answers' log-ratio in
#   absolute value (the smaller β, the further from the reference); the implicit reward margin strictly increases with
#   $\beta$ (why margins cannot be compared across values of β, above);
# - at least 80 % of the $\beta=0.1$ policy's samples contain a full stop, at least 20 percentage points more than the
#   reference's (the behaviour did change);
# - with $\beta=0.1$ the chosen answers' mean log-ratio is below 0 (the common misconception above really shows in this run).

# %%
start_accuracy = runs[BETAS[0]][1][0][1]["accuracy"]
assert start_accuracy == 0.5, f"the policy starts as the reference, so every pair ties: accuracy {start_accuracy}"
for beta, m in summary.items():
    assert m["accuracy"] >= 0.8, f"held-out accuracy {m['accuracy']:.3f} < 0.8 after DPO with beta={beta}"
for (b1, m1), (b2, m2) in zip(list(summary.items()), list(summary.items())[1:]):  # BETAS in increasing order
    assert m1["kl"] > m2["kl"], f"KL estimate {m1['kl']:.2f} (beta={b1}) <= {m2['kl']:.2f} (beta={b2})"
    assert abs(m1["ratio_rejected"]) > abs(m2["ratio_rejected"]), (
        f"|rejected log-ratio| {abs(m1['ratio_rejected']):.2f} (beta={b1}) <= {abs(m2['ratio_rejected']):.2f} (beta={b2})")
    assert m1["margin"] < m2["margin"], f"margin {m1['margin']:.3f} (beta={b1}) >= {m2['margin']:.3f} (beta={b2})"
small = summary[BETAS[0]]
assert small["rate"] >= max(0.8, ref_rate + 0.20), f"full stops in {small['rate']:.1%} of samples vs {ref_rate:.1%} for the reference"
assert small["ratio_chosen"] < 0, f"chosen log-ratio {small['ratio_chosen']:.2f} is not below 0"
print("check passed: held-out accuracy 0.5 -> " + ", ".join(f"{m['accuracy']:.3f} (beta={b})" for b, m in summary.items())
      + "; KL estimate " + " > ".join(f"{m['kl']:.2f}" for m in summary.values())
      + f"; full stops {ref_rate:.1%} -> {small['rate']:.1%} (beta={BETAS[0]}); chosen log-ratio {small['ratio_chosen']:.2f}")
