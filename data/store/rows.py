"""The store's read-side records: plain frozen dataclasses the pages and readers get back."""
from __future__ import annotations

from dataclasses import dataclass

from core.types import Span

RELATION_FIELDS = ("source", "target", "source_span", "target_span", "sign", "strength", "note")


@dataclass(frozen=True)
class DocumentInfo:
    id: int
    title: str | None
    authors: str | None
    year: str | None
    filename: str
    format: str
    n_sentences: int
    n_labeled: int
    n_no_relation: int
    n_discarded: int


@dataclass(frozen=True)
class SentenceRow:
    id: int
    document_id: int
    index: int
    text: str
    page: int | None
    status: str
    is_reference: bool
    llm: dict | None


@dataclass(frozen=True)
class _PairRow:
    id: int
    sentence_id: int
    source: str
    target: str
    source_span: Span | None
    target_span: Span | None
    sign: int


@dataclass(frozen=True)
class RelationRow(_PairRow):
    strength: str
    annotator: str | None
    origin: str
    model_id: str | None
    score: float | None
    note: str | None
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class SuggestionRow(_PairRow):
    model_id: str
    score: float
    state: str
    direction_src: str | None = None
    direction_tgt: str | None = None


@dataclass(frozen=True)
class ExtractRunRow:
    """One file of an Extract page run (see ExtractRunT), without its document."""

    id: int
    batch: str
    created: str
    annotator: str | None
    filename: str
    model_id: str | None
    sentences: int
    relations: int
    error: str | None


@dataclass(frozen=True)
class ActionRow:
    id: int
    annotator: str | None
    kind: str
    description: str
    created_at: str
    undone: bool

