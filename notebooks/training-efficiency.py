# %% [markdown] lang="zh"
# # 实验：训练效率——混合精度、梯度累积与激活检查点
#
# 来源：第 003 篇《大模型在 AI 创业公司产品策略中的创新》问题 2（[章节](../chapters/product-strategy.md#q-training-efficiency)）
# 和第 000 篇《AI 大模型创业：如何利用创新优势？》问题 3（[章节](../chapters/llm-fundamentals.md#q-optimize-training-inference)）。
#
# **原文的问题：**
#
# - 把混合精度训练说成"使用浮点数和整数进行计算"——混合精度不用整数（整数是量化），它用 fp16/bf16 做大部分计算、用 fp32 保存主权重；
# - 只列出技术名称，没有说明它们各自省的是什么（时间、显存还是通信），示例代码（`DataParallel`、未定义的 `train_loader`）也跑不起来。
#
# **本实验做什么：** 在 CPU 上把三种最常用的"省显存 / 省时间"技术逐一做出来并量出效果：
# 用 `torch.autocast` 做 bf16 混合精度（看清哪些算子变成 bf16、哪些保持 fp32，以及 fp16 为什么需要损失缩放）；
# 梯度累积（k 个微批次的梯度之和等于一个大批次的梯度）；激活检查点（梯度完全相同，保存的激活少得多）。

# %% [markdown] lang="en"
# # Lab: training efficiency — mixed precision, gradient accumulation, activation checkpointing
#
# Source: article 003, "Innovation of large models in AI startups' product strategy", question 2
# ([chapter](../chapters/product-strategy.md#q-training-efficiency)), and article 000, "AI 大模型创业：如何利用创新优势？",
# question 3 ([chapter](../chapters/llm-fundamentals.md#q-optimize-training-inference)).
#
# **What was wrong with the original answers:**
#
# - mixed-precision training was described as "computing with floating-point numbers and integers" — mixed precision uses no
#   integers (that is quantization); it runs most of the compute in fp16/bf16 and keeps fp32 master weights;
# - the techniques are only named, never explained (does each save time, memory or communication?), and the sample code
#   (`DataParallel`, an undefined `train_loader`) cannot run.
#
# **What this lab does:** it builds the three most common "save memory / save time" techniques on a CPU and measures them:
# bf16 mixed precision with `torch.autocast` (which ops become bf16, which stay fp32, and why fp16 needs loss scaling);
# gradient accumulation (the sum of k micro-batch gradients equals the large-batch gradient); and activation checkpointing
# (identical gradients, far fewer saved activations).

# %%
import copy
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint

from labkit import accuracy, digits_splits, mlp, seed_everything, setup_plots, time_call

seed_everything(0, threads=1)  # small models: one thread is steadier on a shared CPU, and reproducible
setup_plots()
splits = digits_splits()
X_train, y_train = splits["train"]
X_test, y_test = splits["test"]
print("train", tuple(X_train.shape), "test", tuple(X_test.shape))

# %% [markdown] lang="zh"
# ## 三种浮点格式
#
# 每种格式由指数位（决定**范围**）和尾数位（决定**精度**）组成。`torch.finfo` 给出：最大值 `max`、最小正规数 `tiny`、
# 机器精度 `eps`（1 与下一个可表示数之差）。bf16 和 fp32 一样有 8 位指数，所以范围相同（约 1e-38 到 3e38），
# 只是精度低（约 3 位有效数字）；fp16 有 10 位尾数、精度比 bf16 高，但只有 5 位指数，最大 65504，
# 能表示的最小正数（次正规数）约 6e-8，再小就舍入为 0。**梯度常常就小到这个量级**——这就是 fp16 训练必须做损失缩放、而 bf16 通常不需要的原因。

