# %% [markdown] lang="zh"
# # 实验：同步与异步训练、流水线气泡
#
# 来源：第 004 篇《AI 大模型创业：如何利用用户优势？》问题 15（[章节](../chapters/user-data-and-training.md#q-distributed-training)）
# 和问题 20（[章节](../chapters/user-data-and-training.md#q-distributed-sync)）。
#
# **原文的问题：**
#
# - 把数据并行说成"每个节点独立训练局部模型，最后合并参数"，把全局同步说成"训练完成后统一更新"——同步训练是**每一步**都聚合梯度；
# - "异步同步"自相矛盾；异步更新省掉的不是通信量，而是等待最慢节点的时间，代价是**陈旧梯度**，原文没有提；
# - 把流水线并行说成"在不同节点上分配前向、反向等不同阶段"——流水线按**层**切分，每个阶段自己做前向和反向，空闲的"气泡"才是它的核心问题。
#
# **本实验做什么：** 用 numpy 在单个进程里模拟：(1) 逻辑回归上的同步数据并行 SGD（W 个工作节点的梯度每步取平均，相当于 all-reduce）
# 与异步参数服务器（每个梯度基于 τ 步之前的参数计算），比较不同陈旧度 τ 下损失随更新次数的变化，再在一个带"慢节点"的时钟模型里比较两者随时间的进展；
# (2) GPipe 流水线调度：p 个阶段、m 个微批次，画出甘特图，从模拟的时间表中算出气泡占比，并与公式 $(p-1)/(m+p-1)$ 对照。

# %% [markdown] lang="en"
# # Lab: synchronous vs asynchronous training, and pipeline bubbles
#
# Source: article 004, "AI 大模型创业：如何利用用户优势？", question 15
# ([chapter](../chapters/user-data-and-training.md#q-distributed-training)) and question 20
# ([chapter](../chapters/user-data-and-training.md#q-distributed-sync)).
#
# **What was wrong with the original answers:**
#
# - data parallelism was described as "each node trains a local model independently, and the parameters are merged at the
#   end", and global synchronization as "updating together after training finishes" — synchronous training aggregates
#   gradients at **every step**;
# - "asynchronous synchronization" contradicts itself; asynchronous updates save not communication but the time spent waiting
#   for the slowest node, and their price — **stale gradients** — is never mentioned;
# - pipeline parallelism was described as "assigning phases such as the forward and backward pass to different nodes" — a
#   pipeline splits by **layers**, each stage runs both passes for its layers, and the idle "bubble" is its central problem.
#
# **What this lab does:** a single-process numpy simulation of (1) synchronous data-parallel SGD on logistic regression (the
# gradients of W workers averaged at every step, as an all-reduce does) against an asynchronous parameter server (each
# gradient computed on parameters τ updates old), comparing loss against the number of updates for several staleness levels
# τ, then comparing both against time in a clock model with a slow worker; and (2) the GPipe pipeline schedule with p stages
# and m micro-batches: a Gantt chart, and the bubble fraction computed from the simulated timetable and compared with the
# formula $(p-1)/(m+p-1)$.

# %%
import heapq
import time
from fractions import Fraction

import matplotlib.pyplot as plt
import numpy as np

from labkit import seed_everything, setup_plots

seed_everything(0)
setup_plots()

# %% [markdown] lang="zh"
# ## 问题：逻辑回归
#
# 4,000 个样本、20 个特征的合成二分类数据（固定随机种子）。我们先用牛顿法求出全量数据上的最优损失 $L^*$，
# 之后所有曲线都画**超额损失** $L(w)-L^*$（对数坐标），这样"离最优还有多远"一目了然。每个梯度用 32 个随机样本估计。

# %% [markdown] lang="en"
# ## The problem: logistic regression
#
# Synthetic binary classification data with 4,000 examples and 20 features (fixed seed). We first find the optimal
# full-data loss $L^*$ with Newton's method; every curve after that shows the **excess loss** $L(w)-L^*$ (log scale), so "how
# far from the optimum" is plain to see. Each gradient is estimated from 32 random examples.

# %%
rng = np.random.default_rng(0)
n, d = 4000, 20
X = rng.normal(size=(n, d))
w_true = rng.normal(size=d)
y = (rng.random(n) < 1 / (1 + np.exp(-X @ w_true))).astype(float)


def loss(w: np.ndarray) -> float:
    z = X @ w
    return float(np.mean(np.logaddexp(0, z) - y * z))  # mean logistic loss, computed stably


