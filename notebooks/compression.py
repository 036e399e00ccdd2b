# %% [markdown] lang="zh"
# # 实验：模型压缩——量化、剪枝与知识蒸馏
#
# 来源：第 004 篇《AI 大模型创业：如何利用用户优势？》问题 17（[章节](../chapters/user-data-and-training.md#q-compression-acceleration)）、
# 第 003 篇《大模型在 AI 创业公司产品策略中的创新》问题 4（[章节](../chapters/product-strategy.md#q-deploy-and-tune)）
# 和第 000 篇《AI 大模型创业：如何利用创新优势？》问题 3（[章节](../chapters/llm-fundamentals.md#q-optimize-training-inference)）。
#
# **原文的问题：**
#
# - 说剪枝、量化、蒸馏都"减少模型参数数量和计算量"——量化不减少参数个数，只减少每个参数的位数；非结构化剪枝只把权重置零，
#   稠密存储和稠密计算都不变；只有蒸馏到小模型才同时减少参数和计算；
# - 只列名称，没有说明每种方法怎么做、代价是什么。
#
# **本实验做什么：** 在 `load_digits` 上训练一个"教师"MLP，然后：(1) 用 PyTorch 的动态 int8 量化压缩它，量出存储大小、
# 批大小 1 和 256 的延迟、准确率；(2) 按权重绝对值剪枝，画出准确率–稀疏度曲线，并验证剪枝后的稠密存储一字节也没少；
# (3) 把教师蒸馏进一个小得多的学生（Hinton 等，2015），与同样大小、同样数据、同样随机种子单独训练的学生比较。

# %% [markdown] lang="en"
# # Lab: model compression — quantization, pruning and knowledge distillation
#
# Source: article 004, "AI 大模型创业：如何利用用户优势？", question 17
# ([chapter](../chapters/user-data-and-training.md#q-compression-acceleration)); article 003, "Innovation of large models in AI
# startups' product strategy", question 4 ([chapter](../chapters/product-strategy.md#q-deploy-and-tune)); and article 000,
# question 3 ([chapter](../chapters/llm-fundamentals.md#q-optimize-training-inference)).
#
# **What was wrong with the original answers:**
#
# - they say pruning, quantization and distillation all "reduce the number of parameters and the amount of computation" —
#   quantization keeps every parameter and only stores it in fewer bits; unstructured pruning only sets weights to zero, so
#   dense storage and dense compute do not change; only distillation into a smaller model cuts both;
# - the methods are only named; how each works and what it costs is never said.
#
# **What this lab does:** it trains a "teacher" MLP on `load_digits`, then (1) compresses it with PyTorch's dynamic int8
# quantization and measures storage size, latency at batch 1 and 256, and accuracy; (2) prunes it by weight magnitude,
# plots accuracy against sparsity, and shows that the pruned model's dense storage did not shrink by a single byte; (3)
# distills the teacher into a much smaller student (Hinton et al., 2015) and compares it with a student of the same size
# trained alone on the same data with the same seeds.

# %%
import copy
import io
import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.nn.utils.prune as prune

from labkit import accuracy, digits_loaders, digits_splits, fit, mlp, seed_everything, setup_plots, time_call

seed_everything(0, threads=1)  # small models: one thread is steadier on a shared CPU, and reproducible
setup_plots()
splits = digits_splits()
X_train, y_train = splits["train"]
X_test, y_test = splits["test"]

# %% [markdown] lang="zh"
# ## 教师模型
#
# 一个两层隐藏层（256 个单元）的 MLP，约 8.5 万个参数，用 `labkit.fit` 训练（按验证集损失挑选最好的一轮）。

# %% [markdown] lang="en"
# ## The teacher
#
# An MLP with two hidden layers of 256 units, about 85 thousand parameters, trained with `labkit.fit` (the epoch with the
# lowest validation loss is kept).

