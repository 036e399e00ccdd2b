# %% [markdown] lang="zh"
# # 实验：用户数据清洗、去重、归一化与脱敏
#
# 来源：第 004 篇《AI 大模型创业：如何利用用户优势？》编程练习 2（[章节](../chapters/user-data-and-training.md#q-exercise-data-cleaning)），
# 以及第 10 题（[数据安全](../chapters/user-data-and-training.md#q-data-security)）和第 13 题（[数据隐私](../chapters/user-data-and-training.md#q-data-privacy)）里的"脱敏"。
#
# **原文的问题：**
#
# - 练习 2 只有一句"实现数据清洗、去重、归一化等预处理操作"，承诺的答案和代码没有给出；
# - 第 10、13 题说"将身份证号、手机号码等替换为随机字符"，却没说怎么找到它们：藏在备注这类自由文本里的个人信息最容易漏；
#   而且随机替换会破坏同一用户记录之间的关联。
#
# **本实验做什么：** 用固定随机种子生成一张"脏"的用户表（数字存成字符串、日期格式混杂、缺失值、大小写和空格不一致、
# 完全重复的行、同一个人换了写法重复注册），里面有中国大陆手机号、带 GB 11643 校验位的 18 位身份证号和邮箱，备注里也有。
# 我们一步步修正类型、处理缺失值（并说明每种选择的理由）、精确去重和近似去重、只在训练集上拟合归一化，
# 最后把手机号、身份证号、邮箱在**所有列**里遮盖掉，并用正则扫描整张表来验证。每一步都打印前后的计数。

# %% [markdown] lang="en"
# # Lab: cleaning, de-duplicating, scaling and masking user data
#
# Source: article 004, "AI startups with large models: how to use the user advantage", coding exercise 2 ([chapter](../chapters/user-data-and-training.md#q-exercise-data-cleaning)),
# and the "masking" in questions 10 ([data security](../chapters/user-data-and-training.md#q-data-security)) and 13 ([data privacy](../chapters/user-data-and-training.md#q-data-privacy)).
#
# **What was wrong with the original:**
#
# - exercise 2 is one line, "implement data cleaning, de-duplication, normalisation and other preprocessing"; the promised answer
#   and code never came;
# - questions 10 and 13 say "replace ID-card and phone numbers with random characters" but not how to find them: personal data
#   hidden in free text such as a notes field is the easiest to miss; and random replacement breaks the link between one user's
#   records.
#
# **What this lab does:** a seeded generator produces a messy user table (numbers stored as strings, mixed date formats, missing
# values, inconsistent case and spacing, exact duplicate rows, the same person registered twice with different spellings) that
# holds mainland-China mobile numbers, 18-digit ID-card numbers with valid GB 11643 check digits and e-mail addresses, in the notes
# too. Step by step we fix the types, handle missing values (with a reason for each choice), remove exact and near duplicates,
# fit the scaling on the training set only, and finally mask phone, ID-card and e-mail values in **every column**, verified by a
# regex scan of the whole table. Every step prints its counts before and after.

# %%
import hashlib
import hmac
import re

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from labkit import seed_everything, setup_plots

seed_everything(0)
setup_plots()
pd.set_option("display.width", 140, "display.max_columns", 20, "display.max_colwidth", 48)

# %% [markdown] lang="zh"
# ## 身份证号的校验位（GB 11643-1999）
#
# 18 位身份证号 = 6 位地址码 + 8 位出生日期 + 3 位顺序码（第 17 位奇数为男、偶数为女）+ 1 位校验码。
# 前 17 位 $a_1..a_{17}$ 乘以权重 $W_i = 2^{18-i} \bmod 11$（即 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2），
# 求和后取 $S \bmod 11$，按 0–10 依次对应校验码 `1 0 X 9 8 7 6 5 4 3 2`。生成器用它造出合法号码，清洗时用它发现录入错误：
# 因为 11 是质数、每个权重都不是 11 的倍数，**任何一位**录错都会让校验码对不上。

# %% [markdown] lang="en"
# ## The ID-card check digit (GB 11643-1999)
#
# An 18-digit ID-card number = a 6-digit area code + an 8-digit birth date + a 3-digit sequence number (the 17th digit is odd for
# men, even for women) + 1 check character. The first 17 digits $a_1..a_{17}$ are weighted by $W_i = 2^{18-i} \bmod 11$ (that is
# 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2), summed, and $S \bmod 11$ = 0..10 maps to the check character
# `1 0 X 9 8 7 6 5 4 3 2`. The generator uses it to make valid numbers; the cleaning uses it to catch typing errors: since 11 is
# prime and no weight is a multiple of 11, **any** single wrong digit breaks the check.

# %%
ID_WEIGHTS = [2 ** (17 - i) % 11 for i in range(17)]
ID_CHECK = "10X98765432"


