# %% [markdown] lang="zh"
# # 实验：LoRA 微调
#
# 配套题目：第二部分《微调与对齐》第 3 题[LoRA 是怎么工作的？秩、alpha、加在哪些矩阵上、怎么合并？还有哪些参数高效微调方法？](../chapters/fine-tuning-and-alignment.md#q-lora)、
# 第 9 题[微调之后模型原有的能力下降了（灾难性遗忘），怎么减轻？](../chapters/fine-tuning-and-alignment.md#q-finetune-forgetting)。
#
# LoRA（低秩适配，[Hu 等，arXiv:2106.09685](https://arxiv.org/abs/2106.09685)）冻结预训练权重 $W_0$，只训练一个低秩的增量：
#
# $$W = W_0 + \frac{\alpha}{r}BA,\qquad A\in\mathbb{R}^{r\times d_\text{in}},\; B\in\mathbb{R}^{d_\text{out}\times r},\; r\ll\min(d_\text{in}, d_\text{out})$$
#
# 每个矩阵只多出 $r(d_\text{in}+d_\text{out})$ 个可训练参数；$B$ 初始化为 0，所以训练开始时模型与原模型完全相同；
# 训练完可以把 $\frac{\alpha}{r}BA$ 加回 $W_0$，推理时没有任何额外计算。
#
# **本实验做什么：** 在 `labkit` 的小型字符级 GPT 上手写 LoRA：
#
# 1. 先用本手册的中文正文预训练基座模型（与[从零实现 GPT](gpt-from-scratch.ipynb) 同一个模型），再把它适配到一个新领域：
#    [机器翻译实验](transformer-translation.ipynb)的模板语料里的英文句子；
# 2. 写一个包住 `nn.Linear` 的 LoRA 层，挂到每个块的全部六个投影矩阵上，数出可训练参数的比例，并按公开配置算出 Llama 3.1 8B 的比例；
# 3. 同样的步数、学习率和批次下，对比 LoRA 与全量微调：新领域的损失降了多少，旧领域（中文）的损失升了多少；
# 4. 用 `torch.equal` 证明训练后基座权重逐位不变；把 LoRA 合并回权重，证明合并前后输出在容差内一致。

# %% [markdown] lang="en"
# # Lab: LoRA fine-tuning
#
# Accompanies, in Part 2: *Fine-tuning and alignment*, question 3, [How does LoRA work: rank, alpha, which matrices, merging? What other parameter-efficient methods are there?](../chapters/fine-tuning-and-alignment.md#q-lora)
# and question 9, [After fine-tuning, the model has lost some of what it could do (catastrophic forgetting). How do you limit that?](../chapters/fine-tuning-and-alignment.md#q-finetune-forgetting).
#
# LoRA (low-rank adaptation, [Hu et al., arXiv:2106.09685](https://arxiv.org/abs/2106.09685)) freezes the pretrained weight
# $W_0$ and trains only a low-rank update:
#
# $$W = W_0 + \frac{\alpha}{r}BA,\qquad A\in\mathbb{R}^{r\times d_\text{in}},\; B\in\mathbb{R}^{d_\text{out}\times r},\; r\ll\min(d_\text{in}, d_\text{out})$$
#
# Each matrix gains only $r(d_\text{in}+d_\text{out})$ trainable parameters; $B$ starts at zero, so at the start of training
# the model is exactly the original; after training, $\frac{\alpha}{r}BA$ can be added into $W_0$, and inference costs nothing
# extra.
#
# **What this lab does:** it writes LoRA by hand on the small character-level GPT from `labkit`:
#
# 1. it pretrains the base model on this handbook's Chinese prose (the same model as in [GPT from scratch](gpt-from-scratch.ipynb)),
#    then adapts it to a new domain: the English sentences of the template corpus from the
#    [machine translation lab](transformer-translation.ipynb);
# 2. it writes a LoRA layer that wraps an `nn.Linear`, attaches it to all six projection matrices of every block, counts the
#    share of trainable parameters, and works out that share for Llama 3.1 8B from its published config;
# 3. with the same steps, learning rate and batches, it compares LoRA with full fine-tuning: how far the loss on the new domain
#    falls, and how far the loss on the old domain (Chinese) rises;
# 4. it shows with `torch.equal` that the base weights are bit-for-bit unchanged after training, and that merging LoRA into the
#    weights gives the same outputs within a stated tolerance.

