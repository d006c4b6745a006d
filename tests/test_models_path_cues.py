"""PathCues: dense counts of what links two concept spans, on invented sentences."""
from __future__ import annotations

import numpy as np

from core.types import Candidate
from models.classifier import HeadSettings, PathCues, RelationModel, feature_union


def _cand(text: str, a: str, b: str) -> Candidate:
    ca, cb = text.index(a), text.index(b)
    return Candidate(text, (ca, ca + len(a)), (cb, cb + len(b)))


def _row(text: str, a: str, b: str) -> dict[str, float]:
    names = ("links", "cues", "effect_first", "lead", "sentence_ends", "commas", "coordination", "adjacent", "gap")
    return dict(zip(names, PathCues().fit([]).transform([_cand(text, a, b)])[0]))


def test_link_words_and_effect_first_words_between_the_spans():
    row = _row("Crop failure was caused by the long drought.", "Crop failure", "long drought")
    assert row["links"] == 1 and row["effect_first"] == 1 and row["sentence_ends"] == 0
    row = _row("Poor roads hamper access to markets for herders.", "Poor roads", "access")
    assert row["links"] == 1 and row["effect_first"] == 0 and row["coordination"] == 0


def test_coordination_sentence_ends_and_adjacent_spans():
    assert _row("Herders and farmers met at the well.", "Herders", "farmers")["coordination"] == 1
    row = _row("Prices rose. Traders left the market.", "Prices", "Traders")
    assert row["sentence_ends"] == 1 and row["adjacent"] == 0 and row["gap"] > 0
    row = _row("Fuel prices, transport costs and rents went up.", "Fuel prices", "transport costs")
    assert row["adjacent"] == 1 and row["gap"] == 0 and row["commas"] == 1
    row = _row("Because of the drought, herders moved south.", "drought", "herders")
    assert row["lead"] == 1 and row["commas"] == 1


def test_the_order_of_the_spans_does_not_change_the_counts():
    text = "Rising fuel prices led to protests in the capital."
    c = _cand(text, "Rising fuel prices", "protests")
    forward, backward = PathCues().transform([c]), PathCues().transform([Candidate(text, c.b, c.a)])
    np.testing.assert_array_equal(forward, backward)


def test_the_block_is_in_the_pair_features_only_when_asked_for():
    assert "path" not in dict(feature_union(None, HeadSettings()).transformer_list)
    assert "path" in dict(feature_union(None, HeadSettings(path=True)).transformer_list)
    assert "path" not in dict(feature_union(None, HeadSettings(path=True), sentence_only=True).transformer_list)


def test_a_bundle_with_the_block_predicts_the_same_after_loading(tmp_path):
    from models.bundle import load_bundle, read_config, save_bundle
    from tests.test_models_gate import PASSAGES, _training_set

    model = RelationModel(None, HeadSettings(c_grid=(1.0,), path=True)).fit(_training_set(), progress=lambda _: None)
    save_bundle(model, tmp_path / "m")
    assert "path" in read_config(tmp_path / "m")["heads"]["pair"]["blocks"]
    loaded = load_bundle(tmp_path / "m")
    assert "path" in dict(loaded.pair_[0].transformer_list)
    cands = [_cand(PASSAGES[0], "heavy rain", "river floods"), _cand(PASSAGES[2], "chronic stress", "poor sleep")]
    np.testing.assert_allclose(model.predict_proba(cands)[0], loaded.predict_proba(cands)[0], atol=1e-6)