# %%
teacher = mlp(64, 256, 256, 10)
loaders = digits_loaders(batch_size=64)
history = fit(teacher, loaders["train"], loaders["val"], epochs=40, verbose=False)
teacher.eval()
n_params = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
acc_teacher = accuracy(teacher, X_test, y_test)
print(f"teacher: {n_params(teacher):,} parameters, trained in {history['seconds']:.1f} s "
      f"(best epoch {history['best_epoch']}), test accuracy {acc_teacher:.3f}")

# %% [markdown] lang="zh"
# ## 动态 int8 量化
#
# 动态量化（dynamic quantization）提前把 `nn.Linear` 的权重量化成 int8（每个张量一个缩放因子 $s$（`scale`）和零点
# $z$（`zero_point`），$w \approx s\,(q - z)$），激活则在推理时按每个批次的取值范围**即时**量化；
# 矩阵乘法用 int8 输入、int32 累加，输出再反量化回 fp32。它不需要校准数据，也不需要重新训练，适合以线性层为主、
# 瓶颈在读取权重的模型（LSTM、Transformer 的全连接层）。卷积层需要静态量化（要用校准数据统计激活范围），这里不涉及。
#
# **API 现状：** `torch.ao.quantization.quantize_dynamic` 在 torch 2.13 中仍然可用，但已被标记为弃用，
# 下面把它发出的警告原样打印出来（警告里写的版本号已经过时——2.13 里它还在）。官方的后继是
# [torchao](https://docs.pytorch.org/ao/stable/index.html) 的 `quantize_(model, Int8DynamicActivationInt8WeightConfig())`；
# torchao 主要面向 GPU，不在本手册的依赖里。它的思想与下面完全相同。

# %% [markdown] lang="en"
# ## Dynamic int8 quantization
#
# Dynamic quantization converts the weights of each `nn.Linear` to int8 ahead of time (one scale $s$ and one zero point $z$
# per tensor, `scale` and `zero_point`: $w \approx s\,(q - z)$) and quantizes the activations **on the fly** at inference,
# from each batch's range of values; the matrix multiply takes int8 inputs, accumulates in int32, and the output is
# dequantized back to fp32. It needs no calibration data and no retraining, and suits models made mostly of linear layers
# whose bottleneck is reading the weights (LSTMs, the feed-forward layers of Transformers). Convolutions need static
# quantization (calibration data to measure activation ranges), which this lab leaves out.
#
# **State of the API:** `torch.ao.quantization.quantize_dynamic` still works in torch 2.13 but is deprecated; the warnings
# it raises are printed below as they come (the version number in the warning is out of date — the function is still
# there in 2.13). The official successor is [torchao](https://docs.pytorch.org/ao/stable/index.html)'s
# `quantize_(model, Int8DynamicActivationInt8WeightConfig())`; torchao targets GPUs first and is not a dependency of this
# handbook. The idea is exactly the same as below.

# %%
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    teacher_int8 = torch.ao.quantization.quantize_dynamic(copy.deepcopy(teacher), {nn.Linear}, dtype=torch.qint8)
for message in sorted({f"{w.category.__name__}: {str(w.message).strip().splitlines()[0]}" for w in caught}):
    print(message)
print(teacher_int8)

qw = teacher_int8[1].weight()  # the int8 weight of the first linear layer
w_fp32 = teacher[1].weight.detach()
print(f"\nfirst layer: scale {qw.q_scale():.5f}, zero_point {qw.q_zero_point()}, "
      f"int8 values {qw.int_repr()[0, :6].tolist()} ...")
print(f"max |w - dequantized w| = {(qw.dequantize() - w_fp32).abs().max().item():.5f} "
      f"(half a quantization step = {qw.q_scale() / 2:.5f})")

# %% [markdown] lang="zh"
# 接下来量三样东西：序列化后的 `state_dict` 字节数（也就是要下发到设备的文件大小）、准确率，以及延迟——
# 每种设置重复多次取**中位数**（共享机器上计时有噪声，中位数比平均数稳）。批大小 1 模拟在线逐条请求，256 模拟离线批处理。
# 表中还有一个剪掉 90 % 权重的 fp32 模型（下一节讲剪枝），用来说明稠密计算不会因为零多而变快。