# %%
import copy
import csv
import math
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from labkit import (DATA_DIR, GPT, block_split, get_batch, handbook_char_data, handbook_gpt, held_out_loss, lm_loss,
                    seed_everything, setup_plots)

seed_everything(0, threads=1)  # one thread: fastest for a tiny model on a shared CPU, and repeatable
setup_plots()

# %% [markdown] lang="zh"
# ## 基座模型与新领域
#
# `handbook_gpt()` 在本手册的中文正文上训练 300 步，得到所有实验共用的那个小 GPT（约 0.46 M 参数）。
# 它就是"预训练好的基座"，中文正文是它的**旧领域**。
#
# **新领域**是 `data/zh_en_corpus.tsv` 中的英文句子（由 `data/make_zh_en_corpus.py` 按模板生成，如 "I read a book at home yesterday."）。
# 这些字符都在基座的词表里（手册正文夹杂着英文术语），但基座很少见到成句的英文。英文文本只用到几十个不同的字符，中文正文用到上千个
# （下面打印出来），所以两个领域的损失数值不能直接横向比较，要看的是各自怎么变化。英文文本按位置切分：每 10 个 250 字符的块留出 1 块，与中文的切分方式相同。两个领域各有一份留出集，下面的"损失"都是留出集上的交叉熵（奈特/字符）。

# %% [markdown] lang="en"
# ## The base model and the new domain
#
# `handbook_gpt()` trains for 300 steps on this handbook's Chinese prose and returns the small GPT all labs share (about
# 0.46 M parameters). It is our "pretrained base", and the Chinese prose is its **old domain**.
#
# The **new domain** is the English sentences of `data/zh_en_corpus.tsv` (written from templates by
# `data/make_zh_en_corpus.py`, e.g. "I read a book at home yesterday."). Every one of their characters is in the base model's
# vocabulary (the handbook's prose is sprinkled with English terms), but the base has seen little English in whole sentences.
# The English text uses a few dozen distinct characters, the Chinese prose over a thousand (printed below), so the two
# domains' losses cannot be compared with each other directly; what matters is how each one changes. The English text is
# split by position like the Chinese: every 10th block of 250 characters is held out. Each domain has its own held-out set; every "loss" below is the cross-entropy on a
# held-out set, in nats per character.

# %%
BLOCK = 32  # handbook_gpt's context length
base, tok, history = handbook_gpt()  # 300 steps on the Chinese prose; returned in eval mode
_, zh_train, zh_held = handbook_char_data()  # the split handbook_gpt trained on: we only need its held-out part
with open(DATA_DIR / "zh_en_corpus.tsv", encoding="utf-8", newline="") as f:
    en_text = "\n".join(row["en"] for row in csv.DictReader(f, delimiter="\t"))
en_train_blocks, en_held_blocks = block_split(tok.encode(en_text), block=250, every=10)
en_train, en_held = torch.cat(en_train_blocks), torch.cat(en_held_blocks)

print(f"base model trained in {history['seconds']:.1f} s")
print(f"English corpus: {len(en_train):,} training and {len(en_held):,} held-out characters, e.g. {en_text[:64]!r}")
print(f"distinct characters: {len(set(en_text))} in the English text, "
      f"{len(set(zh_train.tolist()) | set(zh_held.tolist()))} in the Chinese prose")
print(f"base model held-out loss: Chinese (old domain) {held_out_loss(base, zh_held, BLOCK):.3f}, "
      f"English (new domain) {held_out_loss(base, en_held, BLOCK):.3f} nats/char")

