# %% [markdown] lang="zh"
# # 实验：大模型的仅权重量化
#
# 配套题目：第二部分《推理与服务》第 9 题[权重量化和激活量化有什么区别？INT8、INT4、FP8 分别在什么情况下更快？](../chapters/inference-and-serving.md#q-weight-activation-quantization)、
# 第 10 题[GPTQ、AWQ、SmoothQuant、GGUF 分别是什么？量化会损失多少质量？](../chapters/inference-and-serving.md#q-quantization-methods)。
#
# 量化把权重从 32 位或 16 位浮点数换成 8 位、4 位整数，外加少量缩放因子。参数个数不变，每个参数占的位数变少：
# 模型更小，解码时要从内存读的字节也更少。代价是舍入误差，而误差有多大，主要取决于**多少个权重共用一个缩放因子**。
#
# **本实验做什么：** 对 `labkit` 小型 GPT 的全部线性层，从零写出对称 absmax 量化，比较五种方案——INT8 逐张量、INT8 逐通道、
# INT4 逐张量、INT4 逐通道、INT4 每 32 个一组：
#
# 1. 按实际存储（INT4 两个一字节，缩放因子用 float16）数出字节数，并与公式核对；
# 2. 把量化后的权重反量化回浮点数做前向（伪量化），在留出文本上测困惑度，与 float32 模型比较；
# 3. 往一个矩阵里放一个离群权重，看逐张量缩放怎样毁掉同一张量里其余所有权重的精度，而逐通道、分组缩放把损害限制在一行、一组之内；
# 4. 说明 LLM.int8()、GPTQ、AWQ 这些真实方法在此之上多做了什么。

# %% [markdown] lang="en"
# # Lab: weight-only quantization of an LLM
#
# Accompanies, in Part 2: *Inference and serving*, question 9, [What is the difference between weight and activation quantization, and when are INT8, INT4 and FP8 faster?](../chapters/inference-and-serving.md#q-weight-activation-quantization)
# and question 10, [What are GPTQ, AWQ, SmoothQuant and GGUF, and how much quality does quantization cost?](../chapters/inference-and-serving.md#q-quantization-methods).
#
# Quantization replaces 32- or 16-bit floating-point weights with 8- or 4-bit integers plus a few scale factors. The
# number of parameters stays the same; each takes fewer bits, so the model is smaller and decoding reads fewer bytes from
# memory. The price is rounding error, and how large it is depends mostly on **how many weights share one scale**.
#
# **What this lab does:** for every linear layer of `labkit`'s small GPT, it writes out symmetric absmax quantization
# from scratch and compares five schemes (INT8 per tensor, INT8 per channel, INT4 per tensor, INT4 per channel, INT4 in
# groups of 32):
#
# 1. it counts the bytes as they would really be stored (INT4 packed two per byte, scales in float16) and checks them
#    against the formula;
# 2. it dequantizes the weights back to floats for the forward pass (fake quantization) and measures held-out perplexity
#    against the float32 model;
# 3. it puts one outlier weight into a matrix and shows how per-tensor scaling destroys the resolution of every other
#    weight in that tensor, while per-channel and group-wise scaling confine the damage to one row or one group;
# 4. it explains what real methods (LLM.int8(), GPTQ, AWQ) add on top.

# %%
import copy
import math

import matplotlib.pyplot as plt
import torch

from labkit import handbook_char_data, handbook_gpt, held_out_loss, seed_everything, setup_plots

seed_everything(0, threads=1)  # one thread: fastest for a tiny model on a shared CPU, and repeatable
setup_plots()

# %% [markdown] lang="zh"
# ## 模型
#
# `handbook_gpt()` 按[从零实现 GPT](gpt-from-scratch.ipynb) 的配方训练 300 步（2 层、`d_model`=96、窗口 32 个字）。
# 要量化的是全部 `nn.Linear` 的权重矩阵：每层注意力的 `q_proj`、`k_proj`、`v_proj`、`o_proj`，MLP 的 `up_proj`、`down_proj`，
# 以及输出层 `head`。词嵌入、位置嵌入、LayerNorm 和各层的偏置保持 float32；GPTQ、AWQ 这类仅权重量化方法处理的也正是线性层的权重矩阵。
# 困惑度是留出文本上平均交叉熵的指数（每个字符），越低越好。

