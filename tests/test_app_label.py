"""Label page (AppTest): picking, saving, statuses, undo, suggestions, table edits, sentence fixes."""
from __future__ import annotations

import re

import pytest

from app_server import app_test
from core.types import ParsedDocument, ParsedSentence, PassageRelation
from data.store import Store
from workspace.labeling import apply_table_edits, word_spans

S1 = "Offshore wind farms reduce the fishing effort of local trawlers."
S2 = "Warmer water increases the growth of algae."
S3 = "Stricter quotas lower the landings of cod."
LLM = {"GPT": [{"src": "Warmer water", "tgt": "algae", "direction": "increase"},
               {"src": "algae", "tgt": "Warmer water", "direction": "decrease"}]}


@pytest.fixture
def store(tmp_path, monkeypatch):
    db = tmp_path / "label.db"
    monkeypatch.setenv("FUZZYMAP_DB", str(db))
    monkeypatch.setenv("FUZZYMAP_MODEL", str(tmp_path / "no-model"))  # suggestions from the LLM block only
    s = Store(str(db))
    s.import_documents([ParsedDocument("t.txt", "sha-t", [ParsedSentence(S1, page=3), ParsedSentence(S2, llm=LLM),
                                                          ParsedSentence(S3)], title="Test paper")])
    return s


def _label(store):
    return app_test(store.url, "pages/label.py")


def _rows(store):
    return store.sentences(store.list_documents()[0].id)


def _box(at, label: str):
    """The Source or Target box (its widget key changes whenever the page sets it)."""
    (box,) = [b for b in at.selectbox if b.label == label]
    return box


def test_the_sentence_waits_until_the_key_listener_is_ready(store):
    """Keys typed before the browser's key listener is mounted would be lost, so until it says it
    is ready (app.keys.key_queue) the page shows no sentence, and no buttons to press."""
    at = app_test(store.url)
    at.session_state["lb_keys_ready"] = False
    at.switch_page("pages/label.py")
    at.run()
    assert not at.exception
    assert "Opening the sentence…" in [c.value for c in at.caption]
    assert not [m for m in at.markdown if "Offshore wind farms" in m.value] and not at.main.button
    at.session_state["lb_keys_ready"] = True
    at.run()
    assert [m for m in at.markdown if "Offshore wind farms" in m.value] and at.main.button
    assert "Opening the sentence…" not in [c.value for c in at.caption]


def test_chips_then_save_with_sign_and_strength(store):
    at = _label(store)
    assert not at.exception
    assert "Sentence 1 of 3 · page 3 · unseen" in [c.value for c in at.caption]
    chips = [b for b in at.button if b.key.startswith("lb_chip_")]
    assert chips[0].label == "Offshore wind farms"
    chips[0].click().run()
    next(b for b in at.button if b.key.startswith("lb_chip_") and b.label == "fishing effort").click().run()
    assert _box(at, "Source").value == "Offshore wind farms"
    at.button(key="lb_minus").click().run()
    at.button(key="lb_stronger").click().run()
    at.text_input(key="lb_note").set_value("p. 3, table 2")  # in a form: sent with the Save below
    at.button(key="lb_save").click().run()
    assert not at.exception
    (rel,) = store.relations()
    assert (rel.source, rel.target, rel.sign, rel.strength, rel.annotator, rel.note) == (
        "Offshore wind farms", "fishing effort", -1, "H", "ann", "p. 3, table 2")
    assert S1[slice(*rel.source_span)] == "Offshore wind farms"
    assert _rows(store)[0].status == "labeled"
    assert "**Your relations in this sentence: 1**" in [m.value for m in at.markdown]
    assert _box(at, "Source").value is None  # the form is reset for the next relation
    at.button(key="lb_save").click().run()  # nothing picked: a warning, nothing saved
    assert at.warning and len(store.relations()) == 1


def test_enter_and_the_next_chip_in_one_run_save_the_finished_pair(store):
    """Keys typed fast reach the page in one run, their callbacks in the page's order: the save
    waits for every callback and takes the pair the user had finished (see pair_to_save)."""
    at = _label(store)
    chips = {b.label: b.key for b in at.button if b.key.startswith("lb_chip_")}
    at.button(key=chips["Offshore wind farms"]).click().run()
    at.button(key=chips["fishing effort"]).click().run()
    at.button(key="lb_minus").click().run()
    at.button(key=chips["local trawlers"]).click()  # drawn before the save button: its callback runs first
    at.button(key="lb_save").click().run()
    assert not at.exception and not at.warning
    (rel,) = store.relations()
    assert (rel.source, rel.target, rel.sign) == ("Offshore wind farms", "fishing effort", -1)
    assert (_box(at, "Source").value, _box(at, "Target").value) == ("local trawlers", None)  # the next pair
    assert at.radio[0].value == 1  # its sign starts at +


