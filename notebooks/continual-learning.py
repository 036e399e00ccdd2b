# %% [markdown] lang="zh"
# # 实验：持续学习——灾难性遗忘与经验回放
#
# 来源：第 004 篇《AI 大模型创业：如何利用用户优势？》问题 16（[章节](../chapters/user-data-and-training.md#q-continual-learning)）。
#
# **原文的问题：**
#
# - 没有点出持续学习要解决的核心问题：**灾难性遗忘**——只用新数据继续训练，旧能力会迅速丢失；
# - 把"迁移学习（在新数据上微调）"列为持续学习的方法，而这恰恰是造成遗忘的做法；"增量学习：逐层训练新数据"也不是增量学习的含义；
# - "数据增强""连续学习"与防止遗忘无关（后者只是同一概念的另一种译名）。
#
# **本实验做什么：** 把 `load_digits` 拆成两个先后到来的任务——任务 A 是数字 0–4，任务 B 是数字 5–9——用同一个模型依次学习。
# 先看直接在 B 上微调时 A 的准确率如何掉到 0（灾难性遗忘），再用**经验回放**（保留一小批 A 的样本，混进 B 的每个批次）保住 A，
# 并简要试一下 EWC（弹性权重巩固）。每种做法都画出训练过程中 A 和 B 的准确率。

# %% [markdown] lang="en"
# # Lab: continual learning — catastrophic forgetting and experience replay
#
# Source: article 004, "AI 大模型创业：如何利用用户优势？", question 16
# ([chapter](../chapters/user-data-and-training.md#q-continual-learning)).
#
# **What was wrong with the original answer:**
#
# - it never names the core problem continual learning has to solve: **catastrophic forgetting** — keep training on new
#   data only, and old abilities are lost quickly;
# - it lists "transfer learning (fine-tuning on the new data)" as a continual-learning method, when that is exactly what
#   causes forgetting; "incremental learning: train on new data layer by layer" is not what incremental learning means;
# - "data augmentation" and "continuous learning" do nothing against forgetting (the latter is just another translation of
#   the same concept).
#
# **What this lab does:** it splits `load_digits` into two tasks that arrive one after the other — task A is digits 0–4,
# task B is digits 5–9 — and lets one model learn them in sequence. First we watch task A's accuracy fall to 0 when the
# model is simply fine-tuned on B (catastrophic forgetting); then **experience replay** (keep a small sample of A's
# examples and mix it into every batch of B) preserves A; and we briefly try EWC (elastic weight consolidation). For each
# approach we plot the accuracy on A and on B throughout training.

# %%
import copy
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

from labkit import accuracy, digits_splits, mlp, seed_everything, setup_plots

seed_everything(0, threads=1)  # small model: one thread is steadier on a shared CPU, and reproducible
setup_plots()

splits = digits_splits()
X_train, y_train = splits["train"]
X_test, y_test = splits["test"]
in_A_train, in_A_test = y_train < 5, y_test < 5
XA, yA, XB, yB = X_train[in_A_train], y_train[in_A_train], X_train[~in_A_train], y_train[~in_A_train]
XA_test, yA_test, XB_test, yB_test = X_test[in_A_test], y_test[in_A_test], X_test[~in_A_test], y_test[~in_A_test]
print(f"task A (digits 0-4): {len(XA)} train / {len(XA_test)} test;  task B (digits 5-9): {len(XB)} train / {len(XB_test)} test")

# %% [markdown] lang="zh"
# ## 场景：类增量，共享输出头
#
# 持续学习的难度取决于测试时知道多少（van de Ven 等，2022 把它分成三种场景）：
#
# - **任务增量**（task-incremental）：测试时告诉模型"这是任务 A 的图片"，模型只需在 0–4 里选——常用每个任务一个输出头来实现；
# - **类增量**（class-incremental）：测试时不给任务编号，模型要在全部 10 个类里选。这最接近真实产品（用户不会告诉你他的问题属于哪个"阶段"），也最难。
#
# 这里用类增量：一个 10 路的共享输出头，测试时对 10 个 logits 取 argmax。最后我们也会用任务增量的方式评估一次，看看差别从何而来。

