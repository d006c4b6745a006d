"""Assignments: ranges of a document given to annotators (with a shared part for agreement), each
annotator's queue with progress, Agreement on the overlap, and the schema migration that adds them."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from app_server import app_test
from core.errors import InputError
from core.types import ParsedDocument, ParsedSentence, PassageRelation
from data.assignments import (
    assign, assignments, describe_ranges, overlap_sentences, queue, split_plan, unassign,
)
from data.store import Store
from workspace.agreement import store_agreement


def _doc(store: Store, name: str, n: int) -> int:
    sents = [ParsedSentence(f"Sentence {i} says warm water lowers cod.") for i in range(n)]
    (doc,) = store.import_documents([ParsedDocument(f"{name}.txt", f"sha-{name}", sents, title=name)])
    return doc


@pytest.fixture
def store(tmp_path):
    s = Store(str(tmp_path / "a.db"))
    yield s
    s.close()


def test_split_plan_shares_the_overlap_and_splits_the_rest():
    assert split_plan(10, ["a", "b"], 0.2) == [("a", 0, 1), ("b", 0, 1), ("a", 2, 5), ("b", 6, 9)]
    assert split_plan(7, ["a", "b", "c"]) == [("a", 0, 2), ("b", 3, 4), ("c", 5, 6)]
    assert split_plan(5, ["a"], 0.5) == [("a", 0, 4)]  # one annotator: nothing to share
    for bad, why in ((([], 0.0), "at least one"), ((["a", "a"], 0.0), "named twice"), ((["a"], 1.5), "between")):
        with pytest.raises(InputError, match=why):
            split_plan(4, *bad)


def test_queue_progress_and_assignee_only(store):
    doc, other = _doc(store, "cod", 10), _doc(store, "kelp", 4)
    assign(store, doc, split_plan(10, ["alice", "bob"], 0.2), by="rita")
    assign(store, other, [("bob", 0, 3)], by="rita")
    sents = store.sentences(doc)
    store.add_relation(sents[0].id, PassageRelation("warm water", "cod", -1, annotator="alice"))
    store.set_status(sents[3].id, "no-relation", "alice")
    store.set_status(sents[7].id, "no-relation", "alice")  # not alice's: does not count
    (item,) = queue(store, "alice")
    assert (item.document_id, item.done, item.total, item.next_position) == (doc, 2, 6, 1)
    assert describe_ranges(item.ranges) == "sentences 1–2, 3–6"
    assert [(i.document_id, i.done, i.total) for i in queue(store, "bob")] == [(doc, 0, 6), (other, 0, 4)]
    assert queue(store, "carol") == []
    assert overlap_sentences(store, "alice", "bob", [doc, other]) == {sents[0].id, sents[1].id}


def test_bad_assignments_change_nothing_and_undo(store):
    doc = _doc(store, "cod", 3)
    with pytest.raises(InputError, match="sentences 3-4 are not within 1-3"):
        assign(store, doc, [("alice", 0, 1), ("bob", 2, 3)])
    with pytest.raises(InputError, match="no document with id 9"):
        assign(store, 9, [("alice", 0, 1)])
    assert assignments(store) == []
    (aid,) = assign(store, doc, [("alice", 0, 2)], by="rita")
    unassign(store, aid, by="rita")
    assert assignments(store) == []
    assert store.undo("rita") and [a.annotator for a in assignments(store)] == ["alice"]
    store.delete_document(doc, "rita")  # the assignment goes with its document ...
    assert assignments(store) == []
    store.undo("rita")  # ... and comes back with it
    assert [a.annotator for a in assignments(store)] == ["alice"]


def test_agreement_on_the_overlap_only(store):
    doc = _doc(store, "cod", 6)
    sents = store.sentences(doc)
    for s in sents:  # both judged everything; they agree only on the shared first two
        store.add_relation(s.id, PassageRelation("warm water", "cod", -1, annotator="alice"))
        if s.index < 2:
            store.add_relation(s.id, PassageRelation("warm water", "cod", -1, annotator="bob"))
        else:
            store.set_status(s.id, "no-relation", "bob")
    assign(store, doc, split_plan(6, ["alice", "bob"], 1 / 3))
    within = overlap_sentences(store, "alice", "bob", [doc])
    ag, judged = store_agreement(store, "alice", "bob", [doc], within=within)
    assert ag.n_sentences == 2 and ag.exact.f1 == 1.0
    assert store_agreement(store, "alice", "bob", [doc])[0].n_sentences == 6


def test_a_database_from_before_assignments_gets_the_table(tmp_path):
    from data.schema import MIGRATIONS, _add_assignments

    path = tmp_path / "v3.db"
    store = Store(str(path))
    _doc(store, "cod", 2)
    store.close()
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE assignments"))
        conn.execute(text("UPDATE schema_version SET version = :v"), {"v": MIGRATIONS.index(_add_assignments) + 1})
    engine.dispose()
    store = Store(str(path))
    assign(store, 1, [("alice", 0, 1)])
    assert [a.annotator for a in assignments(store)] == ["alice"]


def test_pages_assign_queue_and_agreement(db):
    store = Store(str(db))
    doc = _doc(store, "cod", 10)
    store.ensure_annotator("alice")
    store.ensure_annotator("bob")
    at = app_test(db, page="pages/assign.py", annotator="rita")
    at.selectbox(key="assign_doc").set_value(doc).run()
    at.multiselect(key="assign_who").set_value(["alice", "bob"]).run()
    at.radio(key="assign_how").set_value("Split among them").run()
    at.button(key="assign_go").click().run()
    assert not at.exception
    assert sorted((a.annotator, a.first, a.last) for a in assignments(store)) == [
        ("alice", 0, 1), ("alice", 2, 5), ("bob", 0, 1), ("bob", 6, 9)]
    home = app_test(db, annotator="alice")
    assert not home.exception
    assert any(b.key == f"queue_open_{doc}" for b in home.button)
    home.button(key=f"queue_open_{doc}").click().run()
    assert home.session_state["doc"] == doc and home.session_state["pos"] == 0
    other = app_test(db, annotator="carol")
    assert not any(b.key.startswith("queue_open_") for b in other.button if b.key)
