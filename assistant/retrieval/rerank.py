"""The second ranking stage: hybrid search proposes candidates, this stage orders them by how likely each
answers the question, and its probability decides refusal.

Features per candidate: the fused rank and scores, the best sentence's similarity (sentence vectors are made
at index time), how much of the question's vocabulary (glossary variants included, IDF-weighted) the clause
and its heading contain, and intent cues (a figure for "how many", an approving body for "who approves", 不得/
可以 for "may we", an enumeration for "which ones"). The ranking model (LightGBM boosted trees, a
learning-to-rank objective) and the refusal gate are learned on the development splits (`policy-assistant eval
--train-ranker`) and shipped in ranker.json beside this module; both are applied with numpy. An optional cross-encoder
(sentence-transformers CrossEncoder, e.g. a local bge-reranker) can reorder the candidates on top."""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np

from assistant.domain.glossary import glossary
from assistant.domain.places import aliases
from assistant.domain.quantities import asked_units, states_figure
from assistant.domain.segment import search_terms, tagged
from assistant.domain.values import PATH_SEPARATOR
from assistant.retrieval.focus import GENERIC_TERMS, asking_text, with_asked
from assistant.retrieval.analysis import Query
from assistant.retrieval.hybrid import Hit

WEIGHTS = Path(__file__).resolve().parent / "ranker.json"
FEATURES = ("fused_rank", "fused_gap", "dense", "dense_gap", "bm25", "sentence", "sentence_gap", "coverage",
            "heading", "cue", "cue_sentence", "structural", "interpretation", "length", "pool_terms", "pool_pairs",
            "asked_terms", "asked_pairs")

FIGURE = re.compile(r"[零〇一二两三四五六七八九十百半\d]+\s*(?:个月|%|％|年|所|个|次|学期|名|人|天|周|课时|节)|"
                    r"百分之|比例|不超过|不少于|至少|以上|以内|左右")
CUES = {
    "numeric": FIGURE,
    "approval": re.compile(r"审批|批准|批复|同意|备案|报备|报送|提报|申请|审查|确定"),
    "prohibition": re.compile(r"不得|禁止|严禁|不再|不能|可以|可|允许|原则上|应当|须|必须"),
    "list": re.compile(r"、.*、|一是|二是|（[1-9一二三]）|包括|如下|主要有|分为|“[^”]{1,8}”"),
}


@dataclass(frozen=True)
class Candidate:
    hit: Hit
    probability: float
    sentence_scores: np.ndarray  # per sentence of the clause (empty without sentence vectors)
    features: np.ndarray | None = None


@dataclass(frozen=True)
class Ranked:
    """Candidates in order, and the probability that any of them answers the question."""

    candidates: list[Candidate]
    answerable: float
    evidence: np.ndarray


@lru_cache(maxsize=8)
def _place_terms(cities: tuple[str, ...]) -> frozenset[str]:
    return frozenset(t for c in cities for a in aliases(c) for t in search_terms(a))


def informative_terms(text: str, cities: tuple[str, ...]) -> tuple[str, ...]:
    places = _place_terms(cities)
    return tuple(dict.fromkeys(t for t in search_terms(text)
                               if t not in GENERIC_TERMS and t not in places and not t.isdigit()))


def _coverage(terms, weights, vocabulary) -> float:
    total = sum(weights)
    if not total:
        return 0.0
    variants = _variants(tuple(terms))
    return sum(w for options, w in zip(variants, weights) if any(v in vocabulary for v in options)) / total