def grad(w: np.ndarray, idx: np.ndarray) -> np.ndarray:
    z = X[idx] @ w
    return X[idx].T @ (1 / (1 + np.exp(-z)) - y[idx]) / len(idx)


w_star = np.zeros(d)
for _ in range(25):  # Newton's method on the full data: the reference optimum
    p = 1 / (1 + np.exp(-X @ w_star))
    hessian = (X * (p * (1 - p))[:, None]).T @ X / n
    w_star -= np.linalg.solve(hessian, X.T @ (p - y) / n)
L_star = loss(w_star)
print(f"optimal loss L* = {L_star:.5f}; gradient norm there {np.linalg.norm(grad(w_star, np.arange(n))):.1e}")

BATCH, LR, N_UPDATES, W = 32, 1.0, 400, 8

# %% [markdown] lang="zh"
# ## 同步 SGD 与带陈旧度的异步 SGD
#
# - **同步**（W = 8）：每一步，8 个工作节点用**同一份当前参数**各算一个梯度，取平均（all-reduce）后更新一次。
#   一次更新用了 8 × 32 个样本，参数在所有副本上始终一致。
# - **异步，陈旧度 τ**：参数服务器每收到一个梯度就更新一次，但这个梯度是工作节点基于 τ 次更新**之前**拉取的参数算出来的。
#   我们用一个延迟队列模拟：保存最近 τ + 1 个版本的参数，梯度总是在最旧的那个版本上计算。W 个工作节点轮流提交时，
#   典型的陈旧度约为 W − 1；τ = 0 就是普通的单机小批量 SGD。
#
# 所有异步运行用相同的随机小批量序列（同一个种子），唯一的差别是 τ；每种设置重复 3 个种子，取最后 100 次更新的平均超额损失。

# %% [markdown] lang="en"
# ## Synchronous SGD and asynchronous SGD with staleness
#
# - **Synchronous** (W = 8): at every step, 8 workers each compute a gradient on **the same current parameters**; the
#   gradients are averaged (all-reduce) and applied once. One update uses 8 × 32 examples, and the parameters are identical on
#   every replica at all times.
# - **Asynchronous, staleness τ**: the parameter server applies every gradient as it arrives, but that gradient was computed
#   by a worker on parameters it pulled τ updates **earlier**. We simulate this with a delay queue: the last τ + 1 versions of
#   the parameters are kept, and each gradient is computed on the oldest. With W workers taking turns, the typical staleness
#   is about W − 1; τ = 0 is plain single-machine mini-batch SGD.
#
# All asynchronous runs use the same sequence of random mini-batches (the same seed), so τ is the only difference; each
# setting is repeated over 3 seeds, and we report the mean excess loss over the last 100 updates.

# %%
def run_sync(seed: int, workers: int = W, n_updates: int = N_UPDATES) -> np.ndarray:
    r = np.random.default_rng(seed)
    w = np.zeros(d)
    curve = []
    for _ in range(n_updates):
        grads = [grad(w, r.integers(0, n, BATCH)) for _ in range(workers)]  # all on the same, current w
        w = w - LR * np.mean(grads, axis=0)                                  # all-reduce (average), one update
        curve.append(loss(w) - L_star)
    return np.array(curve)


def run_async(tau: int, seed: int, n_updates: int = N_UPDATES) -> np.ndarray:
    r = np.random.default_rng(seed)
    w = np.zeros(d)
    versions = [w.copy()]  # delay queue: the last tau + 1 parameter versions, oldest first
    curve = []
    for _ in range(n_updates):
        g = grad(versions[0], r.integers(0, n, BATCH))  # gradient on parameters tau updates old
        w = w - LR * g
        versions.append(w.copy())
        if len(versions) > tau + 1:
            versions.pop(0)
        curve.append(loss(w) - L_star)
    return np.array(curve)


start = time.perf_counter()
staleness_levels = [0, 2, 4, 8, 16, 32]
seeds = [0, 1, 2]
async_curves = {tau: np.array([run_async(tau, s) for s in seeds]) for tau in staleness_levels}
sync_curves = np.array([run_sync(s) for s in seeds])
print(f"{len(seeds) * (len(staleness_levels) + 1)} runs in {time.perf_counter() - start:.1f} s")

