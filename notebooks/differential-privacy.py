# %% [markdown] lang="zh"
# # 实验：差分隐私的拉普拉斯机制
#
# 来源：第 003 篇《大模型在 AI 创业公司产品策略中的创新》第 5 题"模型安全性和隐私保护"（[章节](../chapters/product-strategy.md#q-model-security-privacy)）。
#
# **原代码的问题：**
#
# - `from privacy import LaplaceMechanism` 导入的包和类并不存在；`np` 也没有导入；
# - 给拉普拉斯机制传了 δ：拉普拉斯机制提供的是**纯** ε-差分隐私，δ 属于 (ε, δ)-差分隐私（例如高斯机制）；
# - 噪声没有按查询的**敏感度**缩放；数据也没有裁剪到有界区间，而无界数据的均值敏感度是无穷大。
#
# **本实验做什么：** 正确实现有界均值的拉普拉斯机制（先裁剪到 [lower, upper]，敏感度 (upper − lower)/n，噪声尺度 b = Δf/ε），
# 再用大量抽样检验它：噪声的均值和标准差是否符合理论（标准差 √2·b），相邻数据集上输出密度之比是否不超过 e^ε；
# 最后画出隐私–效用曲线：平均绝对误差随 ε 的变化，理论值与实测值对照。

# %% [markdown] lang="en"
# # Lab: the Laplace mechanism for differential privacy
#
# Source: article 003, 《大模型在 AI 创业公司产品策略中的创新》 ("Innovation with large models in AI startups' product strategy"), question 5, "model security and privacy protection" ([chapter](../chapters/product-strategy.md#q-model-security-privacy)).
#
# **What was wrong with the original code:**
#
# - `from privacy import LaplaceMechanism` imports a package and class that do not exist; `np` is not imported either;
# - it passes a δ to the Laplace mechanism: the Laplace mechanism gives **pure** ε-differential privacy; δ belongs to
#   (ε, δ)-differential privacy (the Gaussian mechanism, for example);
# - the noise is not scaled to the query's **sensitivity**, and the data is not clipped to a bounded range — the mean of unbounded
#   data has infinite sensitivity.
#
# **What this lab does:** it implements the Laplace mechanism for a bounded mean correctly (clip to [lower, upper], sensitivity
# (upper − lower)/n, noise scale b = Δf/ε), then tests it with many draws: do the noise's mean and standard deviation match
# theory (standard deviation √2·b), and is the ratio of output densities on neighbouring datasets at most e^ε? Finally it
# plots the privacy–utility curve: mean absolute error against ε, theory next to measurement.

# %%
import matplotlib.pyplot as plt
import numpy as np

from labkit import seed_everything, setup_plots

seed_everything(0)
setup_plots()
rng = np.random.default_rng(0)

# %% [markdown] lang="zh"
# ## 数据与敏感度
#
# 设想一份数据：1,000 个用户每天使用产品的分钟数（按固定种子生成，右偏，少数人用得很久）。我们要发布它的**均值**。
#
# 差分隐私要求：任意两个只差一个人的"相邻"数据集，机制输出的分布几乎一样。这里采用"替换一条记录"的相邻定义，n 固定且公开。
# 把每个值裁剪到 [lower, upper] 之后，替换一个人最多让总和变化 upper − lower，均值变化最多
#
# $$\Delta f = \frac{\text{upper} - \text{lower}}{n}.$$
#
# 这就是**敏感度**。不裁剪的话，一个人可以填一个极大的数，敏感度没有上界，多大的噪声都不够。
# 边界要事先根据业务常识定好（这里 0–120 分钟），不能从数据里算出来——那样边界本身就泄露了信息。
# 裁剪会带来偏差（超过 120 的值被截断），这是为了有界敏感度付出的代价。

# %% [markdown] lang="en"
# ## Data and sensitivity
#
# Picture a dataset: the daily minutes 1,000 users spend in a product (generated with a fixed seed; right-skewed, a few heavy
# users). We want to release its **mean**.
#
# Differential privacy asks that on any two "neighbouring" datasets, differing in one person, the mechanism's output distribution
# is nearly the same. Here neighbours differ by *replacing* one record, with n fixed and public. Once each value is clipped to
# [lower, upper], replacing one person changes the sum by at most upper − lower, so the mean by at most
#
# $$\Delta f = \frac{\text{upper} - \text{lower}}{n}.$$
#
# That is the **sensitivity**. Without clipping, one person could enter a huge number: the sensitivity is unbounded and no
# amount of noise is enough. The bounds must be fixed in advance from domain knowledge (0–120 minutes here), not computed from
# the data — that would leak information through the bounds themselves. Clipping adds bias (values above 120 are cut), the price
# of a bounded sensitivity.

