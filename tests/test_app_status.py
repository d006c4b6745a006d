"""Home and Label pages (AppTest) show each annotator their own sentence statuses."""
from __future__ import annotations

import pytest

from app_server import app_test, table
from core.types import ParsedDocument, ParsedSentence, PassageRelation
from data.store import Store

TEXTS = ["Drought lowers crop yields.", "The farm sits on a hill.", "Irrigation raises crop yields."]


@pytest.fixture
def farm(db, tmp_path, monkeypatch):
    """conftest's db with one document: ann marked sentences 1-2, bob labelled sentence 3."""
    monkeypatch.setenv("FUZZYMAP_MODEL", str(tmp_path / "no-model"))  # no model suggestions
    store = Store(str(db))
    (doc_id,) = store.import_documents([ParsedDocument("farm.txt", "sha-farm", [ParsedSentence(t) for t in TEXTS])])
    sids = [s.id for s in store.sentences(doc_id)]
    store.set_status(sids[0], "no-relation", "ann")
    store.set_status(sids[1], "discarded", "ann")
    store.add_relation(sids[2], PassageRelation("irrigation", "crop yields", 1, annotator="bob"))
    store.close()
    return db


@pytest.mark.parametrize("who, counts", [("ann", (0, 1, 1)), ("bob", (1, 0, 0))])
def test_home_counts_are_the_annotators_own(farm, who, counts):
    at = app_test(farm, annotator=who)
    assert not at.exception
    docs = table(at, "progress")
    assert tuple(docs[["labeled", "no relation", "discarded"]].iloc[0]) == counts
    assert docs["progress"][0] == pytest.approx(sum(counts) / 3)


def test_label_page_starts_at_the_annotators_first_unseen_sentence(farm):
    bob = app_test(farm, "pages/label.py", annotator="bob")
    assert not bob.exception
    assert "Sentence 1 of 3 · unseen" in [c.value for c in bob.caption]  # ann's marks are not bob's
    ann = app_test(farm, "pages/label.py", annotator="ann")
    assert "Sentence 3 of 3 · unseen" in [c.value for c in ann.caption]  # bob's label is not ann's