def id_check_char(first17: str) -> str:
    return ID_CHECK[sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS)) % 11]


def id_is_valid(number: str) -> bool:
    return bool(re.fullmatch(r"\d{17}[\dX]", number)) and id_check_char(number[:17]) == number[17]


print("weights:", ID_WEIGHTS)
print("11010519491231002 ->", id_check_char("11010519491231002"))  # the sample number printed in the standard: ...002X

# %% [markdown] lang="zh"
# ## 生成一张"脏"表
#
# 300 个不同的人。然后制造问题：20 人用不同写法（大小写、空格、`+86`/连字符格式的手机号、大写邮箱）重复注册一次；
# 12 行被原样重复提交；3 个身份证号有一位录错；金额、访问次数存成各种格式的字符串；注册日期有 5 种格式，还有 `unknown`；
# 城市和性别写法不统一；部分字段缺失；备注里混着手机号、邮箱和身份证号。生成器记下这些数字，后面的检查用它们。

# %% [markdown] lang="en"
# ## Generating a messy table
#
# 300 distinct people. Then the damage: 20 of them register a second time with a different spelling (case, spacing, a `+86` or
# hyphenated phone number, an upper-case e-mail); 12 rows are submitted twice, byte for byte; 3 ID-card numbers have one mistyped
# digit; spend and visit counts are strings in assorted formats; signup dates come in 5 formats plus `unknown`; city and gender
# are spelled inconsistently; some fields are missing; the notes mix in phone numbers, e-mails and ID-card numbers. The generator
# records these numbers, and the check at the end uses them.

# %%
N_PEOPLE, N_NEAR_DUP, N_EXACT_DUP, N_BAD_ID = 300, 20, 12, 3
SURNAMES = ["Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun", "Ma", "Zhu", "Hu"]
GIVEN = ["Wei", "Fang", "Na", "Min", "Jing", "Qiang", "Lei", "Jun", "Yan", "Jie", "Tao", "Ming", "Xiu Ying", "Hui", "Hao"]
AREAS = ["110105", "310104", "440106", "330106", "510107", "420111"]  # Beijing, Shanghai, Guangzhou, Hangzhou, Chengdu, Wuhan
CITY_OF = dict(zip(AREAS, ["Beijing", "Shanghai", "Guangzhou", "Hangzhou", "Chengdu", "Wuhan"]))
DOMAINS = ["qq.com", "163.com", "126.com", "gmail.com", "example.cn"]