# %% [markdown] lang="en"
# Next we measure three things: the bytes of the serialized `state_dict` (the file you ship to a device), accuracy, and
# latency — each setting repeated many times and summarised by the **median** (timings on a shared machine are noisy, and
# the median is steadier than the mean). Batch 1 stands for online requests one at a time, 256 for offline batch jobs.
# The table also has an fp32 model with 90 % of its weights pruned (the next section explains pruning), to show that dense
# compute does not get faster because of zeros.

# %%
def state_dict_bytes(model: nn.Module) -> int:
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return buffer.getbuffer().nbytes


def latency_ms(model: nn.Module, X: torch.Tensor, repeats: int) -> float:
    with torch.inference_mode():
        return time_call(lambda: model(X), repeats, warmup=3) * 1e3


def prune_linear_weights(model: nn.Module, amount: float, how: str = "global") -> nn.Module:
    """A pruned copy: L1 (magnitude) unstructured pruning of every Linear weight, globally or layer by layer."""
    model = copy.deepcopy(model)
    params = [(m, "weight") for m in model.modules() if isinstance(m, nn.Linear)]
    if how == "global":
        prune.global_unstructured(params, pruning_method=prune.L1Unstructured, amount=amount)
    else:
        for module, name in params:
            prune.l1_unstructured(module, name, amount=amount)
    return model


teacher_pruned90 = prune_linear_weights(teacher, 0.9)
for module in teacher_pruned90.modules():
    if isinstance(module, nn.Linear):
        prune.remove(module, "weight")  # make it permanent: a plain dense weight full of zeros

X1, X256 = X_test[:1], X_test[:256]
table = {}
for name, model in [("fp32", teacher), ("fp32, 90% pruned", teacher_pruned90), ("int8 dynamic", teacher_int8)]:
    table[name] = {
        "bytes": state_dict_bytes(model),
        "acc": accuracy(model, X_test, y_test),
        "ms_b1": latency_ms(model, X1, repeats=300),
        "ms_b256": latency_ms(model, X256, repeats=50),
    }
print(f"{'model':18s} {'state_dict':>11s} {'test acc':>9s} {'batch 1':>10s} {'batch 256':>10s}")
for name, row in table.items():
    print(f"{name:18s} {row['bytes'] / 1024:8.1f} KB {row['acc']:9.3f} {row['ms_b1']:7.3f} ms {row['ms_b256']:7.3f} ms")
size_ratio = table["int8 dynamic"]["bytes"] / table["fp32"]["bytes"]
acc_drop = table["fp32"]["acc"] - table["int8 dynamic"]["acc"]
with torch.inference_mode():
    agree = (teacher_int8(X_test).argmax(1) == teacher(X_test).argmax(1)).float().mean().item()
print(f"\nint8 / fp32 size: {size_ratio:.2f};  accuracy change {-acc_drop:+.3f};  same prediction on {agree:.1%} of test images")

# %% [markdown] lang="zh"
# int8 权重占 fp32 的四分之一左右（多出来的是缩放因子、偏置和序列化的元数据）。速度则要看情况：
# 这个模型太小，批大小 1 时时间主要花在 Python 调用和即时量化激活上，int8 未必更快；大矩阵、内存带宽受限时
# （例如大语言模型逐词生成）量化的加速才明显。剪掉 90 % 的模型文件一样大、速度也一样——下一节解释。

# %% [markdown] lang="en"
# The int8 weights take about a quarter of the fp32 bytes (the rest is scales, biases and serialization metadata). Speed
# depends: this model is so small that at batch 1 the time goes mostly into Python calls and quantizing the activations on
# the fly, so int8 need not be faster; quantization pays off clearly with large matrices where memory bandwidth is the
# limit (for example an LLM generating one token at a time). The 90 %-pruned model has the same file size and the same
# speed — the next section explains why.

