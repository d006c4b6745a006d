"""Importing uploaded files into the store, one file at a time, all or nothing per file."""
from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from data.errors import InputError, without_paths

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UploadOutcome:
    """What happened to one uploaded file: a one-line message and the document ids it maps to."""

    name: str
    ok: bool
    message: str
    document_ids: tuple[int, ...] = ()


def import_uploads(store, files: Iterable[tuple[str, bytes]], annotator: str | None = None) -> list[UploadOutcome]:
    """Parse and import each (name, bytes); a bad file gets its InputError line and changes nothing.

    The same file uploaded again maps to the document already there (the store keys documents
    by content hash), and the message says "already imported" instead of adding a duplicate.
    Anything else that goes wrong is one line too (the traceback goes to the server's log):
    imports are all or nothing, so nothing was changed.
    """
    from data.ingest import read_document

    outcomes = []
    for name, content in files:
        try:
            docs = read_document(name, content)
            before = {d.id for d in store.list_documents()}
            ids = store.import_documents(docs, annotator=annotator)
        except InputError as exc:
            outcomes.append(UploadOutcome(name, False, without_paths(str(exc))))
            continue
        except Exception as exc:  # a bug must not show a traceback (with server paths) to users
            log.exception("import of %s failed", name)
            outcomes.append(UploadOutcome(name, False, f"{name}: could not be imported ({type(exc).__name__}); "
                                                       "nothing was changed"))
            continue
        new = [i for i in ids if i not in before]
        n_sent = sum(len(d.sentences) for d in docs)
        if not new:
            msg = f"{name}: already imported"
        else:
            msg = f"{name}: imported {len(new)} document(s), {n_sent} sentences"
            if len(new) < len(ids):
                msg += f" ({len(ids) - len(new)} already imported)"
        warnings = [w for d in docs for w in d.warnings]
        if warnings:
            msg += " — " + "; ".join(warnings)
        outcomes.append(UploadOutcome(name, True, msg, tuple(ids)))
    return outcomes