# %% [markdown] lang="zh"
# ## LoRA 层
#
# `LoRALinear` 包住一个训练好的 `nn.Linear`：原来的权重和偏置冻结（`requires_grad=False`），旁边加一条 $x\to A\to B$ 的支路，
# 输出乘以 $\alpha/r$ 后加到原输出上。初始化沿用 Hugging Face PEFT 的默认值：$A$ 用 Kaiming 均匀分布，$B$ 为 0
# （[PEFT：LoRA 初始化](https://huggingface.co/docs/peft/developer_guides/lora#initialization)；论文中 $A$ 用高斯分布，$B$ 同样为 0）。
# $B=0$ 意味着支路一开始输出恰好为 0，下面用 `torch.equal` 确认加上 LoRA 后、训练之前，模型的 logits 与基座逐位相同。
#
# **挂在哪些矩阵上？** 原论文在 GPT-3 上只适配注意力的 $W_q$ 和 $W_v$；QLoRA 发现要在**所有**线性层上加适配器，效果才能追上全量微调
# （[Dettmers 等，arXiv:2305.14314](https://arxiv.org/abs/2305.14314)），PEFT 的 `target_modules="all-linear"` 即选中除输出层以外的全部线性层
# （[PEFT：LoraConfig](https://huggingface.co/docs/peft/package_reference/lora)）。这里照此处理：每个块的 `q_proj`、`k_proj`、`v_proj`、`o_proj`、
# `up_proj`、`down_proj` 都挂 LoRA；词嵌入、位置嵌入、LayerNorm 和输出层 `head` 全部冻结。秩 $r=8$，$\alpha=16$，即缩放系数 $\alpha/r=2$。

# %% [markdown] lang="en"
# ## A LoRA layer
#
# `LoRALinear` wraps a trained `nn.Linear`: the original weight and bias are frozen (`requires_grad=False`), and a side path
# $x\to A\to B$ is added, scaled by $\alpha/r$, to the original output. The initialisation follows Hugging Face PEFT's
# default: Kaiming-uniform for $A$, zeros for $B$
# ([PEFT: LoRA initialization](https://huggingface.co/docs/peft/developer_guides/lora#initialization); the paper draws $A$ from a
# Gaussian, and $B$ is zero there too). $B=0$ means the side path outputs exactly 0 at first: below, `torch.equal` confirms
# that with LoRA attached and before any training the model's logits are bit-for-bit those of the base.
#
# **Which matrices?** The original paper adapts only attention's $W_q$ and $W_v$ in GPT-3; QLoRA found that adapters on **all**
# linear layers are needed to match full fine-tuning ([Dettmers et al., arXiv:2305.14314](https://arxiv.org/abs/2305.14314)),
# and PEFT's `target_modules="all-linear"` selects every linear layer except the output layer
# ([PEFT: LoraConfig](https://huggingface.co/docs/peft/package_reference/lora)). We do the same: `q_proj`, `k_proj`, `v_proj`,
# `o_proj`, `up_proj` and `down_proj` of every block get LoRA; the token and position embeddings, the LayerNorms and the output
# layer `head` are all frozen. Rank $r=8$ and $\alpha=16$, so the scaling factor $\alpha/r$ is 2.


# %%
class LoRALinear(nn.Module):
    """y = W0 x + b + (alpha / r) * B (A x): the pretrained nn.Linear (W0, b) is frozen; A (r x in) and B (out x r) train."""

    def __init__(self, base: nn.Linear, r: int = 8, alpha: float = 16.0):
        super().__init__()
        self.base, self.scale = base, alpha / r
        base.requires_grad_(False)
        self.A = nn.Parameter(torch.empty(r, base.in_features))
        nn.init.kaiming_uniform_(self.A, a=math.sqrt(5))  # PEFT's default for A (the paper uses a Gaussian)
        self.B = nn.Parameter(torch.zeros(base.out_features, r))  # B = 0: the layer starts as the base layer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + self.scale * (x @ self.A.T) @ self.B.T

    def merged(self) -> nn.Linear:
        """A plain nn.Linear with W = W0 + (alpha / r) B A and the same bias: no extra work at inference."""
        layer = copy.deepcopy(self.base)
        with torch.no_grad():
            layer.weight += self.scale * self.B @ self.A
        return layer


TARGETS = ("attn.q_proj", "attn.k_proj", "attn.v_proj", "attn.o_proj", "mlp.up_proj", "mlp.down_proj")


def swap_targets(model: GPT, make) -> GPT:
    """Replace each TARGETS layer of every block by make(layer), in place."""
    for block in model.blocks:
        for path in TARGETS:
            parent, name = path.split(".")
            module = getattr(block, parent)
            setattr(module, name, make(getattr(module, name)))
    return model