final = lambda curves: curves[:, -100:].mean(axis=1)  # noqa: E731  (per seed)
print(f"{'setting':22s} {'excess loss, last 100 updates (per seed)':>44s}   mean")
print(f"{'sync, W=8':22s} {' '.join(f'{v:10.4f}' for v in final(sync_curves)):>44s} {final(sync_curves).mean():8.4f}")
final_async = {}
for tau, curves in async_curves.items():
    final_async[tau] = final(curves).mean()
    print(f"{f'async, tau={tau}':22s} {' '.join(f'{v:10.4f}' for v in final(curves)):>44s} {final_async[tau]:8.4f}")

# %%
fig, ax = plt.subplots(figsize=(7.6, 3.4))
smooth = lambda v: np.convolve(v, np.ones(10) / 10, mode="valid")  # noqa: E731
colors = plt.cm.viridis(np.linspace(0, 0.9, len(staleness_levels)))
for color, (tau, curves) in zip(colors, async_curves.items()):
    ax.plot(smooth(curves.mean(axis=0)), color=color, label=f"async, tau={tau}")
ax.plot(smooth(sync_curves.mean(axis=0)), color="black", linestyle="--", label="sync, W=8 (8 gradients/update)")
ax.set_yscale("log")
ax.set_xlabel("number of parameter updates")
ax.set_ylabel("excess loss L(w) - L*")
ax.set_title(f"Stale gradients slow SGD (lr={LR}, batch {BATCH}, mean of 3 seeds)")
ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
plt.show()

# %% [markdown] lang="zh"
# 陈旧度越大，同样的更新次数后损失越高；τ = 32 时曲线已经在剧烈振荡。原因是：一个基于旧参数的梯度指向的是"旧位置的下坡方向"，
# 而参数在这 τ 步里已经移动了；步长越大、τ 越大，越容易冲过头。所以异步 SGD 往往要把学习率按陈旧度调小，或者用有界延迟（SSP）限制 τ。
# 同步曲线最低：它每次更新平均了 8 个梯度（噪声小），而且梯度永远是新鲜的——代价在下一节。

# %% [markdown] lang="en"
# The larger the staleness, the higher the loss after the same number of updates; at τ = 32 the curve oscillates wildly. The
# reason: a gradient computed on old parameters points downhill *from the old position*, but the parameters have moved in
# the meantime; the larger the step and τ, the easier it is to overshoot. That is why asynchronous SGD usually needs a
# learning rate scaled down with staleness, or bounded delay (SSP) to cap τ. The synchronous curve is lowest: each update
# averages 8 gradients (less noise) and gradients are never stale — its price comes in the next section.

# %% [markdown] lang="zh"
# ## 按时间看：慢节点让同步等待
#
# 按"更新次数"比较对异步不公平：异步的卖点是**不等人**。下面是一个简单的时钟模型：8 个工作节点每算一个梯度耗时服从对数正态分布
# （均值约 1 个时间单位），其中节点 0 是慢节点，慢 3 倍。同步每一轮要等最慢的节点算完；异步的每个节点算完就提交、拉取最新参数、接着算，
# 陈旧度由事件的先后**自然产生**（不再是固定的 τ）。两者都运行 300 个时间单位，通信时间忽略不计。

# %% [markdown] lang="en"
# ## Against time: a slow worker makes synchronous training wait
#
# Comparing by "number of updates" is unfair to asynchronous training: its selling point is **not waiting**. Here is a simple
# clock model: each of 8 workers takes a log-normally distributed time per gradient (mean about 1 time unit), and worker 0
# is a straggler, 3 times slower. Synchronous training waits for the slowest worker in every round; in asynchronous training
# each worker pushes its gradient as soon as it is done, pulls the latest parameters and carries on, so staleness **arises
# from the order of events** (no longer a fixed τ). Both run for 300 time units; communication time is ignored.

# %%
T_END = 300.0


def compute_time(r, worker: int) -> float:
    return r.lognormal(0.0, 0.3) * (3.0 if worker == 0 else 1.0)


def sync_on_clock(seed: int) -> np.ndarray:
    r = np.random.default_rng(seed)
    w, t, trace = np.zeros(d), 0.0, [(0.0, loss(np.zeros(d)) - L_star)]
    while True:
        t_round = max(compute_time(r, k) for k in range(W))  # everyone waits for the slowest
        if t + t_round > T_END:
            return np.array(trace)
        t += t_round
        w = w - LR * np.mean([grad(w, r.integers(0, n, BATCH)) for _ in range(W)], axis=0)
        trace.append((t, loss(w) - L_star))