# %% [markdown] lang="en"
# ## Three floating-point formats
#
# Each format has exponent bits (which set the **range**) and mantissa bits (which set the **precision**). `torch.finfo`
# reports the largest value `max`, the smallest normal number `tiny`, and the machine epsilon `eps` (the gap between 1 and the
# next representable number). bf16 has the same 8 exponent bits as fp32, so the same range (about 1e-38 to 3e38), just less
# precision (about 3 significant digits); fp16 has 10 mantissa bits, more precise than bf16, but only 5 exponent bits: its
# maximum is 65504 and its smallest positive (subnormal) number is about 6e-8; anything smaller rounds to 0. **Gradients
# are often that small** — which is why fp16 training needs loss scaling and bf16 usually does not.

# %%
print(f"{'dtype':10s} {'bits':>4s} {'max':>10s} {'tiny (min normal)':>18s} {'eps':>10s}")
for dt in (torch.float32, torch.bfloat16, torch.float16):
    fi = torch.finfo(dt)
    print(f"{str(dt).split('.')[1]:10s} {fi.bits:4d} {fi.max:10.3g} {fi.tiny:18.3g} {fi.eps:10.3g}")

probe = torch.tensor([1e-9, 1e-7, 1e-3, 1.0 + 1 / 512, 7e4])
print("\nvalue      ", [f"{v:.4g}" for v in probe.tolist()])
for dt in (torch.bfloat16, torch.float16):
    print(f"as {str(dt).split('.')[1]:8s}", [f"{v:.4g}" for v in probe.to(dt).float().tolist()])

# %% [markdown] lang="zh"
# 在 fp16 中 1e-9 变成 0、7e4 变成 `inf`；bf16 两者都保住了，但 1 + 1/512 被舍入成 1（精度只有 8 位尾数）。
#
# ## autocast 做了什么
#
# `torch.autocast("cpu", dtype=torch.bfloat16)` 不会把模型转换成 bf16。它在**算子**层面按一张名单决定精度：
# 矩阵乘法和卷积（`linear`、`matmul`、`conv2d`……）的输入先转换成 bf16 再计算；损失函数等数值敏感的算子
# （`cross_entropy`、`mse_loss`、`kl_div`、`prod`……）转换成 fp32；不在名单里的算子（`relu`、`softmax`、`sum`……）沿用输入的类型。
# 参数始终是 fp32（"主权重"），梯度也按参数的类型回到 fp32，优化器在 fp32 上更新。
#
# 注意 CPU 名单和 CUDA 名单不同：在 CUDA 上 `softmax`、`log_softmax`、`layer_norm`、`sum` 等会被提升到 fp32，
# 在 CPU 上它们不在名单里，输入是 bf16 就用 bf16 计算（见 [PyTorch AMP 文档的算子表](https://docs.pytorch.org/docs/stable/amp.html#cpu-ops-that-can-autocast-to-bfloat16)）。
# 下面直接打印每个算子的输出类型，而不是凭记忆。

# %% [markdown] lang="en"
# In fp16, 1e-9 becomes 0 and 7e4 becomes `inf`; bf16 keeps both, but rounds 1 + 1/512 to 1 (only 8 mantissa bits).
#
# ## What autocast does
#
# `torch.autocast("cpu", dtype=torch.bfloat16)` does not convert the model to bf16. It decides precision **per op**, from a
# list: matrix multiplications and convolutions (`linear`, `matmul`, `conv2d`, …) cast their inputs to bf16; numerically
# sensitive ops such as the losses (`cross_entropy`, `mse_loss`, `kl_div`, `prod`, …) run in fp32; ops on neither list
# (`relu`, `softmax`, `sum`, …) run in whatever type their inputs have. Parameters stay fp32 (the "master weights"), their
# gradients come back in fp32, and the optimizer updates in fp32.
#
# The CPU list differs from the CUDA list: on CUDA, `softmax`, `log_softmax`, `layer_norm`, `sum` and others are promoted
# to fp32; on CPU they are not listed, so with bf16 inputs they run in bf16 (see the op tables in the
# [PyTorch AMP docs](https://docs.pytorch.org/docs/stable/amp.html#cpu-ops-that-can-autocast-to-bfloat16)). Below we print
# each op's output type instead of trusting memory.