def test_word_chips_and_typed_concept(store):
    store.add_concept("fish stocks")  # AppTest can only choose listed options; typing new ones is a browser test
    at = _label(store)
    words = word_spans(S1)
    pills_key = next(p.key for p in at.button_group if p.key.startswith("lb_words_"))
    at.button_group(key=pills_key).set_value([8]).run()  # "local"
    pills_key = next(p.key for p in at.button_group if p.key.startswith("lb_words_"))
    at.button_group(key=pills_key).set_value([8, 9]).run()  # ... "trawlers"
    assert _box(at, "Source").value == "local trawlers"
    _box(at, "Target").set_value("fish stocks").run()  # from the lexicon, not in the sentence
    at.button(key="lb_save").click().run()
    (rel,) = store.relations()
    assert (rel.source, rel.source_span, rel.target, rel.target_span) == (
        "local trawlers", (words[8][0], words[9][1]), "fish stocks", None)


def test_no_relation_discard_undo_and_navigation(store):
    at = _label(store)
    at.button(key="lb_norel").click().run()
    assert [r.status for r in _rows(store)] == ["no-relation", "unseen", "unseen"]
    assert "Sentence 2 of 3 · unseen" in [c.value for c in at.caption]  # moved to the next unlabeled
    at.button(key="lb_discard").click().run()
    assert [r.status for r in _rows(store)] == ["no-relation", "discarded", "unseen"]
    at.button(key="lb_undo").click().run()
    assert [r.status for r in _rows(store)] == ["no-relation", "unseen", "unseen"]
    assert "Sentence 2 of 3 · unseen" in [c.value for c in at.caption]  # undo goes back to where it was
    at.button(key="lb_back").click().run()
    assert "Sentence 1 of 3 · page 3 · no-relation" in [c.value for c in at.caption]
    at.button(key="lb_next_unlabeled").click().run()
    assert "Sentence 2 of 3 · unseen" in [c.value for c in at.caption]
    assert at.query_params["s"] == "2"


def test_position_comes_from_the_address(store):
    at = app_test(store.url)
    at.query_params["doc"] = str(store.list_documents()[0].id)
    at.query_params["s"] = "3"
    at.switch_page("pages/label.py").run()
    assert "Sentence 3 of 3 · unseen" in [c.value for c in at.caption]


def test_suggestions_accept_reject_edit(store):
    at = _label(store)
    at.button(key="lb_next").click().run()
    assert not at.exception
    pending = store.suggestions(sentence_id=_rows(store)[1].id)
    assert {(s.source, s.target, s.sign) for s in pending} == {("Warmer water", "algae", 1), ("algae", "Warmer water", -1)}
    first, second = pending
    at.button(key=f"lb_acc_{first.id}").click().run()
    (rel,) = store.relations()
    assert (rel.source, rel.origin, rel.score, rel.model_id, rel.annotator) == (
        first.source, "human", first.score, "llm:GPT", "ann")
    at.button(key=f"lb_edit_sug_{second.id}").click().run()
    assert _box(at, "Source").value == "algae"
    at.button(key="lb_swap").click().run()
    at.button(key="lb_save").click().run()
    assert store.suggestions(sentence_id=second.sentence_id, state="rejected")[0].id == second.id
    assert sorted((r.source, r.target, r.sign) for r in store.relations()) == [
        ("Warmer water", "algae", -1), ("Warmer water", "algae", 1)]
    assert not store.suggestions(sentence_id=second.sentence_id)  # none pending


def test_a_suggestion_decided_elsewhere_is_one_line_not_a_crash(store):
    at = _label(store)
    at.button(key="lb_next").click().run()
    first, _ = store.suggestions(sentence_id=_rows(store)[1].id)
    store.accept_suggestion(first.id, "bea")  # another tab (or a key the page had not caught up with)
    at.button(key=f"lb_acc_{first.id}").click().run()
    assert not at.exception
    assert any("already accepted" in e.value for e in at.warning) or any(
        "already accepted" in e.value for e in at.error)
    assert len(store.relations()) == 1  # nothing changed: only bea's accepted relation


def test_order_by_likely_causal(store):
    at = _label(store)
    at.button_group(key="lb_order").set_value("likely causal").run()  # sentence 2 scored 1.0: first
    assert not at.exception
    assert "Sentence 2 of 3 · unseen" in [c.value for c in at.caption]


