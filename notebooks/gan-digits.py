# %% [markdown] lang="zh"
# # 实验：用 GAN 生成手写数字
#
# 来源：第 001 篇《AI 大模型创业：挑战与机遇并存的现状与未来》编程题 3（[章节](../chapters/challenges-and-opportunities.md#q-gan-image-generation)）和第 002 篇《AI大模型创业实战：揭秘科技优势的利用之道》编程题 4（[章节](../chapters/training-and-evaluation.md#q-implement-gan)）。
#
# **原代码的问题：**
#
# - 001：有语法错误（多余的右括号）；生成器输出 112×112×3，而数据是 28×28×1；每一步都用同一个批次 `train_images[:batch_size]`；
#   把 WGAN 的 `n_critic` 误用成"同一批次重复训练 5 次"；还声称用 MNIST 训练出"人脸"。
# - 002：生成器每个 epoch 只在批次循环**外**更新一次；判别器输出已经过 `sigmoid`，又送进 `sigmoid_cross_entropy_with_logits`（两次 sigmoid）。
#
# **本实验做什么：** 用 PyTorch 在 `load_digits`（8×8，缩放到 [-1, 1]）上训练一个小的 MLP GAN：判别器输出 logits，
# 损失用 `nn.BCEWithLogitsLoss`；每个批次先更新判别器、再更新生成器；生成器用非饱和损失。训练过程中保存几张样本网格，
# 画出损失曲线；最后用数字识别实验里的同一个 CNN 给生成的图片分类，检验它们像不像数字、是否多样。

# %% [markdown] lang="en"
# # Lab: generating handwritten digits with a GAN
#
# Source: article 001, 《AI 大模型创业：挑战与机遇并存的现状与未来》 ("AI large-model startups: where challenges and opportunities meet, today and tomorrow"), coding question 3 ([chapter](../chapters/challenges-and-opportunities.md#q-gan-image-generation)), and article 002, 《AI大模型创业实战：揭秘科技优势的利用之道》 ("AI Large-Model Startups in Practice: How to Use Your Technology Advantage"), coding question 4 ([chapter](../chapters/training-and-evaluation.md#q-implement-gan)).
#
# **What was wrong with the original code:**
#
# - 001: syntax errors (stray closing parentheses); the generator outputs 112×112×3 while the data is 28×28×1; every step reuses
#   the same batch `train_images[:batch_size]`; WGAN's `n_critic` is misapplied as "train on the same batch 5 times"; and it
#   promises "a face" from a model trained on MNIST.
# - 002: the generator is updated once per epoch, **outside** the batch loop; the discriminator's output already went through
#   `sigmoid` and is fed to `sigmoid_cross_entropy_with_logits` (a double sigmoid).
#
# **What this lab does:** in PyTorch, it trains a small MLP GAN on `load_digits` (8×8, scaled to [-1, 1]): the discriminator
# outputs logits and the loss is `nn.BCEWithLogitsLoss`; every batch updates the discriminator, then the generator; the generator
# uses the non-saturating loss. We keep sample grids during training and plot the losses; finally the CNN from the digit
# recognition lab classifies the generated images, to test whether they look like digits and whether they are diverse.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from labkit import digits_loaders, digits_splits, seed_everything, setup_plots, train_digits_cnn

seed_everything(0, threads=1)  # tiny models: one thread is fastest on a shared CPU, and reproducible
setup_plots()

# %% [markdown] lang="zh"
# ## 两个常见错误，用数字看清楚
#
# **两次 sigmoid。** `BCEWithLogitsLoss` 内部会做一次 sigmoid。如果判别器已经输出概率 $p=\sigma(l)$，损失就变成
# $-\log\sigma(p)$，而 $p\in(0,1)$，所以即使判别器完全正确，损失也降不到 $-\log\sigma(1)\approx 0.31$ 以下，梯度还要再乘上 $\sigma'(l)$。
#
# **饱和的生成器损失。** 原始极小极大形式让生成器最小化 $\log(1-D(G(z)))$。训练初期判别器很容易认出假图（logit $l\ll 0$），
# 这时对 $l$ 的梯度是 $-\sigma(l)\approx 0$，生成器学不动；非饱和形式改为最小化 $-\log D(G(z))$，梯度是 $-(1-\sigma(l))\approx -1$。
# 实现上就是把假图的标签设为 1 再算 BCE。