# %% [markdown] lang="en"
# ## The model
#
# `handbook_gpt()` trains for 300 steps with the recipe of [GPT from scratch](gpt-from-scratch.ipynb) (2 layers,
# `d_model`=96, windows of 32 characters). What gets quantized is the weight matrix of every `nn.Linear`: each attention
# layer's `q_proj`, `k_proj`, `v_proj`, `o_proj`, the MLP's `up_proj` and `down_proj`, and the output layer `head`. Token
# and position embeddings, LayerNorms and all biases stay in float32; weight-only methods such as GPTQ and AWQ likewise
# work on the weight matrices of linear layers. Perplexity is the exponential of the mean cross-entropy on the held-out
# text (per character); lower is better.

# %%
model, tok, hist = handbook_gpt()
_, _, held_ids = handbook_char_data()
BLOCK = model.block_size
linears = {name: m for name, m in model.named_modules() if isinstance(m, torch.nn.Linear)}
n_weights = sum(m.weight.numel() for m in linears.values())
n_params = sum(p.numel() for p in model.parameters())
float_loss = held_out_loss(model, held_ids, BLOCK)
print(f"trained in {hist['seconds']:.1f} s; {len(linears)} linear layers: "
      + ", ".join(f"{name} {tuple(m.weight.shape)}" for name, m in list(linears.items())[:6]) + ", ... head "
      + f"{tuple(linears['head'].weight.shape)}")
print(f"{n_weights:,} weights in linear layers = {n_weights / n_params:.0%} of the {n_params:,} parameters")
print(f"float32: held-out loss {float_loss:.4f} nats/char, perplexity {math.exp(float_loss):.2f}")

# %% [markdown] lang="zh"
# ## 对称 absmax 量化
#
# 一组权重共用一个缩放因子 $s$。$b$ 位有符号整数取对称范围 $[-q_\max, q_\max]$，$q_\max = 2^{b-1}-1$（INT8 为 127，INT4 为 7）：
#
# $$s = \frac{\max |w|}{q_\max}, \qquad q = \mathrm{clamp}\big(\mathrm{round}(w/s),\, -q_\max,\, q_\max\big), \qquad \hat w = s\,q .$$
#
# 组里绝对值最大的权重正好落在 $\pm q_\max$ 上，其余权重的舍入误差不超过 $s/2$。所以**组里最大的那个权重决定了所有人的精度**。
# "组"有三种取法：
#
# - **逐张量量化**（per-tensor）：整个矩阵一个 $s$；
# - **逐通道量化**（per-channel）：每个输出通道，即权重矩阵（`nn.Linear` 的形状是输出 × 输入）的每一行一个 $s$；
# - **分组量化**（group-wise）：每行里每 32 个相邻的输入权重一个 $s$。
#
# 缩放因子以 float16 存储（每个 2 字节），INT4 的码值两个打包进一个字节。这与 llama.cpp 的 `Q4_0` 格式占用的空间相同：
# 每 32 个权重一个 float16 的 `d` 加 16 字节的 4 位码值，即每个权重 4.5 位；它的 `Q8_0` 则是每 32 个权重一个 float16 加 32 个 int8，每个权重 8.5 位
# （见 [ggml-common.h](https://github.com/ggml-org/llama.cpp/blob/master/ggml/src/ggml-common.h) 中的 `block_q4_0`、`block_q8_0`）。
# 细节不同：我们的 INT4 只用 $-7..7$ 这 15 个码值，而 `Q4_0` 把绝对值最大的权重映射到 $-8$，16 个码值都用上
# （`d = max / -8`，见 [ggml-quants.c](https://github.com/ggml-org/llama.cpp/blob/master/ggml/src/ggml-quants.c) 的 `quantize_row_q4_0_ref`）。
# 非对称量化再为每组存一个零点或最小值（如 `Q4_1` 的 `m`），能更好地覆盖不以 0 为中心的数据，这里不涉及。
#
# 下面先对第一个矩阵某一行的前 8 个权重演示 INT4 逐张量与 INT4 分组两种做法。

