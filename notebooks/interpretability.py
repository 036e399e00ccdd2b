# %% [markdown] lang="zh"
# # 实验：模型可解释性：置换重要性、部分依赖与积分梯度
#
# 来源：第 004 篇《AI 大模型创业：如何利用用户优势？》第 14 题（[章节](../chapters/user-data-and-training.md#q-interpretability)）。
#
# **原文的问题：** 原文只列出"模型解释工具（SHAP、LIME）""可视化""特征重要性"等名字，没有说明它们各自回答什么问题、
# 怎样验证一个解释是对的；还把事后解释说成能"帮助用户理解模型如何做出预测"（章节里有勘误）。
#
# **本实验做什么：** 先用一个**已知答案**的合成表格数据集：$y$ 非线性地依赖 $x_0$、$x_1$，微弱地依赖 $x_2$，$x_3..x_7$ 是纯噪声，
# 另有一列与 $x_0$ 相关、但不参与生成 $y$ 的特征。训练梯度提升树后，在留出数据上计算**置换重要性**（带误差棒），
# 画出真实特征的**部分依赖**曲线并与真实函数对照，再看相关特征如何"分摊"重要性。然后在 `labkit` 的手写数字 CNN 上，
# 用 PyTorch 手写**梯度显著图**和**积分梯度**，把归因热图画在输入图片旁边，并验证积分梯度的"完备性"。

# %% [markdown] lang="en"
# # Lab: interpretability: permutation importance, partial dependence and integrated gradients
#
# Source: article 004, "AI startups with large models: how to use the user advantage", question 14 ([chapter](../chapters/user-data-and-training.md#q-interpretability)).
#
# **What was wrong with the original:** the article only names "explanation tools (SHAP, LIME)", "visualisation", "feature
# importance" and the like, without saying which question each one answers or how to check that an explanation is right; and it
# presents post-hoc explanations as "helping users understand how the model makes predictions" (the chapter corrects this).
#
# **What this lab does:** first, a synthetic tabular dataset **with a known answer**: $y$ depends non-linearly on $x_0$ and
# $x_1$, weakly on $x_2$, $x_3..x_7$ are pure noise, and one more column is correlated with $x_0$ but plays no part in making
# $y$. After training gradient-boosted trees we compute **permutation importance** on held-out data (with error bars), plot the
# **partial dependence** of the true features against the true functions, and see how a correlated feature "shares" importance.
# Then, on the digits CNN from `labkit`, we write **gradient saliency** and **integrated gradients** in PyTorch, draw the
# attribution heat maps next to the input images, and verify the "completeness" of integrated gradients.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.inspection import PartialDependenceDisplay, permutation_importance
from sklearn.model_selection import train_test_split

from labkit import digits_loaders, limit_threads, seed_everything, setup_plots, train_digits_cnn

seed_everything(0, threads=1)  # small models on a shared CPU: one thread is fastest, and reproducible
limit_threads(1)
setup_plots()

# %% [markdown] lang="zh"
# ## 一个知道答案的数据集
#
# 2,000 个样本，$x_0..x_7$ 独立地服从 $U(-1,1)$，
#
# $$y = 2\sin(\pi x_0) + 2x_1^2 + 0.5\,x_2 + \varepsilon,\qquad \varepsilon\sim\mathcal N(0,0.3^2),$$
#
# 再加一列 $x_{0}' = x_0 + \mathcal N(0, 0.3^2)$（与 $x_0$ 的相关系数约 0.89），它**不参与**生成 $y$。
# 三个真实特征的贡献差别很大：按方差算，$x_0$ 约占 79 %，$x_1$ 约 14 %，$x_2$ 只有约 3 %。
# 留出 25 % 作为测试集：重要性必须在模型没见过的数据上算，否则衡量的是"模型记住了什么"而不是"模型靠什么泛化"。

