"""Extract page logic: run a suggestion source over an uploaded paper, preview, send to labeling.

Why separate from the page: extraction is slow and must report progress, and sending to
labeling must neither duplicate a document already imported nor its suggestions; both are
tested here without a browser.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from data.suggest import SuggestionSource
from data.types import Evidence, ParsedDocument, PassageRelation
from fcm.build import FuzzyMap, build_map

if TYPE_CHECKING:
    from data.store import Store

BATCH = 16
"""Sentences per model call: small enough for a progress bar that moves on 2 CPU cores."""


def extract(source: SuggestionSource, doc: ParsedDocument,
            on_progress: Callable[[int, int], None] | None = None,
            batch_size: int = BATCH) -> list[list[PassageRelation]]:
    """Relations the source proposes, aligned with doc.sentences (reference-list sentences are
    skipped and get []). on_progress(done, total) is called after every batch."""
    todo = [i for i, s in enumerate(doc.sentences) if not s.is_reference]
    out: list[list[PassageRelation]] = [[] for _ in doc.sentences]
    for start in range(0, len(todo), batch_size):
        chunk = todo[start:start + batch_size]
        found = source.suggest([doc.sentences[i].text for i in chunk], [doc.sentences[i].llm for i in chunk])
        for i, rels in zip(chunk, found):
            out[i] = list(rels)
        if on_progress:
            on_progress(min(start + batch_size, len(todo)), len(todo))
    return out


def relation_rows(doc: ParsedDocument, found: Sequence[Sequence[PassageRelation]],
                  min_score: float = 0.0) -> list[dict[str, Any]]:
    """One row per proposed relation at or above min_score, best score first."""
    rows = [
        {"score": r.score, "source": r.src, "target": r.tgt, "sign": "+" if r.sign > 0 else "−",
         "model": r.model_id, "page": s.page, "sentence #": i + 1, "evidence": s.text}
        for i, (s, rels) in enumerate(zip(doc.sentences, found)) for r in rels
        if (r.score or 0.0) >= min_score
    ]
    rows.sort(key=lambda r: (-(r["score"] or 0.0), r["sentence #"]))
    return rows


def preview_map(doc: ParsedDocument, found: Sequence[Sequence[PassageRelation]],
                min_score: float = 0.0) -> FuzzyMap:
    """The map of the proposed relations before anything is stored (ids are positions)."""
    title = doc.title or doc.filename
    evidence = [
        Evidence(relation_id=k, source=r.src, target=r.tgt, sign=r.sign, strength=r.strength or "M",
                 sentence_id=i, sentence_text=s.text, document_id=0, document_title=title, page=s.page,
                 annotator=None, origin="model", model_id=r.model_id, score=r.score)
        for k, (i, s, r) in enumerate((i, s, r) for i, (s, rels) in enumerate(zip(doc.sentences, found))
                                      for r in rels)
        if (r.score or 0.0) >= min_score and r.sign in (1, -1)
    ]
    return build_map(evidence)


def send_to_labeling(store: Store, doc: ParsedDocument, found: Sequence[Sequence[PassageRelation]],
                     min_score: float = 0.0, annotator: str | None = None) -> tuple[int, int]:
    """Import the document (or find it, by content hash) and queue the proposals as suggestions.

    Returns (document id, suggestions queued). Sentences are matched by text, so a document that
    was imported and edited since only gets suggestions for sentences that still read the same;
    the store does not queue a pair the same model already suggested, so sending twice is harmless.
    """
    doc_id = store.import_documents([doc], annotator=annotator)[0]
    by_text: dict[str, int] = {}
    for row in store.sentences(doc_id):
        by_text.setdefault(row.text, row.id)
    queued = 0
    for sentence, rels in zip(doc.sentences, found):
        keep = [r for r in rels if (r.score or 0.0) >= min_score]
        if keep and sentence.text in by_text:
            before = {x.id for x in store.suggestions(sentence_id=by_text[sentence.text], state=None)}
            ids = store.add_suggestions(by_text[sentence.text], keep)
            queued += len(set(ids) - before)
    return doc_id, queued
