"""The Extract page with a real relation model: a tiny bundle trained once per run (conftest `tiny_model`) on invented sentences
(MiniLM features + TF-IDF, no LoRA), then upload -> extract -> look -> send to labeling."""
from __future__ import annotations

import pytest

from data.store import Store
from models.bundle import read_config
from tests.app_server import app_test, graph, table

pytestmark = pytest.mark.slow

PAPER = ("Heavy rain caused river floods in the valley. The survey ran for three years.\n\n"
         "Scientists found that air pollution leads to lung disease over time.\n")


def test_upload_extract_and_send_to_labeling(tiny_model, db, monkeypatch):
    monkeypatch.setenv("FUZZYMAP_MODEL", str(tiny_model))
    at = app_test(db, "pages/extract.py")
    assert not at.exception and not at.warning
    at.file_uploader[0].upload("floods.txt", PAPER.encode(), "text/plain").run()
    at.button(key="extract_run").click().run()
    assert not at.exception, at.exception
    at.slider(key="extract_min_score").set_value(0.0).run()

    rows = table(at, "evidence")
    found = {(r.source.lower(), r.target.lower(), r.sign) for r in rows.itertuples()}
    assert ("heavy rain", "river floods", "+") in found            # the templates it was trained on
    assert all(0.0 <= s <= 1.0 for s in rows["score"])
    model_id = read_config(tiny_model)["model_id"]
    assert set(rows["model"]) == {model_id}                         # the bundle's own model, no stand-in
    assert not any("survey" in e for e in rows[rows["score"] >= 0.5]["evidence"])
    drawn = graph(at)
    assert {"Heavy rain", "river floods"} <= {n["id"] for n in drawn["nodes"]}

    at.button(key="extract_send").click().run()
    assert not at.exception
    store = Store(str(db))
    docs = store.list_documents()       # an empty database also got the sample paper (app.state)
    (doc,) = [d for d in docs if d.filename == "floods.txt"]
    queued = store.suggestions(document_id=doc.id)
    assert len(queued) == len(rows) and all(s.model_id and s.score is not None for s in queued)
    assert at.session_state["doc"] == doc.id and "suggestion(s) queued" in at.success[0].value
    at.button(key="extract_send").click().run()                      # sending again adds nothing
    assert len(store.suggestions(document_id=doc.id)) == len(queued) and len(store.list_documents()) == len(docs)
    store.close()