# %% [markdown] lang="zh"
# ## 剪枝：准确率–稀疏度曲线
#
# `prune.l1_unstructured` 在每一层内把绝对值最小的一定比例的权重置零；`prune.global_unstructured` 把所有层的权重放在一起排序，
# 按全局阈值剪——各层剪掉的比例由权重大小自己决定，通常在高稀疏度下好得多（小的输出层不会被剪得和大的隐藏层一样狠）。
# 剪枝通过一个掩码实现：模块里存着 `weight_orig` 和 `weight_mask`，前向时相乘；`prune.remove` 再把结果固化成普通权重。
#
# **关键事实：** 非结构化剪枝后张量形状不变，零也照样以 32 位浮点数存储、照样参与稠密矩阵乘法。要真正省下存储，
# 得换成稀疏格式——而 CSR 格式每个非零元要存 4 字节的值加 8 字节的列下标（PyTorch 用 int64），稀疏度低于约 67 % 时反而更大；
# 要真正变快，得有稀疏内核或硬件支持（如 NVIDIA 的 2:4 结构化稀疏），或者改做结构化剪枝（删掉整行、整个通道、整个注意力头）。

# %% [markdown] lang="en"
# ## Pruning: accuracy against sparsity
#
# `prune.l1_unstructured` zeroes the given share of smallest-magnitude weights within each layer;
# `prune.global_unstructured` ranks the weights of all layers together and cuts at one global threshold — each layer's share
# is then set by its weights' sizes, which is usually much better at high sparsity (the small output layer is not cut as
# hard as the large hidden layers). Pruning works through a mask: the module holds `weight_orig` and `weight_mask`,
# multiplied in the forward pass; `prune.remove` then bakes the result into a plain weight.
#
# **The key fact:** after unstructured pruning the tensor shapes are unchanged; the zeros are still stored as 32-bit floats
# and still take part in the dense matrix multiply. To really save storage you need a sparse format — and CSR stores a
# 4-byte value plus an 8-byte column index (int64 in PyTorch) per non-zero, so below about 67 % sparsity it is *larger*; to
# really gain speed you need sparse kernels or hardware support (such as NVIDIA's 2:4 structured sparsity), or structured
# pruning (remove whole rows, channels or attention heads).

# %%
def linear_sparsity(model: nn.Module) -> float:
    weights = [m.weight for m in model.modules() if isinstance(m, nn.Linear)]  # `weight` = weight_orig * mask
    return sum((w == 0).sum().item() for w in weights) / sum(w.numel() for w in weights)


amounts = [0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.97, 0.98, 0.99]
curves = {"global": [], "per layer": []}
for amount in amounts:
    for how in curves:
        pruned = prune_linear_weights(teacher, amount, "global" if how == "global" else "layer")
        curves[how].append((linear_sparsity(pruned), accuracy(pruned, X_test, y_test)))
for how, points in curves.items():
    print(f"{how:9s}", "  ".join(f"{s:.2f}:{a:.3f}" for s, a in points))

masked = prune_linear_weights(teacher, 0.9)
first = masked[1]
print("\nbuffers/params of a masked layer:", [n for n, _ in first.named_parameters()], [n for n, _ in first.named_buffers()])
tensor_bytes = lambda m: sum(t.numel() * t.element_size() for t in m.state_dict().values())  # noqa: E731
print(f"tensor bytes in state_dict: dense {tensor_bytes(teacher):,}, masked {tensor_bytes(masked):,}, "
      f"after prune.remove {tensor_bytes(teacher_pruned90):,}")
nnz = sum((m.weight != 0).sum().item() for m in teacher_pruned90.modules() if isinstance(m, nn.Linear))
rows = sum(m.weight.shape[0] + 1 for m in teacher_pruned90.modules() if isinstance(m, nn.Linear))
dense_weight_bytes = sum(m.weight.numel() * 4 for m in teacher.modules() if isinstance(m, nn.Linear))
print(f"linear weights at 90% sparsity: dense {dense_weight_bytes:,} bytes, CSR (fp32 values + int64 indices) "
      f"{nnz * 12 + rows * 8:,} bytes")