# %% [markdown] lang="en"
# ## A dataset whose answer we know
#
# 2,000 samples, $x_0..x_7$ independent $U(-1,1)$,
#
# $$y = 2\sin(\pi x_0) + 2x_1^2 + 0.5\,x_2 + \varepsilon,\qquad \varepsilon\sim\mathcal N(0,0.3^2),$$
#
# plus a column $x_{0}' = x_0 + \mathcal N(0, 0.3^2)$ (correlation with $x_0$ about 0.89) that plays **no part** in making $y$.
# The three true features contribute very differently: by variance, $x_0$ accounts for about 79 %, $x_1$ about 14 % and $x_2$ only
# about 3 %. A quarter is held out as the test set: importance has to be computed on data the model has not seen, otherwise it
# measures what the model memorised rather than what it relies on to generalise.

# %%
rng = np.random.default_rng(0)
n = 2000
X = rng.uniform(-1, 1, size=(n, 8))
X = np.column_stack([X, X[:, 0] + rng.normal(0, 0.3, n)])
names = [f"x{i}" for i in range(8)] + ["x0' (corr. with x0)"]
true_effects = {0: lambda v: 2 * np.sin(np.pi * v), 1: lambda v: 2 * v ** 2, 2: lambda v: 0.5 * v}
y = sum(f(X[:, j]) for j, f in true_effects.items()) + rng.normal(0, 0.3, n)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)

model = HistGradientBoostingRegressor(random_state=0).fit(X_train, y_train)
print(f"corr(x0, x0') = {np.corrcoef(X[:, 0], X[:, 8])[0, 1]:.2f}; test R^2 = {model.score(X_test, y_test):.3f}")

# %% [markdown] lang="zh"
# ## 置换重要性
#
# 把测试集里某一列随机打乱（切断它与 $y$ 的关系，而保持它的分布不变），看模型得分（这里是 $R^2$）下降多少：
#
# $$I_j = s - \frac1K\sum_{k=1}^{K} s_{k,j},$$
#
# $s$ 是原始得分，$s_{k,j}$ 是第 $k$ 次打乱第 $j$ 列后的得分。重复 $K=10$ 次，误差棒是这 10 次的标准差。
# 这种方法与模型无关，只需要能调用 `predict`。它回答的是"**这个模型**在这份数据上有多依赖这一列"，而不是"这个特征在现实中是否重要"。

# %% [markdown] lang="en"
# ## Permutation importance
#
# Shuffle one column of the test set (which cuts its link to $y$ while keeping its distribution) and see how far the model's
# score (here $R^2$) drops:
#
# $$I_j = s - \frac1K\sum_{k=1}^{K} s_{k,j},$$
#
# where $s$ is the original score and $s_{k,j}$ the score after the $k$-th shuffle of column $j$. It is repeated $K=10$ times and
# the error bars are the standard deviation over those 10. The method is model-agnostic: all it needs is `predict`. It answers
# "how much does **this model** rely on this column, on this data", not "does this feature matter in the real world".

# %%
start = time.perf_counter()
imp = permutation_importance(model, X_test, y_test, n_repeats=10, random_state=0)
print(f"permutation importance: {len(names)} features x 10 shuffles in {time.perf_counter() - start:.1f} s")
order = np.argsort(imp.importances_mean)[::-1]
for j in order:
    print(f"{names[j]:20s} {imp.importances_mean[j]:7.4f} +/- {imp.importances_std[j]:.4f}")

fig, ax = plt.subplots()
ax.barh([names[j] for j in order], imp.importances_mean[order], xerr=imp.importances_std[order],
        color=["tab:orange" if j in true_effects else "tab:gray" for j in order])
ax.set_xscale("symlog", linthresh=0.01)
ax.set(xlabel="drop in test R^2 when shuffled (symlog scale)", title="Permutation importance (orange: true features)")
ax.invert_yaxis()
plt.show()

# %% [markdown] lang="zh"
# 结果与生成过程一致：$x_0 \gg x_1 \gg x_2$，五个噪声特征的重要性在 0 附近（有的略小于 0：打乱之后碰巧得分更高，纯属随机）。
# 与 $x_0$ 相关的那一列几乎为 0——但这**不**说明它与 $y$ 无关，只说明模型手里已经有了更干净的 $x_0$。下面把 $x_0$ 拿掉重新训练：