# %% [markdown] lang="en"
# ## Symmetric absmax quantization
#
# A block of weights shares one scale $s$. Signed $b$-bit integers take the symmetric range $[-q_\max, q_\max]$ with
# $q_\max = 2^{b-1}-1$ (127 for INT8, 7 for INT4):
#
# $$s = \frac{\max |w|}{q_\max}, \qquad q = \mathrm{clamp}\big(\mathrm{round}(w/s),\, -q_\max,\, q_\max\big), \qquad \hat w = s\,q .$$
#
# The weight of largest magnitude in the block lands exactly on $\pm q_\max$, and every other weight is rounded with an
# error of at most $s/2$. So **the largest weight in a block sets everyone's resolution**. There are three ways to draw
# the blocks:
#
# - **per-tensor quantization**: one $s$ for the whole matrix;
# - **per-channel quantization**: one $s$ per output channel, i.e. per row of the weight matrix (an `nn.Linear` weight
#   is output × input);
# - **group-wise quantization**: one $s$ per 32 neighbouring input weights within a row.
#
# Scales are stored in float16 (2 bytes each) and INT4 codes are packed two to a byte. This takes the same space as
# llama.cpp's `Q4_0` format: per 32 weights one float16 `d` plus 16 bytes of 4-bit codes, i.e. 4.5 bits per weight; its
# `Q8_0` is one float16 plus 32 int8 per 32 weights, 8.5 bits per weight (see `block_q4_0` and `block_q8_0` in
# [ggml-common.h](https://github.com/ggml-org/llama.cpp/blob/master/ggml/src/ggml-common.h)). The details differ: our
# INT4 uses only the 15 codes $-7..7$, while `Q4_0` maps the weight of largest magnitude to $-8$ and uses all 16
# (`d = max / -8` in `quantize_row_q4_0_ref` in
# [ggml-quants.c](https://github.com/ggml-org/llama.cpp/blob/master/ggml/src/ggml-quants.c)). Asymmetric quantization also
# stores a zero point or minimum per block (such as `Q4_1`'s `m`), which fits data not centred on 0 better; it is not
# covered here.
#
# First, a demonstration of INT4 per tensor and INT4 in groups on the first 8 weights of one row of the first matrix.

# %%
GROUP = 32


def quantize(w, bits, block):
    """Symmetric absmax quantization of a weight matrix w (out, in) to signed `bits`-bit codes.

    block: "tensor" (one scale), "channel" (one scale per output row) or an int g (one scale per g neighbouring
    weights of a row). Returns (q, scale): q int8 of shape (n_blocks, block_length) with values in [-qmax, qmax],
    scale float16 of shape (n_blocks, 1), equal to max|w| / qmax of its block.
    """
    qmax = 2 ** (bits - 1) - 1  # 127 for INT8, 7 for INT4 (symmetric: the code -128 or -8 stays unused)
    if block == "tensor":
        blocks = w.reshape(1, -1)
    elif block == "channel":
        blocks = w
    else:
        blocks = w.reshape(-1, block)  # a row is contiguous, so every block of g lies inside one row
    scale = (blocks.abs().amax(dim=1, keepdim=True) / qmax).to(torch.float16)  # stored as float16
    scale = torch.where(scale == 0, torch.ones_like(scale), scale)  # an all-zero block: any scale reproduces it
    q = torch.clamp(torch.round(blocks / scale.float()), -qmax, qmax).to(torch.int8)
    return q, scale


def dequantize(q, scale, shape):
    """The float32 weights the codes stand for: scale * q, back in the matrix's shape."""
    return (q.float() * scale.float()).reshape(shape)


def pack_int4(q):
    """Two signed 4-bit codes per byte (two's complement nibbles, the first code in the low nibble)."""
    nibbles = (q.flatten() & 0xF).to(torch.uint8)
    return nibbles[0::2] | (nibbles[1::2] << 4)


def unpack_int4(packed, shape):
    """Inverse of pack_int4: the int8 codes in `shape`."""
    nibbles = torch.stack([packed & 0xF, packed >> 4], dim=1).flatten().to(torch.int8)
    return torch.where(nibbles > 7, nibbles - 16, nibbles).reshape(shape)