def async_on_clock(seed: int) -> tuple[np.ndarray, np.ndarray]:
    r = np.random.default_rng(seed)
    w, version = np.zeros(d), 0
    pulled = {0: w.copy()}                      # parameter versions some worker is still computing on
    events = [(compute_time(r, k), k, 0) for k in range(W)]  # (finish time, worker, version it pulled)
    heapq.heapify(events)
    trace, staleness = [(0.0, loss(w) - L_star)], []
    while events[0][0] <= T_END:
        t, k, v = heapq.heappop(events)
        w = w - LR * grad(pulled[v], r.integers(0, n, BATCH))  # gradient on the version the worker pulled
        staleness.append(version - v)                           # updates applied since that pull
        version += 1
        pulled[version] = w.copy()
        heapq.heappush(events, (t + compute_time(r, k), k, version))
        in_use = {ev[2] for ev in events}
        pulled = {ver: p for ver, p in pulled.items() if ver in in_use}
        trace.append((t, loss(w) - L_star))
    return np.array(trace), np.array(staleness)


sync_trace = sync_on_clock(0)
async_trace, async_staleness = async_on_clock(0)
print(f"in {T_END:.0f} time units: sync made {len(sync_trace) - 1} updates, async {len(async_trace) - 1} "
      f"(mean staleness {async_staleness.mean():.1f}, max {async_staleness.max()})")
at = lambda trace, t: trace[trace[:, 0] <= t][-1, 1]  # noqa: E731  excess loss at time t
for t in (25, 50, 100, 200, 300):
    print(f"t={t:3d}: excess loss sync {at(sync_trace, t):.4f}, async {at(async_trace, t):.4f}")

fig, ax = plt.subplots()
ax.plot(async_trace[:, 0], async_trace[:, 1], lw=0.6, alpha=0.8, label="async (8 workers, natural staleness)")
ax.plot(sync_trace[:, 0], sync_trace[:, 1], color="black", marker=".", ms=3, label="sync (waits for the straggler)")
ax.set_yscale("log")
ax.set_xlabel("simulated time")
ax.set_ylabel("excess loss L(w) - L*")
ax.set_title("One slow worker: async is faster early, sync ends lower")
ax.legend(fontsize=8)
plt.show()

# %% [markdown] lang="zh"
# 异步在相同时间里做了多得多的更新，前期下降快；但它的每次更新只有一个梯度、而且平均陈旧约 W − 1 步，很快停在一个较高的噪声水平上。
# 同步每一轮都被慢节点拖慢，却稳步降到更低。这正是今天稠密模型训练普遍用同步 all-reduce 的原因；应对慢节点的办法是换掉或隔离它、
# 用备份工作节点（取最先完成的 W 个梯度），而不是放弃同步。

# %% [markdown] lang="en"
# Asynchronous training makes far more updates in the same time and falls faster at first; but each update carries a single
# gradient, on average about W − 1 updates stale, and it soon levels off at a higher noise floor. Synchronous training is
# held back by the straggler in every round, yet keeps going down to a lower loss. This is why dense-model training today
# mostly uses synchronous all-reduce; stragglers are handled by replacing or isolating them, or with backup workers (use the
# first W gradients to arrive), rather than by giving up synchrony.

# %% [markdown] lang="zh"
# ## GPipe 流水线的气泡
#
# 流水线并行把模型的层切成 p 个**阶段**，每个阶段放在一个设备上；一个小批量切成 m 个**微批次**依次流过。
# GPipe 的调度是：每个阶段先按顺序做完所有微批次的前向，再做所有反向（这里按逆序），最后统一更新参数。
# 阶段 s 的前向要等阶段 s − 1 把这个微批次的激活送过来；反向要等阶段 s + 1 把梯度送回来。
#
# 下面的模拟器只知道这些依赖关系和每个阶段的执行顺序，逐个算出每个操作的开始时间（前向 1 个时间单位、反向 2 个）。
# 气泡占比 = 1 − 所有设备忙碌时间之和 / (p × 总时长)，**直接从模拟出的时间表中数出来**，不套公式。

# %% [markdown] lang="en"
# ## The bubble of a GPipe pipeline
#
# Pipeline parallelism cuts the model's layers into p **stages**, one per device; a mini-batch is cut into m
# **micro-batches** that flow through one after another. GPipe's schedule: each stage first runs the forward pass of every
# micro-batch in order, then every backward pass (here in reverse order), then the parameters are updated together.
# Stage s's forward must wait for stage s − 1 to send that micro-batch's activations; its backward must wait for stage s + 1
# to send the gradient back.
#
# The simulator below knows only these dependencies and each stage's order of operations, and works out when each operation
# starts (forward 1 time unit, backward 2). The bubble fraction = 1 − total busy time of all devices / (p × makespan),
# **counted from the simulated timetable**, not taken from the formula.

