"""Which sentences a relation model (by model id) has been run on.

Why a record: a model that finds nothing in a sentence leaves no suggestion behind, so its output
alone cannot tell "read it, no relation" from "never read it". Compare scores a model only on the
sentences it read and offers to run it on the rest. The Label page's suggestions, the Extract
page's "send to labeling" and Compare's own run write here. A reference-list sentence counts as
read once the model was put to its document's sentences: the extraction path never asks the
model about citations, so "no relation" is its answer there.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from sqlalchemy import select

from data.schema import ModelRunT, SentenceT
from data.store.log import _now

if TYPE_CHECKING:
    from data.store import Store


def record_runs(store: Store, model_id: str, sentence_ids: Iterable[int]) -> int:
    """Note that the model was run on these sentences; returns how many were new. Not an undoable
    action: it records a fact about the model, no one's label."""
    ids = sorted(set(sentence_ids))
    if not model_id or not ids:
        return 0
    with store.writing() as log:
        s = log.session
        known = set(s.scalars(select(SentenceT.id).where(SentenceT.id.in_(ids))))
        seen = set(s.scalars(select(ModelRunT.sentence_id).where(
            ModelRunT.model_id == model_id, ModelRunT.sentence_id.in_(ids))))
        new = [ModelRunT(sentence_id=i, model_id=model_id, created=_now()) for i in ids if i in known - seen]
        s.add_all(new)
    return len(new)


def runs_by_model(store: Store, document_ids: Iterable[int] | None = None) -> dict[str, set[int]]:
    """{model id: ids of the sentences it was run on}, in the given documents (None: all)."""
    q = select(ModelRunT.model_id, ModelRunT.sentence_id)
    if document_ids is not None:
        q = q.join(SentenceT, SentenceT.id == ModelRunT.sentence_id).where(
            SentenceT.document_id.in_(list(document_ids)))
    out: dict[str, set[int]] = {}
    with store.reading() as s:
        for model_id, sentence_id in s.execute(q):
            out.setdefault(model_id, set()).add(sentence_id)
    return out
