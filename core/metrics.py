"""Precision / recall / F1 (PRF, the one place they are computed), the scores the relation model is
judged by, and agreement between two annotators; plain functions so tests can check them by hand.

causal_*: a causal prediction counts only with the right direction (SemEval's convention).
detection_f1: direction ignored. sentence_f1: is the sentence causal. e2e_*: relations found in
passages, scored as the held-out check scores them (../shared/docs/ml.md, "End-to-end extraction"):
src and tgt words overlap by Jaccard >= 0.5 and the sign agrees, predictions taken greedily in
output order. The Compare and Agreement pages use core.matching's looser rule, meant for people.
"""
from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from core.matching import MatchMode, match_relations
from core.types import Direction, PassageRelation


@dataclass
class PRF:
    """Counts behind precision / recall / F1; undefined ratios are None, not a fake 0 or 1."""

    tp: int = 0
    n_pred: int = 0
    n_gold: int = 0

    @property
    def precision(self) -> float | None:
        return self.tp / self.n_pred if self.n_pred else None

    @property
    def recall(self) -> float | None:
        return self.tp / self.n_gold if self.n_gold else None

    @property
    def f1(self) -> float | None:
        if not self.tp:
            return 0.0 if self.n_pred + self.n_gold else None
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r)

    def __add__(self, other: PRF) -> PRF:
        return PRF(self.tp + other.tp, self.n_pred + other.n_pred, self.n_gold + other.n_gold)

    def as_dict(self) -> dict[str, Any]:
        return {"tp": self.tp, "predicted": self.n_pred, "reference": self.n_gold,
                "precision": self.precision, "recall": self.recall, "f1": self.f1}


def prf(tp: int, n_pred: int, n_gold: int) -> tuple[float, float, float]:
    """PRF's precision, recall, F1 as numbers for a model's scores: an undefined ratio (no
    predictions / no gold) scores 0.0, so a model that finds nothing scores 0."""
    counts = PRF(tp, n_pred, n_gold)
    return counts.precision or 0.0, counts.recall or 0.0, counts.f1 or 0.0


def pair_scores(gold: Sequence[int], pred: Sequence[int]) -> dict[str, float]:
    """causal_precision/recall/f1 (direction must match) and detection_f1 (any causal = causal)."""
    g, p = np.asarray(gold, dtype=int), np.asarray(pred, dtype=int)
    tp = int(np.sum((g == p) & (g != Direction.NONE)))
    cp, cr, cf = prf(tp, int(np.sum(p != Direction.NONE)), int(np.sum(g != Direction.NONE)))
    dtp = int(np.sum((g != Direction.NONE) & (p != Direction.NONE)))
    _, _, df = prf(dtp, int(np.sum(p != Direction.NONE)), int(np.sum(g != Direction.NONE)))
    return {"n": len(g), "causal_precision": cp, "causal_recall": cr, "causal_f1": cf, "detection_f1": df}


def sign_accuracy(gold: Sequence[int], pred: Sequence[int]) -> float | None:
    """Share of right signs over gold-causal examples with a labelled sign; None when there are none."""
    pairs = [(g, p) for g, p in zip(gold, pred) if g in (1, -1)]
    return sum(g == p for g, p in pairs) / len(pairs) if pairs else None


def sentence_scores(gold: Sequence[bool], pred: Sequence[bool]) -> dict[str, float]:
    """Sentence-level P/R/F1 of the positive (causal) class."""
    g, p = np.asarray(gold, dtype=bool), np.asarray(pred, dtype=bool)
    sp, sr, sf = prf(int(np.sum(g & p)), int(p.sum()), int(g.sum()))
    return {"sentence_precision": sp, "sentence_recall": sr, "sentence_f1": sf}


TWOSIX_STOPWORDS = frozenset("the a an of and in on to for especially its their".split())
"""The words the held-out scorer drops before comparing concept names."""


def twosix_words(text: str) -> frozenset[str]:
    """The lowercase runs of [a-z0-9] in a concept name, less TWOSIX_STOPWORDS."""
    return frozenset(re.findall(r"[a-z0-9]+", text.lower())) - TWOSIX_STOPWORDS


def twosix_overlap(pred: str, gold: str) -> float:
    """|words ∩| / |words ∪| of two concept names (twosix_words); 0 when neither has a word."""
    p, g = twosix_words(pred), twosix_words(gold)
    return len(p & g) / len(p | g) if p | g else 0.0


def twosix_concepts_match(pred: str, gold: str) -> bool:
    """twosix_overlap >= 0.5: "water" matches "scarcity of water", "rainfall" does not match "low
    levels of rainfall"."""
    return twosix_overlap(pred, gold) >= 0.5


def twosix_relations_match(pred: PassageRelation, gold: PassageRelation) -> bool:
    """src and tgt match (twosix_concepts_match) and the sign agrees (a gold sign of 0, unknown,
    accepts either)."""
    return ((pred.sign == gold.sign or gold.sign == 0)
            and twosix_concepts_match(pred.src, gold.src) and twosix_concepts_match(pred.tgt, gold.tgt))


def count_matches(pred: Sequence[PassageRelation], gold: Sequence[PassageRelation]) -> int:
    """True positives of one passage: each prediction, in output order, takes the first gold
    relation not yet taken that it matches (twosix_relations_match)."""
    taken: set[int] = set()
    for p in pred:
        j = next((j for j, g in enumerate(gold) if j not in taken and twosix_relations_match(p, g)), None)
        if j is not None:
            taken.add(j)
    return len(taken)


