# %% [markdown] lang="zh"
# # 实验：用卷积神经网络识别手写数字
#
# 来源：第 001 篇《AI 大模型创业：挑战与机遇并存的现状与未来》编程题 1（[章节](../chapters/challenges-and-opportunities.md#q-digit-recognition)）。
#
# **原代码的问题：**
#
# - 用 `keras.datasets` 在运行时下载 MNIST，离线环境直接失败；
# - 把测试集当作验证集（`validation_data=(test_images, ...)`），测试成绩因此不再是"没见过的数据"上的成绩；
# - `Conv2D(input_shape=(28, 28, 1))` 要求通道维，但数据是 `(N, 28, 28)`，缺了通道轴。
#
# **本实验做什么：** 按本手册的约定改用 PyTorch 重写，数据换成 scikit-learn 自带的 `load_digits`（1,797 张 8×8 灰度图，离线可用）。
# 数据分成训练 / 验证 / 测试三份：用验证集挑选模型，测试集只在最后用一次。我们画出训练和验证的损失、准确率曲线，
# 再在测试集上给出准确率和混淆矩阵。CNN、数据划分和训练循环放在 `labkit.py` 里，GAN 实验和可解释性实验会复用它们。

# %% [markdown] lang="en"
# # Lab: recognising handwritten digits with a CNN
#
# Source: article 001, 《AI 大模型创业：挑战与机遇并存的现状与未来》 ("AI large-model startups: where challenges and opportunities meet, today and tomorrow"), coding question 1 ([chapter](../chapters/challenges-and-opportunities.md#q-digit-recognition)).
#
# **What was wrong with the original code:**
#
# - it downloads MNIST with `keras.datasets` at run time, which fails offline;
# - it uses the test set as the validation set (`validation_data=(test_images, ...)`), so the test score is no longer a score on unseen data;
# - `Conv2D(input_shape=(28, 28, 1))` expects a channel axis, but the data is `(N, 28, 28)`.
#
# **What this lab does:** following the handbook's convention, it is rewritten in PyTorch, on scikit-learn's bundled `load_digits`
# (1,797 greyscale 8×8 images, available offline). The data is split into train / validation / test: the validation set selects
# the model and the test set is used once, at the end. We plot training and validation loss and accuracy, then report test
# accuracy and a confusion matrix. The CNN, the split and the training loop live in `labkit.py`, because the GAN lab and the
# interpretability lab reuse them.

# %%
import inspect

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.metrics import confusion_matrix

from labkit import DigitsCNN, digits_loaders, evaluate, fit, seed_everything, setup_plots, train_digits_cnn

seed_everything(0, threads=1)  # tiny model: one thread is fastest on a shared CPU, and reproducible
setup_plots()

# %% [markdown] lang="zh"
# ## 数据：三份互不重叠的集合
#
# `digits_loaders()` 对 `load_digits` 做分层随机划分（70 % / 15 % / 15 %，固定随机种子），像素从 0–16 缩放到 [0, 1]。
# 每个张量的形状是 `(N, 1, 8, 8)`：PyTorch 的卷积层要求 `(批, 通道, 高, 宽)`，灰度图也必须有一个通道轴——这正是原代码漏掉的那一维。

# %% [markdown] lang="en"
# ## Data: three disjoint sets
#
# `digits_loaders()` makes a stratified random split of `load_digits` (70 % / 15 % / 15 %, fixed seed) and scales pixels from
# 0–16 to [0, 1]. Every tensor has shape `(N, 1, 8, 8)`: PyTorch convolutions expect `(batch, channels, height, width)`, so a
# greyscale image still needs a channel axis — the axis the original code left out.

# %%
loaders = digits_loaders(batch_size=64, seed=0)
for name, loader in loaders.items():
    X, y = loader.dataset.tensors
    print(f"{name:5s}  X {tuple(X.shape)}  y {tuple(y.shape)}  per class {np.bincount(y.numpy()).tolist()}")

X_train, y_train = loaders["train"].dataset.tensors
fig, axes = plt.subplots(2, 10, figsize=(6.4, 1.6))
for ax, i in zip(axes.flat, range(20)):
    ax.imshow(X_train[i, 0], cmap="gray_r")
    ax.set_title(int(y_train[i]), fontsize=8)
    ax.axis("off")
fig.suptitle("Training images (8x8)", fontsize=9, y=1.05)
plt.show()

# %% [markdown] lang="zh"
# ## 模型：逐层看形状
#
# `DigitsCNN` 的源码如下。两个 3×3 卷积（`padding=1` 保持 8×8 大小）提取笔画和局部形状，2×2 最大池化把分辨率减半，
# 然后展平成 512 维向量，经过 Dropout 和两个全连接层输出 10 个 **logits**。注意最后没有 softmax：
# `nn.CrossEntropyLoss` 自己做 log-softmax，数值更稳定（Keras 原代码用 `softmax` + `sparse_categorical_crossentropy`，效果相同）。

# %% [markdown] lang="en"
# ## Model: shapes layer by layer
#
# Here is the source of `DigitsCNN`. Two 3×3 convolutions (`padding=1` keeps the 8×8 size) pick up strokes and local shapes, a 2×2
# max-pool halves the resolution, then the map is flattened to a 512-vector and goes through dropout and two linear layers to 10
# **logits**. There is no softmax at the end: `nn.CrossEntropyLoss` applies log-softmax itself, which is numerically more stable
# (the Keras original used `softmax` + `sparse_categorical_crossentropy`, which amounts to the same thing).

