"""Per-annotator sentence statuses (schema version 3) on SQLite and, when FUZZYMAP_TEST_PG_URL is
set, PostgreSQL: one annotator's "no relation" is not another's progress, and agreement only counts
sentences both annotators judged. All sentences and numbers are invented here."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine, text

from core.errors import InputError
from core.types import ParsedDocument, ParsedSentence, PassageRelation
from data.formats import read_twosix
from data.schema import SCHEMA_VERSION
from data.store import Store
from workspace.agreement import GOLD, adopt_agreed, shared_documents, store_agreement

TEXTS = ["Heavy rain raises river levels.", "The river floods the valley.", "Maps were drawn by hand.",
         "Dams lower flood peaks.", "Levees protect the town."]


@pytest.fixture
def store(url):
    s = Store(url)
    yield s
    s.close()


def _doc(store: Store) -> tuple[int, list[int]]:
    (doc_id,) = store.import_documents([ParsedDocument("rivers.txt", "sha-rivers", [ParsedSentence(t) for t in TEXTS])])
    return doc_id, [s.id for s in store.sentences(doc_id)]


def _seen(store: Store, doc_id: int, who: str | None) -> list[str]:
    return [s.status for s in store.sentences(doc_id, who)]


def test_two_annotators_do_not_see_each_others_marks(store, url):
    doc_id, sids = _doc(store)
    store.set_status(sids[0], "no-relation", "ann")
    store.set_status(sids[0], "discarded", "bob")
    store.add_relation(sids[1], PassageRelation("river", "valley", 1, annotator="ann"))
    store.set_status(sids[2], "discarded", "ann")
    assert _seen(store, doc_id, "ann") == ["no-relation", "labeled", "discarded", "unseen", "unseen"]
    assert _seen(store, doc_id, "bob") == ["discarded", "unseen", "unseen", "unseen", "unseen"]
    assert _seen(store, doc_id, "cat") == ["unseen"] * 5
    # everyone together: a relation wins, then "discarded" over "no-relation"
    assert _seen(store, doc_id, None) == ["discarded", "labeled", "discarded", "unseen", "unseen"]
    assert store.sentence(sids[0], "ann").status == "no-relation" and store.sentence(sids[0], "bob").status == "discarded"
    ann = store.list_documents("ann")[0]
    assert (ann.n_sentences, ann.n_labeled, ann.n_no_relation, ann.n_discarded) == (5, 1, 1, 1)
    bob = store.list_documents("bob")[0]
    assert (bob.n_labeled, bob.n_no_relation, bob.n_discarded) == (0, 0, 1)
    store.close()
    again = Store(url)  # a reload keeps each annotator's own view
    assert _seen(again, doc_id, "ann") == ["no-relation", "labeled", "discarded", "unseen", "unseen"]
    assert _seen(again, doc_id, "bob") == ["discarded", "unseen", "unseen", "unseen", "unseen"]
    assert again.annotators() == ["ann", "bob"]
    again.close()


def test_undo_restores_the_annotators_previous_mark(store):
    doc_id, sids = _doc(store)
    store.set_status(sids[0], "no-relation", "ann")
    store.set_status(sids[0], "discarded", "bob")
    store.set_status(sids[0], "discarded", "ann")
    store.set_status(sids[0], "unseen", "ann")  # taking a mark back
    assert _seen(store, doc_id, "ann")[0] == "unseen"
    assert store.undo("ann") == "mark sentence 1 unseen"
    assert store.sentence(sids[0], "ann").status == "discarded"
    assert store.undo("ann") == "mark sentence 1 discarded"
    assert store.sentence(sids[0], "ann").status == "no-relation"
    assert store.undo("ann") == "mark sentence 1 no-relation"
    assert store.sentence(sids[0], "ann").status == "unseen"
    assert store.sentence(sids[0], "bob").status == "discarded"  # bob's mark untouched throughout


def test_a_label_replaces_the_annotators_no_relation_mark(store):
    _, sids = _doc(store)
    store.set_status(sids[3], "no-relation", "ann")
    store.set_status(sids[3], "no-relation", "bob")
    rid = store.add_relation(sids[3], PassageRelation("dams", "flood peaks", -1, annotator="ann"))
    assert store.sentence(sids[3], "ann").status == "labeled" and store.sentence(sids[3], "bob").status == "no-relation"
    store.delete_relation(rid)
    assert store.sentence(sids[3], "ann").status == "unseen"  # the mark went with the label
    store.undo("ann")
    store.undo("ann")  # the add: the no-relation mark is back
    assert store.sentence(sids[3], "ann").status == "no-relation" and store.relations() == []


def test_bad_marks_change_nothing(store):
    doc_id, sids = _doc(store)
    with pytest.raises(InputError, match="needs an annotator"):
        store.set_status(sids[0], "no-relation")
    with pytest.raises(InputError, match="comes from saving a relation"):
        store.set_status(sids[0], "labeled", "ann")
    with pytest.raises(InputError, match="annotator"):
        store.set_status(sids[0], "discarded", "x" * 300)
    assert _seen(store, doc_id, None) == ["unseen"] * 5 and store.history()[0].kind == "import"


def test_split_merge_and_delete_keep_marks_per_annotator(store):
    doc_id, sids = _doc(store)
    store.edit_sentence(sids[0], "Heavy rain raises river levels. Old maps exist.")
    store.set_status(sids[0], "no-relation", "ann")
    store.set_status(sids[1], "discarded", "ann")
    store.set_status(sids[1], "no-relation", "bob")
    a, b = store.split_sentence(sids[0], 32, annotator="ann")
    assert _seen(store, doc_id, "ann")[:3] == ["no-relation", "no-relation", "discarded"]  # both parts were read
    # merging: per annotator the rank of today's shared status (labeled < unseen < no-relation < discarded)
    store.merge_sentences(a, b, annotator="ann")
    assert _seen(store, doc_id, "ann")[:2] == ["no-relation", "discarded"]
    store.merge_sentences(a, sids[1], annotator="ann")  # ann: no-relation + discarded; bob: unseen + no-relation
    assert _seen(store, doc_id, "ann")[0] == "no-relation" and _seen(store, doc_id, "bob")[0] == "unseen"
    store.undo("ann")
    assert _seen(store, doc_id, "bob")[:2] == ["unseen", "no-relation"]
    assert _seen(store, doc_id, "ann")[:2] == ["no-relation", "discarded"]
    store.delete_document(doc_id, annotator="ann")
    store.undo("ann")  # a deleted document comes back with everyone's marks
    assert _seen(store, doc_id, "ann")[:2] == ["no-relation", "discarded"]
    assert _seen(store, doc_id, "bob")[:2] == ["unseen", "no-relation"]


def test_imported_marks_belong_to_the_importing_annotator(store):
    passages = [{"text": "Rain raises river flow.", "meta_data": {"title": "R"},
                 "causal relations": [{"src": "rain", "tgt": "river flow", "direction": "Increase"}]},
                {"text": "The gauge is old.", "meta_data": {"title": "R"}, "causal relations": []}]
    docs = read_twosix("r.json", json.dumps(passages).encode())
    (doc_id,) = store.import_documents(docs, annotator="seed")
    assert _seen(store, doc_id, "seed") == ["labeled", "no-relation"]  # read, no relation
    assert _seen(store, doc_id, "ann") == ["unseen", "unseen"]
    # without an importing annotator the mark belongs to no one: everyone's view shows it, no annotator's does
    anonymous = read_twosix("s.json", json.dumps([passages[1] | {"meta_data": {"title": "S"}}]).encode())
    (other,) = store.import_documents(anonymous)
    assert _seen(store, other, None) == ["no-relation"] and _seen(store, other, "seed") == ["unseen"]
    (back,) = store.export_documents([other])
    assert back.sentences[0].status == "no-relation"
    store.set_status(store.sentences(other)[0].id, "unseen")  # clearing it needs no name
    assert _seen(store, other, None) == ["unseen"]


def test_agreement_counts_only_sentences_both_judged(store):
    doc_id, sids = _doc(store)
    rel = {0: ("heavy rain", "river levels", 1), 1: ("river", "valley", 1), 3: ("dams", "flood peaks", -1)}
    for i in (0, 1):
        store.add_relation(sids[i], PassageRelation(*rel[i], annotator="ann"))
    store.set_status(sids[2], "no-relation", "ann")
    store.add_relation(sids[3], PassageRelation(*rel[3], annotator="ann"))
    store.set_status(sids[4], "no-relation", "ann")          # ann has judged all five sentences
    store.add_relation(sids[0], PassageRelation(*rel[0], annotator="bob"))
    store.set_status(sids[1], "no-relation", "bob")
    store.set_status(sids[2], "no-relation", "bob")          # bob has read only the first three
    assert shared_documents(store, "ann", "bob") == [doc_id]
    ag, sentences = store_agreement(store, "ann", "bob")
    assert [s.id for s in sentences] == sids[:3]
    # has-relation on s0-s2: ann [T, T, F], bob [T, F, F]; p_o = 2/3; p_ann = 2/3, p_bob = 1/3;
    # p_e = 2/3 * 1/3 + 1/3 * 2/3 = 4/9; kappa = (2/3 - 4/9) / (5/9) = 0.4
    assert ag.kappa == pytest.approx(0.4)
    assert ag.table == {"both": 1, "only_a": 1, "only_b": 0, "neither": 1}
    # exact: s0 agrees; ann 2 relations, bob 1 -> P = 1/2, R = 1, F1 = 2/3
    assert (ag.exact.tp, ag.exact.n_pred, ag.exact.n_gold) == (1, 2, 1)
    # counting s3 and s4 (bob never read them) as his "no relation" would give 5 sentences,
    # ann [T,T,F,T,F], bob [T,F,F,F,F]: p_o = 3/5, p_e = 3/5*1/5 + 2/5*4/5 = 11/25, kappa = 4/14
    # adjudication: the agreed relation (s0) and the agreed "no relation" (s2) go to gold, once
    assert adopt_agreed(store, "ann", "bob", [doc_id]) == 2 and adopt_agreed(store, "ann", "bob", [doc_id]) == 0
    assert _seen(store, doc_id, GOLD) == ["labeled", "unseen", "no-relation", "unseen", "unseen"]
    store.set_status(sids[2], "discarded", "bob")            # a sentence either discarded is left out
    ag, sentences = store_agreement(store, "ann", "bob")
    assert [s.id for s in sentences] == sids[:2] and ag.table == {"both": 1, "only_a": 1, "only_b": 0, "neither": 0}
    assert shared_documents(store, "ann", "cat") == []


V2_TABLES = """
CREATE TABLE schema_version (version INTEGER NOT NULL PRIMARY KEY);
CREATE TABLE documents (id {pk}, filename TEXT NOT NULL, sha256 VARCHAR(200) NOT NULL UNIQUE, format VARCHAR(32) NOT NULL, title TEXT, authors TEXT, year VARCHAR(32), year_is_int BOOLEAN NOT NULL, created VARCHAR(40) NOT NULL);
CREATE TABLE sentences (id {pk}, document_id INTEGER NOT NULL REFERENCES documents (id) ON DELETE CASCADE, position INTEGER NOT NULL, text TEXT NOT NULL, page INTEGER, start_char INTEGER NOT NULL, end_char INTEGER NOT NULL, is_reference BOOLEAN NOT NULL, status VARCHAR(16) NOT NULL, llm TEXT);
CREATE TABLE concepts (id {pk}, name VARCHAR(255) NOT NULL UNIQUE, canonical_id INTEGER REFERENCES concepts (id), created VARCHAR(40) NOT NULL);
CREATE TABLE annotators (id {pk}, name VARCHAR(255) NOT NULL UNIQUE, created VARCHAR(40) NOT NULL);
CREATE TABLE relations (id {pk}, sentence_id INTEGER NOT NULL REFERENCES sentences (id) ON DELETE CASCADE, source TEXT NOT NULL, target TEXT NOT NULL, src_start INTEGER, src_end INTEGER, tgt_start INTEGER, tgt_end INTEGER, sign INTEGER NOT NULL, strength VARCHAR(4) NOT NULL, annotator VARCHAR(255), origin VARCHAR(16) NOT NULL, model_id VARCHAR(255), score FLOAT, note TEXT, extra TEXT, created_at VARCHAR(40) NOT NULL, updated_at VARCHAR(40) NOT NULL);
CREATE TABLE suggestions (id {pk}, sentence_id INTEGER NOT NULL REFERENCES sentences (id) ON DELETE CASCADE, source TEXT NOT NULL, target TEXT NOT NULL, src_start INTEGER, src_end INTEGER, tgt_start INTEGER, tgt_end INTEGER, sign INTEGER NOT NULL, model_id VARCHAR(255) NOT NULL, score FLOAT NOT NULL, state VARCHAR(16) NOT NULL, relation_id INTEGER, decided_by VARCHAR(255), created_at VARCHAR(40) NOT NULL);
CREATE TABLE actions (id {pk}, annotator VARCHAR(255), kind VARCHAR(32) NOT NULL, description TEXT NOT NULL, changes TEXT NOT NULL, undoable BOOLEAN NOT NULL, undone_by INTEGER, created_at VARCHAR(40) NOT NULL);
INSERT INTO schema_version VALUES (2);
INSERT INTO documents (filename, sha256, format, title, year_is_int, created) VALUES ('v2.txt', 'v2', 'txt', 'Old', FALSE, '2024-01-01T00:00:00Z');
INSERT INTO annotators (name, created) VALUES ('ann', '2024-01-01T00:00:00Z')
"""
V2_STATUSES = ["no-relation", "discarded", "no-relation", "discarded", "labeled", "discarded"]
T0 = "2024-01-02T00:00:00Z"


def _sentence_row(i: int, status: str) -> dict:
    """A sentence row as version 2 logged it (every column)."""
    return {"id": i, "document_id": 1, "position": i - 1, "text": TEXTS[0], "page": None, "start_char": 0,
            "end_char": len(TEXTS[0]), "is_reference": False, "status": status, "llm": None}


def _action(who: str | None, kind: str, changes: list[tuple[int, str, str]], undone_by: int | None = None) -> dict:
    return {"annotator": who, "kind": kind, "description": kind, "undoable": kind != "undo", "undone_by": undone_by,
            "created_at": T0, "changes": json.dumps([["sentences", i, _sentence_row(i, old), _sentence_row(i, new)]
                                                     for i, old, new in changes])}


def test_version_2_statuses_move_to_the_annotator_the_log_names(url):
    """A database written by version 2 (made here in that version's SQL, with its action log):
    a mark goes to whoever's set_status made it, else stays with no annotator."""
    engine = create_engine(url)
    pk = "SERIAL PRIMARY KEY" if engine.dialect.name == "postgresql" else "INTEGER NOT NULL PRIMARY KEY"
    log = [
        _action("ann", "set_status", [(1, "unseen", "no-relation")]),        # 1: s1 -> ann
        _action("bob", "set_status", [(2, "unseen", "discarded")]),          # 2: s2 -> bob ...
        _action("ann", "set_status", [(2, "discarded", "no-relation")], 4),  # 3: ... ann's change, undone
        _action("ann", "undo", [(2, "no-relation", "discarded")]),           # 4: back to bob's
        _action(None, "set_status", [(3, "unseen", "no-relation")]),         # 5: s3 nobody named
        _action("ann", "set_status", [(6, "unseen", "no-relation")]),        # 6: s6 ann, but then ...
        _action("ann", "merge_sentences", [(6, "no-relation", "discarded")]),  # 7: a merge set it: unknown
    ]                                                                        # s4: no log at all; s5: a label
    with engine.begin() as conn:
        for statement in V2_TABLES.format(pk=pk).split(";"):
            conn.exec_driver_sql(statement)
        for i, status in enumerate(V2_STATUSES, 1):
            conn.exec_driver_sql(
                "INSERT INTO sentences (document_id, position, text, start_char, end_char, is_reference, status) "
                f"VALUES (1, {i - 1}, '{TEXTS[0]}', 0, {len(TEXTS[0])}, FALSE, '{status}')")
        conn.exec_driver_sql(
            "INSERT INTO relations (sentence_id, source, target, sign, strength, annotator, origin, created_at, "
            f"updated_at) VALUES (5, 'heavy rain', 'river levels', 1, 'M', 'ann', 'human', '{T0}', '{T0}')")
        for a in log:
            conn.execute(text(f"INSERT INTO actions ({', '.join(a)}) VALUES ({', '.join(':' + k for k in a)})"), a)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT version FROM schema_version").scalar() == 2
    engine.dispose()

    store = Store(url)
    with store._engine.connect() as c:
        assert c.exec_driver_sql("SELECT version FROM schema_version").scalar() == SCHEMA_VERSION
        column = c.exec_driver_sql("SELECT status FROM sentences ORDER BY id").scalars().all()
    assert column == ["unseen", "unseen", "no-relation", "discarded", "labeled", "discarded"]  # what stayed unknown
    assert _seen(store, 1, "ann") == ["no-relation", "unseen", "unseen", "unseen", "labeled", "unseen"]
    assert _seen(store, 1, "bob") == ["unseen", "discarded", "unseen", "unseen", "unseen", "unseen"]
    assert _seen(store, 1, None) == V2_STATUSES  # everyone together: nothing lost
    assert store.annotators() == ["ann", "bob"]  # version 2 did not list who only marked sentences
    assert store.undo("ann") == "merge_sentences"  # old set_status actions are no longer undoable
    assert store.undo("ann") is None
    store.set_status(3, "no-relation", "bob")  # the new table works after the upgrade
    assert store.sentence(3, "bob").status == "no-relation" and store.sentence(3, "ann").status == "unseen"
    store.close()
    again = Store(url)  # reopening changes nothing
    assert _seen(again, 1, "bob") == ["unseen", "discarded", "no-relation", "unseen", "unseen", "unseen"]
    again.close()
