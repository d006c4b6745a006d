"""Store.import_suggested (extract-corpus --db): a document and its model relations in one
transaction; a second import adds nothing; a bad relation imports nothing at all."""
from __future__ import annotations

import pytest

from core.errors import InputError
from core.types import PassageRelation
from data.ingest import read_document
from data.store import Store

PAPER = b"Heavy rain caused river floods in the valley.\n\nAir pollution leads to lung disease.\n"


def rel(src: str, tgt: str, sign: int = 1, model: str | None = "m1", score: float | None = 0.7) -> PassageRelation:
    return PassageRelation(src, tgt, sign, origin="model", model_id=model, score=score)


def test_document_and_suggestions_in_one_transaction(url):
    store = Store(url)
    try:
        doc = read_document("p.txt", PAPER)[0]
        found = [[rel("Heavy rain", "river floods"), rel("Heavy rain", "river floods")],  # the same pair twice: once
                 [rel("Air pollution", "lung disease", -1, score=0.4)]]
        doc_id, added = store.import_suggested(doc, found)
        assert added == 2
        queued = store.suggestions(document_id=doc_id)
        assert {(s.source, s.target, s.sign, s.score) for s in queued} == {
            ("Heavy rain", "river floods", 1, 0.7), ("Air pollution", "lung disease", -1, 0.4)}
        assert queued[0].source_span == (0, 10) or queued[1].source_span == (0, 10)
        assert {"heavy rain", "lung disease"} <= {c.lower() for c in store.concepts()}
        assert store.import_suggested(doc, found) == (doc_id, 0)  # a rerun adds nothing
        _, added = store.import_suggested(doc, [[rel("Heavy rain", "river floods", model="m2")], []])
        assert added == 1 and len(store.list_documents()) == 1

        other = read_document("q.txt", b"Warm water reduces the growth of cod.\n")[0]
        with pytest.raises(InputError, match="model_id and a numeric score"):
            store.import_suggested(other, [[rel("Warm water", "growth", score=None)]])
        assert len(store.list_documents()) == 1  # nothing of the bad document was imported
    finally:
        store.close()
