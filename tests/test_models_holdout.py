"""Texts held out of the LoRA stage: a seeded share drawn by text, and the heads' choices (C, the
embedding weight, thresholds) made on those texts' out-of-fold scores alone."""
from __future__ import annotations

import random

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from core.types import Candidate, Direction, LabeledExample
from models.classifier import HeadSettings, RelationModel, TrainingSet
from models.training import held_out_texts

WORDS = "alpha beta gamma delta omega river stone cloud field market harbour forest".split()


def _training_set(n: int, seed: int = 0) -> TrainingSet:
    rng = random.Random(seed)
    train = TrainingSet()
    for i in range(n):
        text = f"item{i} " + " ".join(rng.choice(WORDS) for _ in range(8))
        a, b = (0, len(f"item{i}")), (len(text) - len(text.split()[-1]), len(text))
        label = Direction.A_TO_B if rng.random() < 0.4 else Direction.NONE
        train.examples.append(LabeledExample(Candidate(text, a, b), label, None, "fixture"))
        train.sentences.append((text, label != Direction.NONE))
    return train


def test_held_out_texts_are_a_seeded_share_drawn_by_text():
    train = _training_set(2000)
    held = held_out_texts(train, 0.25, seed=0)
    assert 0.2 < len(held) / 2000 < 0.3
    assert held == held_out_texts(train, 0.25, seed=0)  # seeded
    assert held != held_out_texts(train, 0.25, seed=1)
    shuffled = TrainingSet(examples=train.examples[::-1], sentences=train.sentences[::-1])
    assert held == held_out_texts(shuffled, 0.25, seed=0)  # the draw ignores file order
    assert held_out_texts(train, 0.0, seed=0) == frozenset()
    # a second pair of a held-out sentence is held out with it: the draw is by text
    text = next(iter(held))
    train.examples.append(LabeledExample(Candidate(text, (0, 2), (3, 5)), Direction.NONE, None, "fixture"))
    assert text in held_out_texts(train, 0.25, seed=0)


class Leaky(TransformerMixin, BaseEstimator):
    """An "adapter" that memorised its tuning texts: its one feature is the label there and noise
    on the texts it never saw, as tuned features are, in the extreme."""

    def __init__(self, known: dict | None = None, parts: tuple[str, ...] = ("sentence", "a", "b")) -> None:
        self.known = known
        self.parts = parts

    def fit(self, X, y=None) -> Leaky:
        return self

    def transform(self, X):
        rng = np.random.default_rng(0)
        return np.asarray([[self.known[c.text] if c.text in self.known else rng.normal()] for c in X])


def test_heads_choose_weight_and_thresholds_on_held_out_texts_only():
    train = _training_set(300)
    held = held_out_texts(train, 0.3, seed=0)
    known = {e.candidate.text: float(e.label != Direction.NONE) for e in train.examples if e.candidate.text not in held}
    settings = HeadSettings(c_grid=(1.0,), cv_folds=3, embed_weight=1.0, embed_weight_grid=(0.01, 1.0),
                            sentence_embed_weight=1.0)

    # without held-out texts the fixed weights apply, and the memorised feature flatters the
    # out-of-fold figures the thresholds are tuned on
    everywhere = RelationModel(Leaky(known), settings).fit(train, progress=lambda _: None)
    assert everywhere.info["cv"]["pair"]["chosen_embed_weight"] == 1.0
    assert set(everywhere.info["cv"]["pair"]) == {"1.0", "chosen_embed_weight", "chosen_C"}
    assert everywhere.info["tuning_rows"] == {"pairs": 300, "held_out_of_backbone": False, "sentences": 300}

    train.held_out = held
    model = RelationModel(Leaky(known), settings).fit(train, progress=lambda _: None)
    cv = model.info["cv"]
    assert set(cv["pair"]) == {"w=0.01,C=1.0", "w=1.0,C=1.0", "chosen_embed_weight", "chosen_C"}
    # on texts it never saw the feature is noise: the light weight wins, for both heads
    assert cv["pair"]["w=0.01,C=1.0"] < cv["pair"]["w=1.0,C=1.0"]
    assert cv["pair"]["chosen_embed_weight"] == 0.01 and cv["sentence"]["chosen_embed_weight"] == 0.01
    assert model.pair_[0].get_params()["embed__scale__weight"] == 0.01
    assert model.info["tuning_rows"] == {"pairs": len(held), "held_out_of_backbone": True, "sentences": len(held)}
    # the threshold's out-of-fold F1 is measured on the held-out rows: no memorised feature to flatter it
    assert model.info["oof_pair_causal_f1"] < everywhere.info["oof_pair_causal_f1"] - 0.1
