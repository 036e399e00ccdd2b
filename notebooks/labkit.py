"""Helpers shared by the labs: seeding, plot style, the handbook's own text, digits data, a CNN, a training loop,
and a small character-level GPT (tokenizer, model with an optional KV cache, generation, training).

Everything here is imported by more than one lab; a helper used by one lab stays in that lab.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import random
import statistics
import time
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


# --- timing (kv-cache, speculative-decoding, training-efficiency, compression) ---


def time_call(fn, repeats: int = 10, stat=statistics.median, warmup: int = 1) -> float:
    """Seconds one call of fn() takes: `stat` over `repeats` timed calls after `warmup` untimed ones.

    The median describes a typical call; `stat=min` gives the run least disturbed by other processes, the number
    Python's timeit documentation recommends reading.
    """
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return stat(times)


# --- a small character-level GPT (gpt-from-scratch, kv-cache and the Part 2 labs built on it) ---


class CharTokenizer:
    """Characters as tokens: the vocabulary is every character of a text, numbered in sorted order (so every run agrees)."""

    def __init__(self, text: str):
        self.chars = sorted(set(text))
        self.stoi = {c: i for i, c in enumerate(self.chars)}

    @property
    def vocab_size(self) -> int:
        return len(self.chars)

    def encode(self, s: str) -> torch.Tensor:
        """A string as a 1-D int64 tensor of ids; a character outside the vocabulary is an error, not a silent skip."""
        unknown = sorted(set(s) - self.stoi.keys())
        if unknown:
            raise KeyError(f"characters not in the vocabulary: {''.join(unknown)!r}")
        return torch.tensor([self.stoi[c] for c in s], dtype=torch.long)

    def decode(self, ids) -> str:
        return "".join(self.chars[int(i)] for i in ids)


def handbook_char_data(block: int = 250, every: int = 10, extra_chars: str = "") -> tuple[CharTokenizer, torch.Tensor, torch.Tensor]:
    """The handbook's Chinese prose (`handbook_prose()` lines joined by newlines) as character ids, split by position.

    Returns (tokenizer, train_ids, held_out_ids): `block_split` holds out every `every`-th block of `block` characters.
    `extra_chars` adds characters the text lacks to the vocabulary (e.g. "{}" for JSON); they shift the ids.
    """
    text = "\n".join(handbook_prose())
    tok = CharTokenizer(text + extra_chars)
    train, held = block_split(tok.encode(text), block=block, every=every)
    return tok, torch.cat(train), torch.cat(held)


def causal_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """softmax(Q K^T / sqrt(head_dim)) V with a causal mask, written out.

    q: (B, H, Tq, head_dim); k, v: (B, H, Tk, head_dim) with Tk >= Tq. The queries are the *last* Tq of the Tk
    positions (the first Tk - Tq come from a KV cache), so query i sits at position Tk - Tq + i and sees keys
    0 .. Tk - Tq + i. Without a cache Tq == Tk and the mask is the usual lower triangle. Returns (B, H, Tq, head_dim).
    """
    Tq, Tk = q.size(-2), k.size(-2)
    mask = torch.ones(Tq, Tk, dtype=torch.bool).tril(diagonal=Tk - Tq)
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
    return scores.masked_fill(~mask, float("-inf")).softmax(dim=-1) @ v


class CausalSelfAttention(torch.nn.Module):
    """Causal self-attention with separate q/k/v/output projections (`q_proj`, `k_proj`, `v_proj`, `o_proj`).

    `n_kv_heads` key/value heads serve `n_heads` query heads: equal gives multi-head attention (MHA), a divisor
    gives grouped-query attention (GQA: each key/value head shared by n_heads // n_kv_heads query heads), 1 gives
    multi-query attention (MQA). Only the n_kv_heads heads are cached; they are repeated for the query heads
    inside the attention.
    """

    def __init__(self, d_model: int, n_heads: int, n_kv_heads: int | None = None, dropout: float = 0.0):
        super().__init__()
        n_kv_heads = n_kv_heads or n_heads
        if d_model % n_heads or n_heads % n_kv_heads:
            raise ValueError(f"need n_heads | d_model and n_kv_heads | n_heads, got {d_model=}, {n_heads=}, {n_kv_heads=}")
        self.n_heads, self.n_kv_heads, self.head_dim = n_heads, n_kv_heads, d_model // n_heads
        nn = torch.nn
        self.q_proj = nn.Linear(d_model, n_heads * self.head_dim)
        self.k_proj = nn.Linear(d_model, n_kv_heads * self.head_dim)
        self.v_proj = nn.Linear(d_model, n_kv_heads * self.head_dim)
        self.o_proj = nn.Linear(n_heads * self.head_dim, d_model)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, past: tuple[torch.Tensor, torch.Tensor] | None = None):
        """x: (B, T, d_model), the new positions; past: None or the (k, v) of the earlier positions, each
        (B, n_kv_heads, T_past, head_dim). Returns (y, (k, v)): y is (B, T, d_model); k and v now cover all
        T_past + T positions, each (B, n_kv_heads, T_past + T, head_dim)."""
        B, T, _ = x.shape
        q = self.q_proj(x).view(B, T, self.n_heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(B, T, self.n_kv_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(B, T, self.n_kv_heads, self.head_dim).transpose(1, 2)
        if past is not None:
            k, v = torch.cat([past[0], k], dim=2), torch.cat([past[1], v], dim=2)
        group = self.n_heads // self.n_kv_heads  # query heads per key/value head
        y = causal_attention(q, k.repeat_interleave(group, dim=1), v.repeat_interleave(group, dim=1))
        y = y.transpose(1, 2).reshape(B, T, self.n_heads * self.head_dim)  # concatenate the heads
        return self.drop(self.o_proj(y)), (k, v)


class MLP(torch.nn.Module):
    """The position-wise feed-forward layer: `up_proj` to 4 x d_model, GELU, `down_proj` back."""

    def __init__(self, d_model: int, dropout: float = 0.0):
        super().__init__()
        self.up_proj = torch.nn.Linear(d_model, 4 * d_model)
        self.down_proj = torch.nn.Linear(4 * d_model, d_model)
        self.drop = torch.nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(self.down_proj(torch.nn.functional.gelu(self.up_proj(x))))


class Block(torch.nn.Module):
    """A pre-LN Transformer block: x + Attn(LN(x)), then x + MLP(LN(x)). Returns (x, (k, v)) like the attention."""

    def __init__(self, d_model: int, n_heads: int, n_kv_heads: int | None = None, dropout: float = 0.0):
        super().__init__()
        self.ln1 = torch.nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, n_heads, n_kv_heads, dropout)
        self.ln2 = torch.nn.LayerNorm(d_model)
        self.mlp = MLP(d_model, dropout)

    def forward(self, x: torch.Tensor, past=None):
        a, kv = self.attn(self.ln1(x), past)
        x = x + a
        return x + self.mlp(self.ln2(x)), kv


class GPT(torch.nn.Module):
    """A small decoder-only Transformer: token embeddings plus learned position embeddings, pre-LN blocks,
    a final LayerNorm and a linear head to logits over the vocabulary. Every matrix is an `nn.Linear`
    (`blocks[i].attn.{q,k,v,o}_proj`, `blocks[i].mlp.{up,down}_proj`, `head`), so LoRA or quantization can swap them.

    `model(idx)`: idx (B, T) int64 ids -> logits (B, T, vocab_size); position t is predicted from positions 0..t.
    `model(idx, cache, use_cache=True)` -> (logits, new_cache). The KV cache is a list with one (k, v) pair per
    block, each tensor (B, n_kv_heads, T_cached, head_dim); `idx` then holds only the new positions, numbered
    from T_cached on. `cache=None` starts from position 0. The returned cache covers T_cached + T positions; the
    passed one is not modified (keep it to roll back, or slice k and v along dim 2 to drop positions).
    Positions are learned, so T_cached + T may not exceed `block_size`.
    """

    def __init__(self, vocab_size: int, block_size: int, d_model: int = 96, n_heads: int = 4, n_layers: int = 2,
                 n_kv_heads: int | None = None, dropout: float = 0.1):
        super().__init__()
        nn = torch.nn
        self.block_size = block_size
        self.tok_emb = nn.Embedding(vocab_size, d_model)
        self.pos_emb = nn.Embedding(block_size, d_model)  # learned positions
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(Block(d_model, n_heads, n_kv_heads, dropout) for _ in range(n_layers))
        self.ln_f = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size)

    def forward(self, idx: torch.Tensor, cache: list | None = None, use_cache: bool = False):
        T_cached = 0 if cache is None else cache[0][0].size(2)
        T = idx.size(1)
        if T_cached + T > self.block_size:
            raise ValueError(f"{T_cached} cached + {T} new positions exceed block_size={self.block_size} (learned positions)")
        x = self.drop(self.tok_emb(idx) + self.pos_emb(torch.arange(T_cached, T_cached + T)))
        new_cache = []
        for i, block in enumerate(self.blocks):
            x, kv = block(x, None if cache is None else cache[i])
            new_cache.append(kv)
        logits = self.head(self.ln_f(x))
        return (logits, new_cache) if use_cache else logits


def next_token_probs(logits: torch.Tensor, temperature: float = 1.0, top_k: int | None = None,
                     top_p: float | None = None) -> torch.Tensor:
    """The distribution a sampler draws the next token from, for logits (..., V): softmax(logits / temperature),
    kept to the `top_k` most likely tokens (ties at the k-th value kept) and/or to the smallest set of most likely
    tokens whose probabilities add up to at least `top_p` (nucleus sampling), then renormalised."""
    if temperature <= 0:
        raise ValueError("temperature must be > 0 for sampling; greedy decoding takes the argmax instead")
    logits = logits / temperature
    if top_k is not None:
        kth = logits.topk(min(top_k, logits.size(-1)), dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = logits.softmax(dim=-1)
    if top_p is not None:
        sorted_p, order = probs.sort(dim=-1, descending=True)
        outside = sorted_p.cumsum(dim=-1) - sorted_p >= top_p  # the mass before this token already reaches top_p
        probs = probs.masked_fill(torch.zeros_like(outside).scatter(-1, order, outside), 0.0)
        probs = probs / probs.sum(dim=-1, keepdim=True)
    return probs


@torch.no_grad()
def generate(model: GPT, idx: torch.Tensor, max_new_tokens: int, temperature: float = 0.0, top_k: int | None = None,
             top_p: float | None = None, use_cache: bool = True, generator: torch.Generator | None = None,
             return_logits: bool = False):
    """Extend idx (B, T0) by `max_new_tokens` tokens, one at a time (eval mode; the mode is restored).

    temperature 0 is greedy decoding (argmax); above 0 samples from `next_token_probs` with `generator`.
    With `use_cache`, the prompt is run once and each later step feeds only the newest token plus the KV cache;
    the whole sequence must then fit in `model.block_size`. Without it, every step re-runs the last
    `block_size` tokens (a sliding window, so text may grow past `block_size`).
    Returns ids (B, T0 + max_new_tokens); with `return_logits` also the raw logits (B, max_new_tokens, V)
    each new token was chosen from.
    """
    was_training = model.training
    model.eval()
    cache, steps = None, []
    for _ in range(max_new_tokens):
        if use_cache:
            logits, cache = model(idx if cache is None else idx[:, -1:], cache, use_cache=True)
        else:
            logits = model(idx[:, -model.block_size:])
        last = logits[:, -1]
        steps.append(last)
        if temperature == 0:
            nxt = last.argmax(dim=-1, keepdim=True)
        else:
            nxt = torch.multinomial(next_token_probs(last, temperature, top_k, top_p), 1, generator=generator)
        idx = torch.cat([idx, nxt], dim=1)
    model.train(was_training)
    return (idx, torch.stack(steps, dim=1)) if return_logits else idx


def get_batch(ids: torch.Tensor, batch_size: int, block_size: int, generator: torch.Generator | None = None):
    """`batch_size` random windows of a 1-D id tensor: inputs x = ids[i : i+T] and targets y = ids[i+1 : i+T+1]
    (shifted by one, so every position predicts the next token). Returns (x, y), each (batch_size, block_size)."""
    ix = torch.randint(len(ids) - block_size - 1, (batch_size,), generator=generator)
    x = torch.stack([ids[i : i + block_size] for i in ix])
    y = torch.stack([ids[i + 1 : i + block_size + 1] for i in ix])
    return x, y


def lm_loss(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean next-token cross-entropy (nats per token) of the model's logits for x against targets y."""
    logits = model(x)
    return torch.nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1))


