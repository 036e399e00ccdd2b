# %% [markdown] lang="zh"
# # 实验：从零实现分类评估指标
#
# 来源：第 002 篇《AI大模型创业实战：揭秘科技优势的利用之道》第 2 题的示例代码（[章节](../chapters/training-and-evaluation.md#q-evaluation-methods)）、
# 第 003 篇《大模型在 AI 创业公司产品策略中的创新》第 3 题的示例代码（[章节](../chapters/product-strategy.md#q-product-evaluation)），
# 以及第 004 篇《AI 大模型创业：如何利用用户优势？》编程练习 3（[章节](../chapters/user-data-and-training.md#q-exercise-metrics)）。
#
# **原代码的问题：**
#
# - `roc_auc_score(y_true, y_pred)` 传入的是 0/1 **硬标签**：ROC "曲线"只剩一个拐点，算出来的是这个阈值下的平衡准确率，不是 AUC；
# - 两篇文章都把 F1 说成"准确率和召回率"的调和平均，实际是**精确率**和召回率的调和平均；精确率本身也没列出来；
# - 第 002 篇的 `model.predict(test_dataset)`、`test_dataset['labels']` 都没有定义，代码无法运行；练习 3 承诺的答案也没有给出。
#
# **本实验做什么：** 在真实模型（乳腺癌数据集上的"标准化 + 逻辑回归"，固定的分层划分）上，只用 NumPy 从零实现混淆矩阵、准确率、
# 精确率、召回率、F1、ROC 曲线和 ROC AUC（用自己的 ROC 点按梯形法积分，再用秩 / Mann–Whitney 公式交叉验证，正确处理并列分数），
# 每个数都和 scikit-learn 对照。然后演示为什么 AUC 必须用分数、阈值如何在精确率和召回率之间取舍，
# 最后在三分类的葡萄酒数据集上比较宏平均、微平均和加权平均。

# %% [markdown] lang="en"
# # Lab: classification metrics from scratch
#
# Source: article 002, 《AI大模型创业实战：揭秘科技优势的利用之道》 ("AI large-model startups in practice: how to use your technology
# advantage"), the code sample of question 2 ([chapter](../chapters/training-and-evaluation.md#q-evaluation-methods)); article 003,
# 《大模型在 AI 创业公司产品策略中的创新》 ("Innovation with large models in AI startups' product strategy"), the code sample of
# question 3 ([chapter](../chapters/product-strategy.md#q-product-evaluation)); and article 004, 《AI 大模型创业：如何利用用户优势？》
# ("AI large-model startups: how to use your user advantage"), coding exercise 3 ([chapter](../chapters/user-data-and-training.md#q-exercise-metrics)).
#
# **What was wrong with the original code:**
#
# - `roc_auc_score(y_true, y_pred)` is given 0/1 **hard labels**: the ROC "curve" has a single corner, and the number it returns is
#   the balanced accuracy at that one threshold, not the AUC;
# - both articles describe F1 as the harmonic mean of "accuracy and recall"; it is the harmonic mean of **precision** and recall,
#   and precision itself is never listed;
# - in article 002, `model.predict(test_dataset)` and `test_dataset['labels']` are undefined, so the code cannot run; the answer
#   promised for exercise 3 never came.
#
# **What this lab does:** on a real model (standardisation + logistic regression on the breast-cancer data, fixed stratified
# split) it implements the confusion matrix, accuracy, precision, recall, F1, the ROC curve and ROC AUC from scratch in NumPy
# (AUC by the trapezoid rule over our own ROC points, cross-checked with the rank / Mann–Whitney formula, ties handled), and
# compares every number with scikit-learn. Then it shows why AUC needs scores and how the threshold trades precision for recall,
# and finally compares macro, micro and weighted averaging on the three-class wine data.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import rankdata
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    balanced_accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_curve,
    precision_recall_fscore_support,
    precision_score,
    recall_score,
    roc_auc_score,
    roc_curve,
)
from sklearn.model_selection import StratifiedKFold, cross_val_predict, train_test_split
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from labkit import limit_threads, seed_everything, setup_plots

seed_everything(0)
limit_threads(1)  # small models on a shared CPU: one thread is fastest, and exactly repeatable
setup_plots()

checks: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # name -> (from scratch, scikit-learn); all asserted in the last cell


def compare(name: str, ours, sklearn_value) -> None:
    """Record a from-scratch value next to scikit-learn's and print both."""
    ours, theirs = np.asarray(ours, dtype=float), np.asarray(sklearn_value, dtype=float)
    checks[name] = (ours, theirs)
    if ours.ndim == 0:
        print(f"{name:<36} from scratch {ours:.6f}   scikit-learn {theirs:.6f}")
    else:
        gap = np.abs(ours - theirs).max() if ours.shape == theirs.shape else float("nan")
        print(f"{name:<36} {ours.size} values, shapes {ours.shape} / {theirs.shape}, max |difference| {gap:.1e}")


