# %% [markdown] lang="zh"
# # 实验：保存、加载模型，并把问答检索做成 Web 服务
#
# 来源：第 003 篇《大模型在 AI 创业公司产品策略中的创新》第 4 题"模型部署和调优"（[章节](../chapters/product-strategy.md#q-deploy-and-tune)）和第 6 题"大模型的产品化"（[章节](../chapters/product-strategy.md#q-productization)）。
#
# **原代码的问题：**
#
# - 第 4 题号称"使用 TensorFlow Serving"，实际只是 `keras.models.load_model` 在本进程里推理，与 TF Serving 无关；
# - 第 6 题的 Flask 服务没有导入 `tf` 和 `np`；`np.argmax` 返回的 `np.int64` 无法被序列化成 JSON；把类别下标当作"答案"返回；
#   对输入不做任何校验（`request.json["question"]` 在请求体不是 JSON 或缺字段时直接抛异常）。
#
# **本实验做什么：** (a) 用两种方式保存并重新加载一个训练好的 PyTorch 模型——`state_dict`（`torch.save` / `load_state_dict`，
# 以 `weights_only` 方式加载）和可移植的 `torch.export` 格式——并断言输出完全一致；(b) 在本手册自己的题目上做一个问答检索服务：
# 字符 n-gram TF-IDF + 余弦相似度，用 Flask 提供 `POST /ask`，对坏输入返回带 JSON 错误信息的 400，用 `app.test_client()` 测试
# （不起服务器、不联网），并测量每个请求的延迟。

# %% [markdown] lang="en"
# # Lab: saving and loading a model, and serving question retrieval over HTTP
#
# Source: article 003, 《大模型在 AI 创业公司产品策略中的创新》 ("Innovation with large models in AI startups' product strategy"), question 4, "deploying and tuning models" ([chapter](../chapters/product-strategy.md#q-deploy-and-tune)), and question 6, "turning large models into products" ([chapter](../chapters/product-strategy.md#q-productization)).
#
# **What was wrong with the original code:**
#
# - question 4 claims to "use TensorFlow Serving" but only calls `keras.models.load_model` and predicts in-process: nothing to do
#   with TF Serving;
# - question 6's Flask service never imports `tf` or `np`; the `np.int64` from `np.argmax` cannot be serialised to JSON; a class
#   index is returned as "the answer"; and there is no input validation (`request.json["question"]` raises when the body is not
#   JSON or the field is missing).
#
# **What this lab does:** (a) saves and reloads a trained PyTorch model two ways — a `state_dict` (`torch.save` /
# `load_state_dict`, loaded with `weights_only`) and the portable `torch.export` format — and asserts identical outputs;
# (b) builds a question-answering retrieval service over this handbook's own questions: character n-gram TF-IDF + cosine
# similarity, served by Flask as `POST /ask`, returning 400 with a JSON error for bad input, tested with `app.test_client()` (no
# server, no network), with the latency per request measured.

# %%
import json
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import torch
from flask import Flask, jsonify, request
from sklearn.feature_extraction.text import TfidfVectorizer
from werkzeug.exceptions import HTTPException

from labkit import DigitsCNN, handbook_questions, seed_everything, train_digits_cnn

seed_everything(0, threads=1)
workdir = Path(tempfile.mkdtemp(prefix="serving-lab-"))

# %% [markdown] lang="zh"
# ## (a) 两种保存格式
#
# 先训练数字识别实验里的那个 CNN（同一个 `train_digits_cnn()`）。
#
# **`state_dict`** 只保存参数张量（一个"名字 → 张量"的字典）。加载时要先用 Python 代码把模型类实例化，再把参数填进去。
# 用 `torch.load(..., weights_only=True)`（PyTorch 2.6 起的默认值）加载：它只反序列化张量和基本容器，
# 不会执行文件里任意的 pickle 代码——加载来源不明的模型文件时这一点很重要。

# %% [markdown] lang="en"
# ## (a) Two ways to save a model
#
# First, train the CNN from the digit recognition lab (the same `train_digits_cnn()`).
#
# **A `state_dict`** stores only the parameter tensors (a "name → tensor" dictionary). To load it you instantiate the model class
# in Python, then fill in the parameters. Load it with `torch.load(..., weights_only=True)` (the default since PyTorch 2.6): it
# only unpickles tensors and plain containers and will not run arbitrary pickled code from the file — which matters when a
# model file comes from somewhere you do not fully trust.

