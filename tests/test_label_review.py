"""Label and review fixes: chips for key phrases (and none swallowing a verb), chip numbers that
stay after a save, E keeping the suggestion until the edit is saved, one gold version per relation."""
from __future__ import annotations

from test_app_label import S1, _box, _label, _rows, store  # noqa: F401  (the Label page's store fixture)

from core.matching import conflicts
from core.types import PassageRelation
from workspace.agreement import GOLD, adjudicate
from workspace.labeling import concept_chips, stable_chips


def _chips(text: str) -> list[str]:
    return [text[a:b] for a, b in concept_chips(text)]


def test_chips_for_key_phrases_and_none_swallowing_a_verb():
    assert "Harbour porpoises" in _chips("Harbour porpoises avoid pile driving noise.")
    chips = _chips("Porpoises left when the array reduced fishing effort.")
    assert "fishing effort" in chips and not any("reduced" in c for c in chips)


def test_stable_chips_keep_their_numbers():
    before = [(0, 5), (10, 15)]
    assert stable_chips(before, [(0, 5), (6, 9), (10, 15)]) == [(0, 5), (10, 15), (6, 9)]
    assert stable_chips([], [(1, 2)]) == [(1, 2)]


def test_chip_numbers_stay_after_a_save(store):  # noqa: F811
    at = _label(store)
    labels = [b.label for b in at.button if b.key.startswith("lb_chip_")]
    for i in (0, -1):  # source, target
        [b for b in at.button if b.key.startswith("lb_chip_")][i].click().run()
    store.add_concept("wind")  # the lexicon grows (as when a typed concept is saved): a chip inside chip 1
    at.button(key="lb_save").click().run()
    assert not at.exception and len(store.relations()) == 1
    after = [b.label for b in at.button if b.key.startswith("lb_chip_")]
    assert after[:len(labels)] == labels


def test_edit_keeps_the_suggestion_until_saved(store):  # noqa: F811
    at = _label(store)
    at.button(key="lb_next").click().run()
    sid = _rows(store)[1].id
    first, _ = store.suggestions(sentence_id=sid)
    at.button(key=f"lb_edit_sug_{first.id}").click().run()
    assert _box(at, "Source").value == first.source
    assert len(store.suggestions(sentence_id=sid)) == 2  # still pending while being edited
    at.button(key="lb_clear").click().run()  # Esc: the edit is dropped, the suggestion stays
    assert len(store.suggestions(sentence_id=sid)) == 2 and not store.relations()
    at.button(key=f"lb_edit_sug_{first.id}").click().run()
    at.button(key="lb_minus").click().run()
    at.button(key="lb_save").click().run()
    assert not at.exception
    assert [s.id for s in store.suggestions(sentence_id=sid, state="rejected")] == [first.id]
    (rel,) = store.relations()
    assert (rel.source, rel.target, rel.sign) == (first.source, first.target, -1)


def test_gold_keeps_one_version_of_a_conflict(store):  # noqa: F811
    sid = _rows(store)[0].id
    a = store.add_relation(sid, PassageRelation("Offshore wind farms", "fishing effort", -1, annotator="ann"))
    b = store.add_relation(sid, PassageRelation("wind farms", "fishing effort", 1, annotator="bob"))
    back = store.add_relation(sid, PassageRelation("fishing effort", "wind farms", 1, annotator="bob"))
    rels = {r.id: r for r in store.relations()}
    assert conflicts(rels[a], rels[b]) and not conflicts(rels[a], rels[back])
    adjudicate(store, rels[a])
    adjudicate(store, rels[b])  # the other version: replaces the first
    adjudicate(store, rels[back])  # the reverse direction is another relation
    gold = sorted((r.source, r.target, r.sign) for r in store.relations(annotator=GOLD))
    assert gold == [("fishing effort", "wind farms", 1), ("wind farms", "fishing effort", 1)]
    assert S1.startswith("Offshore wind farms")