# %% [markdown] lang="en"
# ## Two common mistakes, in numbers
#
# **Double sigmoid.** `BCEWithLogitsLoss` applies a sigmoid itself. If the discriminator already outputs a probability
# $p=\sigma(l)$, the loss becomes $-\log\sigma(p)$ with $p\in(0,1)$: even a perfectly right discriminator cannot get below
# $-\log\sigma(1)\approx 0.31$, and every gradient is multiplied by an extra $\sigma'(l)$.
#
# **Saturating generator loss.** The original minimax form has the generator minimise $\log(1-D(G(z)))$. Early on the
# discriminator spots fakes easily (logit $l\ll 0$), and the gradient with respect to $l$ is $-\sigma(l)\approx 0$: the generator
# stops learning. The non-saturating form minimises $-\log D(G(z))$ instead, with gradient $-(1-\sigma(l))\approx -1$. In code,
# that is BCE with the label 1 for the fakes.

# %%
bce = nn.BCEWithLogitsLoss()
print("real image, D logit l | loss on logit | loss on sigmoid(l) (double sigmoid)")
for l in [-4.0, 0.0, 4.0, 10.0]:
    logit = torch.tensor([l])
    print(f"{l:21.1f} | {bce(logit, torch.ones(1)).item():13.4f} | {bce(torch.sigmoid(logit), torch.ones(1)).item():.4f}")

print("\nfake image, D logit l | d/dl log(1 - D)  (saturating) | d/dl -log D  (non-saturating)")
for l in [-8.0, -4.0, 0.0]:
    logit = torch.tensor(l, requires_grad=True)
    (g_sat,) = torch.autograd.grad(torch.log1p(-torch.sigmoid(logit)), logit)
    (g_ns,) = torch.autograd.grad(-torch.nn.functional.logsigmoid(logit), logit)
    print(f"{l:21.1f} | {g_sat.item():30.4f} | {g_ns.item():.4f}")

# %% [markdown] lang="zh"
# ## 数据和模型
#
# GAN 只用训练集那 1,257 张图（与 CNN 的划分相同），每张展平成 64 维，像素缩放到 [-1, 1]，与生成器最后的 `tanh` 值域一致。
# 生成器把 32 维高斯噪声映射成 64 个像素；判别器是一个带 Dropout 的 MLP，最后一层**没有** sigmoid，输出的是 logit。

# %% [markdown] lang="en"
# ## Data and models
#
# The GAN sees only the 1,257 training images (the same split as the CNN's), each flattened to 64 values and scaled to
# [-1, 1], the range of the generator's final `tanh`. The generator maps 32-dimensional Gaussian noise to 64 pixels; the
# discriminator is an MLP with dropout whose last layer has **no** sigmoid: it outputs a logit.

# %%
X_train = digits_splits()["train"][0].reshape(-1, 64) * 2 - 1  # [0, 1] -> [-1, 1]
loader = torch.utils.data.DataLoader(X_train, batch_size=64, shuffle=True, drop_last=True,
                                     generator=torch.Generator().manual_seed(0))
Z_DIM = 32

generator = nn.Sequential(
    nn.Linear(Z_DIM, 128), nn.LeakyReLU(0.2),
    nn.Linear(128, 256), nn.LeakyReLU(0.2),
    nn.Linear(256, 64), nn.Tanh(),
)
discriminator = nn.Sequential(
    nn.Linear(64, 256), nn.LeakyReLU(0.2), nn.Dropout(0.3),
    nn.Linear(256, 128), nn.LeakyReLU(0.2), nn.Dropout(0.3),
    nn.Linear(128, 1),  # a logit: BCEWithLogitsLoss applies the sigmoid
)
print(f"data {tuple(X_train.shape)}, range [{X_train.min():.0f}, {X_train.max():.0f}], {len(loader)} batches per epoch")
print(f"generator {sum(p.numel() for p in generator.parameters()):,} parameters, "
      f"discriminator {sum(p.numel() for p in discriminator.parameters()):,}")