# %%
N_USERS, LOWER, UPPER = 1_000, 0.0, 120.0
minutes = rng.gamma(shape=2.0, scale=15.0, size=N_USERS)
clipped = np.clip(minutes, LOWER, UPPER)
sensitivity = (UPPER - LOWER) / N_USERS
print(f"n = {N_USERS}, raw mean {minutes.mean():.3f} min, max {minutes.max():.1f}; "
      f"{(minutes > UPPER).sum()} values clipped; clipped mean {clipped.mean():.3f}")
print(f"sensitivity of the clipped mean: ({UPPER:.0f} - {LOWER:.0f}) / {N_USERS} = {sensitivity:.3f} min")


# %% [markdown] lang="zh"
# ## 机制
#
# 拉普拉斯分布 $\mathrm{Lap}(b)$ 的密度是 $\frac{1}{2b}e^{-|x|/b}$。给真实均值加上 $b=\Delta f/\varepsilon$ 的拉普拉斯噪声，
# 对任意相邻数据集 $D, D'$ 和任意输出 $z$，两个密度之比 $e^{(|z-f(D')|-|z-f(D)|)/b}\le e^{|f(D)-f(D')|/b}\le e^{\varepsilon}$——这就是 ε-差分隐私，
# 不需要 δ。函数的 `size` 参数可以一次抽很多次输出：那只是为了**检验**机制；真正发布时每发布一次就花掉一份 ε（顺序组合：k 次发布共花 kε）。

# %% [markdown] lang="en"
# ## The mechanism
#
# The Laplace distribution $\mathrm{Lap}(b)$ has density $\frac{1}{2b}e^{-|x|/b}$. Add Laplace noise with $b=\Delta f/\varepsilon$
# to the true mean; then for any neighbouring $D, D'$ and any output $z$, the ratio of the two densities is
# $e^{(|z-f(D')|-|z-f(D)|)/b}\le e^{|f(D)-f(D')|/b}\le e^{\varepsilon}$ — that is ε-differential privacy, with no δ. The
# function's `size` argument draws many outputs at once: only to **test** the mechanism. In a real release every output spends
# ε (sequential composition: k releases cost kε).

# %%
def laplace_mean(x, lower: float, upper: float, epsilon: float, rng: np.random.Generator, size=None):
    """ε-differentially private mean of x (replace-one neighbours, n = len(x) public)."""
    if epsilon <= 0:
        raise ValueError("epsilon must be positive")
    x = np.clip(np.asarray(x, dtype=float), lower, upper)
    scale = (upper - lower) / len(x) / epsilon  # b = sensitivity / epsilon
    return x.mean() + rng.laplace(0.0, scale, size=size)


EPSILON = 1.0
print(f"one release at epsilon = {EPSILON}: {laplace_mean(minutes, LOWER, UPPER, EPSILON, rng):.3f} "
      f"(true clipped mean {clipped.mean():.3f}, noise scale b = {sensitivity / EPSILON:.3f})")

# %% [markdown] lang="zh"
# ## 检验一：噪声的分布
#
# 抽 400,000 次输出，减去真实均值得到噪声。理论上噪声均值为 0、标准差为 $\sqrt2\,b$、平均绝对值为 $b$。
# 抽样误差：标准差估计的相对误差约为 $\tfrac12\sqrt{5/N}\approx 0.2\%$（拉普拉斯分布的峰度是 6），所以 3 % 的容差绰绰有余。

# %% [markdown] lang="en"
# ## Test 1: the noise distribution
#
# Draw 400,000 outputs and subtract the true mean to get the noise. In theory its mean is 0, its standard deviation
# $\sqrt2\,b$ and its mean absolute value $b$. Sampling error: the relative error of the estimated standard deviation is about
# $\tfrac12\sqrt{5/N}\approx 0.2\%$ (the Laplace distribution's kurtosis is 6), so a 3 % tolerance is ample.

# %%
N_DRAWS = 400_000
b = sensitivity / EPSILON
noise = laplace_mean(minutes, LOWER, UPPER, EPSILON, rng, size=N_DRAWS) - clipped.mean()
std_ratio = noise.std() / (np.sqrt(2) * b)
mean_in_se = noise.mean() / (np.sqrt(2) * b / np.sqrt(N_DRAWS))  # the mean, in standard errors
print(f"noise mean {noise.mean():+.5f} ({mean_in_se:+.2f} standard errors from 0)")
print(f"noise std  {noise.std():.5f} vs theory sqrt(2)*b = {np.sqrt(2) * b:.5f} (ratio {std_ratio:.4f})")
print(f"mean |noise| {np.abs(noise).mean():.5f} vs theory b = {b:.5f}")