# %%
model, history = train_digits_cnn(verbose=False)  # returned in eval mode
x = torch.rand(16, 1, 8, 8, generator=torch.Generator().manual_seed(0))
with torch.no_grad():
    reference = model(x)
print(f"trained in {history['seconds']:.1f} s; reference logits {tuple(reference.shape)}")

torch.save(model.state_dict(), workdir / "digits_cnn.pt")
state = torch.load(workdir / "digits_cnn.pt", weights_only=True)
print({name: tuple(t.shape) for name, t in state.items()})
restored = DigitsCNN()  # needs the class definition
restored.load_state_dict(state)
restored.eval()
with torch.no_grad():
    same_state_dict = torch.equal(restored(x), reference)
print(f"state_dict: {(workdir / 'digits_cnn.pt').stat().st_size / 1024:.0f} KB, identical outputs: {same_state_dict}")

# %% [markdown] lang="zh"
# **`torch.export`** 把模型追踪成一张只含 ATen 算子的计算图，连同参数一起存成 `.pt2` 文件。加载它**不需要**原来的 Python 类，
# 所以可以交给别的进程、别的服务去跑。这里把批大小声明为动态维度，一个导出的程序就能处理任意批大小。
# （`torch.jit.trace` / TorchScript 在这个版本的 PyTorch 中已标记为弃用，官方建议改用 `torch.export`；
# ONNX 需要另装 `onnx` 包，本环境没有。）
#
# 为了证明"不需要原来的类"，我们在一个全新的 Python 进程里加载 `.pt2`——那个进程只导入 `torch`，不导入 `labkit`。

# %% [markdown] lang="en"
# **`torch.export`** traces the model into a graph of ATen operators and saves it with its parameters as a `.pt2` file. Loading
# it does **not** need the original Python class, so another process or service can run it. Here the batch size is declared a
# dynamic dimension, so one exported program handles any batch size. (`torch.jit.trace` / TorchScript is marked deprecated in
# this PyTorch release, which recommends `torch.export` instead; ONNX would need the `onnx` package, not installed here.)
#
# To show that the original class is not needed, we load the `.pt2` in a brand-new Python process that imports only `torch`,
# not `labkit`.

# %%
batch = torch.export.Dim("batch", min=1, max=4096)
exported = torch.export.export(model, (x,), dynamic_shapes={"x": {0: batch}})
torch.export.save(exported, workdir / "digits_cnn.pt2")
loaded = torch.export.load(workdir / "digits_cnn.pt2").module()
with torch.no_grad():
    same_export = torch.equal(loaded(x), reference)
    other_batch_sizes = all(torch.equal(loaded(x[:n]), model(x[:n])) for n in (1, 3))
print(f"torch.export: {(workdir / 'digits_cnn.pt2').stat().st_size / 1024:.0f} KB, identical outputs: {same_export}, "
      f"batch sizes 1 and 3 too: {other_batch_sizes}")

torch.save(x, workdir / "x.pt")
child_code = textwrap.dedent(f"""
    import torch
    program = torch.export.load({str(workdir / 'digits_cnn.pt2')!r}).module()
    torch.save(program(torch.load({str(workdir / 'x.pt')!r})), {str(workdir / 'child_out.pt')!r})
""")
subprocess.run([sys.executable, "-c", child_code], check=True, timeout=120)
same_in_fresh_process = torch.equal(torch.load(workdir / "child_out.pt", weights_only=True), reference)
print("identical outputs from a fresh process that never imported the model class:", same_in_fresh_process)
shutil.rmtree(workdir)

# %% [markdown] lang="zh"
# ## (b) 问答检索：先修好原代码的一个坑
#
# JSON 只认 Python 自己的 `int` / `float`。NumPy 的整数类型不是 `int` 的子类，直接序列化会报错——原代码的 `np.argmax` 正是如此：

# %% [markdown] lang="en"
# ## (b) Question retrieval: first, one pitfall of the original
#
# JSON only knows Python's own `int` / `float`. NumPy's integer types are not subclasses of `int`, so serialising one raises —
# exactly what the original's `np.argmax` returns:

# %%
try:
    json.dumps({"answer": np.argmax([0.1, 0.9])})
except TypeError as err:
    print("TypeError:", err)