# %%
T_FWD, T_BWD = 1, 2


def gpipe_order(p: int, m: int) -> list[list[tuple[str, int]]]:
    """Each stage: all forwards in micro-batch order, then all backwards in reverse order."""
    return [[("F", j) for j in range(m)] + [("B", j) for j in reversed(range(m))] for _ in range(p)]


def simulate(order: list[list[tuple[str, int]]]) -> list[tuple[int, str, int, int, int]]:
    """List scheduling: each stage runs its ops in the given order, each op as soon as its input has arrived.

    Returns bars (stage, kind, micro-batch, start, duration). F(s, j) needs F(s-1, j); B(s, j) needs B(s+1, j), and on
    the last stage F(s, j). Times are integers, so the bubble fraction below is exact.
    """
    p = len(order)
    end, free, nxt, bars = {}, [0] * p, [0] * p, []
    total = sum(len(ops) for ops in order)
    while len(end) < total:
        progressed = False
        for s in range(p):
            if nxt[s] == len(order[s]):
                continue
            kind, j = order[s][nxt[s]]
            if kind == "F":
                deps = [("F", s - 1, j)] if s > 0 else []
            else:
                deps = [("B", s + 1, j)] if s < p - 1 else [("F", s, j)]
            if all(dep in end for dep in deps):
                start = max([free[s]] + [end[dep] for dep in deps])
                duration = T_FWD if kind == "F" else T_BWD
                end[(kind, s, j)] = free[s] = start + duration
                bars.append((s, kind, j, start, duration))
                nxt[s] += 1
                progressed = True
        if not progressed:
            raise RuntimeError("the schedule deadlocks")
    return bars


def bubble_fraction(bars, p: int) -> Fraction:
    makespan = max(start + duration for _, _, _, start, duration in bars)
    busy = sum(duration for *_, duration in bars)
    return 1 - Fraction(busy, p * makespan)


def gantt(ax, bars, p: int, title: str):
    for kind, color in (("F", "#8fb8de"), ("B", "#f4a582")):
        for s in range(p):
            spans = [(start, dur) for st, k, _, start, dur in bars if st == s and k == kind]
            ax.broken_barh(spans, (s - 0.4, 0.8), facecolors=color, edgecolors="white", linewidth=0.5,
                           label=("forward" if kind == "F" else "backward") if s == 0 else None)
    if len(bars) <= 64:  # label micro-batches when there is room
        for s, kind, j, start, dur in bars:
            ax.text(start + dur / 2, s, str(j), ha="center", va="center", fontsize=7)
    ax.set_yticks(range(p), [f"stage {s}" for s in range(p)])
    ax.invert_yaxis()
    ax.set_title(title, fontsize=9)


fig, axes = plt.subplots(2, 1, figsize=(7.5, 4.4))
for ax, (p, m) in zip(axes, [(4, 4), (4, 12)]):
    bars = simulate(gpipe_order(p, m))
    bubble = bubble_fraction(bars, p)
    gantt(ax, bars, p, f"GPipe, p={p} stages, m={m} micro-batches: bubble {float(bubble):.0%} "
                       f"(formula {(p - 1) / (m + p - 1):.0%})")
axes[0].legend(fontsize=7, loc="lower right")
axes[1].set_xlabel("time (forward = 1 unit, backward = 2 units)")
fig.tight_layout()
plt.show()

# %% [markdown] lang="zh"
# 图中空白就是气泡：第一个微批次要经过 p − 1 个阶段才到达最后一个设备，反向时同样要 p − 1 步才传回第一个设备。
# 每个阶段的忙碌时间是 m(t_f + t_b)，总时长是 (m + p − 1)(t_f + t_b)，所以气泡占比是 (p − 1)/(m + p − 1)，与前向、反向各自耗时多少无关。
# 下面对多组 (p, m) 比较模拟值和公式。

# %% [markdown] lang="en"
# The white space is the bubble: the first micro-batch needs p − 1 stages to reach the last device, and the backward pass
# again needs p − 1 steps to get back to the first. Each stage is busy for m(t_f + t_b) out of a makespan of
# (m + p − 1)(t_f + t_b), so the bubble fraction is (p − 1)/(m + p − 1), whatever the forward and backward times. Below, the
# simulated value and the formula for many (p, m).

