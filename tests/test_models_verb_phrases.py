"""Verb phrases as concepts, named the way map-makers name events ("going to hospital" where the
text says "go to the hospital"): candidates, names, training labels, extraction output, bundle."""
from __future__ import annotations

import pytest

from core.metrics import twosix_concepts_match
from core.types import Candidate, Direction, PassageRelation
from models.candidates import CandidateSettings, concept_spans, gerund, make_candidates, make_candidates_batch, span_name
from models.classifier import Prediction, RelationModel, passage_examples, relations_from

EVENTS = "Many farmers deserted their farmlands, and the women do not go to the hospital."
RAIN = "Low rainfall increases the risk for herders."
VP = CandidateSettings(verb_phrases=True)


def names(text: str, verb_phrases: bool) -> list[str]:
    settings = CandidateSettings(verb_phrases=verb_phrases)
    return [span_name(text, s, settings) for s in concept_spans(text, (), settings)]


@pytest.mark.parametrize("verb, form", [("go", "going"), ("make", "making"), ("die", "dying"), ("stop", "stopping"),
                                        ("see", "seeing"), ("be", "being"), ("deliver", "delivering"),
                                        ("eat", "eating"), ("get", "getting")])
def test_gerund(verb, form):
    assert gerund(verb) == form


def test_verb_phrases_are_candidates_named_as_gerund_phrases():
    plain = names(EVENTS, False)
    assert plain == ["Many farmers", "farmlands", "women", "hospital"]
    named = names(EVENTS, True)
    assert set(plain) < set(named)
    # the verb as a gerund, "not" kept, the auxiliary "do" left out; and with the noun subject in front
    assert {"deserting their farmlands", "Many farmers deserting their farmlands", "not going to the hospital",
            "women not going to the hospital"} <= set(named)
    # a span's name is its text wherever it is no verb phrase, or verb phrases are off
    span = concept_spans(EVENTS, (), VP)[named.index("not going to the hospital")]
    assert EVENTS[span[0]:span[1]] == "not go to the hospital" and span_name(EVENTS, span) == "not go to the hospital"
    # gold names as SIFT's annotators write them now match a candidate by the held-out rule
    for gold in ("farmers deserting farmlands", "not going to hospital"):
        assert not any(twosix_concepts_match(n, gold) for n in plain)
        assert any(twosix_concepts_match(n, gold) for n in named)


def test_verbs_that_state_a_relation_are_no_concept():
    assert names(RAIN, True) == names(RAIN, False)  # "increases the risk" links rainfall and risk
    assert len(make_candidates(RAIN, (), VP)) == len(make_candidates(RAIN))


def test_training_labels_the_verb_phrase_pair_the_gold_names():
    gold = [PassageRelation("farmers deserting farmlands", "not going to hospital", 1)]
    (exs, _), = passage_examples([EVENTS], [gold], settings=VP)
    (causal,) = [e for e in exs if e.label != Direction.NONE]
    a, b = causal.candidate.a, causal.candidate.b
    assert (span_name(EVENTS, a, VP), span_name(EVENTS, b, VP), causal.label, causal.sign) == (
        "Many farmers deserting their farmlands", "not going to the hospital", Direction.A_TO_B, 1)
    # without verb phrases the label falls on the nouns
    (plain, _), = passage_examples([EVENTS], [gold])
    (causal,) = [e for e in plain if e.label != Direction.NONE]
    assert EVENTS[causal.candidate.a[0]:causal.candidate.a[1]] == "farmlands"


def test_extracted_relations_carry_the_gerund_names_and_their_spans():
    a, b = EVENTS.index("deserted their farmlands"), EVENTS.index("not go to the hospital")
    c = Candidate(EVENTS, (a, a + len("deserted their farmlands")), (b, b + len("not go to the hospital")))
    pred = Prediction(c, (0.1, 0.8, 0.1), Direction.A_TO_B, 1, 0.9, 0.8)
    (rel,) = relations_from([pred], "m", settings=VP)
    assert (rel.src, rel.tgt, rel.sign) == ("deserting their farmlands", "not going to the hospital", 1)
    assert EVENTS[rel.tgt_span[0]:rel.tgt_span[1]] == "not go to the hospital"  # the evidence stays the text
    (plain,) = relations_from([pred], "m")
    assert plain.src == "deserted their farmlands"


def test_the_setting_is_part_of_the_bundle_and_absent_when_off(tmp_path):
    import json

    from models.bundle import load_bundle, save_bundle
    from models.classifier import HeadSettings, TrainingSet

    train = TrainingSet()
    texts = [EVENTS, "Some farmers deserted their farms, and the men do not go to the market.",
             "Herders deserted the plains, and the girls do not go to the school."] * 4
    gold = [[PassageRelation("farmers deserting farmlands", "not going to hospital", 1)],
            [PassageRelation("farmers deserting farms", "not going to market", 1)],
            [PassageRelation("herders deserting plains", "not going to school", -1)]] * 4
    for (exs, n), text, rels in zip(passage_examples(texts, gold, settings=VP), texts, gold):
        start = len(train.examples)
        train.examples += exs
        train.passages.append((text, rels, list(range(start, start + n))))
    for on in (True, False):
        model = RelationModel(None, HeadSettings(c_grid=(1.0,), cv_folds=2), CandidateSettings(verb_phrases=on))
        model.fit(train, progress=lambda _: None)
        save_bundle(model, tmp_path / str(on))
        assert ("verb_phrases" in json.loads((tmp_path / str(on) / "config.json").read_text())["candidates"]) is on
        assert load_bundle(tmp_path / str(on)).candidates.verb_phrases is on


def test_the_parse_that_finds_the_candidates_names_them(monkeypatch):
    """With verb phrases on, the candidates are parsed once: by the lemmatizing pipeline, whose
    spans are those of the plain one, and naming them afterwards parses nothing."""
    from models import candidates

    texts = [EVENTS, RAIN, "Herders who lost their cattle moved south, and prices of grain rose."]
    plain = [candidates._doc_spans(d, (), VP) for d in candidates.nlp().pipe(texts)]
    assert [candidates._doc_spans(d, (), VP) for d in candidates.nlp_lemmas().pipe(texts)] == plain
    candidates._NAMES.clear()
    found = make_candidates_batch(texts, (), VP)
    lemmas = candidates.nlp_lemmas()

    def no_parse():
        raise AssertionError("parsed a second time")

    monkeypatch.setattr(candidates, "nlp_lemmas", no_parse)
    names = {span_name(c.text, end, VP) for cs in found for c in cs for end in (c.a, c.b)}
    assert "not going to the hospital" in names
    monkeypatch.setattr(candidates, "NAMES_KEPT", 1)
    doc = lemmas(RAIN)
    candidates._keep_names(doc, candidates._verb_phrases(doc))
    assert list(candidates._NAMES) == [RAIN]  # the oldest texts' names go first
