"""The relation model's heads as scikit-learn estimators (models.heads.HeadClassifier): the
estimator checks, clone and GridSearchCV, and feature statistics fitted inside each fold."""
from __future__ import annotations

import random

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from core.types import Candidate, Direction, LabeledExample
from models.classifier import HeadSettings, RelationModel, TrainingSet, feature_union
from models.heads import Encoded, HeadClassifier, Lookup

EXPECTED_FAILED_CHECKS: dict[str, str] = {}
"""Checks the numeric heads are allowed to fail, with why: none. (check_array_api_input skips
itself unless SCIPY_ARRAY_API is set.) The sample-weight equivalence checks pass because they hand
the head explicit splits through its `cv` parameter; with `cv` an int, folds are drawn per row, so
a row repeated k times and a row weighted k would fall into different folds."""


@parametrize_with_checks([HeadClassifier(c_grid=(1.0,), max_iter=500),
                          HeadClassifier(c_grid=(0.1, 10.0), cv=2, seed=3, max_iter=500)],
                         expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS)
def test_numeric_heads_pass_the_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


def _numeric(n: int = 120, seed: int = 0):
    return make_classification(n_samples=n, n_features=6, n_informative=3, n_redundant=0, random_state=seed)


def test_clone_keeps_the_parameters_and_drops_the_fitted_state():
    head = HeadClassifier(c_grid=(0.5, 2.0), cv=4, seed=7).fit(*_numeric())
    copy = clone(head)
    assert copy.get_params() == head.get_params()
    assert not hasattr(copy, "pipeline_") and hasattr(head, "oof_proba_")


def test_grid_search_over_a_head():
    X, y = _numeric(150)
    search = GridSearchCV(HeadClassifier(max_iter=500), {"c_grid": [(0.001,), (1.0,)]}, cv=3, scoring="neg_log_loss")
    search.fit(X, y)
    assert search.best_params_ == {"c_grid": (1.0,)}  # C 0.001 all but ignores the informative features
    assert search.predict_proba(X).shape == (150, 2)


def test_c_is_chosen_by_the_log_loss_on_the_tuning_rows_and_weights_count():
    X, y = _numeric(200, seed=1)
    head = HeadClassifier(c_grid=(1e-4, 1.0), max_iter=500).fit(X, y)
    assert head.C_ == 1.0 and head.cv_loss_["1.0"] < head.cv_loss_["0.0001"]
    assert head.oof_proba_.shape == (200, 2) and np.allclose(head.oof_proba_.sum(axis=1), 1)
    # the loss on a subset of rows is a different figure from the loss on all of them
    tune = np.arange(200) < 50
    sub = HeadClassifier(c_grid=(1e-4, 1.0), max_iter=500).fit(X, y, tune=tune)
    assert sub.cv_loss_["1.0"] != head.cv_loss_["1.0"]
    # a row weighted 0 is left out of every fit: the same model as without it
    w = np.ones(200)
    w[:20] = 0
    weighted = HeadClassifier(c_grid=(1.0,), max_iter=2000).fit(X, y, sample_weight=w)
    dropped = LogisticRegression(C=1.0, max_iter=2000, random_state=0).fit(X[20:], y[20:])
    assert np.allclose(weighted.pipeline_[-1].coef_, dropped.coef_, atol=1e-3)


# ---- feature statistics inside the folds

WORDS = "alpha beta gamma delta omega river stone cloud field market harbour forest valley summit meadow".split()


def _candidates(n: int, seed: int = 0) -> tuple[list[Candidate], np.ndarray]:
    rng = random.Random(seed)
    rows, labels = [], []
    for i in range(n):
        text = f"item{i} " + " ".join(rng.choice(WORDS) for _ in range(6)) + f" end{i}"
        rows.append(Candidate(text, (0, len(f"item{i}")), (len(text) - len(f"end{i}"), len(text))))
        labels.append(int(rng.random() < 0.5))
    return rows, np.asarray(labels)


def test_out_of_fold_probabilities_come_from_pipelines_fitted_on_the_other_folds_only():
    cands, y = _candidates(90)
    rng = np.random.default_rng(0)
    rows = [Encoded(c.text, c.a, c.b, rng.normal(size=4) + 3 * label) for c, label in zip(cands, y)]
    features = feature_union(Lookup(), HeadSettings(cues=False))
    head = HeadClassifier(features, c_grid=(0.5, 2.0), weight_grid=(0.1, 1.0), cv=3, seed=5).fit(rows, y)
    folds = StratifiedKFold(3, shuffle=True, random_state=5)
    for train, test in folds.split(np.zeros(len(y)), y):
        fold_features = clone(features).set_params(embed__scale__weight=head.weight_)
        pipe = Pipeline([("features", fold_features), ("clf", LogisticRegression(C=head.C_, max_iter=3000,
                                                                                  random_state=5))])
        pipe.fit([rows[i] for i in train], y[train])
        assert np.allclose(head.oof_proba_[test], pipe.predict_proba([rows[i] for i in test]))


def _twins(n_pairs: int, seed: int = 0) -> TrainingSet:
    """Sentences of random words whose label is told only by a word each shares with one other
    sentence of the same label: a word a fold can know about only from its held-out rows."""
    rng = random.Random(seed)
    train = TrainingSet()
    for k in range(n_pairs):
        label = Direction.A_TO_B if rng.random() < 0.5 else Direction.NONE
        for _ in range(2):
            words = [rng.choice(WORDS) for _ in range(2)]
            text = f"first {' '.join(words)} twin{k} second"
            a, b = (0, len("first")), (len(text) - len("second"), len(text))
            train.examples.append(LabeledExample(Candidate(text, a, b), label, None, "fixture"))
    return train


def test_the_cross_validation_loss_does_not_learn_from_the_rows_it_scores():
    """The TF-IDF of twin words fitted on all rows (as before the heads refitted their features in
    each fold) let a twin seen in training tell its held-out twin's label: the out-of-fold loss fell
    far under chance. Fitted inside the folds, a twin seen once is under min_df and carries nothing."""
    train = _twins(150)
    model = RelationModel(None, HeadSettings(c_grid=(10.0,), cues=False)).fit(train, progress=lambda _: None)
    assert model.info["cv"]["pair"]["10.0"] > 0.65  # chance: ln 2 = 0.69; fitted on all rows: 0.47
    # the shipped head, fitted on all rows, does learn the twins
    probs, _ = model.predict_proba([e.candidate for e in train.examples])
    y = np.asarray([int(e.label) for e in train.examples])
    assert np.mean((probs[:, 1] > 0.5) == (y == 1)) > 0.9