print(json.dumps({"answer": int(np.argmax([0.1, 0.9]))}), "<- convert with int() first")

# %% [markdown] lang="zh"
# ## 检索索引
#
# 原代码把分类器输出的类别下标当答案，这并不能回答问题。我们换一个真正可用的思路：把用户的问题与手册里已有的题目匹配，返回最相近的那一道题。
#
# 文本表示用**字符 n-gram**（1 到 3 个字符）的 TF-IDF：中文不需要分词，一两个字符的片段就能对上"隐私""部署"这样的词；
# `char_wb` 只在词内部取 n-gram，英文也能用。每个向量做 L2 归一化，点积就是余弦相似度。
# 题目（中英标题）和答案正文各建一个索引，得分取两者的平均：标题短而准，答案补充了更多词汇。
# `handbook_questions()` 的内容会随章节重新生成，所以下面的代码不依赖具体的题号和题数。

# %% [markdown] lang="en"
# ## The index
#
# The original returned a classifier's class index as the answer, which answers nothing. We do something useful instead: match
# the user's question against the questions already in the handbook and return the closest one.
#
# The text representation is TF-IDF over **character n-grams** (1 to 3 characters): Chinese needs no word segmentation, since
# one- and two-character pieces already match words such as 隐私 (privacy) or 部署 (deployment); `char_wb` takes n-grams inside
# word boundaries, so English works too. Vectors are L2-normalised, so a dot product is the cosine similarity. Titles (Chinese and
# English) and answer texts get one index each, and the score is the mean of the two: titles are short and precise, answers add
# vocabulary. `handbook_questions()` is regenerated from the chapters, so the code below depends on no particular id or count.


# %%
class QuestionIndex:
    """Character n-gram TF-IDF over the handbook's questions; score = mean cosine over titles and answers."""

    def __init__(self, questions: list[dict], answer_weight: float = 0.5):
        self.questions = questions
        titles = [f"{q['title_zh']} {q['title_en']}" for q in questions]
        answers = [q.get("answer_zh", "") for q in questions]
        self.fields = [(1 - answer_weight if any(answers) else 1.0, *self._fit(titles))]
        if any(answers) and answer_weight > 0:
            self.fields.append((answer_weight, *self._fit(answers)))

    @staticmethod
    def _fit(texts):
        vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3))
        return vectorizer, vectorizer.fit_transform(texts)

    def scores(self, text: str) -> np.ndarray:
        return sum(w * (m @ v.transform([text]).T).toarray().ravel() for w, v, m in self.fields)

    def search(self, text: str, k: int = 3) -> list[tuple[dict, float]]:
        s = self.scores(text)
        top = np.argsort(-s, kind="stable")[:k]
        return [(self.questions[i], float(s[i])) for i in top]  # float(): plain Python numbers for JSON


questions = handbook_questions()
start = time.perf_counter()
index = QuestionIndex(questions)
print(f"{len(questions)} questions from {len({q['chapter'] for q in questions})} chapters indexed in "
      f"{(time.perf_counter() - start) * 1000:.0f} ms; vocabulary sizes {[len(v.vocabulary_) for _, v, _ in index.fields]}")

# %% [markdown] lang="zh"
# ## Flask 服务
#
# 用"应用工厂"函数创建 app，便于测试。`/ask` 先校验输入：请求体必须是 JSON 对象，`question` 必须是非空字符串、长度不超过上限；
# 任何一条不满足都返回 400 和一条说明原因的 JSON 错误。其他 HTTP 错误（例如用 GET 访问）也统一返回 JSON，而不是 HTML 页面。

# %% [markdown] lang="en"
# ## The Flask service
#
# An "application factory" function creates the app, which keeps it easy to test. `/ask` validates its input first: the body
# must be a JSON object, and `question` must be a non-empty string no longer than a limit; any violation returns 400 with a JSON
# error saying why. Other HTTP errors (a GET, for instance) also come back as JSON rather than an HTML page.


# %%
MAX_QUESTION_CHARS = 300


