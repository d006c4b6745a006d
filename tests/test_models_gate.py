"""The sentence-head gate and the per-passage budget of extraction, on invented passages: how they
are tuned on out-of-fold scores, and that extraction honours them (TF-IDF heads, real spaCy)."""
from __future__ import annotations

import numpy as np
import pytest

from core.types import Candidate, Direction, PassageRelation
from models.classifier import HeadSettings, Prediction, RelationModel, TrainingSet, passage_examples, relations_from
from tests.models_fixtures import CAUSAL_AB, CAUSES, DECREASE, EFFECTS, NEUTRAL


def _pred(text: str, a: str, b: str, score: float) -> Prediction:
    ca, cb = text.index(a), text.index(b)
    return Prediction(Candidate(text, (ca, ca + len(a)), (cb, cb + len(b))), (1 - score, score, 0.0),
                      Direction.A_TO_B, 1, 0.9, score)


def test_budget_keeps_the_best_scored_relations_only():
    text = "Rain swells rivers, floods farms and worries the mayor."
    preds = [_pred(text, "Rain", "farms", 0.6), _pred(text, "Rain", "rivers", 0.9), _pred(text, "Rain", "mayor", 0.4)]
    assert [r.tgt for r in relations_from(preds, "m")] == ["rivers", "farms", "mayor"]
    assert [r.tgt for r in relations_from(preds, "m", budget=2)] == ["rivers", "farms"]
    assert [r.tgt for r in relations_from(preds, "m", budget=1)] == ["rivers"]


GATED = HeadSettings(gate=True, budgets=(1, 2, 3, 5))


class _Head:
    """Stands in for a fitted sentence head: _tune_gate reads out-of-fold scores, not the head."""


def test_gate_and_budget_are_tuned_where_they_raise_out_of_fold_f1():
    model = RelationModel(None, GATED)
    model.sentence_ = _Head()
    cands, probs, passages, oof = [], [], [], {}
    for i in range(6):
        text = f"Drought number {i} dries wells, and herders move while traders wait."
        causal = i % 2 == 0
        idx = []
        for b, p in (("wells", 0.8), ("herders", 0.6), ("traders", 0.55)):
            idx.append(len(cands))
            cands.append(_pred(text, "Drought", b, p).candidate)
            probs.append([1 - p, p, 0.0])
        gold = [PassageRelation("drought", "wells", 1)] if causal else []
        passages.append((text, gold, idx))
        oof[text] = 0.9 if causal else 0.1
    probs = np.asarray(probs)
    model.thresholds.update(extract=0.5, relative=0.0)
    model.info["oof_e2e_f1"] = model._e2e_from(passages, cands, probs, np.ones(len(cands)), 0.5, 0.0)["e2e_f1"]
    assert model.info["oof_e2e_f1"] == pytest.approx(2 / 7)  # 3 of 18 right, every gold found
    model._tune_gate(passages, cands, probs, np.ones(len(cands)), oof)
    # the non-causal passages gated away, one relation per passage: every prediction right
    assert model.thresholds["gate"] == 0.2 and model.thresholds["budget"] == 1
    assert model.info["oof_e2e_f1"] == 1.0
    assert model.info["ungated"]["oof_e2e_f1"] == pytest.approx(2 / 7)


def test_no_gate_and_no_budget_when_they_do_not_help():
    model = RelationModel(None, GATED)
    model.sentence_ = _Head()
    text = "Drought dries wells."
    cands = [_pred(text, "Drought", "wells", 0.8).candidate]
    passages = [(text, [PassageRelation("drought", "wells", 1)], [0])]
    probs = np.asarray([[0.2, 0.8, 0.0]])
    model.thresholds.update(extract=0.5, relative=0.0)
    model.info["oof_e2e_f1"] = 1.0
    model._tune_gate(passages, cands, probs, np.ones(1), {text: 0.3})
    assert (model.thresholds["gate"], model.thresholds["budget"], model.thresholds["extract"]) == (0.0, 0, 0.5)


def _training_set() -> TrainingSet:
    train = TrainingSet()
    texts, gold = [], []
    for i, (a, b) in enumerate((a, b) for a in CAUSES for b in EFFECTS[:4]):
        if i % 3 == 0:
            texts.append(NEUTRAL[i % len(NEUTRAL)].format(a=a, b=b))
            gold.append([])
        else:
            tpl, sign = (CAUSAL_AB[i % len(CAUSAL_AB)], 1) if i % 3 == 1 else (DECREASE[i % len(DECREASE)], -1)
            texts.append(tpl.format(a=a, b=b))
            gold.append([PassageRelation(a, b, sign)])
    for (exs, n), text, rels in zip(passage_examples(texts, gold), texts, gold):
        train.passages.append((text, rels, list(range(len(train.examples), len(train.examples) + n))))
        train.examples += exs
    train.sentences = [(t, bool(g)) for t, g in zip(texts, gold)]
    return train


@pytest.fixture(scope="module")
def fitted() -> RelationModel:
    return RelationModel(None, HeadSettings(c_grid=(1.0,), gate=True)).fit(_training_set(), progress=lambda _: None)


PASSAGES = ["The heavy rain caused river floods in the valley.",
            "Overfishing and coral bleaching were both listed in the annual report.",
            "Scientists found that chronic stress leads to poor sleep and hearing loss over time."]


def test_extraction_honours_the_gate_and_the_budget(fitted: RelationModel):
    model = fitted
    assert {"gate", "budget"} <= set(model.thresholds)
    model.thresholds.update(gate=0.0, budget=0, extract=0.05, relative=0.0)
    free = model.extract(PASSAGES)
    assert all(free), "with a low threshold and no gate every passage yields something"
    p_causal = model.sentence_proba(PASSAGES)
    assert p_causal[1] < min(p_causal[0], p_causal[2]), "the listing sentence reads as not causal"
    model.thresholds["gate"] = float((p_causal[1] + min(p_causal[0], p_causal[2])) / 2)
    gated = model.extract(PASSAGES)
    assert gated[1] == [] and gated[0] == free[0] and gated[2] == free[2]
    model.thresholds.update(gate=0.0, budget=1)
    assert [len(r) for r in model.extract(PASSAGES)] == [1, 1, 1]
    assert [r[0].src for r in model.extract(PASSAGES)] == [r[0].src for r in free]


def test_a_bundle_without_gate_or_budget_extracts_as_before(fitted: RelationModel):
    model = fitted
    model.thresholds.update(gate=0.0, budget=0, extract=0.05)
    before = model.extract(PASSAGES)
    for key in ("gate", "budget"):
        del model.thresholds[key]  # thresholds of a bundle saved before they existed
    assert model.extract(PASSAGES) == before
    model.thresholds.update(gate=0.0, budget=0)


def test_by_default_neither_gate_nor_budget_is_tuned(fitted: RelationModel):
    model = RelationModel(None, HeadSettings(c_grid=(1.0,))).fit(_training_set(), progress=lambda _: None)
    assert (model.thresholds["gate"], model.thresholds["budget"]) == (0.0, 0) and "ungated" not in model.info
    assert fitted.info["ungated"]["extract"] > 0