# %% [markdown] lang="zh"
# 上面的输出还说明：剪枝期间（掩码形式）`state_dict` 同时存着 `weight_orig` 和 `weight_mask`，反而是原来的两倍；
# `prune.remove` 之后才回到原大小——一字节也没少。CSR 在 90 % 稀疏度下确实更小，但那需要稀疏格式和稀疏内核。
#
# 剪枝后再微调几轮，通常能把高稀疏度下损失的准确率找回来一部分：掩码在训练中保持不变，被剪掉的位置梯度为零。

# %% [markdown] lang="en"
# The output above also shows that while pruning is in its mask form, the `state_dict` holds both `weight_orig` and
# `weight_mask`, twice the original size; after `prune.remove` it is back to the original size — not a byte smaller. CSR is
# indeed smaller at 90 % sparsity, but that takes a sparse format and sparse kernels.
#
# Fine-tuning for a few epochs after pruning usually wins back part of the accuracy lost at high sparsity: the mask stays
# fixed during training and the pruned positions get zero gradient.

# %%
amount_ft = 0.95
pruned_ft = prune_linear_weights(teacher, amount_ft)
acc_before_ft = accuracy(pruned_ft, X_test, y_test)
ft_history = fit(pruned_ft, loaders["train"], loaders["val"], epochs=5, verbose=False)
acc_after_ft = accuracy(pruned_ft, X_test, y_test)
print(f"{amount_ft:.0%} global sparsity: test accuracy {acc_before_ft:.3f} -> {acc_after_ft:.3f} after 5 epochs of "
      f"fine-tuning ({ft_history['seconds']:.1f} s); sparsity still {linear_sparsity(pruned_ft):.3f}")

fig, ax = plt.subplots()
for how, points in curves.items():
    ax.plot([s for s, _ in points], [a for _, a in points], marker="o", label=f"L1, {how}")
ax.scatter([linear_sparsity(pruned_ft)], [acc_after_ft], color="C3", zorder=3, label=f"global {amount_ft:.0%} + fine-tune")
ax.axhline(acc_teacher, color="gray", linestyle=":", label="dense teacher")
ax.set_xlabel("fraction of linear weights set to zero")
ax.set_ylabel("test accuracy")
ax.set_title("Magnitude pruning of the teacher MLP")
ax.legend(fontsize=8)
plt.show()

# %% [markdown] lang="zh"
# ## 知识蒸馏
#
# 教师的输出不只是"这是 3"，还包含"它有点像 5、一点也不像 4"这样的信息（Hinton 称之为"暗知识"）。
# 用温度 T 软化 softmax，$p_i = \exp(z_i/T) / \sum_j \exp(z_j/T)$，这些小概率就显露出来。学生的损失是
#
# $$\mathcal L = \alpha\,T^2\,\mathrm{KL}\big(p^{\text{teacher}}_T \,\|\, p^{\text{student}}_T\big) + (1-\alpha)\,\mathrm{CE}(y, p^{\text{student}}_1)$$
#
# 软目标项的梯度随 $1/T^2$ 缩小，乘以 $T^2$ 使两项的量级在改变 T 时保持可比。先看一张训练图片的教师输出在 T = 1 和 T = 4 时的样子。

# %% [markdown] lang="en"
# ## Knowledge distillation
#
# The teacher's output says more than "this is a 3": it also says "it looks a bit like a 5 and nothing like a 4" (what
# Hinton calls dark knowledge). Softening the softmax with a temperature T, $p_i = \exp(z_i/T) / \sum_j \exp(z_j/T)$, brings
# these small probabilities out. The student's loss is
#
# $$\mathcal L = \alpha\,T^2\,\mathrm{KL}\big(p^{\text{teacher}}_T \,\|\, p^{\text{student}}_T\big) + (1-\alpha)\,\mathrm{CE}(y, p^{\text{student}}_1)$$
#
# The soft-target term's gradient shrinks as $1/T^2$; multiplying by $T^2$ keeps the two terms comparable when T changes.
# First, the teacher's output for one training image at T = 1 and T = 4.