def make_messy_users(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pick = lambda options: options[rng.integers(len(options))]  # noqa: E731
    phones = set()
    while len(phones) < N_PEOPLE:
        phones.add("1" + str(rng.integers(3, 10)) + "".join(str(d) for d in rng.integers(0, 10, 9)))
    phones = sorted(phones)
    rng.shuffle(phones)
    rows = []
    for i in range(N_PEOPLE):
        surname, given = pick(SURNAMES), pick(GIVEN)
        area = pick(AREAS)
        birth = pd.Timestamp("1965-01-01") + pd.Timedelta(days=int(rng.integers(0, 40 * 365)))
        female = rng.random() < 0.5
        seq = f"{rng.integers(0, 50):02d}{2 * rng.integers(0, 5) + (0 if female else 1)}"
        first17 = area + birth.strftime("%Y%m%d") + seq
        id_card = first17 + id_check_char(first17)
        email = f"{surname.lower()}.{given.lower().replace(' ', '')}{i}@{pick(DOMAINS)}"
        signup = pd.Timestamp("2021-01-01") + pd.Timedelta(days=int(rng.integers(0, 3 * 365)))
        date_fmt = pick(["%Y-%m-%d", "%Y/%m/%d", "%Y年%m月%d日", "%Y%m%d", "%Y-%m-%d %H:%M:%S"])
        spend = float(np.round(rng.lognormal(5.5, 0.8), 2))
        visits = int(rng.poisson(2))
        rows.append({
            "user_id": f"U{i:05d}",
            "name": pick([f"{surname} {given}", f"{surname} {given} ", f"{surname.upper()} {given}"]),
            "gender": pick(["F", "female", "女", "f"]) if female else pick(["M", "male", "男", "m"]),
            "phone": phones[i],
            "email": email,
            "id_card": id_card,
            "city": pick([CITY_OF[area], CITY_OF[area].lower(), f" {CITY_OF[area]}", CITY_OF[area].upper()]),
            "signup_date": signup.strftime(date_fmt).replace("/0", "/"),  # "2023/5/1": no zero padding
            "monthly_spend": pick([f"{spend:.2f}", f"¥{spend:,.2f}", f"{spend:g}元", f" {spend} "]),
            "visits": "" if visits == 0 else pick([str(visits), f" {visits}", f"{visits}.0"]),
            "notes": pick(["", "VIP", "prefers SMS", f"call {phones[i][:3]}-{phones[i][3:7]}-{phones[i][7:]} after 6pm",
                           f"备用邮箱 {surname.lower()}{i}@{pick(DOMAINS)}", f"身份证 {id_card} 已核验",
                           f"referred by +86 {phones[(i + 1) % N_PEOPLE][:3]} {phones[(i + 1) % N_PEOPLE][3:7]} "
                           f"{phones[(i + 1) % N_PEOPLE][7:]}"]),
        })
    df = pd.DataFrame(rows)
    # missing values: blanked strings and genuine NaN
    for col, share in [("monthly_spend", 0.08), ("city", 0.05), ("email", 0.05), ("gender", 0.04)]:
        df.loc[rng.random(len(df)) < share, col] = np.nan
    df.loc[rng.random(len(df)) < 0.04, "signup_date"] = "unknown"
    df.loc[rng.random(len(df)) < 0.03, "monthly_spend"] = "N/A"
    # mistyped ID-card numbers: one digit in the middle changed (the check digit then no longer fits)
    for i in rng.choice(len(df), N_BAD_ID, replace=False):
        s = df.at[i, "id_card"]
        df.at[i, "id_card"] = s[:10] + str((int(s[10]) + 1) % 10) + s[11:]
    # the same person registered again, spelled differently
    near = df.iloc[rng.choice(N_PEOPLE, N_NEAR_DUP, replace=False)].copy()
    for j, i in enumerate(near.index):
        p = df.at[i, "phone"]
        near.at[i, "user_id"] = f"U{N_PEOPLE + j:05d}"
        near.at[i, "name"] = pick([str.lower, str.upper, lambda s: s.replace(" ", "  ")])(df.at[i, "name"].strip())
        near.at[i, "phone"] = pick([f"+86 {p[:3]} {p[3:7]} {p[7:]}", f"{p[:3]}-{p[3:7]}-{p[7:]}", f"86{p}"])
        near.at[i, "email"] = df.at[i, "email"].upper() if isinstance(df.at[i, "email"], str) else np.nan
        near.at[i, "signup_date"] = "2024-01-15"
    # rows submitted twice
    exact = df.iloc[rng.choice(N_PEOPLE, N_EXACT_DUP, replace=False)]
    messy = pd.concat([df, near, exact], ignore_index=True)
    return messy.iloc[rng.permutation(len(messy))].reset_index(drop=True)


raw = make_messy_users()
print(f"{len(raw)} rows = {N_PEOPLE} people + {N_NEAR_DUP} re-registrations + {N_EXACT_DUP} double submissions")
print("dtypes:", raw.dtypes.astype(str).value_counts().to_dict())
raw.head(8)

# %% [markdown] lang="zh"
# 所有列都是 `object`（字符串）：`monthly_spend` 里有 `¥1,234.50`、`356.2元`，`visits` 里有 `7.0`，日期写法五花八门。
# 在修正之前，先写一个扫描器：它在任意一张表的**所有列**（转成字符串）里找没有遮盖的手机号、身份证号和邮箱。
# 扫描器的正则和后面的遮盖函数是分开写的，这样它才能真正检验遮盖有没有漏。

# %% [markdown] lang="en"
# Every column is `object` (strings): `monthly_spend` holds `¥1,234.50` and `356.2元`, `visits` holds `7.0`, and the dates come in
# every style. Before fixing anything we write a scanner: it looks for unmasked phone numbers, ID-card numbers and e-mails in
# **every column** of any table, as strings. The scanner's patterns are written separately from the masking functions below, so
# it is a real test of whether the masking missed something.

# %%
SCAN = {
    # (?<![\d.]): digits after a decimal point (0.1381234567890123) are a float, not an identifier
    "phone": re.compile(r"(?<![\d.])1[3-9]\d(?:[- ]?\d){8}(?!\d)"),  # 13812345678, 138-1234-5678, 138 1234 5678
    "id_card": re.compile(r"(?<![\d.])\d{17}[\dXx](?!\d)"),
    "email": re.compile(r"([\w.%+*-]+)@[\w-]+(?:\.[\w-]+)+"),
}


def pii_scan(frame: pd.DataFrame) -> dict:
    """Count unmasked PII hits in every cell of every column. A masked e-mail (`a***@qq.com`) does not count."""
    text = [str(v) for v in frame.to_numpy().ravel()]  # every cell of every column, NaN and dates included
    counts = {}
    for kind, pattern in SCAN.items():
        hits = [m for cell in text for m in pattern.finditer(cell)]
        if kind == "email":
            hits = [m for m in hits if not re.fullmatch(r"[A-Za-z0-9]\*{3}", m.group(1))]
        counts[kind] = len(hits)
    return counts


print("unmasked PII in the raw table:", pii_scan(raw))

# %% [markdown] lang="zh"
# ## 第 1 步：修正类型和写法
#
# - **金额**：去掉 `¥`、`元`、千分位逗号和空格，再 `pd.to_numeric(errors="coerce")`：解析不了的（`N/A`）变成 NaN，而不是报错或变成 0；
# - **访问次数**：同样转成数值；
# - **日期**：按已知的几种格式**逐一精确匹配**，不用让 pandas 去猜（猜 `01/05/2023` 是 1 月还是 5 月，猜错了也不报错）；
#   匹配不上的是 NaT，并且数出来核对；
# - **文本**：姓名去首尾空格、合并连续空格、统一成首字母大写；城市同理；性别映射到 `F`/`M`；邮箱转小写；
#   手机号只保留数字并去掉国家码 `86`，统一成 11 位。

# %% [markdown] lang="en"
# ## Step 1: fix types and spellings
#
# - **spend**: strip `¥`, `元`, thousands separators and spaces, then `pd.to_numeric(errors="coerce")`: what cannot be parsed
#   (`N/A`) becomes NaN instead of raising or silently becoming 0;
# - **visits**: converted to numbers the same way;
# - **dates**: matched **exactly** against the known formats one by one instead of letting pandas guess (it would have to guess
#   whether `01/05/2023` is January or May, and a wrong guess raises no error); what matches none is NaT, and we count those;
# - **text**: names stripped, runs of spaces collapsed, title-cased; cities likewise; gender mapped to `F`/`M`; e-mails
#   lower-cased; phone numbers reduced to digits with the `86` country code removed, 11 digits each.

# %%
DATE_FORMATS = ["%Y-%m-%d", "%Y/%m/%d", "%Y年%m月%d日", "%Y%m%d", "%Y-%m-%d %H:%M:%S"]


def parse_dates(s: pd.Series) -> pd.Series:
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[us]")
    for fmt in DATE_FORMATS:
        out = out.fillna(pd.to_datetime(s, format=fmt, errors="coerce"))
    return out


def normalise_phone(s: pd.Series) -> pd.Series:
    digits = s.astype("string").str.replace(r"\D", "", regex=True)
    return digits.where(digits.str.len() == 11, digits.str.replace(r"^86(?=1\d{10}$)", "", regex=True))


df = raw.copy()
df["monthly_spend"] = pd.to_numeric(
    df["monthly_spend"].astype("string").str.replace(r"[¥元,\s]", "", regex=True), errors="coerce")
df["visits"] = pd.to_numeric(df["visits"].astype("string").str.strip(), errors="coerce")
df["signup_date"] = parse_dates(df["signup_date"])
df["name"] = df["name"].str.split().str.join(" ").str.title()
df["city"] = df["city"].str.strip().str.title()
df["gender"] = df["gender"].map({"F": "F", "f": "F", "female": "F", "女": "F", "M": "M", "m": "M", "male": "M", "男": "M"})
df["email"] = df["email"].str.strip().str.lower()
df["phone"] = normalise_phone(df["phone"])
df["id_card"] = df["id_card"].str.upper()

n_unknown = int((raw["signup_date"] == "unknown").sum())
n_unparsed = int(df["signup_date"].isna().sum())
print(df.dtypes.to_string())
print(f"signup dates not parsed: {n_unparsed} (the raw table has {n_unknown} 'unknown')")
print("distinct cities before/after:", raw["city"].nunique(), "->", df["city"].nunique(),
      "| genders:", raw["gender"].nunique(), "->", df["gender"].nunique())
print(f"phone numbers with exactly 11 digits: {(df['phone'].str.len() == 11).sum()} of {len(df)}")

# %% [markdown] lang="zh"
# ## 第 2 步：校验身份证号，派生需要的字段
#
# 用校验位找出录错的身份证号。然后**只派生训练真正需要的字段**：年龄（以固定日期 2024-01-01 计算，保证可复现）和性别
# （身份证第 17 位的奇偶）。派生完，原始号码就只剩"标识"的作用，后面会被遮盖——这就是数据最小化。
# 校验失败的号码，日期部分仍可能正确，但我们不信任它派生的字段，把年龄置为缺失。

# %% [markdown] lang="en"
# ## Step 2: validate ID-card numbers, derive the fields you need
#
# The check digit finds the mistyped ID-card numbers. Then **derive only the fields training actually needs**: age (at the fixed
# date 2024-01-01, for reproducibility) and gender (the parity of the 17th digit). After that the raw number only serves as an
# identifier, and it gets masked below: data minimisation. For a number that fails the check the date part may still be right,
# but we do not trust fields derived from it and set its age to missing.

# %%
df["id_valid"] = df["id_card"].map(id_is_valid)
birth = pd.to_datetime(df["id_card"].str[6:14], format="%Y%m%d", errors="coerce")
df["age"] = ((pd.Timestamp("2024-01-01") - birth).dt.days // 365.25).where(df["id_valid"])
id_gender = np.where(df["id_card"].str[16].astype(int) % 2 == 1, "M", "F")
n_bad_ids = int((~df["id_valid"]).sum())
n_gender_missing = int(df["gender"].isna().sum())
print(f"ID-card numbers failing the check digit: {n_bad_ids} rows "
      f"({df.loc[~df['id_valid'], 'user_id'].nunique()} distinct users)")
print("stated gender agrees with the ID card:", f"{(df['gender'] == id_gender)[df['gender'].notna()].mean():.0%}")

# %% [markdown] lang="zh"
# ## 第 3 步：缺失值，每列一个理由
#
# | 列 | 做法 | 理由 |
# |---|---|---|
# | `gender` | 用身份证推出的性别填补 | 有可靠的另一来源，填补值就是事实而不是猜测 |
# | `visits` | 填 0 | 按数据字典，源系统在 0 次访问时写空串：缺失的含义来自数据是怎么采集的，而不是统计 |
# | `city` | 填 `Unknown` 类别 | 类别变量用众数填补会凭空让"北京"变多；单独一类保留了"不知道"这个信息 |
# | `email` | 保持缺失 | 它是标识符，不是特征，填补没有意义 |
# | `signup_date` | 保持 NaT，保留该行 | 不能因为一个坏日期丢掉整个用户 |
# | `monthly_spend`、`age` | 用**训练集**中位数填补，另加"是否缺失"列 | 分布右偏，中位数比均值稳；缺失本身可能有信息（例如不愿填写）。中位数是从数据里学的统计量，和归一化一样，放到划分训练/测试集之后（第 6 步） |

# %% [markdown] lang="en"
# ## Step 3: missing values, one reason per column
#
# | column | treatment | reason |
# |---|---|---|
# | `gender` | filled from the ID card | a reliable second source: the filled value is a fact, not a guess |
# | `visits` | filled with 0 | per the data dictionary the source system writes an empty string for zero visits: what a gap means comes from how the data was collected, not from statistics |
# | `city` | an `Unknown` category | filling a category with its mode would invent Beijing residents; a category of its own keeps the fact that we do not know |
# | `email` | left missing | it is an identifier, not a feature; filling it means nothing |
# | `signup_date` | left as NaT, row kept | a bad date is no reason to drop a user |
# | `monthly_spend`, `age` | the **training-set** median, plus an "is missing" column | right-skewed, so the median is steadier than the mean; the gap itself may carry information (say, a user who declined to answer). The median is a statistic learned from data, so like the scaling it waits until after the train/test split (step 6) |

# %%
before = df.isna().sum()
df["gender"] = df["gender"].fillna(pd.Series(id_gender, index=df.index))
df["visits"] = df["visits"].fillna(0).astype(int)
df["city"] = df["city"].fillna("Unknown")
after = df.isna().sum()
print(pd.DataFrame({"missing before": before, "missing after": after})[before > 0].to_string())

# %% [markdown] lang="zh"
# ## 第 4 步：精确去重
#
# 完全相同的行（重复提交）用 `drop_duplicates()` 去掉。要在**类型和写法统一之后**做：统一前，同一个值的不同写法会让重复行看起来不同。

# %% [markdown] lang="en"
# ## Step 4: exact duplicates
#
# Identical rows (double submissions) go with `drop_duplicates()`. Do it **after** types and spellings are unified: before that,
# two spellings of the same value make duplicate rows look different.

# %%
n_before = len(df)
df = df.drop_duplicates().reset_index(drop=True)
n_exact_removed = n_before - len(df)
print(f"rows: {n_before} -> {len(df)} (exact duplicates removed: {n_exact_removed})")

# %% [markdown] lang="zh"
# ## 第 5 步：近似去重（同一个人，不同写法）
#
# 同一个人第二次注册时，`user_id` 不同，姓名大小写和空格不同，手机号带了 `+86` 或连字符，邮箱是大写。
# 第 1 步已经把这些字段规范化了，所以用**规范化后的键**（姓名 + 手机号）分组就能找到他们。只用姓名不行：同名的人很多。
#
# 合并时按注册日期排序，`groupby(...).first()` 对每一列取第一个**非缺失**值：保留最早的账号，同时用新记录补上旧记录缺的字段。
# 真实数据里还会有"手机号换了、名字是拼音"这种情况，需要模糊匹配（编辑距离、MinHash）加人工复核。

# %% [markdown] lang="en"
# ## Step 5: near duplicates (same person, different spelling)
#
# When a person registers again, the `user_id` differs, the name's case and spacing differ, the phone number carries `+86` or
# hyphens, the e-mail is upper-case. Step 1 normalised these fields, so grouping by a **normalised key** (name + phone) finds
# them. The name alone would not do: many people share a name.
#
# To merge, rows are sorted by signup date and `groupby(...).first()` takes the first **non-missing** value of every column: the
# oldest account is kept, and the newer record fills in what the old one lacked. Real data also has "new phone number, name in
# pinyin" cases, which need fuzzy matching (edit distance, MinHash) plus human review.

# %%
key = df["name"].str.lower() + "|" + df["phone"]
groups = df.assign(key=key).groupby("key")["user_id"].agg(list)
dup_groups = groups[groups.str.len() > 1]
print(f"names shared by different people: {df.groupby('name')['phone'].nunique().gt(1).sum()}")
print(f"people with more than one account: {len(dup_groups)}; for example:")
print(df[key == dup_groups.index[0]][["user_id", "name", "phone", "email", "signup_date"]].to_string())

n_before = len(df)
df = (df.assign(key=key).sort_values(["signup_date", "user_id"], na_position="last")
        .groupby("key", sort=False).first().reset_index(drop=True)
        .sort_values("user_id").reset_index(drop=True))
n_near_removed = n_before - len(df)
print(f"rows: {n_before} -> {len(df)} (near duplicates merged: {n_near_removed})")

# %% [markdown] lang="zh"
# ## 第 6 步：划分训练/测试集，再填补和归一化
#
# 去重必须在划分**之前**：否则同一个人的两条记录可能一条进训练集、一条进测试集，测试成绩就虚高了。
# 填补和归一化则必须在划分**之后**、只在训练集上"学"统计量：
#
# $$\text{min-max: } x'=\frac{x-x_{\min}}{x_{\max}-x_{\min}},\qquad \text{z-score: } z=\frac{x-\mu}{\sigma},$$
#
# 其中 $x_{\min}, x_{\max}, \mu, \sigma$ 都只用训练集计算，再原样应用到测试集。如果用全部数据算，测试集的信息就漏进了训练（数据泄漏）。
# 所以测试集的 min-max 值可以超出 [0, 1]，z 分数的均值也不正好是 0——这是正常的。
# scikit-learn 的 `StandardScaler` 用总体标准差（除以 $n$），下面也手算一遍对照。

# %% [markdown] lang="en"
# ## Step 6: split into train and test, then impute and scale
#
# De-duplication must come **before** the split: otherwise one person's two records can land in train and test, and the test
# score is inflated. Imputation and scaling must come **after** it, learning their statistics from the training set only:
#
# $$\text{min-max: } x'=\frac{x-x_{\min}}{x_{\max}-x_{\min}},\qquad \text{z-score: } z=\frac{x-\mu}{\sigma},$$
#
# with $x_{\min}, x_{\max}, \mu, \sigma$ computed on the training set and applied unchanged to the test set. Computed on all the
# data, they would carry test-set information into training (leakage). So test-set min-max values may fall outside [0, 1] and
# test z-scores need not average exactly 0; that is expected. scikit-learn's `StandardScaler` uses the population standard
# deviation (divide by $n$); we also compute it by hand to compare.

# %%
features = ["age", "monthly_spend", "visits"]
train_df, test_df = train_test_split(df, test_size=0.2, random_state=0)
train_df, test_df = train_df.copy(), test_df.copy()

medians = train_df[["age", "monthly_spend"]].median()  # learned on train only
for part in (train_df, test_df):
    for col in ["age", "monthly_spend"]:
        part[f"{col}_missing"] = part[col].isna()
        part[col] = part[col].fillna(medians[col])
print("training medians:", medians.round(2).to_dict())

minmax = MinMaxScaler().fit(train_df[features])
zscore = StandardScaler().fit(train_df[features])
for part in (train_df, test_df):
    part[[f"{c}_mm" for c in features]] = minmax.transform(part[features])
    part[[f"{c}_z" for c in features]] = zscore.transform(part[features])

by_hand = (train_df[features] - train_df[features].mean()) / train_df[features].std(ddof=0)
assert np.allclose(by_hand.to_numpy(), train_df[[f"{c}_z" for c in features]].to_numpy())
z_cols = [f"{c}_z" for c in features]
mm_cols = [f"{c}_mm" for c in features]
summary = pd.DataFrame({
    "train z mean": train_df[z_cols].mean().to_numpy(), "train z std": train_df[z_cols].std(ddof=0).to_numpy(),
    "test z mean": test_df[z_cols].mean().to_numpy(),
}, index=features).round(3) + 0.0  # + 0.0 turns -0.0 into 0.0
summary["test min-max range"] = [f"[{test_df[c].min():.2f}, {test_df[c].max():.2f}]" for c in mm_cols]
print(f"train {len(train_df)} rows, test {len(test_df)} rows")
print(summary.to_string())

fig, axes = plt.subplots(1, 2)
axes[0].hist(train_df["monthly_spend"], bins=30)
axes[0].set(title="monthly_spend (raw)", xlabel="yuan", ylabel="users")
axes[1].hist(train_df["monthly_spend_z"], bins=30, color="tab:orange")
axes[1].set(title="monthly_spend (z-score)", xlabel="z")
fig.tight_layout()
plt.show()

# %% [markdown] lang="zh"
# 直方图说明两件事。第一，中位数附近那根高柱是填补出来的：几十个缺失值都被填成同一个数，分布被压窄，
# 这正是要另加"是否缺失"列的原因。第二，z 分数只做平移和缩放，**不改变分布形状**，右偏的金额仍然右偏；
# 想要更对称，得先取对数之类的变换。
# 实际项目里，把填补和缩放放进 scikit-learn 的 `Pipeline`，交叉验证时每一折都会自动只在训练部分上拟合。

# %% [markdown] lang="en"
# The histograms make two points. First, the tall bar at the median is made by imputation: dozens of missing values all became
# the same number, which narrows the distribution; that is why the "is missing" column is added. Second, a z-score only shifts
# and scales, it **does not change the shape**: right-skewed spend stays right-skewed. For something more symmetric, apply a
# transform such as a log first. In a real project, put the imputation and
# scaling in a scikit-learn `Pipeline`, so that cross-validation fits them on the training part of every fold automatically.

# %% [markdown] lang="zh"
# ## 第 7 步：脱敏，覆盖所有列（包括自由文本）
#
# 给人看的字段做**部分遮盖**并保留格式：手机号保留前 3 后 4（`138****1234`），身份证号保留前 6 位地址码和后 4 位（出生日期被遮住），
# 邮箱保留首字母和域名（`w***@qq.com`）。同样的正则也用在 `notes` 上，号码出现在句子中间、带空格或连字符也能遮住。
#
# 遮盖之后，近似去重用的"手机号"键就不能再用来关联了。需要跨表关联同一个人时，用**带密钥的哈希**（HMAC）生成假名：
# 同一个号码总是得到同一个假名，没有密钥就无法反推（章节第 10 题有详细说明）。注意这仍是**去标识化**而不是匿名化：
# 年龄、城市、注册日期组合起来仍可能识别出个人，这张表仍是个人信息。姓名同样是直接标识符：送进训练的数据里通常直接删掉，
# 这里保留只是为了展示。

# %% [markdown] lang="en"
# ## Step 7: masking, in every column (free text included)
#
# Fields meant for human eyes get **partial masking** that keeps the format: phones keep the first 3 and last 4 digits
# (`138****1234`), ID-card numbers keep the 6-digit area code and the last 4 (the birth date is hidden), e-mails keep the first
# character and the domain (`w***@qq.com`). The same patterns run over `notes`, so numbers in the middle of a sentence, with
# spaces or hyphens, are masked too.
#
# Once masked, the phone number can no longer link records of the same person. When a join across tables is needed, a **keyed
# hash** (HMAC) makes a pseudonym: the same number always gives the same token, and without the key it cannot be reversed (see
# question 10 in the chapter). This is still **de-identification**, not anonymisation: age, city and signup date together may
# still single a person out, so the table is still personal data. Names are direct identifiers too: data headed for training
# usually drops them; they stay here only for the demonstration.

# %%
PHONE_RE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?(1[3-9]\d)[- ]?\d{4}[- ]?(\d{4})(?!\d)")
ID_RE = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[0-9Xx])(?![0-9A-Za-z])")
EMAIL_RE = re.compile(r"\b([A-Za-z0-9])[A-Za-z0-9._%+-]*@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")
SECRET_KEY = b"demo-key-load-it-from-a-secrets-manager"  # never hard-code a real key


def mask_text(text):
    """Mask ID-card numbers first (18 digits), then phone numbers and e-mails, anywhere in a string."""
    if not isinstance(text, str):
        return text
    text = ID_RE.sub(r"\1********\2", text)
    text = PHONE_RE.sub(r"\1****\2", text)
    return EMAIL_RE.sub(r"\1***@\2", text)


def pseudonym(value: str) -> str:
    return hmac.new(SECRET_KEY, value.encode("utf-8"), hashlib.sha256).hexdigest()[:16]


def mask_table(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out.insert(1, "person_token", out["phone"].map(pseudonym))  # a join key that reveals nothing
    for col in out.select_dtypes(include=["object", "string"]).columns.drop("person_token"):
        out[col] = out[col].map(mask_text)
    return out


print("unmasked PII before masking:", pii_scan(df))
clean = mask_table(df)
train_df, test_df = mask_table(train_df), mask_table(test_df)
show = ["user_id", "person_token", "name", "phone", "email", "id_card", "notes"]
print(clean.loc[clean["notes"].str.contains(r"\*", regex=True), show].head(6).to_string())

# %% [markdown] lang="zh"
# ## 每一步的计数
#
# 修正类型之后缺失格子反而变多了：原来藏在字符串里的缺失（`N/A`、空串、`unknown`）这时才现形，还多了派生的 `age` 列。
# 后面的缺失主要是邮箱（故意保留）、注册日期，以及留到划分之后再填的金额和年龄。

# %% [markdown] lang="en"
# ## Counts, step by step
#
# Fixing the types *raises* the number of missing cells: missing values hidden in strings (`N/A`, empty strings, `unknown`) only
# now show up, and the derived `age` column adds a few. What stays missing is mostly e-mail (on purpose), signup date, and the
# spend and age that are filled after the split.

# %%
steps = pd.DataFrame([
    ("raw", len(raw), int(raw.isna().sum().sum()), sum(pii_scan(raw).values())),
    ("types fixed, ID checked", len(raw), int(before.sum()), "-"),
    ("missing handled (part 1)", len(raw), int(after.sum()), "-"),
    ("exact duplicates dropped", len(raw) - n_exact_removed, "-", "-"),
    ("near duplicates merged", len(clean), int(df.isna().sum().sum()), sum(pii_scan(df).values())),
    ("masked", len(clean), int(clean.isna().sum().sum()), sum(pii_scan(clean).values())),
], columns=["step", "rows", "missing cells", "unmasked PII hits"]).set_index("step")
print(steps.to_string())

# %% [markdown] lang="zh"
# ## 检查
#
# 断言：
#
# - 扫描整张清洗后的表、训练集和测试集的所有列（转成字符串），找不到未遮盖的手机号、身份证号和邮箱；而同一个扫描器在原始表上能找到它们；
# - 精确去重去掉的行数、近似去重合并的行数、剩下的人数、校验位错误的身份证数，都等于生成器记下的数字；
# - 所有能解析的日期都被解析了（未解析的恰好是 `unknown`）；
# - 训练集上 z 分数的均值 ≈ 0、标准差 ≈ 1，min-max 后落在 [0, 1]。

# %% [markdown] lang="en"
# ## Check
#
# Asserted:
#
# - a scan of every column (as strings) of the cleaned table, the training set and the test set finds no unmasked phone number,
#   ID-card number or e-mail, while the same scanner does find them in the raw table;
# - the rows removed as exact duplicates, the rows merged as near duplicates, the number of people left and the number of ID-card
#   numbers failing the check digit all equal the numbers the generator recorded;
# - every parseable date was parsed (the unparsed ones are exactly the `unknown`s);
# - on the training set the z-scores have mean ≈ 0 and standard deviation ≈ 1, and min-max values lie in [0, 1].

# %%
raw_hits = pii_scan(raw)
assert min(raw_hits.values()) > 0, f"the scanner finds nothing in the raw table: {raw_hits}"
for name, frame in [("clean", clean), ("train", train_df), ("test", test_df)]:
    hits = pii_scan(frame)
    assert sum(hits.values()) == 0, f"unmasked PII left in {name}: {hits}"
assert n_exact_removed == N_EXACT_DUP, f"removed {n_exact_removed} exact duplicates, generator made {N_EXACT_DUP}"
assert n_near_removed == N_NEAR_DUP, f"merged {n_near_removed} near duplicates, generator made {N_NEAR_DUP}"
assert len(clean) == N_PEOPLE == clean["person_token"].nunique(), f"{len(clean)} rows left for {N_PEOPLE} people"
assert (~clean["id_valid"]).sum() == N_BAD_ID, f"{(~clean['id_valid']).sum()} bad ID-card numbers, generator made {N_BAD_ID}"
assert n_unparsed == n_unknown, f"{n_unparsed} dates not parsed, but only {n_unknown} are 'unknown'"
z_mean, z_std = train_df[z_cols].mean().abs().max(), (train_df[z_cols].std(ddof=0) - 1).abs().max()
assert z_mean < 1e-9 and z_std < 1e-9, f"train z-scores: max |mean| {z_mean:.2e}, max |std - 1| {z_std:.2e}"
assert train_df[mm_cols].min().min() >= 0 and train_df[mm_cols].max().max() <= 1 + 1e-12
print(f"check passed: raw PII hits {raw_hits} -> 0 in every cleaned table; rows {len(raw)} -> "
      f"{len(raw) - n_exact_removed} (exact) -> {len(clean)} (near); bad IDs {N_BAD_ID}; "
      f"train z max|mean| {z_mean:.1e}, max|std-1| {z_std:.1e}")
