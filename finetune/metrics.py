"""The task's scores: causal predictions count only with the right direction (the SemEval convention)."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from data.types import Direction


def _prf(correct: int, predicted: int, actual: int) -> tuple[float, float, float]:
    precision = correct / predicted if predicted else 0.0
    recall = correct / actual if actual else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def direction_scores(gold: Sequence[int], pred: Sequence[int]) -> dict:
    """Causal precision / recall / F1 with direction, and detection (causal or not) F1.

    A predicted A->B on a gold B->A is a false positive AND a miss, as in the ml.md baselines.
    """
    gold, pred = np.asarray(gold, dtype=np.int64), np.asarray(pred, dtype=np.int64)
    causal_gold, causal_pred = gold != Direction.NONE, pred != Direction.NONE
    correct = int((causal_pred & (pred == gold)).sum())
    precision, recall, f1 = _prf(correct, int(causal_pred.sum()), int(causal_gold.sum()))
    detected = int((causal_pred & causal_gold).sum())
    det_p, det_r, det_f1 = _prf(detected, int(causal_pred.sum()), int(causal_gold.sum()))
    return {"precision": precision, "recall": recall, "f1": f1,
            "detection_precision": det_p, "detection_recall": det_r, "detection_f1": det_f1,
            "accuracy": float((gold == pred).mean()) if len(gold) else 0.0,
            "n": int(len(gold)), "n_causal": int(causal_gold.sum())}


def causal_f1(gold: Sequence[int], pred: Sequence[int]) -> float:
    """The single figure model selection maximises (a scikit-learn scorer via make_scorer)."""
    return direction_scores(gold, pred)["f1"]