# %%
with torch.no_grad():
    teacher_logits = teacher(X_train)  # computed once; the teacher is frozen

example = int((y_train == 3).nonzero()[0])
fig, ax = plt.subplots()
for offset, T in ((-0.2, 1.0), (0.2, 4.0)):
    ax.bar(np.arange(10) + offset, (teacher_logits[example] / T).softmax(-1).numpy(), width=0.4, label=f"T = {T:g}")
ax.set_xticks(range(10))
ax.set_yscale("log")
ax.set_xlabel("class")
ax.set_ylabel("teacher probability (log scale)")
ax.set_title(f"Soft targets for one training image (label {int(y_train[example])})")
ax.legend()
plt.show()

# %% [markdown] lang="zh"
# 现在做对照实验。学生是一个只有 32 个隐藏单元的 MLP（约 2.4 千个参数，教师的 1/35），只能看到很少的训练图片
# （每类 6 张，共 60 张）——这正是蒸馏最有用的情形：每张图片的软目标带来的信息比一个硬标签多得多。
# 两个学生用**同一个**随机种子：同样的初始权重、同样的 60 张图片、同样的批次顺序、同样的轮数和学习率，唯一的差别是损失函数。
# 单次比较的差距可能是运气，所以重复 5 个种子。

# %% [markdown] lang="en"
# Now the controlled comparison. The student is an MLP with only 32 hidden units (about 2.4 thousand parameters, 1/35 of the
# teacher) and sees very few training images (6 per class, 60 in all) — exactly where distillation helps most: each image's
# soft targets carry much more information than one hard label. Both students of a pair use the **same** seed: the same
# initial weights, the same 60 images, the same batch order, epochs and learning rate; the only difference is the loss.
# One comparison could be luck, so we repeat it over 5 seeds.

# %%
def kd_loss(student_logits, teacher_logits, labels, T: float = 4.0, alpha: float = 0.9):
    soft = F.kl_div(F.log_softmax(student_logits / T, dim=-1), F.softmax(teacher_logits / T, dim=-1),
                    reduction="batchmean") * T * T
    return alpha * soft + (1 - alpha) * F.cross_entropy(student_logits, labels)


