"""Extract page logic: run a suggestion source over uploaded papers, keep each file's result as a
stored run, preview, send to labeling.

Why separate from the page: extraction is slow and must report progress per file, a file that
cannot be read must be listed without stopping the others, results must survive a reload, and
sending to labeling must neither duplicate a document already imported nor its suggestions; all
of it is tested here without a browser.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.errors import InputError, without_paths
from core.types import Evidence, ParsedDocument, PassageRelation
from data.ingest import read_document
from data.model_runs import record_runs
from fcm.build import FuzzyMap, build_map
from workspace.suggest import SuggestionSource

if TYPE_CHECKING:
    from data.store import ExtractRunRow, Store

BATCH = 16
"""Sentences per model call: small enough for a progress bar that moves on 2 CPU cores."""


def extract(source: SuggestionSource, doc: ParsedDocument,
            on_progress: Callable[[int, int], None] | None = None,
            batch_size: int = BATCH) -> list[list[PassageRelation]]:
    """Relations the source proposes, aligned with doc.sentences (reference-list sentences are
    skipped and get []). on_progress(done, total) is called after every batch."""
    todo = [i for i, s in enumerate(doc.sentences) if not s.is_reference]
    out: list[list[PassageRelation]] = [[] for _ in doc.sentences]
    found = source.pipe([doc.sentences[i].text for i in todo], [doc.sentences[i].llm for i in todo],
                        batch_size, on_progress)
    for i, rels in zip(todo, found):
        out[i] = list(rels)
    return out


@dataclass
class Upload:
    """One uploaded file as read: its documents, or the one-line reason it cannot be read."""

    name: str
    documents: list[ParsedDocument]
    error: str | None = None


def read_uploads(files: Sequence[tuple[str, bytes]]) -> list[Upload]:
    """Read every file; a bad one is kept with its error, so the others still run."""
    out = []
    for name, content in files:
        try:
            out.append(Upload(name, read_document(name, content)))
        except InputError as exc:
            out.append(Upload(name, [], without_paths(str(exc))))
    return out


def run_uploads(store: Store, source: SuggestionSource, uploads: Sequence[Upload], annotator: str | None,
                on_progress: Callable[[str, int, int], None] | None = None, batch_size: int = BATCH) -> str:
    """Extract every document of the uploads through source and store each file's result (or
    its error) as one row of a new run; on_progress(file name, done, total) per batch. Returns
    the run's batch id."""
    batch = uuid.uuid4().hex
    model_id = getattr(source.extractor, "model_id", None) or source.name
    for upload in uploads:
        if upload.error is not None:
            store.add_extract_run(batch, upload.name, model_id, annotator, error=upload.error)
            continue
        for doc in upload.documents:
            name = doc.filename if len(upload.documents) == 1 else f"{doc.filename}: {doc.title or 'paper'}"
            try:
                found = extract(source, doc, None if on_progress is None else
                                (lambda done, total, n=name: on_progress(n, done, total)), batch_size)
            except Exception as exc:  # one file's failure is listed; the others still run
                store.add_extract_run(batch, name, model_id, annotator, error=" ".join(str(exc).split())
                                      or type(exc).__name__)
                continue
            store.add_extract_run(batch, name, model_id, annotator, doc, found)
    return batch


def runs_by_batch(store: Store, annotator: str | None = None) -> dict[str, list[ExtractRunRow]]:
    """Stored Extract runs, newest first, each with its files in upload order."""
    out: dict[str, list[ExtractRunRow]] = {}
    for row in store.extract_runs(annotator):
        out.setdefault(row.batch, []).insert(0, row)
    return out


def run_label(rows: Sequence[ExtractRunRow]) -> str:
    """How a run is named in the page's picker: when, how many files, relations and failures."""
    failed = sum(r.error is not None for r in rows)
    return (f"{rows[0].created.replace('T', ' ').removesuffix('Z')} UTC · {len(rows)} file(s) · "
            f"{sum(r.relations for r in rows)} relations" + (f" · {failed} failed" if failed else ""))


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
                     min_score: float = 0.0, annotator: str | None = None,
                     model_id: str | None = None) -> tuple[int, int]:
    """Import the document (or find it, by content hash) and queue the proposals as suggestions.

    Returns (document id, suggestions queued). Sentences are matched by text, so a document that
    was imported and edited since only gets suggestions for sentences that still read the same;
    the store does not queue a pair the same model already suggested, so sending twice is harmless.
    `model_id` (the run's model) is recorded as run on those sentences (data.model_runs).
    """
    doc_id = store.import_documents([doc], annotator=annotator)[0]
    by_text: dict[str, int] = {}
    for row in store.sentences(doc_id):
        by_text.setdefault(row.text, row.id)
    queued = 0
    for sentence, rels in zip(doc.sentences, found):
        if sentence.text in by_text:
            queued += queue_suggestions(store, by_text[sentence.text], [r for r in rels if (r.score or 0.0) >= min_score])
    if model_id:
        record_runs(store, model_id, [by_text[s.text] for s in doc.sentences if s.text in by_text])
    return doc_id, queued


def queue_suggestions(store: Store, sentence_id: int, rels: Sequence[PassageRelation]) -> int:
    """Queue a model's relations for a sentence as pending suggestions; returns how many were new
    (the store keeps one suggestion per pair and model)."""
    if not rels:
        return 0
    before = {x.id for x in store.suggestions(sentence_id=sentence_id, state=None)}
    return len(set(store.add_suggestions(sentence_id, list(rels))) - before)
