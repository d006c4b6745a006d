"""Large imports in batches: invisible until complete, nothing left on failure or kill, a short log
entry; and the command line / upload messages for every outcome."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

import data.store.store as store_module
from core.types import ParsedDocument, ParsedSentence, PassageRelation
from data.schema import ActionT, DocumentT, RelationT, SentenceT
from data.store import Store
from data.store.cli import main
from workspace.uploads import import_uploads

ROOT = Path(__file__).resolve().parent.parent


def paper(n: int, tag: str = "a") -> ParsedDocument:
    sentences = [ParsedSentence(f"Kelp {tag} {i} slowed the current.", start=40 * i, end=40 * i + 30,
                                relations=[PassageRelation("Kelp", "current", -1, annotator="ann")] if i % 7 == 0 else [])
                 for i in range(n)]
    return ParsedDocument(filename=f"{tag}.txt", sha256=f"sha-{tag}-{n}", sentences=sentences, format="txt")


def counts(store: Store) -> dict[str, int]:
    with store.reading() as s:
        return {m.__tablename__: s.scalar(select(func.count()).select_from(m))
                for m in (DocumentT, SentenceT, RelationT, ActionT)}


def test_documents_stay_invisible_until_the_last_batch(tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, "IMPORT_BATCH", 10)
    db = str(tmp_path / "s.db")
    store, reader = Store(db), Store(db)
    seen_between_batches = []
    original = Store._add_sentences

    def watched(self, s, doc_id, doc, start, annotator):
        seen_between_batches.append((len(reader.list_documents()), len(reader.export_documents()),
                                     len(reader.evidence())))
        return original(self, s, doc_id, doc, start, annotator)

    monkeypatch.setattr(Store, "_add_sentences", watched)
    ids = store.import_documents([paper(35, "a"), paper(12, "b")])
    assert len(seen_between_batches) == 4 + 2  # 35 sentences in 4 batches, then 12 in 2
    assert set(seen_between_batches) == {(0, 0, 0)}
    assert [d.n_sentences for d in reader.list_documents()] == [35, 12] and len(ids) == 2
    assert len(reader.evidence()) == 5 + 2


def test_a_failed_batch_leaves_nothing_behind(tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, "IMPORT_BATCH", 10)
    store = Store(str(tmp_path / "s.db"))
    store.import_documents([paper(3, "kept")])
    before = counts(store)
    original = Store._add_sentences

    def failing(self, s, doc_id, doc, start, annotator):
        if start >= 20:
            raise OSError("disk full")
        return original(self, s, doc_id, doc, start, annotator)

    monkeypatch.setattr(Store, "_add_sentences", failing)
    with pytest.raises(OSError):
        store.import_documents([paper(35, "lost")])
    assert counts(store) == before


KILLED_IMPORT = """
import os, sys
import data.store.store as m
from core.types import ParsedDocument, ParsedSentence
m.IMPORT_BATCH = 10
original = m.Store._add_sentences
def die(self, s, doc_id, doc, start, annotator):
    if start >= 20:
        os._exit(9)  # as kill -9: no except clause, no cleanup
    return original(self, s, doc_id, doc, start, annotator)