# %% [markdown] lang="zh"
# ## 训练：每个批次交替更新
#
# 每个批次两步：(1) 判别器把真图判为 1、假图判为 0（假图 `detach()`，这一步不更新生成器）；
# (2) 生成器让判别器把**新的**假图判为 1（非饱和损失）。两者都用 Adam（`betas=(0.5, 0.999)`，GAN 的常用设置）。
# 我们用一组固定的噪声向量在选定的 epoch 生成样本，看同一批"种子"如何逐渐变成数字。

# %% [markdown] lang="en"
# ## Training: alternate updates on every batch
#
# Two steps per batch: (1) the discriminator learns to call real images 1 and fakes 0 (the fakes are `detach()`ed, so this
# step leaves the generator alone); (2) the generator learns to make the discriminator call the fakes 1 (non-saturating
# loss). Both use Adam (`betas=(0.5, 0.999)`, the usual GAN setting). A fixed set of noise vectors is decoded at chosen
# epochs, so we can watch the same "seeds" turn into digits.

# %%
EPOCHS, SNAPSHOTS = 100, (1, 10, 30, 100)
opt_d = torch.optim.Adam(discriminator.parameters(), lr=1e-3, betas=(0.5, 0.999))
opt_g = torch.optim.Adam(generator.parameters(), lr=1e-3, betas=(0.5, 0.999))
z_fixed = torch.randn(10, Z_DIM, generator=torch.Generator().manual_seed(1))
log = {"d_loss": [], "g_loss": [], "d_real": [], "d_fake": []}
snapshots = {}

start = time.perf_counter()
for epoch in range(1, EPOCHS + 1):
    sums = dict.fromkeys(log, 0.0)
    for real in loader:
        b = len(real)
        ones, zeros = torch.ones(b, 1), torch.zeros(b, 1)
        fake = generator(torch.randn(b, Z_DIM))

        # (1) discriminator step: real -> 1, fake -> 0
        logits_real, logits_fake = discriminator(real), discriminator(fake.detach())
        d_loss = bce(logits_real, ones) + bce(logits_fake, zeros)
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()

        # (2) generator step, non-saturating: make D call the fakes real
        g_loss = bce(discriminator(fake), ones)
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()

        for key, value in zip(log, (d_loss, g_loss, torch.sigmoid(logits_real).mean(), torch.sigmoid(logits_fake).mean())):
            sums[key] += value.item() / len(loader)
    for key in log:
        log[key].append(sums[key])
    if epoch in SNAPSHOTS:
        generator.eval()
        with torch.no_grad():
            snapshots[epoch] = generator(z_fixed).reshape(-1, 8, 8)
        generator.train()
        print(f"epoch {epoch:3d}  D loss {sums['d_loss']:.3f}  G loss {sums['g_loss']:.3f}  "
              f"D(real) {sums['d_real']:.2f}  D(fake) {sums['d_fake']:.2f}")
gan_seconds = time.perf_counter() - start
print(f"trained {EPOCHS} epochs ({EPOCHS * len(loader)} steps of D and of G) in {gan_seconds:.1f} s")