# %%
x = torch.randn(4, 64)
w = torch.randn(10, 64)
target = torch.tensor([0, 1, 2, 3])
with torch.autocast("cpu", dtype=torch.bfloat16):
    z = F.linear(x, w)  # fp32 inputs, cast to bf16 by autocast
    op_dtypes = {
        "linear": z,
        "matmul": x @ w.T,
        "relu": F.relu(z),
        "softmax": z.softmax(-1),
        "sum": z.sum(),
        "cross_entropy": F.cross_entropy(z, target),
        "mse_loss": F.mse_loss(z, torch.zeros_like(z)),
        "kl_div": F.kl_div(z.log_softmax(-1), z.softmax(-1), reduction="batchmean"),
        "prod": z.prod(),
        "z + fp32 tensor": z + torch.randn(4, 10),  # mixed inputs: ordinary type promotion to fp32
    }
for name, t in op_dtypes.items():
    print(f"{name:16s} -> {t.dtype}")

# %% [markdown] lang="zh"
# 再看一个完整的训练步：用前向钩子记录每一层的输出类型，反向传播后看参数和梯度的类型。

# %% [markdown] lang="en"
# Now a full training step: forward hooks record each layer's output type; after the backward pass we look at the types of
# the parameters and their gradients.

# %%
seed_everything(0, threads=1)
probe_model = mlp(64, 128, 10)
seen = []
hooks = [m.register_forward_hook(lambda m, i, o: seen.append((type(m).__name__, o.dtype))) for m in probe_model]
with torch.autocast("cpu", dtype=torch.bfloat16):
    loss = F.cross_entropy(probe_model(X_train[:32]), y_train[:32])
loss.backward()
for h in hooks:
    h.remove()
print("layer outputs:", seen)
print("loss:", loss.dtype)
print("weight:", probe_model[1].weight.dtype, " grad:", probe_model[1].weight.grad.dtype)

# %% [markdown] lang="zh"
# ## fp16 为什么需要损失缩放
#
# 设想一个损失很小、激活也很小的网络：反向传播时梯度 = 上游梯度 × 激活，很容易小于 fp16 能表示的最小数（约 6e-8）。
# 下面让一个 fp16 的层做一次反向传播（损失像 autocast 那样在 fp32 中计算）：三个梯度真值是 1e-8、1e-7、1e-5，
# 第一个直接**下溢为 0**，第二个只剩很粗的近似。损失缩放（Micikevicius 等，2018）的做法是：反向传播前把 fp32 的损失乘以 S
# （这里 S = 2^16），所有梯度随之放大 S 倍、落进 fp16 的可表示范围；更新参数前在 fp32 中再除以 S。
# 顺带一个细节：S = 65536 本身就超过了 fp16 的最大值 65504，所以缩放必须作用在 fp32 的损失上。
#
# 实际训练用 `torch.amp.GradScaler`：它自动选择 S（从 2^16 开始），一旦梯度里出现 `inf`/`NaN`
# 就跳过这一步并把 S 减半，连续若干步（默认 2000）没有溢出再把 S 翻倍。用法是
# `scaler.scale(loss).backward(); scaler.step(optimizer); scaler.update()`。bf16 的范围与 fp32 相同，一般不需要它。

# %% [markdown] lang="en"
# ## Why fp16 needs loss scaling
#
# Picture a network with a small loss and small activations: in the backward pass, gradient = upstream gradient ×
# activation, which easily falls below the smallest number fp16 can represent (about 6e-8). Below, an fp16 layer runs one
# backward pass (with the loss computed in fp32, as autocast does): the true gradients are 1e-8, 1e-7 and 1e-5; the first
# **underflows to 0**, the second survives only as a crude approximation. Loss scaling (Micikevicius et al., 2018) multiplies
# the fp32 loss by S (here S = 2^16) before the backward pass, so every gradient is S times larger and lands inside fp16's
# range; before the update they are divided by S in fp32. A detail on the side: S = 65536 itself exceeds fp16's maximum of
# 65504, so the scaling must be applied to the fp32 loss.
#
# In real training, `torch.amp.GradScaler` does this: it picks S automatically (starting at 2^16), skips a step and halves S
# whenever a gradient contains `inf`/`NaN`, and doubles S after a run of steps (2000 by default) without overflow. Usage:
# `scaler.scale(loss).backward(); scaler.step(optimizer); scaler.update()`. bf16 has fp32's range and usually does not need it.

