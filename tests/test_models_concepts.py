"""Concepts the way map-makers write them: spans at several granularities, state words as the
concept's direction (not its name), and the sign as the combination of the two directions."""
from __future__ import annotations

import json

from core.types import Candidate, Direction, ParsedDocument, ParsedSentence, PassageRelation
from data.formats import write_twosix
from models.candidates import CandidateSettings, combine_sign, concept_spans, make_candidates, name_and_direction
from models.classifier import Prediction, passage_examples, relations_from

RAIN = "Low levels of rainfall increase the risk for herders."
STATES = CandidateSettings(states=True)


def texts(text: str, granular: bool) -> list[str]:
    return [text[a:b] for a, b in concept_spans(text, (), CandidateSettings(granular=granular))]


def test_granular_spans_add_attachments_compounds_gerunds_and_dashes() -> None:
    assert texts(RAIN, False) == ["Low levels", "rainfall", "risk", "herders"]
    assert {"Low levels of rainfall", "risk for herders"} <= set(texts(RAIN, True))
    other = "The farmers–herdsmen conflict rose after the poor functioning of markets."
    assert {"farmers–herdsmen conflict", "poor functioning of markets"} <= set(texts(other, True))
    phones = "Using mobile phones improved access to grazing areas and the price of crop residues."
    assert {"Using mobile phones", "access to grazing areas", "price of crop residues"} <= set(texts(phones, True))
    # more spans, so more candidate pairs, but never a pair of overlapping spans
    for c in make_candidates(RAIN, (), CandidateSettings(granular=True)):
        assert c.a[1] <= c.b[0]


def test_state_words_become_the_direction() -> None:
    def nd(text: str, phrase: str) -> tuple[str, str]:
        start = text.index(phrase)
        name, span, direction = name_and_direction(text, (start, start + len(phrase)))
        assert text[span[0]:span[1]] == name
        return name, direction

    assert nd(RAIN, "Low levels of rainfall") == ("rainfall", "decrease")
    assert nd(RAIN, "risk for herders") == ("risk for herders", "increase")
    s = "Scarcity of water and rising food prices hamper the poor functioning of markets."
    assert nd(s, "Scarcity of water") == ("water", "decrease")
    assert nd(s, "rising food prices") == ("food prices", "increase")
    assert nd(s, "poor functioning of markets") == ("functioning of markets", "decrease")
    assert nd("A lack of higher wages.", "lack of higher wages") == ("wages", "decrease")
    assert nd("It was low.", "low") == ("low", "increase")  # nothing stripped that leaves no name


def test_sign_is_the_combination_of_the_two_directions() -> None:
    assert combine_sign(1, -1, 1) == (-1, 1, -1)  # low rainfall increases the risk
    assert combine_sign(1, -1, -1) == (-1, -1, 1)  # low rainfall increases poor harvests
    assert combine_sign(-1, 1, 1) == (1, -1, -1)  # rainfall reduces the risk
    assert combine_sign(1, 1, 1) == (1, 1, 1)


def _pred(text: str, a: str, b: str, sign: int) -> Prediction:
    ia, ib = text.index(a), text.index(b)
    c = Candidate(text, (ia, ia + len(a)), (ib, ib + len(b)))
    return Prediction(c, (0.1, 0.8, 0.1), Direction.A_TO_B, sign, 0.9 if sign > 0 else 0.1, 0.8)


def test_extracted_relation_names_and_directions() -> None:
    pred = _pred(RAIN, "Low levels of rainfall", "risk for herders", +1)
    (rel,) = relations_from([pred], "m", settings=STATES)
    assert (rel.src, rel.tgt, rel.sign) == ("rainfall", "risk for herders", -1)
    assert RAIN[rel.src_span[0]:rel.src_span[1]] == "rainfall"
    assert rel.extra == {"direction_src": "decrease", "direction_tgt": "increase"}
    # without states the span is the name and the written sign the sign; directions still recorded
    (plain,) = relations_from([pred], "m")
    assert (plain.src, plain.sign) == ("Low levels of rainfall", 1)
    assert plain.extra == {"direction_src": "increase", "direction_tgt": "increase"}
    # the TwoSix output carries both directions beside the direction
    doc = ParsedDocument("x.txt", "0" * 64, [ParsedSentence(RAIN, status="labeled", relations=[rel])])
    out = json.loads(write_twosix([doc]))[0]["causal relations"][0]
    assert out == {"src": "rainfall", "tgt": "risk for herders", "direction_src": "decrease",
                   "direction_tgt": "increase", "direction": "decrease"}


def test_training_sign_is_the_written_one_when_states_are_directions() -> None:
    gold = [PassageRelation("rainfall", "risk for herders", -1)]
    for states, src, sign in ((False, "rainfall", -1), (True, "Low levels of rainfall", 1)):
        (exs, _), = passage_examples([RAIN], [gold], settings=CandidateSettings(granular=True, states=states))
        causal = [e for e in exs if e.label != Direction.NONE]
        assert len(causal) == 1
        c = causal[0].candidate
        assert (RAIN[c.a[0]:c.a[1]], RAIN[c.b[0]:c.b[1]], causal[0].sign) == (src, "risk for herders", sign)


def test_store_keeps_both_directions_of_a_suggestion_and_of_its_relation(tmp_path) -> None:
    from data.store import Store

    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    doc = ParsedDocument("x.txt", "1" * 64, [ParsedSentence(RAIN)])
    (doc_id,) = store.import_documents([doc])
    (sent,) = store.sentences(doc_id)
    (rel,) = relations_from([_pred(RAIN, "Low levels of rainfall", "risk for herders", +1)], "m", settings=STATES)
    (sid,) = store.add_suggestions(sent.id, [rel])
    (row,) = store.suggestions(sentence_id=sent.id)
    assert (row.source, row.direction_src, row.direction_tgt, row.sign) == ("rainfall", "decrease", "increase", -1)
    store.accept_suggestion(sid, "ann")
    (kept,) = store.relations()
    assert (kept.source, kept.sign) == ("rainfall", -1)
    exported = store.export_documents()[0].sentences[0].relations[0]
    assert exported.extra == {"direction_src": "decrease", "direction_tgt": "increase"}
    store.close()
