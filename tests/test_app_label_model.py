"""Label page with a real relation model bundle: model suggestions, accept keeps the model's score,
uncertainty ordering. A tiny bundle (MiniLM features, no LoRA) trained once per run (conftest `tiny_model`) on invented text."""
from __future__ import annotations

import json

import pytest

from app_server import app_test
from data.store import Store
from data.types import ParsedDocument, ParsedSentence

pytestmark = pytest.mark.slow

SENTENCES = ["The survey ran for three years.", "Heavy rain caused river floods in the valley.",
             "The report lists the stations."]


def test_model_suggestions_accept_and_order(tiny_model, tmp_path, monkeypatch):
    db = tmp_path / "model.db"
    monkeypatch.setenv("FUZZYMAP_MODEL", str(tiny_model))
    store = Store(str(db))
    store.import_documents([ParsedDocument("rain.txt", "sha-rain", [ParsedSentence(t) for t in SENTENCES])])
    model_id = json.loads((tiny_model / "config.json").read_text())["model_id"]

    at = app_test(db, "pages/label.py")
    assert not at.exception
    assert not any("no model bundle" in c.value for c in at.caption)
    at.button_group(key="lb_order").set_value("likely causal").run()  # scores the whole document
    assert not at.exception
    assert "Sentence 2 of 3 · unseen" in [c.value for c in at.caption]  # the causal one comes first
    rain = store.sentences(store.list_documents()[0].id)[1]
    pending = store.suggestions(sentence_id=rain.id)
    assert pending and {s.model_id for s in pending} == {model_id}
    top = pending[0]
    assert (top.source.lower(), top.target.lower(), top.sign) == ("heavy rain", "river floods", 1)
    at.button(key=f"lb_acc_{top.id}").click().run()
    (rel,) = store.relations()
    assert (rel.origin, rel.model_id, rel.score, rel.annotator) == ("human", model_id, top.score, "ann")