@lru_cache(maxsize=512)
def _variants(terms: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    g = glossary()
    return tuple(g.variants(t) for t in terms)


def _weights(terms, snapshot, scope: tuple[str, ...]) -> tuple[list[float], list[int]]:
    """IDF weights and document frequencies of the terms within the scope's documents (all of them without a
    scope): what other cities' documents say changes nothing about a question on one city."""
    mask = snapshot.mask(cities=list(scope)) if scope else snapshot.mask()  # a view's own rows without a scope
    n = max(int(mask.sum()) if mask is not None else len(snapshot.records), 1)
    g = glossary()
    dfs = [snapshot.document_frequency(g.variants(t), mask) for t in terms]
    return [math.log(1 + n / max(df, 1)) for df in dfs], dfs


def features(query: Query, hits: list[Hit], snapshot, vector: np.ndarray | None,
             scope: tuple[str, ...] = ()) -> tuple[np.ndarray, list]:
    """(rows × FEATURES, each hit's sentence scores)."""
    if not hits:
        return np.zeros((0, len(FEATURES)), dtype=np.float32), []
    cities = tuple(snapshot.cities)
    terms = informative_terms(query.lexical_text, cities)
    weights, dfs = _weights(terms, snapshot, scope)
    # a word no clause in the scope uses cannot tell one candidate from another: it only shrank every
    # candidate's coverage (colloquial questions most), blurring how coverage weighs against the other features
    weights = [w if df else 0.0 for w, df in zip(weights, dfs)]
    cue = CUES.get(query.intent)
    best_fused = max(h.score for h in hits) or 1.0
    best_dense = max(h.dense for h in hits)
    best_bm25 = max(h.bm25 for h in hits) or 1.0
    sentence_scores = [snapshot.sentence_scores(h.row, vector) if vector is not None else np.zeros(0)
                       for h in hits]
    best_sentence = [float(s.max()) if len(s) else h.dense for s, h in zip(sentence_scores, hits)]
    top_sentence = max(best_sentence)
    # how specific each candidate's text is to the question among the candidates themselves: the
    # words every candidate has name the field, the words few have pick the clause (IDF within the pool)
    records = [snapshot.records[h.row] for h in hits]
    # and the same for the clauses of the question that ask: a principal's scene-setting matches many clauses
    (pool_terms, pool_pairs), (asked_terms, asked_pairs) = with_asked([r.text for r in records], query.lexical_text)
    rows = []
    for i, (h, sentence) in enumerate(zip(hits, best_sentence)):
        record = snapshot.records[h.row]
        heading = set(search_terms(record.clause.replace(PATH_SEPARATOR, " ")))
        best_unit = _best_unit(record.text, sentence_scores[i])
        rows.append((
            1.0 / (i + 1), h.score / best_fused - 1.0, h.dense, h.dense - best_dense, h.bm25 / best_bm25,
            sentence, sentence - top_sentence,
            _coverage(terms, weights, snapshot.row_terms(h.row)) if terms else 0.0,
            _coverage(terms, weights, heading) if terms else 0.0,
            float(bool(cue and cue.search(record.text))), float(bool(cue and best_unit and cue.search(best_unit))),
            float(h.structural), float(record.status == "interpretation"), math.log(len(record.text) + 1) / 6,
            pool_terms[i], pool_pairs[i], asked_terms[i], asked_pairs[i],
        ))
    return np.asarray(rows, dtype=np.float32), sentence_scores


@lru_cache(maxsize=16384)
def _units(text: str) -> tuple[str, ...]:
    from assistant.chunking.clauses import quote_units

    return tuple(quote_units(text))


def _best_unit(text: str, scores: np.ndarray) -> str:
    units = _units(text)
    if not len(scores) or len(units) != len(scores):
        return ""
    return units[int(np.argmax(scores))]


ANSWERABLE_FEATURES = ("top_probability", "second_probability", "top_dense", "top_sentence", "top_coverage",
                       "pool_coverage", "unknown_share", "terms", "top_structural", "sentence_coverage",
                       "key_missing", "known_coverage", "dense_contrast", "sentence_contrast", "outside_gap",
                       "outside_coverage_gap", "asked_unknown", "asked_elsewhere", "asked_figure")


def answerable_features(query: Query, candidates: list["Candidate"], snapshot, matrix_of: dict,
                        scope: tuple[str, ...] = (), outside: tuple[float, float] | None = None) -> np.ndarray:
    """Question-level evidence that the documents (of the scope) answer at all: the best candidates'
    probability, similarity and vocabulary coverage, and how much of the question's vocabulary they never use."""
    cities = tuple(snapshot.cities)
    terms = informative_terms(query.lexical_text, cities)
    g = glossary()
    weights, _ = _weights(terms, snapshot, scope)
    # whether the corpus uses a word at all is a property of the language of the documents, not of one city
    dfs = [snapshot.document_frequency(g.variants(t)) for t in terms]
    unknown = sum(w for w, df in zip(weights, dfs) if not df)
    asked_unknown = asked_unknown_share(query.lexical_text, snapshot)
    elsewhere = asked_elsewhere_share(query.lexical_text, snapshot, scope)
    if not candidates:
        return np.asarray([0, 0, 0, 0, 0, 0, unknown / (sum(weights) or 1.0), math.log(len(terms) + 1), 0, 0, 1, 0,
                           0, 0, -(outside or (0.0, 0.0))[0], -(outside or (0.0, 0.0))[1], asked_unknown, elsewhere,
                           float(bool(asked_units(query.text)))],
                          dtype=np.float32)
    top = candidates[0]
    row = matrix_of[top.hit.row]
    pool: set[str] = set()
    for c in candidates[:5]:
        pool |= snapshot.row_terms(c.hit.row)
    own = snapshot.row_terms(top.hit.row)
    unit = _best_unit(snapshot.records[top.hit.row].text, top.sentence_scores)
    # the terms the corpus knows: one of them missing from the best clause says the clause is about something else
    known = [(t, w) for t, w, df in zip(terms, weights, dfs) if df]
    missing = [w for t, w in known if not any(v in own for v in g.variants(t))]
    known_total = sum(w for _, w in known) or 1.0
    return np.asarray([
        top.probability, candidates[1].probability if len(candidates) > 1 else 0.0,
        row[FEATURES.index("dense")], row[FEATURES.index("sentence")], row[FEATURES.index("coverage")],
        _coverage(terms, weights, pool) if terms else 0.0, unknown / (sum(weights) or 1.0),
        math.log(len(terms) + 1), row[FEATURES.index("structural")],
        _coverage(terms, weights, set(search_terms(unit))) if terms and unit else 0.0,
        max(missing, default=0.0) / (max((w for _, w in known), default=0.0) or 1.0),
        1.0 - sum(missing) / known_total if known else 0.0, *_contrast(candidates, matrix_of),
        *_outside_gap(query, top, snapshot, outside), asked_unknown, elsewhere,
        asked_figure(query, candidates, snapshot)], dtype=np.float32)


_FIGURE_DEPTH = 3  # candidates read for the figure a question asks for


def asked_figure(query: Query, candidates: list["Candidate"], snapshot) -> float:
    """For a question asking for a figure ("保存多少天", "每周几节"): 1 when none of the best candidates gives a
    number in that unit, −1 when the best one does, 0 between (or when no figure is asked). On real regulations
    the clause on the topic is usually there and says only "按照规定时间" or "限期": the figure asked for is not."""
    units = asked_units(query.text)
    if not units:
        return 0.0
    states = [states_figure(snapshot.records[c.hit.row].text, units) for c in candidates[:_FIGURE_DEPTH]]
    return -1.0 if states[0] else (0.0 if any(states) else 1.0)


_NOUNS = frozenset(("n", "nz", "vn", "nt", "ng"))
_UNKNOWN_CAP = 3


def asked_unknown_share(text: str, snapshot) -> float:
    """How many things the asking clauses name that the documents never mention (nouns of two characters or
    more, glossary variants included): "学生意外伤害保险由谁来买？" asks about 保险, a topic the corpus lacks,
    whereas a principal's slang (掏钱, 单干) is mostly verbs the glossary maps. Counted up to three (as a
    share of three): more unknown topics say nothing more."""
    g = glossary()
    asked = asking_text(text)
    unknown = {t for t in informative_terms(asked, tuple(snapshot.cities))
               if len(t) >= 2 and not snapshot.document_frequency(g.variants(t))}
    if not unknown:
        return 0.0  # the tagger (a millisecond) only runs when there is something to tag
    return min(len(_nouns(asked) & unknown), _UNKNOWN_CAP) / _UNKNOWN_CAP


def asked_elsewhere_share(text: str, snapshot, scope: tuple[str, ...]) -> float:
    """The share (IDF-weighted) of what the asking clauses name that the places asked about never use, while
    another place's documents do: "长沙有没有黄牌预警、红牌淘汰？" names Qingdao's mechanism, which no
    Changsha clause mentions. Across the development splits the asked vocabulary of questions a city's
    documents do not address was 0.48 such words on average, against 0.07 for those they answer. 0 without a
    scope (a question naming no place has no "elsewhere")."""
    if not scope:
        return 0.0
    g = glossary()
    terms = informative_terms(asking_text(text), tuple(snapshot.cities))
    if not terms:
        return 0.0
    weights, dfs = _weights(terms, snapshot, scope)
    elsewhere = sum(w for t, w, df in zip(terms, weights, dfs)
                    if not df and snapshot.document_frequency(g.variants(t)))
    return elsewhere / (sum(weights) or 1.0)


@lru_cache(maxsize=256)
def _nouns(text: str) -> frozenset[str]:
    return frozenset(w for w, flag in tagged(text) if flag in _NOUNS)


def _outside_gap(query: Query, top: "Candidate", snapshot,
                 outside: tuple[float, float] | None) -> tuple[float, float]:
    """How much better the places asked about answer than every other place: a city whose best clause is
    far weaker than another city's on the same question most likely does not address it (0 without others)."""
    if outside is None:
        return 0.0, 0.0
    return top.probability - outside[0], common_coverage(query, [top.hit.row], snapshot)[0] - outside[1]


def common_coverage(query: Query, rows: list[int], snapshot) -> list[float]:
    """The share of the question's words each row holds, every word weighed by its rarity across all the
    documents: the one yardstick for clauses of different places. The ranking's own coverage weighs words within
    the places asked about and drops those they never use, so a Changsha clause covering 协议 and 合作学校 scored
    as high on "长沙有没有黄牌预警、红牌淘汰？" as the Qingdao clause that holds 黄牌 and 红牌."""
    terms = informative_terms(query.lexical_text, tuple(snapshot.cities))
    if not terms:
        return [0.0] * len(rows)
    weights, _ = _weights(terms, snapshot, ())
    return [_coverage(terms, weights, snapshot.row_terms(row)) for row in rows]


def outside_evidence(query: Query, hits: list[Hit], snapshot, vector, ranker: "Ranker") -> tuple[float, float] | None:
    """The best probability among the candidates outside the scope, read as if the question had been asked of
    their places, and their best coverage of the question on the common yardstick (None without any)."""
    if not hits:
        return None
    places = tuple(dict.fromkeys(snapshot.records[h.row].city for h in hits))
    matrix, _ = features(query, hits, snapshot, vector, places)
    probabilities = ranker.probabilities(matrix)
    return float(probabilities.max()), max(common_coverage(query, [h.row for h in hits], snapshot))


def _contrast(candidates: list["Candidate"], matrix_of: dict) -> tuple[float, float]:
    """How far the best clause and the best sentence stand out from the rest of the candidate pool. Absolute
    similarities move with the question's wording and language (English, colloquial speech); a clause that
    stands out from its neighbours for this question does not."""
    dense = np.asarray([c.hit.dense for c in candidates if c.hit.dense > 0], dtype=np.float32)
    sentence = np.asarray([matrix_of[c.hit.row][FEATURES.index("sentence")] for c in candidates], dtype=np.float32)
    if len(dense) < 3:
        return 0.0, 0.0
    top = candidates[:5]
    best_dense = max(c.hit.dense for c in top)
    best_sentence = max(float(matrix_of[c.hit.row][FEATURES.index("sentence")]) for c in top)
    scale = 10.0  # cosine gaps of e5-style embedders are hundredths
    return (scale * float(best_dense - np.median(dense)), scale * float(best_sentence - np.median(sentence)))


def _logistic(x: np.ndarray, coef: np.ndarray, intercept: float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-(x @ coef + intercept)))


