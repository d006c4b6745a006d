"""Whose labels an imported file carries, and the owner they get when nobody is named.

Labels a file carries (TwoSix relations and its "no relation" passages, JSONL relations without
an annotator) belong to whoever made them, not to whoever imports the file: each file's labels
get an owner, by default `imported:<file name>`, so they never count as the signed-in
annotator's work. One rule for the Home page's upload (workspace.uploads) and `python -m
data.store import`.
"""
from __future__ import annotations

from collections.abc import Iterable

from core.types import MARKS, ParsedDocument
from data.schema import NAME_LEN

OWNER_PREFIX = "imported:"


def unowned_relations(docs: Iterable[ParsedDocument]) -> int:
    """Human relations that name no annotator."""
    return sum(r.annotator is None and r.origin == "human" for d in docs for s in d.sentences for r in s.relations)


def unowned_marks(docs: Iterable[ParsedDocument]) -> int:
    """Sentences marked "no relation" or "discarded" (a file's mark names no annotator)."""
    return sum(s.status in MARKS for d in docs for s in d.sentences)


def carries_labels(docs: Iterable[ParsedDocument]) -> bool:
    """Whether importing these documents needs to know whose labels they are."""
    docs = list(docs)
    return bool(unowned_relations(docs) or unowned_marks(docs))


def default_owner(file_name: str) -> str:
    """The annotator a file's labels go to unless someone names another: `imported:<file name>`."""
    return (OWNER_PREFIX + file_name.strip())[:NAME_LEN]