# %%
print(inspect.getsource(DigitsCNN.__init__))

x = X_train[:1]
model = DigitsCNN().eval()  # eval(): dropout is the identity here
print(f"{'layer':38s} {'output shape':>16s} {'params':>7s}")
print(f"{'input':38s} {str(tuple(x.shape)):>16s}")
for layer in [*model.features, *model.classifier]:
    x = layer(x)
    n_params = sum(p.numel() for p in layer.parameters())
    print(f"{str(layer)[:38]:38s} {str(tuple(x.shape)):>16s} {n_params:7d}")
print(f"total parameters: {sum(p.numel() for p in model.parameters()):,}")

# %% [markdown] lang="zh"
# ## 训练：验证集负责挑模型
#
# `labkit.fit()` 是一个通用的训练循环（Adam，每个 epoch 结束后在验证集上算损失和准确率）。训练结束时，它把权重恢复到
# **验证损失最低**的那个 epoch——这就是模型选择，用的是验证集；测试集此时还没有碰过。
# `train_digits_cnn()` 把本实验的配方（固定种子初始化、学习率 2e-3、30 个 epoch）固定下来，GAN、模型服务和可解释性实验调用它，得到的是同一个分类器。

# %% [markdown] lang="en"
# ## Training: the validation set picks the model
#
# `fit()` is a generic training loop (Adam; after each epoch it computes loss and accuracy on the validation set). At the end it
# restores the weights of the epoch with the **lowest validation loss** — that is model selection, done on the validation set;
# the test set has not been touched yet. `train_digits_cnn()` pins down this lab's recipe (seeded initialisation, learning
# rate 2e-3, 30 epochs); the GAN, model-serving and interpretability labs call it and get the same classifier.

# %%
print(inspect.getsource(fit))
print(inspect.getsource(train_digits_cnn))
model, history = train_digits_cnn(loaders)

# %%
epochs = history["epoch"]
fig, (ax1, ax2) = plt.subplots(1, 2)
ax1.plot(epochs, history["train_loss"], label="train")
ax1.plot(epochs, history["val_loss"], label="validation")
ax1.axvline(history["best_epoch"], color="grey", ls=":", label="selected epoch")
ax1.set(xlabel="epoch", ylabel="cross-entropy loss", yscale="log", title="Loss")
ax1.legend()
ax2.plot(epochs, history["train_acc"], label="train")
ax2.plot(epochs, history["val_acc"], label="validation")
ax2.set(xlabel="epoch", ylabel="accuracy", ylim=(0.5, 1.0), title="Accuracy")
ax2.legend()
fig.tight_layout()
plt.show()

# %% [markdown] lang="zh"
# 训练曲线上的"train"是每个 epoch 内各批次的平均值（带 Dropout），所以前几个 epoch 它可能比验证损失还高；
# 要判断过拟合，看的是验证损失是否开始回升。

# %% [markdown] lang="en"
# The "train" curve averages the mini-batches within each epoch (with dropout on), so early on it can sit above the validation
# loss; to spot overfitting, watch whether the validation loss starts to rise.

# %% [markdown] lang="zh"
# ## 测试集：只用一次
#
# 模型选定之后，才在测试集上评估一次。混淆矩阵的第 *i* 行第 *j* 列是"真实为 *i*、预测为 *j*"的图片数，对角线以外就是错误。

# %% [markdown] lang="en"
# ## Test set: used once
#
# Only after the model is chosen do we evaluate it once on the test set. Row *i*, column *j* of the confusion matrix counts images
# of true class *i* predicted as *j*; everything off the diagonal is an error.

# %%
test_loss, test_acc = evaluate(model, loaders["test"])
X_test, y_test = loaders["test"].dataset.tensors
model.eval()
with torch.no_grad():
    y_pred = model(X_test).argmax(1)
cm = confusion_matrix(y_test, y_pred, labels=range(10))
print(f"test loss {test_loss:.4f}, test accuracy {test_acc:.4f} ({int(cm.trace())}/{len(y_test)})")

fig, ax = plt.subplots(figsize=(4, 3.6))
im = ax.imshow(cm, cmap="Blues")
for i in range(10):
    for j in range(10):
        if cm[i, j]:
            ax.text(j, i, cm[i, j], ha="center", va="center", fontsize=7,
                    color="white" if cm[i, j] > cm.max() / 2 else "black")
ax.set(xticks=range(10), yticks=range(10), xlabel="predicted", ylabel="true", title="Confusion matrix (test)")
ax.grid(False)
plt.show()

# %% [markdown] lang="zh"
# ## 检查
#
# 断言：在训练和模型选择都没用过的测试集上，准确率不低于 97 %。

# %% [markdown] lang="en"
# ## Check
#
# Asserted: accuracy on the test set, which neither training nor model selection used, is at least 97 %.

# %%
assert test_acc >= 0.97, f"test accuracy {test_acc:.3f} < 0.97"
print(f"check passed: test accuracy {test_acc:.4f} >= 0.97 (selected epoch {history['best_epoch']}, "
      f"trained in {history['seconds']:.1f} s)")
