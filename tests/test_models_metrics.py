"""Hand-checked scores: the figures the relation model is judged by."""
from __future__ import annotations

import numpy as np
import pytest

from core.metrics import (
    calibration_error,
    count_matches,
    e2e_scores,
    pair_scores,
    sentence_scores,
    sign_accuracy,
    twosix_concepts_match,
    twosix_words,
)
from core.types import Candidate, Direction, LabeledData, LabeledExample, LabeledSentence, ParsedSentence, PassageRelation
from models.classifier import Prediction, relations_from
from models.evaluate import evaluate_data


def test_pair_scores_by_hand():
    gold = [1, 1, 2, 0, 0, 2]
    pred = [1, 2, 2, 1, 0, 0]
    # causal predictions: idx 0 (right), 1 (wrong direction), 2 (right), 3 (false alarm) -> 4 predicted
    # gold causal: idx 0, 1, 2, 5 -> 4; correct with direction: 2 -> P = R = F1 = 0.5
    s = pair_scores(gold, pred)
    assert s["n"] == 6
    assert s["causal_precision"] == pytest.approx(0.5)
    assert s["causal_recall"] == pytest.approx(0.5)
    assert s["causal_f1"] == pytest.approx(0.5)
    # direction ignored: idx 0, 1, 2 detected -> P = 3/4, R = 3/4
    assert s["detection_f1"] == pytest.approx(0.75)


def test_pair_scores_no_predictions_is_zero_not_nan():
    s = pair_scores([1, 0], [0, 0])
    assert s["causal_precision"] == 0.0 and s["causal_f1"] == 0.0


def test_sign_accuracy_only_counts_labelled_gold_signs():
    assert sign_accuracy([1, -1, None, 1], [1, 1, -1, 1]) == pytest.approx(2 / 3)
    assert sign_accuracy([None, None], [1, -1]) is None


def test_sentence_scores_by_hand():
    s = sentence_scores([True, True, False, False, True], [True, False, True, False, True])
    # tp 2, predicted 3, gold 3 -> P = R = F1 = 2/3
    assert s["sentence_precision"] == pytest.approx(2 / 3)
    assert s["sentence_f1"] == pytest.approx(2 / 3)


def test_matching_is_the_held_out_checks_jaccard_rule():
    """ml.md's examples: "water" matches "scarcity of water" (1/2), "rainfall" does not match "low
    levels of rainfall" (1/3); both ends must match and the sign agree."""
    assert twosix_words("The price of crop-residues, 2024") == {"price", "crop", "residues", "2024"}
    assert twosix_concepts_match("water", "scarcity of water")
    assert not twosix_concepts_match("rainfall", "low levels of rainfall")
    assert not twosix_concepts_match("of the", "the")  # no words left: nothing to match
    gold = PassageRelation("scarcity of water", "conflict between farmers", 1)
    assert count_matches([PassageRelation("water", "conflict", 1)], [gold]) == 0  # tgt 1/3
    assert count_matches([PassageRelation("water", "farmers conflict", 1)], [gold]) == 1  # 1/2, 2/3
    assert count_matches([PassageRelation("water", "farmers conflict", -1)], [gold]) == 0  # sign differs
    assert count_matches([PassageRelation("water scarcity", "violent farmers conflict", 1)], [gold]) == 1
    assert count_matches([PassageRelation("wind farms", "farmers conflict", 1)], [gold]) == 0  # src 0/4
    assert count_matches([PassageRelation("water farm", "conflict", 1)], [gold]) == 0  # tgt 1/3
    unknown = PassageRelation("stress", "sleep", 0)  # a gold relation without a sign accepts either
    assert count_matches([PassageRelation("stress", "poor sleep", -1)], [unknown]) == 1


def test_e2e_matching_is_greedy_in_output_order():
    # "heat" matches both gold relations (1/2 and 1/1), "long heat wave" only the first (2/3; 1/3 with
    # "heat"); taken in output order, "heat" claims the first gold relation and "long heat wave"
    # finds nothing left, as the held-out check counts
    gold = [PassageRelation("heat wave", "drought", 1), PassageRelation("heat", "drought", 1)]
    heat, long_wave = PassageRelation("heat", "drought", 1), PassageRelation("long heat wave", "drought", 1)
    assert count_matches([heat, long_wave], gold) == 1
    assert count_matches([long_wave, heat], gold) == 2


def test_e2e_is_one_to_one():
    gold = [[PassageRelation("rain", "floods", 1)], [PassageRelation("heat", "drought", 1),
                                                     PassageRelation("heat", "fires", 1)]]
    pred = [[PassageRelation("heavy rain", "floods", 1), PassageRelation("rain", "floods", 1)],  # 1 tp, 1 duplicate
            [PassageRelation("heat", "fires", 1)]]
    s = e2e_scores(pred, gold)
    # tp 2 of 3 predicted and 3 gold
    assert s["e2e_precision"] == pytest.approx(2 / 3)
    assert s["e2e_recall"] == pytest.approx(2 / 3)
    assert s["e2e_f1"] == pytest.approx(2 / 3)


def test_calibration_error_by_hand():
    assert calibration_error(np.array([0.9, 0.9, 0.1, 0.1]), np.array([1, 1, 0, 0])) == pytest.approx(0.1)
    assert calibration_error(np.array([0.75, 0.75]), np.array([1, 0])) == pytest.approx(0.25)


