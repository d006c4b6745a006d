"""The same downstream classifier on base and tuned features, so the comparison isolates the backbone.

LogisticRegression on standardised features, C chosen by stratified cross-validation on the TRAIN
split only (scored by causal F1 with direction); the validation split is touched once, at the end.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import make_scorer
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from core.metrics import pair_scores

log = logging.getLogger("fuzzymap.finetune")

C_GRID = (0.01, 0.1, 1.0)


def causal_f1(gold: Sequence[int], pred: Sequence[int]) -> float:
    """The figure model selection maximises: causal F1 with the right direction."""
    return pair_scores(gold, pred)["causal_f1"]


def fit_classifier(X: np.ndarray, y: np.ndarray, folds: int = 3, c_grid: Sequence[float] = C_GRID,
                   seed: int = 0) -> GridSearchCV:
    """StandardScaler + LogisticRegression, C picked by stratified k-fold CV on (X, y) alone."""
    counts = np.bincount(y)
    n_splits = max(2, min(folds, int(counts[counts > 0].min())))
    search = GridSearchCV(
        Pipeline([("scale", StandardScaler()), ("lr", LogisticRegression(max_iter=2000))]),
        {"lr__C": list(c_grid)},
        scoring=make_scorer(causal_f1),
        cv=StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed),
        refit=True,
    )
    return search.fit(X, y)


def score_state(name: str, X_train: np.ndarray, y_train: np.ndarray, X_valid: np.ndarray, y_valid: np.ndarray,
                folds: int = 3, c_grid: Sequence[float] = C_GRID, seed: int = 0) -> dict:
    """Fit on train, score once on validation: one row of the comparison table."""
    search = fit_classifier(X_train, y_train, folds, c_grid, seed)
    row = {"state": name, **pair_scores(y_valid, search.predict(X_valid)),
           "C": float(search.best_params_["lr__C"]), "cv_f1": float(search.best_score_),
           "dim": int(X_train.shape[1])}
    log.info("%s features: C=%g (CV F1 %.3f on train), validation causal F1 %.3f", name, row["C"],
             row["cv_f1"], row["causal_f1"])
    return row
