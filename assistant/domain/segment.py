"""jieba word segmentation shared by chunking, BM25 and answer composition."""
from __future__ import annotations

import logging
import os
import re
import threading
import unicodedata
from functools import lru_cache
from pathlib import Path

import jieba

from assistant.config import jieba_cache_dir

jieba.setLogLevel(logging.WARNING)

# Domain words jieba's general dictionary would split, hurting both BM25 and sentence-boundary safety.
DOMAIN_WORDS = (
    "集团化办学", "教育集团", "核心校", "成员校", "牵头校", "合作学校", "优质学校", "总校长",
    "征求意见稿", "城乡发展共同体", "共同体", "纳新", "走教", "轮岗", "交流轮岗", "专项奖补经费",
    "协议费用", "合作办学协议", "集团章程", "合作时限", "校名", "托管", "一长多校", "黄牌预警",
    "红牌淘汰", "指标生", "对口直升", "覆盖率", "理事会", "法定代表人", "独立法人", "县管校聘",
    "首站式培育", "五个一", "十个一体化", "融合型", "聚合型", "联合型", "紧密型", "引领型", "项目型",
    "委托管理", "第三方评估", "绿色评价", "增值评价", "大班额", "大校额", "联考",
)

STOPWORDS = frozenset(
    "的 了 和 与 及 或 是 在 对 把 被 从 向 到 为 以 等 之 其 该 这 那 有 也 都 就 要 将 并 而 且 则 "
    "吗 呢 吧 啊 么 什么 怎么 怎样 如何 哪些 哪个 哪 多少 多久 几 是否 能否 能不能 可不可以 可以 "
    "请问 请 一下 我们 我 你 您 他们 学校的 关于 规定 有关 相关 方面 问题 情况 具体 一般 主要 "
    "是不是 有没有 吗？ 么？ 呀 哪里 怎么办 需要 应该 会 能 可 还 又 再 呢？ 讲 说 讲了 说了 "
    "那 那么 里 中 上 下 个 条 第 些 其中 以及 文件 政策 怎么样 谁 时候 时".split()
)

_TOKEN_RE = re.compile(r"[\w\u4e00-\u9fff]", re.UNICODE)
_lock = threading.Lock()
_ready = False


def _ensure_initialized() -> None:
    global _ready
    if _ready:
        return
    with _lock:
        if _ready:
            return
        # jieba's default cache is a world-shared /tmp file; keep ours private.
        cache_dir = jieba_cache_dir()
        cache_dir.mkdir(parents=True, exist_ok=True)
        jieba.dt.tmp_dir = str(cache_dir)
        jieba.initialize()
        for word in DOMAIN_WORDS:
            jieba.add_word(word, freq=20000)
        _ready = True


def words(text: str) -> list[str]:
    """Precise-mode segmentation; concatenating the result gives `text` back."""
    _ensure_initialized()
    return jieba.lcut(text, HMM=True)


def fold(text: str) -> str:
    """Fold width and case so that "１０年" and "10年" and "ABC"/"abc" match."""
    return unicodedata.normalize("NFKC", text).lower()


@lru_cache(maxsize=4096)
def search_terms(text: str) -> tuple[str, ...]:
    """Index/query terms for BM25: fine-grained jieba search mode, folded, without stopwords."""
    _ensure_initialized()
    folded = fold(text)
    terms = []
    for token in jieba.lcut_for_search(folded, HMM=True):
        token = token.strip()
        if not token or token in STOPWORDS or not _TOKEN_RE.search(token):
            continue
        terms.append(token)
    return tuple(terms)


def count_tokens(text: str) -> int:
    return sum(1 for w in words(text) if w.strip())


@lru_cache(maxsize=1)
def common_chars(n: int = 5000) -> frozenset[str]:
    """The n most frequent CJK characters by jieba's dictionary. Real policy text stays almost entirely
    inside this set (laws: under 1.2% outside); mojibake and font-garbled PDF text do not (24–70%)."""
    _ensure_initialized()
    weight: dict[str, int] = {}
    for word, freq in jieba.dt.FREQ.items():
        if freq > 0:
            for ch in word:
                if "\u4e00" <= ch <= "\u9fff":
                    weight[ch] = weight.get(ch, 0) + freq
    return frozenset(sorted(weight, key=weight.__getitem__, reverse=True)[:n])


# ---------------------------------------------------------------- Chinese numerals
_CN_VALUES = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9}
_CN_DIGITS = "零一二三四五六七八九"


def cn_to_int(text: str) -> int | None:
    """'六' → 6, '十二' → 12, '三十' → 30; None for anything else."""
    if not text or any(ch not in _CN_VALUES and ch != "十" for ch in text):
        return None
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (_CN_VALUES.get(tens, 1) if tens else 1) * 10 + (_CN_VALUES.get(ones, 0) if ones else 0)
    return _CN_VALUES[text] if len(text) == 1 else None


def cn_ordinal(n: int) -> str:
    """1 → 一, 12 → 十二, 40 → 四十, 105 → 一百零五 (as clause and chapter numbers are written)."""
    if n < 10:
        return _CN_DIGITS[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return ("" if tens == 1 else _CN_DIGITS[tens]) + "十" + (_CN_DIGITS[ones] if ones else "")
    hundreds, rest = divmod(n, 100)
    tail = "" if rest == 0 else ("零" + _CN_DIGITS[rest] if rest < 10 else
                                 ("一" if rest < 20 else "") + cn_ordinal(rest))
    return _CN_DIGITS[hundreds] + "百" + tail


def tagged(text: str) -> list[tuple[str, str]]:
    """(word, part-of-speech flag) pairs; place names are flagged "ns"."""
    _ensure_initialized()
    import jieba.posseg

    return [(w.word, w.flag) for w in jieba.posseg.lcut(text)]