def add_lora(model: GPT, r: int = 8, alpha: float = 16.0) -> GPT:
    """Freeze every parameter of the model, then wrap each TARGETS layer in a LoRALinear (its A and B train)."""
    model.requires_grad_(False)
    return swap_targets(model, lambda layer: LoRALinear(layer, r, alpha))


R, ALPHA = 8, 16.0
lora_model = add_lora(copy.deepcopy(base), R, ALPHA)
n_base = sum(p.numel() for p in base.parameters())
n_trainable = sum(p.numel() for p in lora_model.parameters() if p.requires_grad)
formula = 0
for path in TARGETS:
    parent, name = path.split(".")
    layer = getattr(getattr(base.blocks[0], parent), name)
    per_matrix = R * (layer.in_features + layer.out_features)
    formula += per_matrix * len(base.blocks)
    print(f"{path:<13} {layer.in_features:>3} -> {layer.out_features:<3}  r(d_in + d_out) = {R} x "
          f"{layer.in_features + layer.out_features} = {per_matrix:,} per block")
print(f"trainable: {n_trainable:,} (formula: {formula:,}) = {n_trainable / n_base:.1%} of the base's {n_base:,} parameters")

x_probe = en_held[: 8 * BLOCK].view(8, BLOCK)
with torch.no_grad():
    same_at_start = torch.equal(lora_model(x_probe), base(x_probe))
print(f"with LoRA attached, before training: logits bit-for-bit equal to the base's = {same_at_start}")

# %% [markdown] lang="zh"
# 这个小模型只有 96 维，每个矩阵都很窄，所以 LoRA 参数占了几个百分点。矩阵越宽，比例越小：$r(d_\text{in}+d_\text{out})$ 随宽度线性增长，
# 而 $d_\text{in}d_\text{out}$ 按平方增长。下面按 [Llama 3.1 8B 的 `config.json`](https://huggingface.co/meta-llama/Llama-3.1-8B/blob/main/config.json)
# （32 层，隐藏维度 4096，32 个查询头、8 个 KV 头，每头 128 维，MLP 中间维度 14336，有 gate、up、down 三个矩阵）算出同样"全部线性层、$r=16$"时的比例；
# 总参数量按同一配置逐项相加（与 [KV 缓存实验](kv-cache.ipynb)的算法相同）。

# %% [markdown] lang="en"
# This small model is only 96 wide, so every matrix is narrow and LoRA's parameters come to a few per cent. The wider the
# matrices, the smaller the share: $r(d_\text{in}+d_\text{out})$ grows linearly with width, $d_\text{in}d_\text{out}$
# quadratically. Below, from [Llama 3.1 8B's `config.json`](https://huggingface.co/meta-llama/Llama-3.1-8B/blob/main/config.json)
# (32 layers, hidden size 4096, 32 query heads and 8 KV heads of 128 dimensions, MLP intermediate size 14336 with three
# matrices: gate, up and down), we work out the share for the same "all linear layers" choice at $r=16$; the total parameter
# count is added up from the same config (as in the [KV cache lab](kv-cache.ipynb)).

# %%
d, d_ff, n_layers, vocab = 4096, 14336, 32, 128256  # meta-llama/Llama-3.1-8B config.json
d_kv = 8 * 128  # 8 KV heads x head_dim 128: the output width of k_proj and v_proj
shapes = {"q_proj": (d, d), "k_proj": (d, d_kv), "v_proj": (d, d_kv), "o_proj": (d, d),
          "gate_proj": (d, d_ff), "up_proj": (d, d_ff), "down_proj": (d_ff, d)}  # (d_in, d_out)
r_llama = 16
lora_per_layer = sum(r_llama * (d_in + d_out) for d_in, d_out in shapes.values())
llama_params = n_layers * (sum(d_in * d_out for d_in, d_out in shapes.values()) + 2 * d) + 2 * vocab * d + d
print(f"LoRA r={r_llama} on all 7 linear layers: {lora_per_layer:,} per layer x {n_layers} layers = "
      f"{n_layers * lora_per_layer:,} trainable parameters")
print(f"Llama 3.1 8B: {llama_params:,} parameters -> LoRA trains {n_layers * lora_per_layer / llama_params:.2%} of them")

