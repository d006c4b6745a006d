"""The relation model's heads as scikit-learn estimators: Pipeline(features, LogisticRegression)
with C (and the embedding block's weight) chosen by cross-validation of the WHOLE pipeline.

Every fold refits the feature statistics (TF-IDF vocabulary and idf, the embedding scaler's mean
and std) on its training rows alone, so the out-of-fold probabilities the thresholds are tuned on
come from features that never saw the rows they score. The embedding itself learns nothing from
the data (a frozen or LoRA-tuned backbone's forward pass), so models.classifier encodes each
candidate once (`Encoded` rows read by `Lookup`) instead of once per fold and setting; only the
data-dependent statistics after it are refitted.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, check_cv
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils import _safe_indexing
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from core.types import Candidate

WEIGHT_PARAM = "embed__scale__weight"
"""The features' parameter the weight grid sets (models.classifier.feature_union's embedding block)."""


@dataclass(frozen=True, eq=False)
class Encoded(Candidate):
    """A candidate carrying its embedding, computed once before cross-validation (see Lookup)."""

    vector: np.ndarray


class Lookup(TransformerMixin, BaseEstimator):
    """Stands in for the embedder while a head is fitted: the vectors its Encoded rows carry.
    Stateless, like the embedder it stands for."""

    def fit(self, X, y=None) -> Lookup:
        return self

    def transform(self, X: Sequence[Encoded]) -> np.ndarray:
        return np.stack([r.vector for r in X])


class Scaled(TransformerMixin, BaseEstimator):
    """Dense features standardised then scaled by one weight (see HeadSettings.embed_weight)."""

    def __init__(self, weight: float = 1.0) -> None:
        self.weight = weight

    def fit(self, X, y=None) -> Scaled:
        X = np.asarray(X, dtype=np.float64)
        self.mean_ = X.mean(axis=0)
        self.scale_ = X.std(axis=0)
        self.scale_[self.scale_ < 1e-8] = 1.0
        return self

    def transform(self, X):
        return ((np.asarray(X, dtype=np.float64) - self.mean_) / self.scale_ * self.weight).astype(np.float32)


class HeadClassifier(ClassifierMixin, BaseEstimator):
    """LogisticRegression on `features` (a transformer of the rows; None: X is numeric already),
    its C and the embedding weight chosen by stratified cross-validation of the whole pipeline.

    The choice minimises the (sample-weighted) log loss of the out-of-fold probabilities on the
    tuning rows (fit's `tune` mask: the texts held out of the backbone's LoRA stage; None: all
    rows). Fitted: `pipeline_` (refit on every row at the chosen setting), `oof_proba_` (the
    out-of-fold probabilities of that setting, columns in `classes_` order, for tuning thresholds
    on), `C_`, `weight_` (None when no weight grid), `cv_loss_` (setting -> loss).
    """

    def __init__(self, features: BaseEstimator | None = None, c_grid: Sequence[float] = (1.0, 4.0),
                 weight_grid: Sequence[float] = (), cv: int | object = 3, seed: int = 0, max_iter: int = 3000) -> None:
        self.features = features
        self.c_grid = c_grid
        self.weight_grid = weight_grid
        """Embedding weights tried beside C (the features' embed__scale__weight); (): the features' own."""
        self.cv = cv
        """Folds (stratified, shuffled with seed), or a scikit-learn splitter or list of splits."""
        self.seed = seed
        self.max_iter = max_iter

    def _pipeline(self, C: float, weight: float | None) -> Pipeline:
        features = FunctionTransformer() if self.features is None else clone(self.features)
        if weight is not None:
            features.set_params(**{WEIGHT_PARAM: weight})
        lr = LogisticRegression(C=C, max_iter=self.max_iter, random_state=self.seed)
        return Pipeline([("features", features), ("clf", lr)])

    def _rows(self, X, reset: bool):
        if self.features is None:
            return validate_data(self, X, accept_sparse="csr", reset=reset)
        return list(X)

    def _out_of_fold(self, X, y: np.ndarray, sw: np.ndarray | None, weight: float | None,
                     splits: list) -> list[np.ndarray]:
        """Out-of-fold probabilities per C at one weight: what cross_val_predict gives for each
        Pipeline(features, LogisticRegression(C)), with the features fitted once per fold for all C."""
        out = [np.zeros((len(y), len(self.classes_))) for _ in self.c_grid]
        for train, test in splits:
            pipe = self._pipeline(1.0, weight)
            Xtr = pipe[0].fit_transform(_safe_indexing(X, train), y[train])
            Xte = pipe[0].transform(_safe_indexing(X, test))
            for proba, C in zip(out, self.c_grid):
                lr = pipe[-1].set_params(C=C).fit(Xtr, y[train], sample_weight=None if sw is None else sw[train])
                proba[np.ix_(test, np.searchsorted(self.classes_, lr.classes_))] = lr.predict_proba(Xte)
        return out

    def fit(self, X, y, sample_weight: np.ndarray | None = None, tune: np.ndarray | None = None) -> HeadClassifier:
        """Choose C (and the weight) by cross-validation, keep that setting's out-of-fold
        probabilities, refit on all rows. sample_weight weighs the rows in every fit and in the
        loss that chooses; tune: the rows whose loss chooses (bool mask; None: all)."""
        if self.features is None:
            X, y = validate_data(self, X, y, accept_sparse="csr")
        else:
            X, y = list(X), np.asarray(y)
            if len(X) != len(y):
                raise ValueError(f"X has {len(X)} rows but y has {len(y)}")
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise ValueError(f"needs samples of at least 2 classes in the data, but the data contains only one "
                             f"class: {self.classes_[0]!r}")
        sw = None if sample_weight is None else _check_sample_weight(sample_weight, np.empty((len(y), 0)))
        mask = np.ones(len(y), dtype=bool) if tune is None else np.asarray(tune, dtype=bool)
        folds = (StratifiedKFold(self.cv, shuffle=True, random_state=self.seed) if isinstance(self.cv, Integral)
                 else check_cv(self.cv, y, classifier=True))
        splits = list(folds.split(np.zeros((len(y), 1)), y))
        truth = np.searchsorted(self.classes_, y)
        weights = tuple(self.weight_grid) or (None,)
        self.cv_loss_: dict[str, float] = {}
        best = None
        for w in weights:
            oof = self._out_of_fold(X, y, sw, w, splits)
            for C, proba in zip(self.c_grid, oof):
                picked = proba[np.arange(len(y)), truth][mask]
                loss = -float(np.average(np.log(picked + 1e-9), weights=None if sw is None else sw[mask]))
                self.cv_loss_[f"w={w},C={C}" if len(weights) > 1 else str(C)] = round(loss, 4)
                if best is None or loss < best[0]:
                    best = (loss, w, C, proba)
        _, self.weight_, self.C_, self.oof_proba_ = best
        self.pipeline_ = self._pipeline(self.C_, self.weight_).fit(
            X, y, **({} if sw is None else {"clf__sample_weight": sw}))
        self.n_iter_ = self.pipeline_[-1].n_iter_
        return self

    def predict_proba(self, X) -> np.ndarray:
        check_is_fitted(self, "pipeline_")
        return self.pipeline_.predict_proba(self._rows(X, reset=False))

    def predict(self, X) -> np.ndarray:
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if self.features is not None:
            tags.input_tags.two_d_array = False
            tags.input_tags.string = True
        tags.input_tags.sparse = self.features is None
        return tags