def create_app(index: QuestionIndex) -> Flask:
    app = Flask("handbook_qa")
    app.json.sort_keys = False  # keep the fields in the order written below

    def bad_request(message: str):
        return jsonify({"error": message}), 400

    @app.post("/ask")
    def ask():
        payload = request.get_json(silent=True)  # None if the body is not (valid) JSON
        if not isinstance(payload, dict):
            return bad_request('the body must be a JSON object such as {"question": "..."}')
        if "question" not in payload:
            return bad_request("missing field 'question'")
        question = payload["question"]
        if not isinstance(question, str):
            return bad_request("'question' must be a string")
        question = question.strip()
        if not question:
            return bad_request("'question' is empty")
        if len(question) > MAX_QUESTION_CHARS:
            return bad_request(f"'question' is longer than {MAX_QUESTION_CHARS} characters")
        (best, score), *others = index.search(question, k=3)
        return jsonify({
            "id": best["id"], "chapter": best["chapter"], "title": best["title_zh"], "title_en": best["title_en"],
            "score": round(score, 4), "link": f"chapters/{best['chapter']}.md#{best['id']}",
            "alternatives": [{"id": q["id"], "title": q["title_zh"], "score": round(s, 4)} for q, s in others],
        })

    @app.errorhandler(HTTPException)
    def http_error(err):
        return jsonify({"error": err.description}), err.code

    return app


client = create_app(index).test_client()
reply = client.post("/ask", json={"question": "怎样把一个大模型做成真正的产品？"})
print(reply.status_code, json.dumps(reply.get_json(), ensure_ascii=False, indent=1))

# %% [markdown] lang="zh"
# ## 换个说法问，能找对题吗？
#
# 下面每条改写都配一个正则表达式，用来在**运行时**从题目标题里找出"正确答案"的集合（同一主题可能有几道题，命中其中任何一道都算对）。
# 这样题库重新生成、题号变化后，测试依然成立。前面几条是与原题措辞有部分重叠的正常改写；最后三条是几乎不共享字面的"难"改写，
# 只展示、不断言——字符 n-gram 只能匹配字面，换成同义表达就找不到了，这时需要语义向量（embedding）检索。

# %% [markdown] lang="en"
# ## Asked in other words, does it find the right question?
#
# Each paraphrase comes with a regular expression that picks, **at run time**, the set of correct questions from the titles
# (a topic may have several questions; hitting any of them counts). So the test stays valid when the question list is
# regenerated and ids change. The first group are ordinary rewordings that share some wording with the original; the last three
# are "hard" paraphrases that share almost no surface text and are shown, not asserted: character n-grams only match surface
# text, so synonyms defeat them — that is where semantic (embedding) retrieval comes in.

# %%
PARAPHRASES = [  # (pattern matched against "title_zh title_en", paraphrase)
    (r"GAN|生成对抗", "写一个 GAN：生成器和判别器要怎么交替训练？"),
    (r"RNN|循环神经网络", "怎么从零手写一个最简单的循环网络？"),
    (r"隐私", "训练数据里的个人隐私怎么保护？"),
    (r"商业化", "大模型创业公司靠什么赚钱，商业模式有哪些？"),
    (r"伦理", "做大模型创业会碰到哪些监管和伦理难题？"),
    (r"框架", "开发产品时应该怎么挑深度学习框架？"),
    (r"产品化", "怎样把一个大模型做成真正的产品？"),
    (r"部署", "模型训练好以后如何上线部署，上线后怎么调优？"),
    (r"手写数字", "怎么用神经网络识别手写的数字？"),
    (r"翻译", "用 Transformer 做中英机器翻译该怎么实现？"),
    (r"超参数", "学习率、批大小这些超参数怎么调？"),
    (r"持续学习", "模型上线后怎样不断学习新数据而不忘记旧知识？"),
    (r"adversarial", "How do I code a generative adversarial network?"),
    (r"deploy", "How do you deploy a model and tune it afterwards?"),
]
HARD = [
    (r"训练效率|加速", "怎么让大模型训练得更快？"),
    (r"可解释", "怎么解释大模型为什么给出这个预测？"),
    (r"压缩", "如何把模型变小、推理变快？"),
]


def run_paraphrases(cases):
    rows = []
    for pattern, text in cases:
        targets = {q["id"] for q in questions if re.search(pattern, f"{q['title_zh']} {q['title_en']}", re.I)}
        if not targets:  # this topic is not in the current question list: skip it
            continue
        answer = client.post("/ask", json={"question": text}).get_json()
        rows.append((text, answer["id"] in targets, answer))
        mark = "ok  " if rows[-1][1] else "MISS"
        print(f"{mark} {answer['score']:.3f}  {text}\n       -> {answer['title']} ({answer['id']})")
    return rows