# %% [markdown] lang="en"
# ## Scenario: class-incremental, one shared head
#
# How hard continual learning is depends on what is known at test time (van de Ven et al., 2022 distinguish three scenarios):
#
# - **task-incremental**: at test time the model is told "this image belongs to task A" and only has to choose among 0–4 —
#   often implemented with one output head per task;
# - **class-incremental**: no task label at test time; the model must choose among all 10 classes. This is closest to a real
#   product (users do not tell you which "phase" their request belongs to), and the hardest.
#
# We use class-incremental learning: one shared 10-way head, and argmax over all 10 logits at test time. At the end we also
# evaluate task-incrementally, to see where the difference comes from.

# %%
BATCH, EVAL_EVERY = 32, 5


def train_task(model, X, y, epochs: int, seed: int, log: list, step0: int = 0,
               memory: torch.Tensor | None = None, ewc: dict | None = None) -> int:
    """Adam on one task's data. `memory`: indices into (XA, yA) replayed in every batch. `ewc`: {"lam", "fisher", "anchor"}.

    Every EVAL_EVERY steps, appends (step, accuracy on task A's test set, accuracy on task B's test set) to `log`.
    """
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(seed)
    step = step0
    for _ in range(epochs):
        for idx in torch.randperm(len(X), generator=gen).split(BATCH):
            Xb, yb = X[idx], y[idx]
            if memory is not None:  # experience replay: add as many old examples, drawn from the buffer
                old = memory[torch.randint(len(memory), (BATCH,), generator=gen)]
                Xb, yb = torch.cat([Xb, XA[old]]), torch.cat([yb, yA[old]])
            loss = F.cross_entropy(model(Xb), yb)
            if ewc is not None:  # EWC: quadratic penalty pulling important weights back to their task-A values
                loss = loss + ewc["lam"] / 2 * sum(
                    (f * (p - a) ** 2).sum() for f, p, a in zip(ewc["fisher"], model.parameters(), ewc["anchor"]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            if step % EVAL_EVERY == 0:
                log.append((step, accuracy(model, XA_test, yA_test), accuracy(model, XB_test, yB_test)))
    return step


# %% [markdown] lang="zh"
# ## 第一阶段：只学任务 A

# %% [markdown] lang="en"
# ## Phase 1: task A only

# %%
start = time.perf_counter()
torch.manual_seed(0)
model_A = mlp(64, 128, 128, 10)
log_A = []
steps_A = train_task(model_A, XA, yA, epochs=15, seed=0, log=log_A)
acc_A_after_A = accuracy(model_A, XA_test, yA_test)
print(f"after task A ({steps_A} steps, {time.perf_counter() - start:.1f} s): "
      f"accuracy on A {acc_A_after_A:.3f}, on B {accuracy(model_A, XB_test, yB_test):.3f} (B's classes never seen)")

# %% [markdown] lang="zh"
# ## 第二阶段：学任务 B——三种做法
#
# 三种做法都从第一阶段结束时的**同一个**模型出发（`deepcopy`），B 的批次顺序相同：
#
# 1. **直接微调**：只用 B 的数据。
# 2. **经验回放**：第一阶段结束时，从 A 的训练集里按类均匀留下 50 张图片（每类 10 张，占 A 的 8 %）作为记忆缓冲区；
#    学 B 时每个批次除了 32 张 B 的图片，再从缓冲区随机抽 32 张 A 的图片一起训练。代价是每步计算翻倍、要保存旧数据（注意合规）。
# 3. **EWC**（Kirkpatrick 等，2017）：不保存旧数据，而是估计每个参数对任务 A 的重要性——Fisher 信息矩阵的对角线
#    $F_i = \mathbb E\big[(\partial \log p(y\mid x)/\partial\theta_i)^2\big]$（这里用 A 的训练样本和真实标签估计，即"经验 Fisher"）——
#    再在 B 的损失上加惩罚 $\frac{\lambda}{2}\sum_i F_i(\theta_i-\theta^*_{A,i})^2$。

# %% [markdown] lang="en"
# ## Phase 2: task B — three approaches
#
# All three start from the **same** model at the end of phase 1 (`deepcopy`), with the same order of B's batches:
#
# 1. **Plain fine-tuning**: B's data only.
# 2. **Experience replay**: at the end of phase 1, keep 50 images of A's training set, balanced by class (10 per class, 8 % of
#    A), as a memory buffer; while learning B, every batch of 32 B images is joined by 32 A images drawn at random from the
#    buffer. The price: twice the compute per step, and old data must be kept (mind compliance).
# 3. **EWC** (Kirkpatrick et al., 2017): keep no old data; instead, estimate how important each parameter is for task A —
#    the diagonal of the Fisher information, $F_i = \mathbb E\big[(\partial \log p(y\mid x)/\partial\theta_i)^2\big]$ (estimated
#    here from A's training examples with their true labels, the "empirical Fisher") — and add the penalty
#    $\frac{\lambda}{2}\sum_i F_i(\theta_i-\theta^*_{A,i})^2$ to B's loss.

# %%
def class_balanced_buffer(per_class: int, seed: int = 0) -> torch.Tensor:
    """Indices into (XA, yA): `per_class` random examples of each of task A's classes."""
    perm = torch.randperm(len(XA), generator=torch.Generator().manual_seed(seed))
    return torch.cat([perm[yA[perm] == c][:per_class] for c in range(5)])


def empirical_fisher(model) -> list[torch.Tensor]:
    """Diagonal empirical Fisher on task A: the mean over A's examples of the squared per-example gradient."""
    fisher = [torch.zeros_like(p) for p in model.parameters()]
    for i in range(len(XA)):
        model.zero_grad()
        F.cross_entropy(model(XA[i:i + 1]), yA[i:i + 1]).backward()
        for f, p in zip(fisher, model.parameters()):
            f += p.grad ** 2 / len(XA)
    model.zero_grad()
    return fisher


EPOCHS_B = 10
buffer = class_balanced_buffer(per_class=10)
ewc_state = {"fisher": empirical_fisher(copy.deepcopy(model_A)),
             "anchor": [p.detach().clone() for p in model_A.parameters()]}

start = time.perf_counter()
runs = {}
for name, kwargs in [("fine-tune", {}), ("replay (50 images)", {"memory": buffer}),
                     ("EWC, lambda=1e4", {"ewc": {**ewc_state, "lam": 1e4}})]:
    model = copy.deepcopy(model_A)
    log = list(log_A)
    train_task(model, XB, yB, epochs=EPOCHS_B, seed=1, log=log, step0=steps_A, **kwargs)
    runs[name] = {"log": np.array(log), "A": accuracy(model, XA_test, yA_test), "B": accuracy(model, XB_test, yB_test),
                  "model": model}
print(f"phase 2, three runs: {time.perf_counter() - start:.1f} s")
print(f"{'approach':20s} {'acc on A':>9s} {'acc on B':>9s}")
for name, run in runs.items():
    print(f"{name:20s} {run['A']:9.3f} {run['B']:9.3f}")

# %%
fig, axes = plt.subplots(1, 2, figsize=(8, 3.2), sharey=True)
for ax, col, title in ((axes[0], 1, "Task A (digits 0-4)"), (axes[1], 2, "Task B (digits 5-9)")):
    for name, run in runs.items():
        ax.plot(run["log"][:, 0], run["log"][:, col], label=name)
    ax.axvline(steps_A, color="gray", linestyle=":")
    ax.set_title(title)
    ax.set_xlabel("training step (task B starts at the dotted line)")
axes[0].set_ylabel("test accuracy")
axes[1].legend(fontsize=8)
plt.show()

# %% [markdown] lang="zh"
# 直接微调几十步之内就把 A 忘光了：A 的准确率掉到 0。原因很直接——B 的数据里只有标签 5–9，交叉熵不断压低 0–4 的 logits，
# 共享的输出层和特征都朝 B 改写。回放只用 50 张旧图片就保住了 A 的大部分准确率，B 的准确率略低于直接微调（两类任务在抢容量）。
#
# EWC 在这里几乎没用：要让 A 不被忘，λ 得大到连 B 都学不好。这不是实现的问题——在类增量场景下 EWC 这类正则化方法普遍失效
# （van de Ven 等，2022）：它能保护"参数"，却无法让模型在从未同时见过的 0–4 和 5–9 之间做比较；在任务增量场景下它效果好得多。下面换成不同的 λ 看看这个取舍。

# %% [markdown] lang="en"
# Plain fine-tuning forgets A completely within a few dozen steps: A's accuracy falls to 0. The reason is direct — B's data
# has only labels 5–9, so the cross-entropy keeps pushing down the logits of 0–4, and the shared head and features are
# rewritten for B. Replay keeps most of A's accuracy with only 50 old images; B's accuracy is slightly below plain
# fine-tuning (the two tasks compete for capacity).
#
# EWC hardly helps here: to keep A from being forgotten, λ has to be so large that B is not learned well either. This is not
# an implementation problem — regularization methods like EWC generally fail in the class-incremental scenario (van de Ven
# et al., 2022): they protect "parameters", but cannot teach the model to compare 0–4 against 5–9, which it never saw
# together; in the task-incremental scenario they work much better. Below, a few values of λ show the trade-off.

# %%
print(f"{'EWC lambda':>10s} {'acc on A':>9s} {'acc on B':>9s}")
ewc_sweep = {}
for lam in (1e2, 1e3, 1e4, 1e5):
    model = copy.deepcopy(model_A)
    train_task(model, XB, yB, epochs=EPOCHS_B, seed=1, log=[], step0=steps_A, ewc={**ewc_state, "lam": lam})
    ewc_sweep[lam] = (accuracy(model, XA_test, yA_test), accuracy(model, XB_test, yB_test))
    print(f"{lam:10.0e} {ewc_sweep[lam][0]:9.3f} {ewc_sweep[lam][1]:9.3f}")

# %% [markdown] lang="zh"
# ## 遗忘发生在哪里？用任务增量方式评估
#
# 对直接微调后的模型，如果测试时告诉它"这是任务 A 的图片"（只在 0–4 的 logits 里取 argmax），准确率会怎样？
# 如果比类增量评估高得多，说明特征里仍保留着不少区分 0–4 的信息，遗忘很大一部分来自输出层对新类别的偏置。

# %% [markdown] lang="en"
# ## Where does the forgetting happen? A task-incremental evaluation
#
# What if, at test time, the fine-tuned model is told "this image belongs to task A" (argmax over the logits of 0–4 only)?
# If that is much higher than the class-incremental score, the features still hold a good deal of what separates 0–4, and a
# large part of the forgetting comes from the output layer's bias towards the new classes.

# %%
def task_incremental_accuracy(model, X, y, classes) -> float:
    with torch.no_grad():
        logits = model(X)[:, classes]
    return (torch.tensor(classes)[logits.argmax(1)] == y).float().mean().item()


for name, run in runs.items():
    run["A_task_inc"] = task_incremental_accuracy(run["model"], XA_test, yA_test, [0, 1, 2, 3, 4])
    print(f"{name:20s} task A: class-incremental {run['A']:.3f}, task-incremental {run['A_task_inc']:.3f}")

# %% [markdown] lang="zh"
# 答案很清楚：直接微调后的模型在类增量评估下对 A 是 0 分，但只要告诉它任务编号，A 的准确率就回到九成左右。
# 特征并没有全忘，是输出层学会了"永远别预测 0–4"。这也解释了为什么 EWC 在任务增量评估下表现很好、在类增量下却失败，
# 以及为什么回放（让新旧类别在同一个批次里直接竞争）对类增量最有效。

# %% [markdown] lang="en"
# The answer is clear: the fine-tuned model scores 0 on A in the class-incremental evaluation, yet once it is told the task,
# its accuracy on A is back to about nine in ten. The features were not all forgotten; the output layer learned "never
# predict 0–4". This also explains why EWC does well in the task-incremental evaluation but fails in the class-incremental
# one, and why replay (old and new classes competing directly in the same batch) is what works for class-incremental learning.

# %% [markdown] lang="zh"
# ## 缓冲区要多大？
#
# 回放的效果随缓冲区大小变化。下面让每类保留 0、1、2、4、10、20、40 张 A 的图片，其余设置不变。

# %% [markdown] lang="en"
# ## How large a buffer?
#
# Replay's benefit depends on the size of the buffer. Below, 0, 1, 2, 4, 10, 20 and 40 images of each class of A are kept,
# all else unchanged.

# %%
per_class_sizes = [0, 1, 2, 4, 10, 20, 40]
sweep = []
start = time.perf_counter()
for per_class in per_class_sizes:
    model = copy.deepcopy(model_A)
    memory = class_balanced_buffer(per_class) if per_class else None
    train_task(model, XB, yB, epochs=EPOCHS_B, seed=1, log=[], step0=steps_A, memory=memory)
    sweep.append((accuracy(model, XA_test, yA_test), accuracy(model, XB_test, yB_test)))
print(f"buffer sweep: {time.perf_counter() - start:.1f} s")
for per_class, (a, b) in zip(per_class_sizes, sweep):
    print(f"{per_class * 5:4d} images of A kept: acc on A {a:.3f}, on B {b:.3f}")

fig, ax = plt.subplots()
sizes = [5 * k for k in per_class_sizes]
ax.plot(sizes, [a for a, _ in sweep], marker="o", label="task A (old)")
ax.plot(sizes, [b for _, b in sweep], marker="o", label="task B (new)")
ax.set_xscale("symlog", linthresh=5)
ax.set_xticks(sizes, [str(n) for n in sizes])
ax.minorticks_off()
ax.set_xlabel(f"replay buffer size (images of task A, out of {len(XA)})")
ax.set_ylabel("test accuracy after task B")
ax.set_title("Experience replay: buffer size vs forgetting")
ax.legend()
plt.show()

# %% [markdown] lang="zh"
# 几张图片就能挽回大半，之后收益递减。对大模型的持续预训练也是同样的规律：混入一小部分旧数据（加上学习率重新预热、再衰减）
# 就能接近用全部数据重新训练的效果（Ibrahim 等，2024）。

# %% [markdown] lang="en"
# A handful of images wins back most of it, with diminishing returns after that. Continual pre-training of large models
# follows the same pattern: mixing in a small share of old data (with the learning rate re-warmed and re-decayed) comes close
# to retraining on all the data (Ibrahim et al., 2024).

# %% [markdown] lang="zh"
# ## 检查
#
# 断言：第一阶段后 A 学会了（≥ 0.9）；直接微调后 A 的准确率跌到 0.2 以下（灾难性遗忘）；回放（50 张）后 A 的准确率
# 比直接微调高至少 0.5（实测约 0.9），同时 B 仍然学会了（≥ 0.8）；缓冲区从 0 增加到 200 张时，A 的准确率随之提高；
# 直接微调后的模型在任务增量评估下对 A 仍有 ≥ 0.7 的准确率（遗忘主要在输出层）。

# %% [markdown] lang="en"
# ## Check
#
# Asserted: after phase 1, A is learned (≥ 0.9); after plain fine-tuning, A's accuracy is below 0.2 (catastrophic
# forgetting); with replay (50 images), A's accuracy is at least 0.5 above plain fine-tuning (measured: about 0.9) while B is
# still learned (≥ 0.8); growing the buffer from 0 to 200 images raises A's accuracy; evaluated task-incrementally, the
# fine-tuned model still scores ≥ 0.7 on A (the forgetting is mostly in the output layer).

# %%
plain, replay = runs["fine-tune"], runs["replay (50 images)"]
assert acc_A_after_A >= 0.9, f"task A not learned in phase 1: {acc_A_after_A:.3f}"
assert plain["A"] < 0.2, f"plain fine-tuning kept task A at {plain['A']:.3f}: no catastrophic forgetting to show"
gap = replay["A"] - plain["A"]
assert gap >= 0.5, f"replay keeps A at {replay['A']:.3f} vs fine-tuning {plain['A']:.3f}: gap {gap:.3f} < 0.5"
assert replay["B"] >= 0.8, f"with replay, task B reached only {replay['B']:.3f}"
assert sweep[-1][0] > sweep[0][0] + 0.5, f"buffer sweep: A accuracy {sweep[0][0]:.3f} -> {sweep[-1][0]:.3f}"
assert plain["A_task_inc"] >= 0.7, f"task-incremental accuracy of the fine-tuned model on A: {plain['A_task_inc']:.3f}"
print(f"check passed: task A after fine-tuning {plain['A']:.3f}, with replay {replay['A']:.3f} (gap {gap:.3f}); "
      f"task B {plain['B']:.3f} / {replay['B']:.3f}; fine-tuned model told the task: {plain['A_task_inc']:.3f} on A")