# %%
grid = [(p, m) for p in (2, 4, 8) for m in (1, 2, 4, 8, 16, 32)]
simulated = {(p, m): bubble_fraction(simulate(gpipe_order(p, m)), p) for p, m in grid}
formula = {(p, m): Fraction(p - 1, m + p - 1) for p, m in grid}
for p in (2, 4, 8):
    print(f"p={p}: " + "  ".join(f"m={m}: {float(simulated[p, m]):.3f}/{float(formula[p, m]):.3f}"
                                 for m in (1, 2, 4, 8, 16, 32)))

fig, ax = plt.subplots()
ms = np.arange(1, 33)
for i, p in enumerate((2, 4, 8)):
    ax.plot(ms, (p - 1) / (ms + p - 1), color=f"C{i}", label=f"(p-1)/(m+p-1), p={p}")
    ax.scatter([m for q, m in grid if q == p], [float(simulated[p, m]) for q, m in grid if q == p], color=f"C{i}",
               zorder=3)
ax.set_xscale("log", base=2)
ax.set_xticks([1, 2, 4, 8, 16, 32], ["1", "2", "4", "8", "16", "32"])
ax.set_xlabel("micro-batches m")
ax.set_ylabel("bubble fraction")
ax.set_title("Simulated GPipe schedules (dots) vs the formula (lines)")
ax.legend(fontsize=8)
plt.show()

# %% [markdown] lang="zh"
# 所以 m 要远大于 p（GPipe 论文建议 m ≥ 4p，此时气泡约 20 % 以下）。但 GPipe 要把 m 个微批次的激活都存到反向开始，
# 显存随 m 增长——这正是激活检查点常与流水线搭配、以及 1F1B 调度（PipeDream-Flush：前向和反向交替，每个阶段最多同时保留约 p 个微批次的激活，气泡不变）出现的原因。

# %% [markdown] lang="en"
# So m should be much larger than p (the GPipe paper suggests m ≥ 4p, which keeps the bubble under about 20 %). But GPipe
# must keep the activations of all m micro-batches until the backward pass starts, so memory grows with m — which is why
# activation checkpointing is so often paired with pipelines, and why the 1F1B schedule (PipeDream-Flush: forwards and
# backwards interleaved, each stage holding at most about p micro-batches of activations, with the same bubble) exists.

# %% [markdown] lang="zh"
# ## 检查
#
# 断言：异步 SGD 在 400 次更新后的超额损失随陈旧度 τ（0、2、4、8、16、32）严格增加，τ = 32 至少是 τ = 0 的 3 倍，
# 且同步（W = 8）低于无陈旧的异步；时钟模型中异步的平均陈旧度接近 W − 1；对 18 组 (p, m)，模拟出的 GPipe 气泡占比
# **精确**等于 (p − 1)/(m + p − 1)（用分数比较）。

# %% [markdown] lang="en"
# ## Check
#
# Asserted: asynchronous SGD's excess loss after 400 updates strictly increases with staleness τ (0, 2, 4, 8, 16, 32), τ = 32
# is at least 3 times τ = 0, and synchronous SGD (W = 8) is below staleness-free asynchronous SGD; in the clock model the
# mean asynchronous staleness is close to W − 1; for 18 pairs (p, m), the simulated GPipe bubble fraction equals
# (p − 1)/(m + p − 1) **exactly** (compared as fractions).

# %%
losses_by_tau = [final_async[tau] for tau in staleness_levels]
assert all(a < b for a, b in zip(losses_by_tau, losses_by_tau[1:])), f"not increasing with staleness: {losses_by_tau}"
assert final_async[32] >= 3 * final_async[0], f"tau=32 {final_async[32]:.4f} vs tau=0 {final_async[0]:.4f}"
assert final(sync_curves).mean() < final_async[0], "synchronous SGD did not beat staleness-free async per update"
assert abs(async_staleness.mean() - (W - 1)) < 1.0, f"mean staleness {async_staleness.mean():.2f}, expected about {W - 1}"
mismatch = {pm: (simulated[pm], formula[pm]) for pm in grid if simulated[pm] != formula[pm]}
assert not mismatch, f"simulated bubble differs from (p-1)/(m+p-1) for {mismatch}"
print("check passed: excess loss by staleness " + ", ".join(f"tau={t}: {v:.4f}" for t, v in final_async.items())
      + f"; sync {final(sync_curves).mean():.4f}; bubble = (p-1)/(m+p-1) exactly for {len(grid)} (p, m) pairs")