# %% [markdown] lang="zh"
# ## 同样的步数：LoRA 与全量微调
#
# 两种方法从同一个基座出发，用同一个优化器（AdamW，学习率 1e-3，不加权重衰减：它会把权重拉向 0 而不是拉回预训练值，额外加重遗忘）、
# 同样的 150 步、同样的随机批次（每步 16 个 32 字符的英文窗口）：
#
# - **LoRA**：只有上面那些 $A$、$B$ 参与训练；
# - **全量微调**：所有参数都训练，包括词嵌入和输出层。
#
# 每 10 步在两个领域的留出集上各算一次损失：英文损失下降说明学到了新领域，中文损失上升就是遗忘（灾难性遗忘）。

# %% [markdown] lang="en"
# ## Same steps: LoRA against full fine-tuning
#
# Both methods start from the same base, with the same optimizer (AdamW, learning rate 1e-3, no weight decay: it would pull
# weights towards 0 rather than back to their pretrained values and add forgetting of its own), the same 150 steps and the same
# random batches (16 English windows of 32 characters per step):
#
# - **LoRA**: only the $A$ and $B$ matrices above are trained;
# - **full fine-tuning**: every parameter is trained, the embeddings and the output layer included.
#
# Every 10 steps both held-out sets are scored: a falling English loss is learning the new domain, a rising Chinese loss is
# forgetting (catastrophic forgetting).

# %%
STEPS, LR, BATCH, EVAL_EVERY = 150, 1e-3, 16, 10


def fine_tune(model: nn.Module) -> tuple[np.ndarray, float]:
    """Train the parameters that require grad on English windows. Returns rows (step, English loss, Chinese loss)
    measured on the held-out sets every EVAL_EVERY steps (step 0 included), and the training time in seconds."""
    gen = torch.Generator().manual_seed(1)  # both methods see exactly the same batches
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=LR, weight_decay=0.0)
    curve = [(0, held_out_loss(model, en_held, BLOCK), held_out_loss(model, zh_held, BLOCK))]
    start = time.perf_counter()
    model.train()
    for step in range(1, STEPS + 1):
        loss = lm_loss(model, *get_batch(en_train, BATCH, BLOCK, gen))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % EVAL_EVERY == 0:
            curve.append((step, held_out_loss(model, en_held, BLOCK), held_out_loss(model, zh_held, BLOCK)))
    model.eval()
    return np.array(curve), time.perf_counter() - start


full_model = copy.deepcopy(base).requires_grad_(True)
lora_curve, lora_seconds = fine_tune(lora_model)
full_curve, full_seconds = fine_tune(full_model)
print(f"{'method':<16} {'trainable':>10} {'seconds':>8} {'English loss':>18} {'Chinese loss':>18}")
for name, model, curve, seconds in (("LoRA", lora_model, lora_curve, lora_seconds),
                                    ("full fine-tune", full_model, full_curve, full_seconds)):
    n = sum(p.numel() for p in model.parameters() if p.requires_grad)
    print(f"{name:<16} {n:>10,} {seconds:>8.1f} {curve[0, 1]:>7.3f} -> {curve[-1, 1]:.3f} {curve[0, 2]:>7.3f} -> {curve[-1, 2]:.3f}")

# %% [markdown] lang="zh"
# ## 学到多少，忘掉多少
#
# 左图是两个领域的留出损失随步数的变化（实线为英文、虚线为中文）。同样的步数下，全量微调在英文上降得多，中文上也升得多；
# LoRA 两头都小：**学得少，也忘得少**。这正是 Biderman 等人在 7B 模型上看到的现象
# （[LoRA Learns Less and Forgets Less，arXiv:2405.09673](https://arxiv.org/abs/2405.09673)）。
#
# 右图把同样的数据换一种画法：横轴是新领域损失，纵轴是旧领域损失，每个点是训练中的一个时刻。要比较"哪种方法更不容易遗忘"，
# 应该在**学到同样程度**时比，也就是在右图中同一横坐标处比高低。下面的代码沿全量微调的轨迹插值，
# 求出它的英文损失达到 LoRA 最终水平时的中文损失。

