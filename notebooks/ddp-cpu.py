# %% [markdown] lang="zh"
# # 实验：在 CPU 上用 DistributedDataParallel 做数据并行
#
# 来源：第 003 篇《大模型在 AI 创业公司产品策略中的创新》第 2 题的 `nn.DataParallel` 示例（[章节](../chapters/product-strategy.md#q-training-efficiency)）。
#
# **原代码的问题：**
#
# - 用的是 `nn.DataParallel`：单进程多线程，每次前向都要复制模型，PyTorch 文档建议即使只有一台机器也改用 `DistributedDataParallel`（DDP）；
# - `device_ids=list(range(torch.cuda.device_count()))` 在没有 GPU 的机器上是空列表，`DataParallel` 此时什么也不做，悄悄退化成单进程训练；
# - `train_loader` 没有定义，数据怎样在各个副本之间切分也没交代。
#
# **本实验做什么：** 用 gloo 后端在 CPU 上启动 2 个进程跑 DDP（`torch.multiprocessing.spawn`），工作函数放在可导入的
# `ddp_worker.py` 里；每个进程通过 `DistributedSampler` 只训练自己那一份数据。然后用记录下来的数据逐条验证：
# 梯度每一步都在进程间求平均；各进程的参数始终完全相同；整个训练与"单进程、同样初始化、每步用两份数据拼成的大批次"的训练等价。

# %% [markdown] lang="en"
# # Lab: data parallelism on CPU with DistributedDataParallel
#
# Source: article 003, 《大模型在 AI 创业公司产品策略中的创新》 ("Innovation with large models in AI startups' product strategy"), question 2, the `nn.DataParallel` sample ([chapter](../chapters/product-strategy.md#q-training-efficiency)).
#
# **What was wrong with the original code:**
#
# - it uses `nn.DataParallel`: one process, several threads, the model copied on every forward pass; the PyTorch docs
#   recommend `DistributedDataParallel` (DDP) instead, even on a single machine;
# - `device_ids=list(range(torch.cuda.device_count()))` is an empty list on a machine without a GPU, and `DataParallel` then does
#   nothing at all: it silently falls back to single-process training;
# - `train_loader` is never defined, so how the data is split between replicas is never said.
#
# **What this lab does:** it runs DDP with the gloo backend in 2 CPU processes (`torch.multiprocessing.spawn`), with the worker
# in the importable module `ddp_worker.py`; each process trains only on its own shard, chosen by `DistributedSampler`. The
# recorded evidence then shows, step by step, that gradients are averaged across processes at every step, that the processes'
# parameters stay identical, and that the whole run equals single-process training with the same initialisation and, at every
# step, one batch made of both shards' batches.

# %%
import inspect
import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.multiprocessing as mp
from torch import nn

import ddp_worker
from labkit import seed_everything, setup_plots

seed_everything(0, threads=1)
setup_plots()

# %% [markdown] lang="zh"
# ## 先看原代码在 CPU 上做了什么
#
# 没有 GPU 时，`DataParallel` 的构造函数把 `device_ids` 设为空列表，`forward` 直接调用原模型——没有任何并行。

# %% [markdown] lang="en"
# ## What the original does on a CPU
#
# Without a GPU, `DataParallel`'s constructor sets `device_ids` to an empty list and `forward` simply calls the wrapped model —
# there is no parallelism at all.

# %%
model = ddp_worker.make_model(seed=0)
wrapped = nn.DataParallel(model)
x = torch.rand(4, 64)
print("cuda available:", torch.cuda.is_available(), "| DataParallel device_ids:", wrapped.device_ids)
print("same output as the bare model:", torch.equal(wrapped(x), model(x)))

# %% [markdown] lang="zh"
# ## DDP 的工作方式
#
# - **每个副本一个进程**（没有 GIL 争用），进程之间通过通信后端交换数据：CPU 用 gloo，GPU 用 NCCL。
# - 构造 `DistributedDataParallel` 时，0 号进程把参数**广播**给其他进程，所以大家从同一组权重出发。
# - `DistributedSampler` 用共同的种子打乱全部下标，再按进程号隔一个取一个，每个进程拿到互不重叠的一份；每个 epoch 调用 `set_epoch()` 换一种打乱方式。
# - `backward()` 时，DDP 把梯度分桶做 **all-reduce**（求和再除以进程数），与反向传播重叠进行。每个进程都拿到同样的平均梯度、
#   执行同样的优化器更新，所以参数不需要再同步，也始终一致。
#
# 下面是工作函数的源码。为了验证以上几点，它每一步额外做三件事：在 `no_sync()` 里先算一次只属于本进程的梯度；
# 用 `all_gather` 收集所有进程的本地梯度、手工求平均，与 DDP 同步后的梯度比较；更新后收集所有进程的参数比较。