grid = np.linspace(-8 * b, 8 * b, 400)
fig, ax = plt.subplots()
ax.hist(noise, bins=160, range=(-8 * b, 8 * b), density=True, alpha=0.5, label="measured noise")
ax.plot(grid, np.exp(-np.abs(grid) / b) / (2 * b), color="C3", label=f"Laplace density, b = {b:.3f}")
ax.set(xlabel="noise added to the mean (minutes)", ylabel="density", yscale="log", title="Noise matches Lap(b)")
ax.legend()
plt.show()

# %% [markdown] lang="zh"
# ## 检验二：相邻数据集上的隐私损失
#
# 构造最坏情况的相邻数据集：把一个取值为 lower 的用户换成 upper，均值正好变化 Δf。在两个数据集上各抽 400,000 次输出，
# 按区间统计频率，计算每个区间的**隐私损失** $\ln\frac{P[M(D)\in S]}{P[M(D')\in S]}$。理论上它处处落在 $[-\varepsilon, \varepsilon]$ 内：
# 在两个真实均值之间线性变化，两侧恰好等于 $\pm\varepsilon$——界是紧的，ε 正是最坏情况下的隐私损失。
# 只统计两边都至少有 1,000 个样本的区间，误差带是 ±2 个标准误差。

# %% [markdown] lang="en"
# ## Test 2: privacy loss on neighbouring datasets
#
# Build the worst-case neighbour: replace one user whose value is lower with one at upper, which moves the mean by exactly
# Δf. Draw 400,000 outputs on each dataset, bin them, and compute each bin's **privacy loss**
# $\ln\frac{P[M(D)\in S]}{P[M(D')\in S]}$. In theory it lies within $[-\varepsilon, \varepsilon]$ everywhere: linear between
# the two true means and exactly $\pm\varepsilon$ outside them — the bound is tight, and ε is precisely the worst-case privacy
# loss. Only bins with at least 1,000 draws on both sides are kept; the band is ±2 standard errors.

# %%
i = np.argmin(clipped)
D = clipped.copy()
D[i] = LOWER  # D has one record at the lower bound ...
D2 = D.copy()
D2[i] = UPPER  # ... and its neighbour D' has that record at the upper bound
print(f"f(D) = {D.mean():.4f}, f(D') = {D2.mean():.4f}, difference {D2.mean() - D.mean():.4f} = sensitivity {sensitivity:.4f}")

out_d = laplace_mean(D, LOWER, UPPER, EPSILON, rng, size=N_DRAWS)
out_d2 = laplace_mean(D2, LOWER, UPPER, EPSILON, rng, size=N_DRAWS)
edges = np.linspace(D.mean() - 6 * b, D2.mean() + 6 * b, 61)
c1, _ = np.histogram(out_d, edges)
c2, _ = np.histogram(out_d2, edges)
keep = (c1 >= 1000) & (c2 >= 1000)
loss = np.log(c1[keep] / c2[keep])
se = np.sqrt(1 / c1[keep] + 1 / c2[keep])
centres = (edges[:-1] + edges[1:])[keep] / 2
z_excess = (np.abs(loss) - EPSILON) / se  # how far above epsilon, in standard errors
print(f"{keep.sum()} bins kept; max |privacy loss| = {np.abs(loss).max():.3f} (epsilon = {EPSILON}); "
      f"largest excess over epsilon = {z_excess.max():+.2f} standard errors")

fig, ax = plt.subplots()
ax.errorbar(centres, loss, yerr=2 * se, fmt=".", ms=4, label="measured ln P[M(D)]/P[M(D')] per bin")
theory = (np.abs(centres - D2.mean()) - np.abs(centres - D.mean())) / b
ax.plot(centres, theory, color="C3", label="theory")
for bound in (EPSILON, -EPSILON):
    ax.axhline(bound, color="grey", ls=":")
ax.set(xlabel="released mean (minutes)", ylabel="privacy loss", title=f"Privacy loss stays within ±ε (ε = {EPSILON})")
ax.legend(fontsize=8, loc="lower left")
plt.show()