# %% [markdown] lang="zh"
# ## 数据与模型
#
# scikit-learn 自带的乳腺癌数据集：569 个肿瘤、30 个特征。它把**恶性**编码为 0；我们关心的是"不漏掉恶性"，所以把恶性重新编码为正类 1。
# 按 7:3 分层划分（`random_state=0`，正类比例在两边相同），在训练集上拟合"标准化 → 逻辑回归"。
# 模型给每个测试样本一个**分数**（恶性的概率），把分数和阈值 0.5 比较才得到**硬标签**。两者的用途不同：
# 准确率、精确率、召回率、F1 用硬标签，ROC 和 AUC 用分数。

# %% [markdown] lang="en"
# ## Data and model
#
# scikit-learn's bundled breast-cancer data: 569 tumours, 30 features. It codes **malignant** as 0; what we care about is not
# missing a malignant tumour, so we recode malignant as the positive class 1. A stratified 70/30 split (`random_state=0`, same
# positive rate on both sides), then "standardise → logistic regression" fitted on the training set. The model gives each test
# sample a **score** (the probability of malignant); only comparing the score with a threshold of 0.5 gives a **hard label**. The
# two have different uses: accuracy, precision, recall and F1 take hard labels; ROC and AUC take scores.

# %%
data = load_breast_cancer()
y = (data.target == 0).astype(int)  # 1 = malignant (scikit-learn codes it 0): the class we must not miss
X_train, X_test, y_train, y_test = train_test_split(data.data, y, test_size=0.3, stratify=y, random_state=0)

model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
start = time.perf_counter()
model.fit(X_train, y_train)
print(f"trained on {len(y_train)} tumours in {time.perf_counter() - start:.3f} s")

score = model.predict_proba(X_test)[:, 1]  # the score: P(malignant)
pred = (score >= 0.5).astype(int)  # hard labels at threshold 0.5
print(f"test set: {len(y_test)} tumours, {y_test.sum()} malignant ({y_test.mean():.1%}); "
      f"{len(np.unique(score))} distinct scores; hard labels = model.predict: {np.array_equal(pred, model.predict(X_test))}")

# %% [markdown] lang="zh"
# ## 混淆矩阵
#
# 所有基于硬标签的指标都来自同一张表：行是真实类别，列是预测类别。二分类时就是四个数：
# 真负例 TN、假正例 FP（误报）、假负例 FN（漏报）、真正例 TP。从零实现只需一行：把 (真实, 预测) 这对编码成
# $K\cdot y + \hat y$，再用 `np.bincount` 计数。同一个函数也用于后面的三分类。

# %% [markdown] lang="en"
# ## The confusion matrix
#
# Every metric on hard labels comes from one table: rows are the true class, columns the predicted class. For two classes that is
# four numbers: true negatives TN, false positives FP (false alarms), false negatives FN (misses) and true positives TP. From
# scratch it is one line: encode each (true, predicted) pair as $K\cdot y + \hat y$ and count with `np.bincount`. The same function
# serves the three-class problem later.

# %%
def confusion(y_true, y_pred, n_classes: int) -> np.ndarray:
    """C[i, j] = number of samples of true class i predicted as class j (rows: truth, columns: prediction)."""
    codes = n_classes * np.asarray(y_true) + np.asarray(y_pred)
    return np.bincount(codes, minlength=n_classes**2).reshape(n_classes, n_classes)


cm = confusion(y_test, pred, 2)
(tn, fp), (fn, tp) = cm
print(f"          predicted 0  predicted 1\ntrue 0 {cm[0, 0]:>11} {cm[0, 1]:>12}\ntrue 1 {cm[1, 0]:>11} {cm[1, 1]:>12}")
print(f"TN = {tn}, FP = {fp}, FN = {fn}, TP = {tp}")
compare("confusion matrix", cm, confusion_matrix(y_test, pred))

# %% [markdown] lang="zh"
# ## 准确率、精确率、召回率、F1
#
# - 准确率 $\text{Acc}=\frac{TP+TN}{TP+TN+FP+FN}$：所有样本里判对的比例；类别不平衡时会误导（全判多数类也很高）。
# - 精确率 $P=\frac{TP}{TP+FP}$：判为恶性的里面，真是恶性的比例（"报出来的对不对"）。
# - 召回率 $R=\frac{TP}{TP+FN}$：真是恶性的里面，被找出来的比例（"该找的找没找全"）。
# - $F_1=\frac{2PR}{P+R}=\frac{2TP}{2TP+FP+FN}$：精确率和召回率的**调和平均**，两者中任何一个低，F1 就低；TN 不参与计算。
#
# 分母为 0 时（例如模型一个正例都没报），这里和 scikit-learn 的 `zero_division=0` 一样记为 0。
# 最后一行算出原文的"F1"（准确率和召回率的调和平均）：它是另一个数，混进了 TN，并不是 F1。

