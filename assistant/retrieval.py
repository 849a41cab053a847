"""Hybrid retrieval: dense (Chroma) and BM25 (jieba terms) fused by reciprocal rank, with filters."""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .segment import fold, search_terms
from .store import IndexStore

# Colloquial words principals use → the words the documents use (BM25 only; the dense model
# handles paraphrase on its own).
SYNONYMS = {
    "期限": ("时限", "合作时间", "合作期"), "多久": ("时限",), "几年": ("时限", "年"),
    "加入": ("纳新", "吸纳"), "新成员": ("纳新",), "退出": ("退出",), "离开": ("退出",),
    "老师": ("教师",), "钱": ("经费", "费用"), "费用": ("经费", "协议费用"), "经费": ("费用",),
    "改名": ("更名", "校名"), "名字": ("校名",), "更名": ("校名",), "规模": ("规模", "所"),
    "多少所": ("规模", "所"), "轮岗": ("交流", "轮岗"), "交流": ("轮岗",), "章程": ("章程",),
    "成立": ("组建", "成立"), "组建": ("成立",), "审批": ("批准", "批复", "同意"),
    "批准": ("审批", "同意"), "考核": ("评价", "督导"), "评价": ("考核",), "招生": ("招生",),
    "品牌": ("冠名", "标识"), "校服": ("校服",), "总校长": ("总校长",), "终止": ("合作终止", "退出"),
    "提前": ("退出",), "补贴": ("补助", "奖补"), "交通费": ("交通",), "住宿": ("住宿",),
}
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9}


@dataclass(frozen=True)
class Hit:
    row: int
    score: float  # fused reciprocal-rank score
    dense: float  # cosine similarity (0 when the dense side did not return it)
    bm25: float
    rank: int


def cn_to_int(text: str) -> int | None:
    """'六' → 6, '十二' → 12, '三十' → 30; None for anything else."""
    if not text or any(ch not in _CN_DIGITS and ch != "十" for ch in text):
        return None
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (_CN_DIGITS.get(tens, 1) if tens else 1) * 10 + (_CN_DIGITS.get(ones, 0) if ones else 0)
    return _CN_DIGITS[text] if len(text) == 1 else None


def number_variants(text: str) -> list[str]:
    """Both spellings of counted numbers: '六年' ↔ '6年', '１０所' → '10所'."""
    out = []
    for m in re.finditer(r"([零〇一二两三四五六七八九十]{1,3})(年|所|个|次|人|名)", text):
        value = cn_to_int(m.group(1))
        if value is not None:
            out.append(f"{value}{m.group(2)}")
    for m in re.finditer(r"(\d{1,2})(年|所|个|次)", fold(text)):
        value = int(m.group(1))
        if 0 < value <= 10:
            out.append("零一二三四五六七八九十"[value] + m.group(2))
    return out


def query_terms(question: str) -> tuple[str, ...]:
    terms = list(search_terms(question))
    for extra in number_variants(question):
        terms.extend(search_terms(extra))
    for term in list(terms):
        terms.extend(SYNONYMS.get(term, ()))
    return tuple(dict.fromkeys(terms))


class HybridRetriever:
    def __init__(self, store: IndexStore, embedder, candidates: int = 30, rrf_k: int = 60):
        self.store = store
        self.embedder = embedder
        self.candidates = candidates
        self.rrf_k = rrf_k

    def search(self, question: str, k: int, cities=None, doc_ids=None, mode: str = "hybrid",
               vector: np.ndarray | None = None) -> list[Hit]:
        """Top-k hits; mode is 'hybrid', 'dense' or 'bm25' (for ablations)."""
        n = self.candidates
        dense_ranked: list[tuple[int, float]] = []
        if mode in ("hybrid", "dense"):
            if vector is None:
                vector = self.embedder.query_vector(question)
            dense_ranked = self.store.dense_search(vector, n, cities, doc_ids)
        bm25 = np.zeros(len(self.store.records), dtype=np.float32)
        bm25_ranked: list[int] = []
        if mode in ("hybrid", "bm25"):
            bm25 = self.store.bm25_scores(query_terms(question))
            mask = self.store.mask(cities, doc_ids)
            if mask is not None:
                bm25 = np.where(mask, bm25, 0.0)
            top = np.argpartition(-bm25, min(n, len(bm25) - 1))[:n] if len(bm25) > n else np.arange(len(bm25))
            bm25_ranked = [int(i) for i in top[np.argsort(-bm25[top], kind="stable")] if bm25[i] > 0]

        fused: dict[int, float] = {}
        for rank, (row, _) in enumerate(dense_ranked):
            fused[row] = fused.get(row, 0.0) + 1.0 / (self.rrf_k + rank + 1)
        for rank, row in enumerate(bm25_ranked):
            fused[row] = fused.get(row, 0.0) + 1.0 / (self.rrf_k + rank + 1)
        dense_of = dict(dense_ranked)
        order = sorted(fused, key=lambda r: (-fused[r], -dense_of.get(r, 0.0), r))[:k]
        return [Hit(row, fused[row], dense_of.get(row, 0.0), float(bm25[row]), i + 1)
                for i, row in enumerate(order)]