# %%
activation = torch.tensor([1e-3, 1e-2, 1.0], dtype=torch.float16)
true_grad = activation.double() * 1e-5  # d(loss)/d(w) for loss = 1e-5 * sum(w * activation)


def fp16_grad(scale: float) -> tuple[torch.Tensor, torch.Tensor]:
    w = torch.ones(3, dtype=torch.float16, requires_grad=True)  # an fp16 layer ...
    loss = (w * activation).sum().float() * 1e-5                 # ... and a small loss in fp32, as autocast computes it
    (loss * scale).backward()                                    # scale = 1: no loss scaling
    return w.grad, w.grad.float() / scale                        # fp16 gradient; unscaled in fp32, as GradScaler does


raw_plain, grad_plain = fp16_grad(1.0)
raw_scaled, grad_scaled = fp16_grad(2.0**16)
print("fp16 gradients as stored: unscaled", raw_plain.tolist(), " scaled by 2^16", raw_scaled.tolist())
rel_err = lambda g: ((g.double() - true_grad).abs() / true_grad).tolist()  # noqa: E731
print("true gradient    ", [f"{v:.3g}" for v in true_grad.tolist()])
print("fp16, no scaling ", [f"{v:.3g}" for v in grad_plain.tolist()], " rel. error", [f"{e:.0%}" for e in rel_err(grad_plain)])
print("fp16, scale 2^16 ", [f"{v:.3g}" for v in grad_scaled.tolist()], " rel. error", [f"{e:.2%}" for e in rel_err(grad_scaled)])
print("same in bf16     ", [f"{v:.3g}" for v in (activation.bfloat16() * 1e-5).float().tolist()], " (no scaling needed)")

# %% [markdown] lang="zh"
# ## fp32 与 bf16 autocast 训练对比
#
# 同一个初始模型（`deepcopy`）、同样的数据顺序、同样的优化器，只差一个 `autocast`。bf16 的舍入误差会让两条曲线
# 有微小差别，但走势应该一致、最终准确率相当。
#
# **关于速度，诚实地说：** bf16 只有在硬件有原生 bf16 矩阵指令时才更快（NVIDIA Ampere 及以后的 Tensor Core；
# CPU 上是 AVX512-BF16 或 Intel 的 AMX）。没有这些指令时，bf16 运算要靠类型转换来模拟，往往反而更慢。
# 即使有，这么小的模型的耗时也主要花在 Python 和类型转换上，省下的矩阵乘法时间可能抵不过转换开销。
# 下面先打印本机 CPU 的相关特性，再分别测一个大矩阵乘法和整个训练的耗时——两个数字都如实给出。

# %% [markdown] lang="en"
# ## Training in fp32 vs bf16 autocast
#
# The same initial model (`deepcopy`), the same data order, the same optimizer; the only difference is one `autocast`. bf16
# rounding makes the two curves differ slightly, but they should follow the same course and reach similar accuracy.
#
# **On speed, honestly:** bf16 is faster only where the hardware has native bf16 matrix instructions (Tensor Cores on NVIDIA
# Ampere and later; on CPUs, AVX512-BF16 or Intel AMX). Without them, bf16 arithmetic is emulated through type conversions
# and is often slower.
# Even with them, a model this small spends most of its time in Python and in type conversions, which can eat the matmul
# savings. Below we print this CPU's relevant features, then time one large matmul and the whole training run — and report
# both numbers as they come out.

# %%
try:
    cpu_flags = set(open("/proc/cpuinfo").read().split())
    print("CPU bf16 features:", sorted(f for f in cpu_flags if "bf16" in f or f.startswith("amx")) or "none")
except OSError:
    print("CPU bf16 features: unknown (no /proc/cpuinfo)")


