"""Whose labels: a labeled file's relations and marks go to the annotator named at import (default
imported:<file name>), never silently to the one signed in; an import that adds nothing says so."""
from __future__ import annotations

import json

from app_server import app_test
from data.owners import default_owner
from data.store import Store
from data.store.cli import main
from workspace.uploads import import_uploads, parse_uploads

TWOSIX = json.dumps([
    {"text": "Warm water lowers cod recruitment.", "meta_data": {"title": "Cod"},
     "causal relations": [{"src": "warm water", "tgt": "cod recruitment", "direction": "decrease"}]},
    {"text": "The survey ran in spring.", "meta_data": {"title": "Cod"}, "causal relations": []},
]).encode()


def _owners(store: Store) -> tuple[set, dict]:
    """Annotators of the stored relations, and each annotator's own progress on document 1."""
    rels = {r.annotator for r in store.relations()}
    mine = {who: [s.status for s in store.sentences(1, who)] for who in store.annotators()}
    return rels, mine


def test_upload_labels_go_to_the_default_owner_not_the_uploader(tmp_path):
    store = Store(str(tmp_path / "a.db"))
    store.ensure_annotator("ann")
    (parsed,) = parse_uploads([("cod.json", TWOSIX)])
    assert (parsed.unowned_relations, parsed.unowned_marks, parsed.carries_labels) == (1, 1, True)
    (out,) = import_uploads(store, [("cod.json", TWOSIX)])
    assert out.ok and "labels under imported:cod.json" in out.message
    rels, mine = _owners(store)
    assert rels == {"imported:cod.json"}
    assert mine["imported:cod.json"] == ["labeled", "no-relation"] and mine["ann"] == ["unseen", "unseen"]


def test_upload_with_a_named_owner_and_again(tmp_path):
    store = Store(str(tmp_path / "a.db"))
    (out,) = import_uploads(store, [("cod.json", TWOSIX)], owners=["carol"])
    assert _owners(store)[0] == {"carol"}
    (again,) = import_uploads(store, [("cod.json", TWOSIX)], owners=["dave"])
    assert again.message == "cod.json: already imported (document 1), nothing added"
    assert _owners(store)[0] == {"carol"} and "dave" not in store.annotators()


def test_plain_text_upload_names_no_owner(tmp_path):
    store = Store(str(tmp_path / "a.db"))
    (out,) = import_uploads(store, [("cod.txt", b"Warm water lowers cod recruitment.")])
    assert out.ok and "labels under" not in out.message and store.annotators() == []


def test_default_owner_fits_a_name():
    assert default_owner("cod.json") == "imported:cod.json"
    assert len(default_owner("x" * 400 + ".json")) == 255


def test_cli_import_annotator_default_and_nothing_added(tmp_path, capsys):
    f = tmp_path / "cod.json"
    f.write_bytes(TWOSIX)
    db = str(tmp_path / "cli.db")
    assert main(["--db", db, "import", str(f)]) == 0
    assert capsys.readouterr().out == "imported 1 document(s): ids 1\n"
    assert _owners(Store(db))[0] == {"imported:cod.json"}
    assert main(["--db", db, "import", str(f), "--annotator", "carol"]) == 0
    assert capsys.readouterr().out == "nothing imported: already stored, nothing added: document(s) 1\n"
    assert "carol" not in Store(db).annotators()
    db2 = str(tmp_path / "cli2.db")
    assert main(["--db", db2, "import", str(f), "--annotator", "carol"]) == 0
    assert _owners(Store(db2))[0] == {"carol"}


def test_home_asks_whose_labels(db):
    at = app_test(db, annotator="ann")
    at.file_uploader[0].set_value(("cod.json", TWOSIX, "application/json"))
    at.run()
    assert not at.exception
    owner = at.text_input(key=next(t.key for t in at.text_input if t.key.startswith("upload_owner_")))
    assert owner.value == "imported:cod.json"
    assert Store(str(db)).list_documents()[1:] == []  # nothing imported before the answer
    owner.set_value("carol")
    at.button(key="FormSubmitter:upload_owner-Import").click().run()
    assert not at.exception
    assert "labels under carol" in at.success[0].value
    store = Store(str(db))
    assert {r.annotator for r in store.relations()} == {"carol"}
    cod = next(d for d in store.list_documents() if d.filename == "cod.json")
    assert [s.status for s in store.sentences(cod.id, "ann")] == ["unseen", "unseen"]