w = linears["blocks.0.attn.q_proj"].weight.detach()
row = 5
for label, block in (("INT4 per tensor", "tensor"), (f"INT4 group {GROUP}", GROUP)):
    q, scale = quantize(w, 4, block)
    w_hat = dequantize(q, scale, w.shape)
    q = q.reshape(w.shape)
    s = scale.float().flatten()[0 if block == "tensor" else row * (w.size(1) // GROUP)].item()
    print(f"{label:<16} scale {s:.4f}  codes {q[row, :8].tolist()}")
print(f"{'weights':<16} {[round(v, 3) for v in w[row, :8].tolist()]}")
print(f"{'INT4 group 32':<16} {[round(v, 3) for v in w_hat[row, :8].tolist()]}  (dequantized)")

# %% [markdown] lang="zh"
# 逐张量时，整个矩阵的最大权重决定了步长，这一行的小权重只分到靠近 0 的几个码值；分组时，步长只由这 32 个权重中的最大者决定，
# 步长更小，码值铺得更开。
#
# ## 五种方案：字节数与困惑度
#
# 下面对每种方案量化全部线性层：按上面的方式实际存成码值（INT4 打包）加 float16 缩放因子，数出这些张量占的字节，再解包、
# 反量化，把权重写回模型的副本。存储公式是
#
# $$\text{字节数} = \frac{n \cdot b}{8} + 2 \times (\text{缩放因子个数}),$$
#
# 其中 $n$ 是权重个数，缩放因子个数对逐张量是矩阵个数，对逐通道是所有矩阵的行数之和，对分组是 $n/32$。
#
# **这是伪量化（fake quantization）。** 前向时权重已经反量化回 float32，矩阵乘法照常用浮点数做，所以这里测到的只是量化误差对模型质量的影响，
# 不是速度。真实的推理内核直接读打包的码值，在矩阵乘法内部即时反量化；解码受限于访存（见 [KV 缓存实验](kv-cache.ipynb#why-decoding-is-memory-bound)），
# 读的字节少了，才是仅权重量化提速的来源。作为参照，表中还有 bfloat16（把权重舍入到 bfloat16 再转回，每个 2 字节）。

# %% [markdown] lang="en"
# Per tensor, the largest weight of the whole matrix sets the step, and the small weights of this row get codes close to
# 0; in groups, the step is set by the largest of these 32 weights alone, so it is smaller and the codes spread out
# more.
#
# ## Five schemes: bytes and perplexity
#
# For each scheme every linear layer is quantized: stored for real as above, as codes (INT4 packed) plus float16
# scales, with the bytes of those tensors counted; then unpacked, dequantized and written back into a copy of the model.
# The storage formula is
#
# $$\text{bytes} = \frac{n \cdot b}{8} + 2 \times (\text{number of scales}),$$
#
# with $n$ the number of weights; the number of scales is the number of matrices per tensor, the total number of rows
# per channel, and $n/32$ in groups of 32.
#
# **This is fake quantization.** The forward pass runs on weights already dequantized to float32, and the matrix
# multiplications are ordinary floating-point ones, so what is measured here is the effect of quantization error on the
# model's quality, not speed. Real inference kernels read the packed codes and dequantize on the fly inside the matrix
# multiplication; decoding is memory-bound (see the [KV-cache lab](kv-cache.ipynb#why-decoding-is-memory-bound)), and
# reading fewer bytes is where the speed-up of weight-only quantization comes from. For reference the table also has
# bfloat16 (weights rounded to bfloat16 and back, 2 bytes each).

# %%
SCHEMES = {"INT8 per-tensor": (8, "tensor"), "INT8 per-channel": (8, "channel"), "INT4 per-tensor": (4, "tensor"),
           "INT4 per-channel": (4, "channel"), f"INT4 group {GROUP}": (4, GROUP)}


def quantized_copy(bits, block):
    """A copy of the model with every linear weight replaced by its dequantized codes (fake quantization).
    Returns (model copy, bytes of the stored codes and scales, whether every unpacked code equals the original)."""
    qmodel, stored, lossless = copy.deepcopy(model), 0, True
    for m in qmodel.modules():
        if isinstance(m, torch.nn.Linear):
            q, scale = quantize(m.weight.detach(), bits, block)
            codes = pack_int4(q) if bits == 4 else q  # what would be written to disk
            stored += codes.numel() * codes.element_size() + scale.numel() * scale.element_size()
            restored = unpack_int4(codes, q.shape) if bits == 4 else codes
            lossless &= torch.equal(restored, q)
            with torch.no_grad():
                m.weight.copy_(dequantize(restored, scale, m.weight.shape))
    return qmodel, stored, lossless


def formula_bytes(bits, block):
    """n * bits / 8 for the codes plus 2 bytes per float16 scale."""
    n_scales = sum(1 if block == "tensor" else m.out_features if block == "channel" else m.weight.numel() // block
                   for m in linears.values())
    return n_weights * bits // 8 + 2 * n_scales


bf16 = copy.deepcopy(model)
with torch.no_grad():
    for m in bf16.modules():
        if isinstance(m, torch.nn.Linear):
            m.weight.copy_(m.weight.to(torch.bfloat16).float())
results = {"float32": (4 * n_weights, 4 * n_weights, float_loss, True),
           "bfloat16": (2 * n_weights, 2 * n_weights, held_out_loss(bf16, held_ids, BLOCK), True)}
for name, (bits, block) in SCHEMES.items():
    qmodel, stored, lossless = quantized_copy(bits, block)
    results[name] = (stored, formula_bytes(bits, block), held_out_loss(qmodel, held_ids, BLOCK), lossless)

float_ppl = math.exp(float_loss)
print(f"{'scheme':<18} {'bytes':>10} {'formula':>10} {'bits/weight':>11} {'vs float32':>10} {'perplexity':>10} "
      f"{'change':>8}")
for name, (stored, formula, loss, _) in results.items():
    print(f"{name:<18} {stored:>10,} {formula:>10,} {8 * stored / n_weights:>11.3f} "
          f"{stored / results['float32'][0]:>10.3f} {math.exp(loss):>10.2f} {math.exp(loss) / float_ppl - 1:>+8.2%}")

# %%
names = list(results)[1:]
change = [100 * (math.exp(results[n][2]) / float_ppl - 1) for n in names]
fig, ax = plt.subplots()
bars = ax.barh(names, change, color=["grey"] + ["tab:blue"] * 2 + ["tab:orange"] * 3)
for bar, n in zip(bars, names):
    ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f"  {8 * results[n][0] / n_weights:.2f} bits/weight",
            va="center", fontsize=8)
ax.invert_yaxis()
ax.set_xlim(0, max(change) * 1.5)
ax.set_xlabel("held-out perplexity change vs float32 (%)")
ax.set_title("Weight-only quantization of the small GPT's linear layers")
plt.show()

# %% [markdown] lang="zh"
# 实测字节数与公式逐项相等，INT4 打包解包无损。INT8 两种方案几乎不改变困惑度，而且逐张量与逐通道差别不大：127 个台阶足够细。
# 到了 INT4，只有 7 个正台阶，缩放因子的粒度就成了关键：逐张量的困惑度上升最多，逐通道好得多，每 32 个一组最好；
# 代价是缩放因子更多，每个权重从 4 位左右升到 4.5 位。bfloat16 把每个权重减半，困惑度几乎不变。
#
# **常见误解："4 位模型"每个权重就是 4 位。** 缩放因子也要存：每 32 个权重一个 float16，就是每个权重多 0.5 位；
# llama.cpp 的 `Q4_0` 正是每个权重 4.5 位。所以 4 位分组量化的权重约为 bfloat16 的 $4.5/16 \approx 28\%$，而不是 25 %。
# 再加上通常不量化的嵌入层、归一化层，整个模型文件还要更大一些。

# %% [markdown] lang="en"
# The measured bytes equal the formula for every scheme, and INT4 packing round-trips losslessly. Both INT8 schemes
# hardly change perplexity, and per tensor is not much worse than per channel: 127 steps are fine enough. At INT4, with
# only 7 positive steps, the granularity of the scales becomes decisive: per tensor raises perplexity most, per channel
# much less, and groups of 32 least, at the price of more scales, from about 4 bits to 4.5 bits per weight. bfloat16
# halves every weight and leaves perplexity almost unchanged.
#
# **A common misconception: a "4-bit model" takes 4 bits per weight.** The scales have to be stored too: one float16
# per 32 weights adds 0.5 bits per weight, and llama.cpp's `Q4_0` is exactly 4.5 bits per weight. So 4-bit group-wise
# weights take about $4.5/16 \approx 28\%$ of bfloat16, not 25 %; with the embeddings and norms that usually stay
# unquantized, the whole model file is larger still.

# %% [markdown] lang="zh"
# ## 一个离群权重能造成什么
#
# 训练好的大模型里确实有个别异常大的权重：[Yu 等，arXiv:2411.07191](https://arxiv.org/abs/2411.07191) 发现，剪掉**一个**这样的"超级权重"
# 就能让模型的困惑度上升三个数量级；他们还发现，保留超级权重、裁剪其余离群值之后，最简单的就近舍入量化可以用大得多的分组。
# 我们的小模型没有这样的权重，所以人为造一个：把第一层 `up_proj`（384 × 96）中绝对值最大的权重放大 20 倍，
# 比较放大前后，**其余所有权重**的量化误差（均方根）、被舍入成 0 的比例，以及它们用到的不同码值个数。
#
# 机理就是上面那个公式：$s = \max|w| / q_\max$。离群值让所在组的 $\max|w|$ 变成 20 倍，步长随之变成 20 倍；只要步长仍远小于权重本身，
# 舍入误差大致与步长成正比，也就变成约 20 倍。步长大到超过大多数权重时，它们全被舍入成 0，误差不再增长，封顶在权重本身的大小——这时信息已经丢光了。
# 受害范围就是与离群值共用缩放因子的那些权重：逐张量是整个矩阵，逐通道是一行（96 个），分组是一组（32 个）；组外的码值应当与放大前**一模一样**。

# %% [markdown] lang="en"
# ## What one outlier weight does
#
# Trained large models do contain a few exceptionally large weights: [Yu et al., arXiv:2411.07191](https://arxiv.org/abs/2411.07191)
# found that pruning a **single** such "super weight" can raise a model's perplexity by three orders of magnitude, and
# that once the super weight is kept and the other outliers are clipped, plain round-to-nearest quantization works with
# much larger blocks. Our small model has no such weight, so we make one: the largest-magnitude weight of the first
# layer's `up_proj` (384 × 96) is multiplied by 20, and we compare, before and after, the quantization error (root mean
# square) of **all the other weights**, the share of them rounded to 0, and the number of distinct codes they use.
#
# The mechanism is the formula above: $s = \max|w| / q_\max$. The outlier makes its block's $\max|w|$ 20 times larger,
# so the step becomes 20 times larger; as long as the step stays well below the weights themselves, the rounding error
# is roughly proportional to the step and also grows about 20-fold. Once the step exceeds most weights, they are all
# rounded to 0 and the error stops growing, capped at the size of the weights themselves: by then the information is
# gone. The damage reaches exactly the weights that share the outlier's scale: the whole matrix per tensor, one row
# (96 weights) per channel, one group (32 weights) in groups; outside it, the codes should be **exactly** the same as
# before.

# %%
FACTOR = 20
W = linears["blocks.0.mlp.up_proj"].weight.detach()
r, c = divmod(W.abs().argmax().item(), W.size(1))
W_out = W.clone()
W_out[r, c] *= FACTOR
others = torch.ones_like(W, dtype=torch.bool)
others[r, c] = False
print(f"up_proj {tuple(W.shape)}: largest |w| = {W[r, c].abs().item():.3f} at row {r}, column {c} "
      f"({(W[r, c].abs() / W.std()).item():.1f} standard deviations); made {FACTOR}x larger")


def sharing(block):
    """Which weights share a scale with the outlier at (r, c)."""
    mask = torch.zeros_like(W, dtype=torch.bool)
    if block == "tensor":
        mask[:] = True
    elif block == "channel":
        mask[r] = True
    else:
        mask[r, c // block * block : (c // block + 1) * block] = True
    return mask


outlier_rows = {}
print(f"{'scheme':<18} {'share a scale':>13} {'RMS error: before':>18} {'after':>8} {'growth':>7} "
      f"{'rounded to 0':>13} {'':>6} {'codes used':>10} {'':>5} {'outside identical':>17}")
for name, (bits, block) in SCHEMES.items():
    (q0, s0), (q1, s1) = quantize(W, bits, block), quantize(W_out, bits, block)
    e0 = (dequantize(q0, s0, W.shape) - W)[others].pow(2).mean().sqrt().item()
    e1 = (dequantize(q1, s1, W.shape) - W_out)[others].pow(2).mean().sqrt().item()
    c0, c1 = q0.reshape(W.shape)[others], q1.reshape(W.shape)[others]
    outside = ~sharing(block)
    identical = torch.equal(q0.reshape(W.shape)[outside], q1.reshape(W.shape)[outside])
    outlier_rows[name] = (e0, e1, identical)
    print(f"{name:<18} {sharing(block).sum().item():>13,} {e0:>18.5f} {e1:>8.5f} {e1 / e0:>6.1f}x "
          f"{(c0 == 0).float().mean().item():>13.0%} {(c1 == 0).float().mean().item():>6.0%} "
          f"{c0.unique().numel():>10} {c1.unique().numel():>5} {str(identical) if outside.any() else '(none outside)':>17}")

# %% [markdown] lang="zh"
# INT8 逐张量时，其余权重的误差随步长放大了约 20 倍，原来分散在上百个码值上的权重挤进了其中很少的几个。INT4 逐张量时，其余权重几乎全部变成 0，
# 误差的增长反而小于 20 倍——不是因为损害小，而是误差已经封顶：量化后剩下的几乎只有离群值本身。逐通道时，整体误差的上升全部来自离群值所在的那一行；
# 每 32 个一组时，上升几乎看不出来。在这两种方案下，与离群值不共用缩放因子的码值都逐位不变。
#
# 真实的大模型里，更麻烦的离群值出现在**激活**（隐藏状态）里。[Dettmers 等的 LLM.int8()（arXiv:2208.07339）](https://arxiv.org/abs/2208.07339)
# 发现 Transformer 语言模型中存在高度系统性的"涌现特征"：少数几个特征维度的数值远大于其余维度，并主导注意力和模型的预测表现。
# 如果激活按整个张量共用一个缩放因子量化成 INT8，就会出现上面的情形——其余维度的分辨率被挤掉。他们的办法正是缩小共用缩放因子的范围，
# 再把离群的维度单独拿出来：矩阵乘法中每个内积用各自的归一化常数（向量级量化），离群特征所在的维度改用 16 位矩阵乘法（混合精度分解），
# 其余超过 99.9 % 的数值仍用 8 位相乘。

# %% [markdown] lang="en"
# With INT8 per tensor, the other weights' error grows about 20-fold with the step, and weights that were spread over
# more than a hundred codes are squeezed into very few of them. With INT4 per tensor, nearly all the other weights become
# 0 and the error grows by less than 20x: not because the damage is smaller, but because the error is capped; almost
# nothing but the outlier itself survives quantization. Per channel, the whole rise of the overall error comes from the
# outlier's own row; in groups of 32 it is barely visible. In both, every code that does not share the outlier's scale
# is bit-for-bit unchanged.
#
# In real large models the more troublesome outliers are in the **activations** (the hidden states).
# [Dettmers et al.'s LLM.int8() (arXiv:2208.07339)](https://arxiv.org/abs/2208.07339) found highly systematic "emergent
# features" in Transformer language models: a few feature dimensions with values far larger than the rest, which
# dominate attention and the model's predictive performance. Quantizing such activations to INT8 with one scale for the
# whole tensor produces exactly the situation above: the other dimensions lose their resolution. Their remedy narrows
# what shares a scale and takes the outliers out: a separate normalisation constant for each inner product of the
# matrix multiplication (vector-wise quantization), and a 16-bit matrix multiplication for the outlier feature
# dimensions (mixed-precision decomposition), while more than 99.9 % of the values are still multiplied in 8 bits.

# %% [markdown] lang="zh"
# ## 真实方法在此之上多做了什么
#
# 本实验的做法是就近舍入（round-to-nearest）：每个权重独立地舍入到最近的码值。2026 年常用的训练后量化方法在此之上各加了一步：
#
# - **GPTQ**（[Frantar 等，arXiv:2210.17323](https://arxiv.org/abs/2210.17323)）：一次性的仅权重量化，利用近似的二阶信息，
#   在量化一部分权重时调整尚未量化的权重来补偿误差，需要少量校准数据。论文报告约 4 个 GPU 小时即可把 1750 亿参数的模型量化到每个权重 3 或 4 位，
#   精度损失可以忽略。
# - **AWQ**（[Lin 等，arXiv:2306.00978](https://arxiv.org/abs/2306.00978)）：权重并非同等重要，只保护约 1 % 的显著权重就能大幅减小量化误差；
#   显著与否要看**激活**的分布而不是权重本身。AWQ 不做混合精度，而是用数学上等价的逐通道缩放把显著通道放大后再量化，缩放系数由离线收集的激活统计决定，
#   不需要反向传播。
# - **LLM.int8()**：见上一节，权重和激活都用 8 位，离群特征维度保留 16 位。**SmoothQuant**
#   （[Xiao 等，arXiv:2211.10438](https://arxiv.org/abs/2211.10438)）则用等价变换把激活的量化难度"转移"到权重上，实现权重、激活都是 8 位（W8A8）。
#
# 仅权重量化（如 GPTQ、AWQ 的 4 位）减少的是显存和读权重的字节，适合受限于访存的小批量解码；权重与激活都量化（W8A8）才能用上整数矩阵乘法单元，
# 对受限于算力的预填充和大批量更有用。

# %% [markdown] lang="en"
# ## What real methods add
#
# This lab rounds to nearest: every weight is rounded to its closest code on its own. The post-training methods in
# common use in 2026 each add a step on top:
#
# - **GPTQ** ([Frantar et al., arXiv:2210.17323](https://arxiv.org/abs/2210.17323)): one-shot weight-only quantization
#   that uses approximate second-order information, adjusting the weights not yet quantized to compensate for the error
#   of those already quantized; it needs a little calibration data. The paper reports quantizing a 175-billion-parameter
#   model to 3 or 4 bits per weight in about four GPU hours with negligible loss of accuracy.
# - **AWQ** ([Lin et al., arXiv:2306.00978](https://arxiv.org/abs/2306.00978)): weights are not equally important, and
#   protecting only about 1 % of salient weights greatly reduces quantization error; which ones are salient is read from
#   the **activations**, not from the weights. Instead of mixed precision, AWQ scales the salient channels up with a
#   mathematically equivalent per-channel scaling before quantizing, with the scales set from activation statistics
#   collected offline, and needs no backpropagation.
# - **LLM.int8()**: see the previous section; weights and activations in 8 bits, outlier feature dimensions kept in 16.
#   **SmoothQuant** ([Xiao et al., arXiv:2211.10438](https://arxiv.org/abs/2211.10438)) instead moves the quantization
#   difficulty from the activations to the weights with an equivalent transformation, so that both weights and
#   activations are 8-bit (W8A8).
#
# Weight-only quantization (such as 4-bit GPTQ or AWQ) saves memory and the bytes read for the weights, which suits
# memory-bound decoding at small batch sizes; quantizing weights and activations (W8A8) is what lets integer
# matrix-multiplication units do the work, which matters more for compute-bound prefill and large batches.

# %% [markdown] lang="zh"
# ## 检查
#
# 断言（阈值的理由见各节）：
#
# - 每种方案实际存储的字节数**等于**公式，INT4 打包后解包得到的码值与原码值完全相同；
# - INT8 逐通道的困惑度与 float32 相差不超过 0.5 %。理由：每行的步长是该行最大权重的 1/127，舍入误差不超过步长的一半，
#   即该行最大权重的 1/254（约 0.4 %）；而 INT4 逐张量这样粗的量化会超出 0.5 % 的范围，所以这条断言能区分好坏；
# - INT4 分组的困惑度上升不到 INT4 逐张量的三分之一（"明显更好"），且 INT4 逐张量的上升本身超过 0.5 %（否则比较没有意义）；
# - 离群值实验中，INT8 逐张量时其余权重的均方根误差至少增长 10 倍（按步长的推理约为 20 倍，10 倍留出余量），
#   而逐通道、分组时，不与离群值共用缩放因子的权重的码值与放大前逐位相同。

# %% [markdown] lang="en"
# ## Check
#
# Asserted (each threshold is argued in its section):
#
# - for every scheme the bytes actually stored **equal** the formula, and INT4 codes unpacked after packing equal the
#   original codes;
# - INT8 per channel is within 0.5 % of float32 in perplexity. Reason: each row's step is 1/127 of its largest weight,
#   and rounding errs by at most half a step, i.e. 1/254 (about 0.4 %) of the row's largest weight; a quantization as
#   coarse as INT4 per tensor falls outside the 0.5 % margin, so the assertion tells good from bad;
# - INT4 in groups raises perplexity by less than a third of what INT4 per tensor does ("clearly better"), and INT4 per
#   tensor's rise is itself above 0.5 % (otherwise the comparison would mean nothing);
# - in the outlier experiment, the other weights' RMS error grows at least 10-fold with INT8 per tensor (the step
#   argument says about 20-fold; 10 leaves a margin), while per channel and in groups, the codes of the weights that
#   do not share the outlier's scale are bit-for-bit the same as before.

# %%
def ppl_change(name):
    return math.exp(results[name][2]) / float_ppl - 1


for name, (stored, formula, _, lossless) in results.items():
    assert stored == formula, f"{name}: {stored:,} bytes stored, the formula says {formula:,}"
    assert lossless, f"{name}: unpacked INT4 codes differ from the packed ones"
int8, int4, int4_group = ppl_change("INT8 per-channel"), ppl_change("INT4 per-tensor"), ppl_change(f"INT4 group {GROUP}")
assert abs(int8) <= 0.005, f"INT8 per-channel changes perplexity by {int8:+.2%}"
assert int4 > 0.005, f"INT4 per-tensor changes perplexity by only {int4:+.2%}"
assert int4_group < int4 / 3, f"INT4 group {GROUP} ({int4_group:+.2%}) is not clearly better than INT4 per-tensor ({int4:+.2%})"
e0, e1, _ = outlier_rows["INT8 per-tensor"]
assert e1 / e0 >= 10, f"INT8 per-tensor: the other weights' error grew only {e1 / e0:.1f}x"
for name in SCHEMES:
    if "per-tensor" not in name:
        assert outlier_rows[name][2], f"{name}: codes outside the outlier's block changed"
print(f"check passed: stored bytes == formula for {len(results)} formats; perplexity change INT8 per-channel {int8:+.2%}, "
      f"INT4 group {GROUP} {int4_group:+.2%}, INT4 per-tensor {int4:+.2%}; one outlier: INT8 per-tensor error "
      f"x{e1 / e0:.1f}, codes outside the outlier's row or group unchanged")