@dataclass(frozen=True)
class Forest:
    """Boosted regression trees (trained with LightGBM, see evaluation/train.py) as flat arrays, evaluated with
    numpy: answering then needs neither LightGBM nor the scikit-learn it imports, a second of start-up saved.
    Node i splits on feature[i] (x <= threshold[i] goes left) or, where feature[i] < 0, is a leaf worth
    value[i]; a row's score is the sum of the leaves it reaches, one per tree."""

    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray
    roots: np.ndarray

    def predict(self, matrix: np.ndarray) -> np.ndarray:
        feature, threshold, children, depth = self._walk
        x = np.asarray(matrix, dtype=np.float64)
        flat, offsets = x.ravel(), (np.arange(len(x)) * x.shape[1])[:, None]
        node = np.repeat(self.roots[None, :], len(x), axis=0)
        for _ in range(depth):
            left = flat[offsets + feature[node]] <= threshold[node]
            node = children[node, left.astype(np.intp)]
        return self.value[node].sum(axis=1)

    @cached_property
    def _walk(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """The arrays a walk reads: a leaf is its own child, reached whatever it is compared with, so every row
        takes the same number of steps (the deepest tree's depth) with no test for having arrived."""
        leaf = self.feature < 0
        index = np.arange(len(self.feature))
        children = np.stack([np.where(leaf, index, self.right), np.where(leaf, index, self.left)], axis=1)
        deepest, level = 0, {int(r): 0 for r in self.roots}
        while level:
            deepest = max(deepest, max(level.values()))
            level = {int(c): d + 1 for n, d in level.items() if not leaf[n] for c in (self.left[n], self.right[n])}
        return np.where(leaf, 0, self.feature), np.where(leaf, np.inf, self.threshold), children, deepest

    def to_json(self) -> dict:
        return {"feature": self.feature.tolist(), "threshold": self.threshold.tolist(), "left": self.left.tolist(),
                "right": self.right.tolist(), "value": self.value.tolist(), "roots": self.roots.tolist()}

    @classmethod
    def from_json(cls, data: dict) -> "Forest":
        ints = {k: np.asarray(data[k], dtype=np.int32) for k in ("feature", "left", "right", "roots")}
        return cls(ints["feature"], np.asarray(data["threshold"], dtype=np.float64), ints["left"], ints["right"],
                   np.asarray(data["value"], dtype=np.float64), ints["roots"])

    @classmethod
    def from_lightgbm(cls, model: dict) -> "Forest":
        """From `Booster.dump_model()`: numeric splits only, and no missing values (the features never are)."""
        feature, threshold, left, right, value, roots = [], [], [], [], [], []

        def add(node: dict) -> int:
            i = len(feature)
            for column, blank in ((feature, -1), (threshold, 0.0), (left, -1), (right, -1), (value, 0.0)):
                column.append(blank)
            if "leaf_value" in node:
                value[i] = float(node["leaf_value"])
                return i
            if node["decision_type"] != "<=" or node["missing_type"] != "None":
                raise ValueError(f"unsupported split: {node['decision_type']} / missing {node['missing_type']}")
            feature[i], threshold[i] = int(node["split_feature"]), float(node["threshold"])
            left[i] = add(node["left_child"])
            right[i] = add(node["right_child"])
            return i

        for tree in model["tree_info"]:
            roots.append(add(tree["tree_structure"]))
        return cls.from_json({"feature": feature, "threshold": threshold, "left": left, "right": right,
                              "value": value, "roots": roots})


@dataclass(frozen=True)
class Ranker:
    """Learned weights: boosted trees (LightGBM, a learning-to-rank objective) order the candidates, and a
    logistic calibration of their score gives each a probability of answering; a logistic model over
    ANSWERABLE_FEATURES decides whether the documents answer at all (below `threshold`: refuse). Without
    trees, a linear score `coef` stands in (the untrained fallback)."""

    coef: np.ndarray
    intercept: float
    threshold: float
    answerable_coef: np.ndarray | None = None
    answerable_intercept: float = 0.0
    version: str = "untrained"
    trees: Forest | None = None
    scale: float = 1.0

    def scores(self, matrix: np.ndarray) -> np.ndarray:
        if self.trees is not None:
            return self.trees.predict(matrix).astype(np.float32)
        return matrix @ self.coef

    def probabilities(self, matrix: np.ndarray) -> np.ndarray:
        if not len(matrix):
            return np.zeros(0, dtype=np.float32)
        return 1.0 / (1.0 + np.exp(-(self.scale * self.scores(matrix) + self.intercept)))

    def answerable(self, evidence: np.ndarray) -> float:
        """Probability that the documents answer the question (the best candidate's, without a trained model)."""
        if self.answerable_coef is None:
            return float(evidence[0])
        return float(_logistic(evidence, self.answerable_coef, self.answerable_intercept))

    @classmethod
    def load(cls, path: Path = WEIGHTS) -> "Ranker":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return cls.fallback()
        if data.get("features") != list(FEATURES):
            return cls.fallback()  # weights for another feature set would be read wrongly
        try:
            gate = data.get("answerable") or {}
            gate_coef = np.asarray(gate["coef"], dtype=np.float32) \
                if gate.get("features") == list(ANSWERABLE_FEATURES) else None
            return cls(np.asarray(data.get("coef") or np.zeros(len(FEATURES)), dtype=np.float32),
                       float(data["intercept"]), float(gate.get("threshold", data["threshold"])), gate_coef,
                       float(gate.get("intercept", 0.0)), str(data.get("version", "")),
                       Forest.from_json(data["trees"]) if data.get("trees") else None, float(data.get("scale", 1.0)))
        except (KeyError, TypeError, ValueError, AttributeError):
            return cls.fallback()  # a weights file of another format: the untrained order rather than a crash

    @classmethod
    def fallback(cls) -> "Ranker":
        """Without trained weights: the hybrid order, with a neutral threshold."""
        coef = np.zeros(len(FEATURES), dtype=np.float32)
        coef[FEATURES.index("fused_rank")] = 4.0
        coef[FEATURES.index("coverage")] = 2.0
        return cls(coef, -2.5, 0.3)


@lru_cache(maxsize=1)
def default_ranker() -> Ranker:
    return Ranker.load()


class CrossEncoderReranker:
    """A cross-encoder (sentence-transformers `CrossEncoder`, e.g. a local bge-reranker-v2-m3) that reorders
    the candidates the learned stage kept; refusal still follows the learned probability."""

    def __init__(self, model: str):
        self.model_name = model
        self._model = None

    def scores(self, question: str, texts: list[str]) -> np.ndarray:
        if self._model is None:
            from sentence_transformers import CrossEncoder

            self._model = CrossEncoder(self.model_name, device="cpu")
        return np.asarray(self._model.predict([(question, t) for t in texts]), dtype=np.float32)


def rerank(query: Query, hits: list[Hit], snapshot, vector, ranker: Ranker,
           cross: CrossEncoderReranker | None = None, scope: tuple[str, ...] = (),
           outside_hits: list[Hit] | None = None) -> Ranked:
    """The hits ordered by probability of answering (a cross-encoder, when configured, orders them instead),
    with the question-level probability that the documents of the scope answer at all (`outside_hits`: the
    best candidates of the places not asked about, for contrast)."""
    matrix, sentence_scores = features(query, hits, snapshot, vector, scope)
    probabilities = ranker.probabilities(matrix)
    # a clause the question names by its number comes first, whatever similarity says
    candidates = sorted((Candidate(h, float(p), s, m) for h, p, s, m in zip(hits, probabilities, sentence_scores,
                                                                               matrix)),
                        key=lambda c: (not c.hit.structural, -c.probability))
    outside = outside_evidence(query, outside_hits or [], snapshot, vector, ranker)
    evidence = answerable_features(query, candidates, snapshot, {c.hit.row: c.features for c in candidates}, scope,
                                   outside)
    if cross is not None and candidates:
        order = cross.scores(query.text, [snapshot.records[c.hit.row].text for c in candidates])
        candidates = [candidates[i] for i in np.argsort(-order, kind="stable")]
    return Ranked(candidates, ranker.answerable(evidence), evidence)