# %% [markdown] lang="en"
# ## How DDP works
#
# - **One process per replica** (no contention for the GIL); processes exchange data through a communication backend: gloo
#   on CPU, NCCL on GPU.
# - When `DistributedDataParallel` is constructed, rank 0 **broadcasts** its parameters, so every process starts from the same
#   weights.
# - `DistributedSampler` shuffles all indices with a shared seed, then deals them out by rank, so each process gets a disjoint
#   shard; calling `set_epoch()` each epoch changes the shuffle.
# - During `backward()`, DDP **all-reduces** gradients in buckets (sum, then divide by the number of processes), overlapping
#   with the backward pass. Every process gets the same averaged gradient and applies the same optimizer update, so the
#   parameters never need syncing again and stay identical.
#
# Below is the worker's source. To check these claims it does three extra things each step: it first computes this process's
# own gradient inside `no_sync()`; it collects every process's local gradient with `all_gather`, averages them by hand and
# compares with DDP's synchronised gradient; after the update it collects every process's parameters and compares them.

# %%
print(inspect.getsource(ddp_worker.train_worker))

# %% [markdown] lang="zh"
# ## 启动两个进程
#
# 注意三点：工作函数必须能从 `.py` 模块导入（`spawn` 启动全新的解释器，它找不到定义在 notebook 单元格里的函数）；
# 端口向操作系统要一个空闲的（绑定 0 号端口，再读出系统分配的端口）；各进程把结果写进临时目录，由主进程读回。
# 数据由主进程构造后作为参数传入，省得每个子进程都去导入 scikit-learn。
# （写成普通 Python 脚本时，启动代码还要放在 `if __name__ == "__main__":` 之下：spawn 会在每个子进程里重新导入主脚本；
# notebook 没有主脚本文件，所以不需要。）

# %% [markdown] lang="en"
# ## Launching two processes
#
# Three things to note: the worker must be importable from a `.py` module (`spawn` starts fresh interpreters, which cannot
# find a function defined in a notebook cell); the port is a free one from the OS (bind to port 0, read back the port it
# assigned); each process writes its results to a temporary directory and the parent reads them back. The parent builds the
# data and passes it in, so the child processes need not import scikit-learn. (In a plain Python script the launch code must
# also sit under `if __name__ == "__main__":`, because spawn re-imports the main script in every child; a notebook has no
# main script file, so it needs no guard.)

# %%
cfg = dict(ddp_worker.CONFIG)
X, y = ddp_worker.make_dataset().tensors
world = cfg["world_size"]
print("config:", cfg, "| data:", tuple(X.shape))

with tempfile.TemporaryDirectory() as tmp:
    port = ddp_worker.free_port()
    start = time.perf_counter()
    mp.spawn(ddp_worker.train_worker, args=(port, tmp, cfg, X, y), nprocs=world, join=True)
    ddp_seconds = time.perf_counter() - start
    ranks = [torch.load(Path(tmp) / f"rank{r}.pt", weights_only=True) for r in range(world)]
steps = len(ranks[0]["loss"])
print(f"DDP with {world} processes: {steps} steps in {ddp_seconds:.1f} s (including process start-up)")

# %% [markdown] lang="zh"
# ## 证据一：数据切分与初始广播
#
# 两个进程各拿一半下标。1,797 不能被 2 整除，`DistributedSampler` 会补上一个重复的下标，让每个进程的步数相同
# （否则一个进程会在 all-reduce 里空等）。工作函数故意让两个进程用不同的种子初始化，DDP 构造后它们变得一致。

# %% [markdown] lang="en"
# ## Evidence 1: sharding and the initial broadcast
#
# Each process gets half of the indices. 1,797 is odd, so `DistributedSampler` pads with one repeated index to give every
# process the same number of steps (otherwise one process would wait forever in an all-reduce). The worker deliberately
# initialises the two processes with different seeds; after DDP's constructor they agree.

# %%
for epoch in range(cfg["epochs"]):
    shards = [set(r["indices"][epoch]) for r in ranks]
    sizes = [len(r["indices"][epoch]) for r in ranks]
    print(f"epoch {epoch}: shard sizes {sizes}, shared indices {len(shards[0] & shards[1])}, "
          f"union covers {len(shards[0] | shards[1])} of {len(X)} examples")
init_gap_before = (ranks[1]["before_wrap"] - ranks[0]["before_wrap"]).abs().max().item()
init_gap_after = (ranks[1]["after_wrap"] - ranks[0]["after_wrap"]).abs().max().item()
print(f"largest weight difference between ranks: {init_gap_before:.4f} before DDP(), {init_gap_after} after")

# %% [markdown] lang="zh"
# ## 证据二：每一步都在求平均梯度，参数始终一致
#
# 对每一步：本进程的本地梯度与同步后的梯度不同（说明确实发生了通信），而同步后的梯度与手工求出的各进程本地梯度平均值**完全相等**；
# 更新后两个进程的参数逐位相同。