m.Store._add_sentences = die
sents = [ParsedSentence(f"Cod {i} ate sprat.", start=20 * i, end=20 * i + 15) for i in range(35)]
m.Store(sys.argv[1]).import_documents([ParsedDocument("k.txt", "sha-killed", sents, format="txt")])
"""


def test_a_killed_import_is_never_seen_and_is_cleaned_up(tmp_path, monkeypatch):
    db = str(tmp_path / "s.db")
    done = subprocess.run([sys.executable, "-c", KILLED_IMPORT, db], cwd=ROOT, capture_output=True, timeout=120)
    assert done.returncode == 9
    store = Store(db)
    assert store.list_documents() == [] and store.export_documents() == []
    assert counts(store)["sentences"] == 20  # two batches written, pending
    again = ParsedDocument("k.txt", "sha-killed", [ParsedSentence("Cod ate sprat.", start=0, end=14)], format="txt")
    with pytest.raises(store_module.InputError, match="being imported by another import"):
        store.import_documents([again])
    monkeypatch.setattr(store_module, "PENDING_STALE_S", 0)
    reopened = Store(db)  # a stale pending document is deleted when a store is opened
    assert counts(reopened)["sentences"] == 0 and counts(reopened)["documents"] == 0
    assert reopened.import_documents([again]) and [d.n_sentences for d in reopened.list_documents()] == [1]


def test_readers_never_see_part_of_a_document(tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, "IMPORT_BATCH", 100)
    db = str(tmp_path / "s.db")
    store, reader = Store(db), Store(db)
    seen: set[int] = set()
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            seen.update(d.n_sentences for d in reader.list_documents())

    thread = threading.Thread(target=read)
    thread.start()
    try:
        store.import_documents([paper(3000, "big")])
    finally:
        stop.set()
        thread.join()
    seen.update(d.n_sentences for d in reader.list_documents())
    assert seen == {3000}


def test_the_import_log_entry_references_rows_instead_of_copying_them(tmp_path):
    store = Store(str(tmp_path / "s.db"))
    (doc_id,) = store.import_documents([paper(5000, "long")])
    with store.reading() as s:
        action = s.scalars(select(ActionT)).one()
    changes = json.loads(action.changes)
    assert [(table, id_) for table, id_, _, _ in changes] == [("documents", doc_id)]
    assert len(action.changes) < 1000 and "5000 sentences, 715 relations" in action.description


# ------------------------------------------------------------------------- messages, CLI, app

def test_command_line_says_already_imported_and_refuses_links(tmp_path, capsys):
    db = str(tmp_path / "cli.db")
    txt = tmp_path / "cod.txt"
    txt.write_text("Cod ate sprat. Seals ate cod.\n")
    assert main(["--db", db, "import", str(txt)]) == 0
    assert capsys.readouterr().out.strip() == "imported 1 document(s): ids 1"
    assert main(["--db", db, "import", str(txt)]) == 0
    assert capsys.readouterr().out.strip() == "nothing imported: already stored, nothing added: document(s) 1"
    link = tmp_path / "paper.txt"
    link.symlink_to("/etc/passwd")
    assert main(["--db", db, "import", str(link)]) == 2
    err = capsys.readouterr().err
    assert err == "error: paper.txt: is a symbolic link; give the file it points to instead\n"


def test_unexpected_errors_are_one_line_without_server_paths(tmp_path, capsys, monkeypatch):
    db = str(tmp_path / "cli.db")
    txt = tmp_path / "cod.txt"
    txt.write_text("Cod ate sprat.\n")

    def broken(*_args, **_kwargs):
        raise RuntimeError(f"cannot write {tmp_path}/var/secret.db\nsecond line")

    monkeypatch.setattr(Store, "import_documents", broken)
    monkeypatch.delenv("FUZZYMAP_DEBUG", raising=False)
    assert main(["--db", db, "import", str(txt)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "RuntimeError: cannot write secret.db" in err and str(tmp_path) not in err
    (outcome,) = import_uploads(Store(db), [("cod.txt", b"Cod ate sprat.")])
    assert not outcome.ok and outcome.message == "cod.txt: could not be imported (RuntimeError); nothing was changed"


def test_writers_queue_on_the_lock_file(tmp_path):
    db = str(tmp_path / "s.db")
    first, second = Store(db), Store(db)
    done = threading.Event()
    with first._gate:
        thread = threading.Thread(target=lambda: (second.ensure_annotator("bob"), done.set()))
        thread.start()
        assert not done.wait(0.5)  # the second store's write waits on the lock file
    assert done.wait(30)
    thread.join()
    assert second.annotators() == ["bob"] and (tmp_path / "s.db.writers").exists()