# %%
fig, axes = plt.subplots(len(SNAPSHOTS), 10, figsize=(6.4, 2.8))
for row, epoch in zip(axes, SNAPSHOTS):
    for ax, img in zip(row, snapshots[epoch]):
        ax.imshow(img, cmap="gray_r", vmin=-1, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
    row[0].set_ylabel(f"epoch {epoch}", fontsize=8, rotation=0, ha="right", va="center")
fig.suptitle("Same noise vectors, decoded during training", fontsize=9)
plt.show()

# %% [markdown] lang="zh"
# 损失曲线：GAN 的损失不像分类那样一路下降。若判别器只能瞎猜（输出 0.5），判别器损失是 $2\ln 2\approx 1.39$，
# 生成器损失是 $\ln 2\approx 0.69$。两条曲线在这附近来回拉锯、谁也没有压倒对方，是训练健康的信号；
# 判别器损失趋近 0 则说明生成器已经"输掉"了。

# %% [markdown] lang="en"
# Loss curves: GAN losses do not fall steadily as a classifier's do. If the discriminator can only guess (outputs 0.5), its loss
# is $2\ln 2\approx 1.39$ and the generator's is $\ln 2\approx 0.69$. Curves that wander around these values with neither side
# winning are a healthy sign; a discriminator loss heading to 0 means the generator has lost.

# %%
epochs = range(1, EPOCHS + 1)
fig, (ax1, ax2) = plt.subplots(1, 2)
ax1.plot(epochs, log["d_loss"], label="D loss")
ax1.plot(epochs, log["g_loss"], label="G loss")
ax1.axhline(2 * np.log(2), color="C0", ls=":", lw=1)
ax1.axhline(np.log(2), color="C1", ls=":", lw=1)
ax1.set(xlabel="epoch", ylabel="BCE (mean per epoch)", title="Losses")
ax1.legend()
ax2.plot(epochs, log["d_real"], label="D(real)")
ax2.plot(epochs, log["d_fake"], label="D(fake)")
ax2.set(xlabel="epoch", ylabel="mean probability", ylim=(0, 1), title="Discriminator outputs")
ax2.legend()
fig.tight_layout()
plt.show()

# %% [markdown] lang="zh"
# ## 用 CNN 给生成的数字打分
#
# 用数字识别实验的同一个函数 `train_digits_cnn()`（同样的数据划分、种子和超参数）训练分类器，再让它给 100 张生成图片分类。
# 两个指标：**置信度**（最大 softmax 概率的均值）说明图片像不像某个数字；**预测类别的个数**用来发现模式崩塌
# （生成器只会画一两种数字）。
#
# 但置信度单独看并不可靠：分类器从没见过"不是数字"的输入，对纯噪声也会给出很高的置信度。所以我们同时给出两个基线——
# 均匀噪声，以及"像素独立"的图（每个像素从真实数据的同一位置随机抽取，像素分布对、结构全无）——
# 并计算一个迷你版 FID：CNN 倒数第二层 64 维特征上，与真实验证集图片之间的 Fréchet 距离（越小越像真实数据）。

# %% [markdown] lang="en"
# ## Scoring the generated digits with the CNN
#
# The classifier is trained by the same function as in the digit recognition lab, `train_digits_cnn()` (same split, seed and
# hyperparameters); it then classifies 100 generated images. Two measures: **confidence** (mean of the largest softmax
# probability) says whether an image looks like some digit; the **number of predicted classes** catches mode collapse (a
# generator that draws only one or two digits).
#
# Confidence alone is not trustworthy, though: the classifier has never seen inputs that are not digits, and it is quite
# confident on pure noise too. So we add two baselines — uniform noise, and "independent pixels" (each pixel drawn from the
# same position of a random real image: the right pixel statistics, no structure) — and compute a mini FID: the Fréchet
# distance to the real validation images in the CNN's 64-dimensional penultimate features (smaller is closer to real data).

# %%
loaders = digits_loaders(batch_size=64, seed=0)
cnn, cnn_history = train_digits_cnn(loaders, verbose=False)
best = cnn_history["best_epoch"]
print(f"CNN trained in {cnn_history['seconds']:.1f} s; selected epoch {best}, validation accuracy {cnn_history['val_acc'][best - 1]:.3f}")


def frechet_distance(a: torch.Tensor, b: torch.Tensor) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (the formula behind FID)."""
    a, b = a.double().numpy(), b.double().numpy()
    ca, cb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    # trace of sqrtm(ca @ cb) = sum of square roots of its eigenvalues (real and >= 0 up to round-off)
    tr_sqrt = np.sqrt(np.clip(np.linalg.eigvals(ca @ cb).real, 0, None)).sum()
    return float(((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(ca) + np.trace(cb) - 2 * tr_sqrt)


@torch.no_grad()
def score(images: torch.Tensor, reference: torch.Tensor) -> dict:
    """images in [0, 1], shape (N, 1, 8, 8): CNN confidence, predicted classes, distance to reference."""
    probs = cnn(images).softmax(1)
    conf, pred = probs.max(1)
    features = lambda x: cnn.classifier[:-1](cnn.features(x))  # noqa: E731  penultimate layer (64 values)
    return {"confidence": conf.mean().item(), "classes": torch.bincount(pred, minlength=10).tolist(),
            "n_classes": len(set(pred.tolist())), "frechet": frechet_distance(features(images), features(reference)),
            "pred": pred, "conf": conf}


X_val = loaders["val"].dataset.tensors[0]
X_train_img = loaders["train"].dataset.tensors[0]
g = torch.Generator().manual_seed(2)
generator.eval()
with torch.no_grad():
    generated = (generator(torch.randn(270, Z_DIM, generator=g)).reshape(-1, 1, 8, 8) + 1) / 2  # -> [0, 1]
noise = torch.rand(270, 1, 8, 8, generator=g)
rows = torch.randint(0, len(X_train_img), (270, 64), generator=g)
independent = X_train_img.reshape(-1, 64)[rows, torch.arange(64)].reshape(-1, 1, 8, 8)

results = {name: score(images, X_val) for name, images in
           [("real (test)", loaders["test"].dataset.tensors[0]), ("GAN samples", generated),
            ("independent pixels", independent), ("uniform noise", noise)]}
print(f"{'images':20s} {'confidence':>10s} {'classes':>8s} {'Frechet':>8s}   class counts")
for name, r in results.items():
    print(f"{name:20s} {r['confidence']:10.3f} {r['n_classes']:8d} {r['frechet']:8.1f}   {r['classes']}")

# %%
gan = score(generated[:100], X_val)
fig, axes = plt.subplots(5, 10, figsize=(6.4, 3.8))
for ax, img, p, c in zip(axes.flat, generated, gan["pred"], gan["conf"]):
    ax.imshow(img[0], cmap="gray_r", vmin=0, vmax=1)
    ax.set_title(f"{p.item()} ({c.item():.2f})", fontsize=7)
    ax.axis("off")
fig.suptitle("First 50 GAN samples with the CNN's label (confidence)", fontsize=9)
fig.tight_layout()
plt.show()

# %% [markdown] lang="zh"
# ## 检查
#
# 断言：对 100 张生成图片，CNN 的平均置信度不低于 0.8（远高于随机猜测的 0.1，也高于纯噪声基线），
# 且至少出现 6 个不同的预测类别（没有模式崩塌）；对 270 张生成图片，与真实图片的 Fréchet 距离不到"像素独立"基线的一半。

# %% [markdown] lang="en"
# ## Check
#
# Asserted: on 100 generated images, the CNN's mean confidence is at least 0.8 (far above the chance level 0.1, and above
# the pure-noise baseline) and at least 6 distinct classes are predicted (no mode collapse); on 270 generated images, the
# Fréchet distance to real images is less than half that of the independent-pixel baseline.

# %%
baseline = results["independent pixels"]
assert gan["confidence"] >= 0.8, f"mean max-softmax {gan['confidence']:.3f} < 0.8"
assert gan["confidence"] > results["uniform noise"]["confidence"], "generated digits score no better than noise"
assert gan["n_classes"] >= 6, f"only {gan['n_classes']} classes among 100 samples: mode collapse?"
frechet = results["GAN samples"]["frechet"]  # 270 samples, like the baselines
assert frechet < 0.5 * baseline["frechet"], (
    f"Frechet distance {frechet:.1f} not below half the baseline's {baseline['frechet']:.1f}")
print(f"check passed: confidence {gan['confidence']:.3f} >= 0.8, {gan['n_classes']} classes >= 6, "
      f"Frechet {frechet:.1f} < {0.5 * baseline['frechet']:.1f}; GAN trained in {gan_seconds:.1f} s")
