"""Exports by annotator: one annotator's or the gold set's relations only (each relation once), and
unknown document ids or annotators as a one-line error with exit status 2."""
from __future__ import annotations

import csv
import io
import json

import pytest

from app_server import app_test
from core.errors import InputError
from core.types import ParsedDocument, ParsedSentence, PassageRelation
from data.store import Store
from data.store.cli import main
from workspace.exporting import stored_relation_count

TEXTS = ["Dredging raises turbidity.", "Turbidity lowers seagrass growth.", "Nothing causal here."]


def three_annotators(store: Store) -> int:
    """One document labelled alike by alice, bob and gold (the adjudicated copy), plus bob's extra."""
    (doc,) = store.import_documents([ParsedDocument("bay.txt", "sha-bay", [ParsedSentence(t) for t in TEXTS])])
    ids = [s.id for s in store.sentences(doc)]
    for who in ("alice", "bob", "gold"):
        store.add_relation(ids[0], PassageRelation("dredging", "turbidity", 1, annotator=who))
        store.add_relation(ids[1], PassageRelation("turbidity", "seagrass growth", -1, annotator=who))
    store.add_relation(ids[2], PassageRelation("nothing", "causal", 1, annotator="bob"))
    store.set_status(ids[2], "no-relation", "gold")
    return doc


@pytest.fixture
def store(tmp_path):
    s = Store(str(tmp_path / "e.db"))
    three_annotators(s)
    yield s
    s.close()


def test_gold_only_has_each_relation_once(store):
    (doc,) = store.export_documents(annotators=["gold"])
    rels = [(r.src, r.tgt, r.annotator) for s in doc.sentences for r in s.relations]
    assert rels == [("dredging", "turbidity", "gold"), ("turbidity", "seagrass growth", "gold")]
    assert [s.status for s in doc.sentences] == ["labeled", "labeled", "no-relation"]
    assert stored_relation_count(store, [1], ["gold"]) == 2
    (both,) = store.export_documents([1], ["alice", "bob"])
    assert sum(len(s.relations) for s in both.sentences) == 5
    assert sum(len(s.relations) for s in store.export_documents()[0].sentences) == 7


def test_unknown_ids_and_annotators_are_refused(store):
    with pytest.raises(InputError, match="no document with id 99"):
        store.export_documents([1, 99])
    with pytest.raises(InputError, match="no annotator named 'zed'"):
        store.export_documents(annotators=["gold", "zed"])


def test_cli_export_by_annotator(tmp_path, store, capsys):
    db = store.url
    assert main(["--db", db, "export", "--format", "twosix", "--annotator", "gold"]) == 0
    passages = json.loads(capsys.readouterr().out)
    assert [len(p["causal relations"]) for p in passages] == [1, 1, 0]
    assert main(["--db", db, "export", "--format", "csv", "--annotator", "alice", "--annotator", "bob"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert sorted({r["annotator"] for r in rows}) == ["alice", "bob"] and len(rows) == 5


@pytest.mark.parametrize("args, line", [
    (["--documents", "99"], "error: export: no document with id 99\n"),
    (["--documents", "1,x"], "error: --documents: '1,x' is not a comma-separated list of ids\n"),
    (["--annotator", "zed"], "error: export: no annotator named 'zed'\n"),
])
def test_cli_export_errors_exit_2_and_write_nothing(tmp_path, store, capsys, args, line):
    out = tmp_path / "o.csv"
    assert main(["--db", store.url, "export", "--format", "csv", "--out", str(out), *args]) == 2
    captured = capsys.readouterr()
    assert captured.err == line and captured.out == "" and not out.exists()


def test_export_page_gold_only(db):
    three_annotators(Store(str(db)))
    at = app_test(db, page="pages/export.py")
    at.radio(key="export_whose").set_value("Gold only").run()
    assert not at.exception
    assert [m.value for m in at.metric] == ["1", "3", "2"]
    assert "All 2 relations" in at.caption[0].value


def test_file_name_says_whose(store):
    from workspace.exporting import file_name

    docs = store.export_documents(annotators=["gold"])
    assert file_name(docs, "twosix", ["gold"]) == "bay_gold.json"
    assert file_name(docs, "csv", ["imported:a b.json"]) == "bay_imported_a_b.json.csv"
    assert file_name(docs, "jsonl") == "bay.jsonl"