def e2e_scores(pred: Sequence[Sequence[PassageRelation]], gold: Sequence[Sequence[PassageRelation]]
               ) -> dict[str, float]:
    """End-to-end extraction P/R/F1 over passages (lists aligned passage by passage)."""
    tp = sum(count_matches(p, g) for p, g in zip(pred, gold))
    ep, er, ef = prf(tp, sum(map(len, pred)), sum(map(len, gold)))
    return {"e2e_precision": ep, "e2e_recall": er, "e2e_f1": ef}


def calibration_error(prob: np.ndarray, correct: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error of a probability against 0/1 outcomes (equal-width bins): the
    check that a score a reviewer filters on means what it says."""
    prob, correct = np.asarray(prob, float), np.asarray(correct, float)
    if not len(prob):
        return 0.0
    idx = np.minimum((prob * bins).astype(int), bins - 1)
    return float(sum(abs(prob[idx == b].mean() - correct[idx == b].mean()) * np.mean(idx == b)
                     for b in range(bins) if np.any(idx == b)))


@dataclass
class Mismatch:
    """A relation without a partner: 'spurious' (predicted only) or 'missed' (reference only)."""

    sentence: Hashable
    kind: Literal["spurious", "missed"]
    relation: Any


@dataclass
class Score:
    """Micro-averaged P/R/F1 over sentences, per group (e.g. document), and what did not match."""

    total: PRF
    groups: dict[Hashable, PRF] = field(default_factory=dict)
    mismatches: list[Mismatch] = field(default_factory=list)
    n_sentences: int = 0
    """How many sentences were scored."""


def score(pred: Mapping[Hashable, Sequence[Any]], gold: Mapping[Hashable, Sequence[Any]],
          sentences: Iterable[Hashable], mode: MatchMode = "overlap",
          group_of: Mapping[Hashable, Hashable] | None = None) -> Score:
    """Score predictions against reference relations on the given sentences (missing = none)."""
    result = Score(PRF())
    for s in sentences:
        p, g = list(pred.get(s, ())), list(gold.get(s, ()))
        pairs = match_relations(p, g, mode)
        prf = PRF(len(pairs), len(p), len(g))
        result.total = result.total + prf
        result.n_sentences += 1
        if group_of is not None:
            key = group_of[s]
            result.groups[key] = result.groups.get(key, PRF()) + prf
        matched_p, matched_g = {i for i, _ in pairs}, {j for _, j in pairs}
        result.mismatches += [Mismatch(s, "spurious", r) for i, r in enumerate(p) if i not in matched_p]
        result.mismatches += [Mismatch(s, "missed", r) for j, r in enumerate(g) if j not in matched_g]
    return result


def fmt_measure(x: float | None) -> str:
    """A precision / recall / F1 / kappa for display: three decimals, or "–" when undefined
    (None, e.g. kappa when both annotators always say the same)."""
    return "–" if x is None else f"{x:.3f}"


def cohen_kappa(a: Sequence[bool], b: Sequence[bool]) -> float | None:
    """Cohen's kappa of two binary judgements; None when chance agreement is 1 (undefined)."""
    if len(a) != len(b):
        raise ValueError("both annotators must judge the same items")
    n = len(a)
    if n == 0:
        return None
    observed = sum(x == y for x, y in zip(a, b)) / n
    pa, pb = sum(a) / n, sum(b) / n
    chance = pa * pb + (1 - pa) * (1 - pb)
    if chance == 1:
        return None
    return (observed - chance) / (1 - chance)


@dataclass
class Disagreement:
    """One sentence where the two annotators' relations differ (unmatched under exact match)."""

    sentence: Hashable
    only_a: list[Any]
    only_b: list[Any]
    partial: list[tuple[Any, Any]]
    """Pairs that match loosely (overlapping concepts) but not exactly: boundary disagreements."""


@dataclass
class Agreement:
    """Two annotators on their shared sentences.

    exact / partial: A's relations scored against B's (precision = share of A's found by B; F1 is
    symmetric). kappa: Cohen's kappa on 'the sentence has a relation'. table: counts of sentences
    (both, only A, only B, neither).
    """

    n_sentences: int
    exact: PRF
    partial: PRF
    kappa: float | None
    table: dict[str, int]
    disagreements: list[Disagreement]


def agreement(a: Mapping[Hashable, Sequence[Any]], b: Mapping[Hashable, Sequence[Any]],
              sentences: Iterable[Hashable]) -> Agreement:
    """Relation-level and sentence-level agreement of annotator A with annotator B."""
    sentences = list(sentences)
    exact = score(a, b, sentences, "exact")
    partial = score(a, b, sentences, "overlap")
    has_a = [bool(a.get(s)) for s in sentences]
    has_b = [bool(b.get(s)) for s in sentences]
    table = {"both": 0, "only_a": 0, "only_b": 0, "neither": 0}
    for x, y in zip(has_a, has_b):
        table["both" if x and y else "only_a" if x else "only_b" if y else "neither"] += 1
    disagreements = []
    for s in sentences:
        ra, rb = list(a.get(s, ())), list(b.get(s, ()))
        pairs = match_relations(ra, rb, "exact")
        left_a = [r for i, r in enumerate(ra) if i not in {p for p, _ in pairs}]
        left_b = [r for j, r in enumerate(rb) if j not in {g for _, g in pairs}]
        if not (left_a or left_b):
            continue
        loose = match_relations(left_a, left_b, "overlap")
        disagreements.append(Disagreement(
            s,
            [r for i, r in enumerate(left_a) if i not in {p for p, _ in loose}],
            [r for j, r in enumerate(left_b) if j not in {g for _, g in loose}],
            [(left_a[i], left_b[j]) for i, j in loose],
        ))
    return Agreement(len(sentences), exact.total, partial.total, cohen_kappa(has_a, has_b),
                     table, disagreements)
