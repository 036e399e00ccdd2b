"""Helpers shared by the labs: seeding, plot style, the handbook's own text, digits data, a CNN, a training loop.

Everything here is imported by more than one lab; a helper used by one lab stays in that lab.
"""
from __future__ import annotations

import json
import os
import random
from pathlib import Path

import numpy as np
import torch

DATA_DIR = Path(__file__).resolve().parent / "data"


def seed_everything(seed: int = 0, threads: int | None = None) -> None:
    """Make a lab repeatable: the same seed gives bit-identical numbers on one machine."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    if threads is None:
        threads = int(os.environ.get("LAB_THREADS", "0")) or None
    if threads:
        torch.set_num_threads(threads)


def setup_plots() -> None:
    """One small, light plot style for every lab (labels in English: one run serves both sites)."""
    import sys

    import matplotlib

    if "ipykernel" not in sys.modules:  # a script: render off-screen; a notebook keeps its inline backend
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "figure.figsize": (6.4, 3.2),
            "figure.dpi": 80,
            "savefig.dpi": 80,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    )


def handbook_text(lang: str = "zh") -> str:
    """The handbook's own prose in `lang` ("zh" or "en"; chapters without code), as committed in data/."""
    return (DATA_DIR / f"handbook_{lang}.txt").read_text(encoding="utf-8")


def handbook_questions() -> list[dict]:
    """The handbook's questions: id, chapter, zh and en titles, and the answer text in each language."""
    return json.loads((DATA_DIR / "handbook_questions.json").read_text(encoding="utf-8"))


def _is_chinese(ch: str) -> bool:
    """CJK ideograph or CJK / full-width punctuation."""
    return "\u4e00" <= ch <= "\u9fff" or "\u3000" <= ch <= "\u303f" or "\uff00" <= ch <= "\uffef"


def _is_latin_letter(ch: str) -> bool:
    """An ASCII letter (English prose)."""
    return ch.isascii() and ch.isalpha()


def handbook_prose(min_share: float = 0.5, lang: str = "zh") -> list[str]:
    """Lines of `handbook_text(lang)` that are mainly prose in that language, in order.

    A line is kept when at least `min_share` of its non-space characters belong to the language: Chinese
    characters or Chinese punctuation for "zh", ASCII letters for "en". This drops code, formulas and
    reference lists that may be in the text (for "en", lists of numbers and symbols).
    """
    in_lang = _is_chinese if lang == "zh" else _is_latin_letter
    lines = []
    for line in handbook_text(lang).splitlines():
        chars = "".join(line.split())
        if chars and sum(map(in_lang, chars)) >= min_share * len(chars):
            lines.append(line.strip())
    return lines


def block_split(seq, block: int = 250, every: int = 10) -> tuple[list, list]:
    """Split a sequence (str, list, tensor) by position: cut it into consecutive blocks of `block` items
    and hold out every `every`-th block. Returns (train_blocks, held_out_blocks), each a list of slices.

    Held-out passages then come from all over the text (not just its end), and never overlap training ones.
    """
    blocks = [seq[i : i + block] for i in range(0, len(seq), block)]
    train = [b for i, b in enumerate(blocks) if i % every != every - 1]
    held = [b for i, b in enumerate(blocks) if i % every == every - 1]
    return train, held


# --- digits: data, a small CNN and a generic training loop (digits-cnn, gan-digits, model-serving, interpretability) ---