# %% [markdown] lang="en"
# ## How much is learned, how much is forgotten
#
# The left panel shows both domains' held-out loss against steps (solid: English, dashed: Chinese). For the same steps, full
# fine-tuning lowers the English loss more and raises the Chinese loss more; LoRA moves less on both: **it learns less and
# forgets less**. That is what Biderman et al. observed on 7B models
# ([LoRA Learns Less and Forgets Less, arXiv:2405.09673](https://arxiv.org/abs/2405.09673)).
#
# The right panel draws the same data another way: new-domain loss across, old-domain loss up, one point per moment of
# training. To compare "which method forgets less", compare at the **same amount learned**, i.e. at the same horizontal
# position in the right panel. The code below interpolates along full fine-tuning's path to find its Chinese loss at the
# moment its English loss reached LoRA's final level.

# %%
order = np.argsort(full_curve[:, 1])  # np.interp needs increasing x: sort full fine-tuning's points by English loss
full_zh_at_lora_level = float(np.interp(lora_curve[-1, 1], full_curve[order, 1], full_curve[order, 2]))
lora_forgot = lora_curve[-1, 2] - lora_curve[0, 2]
full_forgot = full_curve[-1, 2] - full_curve[0, 2]
print(f"after {STEPS} steps: Chinese loss rose by {lora_forgot:.3f} with LoRA, by {full_forgot:.3f} with full fine-tuning")
print(f"at English loss {lora_curve[-1, 1]:.3f}: Chinese loss {lora_curve[-1, 2]:.3f} with LoRA, "
      f"{full_zh_at_lora_level:.3f} with full fine-tuning (interpolated along its path)")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9.6, 3.4))
for name, curve, color in (("LoRA", lora_curve, "C0"), ("full fine-tune", full_curve, "C1")):
    ax1.plot(curve[:, 0], curve[:, 1], "-", color=color, label=f"{name}: English (new)")
    ax1.plot(curve[:, 0], curve[:, 2], "--", color=color, label=f"{name}: Chinese (old)")
    ax2.plot(curve[:, 1], curve[:, 2], "o-", color=color, markersize=3, label=name)
ax1.set_xlabel("fine-tuning step")
ax1.set_ylabel("held-out loss (nats / char)")
ax1.set_title("Loss on both domains")
ax1.legend(fontsize=7)
ax2.invert_xaxis()  # training moves to the right: the English loss falls
ax2.set_xlabel("English held-out loss (learned →)")
ax2.set_ylabel("Chinese held-out loss (forgotten ↑)")
ax2.set_title("Learning against forgetting")
ax2.legend(fontsize=7)
fig.tight_layout()
plt.show()

# %% [markdown] lang="zh"
# 在这个小实验里，学到同样程度时，LoRA 的中文损失并不比全量微调低，反而更高（数值见上面的输出）。
# 也就是说，这里 LoRA "忘得少"完全来自"学得少"。
#
# > **常见误区：** "LoRA 能防止灾难性遗忘。" Biderman 等人确实发现 LoRA 比全量微调忘得少，但他们把遗忘对学习画成帕累托曲线后，
# > 发现 LoRA 和全量微调大致落在**同一条**曲线上：LoRA 忘得少，是因为它对模型改动小、学得也少
# > （[arXiv:2405.09673](https://arxiv.org/abs/2405.09673) 第 4.3 节）。想在学到同样多的同时少忘，要靠混入旧数据回放、
# > 更小的学习率和早停等手段（见[持续学习](../chapters/user-data-and-training.md#q-continual-learning)和[持续学习实验](continual-learning.ipynb)）。

# %% [markdown] lang="en"
# In this small experiment, at the same amount learned, LoRA's Chinese loss is not lower than full fine-tuning's but higher
# (see the numbers printed above). Here, LoRA "forgetting less" comes entirely from "learning less".
#
# > **Common misconception:** "LoRA prevents catastrophic forgetting." Biderman et al. did find that LoRA forgets less than
# > full fine-tuning, but when they plotted forgetting against learning as a Pareto curve, LoRA and full fine-tuning fell
# > roughly on the **same** curve: LoRA forgets less because it changes the model less and learns less
# > ([arXiv:2405.09673](https://arxiv.org/abs/2405.09673), Section 4.3). Learning as much while forgetting less takes replaying
# > old data, a smaller learning rate, early stopping and the like (see [continual learning](../chapters/user-data-and-training.md#q-continual-learning)
# > and the [continual learning lab](continual-learning.ipynb)).