results = run_paraphrases(PARAPHRASES)
print(f"\nparaphrases answered correctly: {sum(ok for _, ok, _ in results)} of {len(results)}\n\nhard paraphrases:")
hard_results = run_paraphrases(HARD)

# %% [markdown] lang="zh"
# ## 坏输入
#
# 每一种坏输入都应得到 400 和一条 JSON 错误信息，而不是 500（服务器内部错误）。

# %% [markdown] lang="en"
# ## Bad input
#
# Every kind of bad input should get a 400 with a JSON error message, not a 500 (internal server error).

# %%
BAD_REQUESTS = {
    "plain-text body": dict(data="question=hello", content_type="text/plain"),
    "malformed JSON": dict(data='{"question": ', content_type="application/json"),
    "JSON list, not object": dict(json=["什么是大模型？"]),
    "missing question": dict(json={"q": "什么是大模型？"}),
    "question is null": dict(json={"question": None}),
    "question is a number": dict(json={"question": 42}),
    "empty question": dict(json={"question": ""}),
    "whitespace only": dict(json={"question": "   \n"}),
    "too long": dict(json={"question": "大模型" * 200}),
}
bad_status = {}
for name, kwargs in BAD_REQUESTS.items():
    reply = client.post("/ask", **kwargs)
    bad_status[name] = (reply.status_code, reply.is_json and "error" in reply.get_json())
    print(f"{name:22s} -> {reply.status_code} {reply.get_json()}")
reply = client.get("/ask")
print(f"{'GET instead of POST':22s} -> {reply.status_code} {reply.get_json()}")

# %% [markdown] lang="zh"
# ## 延迟
#
# 用测试客户端连续发 200 个请求，逐个计时。测到的是 Flask 路由 + 输入校验 + 检索 + JSON 编码的时间，不含网络。
# 线上服务通常看中位数和 p95（95 % 的请求不超过这个时间）；TF-IDF 检索每次只是一个稀疏矩阵乘法，在这个规模上很快。

# %% [markdown] lang="en"
# ## Latency
#
# Send 200 requests through the test client, timing each. This measures Flask routing + validation + retrieval + JSON encoding,
# without the network. Services are usually judged by the median and the p95 (95 % of requests take at most this long); a
# TF-IDF lookup is one sparse matrix product, which is fast at this size.

# %%
texts = [text for _, text in PARAPHRASES]
latencies = []
for i in range(200):
    t0 = time.perf_counter()
    reply = client.post("/ask", json={"question": texts[i % len(texts)]})
    latencies.append((time.perf_counter() - t0) * 1000)
    assert reply.status_code == 200
median_ms, p95_ms = np.percentile(latencies, [50, 95])
print(f"200 requests: median {median_ms:.2f} ms, p95 {p95_ms:.2f} ms, max {max(latencies):.2f} ms")

# %% [markdown] lang="zh"
# ## 检查
#
# 断言：两种保存格式重新加载后输出与原模型逐位相同（`torch.export` 在全新进程里也一样）；当前题库中至少有 8 条改写的目标题存在，
# 且每一条都找到了正确的题；每一种坏输入都得到 400 和 JSON 错误信息。

# %% [markdown] lang="en"
# ## Check
#
# Asserted: after reloading, both formats give outputs bit-identical to the original model (`torch.export` in a fresh process
# too); at least 8 paraphrase targets exist in the current question list, and every one of those paraphrases finds a right
# question; every kind of bad input gets a 400 with a JSON error.

# %%
assert same_state_dict and same_export and other_batch_sizes, "a reloaded model gives different outputs"
assert same_in_fresh_process, "the exported program gives different outputs in a fresh process"
assert len(results) >= 8, f"only {len(results)} paraphrase targets found in the question list"
missed = [text for text, ok, _ in results if not ok]
assert not missed, f"wrong question for: {missed}"
wrong = {name: status for name, status in bad_status.items() if status != (400, True)}
assert not wrong, f"bad input not rejected with a JSON 400: {wrong}"
print(f"check passed: reloaded outputs identical (state_dict, torch.export, fresh process); "
      f"{len(results)}/{len(results)} paraphrases right; {len(bad_status)} bad inputs -> 400; "
      f"latency median {median_ms:.2f} ms, p95 {p95_ms:.2f} ms")
