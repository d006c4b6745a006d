"""Scores the relation model is judged by; plain functions so tests can check them by hand.

causal_*: a causal prediction counts only with the right direction (SemEval's convention).
detection_f1: direction ignored. sentence_f1: is the sentence causal. e2e_*: relations found in
passages, matched one-to-one to gold by overlap of src and tgt (a shared content word or
overlapping spans) with the same sign: the seed's matching, shared with the Compare page.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from workspace.agreement import match_relations
from core.types import Direction, PassageRelation


def prf(tp: int, n_pred: int, n_gold: int) -> tuple[float, float, float]:
    """Precision, recall, F1 from counts; 0.0 where undefined (no predictions / no gold)."""
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


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


def count_matches(pred: Sequence[PassageRelation], gold: Sequence[PassageRelation]) -> int:
    """Size of the maximum one-to-one matching of one passage's predictions and gold relations,
    by the seed's rule (workspace.agreement.relations_match, "overlap"): the CLI and the Compare page
    score the same way."""
    return len(match_relations(pred, gold, "overlap"))


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
