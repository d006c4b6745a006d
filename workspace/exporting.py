"""Export of stored documents to files, with the counts that prove nothing was dropped.

Why counts: annotation tools are known to lose relations on export silently, so the Export page
shows how many relations the database holds next to how many the file carries.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.types import ParsedDocument
from data.formats import write_jsonl, write_relations_csv, write_twosix

_UNSAFE_NAME = re.compile(r"[^\w.-]+")
MAX_STEM = 80

if TYPE_CHECKING:
    from data.store import Store


@dataclass(frozen=True)
class ExportFormat:
    label: str
    suffix: str
    mime: str
    writer: Callable[[list[ParsedDocument]], str]


EXPORT_FORMATS: dict[str, ExportFormat] = {
    "twosix": ExportFormat("TwoSix JSON", ".json", "application/json", write_twosix),
    "jsonl": ExportFormat("fuzzymap JSONL (lossless)", ".jsonl", "application/jsonl", write_jsonl),
    "csv": ExportFormat("Relations CSV", ".csv", "text/csv", write_relations_csv),
}


@dataclass(frozen=True)
class ExportCounts:
    documents: int
    sentences: int
    relations: int


def counts(docs: Sequence[ParsedDocument]) -> ExportCounts:
    """Documents, sentences and relations carried by the export."""
    return ExportCounts(len(docs), sum(len(d.sentences) for d in docs),
                        sum(len(s.relations) for d in docs for s in d.sentences))


def stored_relation_count(store: Store, document_ids: Sequence[int] | None = None,
                          annotators: Sequence[str] | None = None) -> int:
    """How many relations the database holds for these documents (of these annotators; None: all
    annotators and origins)."""
    ids = [d.id for d in store.list_documents()] if document_ids is None else document_ids
    who: Sequence[str | None] = [None] if annotators is None else annotators
    return sum(len(store.relations(document_id=d, annotator=a)) for d in ids for a in who)


def file_name(docs: Sequence[ParsedDocument], fmt: str, annotators: Sequence[str] | None = None) -> str:
    """A download name: the document's file stem for one document, else fuzzymap_N_documents;
    whose relations it holds after that when not everyone's (e.g. cod_gold.json)."""
    stem = docs[0].filename.rsplit(".", 1)[0] if len(docs) == 1 else f"fuzzymap_{len(docs)}_documents"
    if annotators:
        stem += "_" + "_".join(annotators)
    stem = _UNSAFE_NAME.sub("_", stem)[:MAX_STEM].strip("._") or "fuzzymap"  # no path, control or bidi chars
    return f"{stem}{EXPORT_FORMATS[fmt].suffix}"


def export_text(docs: list[ParsedDocument], fmt: str) -> str:
    """The documents written in one of EXPORT_FORMATS."""
    return EXPORT_FORMATS[fmt].writer(docs)