def digits_splits(val_size: float = 0.15, test_size: float = 0.15, seed: int = 0) -> dict:
    """`load_digits` (1,797 images of 8x8 pixels, values 0..16) split into train / val / test.

    Stratified and deterministic for a given seed. Images are float32 tensors of shape
    (N, 1, 8, 8) scaled to [0, 1]; labels are int64. Returns {"train": (X, y), "val": ..., "test": ...}.
    The test split is for the final report only: choose epochs, learning rates etc. on "val".
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    X = (digits.images / 16.0).astype(np.float32)[:, None, :, :]
    y = digits.target.astype(np.int64)
    X_rest, X_test, y_rest, y_test = train_test_split(
        X, y, test_size=test_size, stratify=y, random_state=seed
    )
    X_train, X_val, y_train, y_val = train_test_split(
        X_rest, y_rest, test_size=val_size / (1 - test_size), stratify=y_rest, random_state=seed
    )
    as_t = lambda X, y: (torch.from_numpy(X), torch.from_numpy(y))  # noqa: E731
    return {"train": as_t(X_train, y_train), "val": as_t(X_val, y_val), "test": as_t(X_test, y_test)}


def digits_loaders(batch_size: int = 64, seed: int = 0, **split_kwargs) -> dict:
    """DataLoaders over `digits_splits()`: the train loader shuffles with its own seeded generator."""
    from torch.utils.data import DataLoader, TensorDataset

    splits = digits_splits(seed=seed, **split_kwargs)
    gen = torch.Generator().manual_seed(seed)
    return {
        name: DataLoader(
            TensorDataset(*tensors), batch_size=batch_size, shuffle=(name == "train"),
            generator=gen if name == "train" else None,
        )
        for name, tensors in splits.items()
    }


class DigitsCNN(torch.nn.Module):
    """A small CNN for 8x8 digits: two 3x3 convolutions, one 2x2 max-pool, two linear layers.

    Shapes: (N,1,8,8) -> conv (N,16,8,8) -> conv (N,32,8,8) -> pool (N,32,4,4)
    -> flatten (N,512) -> linear (N,64) -> linear (N,10) logits.
    `features` ends with the last convolution block (used for saliency / Grad-CAM).
    """

    def __init__(self, n_classes: int = 10, dropout: float = 0.5):
        super().__init__()
        nn = torch.nn
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, kernel_size=3, padding=1), nn.ReLU(),
            nn.Conv2d(16, 32, kernel_size=3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Dropout(dropout),
            nn.Linear(32 * 4 * 4, 64), nn.ReLU(),
            nn.Linear(64, n_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


@torch.no_grad()
def evaluate(model: torch.nn.Module, loader, loss_fn=None) -> tuple[float, float]:
    """Mean loss and accuracy of a classifier over a loader (eval mode; the mode is restored)."""
    loss_fn = loss_fn or torch.nn.CrossEntropyLoss()
    was_training = model.training
    model.eval()
    total_loss, correct, n = 0.0, 0, 0
    for X, y in loader:
        logits = model(X)
        total_loss += loss_fn(logits, y).item() * len(y)
        correct += (logits.argmax(1) == y).sum().item()
        n += len(y)
    model.train(was_training)
    return total_loss / n, correct / n


def fit(model, train_loader, val_loader, epochs: int, lr: float = 1e-3, weight_decay: float = 0.0,
        loss_fn=None, restore_best: bool = True, verbose: bool = True) -> dict:
    """Train a classifier with Adam; return a per-epoch history (lists keyed by metric).

    Each epoch: one pass over `train_loader`, then loss and accuracy on train and validation.
    With `restore_best`, the weights of the epoch with the lowest validation loss are put back at
    the end (model selection on the validation set, never on the test set).
    """
    import copy
    import time

    loss_fn = loss_fn or torch.nn.CrossEntropyLoss()
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    history = {"epoch": [], "train_loss": [], "train_acc": [], "val_loss": [], "val_acc": []}
    best_loss, best_state, best_epoch = float("inf"), None, 0
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        model.train()
        total_loss, correct, n = 0.0, 0, 0
        for X, y in train_loader:
            opt.zero_grad()
            logits = model(X)
            loss = loss_fn(logits, y)
            loss.backward()
            opt.step()
            total_loss += loss.item() * len(y)  # running loss (dropout on), cheaper than a re-pass
            correct += (logits.argmax(1) == y).sum().item()
            n += len(y)
        val_loss, val_acc = evaluate(model, val_loader, loss_fn)
        for key, value in zip(history, (epoch, total_loss / n, correct / n, val_loss, val_acc)):
            history[key].append(value)
        if val_loss < best_loss:
            best_loss, best_epoch = val_loss, epoch
            best_state = copy.deepcopy(model.state_dict())
        if verbose:
            print(f"epoch {epoch:3d}  train loss {total_loss / n:.4f} acc {correct / n:.3f}"
                  f"  val loss {val_loss:.4f} acc {val_acc:.3f}")
    if restore_best and best_state is not None:
        model.load_state_dict(best_state)
    history["best_epoch"] = best_epoch
    history["seconds"] = time.perf_counter() - start
    if verbose:
        print(f"trained {epochs} epochs in {history['seconds']:.1f} s; best validation loss at epoch {best_epoch}")
    return history


def train_digits_cnn(loaders: dict | None = None, epochs: int = 30, lr: float = 2e-3, seed: int = 0,
                     verbose: bool = True) -> tuple[DigitsCNN, dict]:
    """The digits-cnn lab's recipe, so every lab gets the same classifier: seeded init, `fit`, best-val weights.

    Uses its own random stream (`fork_rng`), so it neither depends on nor disturbs the caller's.
    """
    loaders = loaders or digits_loaders(seed=seed)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = DigitsCNN()
        history = fit(model, loaders["train"], loaders["val"], epochs=epochs, lr=lr, verbose=verbose)
    model.eval()
    return model, history


# --- small building blocks (training-efficiency, compression, continual-learning) ---


def mlp(*sizes: int, activation=torch.nn.ReLU) -> torch.nn.Sequential:
    """Flatten, then Linear layers of the given sizes with `activation` between them.

    No dropout and no batch-norm, so a forward pass depends on nothing but the weights and the batch.
    `mlp(64, 128, 10)` = Flatten, Linear(64, 128), ReLU, Linear(128, 10): digit images (N,1,8,8) in, logits out.
    """
    layers: list[torch.nn.Module] = [torch.nn.Flatten()]
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        if i:
            layers.append(activation())
        layers.append(torch.nn.Linear(n_in, n_out))
    return torch.nn.Sequential(*layers)


@torch.no_grad()
def accuracy(model: torch.nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    """Accuracy of a classifier on tensors X, y in one batch (eval mode; the mode is restored)."""
    was_training = model.training
    model.eval()
    acc = (model(X).argmax(1) == y).float().mean().item()
    model.train(was_training)
    return acc


# --- CPU threads for small numpy / scikit-learn work (recommender, hyperparameter-search, interpretability) ---


def limit_threads(n: int = 1) -> None:
    """Cap every BLAS and OpenMP thread pool loaded so far (numpy, scipy, scikit-learn, torch) at `n` threads.

    Call it after the imports. On a shared 2-core machine, small matrix work and small scikit-learn models run
    several times faster on one thread (idle pool threads spin and fight over the cores), and one thread also
    fixes the order of floating-point sums, so numbers repeat exactly.
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=n)