# %% [markdown] lang="en"
# ## Accuracy, precision, recall, F1
#
# - Accuracy $\text{Acc}=\frac{TP+TN}{TP+TN+FP+FN}$: the share of all samples judged right; misleading when classes are
#   imbalanced (always predicting the majority class also scores high).
# - Precision $P=\frac{TP}{TP+FP}$: of the tumours flagged malignant, the share that are ("are the alarms right?").
# - Recall $R=\frac{TP}{TP+FN}$: of the malignant tumours, the share that were found ("did we find them all?").
# - $F_1=\frac{2PR}{P+R}=\frac{2TP}{2TP+FP+FN}$: the **harmonic mean** of precision and recall, low whenever either is low; TN
#   plays no part.
#
# When a denominator is 0 (say the model flags nothing), the value is 0, as with scikit-learn's `zero_division=0`. The last line
# computes the articles' "F1" (harmonic mean of accuracy and recall): a different number, contaminated by TN — not F1.

# %%
def safe_div(a, b):
    """a / b elementwise, 0 where b == 0 (scikit-learn's zero_division=0)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return np.divide(a, b, out=np.zeros(np.broadcast(a, b).shape), where=b != 0)


def binary_metrics(tp, fp, fn, tn) -> dict[str, float]:
    precision, recall = safe_div(tp, tp + fp), safe_div(tp, tp + fn)
    return {
        "accuracy": (tp + tn) / (tp + fp + fn + tn),
        "precision": float(precision),
        "recall": float(recall),
        "f1": float(safe_div(2 * precision * recall, precision + recall)),
    }


ours = binary_metrics(tp, fp, fn, tn)
compare("accuracy", ours["accuracy"], accuracy_score(y_test, pred))
compare("precision", ours["precision"], precision_score(y_test, pred))
compare("recall", ours["recall"], recall_score(y_test, pred))
compare("F1", ours["f1"], f1_score(y_test, pred))
print(f"F1 = 2TP/(2TP+FP+FN) = {2 * tp / (2 * tp + fp + fn):.6f} (the same number; here P = R because FP = FN = {fp})")
article_f1 = 2 * ours["accuracy"] * ours["recall"] / (ours["accuracy"] + ours["recall"])
print(f"the articles' 'F1' (harmonic mean of accuracy and recall) = {article_f1:.6f}: not F1")

# %% [markdown] lang="zh"
# ## ROC 曲线与 AUC
#
# 把阈值 $t$ 从高往低扫过每一个不同的分数，规则是"分数 $\ge t$ 判为正"，每个阈值得到一个点
# $\big(\text{FPR}(t), \text{TPR}(t)\big)=\big(\frac{FP(t)}{n_-}, \frac{TP(t)}{n_+}\big)$，再在最前面补上 (0, 0)。
# 实现：按分数降序排序，累加正例和负例个数；**分数相同的样本必须一起进入**，所以只在每段相同分数的最后一个位置取点。
# 并列的一组里如果既有正例又有负例，曲线就走一条斜线。
#
# 曲线下面积用梯形法：$\text{AUC}=\sum_k (x_k-x_{k-1})\,\frac{y_k+y_{k-1}}{2}$。
#
# 交叉验证用另一个完全不同的公式。AUC 等于"随机取一个正例和一个负例，正例分数更高"的概率，并列算一半：
# $\text{AUC}=P(s_+>s_-)+\tfrac12P(s_+=s_-)$。这就是 Mann–Whitney U 统计量除以 $n_+n_-$：把全部分数升序排秩
# （并列取平均秩），$R_+$ 是正例的秩和，则 $\text{AUC}=\dfrac{R_+-n_+(n_++1)/2}{n_+\,n_-}$。
# 梯形法在斜线段下面正好给了并列的正负对一半的面积，所以两种算法在有并列时也相等。
# 下面先用模型原始分数，再把分数四舍五入到一位小数（只剩十来个不同的值，大量并列）各算一遍，并和逐对比较的暴力算法对照。

# %% [markdown] lang="en"
# ## The ROC curve and AUC
#
# Sweep the threshold $t$ from high to low over every distinct score, with the rule "positive when score $\ge t$"; each threshold
# gives a point $\big(\text{FPR}(t), \text{TPR}(t)\big)=\big(\frac{FP(t)}{n_-}, \frac{TP(t)}{n_+}\big)$, and (0, 0) goes in
# front. Implementation: sort by score, descending, and accumulate the counts of positives and negatives; **samples with equal
# scores must enter together**, so a point is taken only at the last position of each run of equal scores. A tied group that
# holds both positives and negatives makes the curve move diagonally.
#
# The area under the curve by the trapezoid rule: $\text{AUC}=\sum_k (x_k-x_{k-1})\,\frac{y_k+y_{k-1}}{2}$.
#
# The cross-check uses an entirely different formula. AUC is the probability that a random positive scores higher than a random
# negative, ties counting one half: $\text{AUC}=P(s_+>s_-)+\tfrac12P(s_+=s_-)$. That is the Mann–Whitney U statistic divided by
# $n_+n_-$: rank all scores in ascending order (ties get their average rank), let $R_+$ be the positives' rank sum; then
# $\text{AUC}=\dfrac{R_+-n_+(n_++1)/2}{n_+\,n_-}$. Under a diagonal segment the trapezoid gives exactly half the area of the tied
# positive–negative pairs, so the two agree even with ties. Below, both run on the model's raw scores and on the scores rounded to
# one decimal (only about a dozen distinct values, many ties), next to a brute-force comparison of every pair.

# %%
def counts_at_thresholds(y_true, score):
    """Distinct scores t in descending order, with TP(t) and FP(t) for the rule 'positive when score >= t'."""
    order = np.argsort(-score, kind="stable")
    s, labels = score[order], y_true[order]
    tps, fps = np.cumsum(labels), np.cumsum(1 - labels)
    last = np.r_[s[1:] != s[:-1], True]  # last position of each run of equal scores: ties enter together
    return s[last], tps[last], fps[last]


def roc_points(y_true, score):
    """(FPR, TPR, thresholds), starting at (0, 0) with threshold +inf, like roc_curve(drop_intermediate=False)."""
    thresholds, tps, fps = counts_at_thresholds(y_true, score)
    return np.r_[0, fps] / fps[-1], np.r_[0, tps] / tps[-1], np.r_[np.inf, thresholds]


def trapezoid_auc(x, y) -> float:
    return float(np.sum(np.diff(x) * (y[1:] + y[:-1]) / 2))


def average_ranks(x):
    """Ranks 1..n in ascending order; tied values share the average of their ranks."""
    _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    last_rank = np.cumsum(counts)  # the rank of the last copy of each distinct value
    return (last_rank - (counts - 1) / 2)[inverse]


def rank_auc(y_true, score) -> float:
    """Mann–Whitney: AUC = (R+ - n+(n+ + 1)/2) / (n+ n-)."""
    n_pos = int(y_true.sum())
    n_neg = len(y_true) - n_pos
    rank_sum = average_ranks(score)[y_true == 1].sum()
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def pairwise_auc(y_true, score) -> float:
    """Brute force over all n+ x n- pairs: 1 if the positive scores higher, 1/2 on a tie."""
    diff = score[y_true == 1][:, None] - score[y_true == 0][None, :]
    return float(np.mean((diff > 0) + 0.5 * (diff == 0)))


fpr, tpr, thresholds = roc_points(y_test, score)
fpr_sk, tpr_sk, thresholds_sk = roc_curve(y_test, score, drop_intermediate=False)
print(f"{len(fpr)} ROC points from scratch, {len(fpr_sk)} from roc_curve(drop_intermediate=False)")
compare("ROC points (FPR, TPR)", np.c_[fpr, tpr], np.c_[fpr_sk, tpr_sk])
compare("ROC thresholds", thresholds[1:], thresholds_sk[1:])  # both start at +inf
auc = trapezoid_auc(fpr, tpr)
compare("AUC, trapezoid", auc, roc_auc_score(y_test, score))
compare("AUC, ranks (Mann-Whitney)", rank_auc(y_test, score), roc_auc_score(y_test, score))
compare("AUC, all pairs", pairwise_auc(y_test, score), roc_auc_score(y_test, score))

score_tied = np.round(score, 1)
fpr_tied, tpr_tied, _ = roc_points(y_test, score_tied)
print(f"\nrounded to one decimal: {len(np.unique(score_tied))} distinct scores for {len(score_tied)} samples")
compare("average ranks vs scipy rankdata", average_ranks(score_tied), rankdata(score_tied))
compare("tied AUC, trapezoid", trapezoid_auc(fpr_tied, tpr_tied), roc_auc_score(y_test, score_tied))
compare("tied AUC, ranks (Mann-Whitney)", rank_auc(y_test, score_tied), roc_auc_score(y_test, score_tied))
compare("tied AUC, all pairs", pairwise_auc(y_test, score_tied), roc_auc_score(y_test, score_tied))

# %% [markdown] lang="zh"
# ## 为什么 AUC 必须用分数
#
# 把硬标签当"分数"传进去，只有两个不同的值，ROC 只有三个点：(0, 0)、$(\text{FPR}, \text{TPR})$、(1, 1)。折线下的面积是
# $\frac{\text{FPR}\cdot\text{TPR}}{2}+\frac{(1-\text{FPR})(1+\text{TPR})}{2}=\frac{1+\text{TPR}-\text{FPR}}{2}=\frac{\text{TPR}+\text{TNR}}{2}$，
# 也就是这个阈值下的**平衡准确率**。它随阈值变化，而且只看一个阈值，衡量不了排序能力；真正的 AUC 只依赖分数的排序，与阈值无关。
# 图中蓝线是模型分数的 ROC 曲线，橙色折线是原文写法实际算的东西。

# %% [markdown] lang="en"
# ## Why AUC needs scores
#
# Pass hard labels as the "score" and there are only two distinct values, so the ROC has three points: (0, 0),
# $(\text{FPR}, \text{TPR})$ and (1, 1). The area under that polyline is
# $\frac{\text{FPR}\cdot\text{TPR}}{2}+\frac{(1-\text{FPR})(1+\text{TPR})}{2}=\frac{1+\text{TPR}-\text{FPR}}{2}=\frac{\text{TPR}+\text{TNR}}{2}$,
# the **balanced accuracy** at that threshold. It changes with the threshold and looks at one threshold only, so it cannot measure
# ranking; the real AUC depends only on the order of the scores, not on any threshold. In the plot, the blue line is the ROC curve
# of the model's scores, the orange polyline what the articles' code actually computes.

# %%
fpr_hard, tpr_hard, _ = roc_points(y_test, pred)
auc_hard = trapezoid_auc(fpr_hard, tpr_hard)
balanced_acc = (tp / (tp + fn) + tn / (tn + fp)) / 2  # (TPR + TNR) / 2
print(f"ROC of hard labels: {len(fpr_hard)} points, corner at FPR = {fpr_hard[1]:.4f}, TPR = {tpr_hard[1]:.4f}")
compare("'AUC' of hard labels", auc_hard, roc_auc_score(y_test, pred))
compare("balanced accuracy", balanced_acc, balanced_accuracy_score(y_test, pred))
print(f"'AUC' of hard labels {auc_hard:.6f} = balanced accuracy {balanced_acc:.6f};  AUC of scores {auc:.6f}")
hard_auc_by_threshold = {t: rank_auc(y_test, (score >= t).astype(int)) for t in (0.05, 0.1, 0.3, 0.5, 0.7, 0.9, 0.95)}
print("'AUC' of hard labels at other thresholds:", ", ".join(f"t={t}: {a:.4f}" for t, a in hard_auc_by_threshold.items()))

fig, ax = plt.subplots(figsize=(4.4, 4.0))
ax.plot(fpr, tpr, color="C0", label=f"scores: AUC = {auc:.4f}")
ax.plot(fpr_hard, tpr_hard, "o-", color="C1", label=f"hard labels (t = 0.5): 'AUC' = {auc_hard:.4f}")
ax.plot([0, 1], [0, 1], ":", color="grey", label="chance: AUC = 0.5")
ax.set(xlabel="false positive rate (FPR)", ylabel="true positive rate (TPR)", title="ROC curve: scores vs hard labels",
       xlim=(-0.02, 1.02), ylim=(-0.02, 1.02))
ax.legend(fontsize=8, loc="lower right")
plt.show()

# %% [markdown] lang="zh"
# ## 阈值的取舍
#
# 同一组分数，阈值越低，判为正的越多：召回率上升，精确率（通常）下降。用上面同样的累计计数就能得到每个阈值下的
# $P(t)$、$R(t)$ 和 $F_1(t)$，并与 `precision_recall_curve` 对照。把精确率–召回率曲线概括成一个数的**平均精确率**
# $\text{AP}=\sum_n (R_n-R_{n-1})\,P_n$（按阈值从高到低），正例稀少时它比 ROC AUC 更能暴露问题：PR 曲线的基线是正例比例，而不是 0.5。
#
# 阈值是业务决定：筛查肿瘤时漏报（FN）比误报（FP）代价高得多，应该先定召回率目标，再接受相应的精确率。
# 阈值**不能在测试集上挑**：这里用训练集上 5 折交叉验证的折外预测，选出召回率 ≥ 98 % 的最高阈值，再在测试集上报告一次。

# %% [markdown] lang="en"
# ## The threshold trade-off
#
# With the same scores, a lower threshold flags more samples: recall rises and precision (usually) falls. The same cumulative
# counts as above give $P(t)$, $R(t)$ and $F_1(t)$ at every threshold, checked against `precision_recall_curve`. The
# precision–recall curve's one-number summary, **average precision** $\text{AP}=\sum_n (R_n-R_{n-1})\,P_n$ (thresholds from high
# to low), exposes problems better than ROC AUC when positives are rare: the PR curve's baseline is the positive rate, not 0.5.
#
# The threshold is a business decision: in tumour screening a miss (FN) costs far more than a false alarm (FP), so set a recall
# target first and accept the precision that comes with it. The threshold must **not be picked on the test set**: here it is the
# highest threshold reaching 98 % recall on out-of-fold predictions from 5-fold cross-validation on the training set, then reported
# once on the test set.

# %%
thr_desc, tps, fps = counts_at_thresholds(y_test, score)
precision_t, recall_t = safe_div(tps, tps + fps), tps / tps[-1]
f1_t = safe_div(2 * precision_t * recall_t, precision_t + recall_t)
precision_sk, recall_sk, thr_sk = precision_recall_curve(y_test, score)  # ascending thresholds, then a final (P=1, R=0)
compare("precision at every threshold", precision_t[::-1], precision_sk[:-1])
compare("recall at every threshold", recall_t[::-1], recall_sk[:-1])
compare("PR thresholds", thr_desc[::-1], thr_sk)
ap = float(np.sum(np.diff(np.r_[0, recall_t]) * precision_t))
compare("average precision (AP)", ap, average_precision_score(y_test, score))
best = np.argmax(f1_t)
print(f"best F1 on the test set {f1_t[best]:.4f} at t = {thr_desc[best]:.3f} (for illustration only: never choose t on test data)")

cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
oof = cross_val_predict(model, X_train, y_train, cv=cv, method="predict_proba")[:, 1]
thr_oof, tps_oof, _ = counts_at_thresholds(y_train, oof)
chosen = thr_oof[np.argmax(tps_oof / tps_oof[-1] >= 0.98)]  # the first (highest) threshold reaching 98 % recall
(tn_c, fp_c), (fn_c, tp_c) = confusion(y_test, (score >= chosen).astype(int), 2)
at_chosen = binary_metrics(tp_c, fp_c, fn_c, tn_c)
print(f"threshold chosen on training folds for recall >= 98 %: t = {chosen:.4f}")
print(f"on the test set: t = 0.5 -> precision {ours['precision']:.3f}, recall {ours['recall']:.3f};  "
      f"t = {chosen:.4f} -> precision {at_chosen['precision']:.3f}, recall {at_chosen['recall']:.3f}")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9.0, 3.4))
ax1.plot(thr_desc, precision_t, label="precision")
ax1.plot(thr_desc, recall_t, label="recall")
ax1.plot(thr_desc, f1_t, label="F1", ls="--")
ax1.axvline(0.5, color="grey", ls=":", lw=1)
ax1.axvline(chosen, color="C3", ls=":", lw=1, label=f"t for recall >= 98 % (train CV) = {chosen:.3f}")
ax1.set(xlabel="threshold t (predict malignant if score >= t)", ylabel="value", title="Precision and recall vs threshold",
        ylim=(0, 1.03))
ax1.legend(fontsize=7, loc="lower left")
ax2.step(np.r_[0, recall_t], np.r_[1, precision_t], where="pre", label=f"AP = {ap:.4f}")
ax2.axhline(y_test.mean(), color="grey", ls=":", label=f"baseline = positive rate {y_test.mean():.3f}")
ax2.set(xlabel="recall", ylabel="precision", title="Precision–recall curve", ylim=(0, 1.03))
ax2.legend(fontsize=7, loc="lower left")
plt.tight_layout()
plt.show()

# %% [markdown] lang="zh"
# 在训练折上选出的阈值约为 0.17，远低于默认的 0.5：测试集上召回率从 0.938 升到 0.953（64 个恶性漏掉 3 个而不是 4 个），
# 代价是精确率从 0.938 降到 0.824。测试集召回率没有达到 98 %：64 个正例太少，多找到或漏掉一个就差 1.6 个百分点。
# 所以报告召回率时要带上样本量，验证集要足够大才能可靠地定阈值。

# %% [markdown] lang="en"
# The threshold chosen on the training folds is about 0.17, far below the default 0.5: on the test set recall rises from 0.938 to
# 0.953 (3 malignant tumours missed out of 64 instead of 4), at the cost of precision falling from 0.938 to 0.824. Test recall does
# not reach 98 %: 64 positives are few, and one tumour more or less moves recall by 1.6 points. So report recall with its sample
# size, and set thresholds on a validation set large enough to support them.

# %% [markdown] lang="zh"
# ## 多分类：宏平均、微平均、加权平均
#
# $K$ 类时，对每一类 $k$ 做"一对其余"：$TP_k$ 是混淆矩阵对角元，$FP_k$ 是第 $k$ 列其余元素之和，$FN_k$ 是第 $k$ 行其余元素之和，
# 得到每一类的 $P_k, R_k, F_{1,k}$。再合成一个数有三种方式：
#
# - **宏平均（macro）** $\frac1K\sum_k m_k$：每个类别同等重要。小类和大类分量一样，某一类被模型忽视时它会明显下降——
#   适合稀有类别同样要紧的场景（少见的意图、少见的欺诈类型）。注意 scikit-learn 的宏 F1 是各类 F1 的平均，不是宏 P 与宏 R 的调和平均。
# - **加权平均（weighted）** $\sum_k \frac{n_k}{N} m_k$（$n_k$ 是第 $k$ 类的真实样本数）：按数据中的类别比例加权，反映"平均一个样本"的情况，
#   但会掩盖小类上的失败。
# - **微平均（micro）**：先把各类的计数加起来再算，$P_\text{micro}=\frac{\sum_k TP_k}{\sum_k (TP_k+FP_k)}$，每个样本同等重要。
#   单标签多分类中每个样本恰好被预测成一类，$\sum_k (TP_k+FP_k)=\sum_k (TP_k+FN_k)=N$，所以微平均的 P、R、F1 都**等于准确率**；
#   它只在多标签任务或排除某些类（如命名实体识别里的 "O" 类）时才和准确率不同。
#
# 数据：葡萄酒数据集（178 个样本、3 类，59/71/48）。用全部 13 个特征时逻辑回归在这次划分上全对，所有平均都是 1.0，看不出区别；
# 所以这里用一个简单的分类器——只看酒精度和苹果酸两个特征的高斯朴素贝叶斯。再加一个"永远预测训练集多数类"的基线作对照。

# %% [markdown] lang="en"
# ## Multi-class: macro, micro and weighted averaging
#
# With $K$ classes, treat each class $k$ as one-vs-rest: $TP_k$ is the confusion matrix's diagonal entry, $FP_k$ the rest of
# column $k$, $FN_k$ the rest of row $k$, giving per-class $P_k, R_k, F_{1,k}$. There are three ways to make one number of them:
#
# - **Macro** $\frac1K\sum_k m_k$: every class counts the same. A small class weighs as much as a large one, so it drops visibly
#   when the model neglects a class — right when rare classes matter as much as common ones (rare intents, rare fraud types).
#   Note that scikit-learn's macro F1 is the mean of the per-class F1s, not the harmonic mean of macro P and macro R.
# - **Weighted** $\sum_k \frac{n_k}{N} m_k$ ($n_k$ = true samples of class $k$): weighted by the class mix of the data, it
#   describes "the average sample" but hides failure on a small class.
# - **Micro**: add the counts over classes first, then compute, $P_\text{micro}=\frac{\sum_k TP_k}{\sum_k (TP_k+FP_k)}$; every
#   sample counts the same. In single-label multi-class each sample is predicted as exactly one class, so
#   $\sum_k (TP_k+FP_k)=\sum_k (TP_k+FN_k)=N$ and micro P, R and F1 all **equal accuracy**; micro differs from accuracy only in
#   multi-label tasks or when some classes are left out (such as the "O" class in named-entity recognition).
#
# Data: the wine dataset (178 samples, 3 classes, 59/71/48). With all 13 features, logistic regression gets every test sample of
# this split right and every average is 1.0, which shows nothing; so the classifier here is a simple one — Gaussian naive Bayes on
# just two features, alcohol and malic acid. A baseline that always predicts the training set's majority class is added for
# contrast.

# %%
def averaged_prf(cm: np.ndarray) -> dict[str, tuple[float, float, float]]:
    """Per-class and macro / weighted / micro (precision, recall, F1) from a K x K confusion matrix."""
    tp = np.diag(cm).astype(float)
    fp, fn, support = cm.sum(axis=0) - tp, cm.sum(axis=1) - tp, cm.sum(axis=1)
    p, r = safe_div(tp, tp + fp), safe_div(tp, tp + fn)
    f1 = safe_div(2 * p * r, p + r)
    w = support / support.sum()
    p_micro, r_micro = tp.sum() / (tp + fp).sum(), tp.sum() / (tp + fn).sum()
    return {
        "per class": (p, r, f1),
        "macro": (p.mean(), r.mean(), f1.mean()),
        "weighted": (w @ p, w @ r, w @ f1),
        "micro": (p_micro, r_micro, float(safe_div(2 * p_micro * r_micro, p_micro + r_micro))),
    }


wine = load_wine()
FEATURES = [0, 1]  # alcohol, malic_acid
print("features:", [wine.feature_names[i] for i in FEATURES], "| class sizes:", np.bincount(wine.target).tolist())
Xw_train, Xw_test, yw_train, yw_test = train_test_split(
    wine.data[:, FEATURES], wine.target, test_size=0.3, stratify=wine.target, random_state=0
)
predictions = {
    "naive Bayes": GaussianNB().fit(Xw_train, yw_train).predict(Xw_test),
    "majority class": np.full_like(yw_test, np.bincount(yw_train).argmax()),
}
multiclass = {}
for name, yw_pred in predictions.items():
    cm_w = confusion(yw_test, yw_pred, 3)
    res = averaged_prf(cm_w)
    multiclass[name] = (res, (yw_pred == yw_test).mean())
    p, r, f1 = res["per class"]
    print(f"\n{name}: accuracy {multiclass[name][1]:.4f}; confusion matrix rows {cm_w.tolist()}")
    print(f"  {'':<10} {'precision':>9} {'recall':>9} {'F1':>9}")
    for k in range(3):
        print(f"  class {k:<4} {p[k]:>9.4f} {r[k]:>9.4f} {f1[k]:>9.4f}")
    for avg in ("macro", "weighted", "micro"):
        print(f"  {avg:<10} {res[avg][0]:>9.4f} {res[avg][1]:>9.4f} {res[avg][2]:>9.4f}")
    for avg in ("macro", "weighted", "micro"):
        sk_prf = precision_recall_fscore_support(yw_test, yw_pred, average=avg, zero_division=0)[:3]
        compare(f"{name}: {avg} P, R, F1", res[avg], sk_prf)
    compare(f"{name}: per-class F1", f1, f1_score(yw_test, yw_pred, average=None, zero_division=0))
    compare(f"{name}: micro F1 vs accuracy", res["micro"][2], accuracy_score(yw_test, yw_pred))

# %% [markdown] lang="zh"
# 朴素贝叶斯在第 3 类上最弱，宏 F1 因此低于微 F1（= 准确率）。"永远预测多数类"的基线更能说明问题：准确率（= 微 F1）约 0.39，
# 加权 F1 约 0.22，宏 F1 只有约 0.19——宏平均最直接地暴露出有两个类从未被预测。

# %% [markdown] lang="en"
# Naive Bayes is weakest on the third class, so its macro F1 is below its micro F1 (= accuracy). The majority-class baseline makes
# the point more strongly: accuracy (= micro F1) is about 0.39, weighted F1 about 0.22, and macro F1 only about 0.19 — macro
# averaging most directly exposes that two classes are never predicted.

# %% [markdown] lang="zh"
# ## 检查
#
# 断言：上面记录的每一个从零实现的值（混淆矩阵、准确率、精确率、召回率、F1、ROC 点与阈值、三种算法的 AUC（含并列分数）、
# 硬标签"AUC"、平衡准确率、每个阈值的精确率和召回率、AP、三分类的宏/加权/微平均和每类 F1）都与 scikit-learn 的结果相等
# （`np.allclose`，形状也相同）；硬标签"AUC"等于平衡准确率，且低于分数的 AUC；微 F1 等于准确率；宏 F1 在多数类基线上低于微 F1；
# 模型的测试 AUC 不低于 0.97。

# %% [markdown] lang="en"
# ## Check
#
# Asserted: every from-scratch value recorded above (confusion matrix, accuracy, precision, recall, F1, ROC points and thresholds,
# AUC three ways including tied scores, the hard-label "AUC", balanced accuracy, precision and recall at every threshold, AP, and
# the three-class macro / weighted / micro averages and per-class F1) equals scikit-learn's (`np.allclose`, same shape); the
# hard-label "AUC" equals the balanced accuracy and is below the AUC of the scores; micro F1 equals accuracy; macro F1 is below
# micro F1 on the majority-class baseline; the model's test AUC is at least 0.97.

# %%
for name, (ours_value, sklearn_value) in checks.items():
    assert ours_value.shape == sklearn_value.shape, f"{name.strip()}: shape {ours_value.shape} vs {sklearn_value.shape}"
    assert np.allclose(ours_value, sklearn_value, rtol=1e-9, atol=1e-12), f"{name.strip()}: {ours_value} vs {sklearn_value}"
assert np.isclose(auc_hard, balanced_acc), f"hard-label 'AUC' {auc_hard} != balanced accuracy {balanced_acc}"
assert auc_hard < auc, f"hard-label 'AUC' {auc_hard:.4f} is not below the AUC of scores {auc:.4f}"
assert auc >= 0.97, f"test AUC {auc:.4f} < 0.97"
for name, (res, acc) in multiclass.items():
    assert np.isclose(res["micro"][2], acc), f"{name}: micro F1 {res['micro'][2]} != accuracy {acc}"
baseline = multiclass["majority class"][0]
assert baseline["macro"][2] < baseline["micro"][2], "macro F1 should punish the classes the baseline never predicts"
nb = multiclass["naive Bayes"][0]
print(f"check passed: {len(checks)} from-scratch results equal scikit-learn's; "
      f"acc {ours['accuracy']:.4f}, P {ours['precision']:.4f}, R {ours['recall']:.4f}, F1 {ours['f1']:.4f}; "
      f"AUC {auc:.6f} (trapezoid = ranks = pairs), tied AUC {rank_auc(y_test, score_tied):.6f}; "
      f"hard-label 'AUC' {auc_hard:.4f} = balanced accuracy; AP {ap:.4f}; "
      f"wine NB F1 macro {nb['macro'][2]:.4f} / weighted {nb['weighted'][2]:.4f} / micro {nb['micro'][2]:.4f} = accuracy")
