"""Importing uploaded files into the store, one file at a time, all or nothing per file.

A file's labels get an owner (data.owners: by default `imported:<file name>`), so they never
count as the uploading annotator's work.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from core.errors import InputError, without_paths
from core.types import ParsedDocument
from data.owners import carries_labels, default_owner, unowned_marks, unowned_relations

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UploadOutcome:
    """What happened to one uploaded file: a one-line message and the document ids it maps to."""

    name: str
    ok: bool
    message: str
    document_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class ParsedUpload:
    """One uploaded file read (not yet imported): its documents, or the line saying why not."""

    name: str
    docs: tuple[ParsedDocument, ...] = ()
    error: str | None = None

    @property
    def unowned_relations(self) -> int:
        return unowned_relations(self.docs)

    @property
    def unowned_marks(self) -> int:
        return unowned_marks(self.docs)

    @property
    def carries_labels(self) -> bool:
        return carries_labels(self.docs)


def parse_uploads(files: Iterable[tuple[str, bytes]]) -> list[ParsedUpload]:
    """Read each (name, bytes); a file that cannot be read keeps its one-line InputError."""
    from data.ingest import read_document

    out = []
    for name, content in files:
        try:
            out.append(ParsedUpload(name, tuple(read_document(name, content))))
        except InputError as exc:
            out.append(ParsedUpload(name, error=without_paths(str(exc))))
        except Exception as exc:  # a bug must not show a traceback (with server paths) to users
            log.exception("reading %s failed", name)
            out.append(ParsedUpload(name, error=f"{name}: could not be read ({type(exc).__name__}); nothing was changed"))
    return out


def import_parsed(store, uploads: Sequence[ParsedUpload], *,
                  owners: Sequence[str | None] | None = None) -> list[UploadOutcome]:
    """Import each read file; its labels go to its entry of `owners` (blank or None: the default
    owner). The same file uploaded again maps to the document already there (the store keys
    documents by content hash), and the message says nothing was added instead of adding a copy."""
    outcomes = []
    for k, up in enumerate(uploads):
        if up.error is not None:
            outcomes.append(UploadOutcome(up.name, False, up.error))
            continue
        owner = ((owners[k] if owners is not None else None) or "").strip() or default_owner(up.name)
        before = {d.id for d in store.list_documents()}
        try:
            ids = store.import_documents(list(up.docs), annotator=owner if up.carries_labels else None)
        except InputError as exc:
            outcomes.append(UploadOutcome(up.name, False, without_paths(str(exc))))
            continue
        except Exception as exc:  # a bug must not show a traceback (with server paths) to users
            log.exception("import of %s failed", up.name)
            outcomes.append(UploadOutcome(up.name, False, f"{up.name}: could not be imported ({type(exc).__name__}); "
                                                          "nothing was changed"))
            continue
        new = [i for i in ids if i not in before]
        n_sent = sum(len(d.sentences) for d in up.docs)
        if not new:
            msg = f"{up.name}: already imported (document {', '.join(map(str, ids))}), nothing added"
        else:
            msg = f"{up.name}: imported {len(new)} document(s), {n_sent} sentences"
            if up.carries_labels:
                msg += f", labels under {owner}"
            if len(new) < len(ids):
                msg += f" ({len(ids) - len(new)} already imported)"
        warnings = [w for d in up.docs for w in d.warnings]
        if warnings:
            msg += " — " + "; ".join(warnings)
        outcomes.append(UploadOutcome(up.name, True, msg, tuple(ids)))
    return outcomes


def import_uploads(store, files: Iterable[tuple[str, bytes]], *,
                   owners: Sequence[str | None] | None = None) -> list[UploadOutcome]:
    """parse_uploads then import_parsed: each file all or nothing, a bad one named in one line."""
    return import_parsed(store, parse_uploads(files), owners=owners)
