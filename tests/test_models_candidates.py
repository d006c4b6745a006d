"""Candidate concepts and pairs from the real spaCy model (en_core_web_sm, offline)."""
from __future__ import annotations

import pytest

from models.candidates import CandidateSettings, concept_spans, make_candidates, make_candidates_batch


def _texts(text, spans):
    return [text[s:e] for s, e in spans]


def test_noun_chunks_are_cleaned():
    text = "Their warm water caused the bleaching of its coral reefs, and it spread."
    found = _texts(text, concept_spans(text))
    assert "warm water" in found  # possessive dropped
    assert "bleaching" in found  # determiner dropped
    assert "coral reefs" in found  # trailing comma not part of it
    assert "it" not in found and all(not f.lower().startswith(("the ", "its ")) for f in found)


def test_lexicon_terms_are_found_case_insensitively():
    text = "Sea Surface Temperature rose after the storm."
    assert "Sea Surface Temperature" in _texts(text, concept_spans(text, lexicon=["sea surface temperature"]))


def test_pairs_keep_text_order_and_respect_the_caps():
    text = "Heavy rain caused floods in the valley, and the floods damaged roads, bridges and farms near the river."
    cands = make_candidates(text)
    assert cands and all(c.a[1] <= c.b[0] for c in cands)  # a precedes b, no overlap
    assert {(c.a_text, c.b_text) for c in cands} >= {("Heavy rain", "floods")}
    assert len(make_candidates(text, (), CandidateSettings(max_pairs=3))) == 3
    near = make_candidates(text, (), CandidateSettings(max_distance=1))  # at most one token between the spans
    assert near and all(len(text[c.a[1]:c.b[0]].split()) <= 1 for c in near)
    assert len(near) < len(cands)


def test_batch_equals_single_and_empty_sentences_are_fine():
    texts = ["Smoking causes cancer.", "", "It rained."]
    batch = make_candidates_batch(texts)
    assert batch[0] == make_candidates(texts[0])
    assert batch[1] == [] and batch[2] == []  # a pronoun alone is no concept


def test_citations_give_no_concepts():
    text = ("The steel foundations act as artificial reefs (Marlow et al., 2019; Brandt 2020a), as Okonkwo and "
            "Weiss (2018) and Lindqvist et al. found for mussel beds [4, 7].")
    found = _texts(text, concept_spans(text))
    assert "artificial reefs" in found and "mussel beds" in found  # spaCy alone also gives "al", "Brandt"
    cited = {"al", "Marlow", "Brandt", "Okonkwo", "Weiss", "Lindqvist"}
    assert not [f for f in found if cited & set(f.replace(".", " ").split())]


def test_candidate_settings_round_trip_through_the_bundle_config_and_refuse_wrong_types() -> None:
    on = CandidateSettings(max_pairs=7, granular=True, states=True, verb_phrases=True)
    assert CandidateSettings.from_config(on.to_config()) == on
    assert "verb_phrases" not in CandidateSettings().to_config()  # off: older bundles keep their bytes
    assert CandidateSettings.from_config({}) == CandidateSettings(max_pairs=40)  # a v1 bundle paired 40
    for bad in ({"granular": "false"}, {"states": 1}, {"max_pairs": "40"}, {"max_pairs": True}, {"max_distance": 0}):
        with pytest.raises(TypeError):
            CandidateSettings.from_config(bad)