# %% [markdown] lang="zh"
# ## 基座权重逐位不变
#
# LoRA 模型里的每个基座张量（被包住的线性层的权重和偏置，以及词嵌入、LayerNorm、输出层）都应与训练前的基座**逐位相同**：
# 它们没有梯度，AdamW 根本不会更新它们。`torch.equal` 要求形状和每一个元素都相等，没有任何容差。
# 作为对照，再数一数全量微调改动了多少个张量。

# %% [markdown] lang="en"
# ## The base weights are bit-for-bit unchanged
#
# Every base tensor inside the LoRA model (the weights and biases of the wrapped linear layers, the embeddings, the LayerNorms,
# the output layer) must be **bit-for-bit** what it was before training: they have no gradient, so AdamW never touches them.
# `torch.equal` requires the same shape and every element equal, with no tolerance. For contrast, we also count the tensors
# that full fine-tuning changed.

# %%
base_state = base.state_dict()
lora_state = lora_model.state_dict()
frozen = {k.replace(".base.", "."): v for k, v in lora_state.items() if not k.endswith((".A", ".B"))}
same_keys = frozen.keys() == base_state.keys()
unchanged = same_keys and all(torch.equal(frozen[k], v) for k, v in base_state.items())
full_changed = sum(not torch.equal(full_model.state_dict()[k], v) for k, v in base_state.items())
adapters = [m for m in lora_model.modules() if isinstance(m, LoRALinear)]
print(f"LoRA model: {len(frozen)} base tensors, all bit-for-bit equal to the base = {unchanged}; "
      f"{len(adapters)} adapters, largest |B| entry now {max(m.B.abs().max().item() for m in adapters):.3f} (was 0)")
print(f"full fine-tuning changed {full_changed} of the {len(base_state)} tensors")

# %% [markdown] lang="zh"
# ## 合并回权重
#
# 部署时可以把每个适配器合并成一个普通的 `nn.Linear`：$W = W_0 + \frac{\alpha}{r}BA$，偏置不变。合并后的模型结构与基座一模一样，
# 参数量相同，它的 `state_dict` 能直接载入一个新建的 `GPT`，推理时没有额外的矩阵乘法。
#
# 合并前后在数学上是同一个函数，但浮点运算的顺序不同：未合并时先算 $x W_0^\top$ 和 $(xA^\top)B^\top$ 再相加，合并后一次乘 $x(W_0+\ldots)^\top$。
# 所以比较 logits 时要带容差。float32 的相对精度约为 $6\times10^{-8}$，这里的 logits 绝对值约在 10 以内，经过两层网络，
# 舍入差应在 $10^{-6}$ 量级；容差取 `TOL` = 1e-4，留出约 100 倍余量，又远小于 LoRA 训练对 logits 的改变（下面一并打印）。

# %% [markdown] lang="en"
# ## Merging into the weights
#
# For deployment, each adapter can be merged into one plain `nn.Linear`: $W = W_0 + \frac{\alpha}{r}BA$, with the bias
# unchanged. The merged model has exactly the base's structure and parameter count, its `state_dict` loads into a freshly built
# `GPT`, and inference runs no extra matrix multiplication.
#
# Merged and unmerged are mathematically the same function, but the floating-point operations run in a different order:
# unmerged computes $x W_0^\top$ and $(xA^\top)B^\top$ and adds them, merged multiplies $x(W_0+\ldots)^\top$ once. So the
# logits are compared with a tolerance. float32 has a relative precision of about $6\times10^{-8}$; the logits here are at most
# about 10 in size and pass through two layers, so rounding differences should be of order $10^{-6}$. The tolerance `TOL` = 1e-4
# leaves about 100 times that as margin and is still far below how much LoRA training moved the logits (printed below too).

# %%
TOL = 1e-4
merged = swap_targets(copy.deepcopy(lora_model), LoRALinear.merged)
plain = GPT(tok.vocab_size, BLOCK).eval()
plain.load_state_dict(merged.state_dict())  # strict: the same keys and shapes as an ordinary GPT
x_eval = en_held[: 64 * BLOCK].view(64, BLOCK)
with torch.no_grad():
    unmerged_logits, merged_logits, base_logits = lora_model(x_eval), plain(x_eval), base(x_eval)