class FixedModel:
    """Stands in for RelationModel with predictions fixed in advance, to check the evaluation wiring."""

    sign_ = object()
    sentence_ = None

    def __init__(self, directions, signs, relations, sentences):
        self.directions, self.signs, self.relations, self.sentences = directions, signs, relations, sentences

    def predict_candidates(self, candidates):
        from models.classifier import Prediction

        return [Prediction(c, (0, 0, 0), Direction(d), s, 0.5, 0.5)
                for c, d, s in zip(candidates, self.directions, self.signs)]

    def extract(self, texts, progress=False):
        return self.relations

    def predict_sentences(self, texts):
        return np.asarray(self.sentences)


def test_evaluate_data_on_fixed_predictions():
    text = "Heavy rain caused floods while the dry wind reduced crops."
    c = Candidate(text, (0, 10), (18, 24))
    data = LabeledData("fixture", examples=[
        LabeledExample(c, Direction.A_TO_B, 1), LabeledExample(c, Direction.B_TO_A, -1),
        LabeledExample(c, Direction.NONE), LabeledExample(c, Direction.A_TO_B, -1)],
        sentences=[LabeledSentence(text, True), LabeledSentence("Nothing here.", False)],
        passages=[ParsedSentence(text, relations=[PassageRelation("Heavy rain", "floods", 1),
                                                  PassageRelation("dry wind", "crops", -1)])])
    model = FixedModel(directions=[1, 1, 1, 0], signs=[1, -1, 1, 1],
                       relations=[[PassageRelation("rain", "floods", 1), PassageRelation("wind", "rain", -1)]],
                       sentences=[True, True])
    out = evaluate_data(model, data, "twosix")
    # pairs: predicted causal idx 0, 1, 2; right with direction: idx 0 -> P 1/3, gold causal 3 -> R 1/3
    assert out["n"] == 4
    assert out["causal_precision"] == pytest.approx(1 / 3, abs=1e-4)
    assert out["causal_recall"] == pytest.approx(1 / 3, abs=1e-4)
    # detection: 2 of 3 predicted are gold causal, 2 of 3 gold found -> 2/3
    assert out["detection_f1"] == pytest.approx(2 / 3, abs=1e-4)
    # signs over gold causal: idx 0 (1 vs 1 ok), 1 (-1 vs -1 ok), 3 (-1 vs 1 wrong) -> 2/3
    assert out["sign_accuracy"] == pytest.approx(2 / 3, abs=1e-4)
    # e2e: 1 of 2 predicted matches, 1 of 2 gold found
    assert out["e2e_f1"] == pytest.approx(0.5)
    # sentences: predicted both causal, one is -> P 1/2, R 1 -> F1 2/3
    assert out["sentence_f1"] == pytest.approx(2 / 3, abs=1e-4)


def test_relations_from_keeps_one_relation_per_concept_text():
    text = "The child ate and the child grew while rain fell."
    first, second, rain = (4, 9), (22, 27), (39, 43)
    preds = [Prediction(Candidate(text, first, rain), (0.2, 0.1, 0.7), Direction.B_TO_A, 1, 0.9, 0.7),
             Prediction(Candidate(text, second, rain), (0.1, 0.1, 0.8), Direction.B_TO_A, 1, 0.9, 0.8),
             Prediction(Candidate(text, first, second), (0.9, 0.05, 0.05), Direction.NONE, 1, 0.5, 0.1)]
    rels = relations_from(preds, "m")
    # "rain -> child" twice (two mentions of "child") comes out once, with the better score
    assert [(r.src, r.tgt, r.score, r.tgt_span) for r in rels] == [("rain", "child", 0.8, second)]
    # "child -> child" is no relation even when it scores best, and it sets no bar for the others
    self_pair = Prediction(Candidate(text, first, second), (0.05, 0.9, 0.05), Direction.A_TO_B, 1, 0.9, 0.9)
    assert [(r.src, r.tgt) for r in relations_from([self_pair, *preds], "m", relative=0.95)] == [("rain", "child")]


def test_relations_from_drops_relations_far_below_the_sentence_best():
    text = "Rain raises rivers, floods farms and worries the mayor."
    rain, rivers, farms, mayor = (0, 4), (12, 18), (27, 32), (49, 54)
    preds = [Prediction(Candidate(text, rain, rivers), (0.1, 0.8, 0.1), Direction.A_TO_B, 1, 0.9, 0.8),
             Prediction(Candidate(text, rain, farms), (0.5, 0.45, 0.05), Direction.A_TO_B, -1, 0.2, 0.45),
             Prediction(Candidate(text, rain, mayor), (0.7, 0.3, 0.0), Direction.A_TO_B, 1, 0.6, 0.3)]

    def names(rels):
        return [(r.src, r.tgt) for r in rels]

    assert names(relations_from(preds, "m")) == [("Rain", "rivers"), ("Rain", "farms"), ("Rain", "mayor")]
    # 0.5 x the best (0.8) = 0.4: 0.45 stays, 0.3 goes; the cut is relative, not absolute
    assert names(relations_from(preds, "m", relative=0.5)) == [("Rain", "rivers"), ("Rain", "farms")]
    assert names(relations_from(preds[1:], "m", relative=0.5)) == [("Rain", "farms"), ("Rain", "mayor")]


def test_twosix_overlap_is_the_jaccard_of_the_content_words():
    from core.metrics import twosix_overlap

    assert twosix_overlap("water", "scarcity of water") == 0.5
    assert twosix_overlap("rainfall", "low levels of rainfall") == pytest.approx(1 / 3)
    assert twosix_overlap("the", "of an") == 0.0  # no words on either side
