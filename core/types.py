"""Plain records that flow one way between the packages.

document -> sentences -> candidates -> embeddings -> scores -> relations -> map.
They carry no database ids and no behaviour, so every package can use them without
importing another package's machinery.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

Span = tuple[int, int]
"""Character offsets [start, end) inside a sentence's text."""

STRENGTHS: dict[str, float] = {"VL": 0.1, "L": 0.25, "M": 0.5, "H": 0.75, "VH": 1.0}
"""Linguistic strength terms and their weights (Mental Modeler / FCMpy convention)."""
STATUSES = ("unseen", "labeled", "no-relation", "discarded")
MARKS = ("no-relation", "discarded")
"""The statuses an annotator sets by hand; "labeled" is having a human relation in the sentence."""
ORIGINS = ("human", "model")
SUGGESTION_STATES = ("pending", "accepted", "rejected")


class Direction(IntEnum):
    """Which way a candidate pair is causal. A and B are the candidate's two spans."""

    NONE = 0
    A_TO_B = 1
    B_TO_A = 2


@dataclass(frozen=True)
class Candidate:
    """Two concept spans in one sentence: the unit the relation model scores."""

    text: str
    a: Span
    b: Span

    @property
    def a_text(self) -> str:
        return self.text[self.a[0]:self.a[1]]

    @property
    def b_text(self) -> str:
        return self.text[self.b[0]:self.b[1]]


@dataclass(frozen=True)
class LabeledExample:
    """A candidate with its gold label; what every dataset reader yields.

    sign is +1 (increase), -1 (decrease) or None (not causal, or the dataset gives no sign).
    """

    candidate: Candidate
    label: Direction
    sign: int | None = None
    source: str = ""


@dataclass(frozen=True)
class LabeledSentence:
    """Sentence-level gold (Causal News Corpus subtask 1, or any passage read for relations)."""

    text: str
    causal: bool
    source: str = ""


@dataclass
class SignedPair:
    """What a relation and a suggestion both are: source and target concept texts and a sign.

    Spans are offsets in the sentence text, None where the concept text does not occur in it
    (a label may paraphrase).
    """

    src: str
    tgt: str
    sign: int
    src_span: Span | None = None
    tgt_span: Span | None = None


@dataclass
class PassageRelation(SignedPair):
    """A relation as a file format carries it: concept texts, optional offsets, no ids.

    origin is "human" or "model".
    """

    strength: str = "M"
    annotator: str | None = None
    origin: str = "human"
    model_id: str | None = None
    score: float | None = None
    note: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    extra: dict | None = None
    """Format-specific fields kept verbatim for an exact round trip (TwoSix: direction spelling)."""


@dataclass
class Mark:
    """One annotator's "no-relation" / "discarded" mark on a sentence, as JSONL carries it.

    annotator None is the status no annotator is known for, what the store keeps in
    sentences.status (any status; an old database may hold "labeled" there).
    """

    annotator: str | None
    status: str
    updated: str | None = None


@dataclass
class PassageSuggestion(SignedPair):
    """A model's suggested relation and the decision on it, as JSONL carries it.

    relation is the index, in its sentence's relations, of the relation an accepted suggestion
    became (None: not accepted, or that relation is gone). model_id and score have no default,
    so they follow the spans as keyword-only fields.
    """

    model_id: str = field(kw_only=True)
    score: float = field(kw_only=True)
    state: str = "pending"
    decided_by: str | None = None
    relation: int | None = None
    created_at: str | None = None


@dataclass
class ParsedSentence:
    """A sentence of a document, with where it came from.

    start/end are offsets in the document's full text; page is 1-based (None when the format
    has no pages). relations / llm are filled by formats that carry labels (TwoSix, JSONL).
    status is one of unseen, labeled, no-relation, discarded: everyone's together. marks (JSONL
    only; None elsewhere) are the per-annotator statuses the store keeps, which then replace
    status on import; suggestions are the model suggestions with their decisions.
    """

    text: str
    page: int | None = None
    start: int = 0
    end: int = 0
    is_reference: bool = False
    status: str = "unseen"
    relations: list[PassageRelation] = field(default_factory=list)
    llm: dict | None = None
    marks: list[Mark] | None = None
    suggestions: list[PassageSuggestion] = field(default_factory=list)
    boxes: list[tuple[int, float, float, float, float]] = field(default_factory=list)
    """PDF only: (page, x0, top, x1, bottom) where the sentence is drawn, in page fractions."""


@dataclass
class ParsedDocument:
    """What ingestion produces from one file; the store imports it in one transaction."""

    filename: str
    sha256: str
    sentences: list[ParsedSentence]
    title: str | None = None
    authors: str | None = None
    year: int | str | None = None
    format: str = ""
    warnings: list[str] = field(default_factory=list)
    pdf: bytes | None = None
    """The PDF file itself, kept so the Label page can show the page a sentence is on."""


@dataclass(frozen=True)
class Evidence:
    """One stored relation seen from the map: a labelled edge with the sentence behind it.

    source/target are the concept names as labelled; the map resolves aliases itself.
    """

    relation_id: int
    source: str
    target: str
    sign: int
    strength: str
    sentence_id: int
    sentence_text: str
    document_id: int
    document_title: str
    page: int | None
    annotator: str | None
    origin: str
    model_id: str | None = None
    score: float | None = None


@dataclass
class LabeledData:
    """Everything a dataset file gives for training and evaluation, in one common shape.

    examples: span pairs with a direction label (negatives included where the format has them).
    sentences: sentence-level gold (is the sentence causal).
    passages: text with its gold relations as concept texts, for end-to-end scoring where the
    model finds the concepts itself.
    """

    name: str
    examples: list[LabeledExample] = field(default_factory=list)
    sentences: list[LabeledSentence] = field(default_factory=list)
    passages: list[ParsedSentence] = field(default_factory=list)