# %% [markdown] lang="zh"
# ## 隐私–效用曲线
#
# ε 越小隐私越强，噪声越大：平均绝对误差的理论值就是 $b=\Delta f/\varepsilon$，在双对数坐标上是斜率 −1 的直线。
# 数据量越大，敏感度 $(\text{upper}-\text{lower})/n$ 越小，同样的 ε 下误差也越小。作为参照，灰线是均值本身的抽样误差
# （标准差/√n）：隐私噪声低于它时，隐私保护几乎不影响统计结论。

# %% [markdown] lang="en"
# ## The privacy–utility curve
#
# Smaller ε means stronger privacy and more noise: the theoretical mean absolute error is exactly $b=\Delta f/\varepsilon$, a
# line of slope −1 on log–log axes. More data means a smaller sensitivity $(\text{upper}-\text{lower})/n$, hence less error for
# the same ε. For reference, the grey lines show the sampling error of the mean itself (standard deviation/√n): once the privacy
# noise is below it, privacy barely changes the statistical conclusion.

# %%
epsilons = np.logspace(-2, 1, 13)
big = np.clip(rng.gamma(shape=2.0, scale=15.0, size=10_000), LOWER, UPPER)
curves = {}
for n, data in [(N_USERS, clipped), (len(big), big)]:
    measured = [np.abs(laplace_mean(data, LOWER, UPPER, eps, rng, size=40_000) - data.mean()).mean() for eps in epsilons]
    curves[n] = (np.array(measured), (UPPER - LOWER) / n / epsilons, data.std() / np.sqrt(n))

fig, ax = plt.subplots()
for i, (n, (measured, theory, sampling)) in enumerate(curves.items()):
    ax.plot(epsilons, theory, color=f"C{i}", label=f"theory b = Δf/ε, n = {n:,}")
    ax.plot(epsilons, measured, "o", color=f"C{i}", ms=4, label=f"measured, n = {n:,}")
    ax.axhline(sampling, color="grey", ls=":", lw=1, label="sampling error of the mean (std/√n)" if i == 0 else None)
ax.set(xscale="log", yscale="log", xlabel="ε (privacy budget)", ylabel="mean absolute error (minutes)",
       title="Privacy–utility trade-off")
ax.legend(fontsize=7)
plt.show()
worst_curve_error = max(np.abs(m / t - 1).max() for m, t, _ in curves.values())
print(f"largest relative gap between measured and theoretical MAE: {worst_curve_error:.2%}")
for n, (measured, theory, sampling) in curves.items():
    crossing = epsilons[np.argmax(theory < sampling)]
    print(f"n = {n:>6,}: expected error at epsilon = 1 is b = {(UPPER - LOWER) / n:.4f} min; privacy noise drops "
          f"below the sampling error of the mean ({sampling:.3f} min) from epsilon ~ {crossing:.2f}")

# %% [markdown] lang="zh"
# ## 检查
#
# 断言：噪声标准差与理论值 √2·b 相差不到 3 %；噪声均值与 0 相差不到 4 个标准误差；每个区间的隐私损失不超过 ε + 4 个标准误差，
# 且两侧确实达到 ε 附近（界是紧的）；隐私–效用曲线上实测误差与理论值 b 相差不到 3 %。

# %% [markdown] lang="en"
# ## Check
#
# Asserted: the noise's standard deviation is within 3 % of the theoretical √2·b; the noise mean is within 4 standard errors
# of 0; every bin's privacy loss is at most ε + 4 standard errors, and it does reach about ε on both sides (the bound is tight);
# on the privacy–utility curve, the measured error is within 3 % of the theoretical b.

# %%
assert abs(std_ratio - 1) < 0.03, f"noise std is {std_ratio:.4f} x theory, not within 3 %"
assert abs(mean_in_se) < 4, f"noise mean is {mean_in_se:.1f} standard errors from 0"
assert z_excess.max() < 4, f"privacy loss exceeds epsilon by {z_excess.max():.1f} standard errors"
assert loss.max() > 0.9 * EPSILON and loss.min() < -0.9 * EPSILON, "privacy loss never approaches ±epsilon"
assert worst_curve_error < 0.03, f"measured MAE differs from b by {worst_curve_error:.1%}"
print(f"check passed: std ratio {std_ratio:.4f} (within 3 %), mean {mean_in_se:+.2f} SE, "
      f"max |privacy loss| {np.abs(loss).max():.3f} vs epsilon {EPSILON} (excess {z_excess.max():+.2f} SE: sampling noise), "
      f"MAE curve within {worst_curve_error:.2%} of theory")