def test_fix_sentence_text_split_merge(store):
    rows = _rows(store)
    store.add_relation(rows[0].id, PassageRelation("Offshore wind farms", "fishing effort", -1, annotator="ann"))
    at = _label(store)
    at.button(key="lb_back").click().run()  # it opened at the first unlabeled sentence
    at.text_area(key=f"lb_text_{rows[0].id}").set_value(S1.replace("reduce", "strongly reduce")).run()
    at.button(key="lb_save_text").click().run()
    (rel,) = store.relations()
    text = store.sentence(rows[0].id).text
    assert "strongly reduce" in text and text[slice(*rel.target_span)] == "fishing effort"
    at.button(key="lb_merge").click().run()
    assert len(_rows(store)) == 2 and _rows(store)[0].text.endswith(S2)
    merged = _rows(store)[0]
    cut = word_spans(merged.text).index(next(w for w in word_spans(merged.text) if merged.text[w[0]:w[1]] == "Warmer"))
    at.selectbox(key=f"lb_split_at_{merged.id}").set_value(cut).run()
    at.button(key="lb_split").click().run()
    assert [r.text for r in _rows(store)] == [text, S2, S3]
    assert len(store.relations()) == 1


def test_apply_table_edits(store):
    rows = _rows(store)
    a = store.add_relation(rows[0].id, PassageRelation("Offshore wind farms", "fishing effort", -1, annotator="ann"))
    b = store.add_relation(rows[0].id, PassageRelation("local trawlers", "fishing effort", 1, annotator="ann"))
    errors = apply_table_edits(store, {"edited_rows": {0: {"swap": True, "sign": "+", "strength": "VH", "note": "n"}},
                                       "deleted_rows": [1]}, [a, b], "ann")
    assert errors == []
    (rel,) = store.relations()
    assert (rel.id, rel.source, rel.target, rel.sign, rel.strength, rel.note) == (
        a, "fishing effort", "Offshore wind farms", 1, "VH", "n")
    assert apply_table_edits(store, {"edited_rows": {0: {"source": "  "}}}, [a], "ann")  # refused, reported
    assert store.relations()[0].source == "fishing effort"


def test_document_text_is_shown_as_text(tmp_path, monkeypatch):
    db = tmp_path / "nasty.db"
    monkeypatch.setenv("FUZZYMAP_MODEL", str(tmp_path / "no-model"))
    nasty = "**Bold** <img src=x onerror=alert(1)> [link](http://x) :red[y] raises $x$."
    Store(str(db)).import_documents([ParsedDocument("<b>n</b>.txt", "sha-n", [ParsedSentence(nasty)])])
    at = app_test(db, "pages/label.py")
    assert not at.exception
    shown = next(m.value for m in at.markdown if m.value.startswith("#### "))
    unescaped = re.compile(r"(?<!\\)[<>*\[\]():$]")  # a markup character without its backslash
    assert not unescaped.search(shown[5:])
    assert shown[5:].replace("\\", "").replace("\u2060", "") == nasty  # a word joiner keeps http:// unlinked
    assert not any(unescaped.search(b.label) for b in at.button if b.key.startswith("lb_chip_"))


def test_two_annotators_on_one_sentence_keep_their_own_labels(store):
    first = _label(store)
    second = app_test(store.url, "pages/label.py", annotator="bea")
    for at, chip_a, chip_b in ((first, 0, 1), (second, 2, 1)):
        chips = [b for b in at.button if b.key.startswith("lb_chip_")]
        chips[chip_a].click().run()
        [b for b in at.button if b.key.startswith("lb_chip_")][chip_b].click().run()
    first.button(key="lb_save").click().run()
    second.button(key="lb_save").click().run()
    mine = {(r.annotator, r.source, r.target) for r in store.relations()}
    assert mine == {("ann", "Offshore wind farms", "fishing effort"), ("bea", "local trawlers", "fishing effort")}
    second.button(key="lb_undo").click().run()  # bea's undo leaves ann's label alone
    assert {(r.annotator, r.source) for r in store.relations()} == {("ann", "Offshore wind farms")}
    assert "**Your relations in this sentence: 1**" in [m.value for m in first.run().markdown]


def test_a_second_annotator_starts_at_the_sentences_the_first_labelled(store):
    s1 = _rows(store)[0]
    store.ensure_annotator("ann")
    store.add_relation(s1.id, PassageRelation("Offshore wind farms", "fishing effort", -1, annotator="ann"))
    first = _label(store)
    assert "Sentence 2 of 3" in " ".join(c.value for c in first.caption)  # ann goes on where she stopped
    second = app_test(store.url, "pages/label.py", annotator="bea")
    assert "Sentence 1 of 3" in " ".join(c.value for c in second.caption)  # bea labels it too, for agreement
    assert "0 of 3 sentences done" in second.get("progress")[0].proto.text