def train_student(seed: int, distill: bool, per_class: int = 6, hidden: int = 32, epochs: int = 200,
                  lr: float = 3e-3, batch_size: int = 32) -> tuple[float, int]:
    torch.manual_seed(seed)
    student = mlp(64, hidden, 10)
    perm = torch.randperm(len(X_train), generator=torch.Generator().manual_seed(100 + seed))
    subset = torch.cat([perm[y_train[perm] == c][:per_class] for c in range(10)])  # per_class images of each digit
    opt = torch.optim.Adam(student.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for batch in torch.randperm(len(subset), generator=gen).split(batch_size):
            idx = subset[batch]
            logits = student(X_train[idx])
            if distill:
                loss = kd_loss(logits, teacher_logits[idx], y_train[idx])
            else:
                loss = F.cross_entropy(logits, y_train[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return accuracy(student, X_test, y_test), n_params(student)


seeds = range(5)
start = time.perf_counter()
acc_alone, acc_kd = [], []
for seed in seeds:
    acc_alone.append(train_student(seed, distill=False)[0])
    acc_kd.append(train_student(seed, distill=True)[0])
student_params = train_student(0, distill=False, epochs=0)[1]
print(f"10 students trained in {time.perf_counter() - start:.1f} s; each has {student_params:,} parameters")
print("seed   alone   distilled")
for seed, a, b in zip(seeds, acc_alone, acc_kd):
    print(f"{seed:4d}   {a:.3f}   {b:.3f}")
mean_alone, mean_kd = float(np.mean(acc_alone)), float(np.mean(acc_kd))
wins = sum(b > a for a, b in zip(acc_alone, acc_kd))
print(f"mean   {mean_alone:.3f}   {mean_kd:.3f}   (distilled better on {wins} of {len(acc_alone)} seeds; "
      f"teacher {acc_teacher:.3f})")

fig, ax = plt.subplots()
x = np.arange(len(acc_alone))
ax.bar(x - 0.2, acc_alone, width=0.4, label="student trained alone")
ax.bar(x + 0.2, acc_kd, width=0.4, label="student distilled (T=4, alpha=0.9)")
ax.axhline(acc_teacher, color="gray", linestyle=":", label="teacher")
ax.set_xticks(x, [f"seed {s}" for s in seeds])
ax.set_ylim(0.6, 1.07)
ax.set_ylabel("test accuracy")
ax.set_title("Same student, same 60 images: distillation vs labels alone")
ax.legend(fontsize=7, loc="upper center", ncol=3)
plt.show()

# %% [markdown] lang="zh"
# 三种方法的分工：量化缩小每个参数的位数（存储约 1/4），剪枝把参数置零（稠密存储不变，需要稀疏格式或结构化剪枝才见效），
# 蒸馏直接换成更小的模型（参数和计算都少了 35 倍），代价是要再训练一次。实际部署中它们常常叠加使用：先蒸馏，再量化。

# %% [markdown] lang="en"
# How the three divide the work: quantization shrinks the bits per parameter (about 1/4 of the storage); pruning sets
# parameters to zero (dense storage unchanged; it needs a sparse format or structured pruning to pay off); distillation
# swaps in a smaller model (35 times fewer parameters and less compute), at the price of another training run. In practice
# they are often stacked: distill first, then quantize.

# %% [markdown] lang="zh"
# ## 检查
#
# 断言：蒸馏学生的平均测试准确率比单独训练的学生高至少 2 个百分点（实测约高 6.6 个），且至少在 4 个种子中的每一个上更好；
# int8 模型的 `state_dict` 小于 fp32 的 35 %，准确率下降不超过 2 个百分点；剪枝到 90 % 并 `prune.remove` 之后，
# `state_dict` 里张量的字节数与原模型完全相同（非结构化剪枝不省稠密存储），且全局剪枝的实际稀疏度与要求一致；50 % 全局剪枝几乎不掉点（≤ 1 个百分点）。

# %% [markdown] lang="en"
# ## Check
#
# Asserted: the distilled students' mean test accuracy is at least 2 points above the students trained alone (measured:
# about 6.6 points), and distillation wins on at least 4 of the 5 seeds; the int8 model's `state_dict` is under 35 % of the
# fp32 one and loses at most 2 points of accuracy; after 90 % pruning and `prune.remove` the tensors in the `state_dict` take
# exactly as many bytes as the original's (unstructured pruning saves no dense storage), and global pruning reached the requested sparsity; 50 % global
# pruning costs at most 1 point.

# %%
assert mean_kd - mean_alone >= 0.02, f"distilled {mean_kd:.3f} vs alone {mean_alone:.3f}: gap below 0.02"
assert wins >= 4, f"distillation won on only {wins} of {len(acc_alone)} seeds"
assert size_ratio < 0.35, f"int8 state_dict is {size_ratio:.2f} of fp32"
assert acc_drop <= 0.02, f"int8 accuracy {table['int8 dynamic']['acc']:.3f} vs fp32 {table['fp32']['acc']:.3f}"
assert tensor_bytes(teacher_pruned90) == tensor_bytes(teacher), "pruned dense weights changed size"
assert abs(curves["global"][amounts.index(0.9)][0] - 0.9) < 1e-3, "global pruning missed the requested sparsity"
acc_half = curves["global"][amounts.index(0.5)][1]
assert acc_teacher - acc_half <= 0.01, f"50% pruning dropped accuracy {acc_teacher:.3f} -> {acc_half:.3f}"
print(f"check passed: distilled {mean_kd:.3f} vs alone {mean_alone:.3f} (wins {wins}/{len(acc_alone)}); "
      f"int8 {size_ratio:.0%} of fp32 bytes, accuracy {table['fp32']['acc']:.3f} -> {table['int8 dynamic']['acc']:.3f}; "
      f"90% pruned dense tensors {tensor_bytes(teacher_pruned90):,} bytes = unpruned")
