"""Worker for the ddp-cpu lab: DistributedDataParallel on CPU with the gloo backend.

It lives in a module, not in a notebook cell, because `torch.multiprocessing.spawn` starts fresh
interpreters that must be able to import the function they run. Nothing here reads `sys.argv`
(inside a Jupyter kernel it holds `-f <connection file>`).
"""
from __future__ import annotations

import os
import socket
import sys
from datetime import timedelta
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

CONFIG = {"world_size": 2, "batch_size": 32, "epochs": 3, "lr": 0.05, "momentum": 0.9, "seed": 0}


def free_port() -> int:
    """Ask the OS for a free TCP port on 127.0.0.1 (bind to port 0, read the port back, release it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_dataset() -> TensorDataset:
    """All of `load_digits` as flat vectors in [0, 1] (1,797 x 64) with labels 0..9."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    return TensorDataset(torch.tensor(digits.data / 16.0, dtype=torch.float32), torch.tensor(digits.target))


def make_model(seed: int) -> nn.Module:
    """The article's MLP (Linear-ReLU-Linear), sized for 8x8 digits; initialised from `seed`."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))


def make_loader(dataset, rank: int, cfg: dict) -> tuple[DataLoader, DistributedSampler]:
    """Rank `rank`'s shard: DistributedSampler shuffles with a shared seed, then deals every world_size-th index."""
    sampler = DistributedSampler(dataset, num_replicas=cfg["world_size"], rank=rank, shuffle=True, seed=cfg["seed"])
    return DataLoader(dataset, batch_size=cfg["batch_size"], sampler=sampler), sampler


def flat(tensors) -> torch.Tensor:
    return torch.cat([t.detach().reshape(-1) for t in tensors])


def train_worker(rank: int, port: int, out_dir: str, cfg: dict, X: torch.Tensor, y: torch.Tensor) -> None:
    """One DDP process: join the group, train on this rank's shard of (X, y), record evidence, save it to out_dir.

    The parent passes the data in (building it here would import scikit-learn in every process).
    """
    torch.set_num_threads(1)
    # Keep gloo on the loopback interface; otherwise it resolves the machine's hostname, which fails in some containers.
    if sys.platform != "win32":
        os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo0" if sys.platform == "darwin" else "lo")
    world = cfg["world_size"]
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world,
                           timeout=timedelta(seconds=60))
    try:
        # Deliberately different initial weights per rank: DDP's constructor broadcasts rank 0's.
        model = make_model(cfg["seed"] + rank)
        before_wrap = flat(model.parameters()).clone()
        ddp = nn.parallel.DistributedDataParallel(model)
        after_wrap = flat(model.parameters()).clone()

        loader, sampler = make_loader(TensorDataset(X, y), rank, cfg)
        opt = torch.optim.SGD(ddp.parameters(), lr=cfg["lr"], momentum=cfg["momentum"])
        loss_fn = nn.CrossEntropyLoss()
        log = {"loss": [], "grad_gap": [], "local_vs_synced": [], "param_gap": [], "indices": []}

        for epoch in range(cfg["epochs"]):
            sampler.set_epoch(epoch)  # a new shuffle each epoch, the same on every rank
            log["indices"].append(list(sampler))
            for X, y in loader:
                # (a) this rank's own gradient: backward inside no_sync() skips the all-reduce
                opt.zero_grad()
                with ddp.no_sync():
                    loss_fn(ddp(X), y).backward()
                local = flat(p.grad for p in model.parameters())
                # (b) the real step: backward() all-reduces (averages) gradients across ranks
                opt.zero_grad()
                loss = loss_fn(ddp(X), y)
                loss.backward()
                synced = flat(p.grad for p in model.parameters())
                # the mean of every rank's local gradient, computed by hand
                gathered = [torch.empty_like(local) for _ in range(world)]
                dist.all_gather(gathered, local)
                manual_mean = torch.stack(gathered).mean(0)
                opt.step()
                # parameters after the step, from every rank
                params = flat(model.parameters())
                all_params = [torch.empty_like(params) for _ in range(world)]
                dist.all_gather(all_params, params)

                log["loss"].append(loss.item())
                log["grad_gap"].append((synced - manual_mean).abs().max().item())
                log["local_vs_synced"].append((synced - local).abs().max().item())
                log["param_gap"].append(max((p - params).abs().max().item() for p in all_params))

        torch.save({"rank": rank, "before_wrap": before_wrap, "after_wrap": after_wrap,
                    "state_dict": model.state_dict(), **log}, Path(out_dir) / f"rank{rank}.pt")
    finally:
        dist.destroy_process_group()


def train_single(cfg: dict, X: torch.Tensor, y: torch.Tensor) -> dict:
    """The same training in one process: rank 0's initial weights, and at every step the union of the
    batches the ranks see at that step, as one batch of world_size * batch_size examples."""
    torch.set_num_threads(1)
    dataset = TensorDataset(X, y)
    model = make_model(cfg["seed"] + 0)
    opt = torch.optim.SGD(model.parameters(), lr=cfg["lr"], momentum=cfg["momentum"])
    loss_fn = nn.CrossEntropyLoss()
    shards = [make_loader(dataset, r, cfg) for r in range(cfg["world_size"])]  # no process group needed
    losses = []
    for epoch in range(cfg["epochs"]):
        for _, sampler in shards:
            sampler.set_epoch(epoch)
        for batches in zip(*(loader for loader, _ in shards)):
            X = torch.cat([b[0] for b in batches])
            y = torch.cat([b[1] for b in batches])
            opt.zero_grad()
            loss = loss_fn(model(X), y)
            loss.backward()
            opt.step()
            losses.append(loss.item())
    return {"state_dict": model.state_dict(), "loss": losses}