# %% [markdown] lang="en"
# The result matches how the data was made: $x_0 \gg x_1 \gg x_2$, and the five noise features sit near 0 (some slightly below:
# the shuffle happened to score a little higher, by chance). The column correlated with $x_0$ is near 0 too, which does **not**
# mean it is unrelated to $y$; it means the model already has the cleaner $x_0$. Retrain without $x_0$:

# %%
keep = [j for j in range(len(names)) if j != 0]
model_wo = HistGradientBoostingRegressor(random_state=0).fit(X_train[:, keep], y_train)
imp_wo = permutation_importance(model_wo, X_test[:, keep], y_test, n_repeats=10, random_state=0)
proxy_before, proxy_after = imp.importances_mean[8], imp_wo.importances_mean[keep.index(8)]
print(f"test R^2 with x0: {model.score(X_test, y_test):.3f}, without x0: {model_wo.score(X_test[:, keep], y_test):.3f}")
print(f"importance of x0' with x0 in the model: {proxy_before:.4f}; without x0: {proxy_after:.4f}")
print("ranking without x0:", [names[keep[j]] for j in np.argsort(imp_wo.importances_mean)[::-1][:3]])

# %% [markdown] lang="zh"
# 没有 $x_0$ 时，模型转而依赖 $x_0'$，它的重要性从约 0 跳到最大；$R^2$ 从 0.95 降到约 0.59，因为 $x_0'$ 只是 $x_0$ 的带噪替身。这就是章节里说的相关特征"分摊"重要性：
# 两列相关的特征同时在模型里时，打乱其中一列，模型还能从另一列拿到部分信息，两者的重要性都被低估；
# 而且打乱会造出现实中不存在的组合（$x_0$ 很大而 $x_0'$ 很小），模型在这些点上是外推。对策是把相关特征**成组**打乱，
# 或先按相关性聚类、每组留一个代表。

# %% [markdown] lang="en"
# Without $x_0$ the model turns to $x_0'$, whose importance jumps from about 0 to the largest; $R^2$ falls from 0.95 to about 0.59,
# because $x_0'$ is only a noisy stand-in for $x_0$. This is the "sharing" of importance
# by correlated features that the chapter mentions: when two correlated columns are both in the model, shuffling one leaves part of
# the information in the other, so both look less important than they are; and shuffling creates combinations that never occur
# (large $x_0$ with small $x_0'$), where the model extrapolates. Remedies: shuffle correlated features **as a group**, or cluster
# features by correlation and keep one per cluster.

# %% [markdown] lang="zh"
# ## 部分依赖
#
# 置换重要性说"多重要"，部分依赖（PDP）说"怎么影响"：把所有样本的第 $j$ 列都设成同一个值 $v$，对预测取平均，
#
# $$\mathrm{PD}_j(v)=\frac1n\sum_{i=1}^{n}\hat f\big(v, \mathbf x_{i,\setminus j}\big).$$
#
# 虚线是真实函数（平移到与 PDP 同一高度，因为 PDP 只确定到一个常数）。特征之间独立时，PDP 能还原加性模型的各个分量；
# 特征相关时，它同样会在不真实的组合上求平均，要配合 ICE 曲线或 ALE 图看。

# %% [markdown] lang="en"
# ## Partial dependence
#
# Permutation importance says "how much", partial dependence (PDP) says "how": set column $j$ of every sample to the same value
# $v$ and average the predictions,
#
# $$\mathrm{PD}_j(v)=\frac1n\sum_{i=1}^{n}\hat f\big(v, \mathbf x_{i,\setminus j}\big).$$
#
# The dashed lines are the true functions (shifted to the PDP's level, since a PDP is only defined up to a constant). With
# independent features a PDP recovers the components of an additive model; with correlated features it too averages over
# combinations that never occur, so look at ICE curves or ALE plots alongside.