merge_diff = (merged_logits - unmerged_logits).abs().max().item()
n_plain = sum(p.numel() for p in plain.parameters())
print(f"merged model: {n_plain:,} parameters (base: {n_base:,}); max |logit difference| merged vs unmerged = "
      f"{merge_diff:.1e} (tolerance {TOL:.0e}); largest |logit| = {unmerged_logits.abs().max().item():.1f}")
print(f"for scale: LoRA training moved the logits by up to {(unmerged_logits - base_logits).abs().max().item():.1f}")
print(f"held-out English loss: unmerged {held_out_loss(lora_model, en_held, BLOCK):.4f}, "
      f"merged {held_out_loss(plain, en_held, BLOCK):.4f}")

# %% [markdown] lang="zh"
# ## 检查
#
# 断言（阈值的理由见各节）：
#
# - 可训练参数恰好等于 $\sum r(d_\text{in}+d_\text{out})$，且不到基座参数的 10 %（没冻住的参数会让计数变大）；
# - 训练前，加了 LoRA 的模型与基座的 logits 逐位相同；训练后，基座的每个张量逐位不变，而全量微调改动了张量；
# - LoRA 把英文留出损失降低了至少 1 奈特/字符（困惑度降到约 1/2.7 以下；实测降幅见上文），说明它确实学到了新领域；
# - 同样的步数下，全量微调的中文损失升得比 LoRA 多（忘得多）；但学到同样程度时，全量微调的中文损失不高于 LoRA（上面那条"常见误区"）；
# - 合并与未合并的 logits 之差不超过 `TOL` = 1e-4。

# %% [markdown] lang="en"
# ## Check
#
# Asserted (each threshold is argued in its section):
#
# - the trainable parameters equal $\sum r(d_\text{in}+d_\text{out})$ exactly and are under 10 % of the base's (a parameter
#   left unfrozen would raise the count);
# - before training, the model with LoRA gives bit-for-bit the base's logits; after training, every base tensor is bit-for-bit
#   unchanged, while full fine-tuning did change tensors;
# - LoRA lowered the English held-out loss by at least 1 nat per character (perplexity divided by more than about 2.7; the
#   measured drop is printed above), so it did learn the new domain;
# - for the same steps, full fine-tuning raised the Chinese loss more than LoRA (it forgot more); but at the same amount
#   learned, full fine-tuning's Chinese loss is no higher than LoRA's (the common misconception above);
# - merged and unmerged logits differ by at most `TOL` = 1e-4.

# %%
learned = lora_curve[0, 1] - lora_curve[-1, 1]
assert n_trainable == formula, f"{n_trainable:,} trainable parameters, the formula says {formula:,}"
assert n_trainable < 0.10 * n_base, f"LoRA trains {n_trainable / n_base:.1%} of the base's parameters"
assert same_at_start, "with B = 0 the LoRA model should give exactly the base's logits before training"
assert unchanged, "a base tensor changed during LoRA training"
assert full_changed > 0, "full fine-tuning left every tensor unchanged"
assert learned >= 1.0, f"LoRA lowered the English loss by only {learned:.3f} nats/char"
assert full_forgot > lora_forgot, f"Chinese loss rose {full_forgot:.3f} (full) vs {lora_forgot:.3f} (LoRA)"
assert full_zh_at_lora_level <= lora_curve[-1, 2], (
    f"at the same English loss full fine-tuning's Chinese loss {full_zh_at_lora_level:.3f} > LoRA's {lora_curve[-1, 2]:.3f}")
assert merge_diff <= TOL, f"merged and unmerged logits differ by {merge_diff:.1e} > {TOL:.0e}"
print(f"check passed: {n_trainable:,} trainable parameters ({n_trainable / n_base:.1%}); base bit-for-bit unchanged; "
      f"English loss -{learned:.2f}; Chinese loss +{lora_forgot:.2f} (LoRA) vs +{full_forgot:.2f} (full); "
      f"merged vs unmerged {merge_diff:.1e} <= {TOL:.0e}")