A, B = torch.randn(512, 512), torch.randn(512, 512)
t_fp32 = time_call(lambda: A @ B, 10, min)
t_bf16 = time_call(lambda: A.bfloat16() @ B.bfloat16(), 10, min)
print(f"512x512 matmul: fp32 {t_fp32 * 1e3:.1f} ms, bf16 (incl. casts) {t_bf16 * 1e3:.1f} ms")

# %%
def train(model, dtype=None, epochs: int = 15, batch_size: int = 64, lr: float = 1e-3, seed: int = 0):
    """Adam on the digits training split; `dtype=torch.bfloat16` runs forward and loss under autocast."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    losses = []
    start = time.perf_counter()
    for _ in range(epochs):
        for idx in torch.randperm(len(X_train), generator=gen).split(batch_size):
            with torch.autocast("cpu", dtype=dtype or torch.bfloat16, enabled=dtype is not None):
                loss = F.cross_entropy(model(X_train[idx]), y_train[idx])
            opt.zero_grad()
            loss.backward()  # outside the autocast block, as the docs recommend
            opt.step()
            losses.append(loss.item())
    return losses, time.perf_counter() - start


seed_everything(0, threads=1)
base = mlp(64, 512, 512, 10)
model_fp32, model_bf16 = copy.deepcopy(base), copy.deepcopy(base)
loss_fp32, sec_fp32 = train(model_fp32)
loss_bf16, sec_bf16 = train(model_bf16, dtype=torch.bfloat16)
acc_fp32, acc_bf16 = accuracy(model_fp32, X_test, y_test), accuracy(model_bf16, X_test, y_test)
print(f"fp32: {sec_fp32:.1f} s, final loss {np.mean(loss_fp32[-20:]):.4f}, test accuracy {acc_fp32:.3f}")
print(f"bf16: {sec_bf16:.1f} s, final loss {np.mean(loss_bf16[-20:]):.4f}, test accuracy {acc_bf16:.3f}")
print("parameters after bf16 training:", {p.dtype for p in model_bf16.parameters()})

smooth = lambda v: np.convolve(v, np.ones(10) / 10, mode="valid")  # noqa: E731
plt.plot(smooth(loss_fp32), label="fp32")
plt.plot(smooth(loss_bf16), label="bf16 autocast", linestyle="--")
plt.yscale("log")
plt.xlabel("step")
plt.ylabel("training loss (10-step mean)")
plt.title("Same model, same data: fp32 vs bf16 autocast")
plt.legend()
plt.show()

# %% [markdown] lang="zh"
# ## 梯度累积：用小批次得到大批次的梯度
#
# 显存放不下 256 个样本的批次？把它切成 k = 4 个 64 样本的微批次，每个微批次的损失**除以 k** 后反向传播，
# 梯度在 `.grad` 中累加，k 次之后再调用一次 `optimizer.step()`。因为平均损失的梯度等于各微批次梯度的平均，
# 结果与一次性处理 256 个样本相同（只差浮点求和顺序带来的舍入）。省下的是**激活**：同一时刻只需保存一个微批次的激活。
#
# 两个常见的坑：(1) 批归一化（BatchNorm）按微批次统计均值方差，结果不再等价——这里的 MLP 没有 BN，也没有 Dropout；
# (2) 微批次大小不等时，"除以 k"是错的，应该按样本数加权（`loss * n_i / N`）；对语言模型，应按整个批次的**词元数**归一化。
# 下面把两种情况都算出来。

# %% [markdown] lang="en"
# ## Gradient accumulation: a large-batch gradient from small batches
#
# A batch of 256 examples does not fit in memory? Cut it into k = 4 micro-batches of 64, divide each micro-batch's loss
# **by k** before its backward pass, let the gradients add up in `.grad`, and call `optimizer.step()` once after k of them.
# Since the gradient of a mean loss is the mean of the micro-batch gradients, the result equals processing all 256 at once
# (up to rounding from a different summation order). What it saves is **activations**: only one micro-batch's activations
# are held at a time.
#
# Two common traps: (1) batch-norm computes its statistics per micro-batch, so the result is no longer equivalent — this
# MLP has no batch-norm and no dropout; (2) with unequal micro-batch sizes, "divide by k" is wrong: weight each loss by its
# share of examples (`loss * n_i / N`); for language models, normalise by the batch's total **token** count. Both cases are
# computed below.

# %%
def grads_of(model) -> torch.Tensor:
    return torch.cat([p.grad.flatten() for p in model.parameters()])


seed_everything(0, threads=1)
acc_model = mlp(64, 256, 256, 10)
Xb, yb = X_train[:256], y_train[:256]

acc_model.zero_grad()
F.cross_entropy(acc_model(Xb), yb).backward()
g_big = grads_of(acc_model).clone()

k = 4
acc_model.zero_grad()
for X_mb, y_mb in zip(Xb.chunk(k), yb.chunk(k)):
    (F.cross_entropy(acc_model(X_mb), y_mb) / k).backward()  # gradients add up in .grad
g_accum = grads_of(acc_model).clone()
accum_diff = (g_accum - g_big).abs().max().item()
print(f"k={k} micro-batches of 64 vs one batch of 256: max |grad difference| = {accum_diff:.2e}")

# unequal micro-batches (100 + 100 + 56): "/ k" is biased, weighting by size is exact
sizes = [100, 100, 56]
acc_model.zero_grad()
for X_mb, y_mb in zip(Xb.split(sizes), yb.split(sizes)):
    (F.cross_entropy(acc_model(X_mb), y_mb) / len(sizes)).backward()
diff_naive = (grads_of(acc_model) - g_big).abs().max().item()
acc_model.zero_grad()
for X_mb, y_mb in zip(Xb.split(sizes), yb.split(sizes)):
    (F.cross_entropy(acc_model(X_mb), y_mb) * len(y_mb) / len(yb)).backward()
diff_weighted = (grads_of(acc_model) - g_big).abs().max().item()
print(f"sizes {sizes}: loss / k -> max diff {diff_naive:.2e};  loss * n_i / N -> max diff {diff_weighted:.2e}")

# %% [markdown] lang="zh"
# ## 激活检查点：用重算换内存
#
# 反向传播需要前向时的中间结果（激活），autograd 默认把它们全部保存下来，占用随网络深度线性增长。
# 激活检查点把网络切成若干段，前向时只保存每段的**输入**，段内的激活不保存；反向传播到这一段时再把它的前向重算一遍。
# 代价是多做约一次前向计算（通常慢 20–35 %），换来的是：n 层切成 s 段时，保存的激活从约 n 层降到约 s 个段输入，
# 加上反向时重算的一段（约 n/s 层）；s ≈ √n 时总量最小。
#
# CPU 上没有 `torch.cuda.max_memory_allocated()` 这样的统计，所以我们直接数 autograd 保存了什么：
# `torch.autograd.graph.saved_tensors_hooks` 会在每个张量被保存以备反向时调用我们的函数，我们按存储去重、排除参数，累计字节数。
# 我们用 `checkpoint(segment, x, use_reentrant=False)`——PyTorch 文档推荐的非重入实现。

# %% [markdown] lang="en"
# ## Activation checkpointing: trade recomputation for memory
#
# The backward pass needs intermediate results of the forward pass (activations); by default autograd saves all of them, so
# their memory grows linearly with depth. Activation checkpointing cuts the network into segments and, in the forward
# pass, saves only each segment's **input**, not the activations inside it; when the backward pass reaches a segment, it
# re-runs that segment's forward. The price is about one extra forward pass (typically 20–35 % slower); the gain: with n
# layers in s segments, the saved activations drop from about n layers to about s segment inputs, plus one recomputed
# segment (about n/s layers) during the backward pass — smallest at s ≈ √n.
#
# A CPU has no `torch.cuda.max_memory_allocated()`, so we count what autograd saves:
# `torch.autograd.graph.saved_tensors_hooks` calls our function for every tensor saved for the backward pass; we de-duplicate
# by storage, leave out the parameters, and add up the bytes. We use `checkpoint(segment, x, use_reentrant=False)`, the
# non-reentrant implementation the PyTorch docs recommend.

# %%
class DeepMLP(nn.Module):
    """64 -> 256, then `depth` blocks of Linear(256, 256) + GELU, then 256 -> 10; optionally checkpointed in segments."""

    def __init__(self, depth: int = 16, width: int = 256):
        super().__init__()
        self.stem = nn.Sequential(nn.Flatten(), nn.Linear(64, width))
        self.blocks = nn.ModuleList(nn.Sequential(nn.Linear(width, width), nn.GELU()) for _ in range(depth))
        self.head = nn.Linear(width, 10)
        self.segments = 0  # 0 = no checkpointing

    def forward(self, x):
        x = self.stem(x)
        if not self.segments:
            for block in self.blocks:
                x = block(x)
        else:
            size = len(self.blocks) // self.segments
            for s in range(self.segments):
                segment = nn.Sequential(*self.blocks[s * size:(s + 1) * size])
                x = checkpoint(segment, x, use_reentrant=False)  # keep only x; recompute inside on backward
        return self.head(x)


def saved_bytes_and_grads(model, X, y):
    """Bytes of activations autograd saves for backward (unique storages, parameters excluded), and the gradients."""
    param_ptrs = {p.untyped_storage().data_ptr() for p in model.parameters()}
    saved = {}

    def pack(t):
        ptr = t.untyped_storage().data_ptr()
        if ptr not in param_ptrs:
            saved[ptr] = t.untyped_storage().nbytes()
        return t

    model.zero_grad()
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        loss = F.cross_entropy(model(X), y)
    loss.backward()
    return sum(saved.values()), grads_of(model).clone()


seed_everything(0, threads=1)
deep = DeepMLP(depth=16)
X_ck, y_ck = X_train[:512], y_train[:512]
block_calls = [0]  # forward calls of the blocks' Linear layers, recomputations included
for block in deep.blocks:
    block[0].register_forward_hook(lambda module, inputs, output: block_calls.__setitem__(0, block_calls[0] + 1))

results = {}
for segments in (0, 16, 4, 2):
    deep.segments = segments
    block_calls[0] = 0
    n_bytes, grads = saved_bytes_and_grads(deep, X_ck, y_ck)
    calls = block_calls[0]
    seconds = time_call(lambda: F.cross_entropy(deep(X_ck), y_ck).backward(), 5, min)
    results[segments] = (n_bytes, grads, seconds, calls)
deep.segments = 0

plain_bytes, plain_grads = results[0][:2]
print(f"{'checkpoint segments':20s} {'saved activations':>18s} {'block forwards':>15s} {'fwd+bwd time':>13s} "
      f"{'max |grad diff|':>16s}")
for segments, (n_bytes, grads, seconds, calls) in results.items():
    label = "none" if segments == 0 else str(segments)
    diff = (grads - plain_grads).abs().max().item()
    print(f"{label:20s} {n_bytes / 2**20:14.2f} MiB {calls:15d} {seconds * 1e3:10.1f} ms {diff:16.2e}")

# %% [markdown] lang="zh"
# 每一块保存两样东西：线性层的输入和 GELU 的输入，所以不做检查点时约保存 2n 个激活张量。每块一个检查点（16 段）
# 只剩每块的输入，约减半；4 段时只剩 4 个段输入，约为原来的六分之一——但反向时要临时重算出一段（4 块）的激活，
# 真实峰值比表中数字多出这一段。重算的代价看"block forwards"一列：每个训练步里 16 个块的线性层前向从 16 次变成 32 次
# （每块在反向时重算一次；PyTorch 在需要的张量都重算出来后立即停止，所以每段最后一个 GELU 不必重跑）；时间一列是 5 次运行中最快的一次，共享机器上仍有噪声。梯度差为 0：重算得到的是完全相同的数。
# 若段内有 Dropout，`checkpoint` 默认会保存并恢复随机数状态（`preserve_rng_state=True`），保证重算时丢弃同样的神经元。

# %% [markdown] lang="en"
# Each block saves two things, the linear layer's input and GELU's input, so without checkpointing about 2n activation
# tensors are kept. One checkpoint per block (16 segments) leaves only each block's input, about half; with 4 segments only 4
# segment inputs remain, about a sixth — but during the backward pass one segment (4 blocks) is recomputed and
# held for a moment, so the true peak is this table's figure plus one segment. The price of recomputation is in the
# "block forwards" column: per training step, the 16 blocks' linear layers run forward 32 times instead of 16 (each block
# is recomputed once in the backward pass; PyTorch stops recomputing as soon as every needed tensor is back, so the last
# GELU of a segment is not rerun); the time column is the fastest of 5 runs, still noisy on a shared machine. The gradient
# difference is 0: recomputation gives exactly the same
# numbers. If a segment contains dropout, `checkpoint` saves and restores the RNG state by default
# (`preserve_rng_state=True`), so the recomputation drops the same units.

# %%
seg_labels = ["none" if s == 0 else f"{s} segments" for s in results]
fig, ax = plt.subplots()
ax.bar(seg_labels, [results[s][0] / 2**20 for s in results], color=["C0", "C1", "C2", "C3"])
ax.set_ylabel("saved activations (MiB)")
ax.set_title("Activation checkpointing, 16 blocks, batch 512")
plt.show()

# %% [markdown] lang="zh"
# ## 检查
#
# 断言：梯度累积（4 个微批次、损失除以 4）的梯度与一次性大批次的梯度一致（`allclose`）；
# 不等大小的微批次按样本数加权后同样一致；每种检查点切分的梯度都与不做检查点时一致；
# 4 段检查点保存的激活字节数不到不做检查点时的四分之一，代价是每块的前向多算一次（线性层前向次数恰好翻倍）；bf16 autocast 训练的测试准确率与 fp32 相差不超过 2 个百分点，
# 并且确实学会了（≥ 0.9）；fp16 中 1e-8 的梯度不缩放时下溢为 0，缩放后相对误差小于 1 %。

# %% [markdown] lang="en"
# ## Check
#
# Asserted: the gradient from accumulation (4 micro-batches, loss divided by 4) matches the one-shot large-batch gradient
# (`allclose`); unequal micro-batches weighted by size match too; every checkpoint segmentation gives the same gradients as no
# checkpointing; 4-segment checkpointing saves less than a quarter of the activation bytes of no checkpointing, at the
# price of running every block forward once more (exactly twice the linear-layer forwards); the bf16
# autocast run's test accuracy is within 2 points of fp32 and it did learn (≥ 0.9); in fp16 the 1e-8 gradient underflows to 0
# without scaling and is within 1 % with scaling.

# %%
assert torch.allclose(g_accum, g_big, rtol=1e-5, atol=1e-7), f"accumulated gradient differs: max diff {accum_diff:.2e}"
assert diff_weighted < 1e-6 < diff_naive, f"weighted {diff_weighted:.2e}, naive {diff_naive:.2e}"
for segments, (n_bytes, grads, _, _) in results.items():
    assert torch.allclose(grads, plain_grads, rtol=1e-5, atol=1e-7), f"{segments} segments: gradients differ"
ratio = results[4][0] / plain_bytes
assert results[4][3] == 2 * results[0][3], f"block forwards: {results[0][3]} plain, {results[4][3]} checkpointed"
assert ratio < 0.25, f"4-segment checkpointing saves {ratio:.2f} of the plain activation bytes"
assert abs(acc_bf16 - acc_fp32) <= 0.02 and acc_bf16 >= 0.9, f"bf16 {acc_bf16:.3f} vs fp32 {acc_fp32:.3f}"
assert grad_plain[0] == 0 and abs(grad_scaled[0] / true_grad[0] - 1) < 0.01, "fp16 underflow demo did not behave"
print(f"check passed: accumulation max diff {accum_diff:.1e}; checkpointing saves {plain_bytes / 2**20:.2f} -> "
      f"{results[4][0] / 2**20:.2f} MiB ({ratio:.0%}) with identical gradients; "
      f"test accuracy fp32 {acc_fp32:.3f} vs bf16 {acc_bf16:.3f}")