# %% [markdown] lang="en"
# ## Evidence 2: averaged gradients at every step, identical parameters
#
# At every step: a process's local gradient differs from the synchronised one (so communication did happen), while the
# synchronised gradient is **exactly** the hand-computed mean of the processes' local gradients; after the update, the two
# processes' parameters are bit-for-bit identical.

# %%
for r in ranks:
    print(f"rank {r['rank']}: {len(r['loss'])} steps | max |synced - mean(local)| = {max(r['grad_gap']):.1e} | "
          f"min over steps of max |synced - local| = {min(r['local_vs_synced']):.2e} | "
          f"max parameter gap between ranks = {max(r['param_gap']):.1e}")
final_equal = all(torch.equal(ranks[0]["state_dict"][k], ranks[1]["state_dict"][k]) for k in ranks[0]["state_dict"])
print("final state_dicts identical across ranks:", final_equal)

# %% [markdown] lang="zh"
# ## 证据三：与单进程训练等价
#
# 在一个进程里重放同样的训练：用 0 号进程的初始权重，每一步把两个进程在这一步拿到的批次拼成一个 64 个样本的批次。
# 因为两份批次一样大，"两个批次各自的平均损失再取平均"等于"拼起来的批次的平均损失"，梯度也一样。
# 结果只在浮点舍入（约 1e-7）上有差别——求和的顺序不同。

# %% [markdown] lang="en"
# ## Evidence 3: equivalent to single-process training
#
# Replay the same training in one process: rank 0's initial weights, and at every step one batch of 64 examples made of the two
# batches the processes saw at that step. As the two batches have the same size, "the mean of the two batches' mean losses"
# equals "the mean loss over the combined batch", and so do the gradients. The results differ only by floating-point round-off
# (about 1e-7), because the sums are taken in a different order.

# %%
start = time.perf_counter()
single = ddp_worker.train_single(cfg, X, y)
single_seconds = time.perf_counter() - start
param_diff = max((single["state_dict"][k] - ranks[0]["state_dict"][k]).abs().max().item() for k in single["state_dict"])
ddp_loss = np.mean([r["loss"] for r in ranks], axis=0)  # the loss of the combined batch = mean of the ranks' losses
loss_diff = np.abs(ddp_loss - np.array(single["loss"])).max()
print(f"single process: {len(single['loss'])} steps in {single_seconds:.1f} s")
print(f"max |DDP - single| over all parameters: {param_diff:.2e}; over the per-step losses: {loss_diff:.2e}")

fig, ax = plt.subplots()
for r in ranks:
    ax.plot(r["loss"], lw=0.8, alpha=0.6, label=f"rank {r['rank']} (its own shard)")
ax.plot(ddp_loss, color="black", lw=2, label="DDP: mean of ranks")
ax.plot(single["loss"], color="C3", ls="--", lw=1.5, label="single process, combined batch")
ax.set(xlabel="step", ylabel="cross-entropy loss", yscale="log", title="DDP equals single-process training")
ax.legend(fontsize=8)
plt.show()

# %% [markdown] lang="zh"
# ## 检查
#
# 断言：两个进程的分片不重叠（除补齐的 1 个下标）；DDP 构造后初始权重一致；每一步同步后的梯度等于各进程本地梯度的平均，
# 且不同于本地梯度；每一步之后各进程参数完全相同；最终参数和每步损失与单进程训练在 1e-5 以内一致。

# %% [markdown] lang="en"
# ## Check
#
# Asserted: the two shards do not overlap (apart from the one padding index); the initial weights agree after DDP's
# constructor; at every step the synchronised gradient equals the mean of the local gradients and differs from the local
# one; the processes' parameters are identical after every step; the final parameters and the per-step losses match
# single-process training within 1e-5.

# %%
overlap = max(len(set(ranks[0]["indices"][e]) & set(ranks[1]["indices"][e])) for e in range(cfg["epochs"]))
assert overlap <= 1, f"shards overlap in {overlap} indices"
assert init_gap_before > 0 and init_gap_after == 0, "DDP did not broadcast rank 0's initial weights"
for r in ranks:
    assert len(r["loss"]) == steps, "ranks ran different numbers of steps"
    assert max(r["grad_gap"]) <= 1e-7, f"rank {r['rank']}: synced gradient != mean of local gradients"
    assert min(r["local_vs_synced"]) > 0, f"rank {r['rank']}: some step's gradient was not all-reduced"
    assert max(r["param_gap"]) == 0, f"rank {r['rank']}: parameters diverged across ranks"
assert final_equal, "final parameters differ across ranks"
assert param_diff < 1e-5 and loss_diff < 1e-5, f"DDP vs single process: params {param_diff:.1e}, loss {loss_diff:.1e}"
print(f"check passed: {steps} steps x {world} ranks, parameters identical across ranks, "
      f"gradients averaged at every step, DDP vs single process max diff {param_diff:.1e} (params), {loss_diff:.1e} (loss)")
