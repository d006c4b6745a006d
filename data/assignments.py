"""Assignments: a reviewer gives documents, or ranges of their sentences, to annotators.

Why: a team splits a corpus so that no two people label the same sentence by accident, and lets
a chosen share overlap on purpose, because agreement can only be measured where two annotators
judged the same sentences. An assignment covers sentence positions first..last (0-based,
inclusive) of one document; splitting or merging sentences later moves positions, so a range is
"about these sentences", as the Label page numbers them. Changes go through the store's action
log like every other change.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select

from core.errors import InputError
from data.roles import Acting, check_reviews, name_of
from data.schema import AnnotatorT, AssignmentT, DocumentT, SentenceT
from data.store import Store
from data.store.log import _now
from data.validate import _name

DONE = ("labeled", "no-relation", "discarded")
"""Statuses that take a sentence off an annotator's queue."""


@dataclass(frozen=True)
class Assignment:
    id: int
    document_id: int
    annotator: str
    first: int
    last: int
    assigned_by: str | None

    @property
    def size(self) -> int:
        return self.last - self.first + 1


@dataclass(frozen=True)
class QueueItem:
    """One document on an annotator's queue, with their progress over the sentences assigned."""

    document_id: int
    title: str
    ranges: tuple[Assignment, ...]
    done: int
    total: int
    next_position: int | None
    """The first assigned sentence the annotator has not judged yet (None: all done)."""


def split_plan(n_sentences: int, annotators: Sequence[str], overlap: float = 0.0) -> list[tuple[str, int, int]]:
    """(annotator, first, last) ranges that split a document among annotators: the first
    round(overlap * n) sentences go to everyone (the shared part agreement is measured on), the
    rest in contiguous parts as equal as can be."""
    if not annotators:
        raise InputError("assign", "choose at least one annotator")
    if len(set(annotators)) != len(annotators):
        raise InputError("assign", "an annotator is named twice")
    if not 0.0 <= overlap <= 1.0:
        raise InputError("assign", f"overlap must be between 0 and 1, not {overlap}")
    shared = round(overlap * n_sentences) if len(annotators) > 1 else 0
    plan = [(who, 0, shared - 1) for who in annotators] if shared else []
    rest, k, start = n_sentences - shared, len(annotators), shared
    for i, who in enumerate(annotators):
        size = rest // k + (1 if i < rest % k else 0)
        if size:
            plan.append((who, start, start + size - 1))
        start += size
    return plan


def _row(a: AssignmentT) -> Assignment:
    return Assignment(a.id, a.document_id, a.annotator, a.first, a.last, a.assigned_by)


def assign(store: Store, document_id: int, ranges: Iterable[tuple[str, int, int]], by: Acting = None) -> list[int]:
    """Stores (annotator, first, last) ranges of a document, all or nothing; each range must lie
    within the document's sentences (positions from 0). A signed-in `by` must be a reviewer."""
    check_reviews(by, "assigning documents")
    by = name_of(by)
    ranges = list(ranges)
    with store.writing() as log:
        s = log.session
        if s.get(DocumentT, document_id) is None:
            raise InputError("assign", f"no document with id {document_id}")
        n = s.scalar(select(func.count()).select_from(SentenceT).where(SentenceT.document_id == document_id))
        rows = []
        for who, first, last in ranges:
            who = _name(who, "annotator", "assign")
            if not 0 <= first <= last < n:
                raise InputError("assign", f"sentences {first + 1}-{last + 1} are not within 1-{n}")
            store._ensure(s, AnnotatorT, who)
            rows.append(AssignmentT(document_id=document_id, annotator=who, first=first, last=last,
                                    assigned_by=by, created=_now()))
        log.add_all(rows)
        log.record("assign", by, f"assign document {document_id}: {len(rows)} range(s)")
        return [r.id for r in rows]


def unassign(store: Store, assignment_id: int, by: Acting = None) -> None:
    """Takes an assignment back (logged: undo restores it). A signed-in `by` must be a reviewer."""
    check_reviews(by, "assigning documents")
    by = name_of(by)
    with store.writing() as log:
        a = log.session.get(AssignmentT, assignment_id)
        if a is None:
            raise InputError("unassign", f"no assignment with id {assignment_id}")
        log.delete(a)
        log.record("unassign", by, f"unassign {a.annotator} from document {a.document_id}")


def assignments(store: Store, *, document_id: int | None = None, annotator: str | None = None) -> list[Assignment]:
    """Assignments, by document then position."""
    q = select(AssignmentT).order_by(AssignmentT.document_id, AssignmentT.first, AssignmentT.annotator)
    if document_id is not None:
        q = q.where(AssignmentT.document_id == document_id)
    if annotator is not None:
        q = q.where(AssignmentT.annotator == annotator)
    with store.reading() as s:
        return [_row(a) for a in s.scalars(q)]


def describe_ranges(items: Iterable[Assignment]) -> str:
    """'sentences 1-40, 81-120' as the Label page numbers them (from 1)."""
    parts = [f"{a.first + 1}" if a.first == a.last else f"{a.first + 1}–{a.last + 1}"
             for a in sorted(items, key=lambda a: a.first)]
    return "sentences " + ", ".join(parts)


def assigned_positions(items: Iterable[Assignment]) -> set[int]:
    return {p for a in items for p in range(a.first, a.last + 1)}


def queue(store: Store, annotator: str) -> list[QueueItem]:
    """The annotator's assigned documents, in order, each with their progress over the sentences
    assigned to them (several ranges of one document count once)."""
    mine = assignments(store, annotator=annotator)
    titles = {d.id: d.title or d.filename for d in store.list_documents()}
    out = []
    for doc in dict.fromkeys(a.document_id for a in mine):
        ranges = [a for a in mine if a.document_id == doc]
        wanted = assigned_positions(ranges)
        sents = [s for s in store.sentences(doc, annotator) if s.index in wanted]
        todo = [s.index for s in sents if s.status not in DONE]
        out.append(QueueItem(doc, titles.get(doc, str(doc)), tuple(ranges), len(sents) - len(todo), len(sents),
                             min(todo) if todo else None))
    return out


def overlap_sentences(store: Store, annotator_a: str, annotator_b: str, document_ids: Iterable[int]) -> set[int]:
    """Ids of the sentences assigned to both annotators (empty where neither was assigned)."""
    out: set[int] = set()
    for doc in document_ids:
        both = (assigned_positions(assignments(store, document_id=doc, annotator=who))
                for who in (annotator_a, annotator_b))
        shared = set.intersection(*both)
        out |= {s.id for s in store.sentences(doc) if s.index in shared}
    return out