# %%
fig, axes = plt.subplots(1, 3, figsize=(7.2, 2.6))
display = PartialDependenceDisplay.from_estimator(model, X_test, features=[0, 1, 2], feature_names=names, ax=axes)
pd_errors = {}
for ax, j, pd_line in zip(display.axes_.ravel(), (0, 1, 2), display.pd_results):
    grid, pdp = pd_line["grid_values"][0], pd_line["average"][0]
    truth = true_effects[j](grid)
    truth += pdp.mean() - truth.mean()
    ax.plot(grid, truth, "k--", lw=1, label="true effect")
    pd_errors[names[j]] = float(np.sqrt(np.mean((pdp - truth) ** 2)))
display.axes_.ravel()[0].legend(fontsize=8)
fig.tight_layout()
plt.show()
print("RMS gap between PDP and true effect:", {k: round(v, 3) for k, v in pd_errors.items()})

# %% [markdown] lang="zh"
# ## 图像模型：梯度显著图和积分梯度
#
# 对可微模型，可以问"**这一次**预测靠的是哪些像素"。记 $F(x)$ 为目标类别的 logit：
#
# - **显著图**：$\left|\partial F/\partial x_i\right|$，即输入的微小变化对输出的局部影响。算一次梯度就行，但它只描述 $x$ 附近，
#   ReLU 饱和的地方梯度为 0，重要的像素也可能显示为 0。
# - **积分梯度**（IG，Sundararajan 等，2017）：从基线 $x'$（这里是全黑图，即"没有笔画"）沿直线走到 $x$，把梯度累积起来，
#
#   $$\mathrm{IG}_i(x)=(x_i-x'_i)\int_0^1\frac{\partial F\big(x'+\alpha(x-x')\big)}{\partial x_i}\,d\alpha
#   \approx (x_i-x'_i)\,\frac1m\sum_{k=1}^{m}\frac{\partial F\big(x'+\tfrac{k-\frac12}{m}(x-x')\big)}{\partial x_i}.$$
#
#   它满足**完备性**：$\sum_i \mathrm{IG}_i(x)=F(x)-F(x')$，即所有像素的归因加起来正好等于预测相对基线的变化。
#   积分用 $m=64$ 个中点的黎曼和近似，完备性就是检验近似够不够准的尺子。
#
# CNN 用 `labkit` 里的 `train_digits_cnn` 训练（与数字识别实验同一个配方）。

# %% [markdown] lang="en"
# ## An image model: gradient saliency and integrated gradients
#
# For a differentiable model we can ask which pixels **this particular** prediction relied on. Let $F(x)$ be the target class's
# logit:
#
# - **saliency**: $\left|\partial F/\partial x_i\right|$, the local effect of a small change of the input on the output. One
#   gradient is enough, but it only describes the neighbourhood of $x$; where a ReLU is saturated the gradient is 0, and an
#   important pixel can show as 0.
# - **integrated gradients** (IG, Sundararajan et al., 2017): walk in a straight line from a baseline $x'$ (here an all-black image,
#   "no stroke") to $x$ and accumulate the gradients,
#
#   $$\mathrm{IG}_i(x)=(x_i-x'_i)\int_0^1\frac{\partial F\big(x'+\alpha(x-x')\big)}{\partial x_i}\,d\alpha
#   \approx (x_i-x'_i)\,\frac1m\sum_{k=1}^{m}\frac{\partial F\big(x'+\tfrac{k-\frac12}{m}(x-x')\big)}{\partial x_i}.$$
#
#   It satisfies **completeness**: $\sum_i \mathrm{IG}_i(x)=F(x)-F(x')$, the attributions of all pixels add up exactly to the
#   change of the prediction from the baseline. The integral is approximated by a midpoint Riemann sum with $m=64$ steps, and
#   completeness is the yardstick for whether the approximation is accurate enough.
#
# The CNN is trained with `train_digits_cnn` from `labkit` (the same recipe as the digit-recognition lab).

# %%
loaders = digits_loaders(seed=0)
cnn, history = train_digits_cnn(loaders, verbose=False)
X_digits, y_digits = loaders["test"].dataset.tensors
with torch.no_grad():
    test_acc = (cnn(X_digits).argmax(1) == y_digits).float().mean().item()
print(f"CNN trained in {history['seconds']:.1f} s (best epoch {history['best_epoch']}); test accuracy {test_acc:.4f}")


