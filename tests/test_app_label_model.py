"""Label page with a real relation model bundle: model suggestions, accept keeps the model's score,
uncertainty ordering. A tiny bundle (MiniLM features, no LoRA) trained once per run (conftest `tiny_model`) on invented text."""
from __future__ import annotations

import pytest

from app_server import app_test
from core.types import ParsedDocument, ParsedSentence
from data.store import Store
from models.bundle import read_config

pytestmark = pytest.mark.slow

SENTENCES = ["The survey ran for three years.", "Heavy rain caused river floods in the valley.",
             "The report lists the stations."]


def test_model_suggestions_accept_and_order(tiny_model, tmp_path, monkeypatch):
    db = tmp_path / "model.db"
    monkeypatch.setenv("FUZZYMAP_MODEL", str(tiny_model))
    store = Store(str(db))
    store.import_documents([ParsedDocument("rain.txt", "sha-rain", [ParsedSentence(t) for t in SENTENCES])])
    model_id = read_config(tiny_model)["model_id"]

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


def test_the_opened_sentence_gets_its_suggestions_and_no_session_asks_twice(tiny_model, db, monkeypatch):
    """The page fills in the model's suggestions after the rest of it, and a reload or a new tab
    (a new session) does not ask the model again, even about a sentence it had nothing for."""
    import threading

    from models.classifier import RelationModel
    from workspace.suggest import WARM_UP

    monkeypatch.setenv("FUZZYMAP_MODEL", str(tiny_model))
    store = Store(str(db))
    (doc_id,) = store.import_documents([ParsedDocument("rain.txt", "sha-rain", [ParsedSentence(t) for t in SENTENCES])])
    asked: list[str] = []
    extract = RelationModel.extract
    monkeypatch.setattr(RelationModel, "extract", lambda self, texts, **kw: (
        asked.extend(t for t in texts if t != WARM_UP), extract(self, texts, **kw))[1])

    def open_sentence(s: int):
        at = app_test(db, "pages/label.py", query={"doc": str(doc_id), "s": str(s)})
        assert not at.exception, at.exception
        for thread in threading.enumerate():  # the next sentence, asked in the background
            if thread.name == "fuzzymap-prefetch":
                thread.join(timeout=120)
        return at

    at = open_sentence(2)
    assert "Sentence 2 of 3 · unseen" in [c.value for c in at.caption]
    (top, *_) = store.suggestions(sentence_id=store.sentences(doc_id)[1].id)
    assert at.button(key=f"lb_acc_{top.id}").label == "Accept"  # on the page, in its first run
    assert asked == SENTENCES[1:]  # the opened sentence, then the next one in the background
    assert store.suggestions(sentence_id=store.sentences(doc_id)[2].id) == []  # nothing for that one

    for s in (2, 3):  # new sessions: nothing asked again
        at = open_sentence(s)
        assert f"Sentence {s} of 3 · unseen" in [c.value for c in at.caption]
    assert asked == SENTENCES[1:]


def test_a_model_source_takes_the_model_stack_out_of_the_collectors_way(tiny_model):
    """Full garbage collections on the Label page walked the whole model stack (0.1-0.4 s each)."""
    import gc

    from workspace.suggest import model_source

    gc.unfreeze()
    model_source(str(tiny_model))
    assert gc.get_freeze_count() > 100_000