@torch.no_grad()
def held_out_loss(model: torch.nn.Module, ids: torch.Tensor, block_size: int, windows_per_pass: int = 64) -> float:
    """Mean next-token cross-entropy over a whole 1-D id tensor, cut into non-overlapping windows of `block_size`
    (eval mode; the mode is restored). A window's first positions see little context, as at the start of any text.
    The windows go through the model `windows_per_pass` at a time: the same mean, about twice as fast on a CPU
    as one pass whose logits outgrow the cache."""
    was_training = model.training
    model.eval()
    xs, ys = ids[:-1], ids[1:]
    n = (len(xs) // block_size) * block_size
    xs, ys = xs[:n].view(-1, block_size), ys[:n].view(-1, block_size)
    total = sum(lm_loss(model, x, y).item() * len(x) for x, y in zip(xs.split(windows_per_pass), ys.split(windows_per_pass)))
    model.train(was_training)
    return total / len(xs)


def train_gpt(model: torch.nn.Module, train_ids: torch.Tensor, held_ids: torch.Tensor | None = None, steps: int = 300,
              batch_size: int = 16, block_size: int | None = None, lr: float = 2e-3, weight_decay: float = 0.1,
              eval_every: int = 25, seed: int = 0) -> dict:
    """Train a language model on next-token prediction with AdamW; each step one `get_batch` of training windows.

    `block_size` defaults to the model's. The batches come from their own generator seeded with `seed`.
    Returns {"train_loss": the batch loss of every step, "held_loss": [(step, held-out loss)] every `eval_every`
    steps (empty without held_ids), "seconds": training time}. The model is left in eval mode.
    """
    block_size = block_size or model.block_size
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    history = {"train_loss": [], "held_loss": []}
    model.train()
    start = time.perf_counter()
    for step in range(1, steps + 1):
        loss = lm_loss(model, *get_batch(train_ids, batch_size, block_size, gen))
        opt.zero_grad()
        loss.backward()
        opt.step()
        history["train_loss"].append(loss.item())
        if held_ids is not None and step % eval_every == 0:
            history["held_loss"].append((step, held_out_loss(model, held_ids, block_size)))
    history["seconds"] = time.perf_counter() - start
    model.eval()
    return history


def handbook_gpt(steps: int = 300, seed: int = 0, block_size: int = 32, batch_size: int = 16, extra_chars: str = "",
                 **model_kwargs) -> tuple[GPT, CharTokenizer, dict]:
    """The gpt-from-scratch recipe in one call, so every lab that needs a trained small GPT gets the same one.

    `handbook_char_data(extra_chars=...)`, then `GPT(vocab, block_size, **model_kwargs)` (defaults: d_model 96,
    4 heads, 2 layers, about 0.46 M parameters) trained by `train_gpt` for `steps` steps. Uses its own random
    stream (`fork_rng`), so it neither depends on nor disturbs the caller's. Returns (model in eval mode,
    tokenizer, history of `train_gpt`); about 10-20 s on one CPU thread with the defaults.

    The first call with given arguments trains; the weights and history are then kept in `MODEL_CACHE`, keyed by
    the arguments, this file, the handbook text and torch's version, so the next lab that asks for the same model
    loads it like a checkpoint instead of training it again (delete the folder to retrain).
    """
    tok, train_ids, held_ids = handbook_char_data(extra_chars=extra_chars)
    recipe = dict(steps=steps, seed=seed, block_size=block_size, batch_size=batch_size, extra_chars=extra_chars, **model_kwargs)
    path = MODEL_CACHE / f"handbook-gpt-{_recipe_key(recipe)}.pt"
    with torch.random.fork_rng(), _exclusive(path):
        torch.manual_seed(seed)
        model = GPT(tok.vocab_size, block_size, **model_kwargs)
        if path.exists():
            saved = torch.load(path, weights_only=True)
            model.load_state_dict(saved["weights"])
            model.eval()
            return model, tok, saved["history"]
        history = train_gpt(model, train_ids, held_ids, steps=steps, batch_size=batch_size, seed=seed)
        partial = path.with_suffix(".partial")
        torch.save({"weights": model.state_dict(), "history": history}, partial)
        partial.replace(path)  # whole or absent, even if the kernel dies mid-write
    return model, tok, history


MODEL_CACHE = Path(os.environ.get("LAB_MODEL_CACHE") or Path(__file__).resolve().parent / ".cache")


def _recipe_key(recipe: dict) -> str:
    h = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode() + torch.__version__.encode())
    for source in (Path(__file__), DATA_DIR / "handbook_zh.txt"):
        h.update(source.read_bytes())
    return h.hexdigest()[:16]


@contextlib.contextmanager
def _exclusive(path: Path):
    """Hold a lock beside `path`, so that a lab running alongside waits for a model being trained instead of
    training it a second time. POSIX only; elsewhere the second lab just trains too."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:
        yield
        return
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