def saliency(model, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """|dF/dx| for the target logit F, one image per row of x."""
    x = x.clone().requires_grad_(True)
    model(x).gather(1, target[:, None]).sum().backward()
    return x.grad.abs()


def integrated_gradients(model, x: torch.Tensor, target: torch.Tensor, baseline: torch.Tensor | None = None,
                         steps: int = 64) -> torch.Tensor:
    """IG with a midpoint Riemann sum: all steps of all images go through the model in one batch."""
    baseline = torch.zeros_like(x) if baseline is None else baseline
    alphas = (torch.arange(steps, dtype=x.dtype) + 0.5) / steps  # (m,)
    path = baseline[None] + alphas[:, None, None, None, None] * (x - baseline)[None]  # (m, N, 1, 8, 8)
    path = path.reshape(-1, *x.shape[1:]).requires_grad_(True)
    logits = model(path).gather(1, target.repeat(steps)[:, None])
    grads, = torch.autograd.grad(logits.sum(), path)
    return (x - baseline) * grads.reshape(steps, *x.shape).mean(0)


# one test image per digit 0..9
idx = torch.stack([torch.nonzero(y_digits == d)[0, 0] for d in range(10)])
x, target = X_digits[idx], y_digits[idx]
start = time.perf_counter()
sal = saliency(cnn, x, target)
ig = integrated_gradients(cnn, x, target)
with torch.no_grad():
    f_x = cnn(x).gather(1, target[:, None]).squeeze(1)
    f_base = cnn(torch.zeros_like(x)).gather(1, target[:, None]).squeeze(1)
gap = ig.sum(dim=(1, 2, 3)) - (f_x - f_base)
rel_err = (gap.abs() / (f_x - f_base).abs()).max().item()
print(f"saliency + IG ({64 * len(x)} forward/backward passes) in {time.perf_counter() - start:.2f} s")
print("sum of IG   :", np.round(ig.sum(dim=(1, 2, 3)).numpy(), 3))
print("F(x) - F(x'):", np.round((f_x - f_base).numpy(), 3))
print(f"completeness: largest relative gap {rel_err:.2e}")

# %%
fig, axes = plt.subplots(3, 10, figsize=(7.2, 2.6))
for c in range(10):
    axes[0, c].imshow(x[c, 0], cmap="gray_r")
    axes[0, c].set_title(str(int(target[c])), fontsize=8)
    axes[1, c].imshow(sal[c, 0], cmap="Reds")
    lim = ig[c].abs().max().item()
    axes[2, c].imshow(ig[c, 0], cmap="bwr", vmin=-lim, vmax=lim)
for ax in axes.flat:
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
for r, label in enumerate(["input", "saliency", "IG"]):
    axes[r, 0].set_ylabel(label, fontsize=8)
fig.suptitle("Attributions for the true class (IG: red = for, blue = against)", fontsize=9)
plt.show()

# %% [markdown] lang="zh"
# 显著图比较"散"：它显示的是哪些像素**稍微变一点**会影响输出，包括空白处；积分梯度乘上了 $(x_i-x_i')$，
# 只落在有笔画的像素上，红色是支持该类别的笔画，蓝色是反对的。
#
# 热图好看不代表解释可信。一个简单的**忠实性**测试（删除测试）：把 IG 认为最重要的 8 个像素置 0，看目标 logit 降多少，
# 与随机置 0 同样多的笔画像素对比。如果解释抓住了模型真正依赖的东西，前者应该降得多得多。

# %% [markdown] lang="en"
# Saliency is more diffuse: it shows which pixels would change the output if nudged **a little**, blank ones included; integrated
# gradients multiply by $(x_i-x_i')$, so they land only on stroke pixels, red for strokes that support the class and blue for
# those against it.
#
# A pretty heat map is not a trustworthy explanation. A simple **faithfulness** test (deletion): set the 8 pixels IG ranks highest
# to 0 and see how far the target logit falls, compared with zeroing as many randomly chosen stroke pixels. If the explanation
# captured what the model relies on, the first drop should be much larger.

# %%
def logit_after_zeroing(pixel_sets):
    x_del = x.clone().reshape(len(x), -1)
    for row, pixels in enumerate(pixel_sets):
        x_del[row, pixels] = 0.0
    with torch.no_grad():
        return cnn(x_del.reshape(x.shape)).gather(1, target[:, None]).squeeze(1)


top_ig = [torch.argsort(ig[c].flatten(), descending=True)[:8] for c in range(10)]
gen = torch.Generator().manual_seed(0)
random_strokes = [torch.nonzero(x[c].flatten() > 0).squeeze(1) for c in range(10)]
random_strokes = [p[torch.randperm(len(p), generator=gen)[:8]] for p in random_strokes]
drop_ig = (f_x - logit_after_zeroing(top_ig)).mean().item()
drop_random = (f_x - logit_after_zeroing(random_strokes)).mean().item()
print(f"mean drop of the target logit: top-8 IG pixels zeroed {drop_ig:.2f}, 8 random stroke pixels zeroed {drop_random:.2f}")

# %% [markdown] lang="zh"
# 小结：置换重要性和 PDP 回答"模型整体上靠什么、怎么用"，积分梯度回答"这一次预测靠什么"。它们都是对**模型**的描述，
# 不是对世界的因果结论；要先在已知答案的数据上、用完备性和删除测试这类可检验的性质确认工具本身没用错，再拿去解释真实模型。

# %% [markdown] lang="en"
# In short: permutation importance and PDPs answer "what does the model rely on overall, and how", integrated gradients answer
# "what did this prediction rely on". Both describe the **model**, not causes in the world. Check the tools first, on data with a
# known answer and with testable properties such as completeness and the deletion test, before using them to explain a real model.

# %% [markdown] lang="zh"
# ## 检查
#
# 断言：
#
# - 置换重要性最高的三个特征正好是生成 $y$ 的 $x_0, x_1, x_2$，顺序与它们的真实贡献一致；五个纯噪声特征的重要性都低于 0.01，
#   且都低于最弱的真实特征 $x_2$；
# - 去掉 $x_0$ 后，相关特征 $x_0'$ 的重要性至少增加 0.5；
# - 积分梯度满足完备性：10 张图上 $\sum_i\mathrm{IG}_i$ 与 $F(x)-F(x')$ 的相对差距都小于 1 %；
# - 删除 IG 最重要的像素，目标 logit 的下降至少是随机删除的 2 倍。

# %% [markdown] lang="en"
# ## Check
#
# Asserted:
#
# - the three features with the highest permutation importance are exactly $x_0, x_1, x_2$, the ones that generate $y$, in the order
#   of their true contributions; each of the five pure-noise features has importance below 0.01 and below the weakest true
#   feature, $x_2$;
# - without $x_0$, the importance of the correlated feature $x_0'$ rises by at least 0.5;
# - integrated gradients satisfy completeness: on all 10 images, $\sum_i\mathrm{IG}_i$ and $F(x)-F(x')$ differ by less than 1 %;
# - zeroing the top IG pixels lowers the target logit at least twice as much as zeroing random stroke pixels.

# %%
top3 = [names[j] for j in order[:3]]
noise = imp.importances_mean[3:8]
assert top3 == ["x0", "x1", "x2"], f"top-3 permutation importances are {top3}"
assert noise.max() < 0.01 and noise.max() < imp.importances_mean[2], f"noise importances {np.round(noise, 4)}"
assert proxy_after - proxy_before >= 0.5, f"x0' importance only went from {proxy_before:.3f} to {proxy_after:.3f}"
assert rel_err < 0.01, f"IG completeness gap {rel_err:.2e} >= 1 %"
assert drop_ig >= 2 * drop_random, f"deletion test: IG drop {drop_ig:.2f} vs random {drop_random:.2f}"
print(f"check passed: top-3 {top3} ({', '.join(f'{imp.importances_mean[j]:.3f}' for j in order[:3])}), "
      f"max noise {noise.max():.4f}; x0' {proxy_before:.3f} -> {proxy_after:.3f}; IG completeness gap {rel_err:.1e}; "
      f"deletion drop {drop_ig:.2f} vs {drop_random:.2f}")
