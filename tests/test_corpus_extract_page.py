"""The Extract page takes several files at once through Extractor.pipe: progress per file, bad
files listed, every run stored and listed again on reload (a real tiny bundle, a real SQLite)."""
from __future__ import annotations

import pytest

from data.store import Store
from workspace.extraction import read_uploads, run_uploads, runs_by_batch
from workspace.suggest import llm_source
from tests.app_server import app_test, table

PAPER_A = b"Heavy rain caused river floods in the valley. The survey ran for three years.\n"
PAPER_B = b"Scientists found that air pollution leads to lung disease over time.\n"


def test_runs_are_stored_per_file_with_bad_files_listed(tmp_path):
    store = Store(str(tmp_path / "s.db"))
    try:
        uploads = read_uploads([("a.txt", PAPER_A), ("bad.pdf", b"%PDF-1.7 cut"), ("b.txt", PAPER_B)])
        assert [u.error is None for u in uploads] == [True, False, True]
        seen: list[tuple[str, int, int]] = []
        batch = run_uploads(store, llm_source(), uploads, "ann", lambda *a: seen.append(a))
        assert seen == [("a.txt", 2, 2), ("b.txt", 1, 1)]
        (rows,) = runs_by_batch(store, "ann").values()
        assert [r.filename for r in rows] == ["a.txt", "bad.pdf", "b.txt"] and rows[0].batch == batch
        assert "not a readable PDF" in rows[1].error and rows[1].sentences == 0
        doc, found = store.extract_run(rows[0].id)
        assert doc.filename == "a.txt" and len(found) == len(doc.sentences) == 2
        assert all(not s.relations for s in doc.sentences)
        assert runs_by_batch(store, "someone else") == {}
    finally:
        store.close()


@pytest.mark.slow
def test_several_files_extracted_listed_and_kept_after_reload(tiny_model, db, monkeypatch):
    monkeypatch.setenv("FUZZYMAP_MODEL", str(tiny_model))
    at = app_test(db, "pages/extract.py")
    assert not at.exception and not at.warning
    at.file_uploader[0].set_value([("floods.txt", PAPER_A, "text/plain"), ("cut.pdf", b"%PDF-1.7 cut", "application/pdf"),
                                   ("air.txt", PAPER_B, "text/plain")]).run()
    assert any("cut" in e.value and "not a readable PDF" in e.value for e in at.error)
    at.button(key="extract_run").click().run()
    assert not at.exception, at.exception
    files = table(at, "file")
    assert list(files["file"]) == ["floods.txt", "cut.pdf", "air.txt"]
    assert files["result"][1].startswith("failed: ") and list(files["result"][[0, 2]]) == ["extracted"] * 2

    at = app_test(db, "pages/extract.py")  # a reload: a new session, the run is listed from the store
    assert not at.exception
    (label,) = at.selectbox(key="extract_batch").options
    assert "3 file(s)" in label and "1 failed" in label
    assert list(table(at, "file")["file"]) == ["floods.txt", "cut.pdf", "air.txt"]
    at.selectbox(key="extract_pick").set_value(1).run()
    at.slider(key="extract_min_score").set_value(0.0).run()
    rows = table(at, "evidence")
    assert any("pollution" in r.source.lower() and "lung" in r.target.lower() for r in rows.itertuples())
    at.button(key="extract_send").click().run()
    assert not at.exception and "suggestion(s) queued" in at.success[0].value
    store = Store(str(db))
    try:
        (doc,) = [d for d in store.list_documents() if d.filename == "air.txt"]
        assert store.suggestions(document_id=doc.id)
    finally:
        store.close()
