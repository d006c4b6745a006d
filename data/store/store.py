"""The annotation store: documents, sentences, relations, suggestions, concepts, and an action log.

Every mutating call is its own committed transaction, so a page reload, a second tab or a restart
loses nothing. Every change is written to the `actions` table as (table, id, before row, after row);
that log is the audit trail and powers undo, so nothing an annotator does is ever lost — undo
itself is logged too. SQLite by default (WAL, busy timeout, write transactions taken with
BEGIN IMMEDIATE so concurrent writers queue instead of failing, after a lock-file queue that
wakes them in turn, see _WriterGate); any SQLAlchemy URL works.
"""
from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone

from sqlalchemy import ColumnElement, delete, insert, or_, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session

from core.errors import InputError
from core.spans import find_span
from core.types import (
    MARKS,
    STATUSES,
    SUGGESTION_STATES,
    Evidence,
    Mark,
    ParsedDocument,
    ParsedSentence,
    PassageRelation,
    PassageSuggestion,
    Span,
)
from data.roles import Acting, check_may_change, check_reviews, name_of
from data.schema import (
    NAME_LEN,
    ActionT,
    AnnotatorT,
    AssignmentT,
    Base,
    ConceptT,
    DocumentFileT,
    DocumentT,
    ExtractRunT,
    RelationT,
    SentenceBoxesT,
    SentenceStatusT,
    SentenceT,
    SuggestionT,
    upgrade,
)
from data.store.engine import _make_engine, _WriterGate, resolve_url
from data.store.log import ChangeLog, _now
from data.store.rows import (
    RELATION_FIELDS,
    ActionRow,
    DocumentInfo,
    ExtractRunRow,
    RelationRow,
    SentenceRow,
    SuggestionRow,
)
from data.validate import _name, check_document, check_relation

_PRECEDENCE = ("labeled", "discarded", "no-relation")
"""When several statuses apply (all annotators together), the first found wins: a relation beats
any mark, and "discarded" beats "no-relation" so a sentence someone found unusable is not used as a
negative example."""
IMPORT_BATCH = 2000
"""Sentences written per transaction by import_documents: the write lock is held ~0.1 s at a time."""
PENDING_STALE_S = 300
"""A pending document whose import wrote nothing for this long was left by a killed process (a
batch takes well under a second; waiting for the write lock, at most the 60 s busy timeout)."""
_MODELS: dict[str, type[Base]] = {
    m.__tablename__: m
    for m in (DocumentT, SentenceT, SentenceStatusT, RelationT, SuggestionT, ConceptT, AnnotatorT, AssignmentT)
}


def _span(start: int | None, end: int | None) -> Span | None:
    return None if start is None or end is None else (start, end)


def _directions(extra: dict | None) -> dict[str, str]:
    """direction_src / direction_tgt of a model relation's extra (see models.classifier.relations_from)."""
    return {k: v for k, v in (extra or {}).items()
            if k in ("direction_src", "direction_tgt") and v in ("increase", "decrease")}


def _span_columns(src: Span | None, tgt: Span | None) -> dict[str, int | None]:
    return {"src_start": src[0] if src else None, "src_end": src[1] if src else None,
            "tgt_start": tgt[0] if tgt else None, "tgt_end": tgt[1] if tgt else None}


def _statuses(s: Session, where: ColumnElement[bool], annotator: str | None) -> dict[int, str]:
    """sentence id -> status as `annotator` sees it, for the sentences `where` selects: "labeled"
    where they have a human relation, else their own mark, else "unseen". None: all annotators
    together, and the status no annotator is known for (`sentences.status`), see _PRECEDENCE.
    Tolerant of a sentence added between its queries (PostgreSQL reads each at its own snapshot):
    use .get(id, "unseen")."""
    found: dict[int, set[str]] = {}
    for sid, legacy in s.execute(select(SentenceT.id, SentenceT.status).where(where)):
        found[sid] = {legacy} if annotator is None else set()
    marks = (select(SentenceStatusT.sentence_id, SentenceStatusT.status)
             .join(SentenceT, SentenceT.id == SentenceStatusT.sentence_id).where(where))
    labeled = (select(RelationT.sentence_id).join(SentenceT, SentenceT.id == RelationT.sentence_id)
               .where(where, RelationT.origin == "human").distinct())
    if annotator is not None:
        marks = (marks.join(AnnotatorT, AnnotatorT.id == SentenceStatusT.annotator_id)
                 .where(AnnotatorT.name == annotator))
        labeled = labeled.where(RelationT.annotator == annotator)
    for sid, status in s.execute(marks):
        found.setdefault(sid, set()).add(status)
    for sid in s.scalars(labeled):
        found.setdefault(sid, set()).add("labeled")
    return {sid: next((st for st in _PRECEDENCE if st in sts), "unseen") for sid, sts in found.items()}


def _joint_statuses(s: Session, where: ColumnElement[bool], annotators: list[str]) -> dict[int, str]:
    """sentence id -> status as these annotators together see it (see _PRECEDENCE)."""
    found: dict[int, set[str]] = {}
    for who in annotators:
        for sid, status in _statuses(s, where, who).items():
            found.setdefault(sid, set()).add(status)
    return {sid: next((st for st in _PRECEDENCE if st in sts), "unseen") for sid, sts in found.items()}


class Store:
    """The project's one database; open it with a URL or path (see resolve_url)."""

    def __init__(self, url: str | None = None):
        self.url = resolve_url(url)
        self._engine = _make_engine(self.url)
        self._gate = _WriterGate(self.url)
        self._writer = self._engine.execution_options(fuzzymap_write=True)
        with self._writer.begin() as conn:
            upgrade(conn)
            stale = datetime.fromtimestamp(datetime.now(timezone.utc).timestamp() - PENDING_STALE_S, timezone.utc)
            stamp = stale.isoformat(timespec="seconds").replace("+00:00", "Z")
            conn.execute(delete(DocumentT).where(DocumentT.pending.is_not(None), DocumentT.pending <= stamp))

    def close(self) -> None:
        self._engine.dispose()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session to read with (every write goes through writing()): for the data modules that
        keep their own tables in this database (accounts, assignments, model runs, settings) as well
        as for the store itself."""
        with Session(self._engine) as s:
            yield s

    @contextmanager
    def writing(self) -> Iterator[ChangeLog]:
        """One transaction, serialised with every other writer; each change goes through the
        ChangeLog so it lands in the audit trail with the rest."""
        with self._gate, Session(self._writer, expire_on_commit=False) as s, s.begin():
            yield ChangeLog(s)

    @staticmethod
    def _get(s: Session, model: type[Base], id_: int) -> Base:
        obj = s.get(model, id_)
        if obj is None:
            raise KeyError(f"no {model.__tablename__[:-1]} with id {id_}")
        return obj

    # ---------------------------------------------------------------- names
    @staticmethod
    def _ensure(s: Session, model: type[AnnotatorT] | type[ConceptT], name: str) -> None:
        """Adds a name if missing. Not logged: the lexicon and annotator list only grow."""
        if s.scalar(select(model.id).where(model.name == name)) is not None:
            return
        try:
            with s.begin_nested():
                s.add(model(name=name, created=_now()))
        except IntegrityError:  # another writer added it first (PostgreSQL)
            pass

    def ensure_annotator(self, name: str) -> None:
        name = _name(name, "annotator name", "annotator")
        with self.writing() as log:
            self._ensure(log.session, AnnotatorT, name)

    def _annotator_id(self, s: Session, name: str) -> int:
        self._ensure(s, AnnotatorT, name)
        return s.scalar(select(AnnotatorT.id).where(AnnotatorT.name == name))

    def annotators(self) -> list[str]:
        with self.reading() as s:
            return sorted(s.scalars(select(AnnotatorT.name)), key=str.casefold)

    # ---------------------------------------------------------------- documents
    def import_documents(self, docs: list[ParsedDocument], annotator: str | None = None,
                         owners: list[str | None] | None = None) -> list[int]:
        """Imports documents all or nothing: one bad document means nothing is imported.

        A document whose sha256 is already stored returns the stored id and adds nothing. Human
        relations without an annotator get `annotator` (or the document's own entry of `owners`,
        one per document), and so do the sentences' "no-relation" / "discarded" statuses (e.g. a
        TwoSix passage without relations: read, none found); without an annotator those stay a
        status no annotator is known for. JSONL marks keep their own annotators. Imports are
        logged but not undoable (delete instead).

        Written in batches so that other writers are not held up by a large file: a first short
        transaction adds each new document marked pending, then each IMPORT_BATCH sentences (with
        their marks, relations and suggestions) are one transaction, and a last one clears the
        mark of every new document together and writes the log entry. Every read leaves pending
        documents out, so readers and writers see all the documents of an import or none, never
        part of one. A failed import deletes its pending documents; a killed one leaves them
        invisible until a Store opened PENDING_STALE_S later, or an import of the same file
        then, deletes them. The log entry holds the document rows, which reference their
        sentences, not copies of every row.
        """
        if owners is not None and len(owners) != len(docs):
            raise InputError("import", f"{len(owners)} owners for {len(docs)} documents")
        owned = [_name(who, "annotator", "import") if who else None
                 for who in (owners if owners is not None else [annotator] * len(docs))]
        annotator = _name(annotator, "annotator", "import") if annotator else None
        for doc in docs:
            check_document(doc)
        ids: list[int] = []
        new: dict[int, ParsedDocument] = {}
        owner_of: dict[int, str | None] = {}
        with self.writing() as log:
            s = log.session
            known: dict[str, int] = {}
            for doc, owner in zip(docs, owned):
                found = known.get(doc.sha256) or self._stored_document(s, doc)
                if found is None:
                    found = self._new_document(s, doc, pending=True)
                    new[found] = doc
                    owner_of[found] = owner
                known[doc.sha256] = found
                ids.append(found)
        if not new:
            return ids
        try:
            for doc_id, doc in new.items():
                for start in range(0, len(doc.sentences), IMPORT_BATCH):
                    with self.writing() as log:
                        self._add_sentences(log.session, doc_id, doc, start, owner_of[doc_id])
                        log.session.execute(update(DocumentT).where(DocumentT.id == doc_id).values(pending=_now()))
            with self.writing() as log:
                rows = log.session.scalars(select(DocumentT).where(DocumentT.id.in_(list(new)))).all()
                if len(rows) != len(new):
                    raise InputError("import", "a pending document was removed before its import finished")
                for d in rows:
                    log.update(d, pending=None)
                n_sent = sum(len(d.sentences) for d in new.values())
                n_rel = sum(len(x.relations) for d in new.values() for x in d.sentences)
                names = ", ".join(d.filename for d in docs)
                log.record("import", annotator, f"import {names} ({n_sent} sentences, {n_rel} relations)",
                           undoable=False)
        except BaseException:
            with self.writing() as log:
                log.session.execute(delete(DocumentT).where(DocumentT.id.in_(list(new))))
            raise
        return ids

    @staticmethod
    def _new_document(s: Session, doc: ParsedDocument, pending: bool) -> int:
        """A documents row for doc (its sentences come after, see _add_sentences); a pending one
        stays invisible to every read until its import clears the mark."""
        d = DocumentT(
            filename=doc.filename, sha256=doc.sha256, format=doc.format or "", title=doc.title,
            authors=doc.authors, year=None if doc.year is None else str(doc.year),
            year_is_int=isinstance(doc.year, int), created=_now(), pending=_now() if pending else None)
        s.add(d)
        s.flush()
        return d.id

    @staticmethod
    def _stored_document(s: Session, doc: ParsedDocument) -> int | None:
        """The id of a stored document with doc's sha256; a pending one is another import still
        running (refused), or one a killed process left (deleted, so this import takes over)."""
        d = s.scalars(select(DocumentT).where(DocumentT.sha256 == doc.sha256)).first()
        if d is None or d.pending is None:
            return None if d is None else d.id
        age = datetime.now(timezone.utc) - datetime.fromisoformat(d.pending.replace("Z", "+00:00"))
        if age.total_seconds() < PENDING_STALE_S:
            raise InputError(doc.filename, "is being imported by another import right now; try again when it ends")
        s.execute(delete(DocumentT).where(DocumentT.id == d.id))
        return None

    def _add_sentences(self, s: Session, doc_id: int, doc: ParsedDocument, start: int, annotator: str | None) -> None:
        """One batch of a document's sentences with their marks, relations and suggestions."""
        chunk = doc.sentences[start:start + IMPORT_BATCH]
        rows = [
            dict(document_id=doc_id, position=start + i, text=ps.text, page=ps.page, start_char=ps.start,
                 end_char=ps.end, is_reference=bool(ps.is_reference), status=self._shared_status(ps, annotator),
                 llm=None if ps.llm is None else json.dumps(ps.llm))
            for i, ps in enumerate(chunk)
        ]
        table = SentenceT.__table__
        sids = s.connection().execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows).scalars().all()
        if start == 0 and doc.pdf is not None:
            s.add(DocumentFileT(document_id=doc_id, content=doc.pdf))
        boxes = [dict(sentence_id=sid, boxes=json.dumps(ps.boxes)) for sid, ps in zip(sids, chunk) if ps.boxes]
        if boxes:
            s.connection().execute(insert(SentenceBoxesT.__table__), boxes)
        who: dict[str, int] = {}
        now = _now()
        marks = []
        for sid, ps in zip(sids, chunk):
            for name, status, updated in self._named_marks(ps, annotator):
                if name not in who:
                    who[name] = self._annotator_id(s, name)
                marks.append(dict(sentence_id=sid, annotator_id=who[name], status=status, updated=updated or now))
        if marks:
            s.connection().execute(insert(SentenceStatusT.__table__), marks)
        for i, (sid, ps) in enumerate(zip(sids, chunk), start + 1):
            if not ps.relations and not ps.suggestions:
                continue
            sent = s.get(SentenceT, sid)
            where = f"{doc.filename}: sentence {i}"
            rels = [self._relation(s, sent, rel, rel.annotator or (annotator if rel.origin == "human" else None), where)
                    for rel in ps.relations]
            s.add_all(rels)
            s.flush()
            for sug in ps.suggestions:
                src, tgt, src_span, tgt_span = self._pair(sent, PassageRelation(
                    src=sug.src, tgt=sug.tgt, sign=sug.sign, src_span=sug.src_span, tgt_span=sug.tgt_span), where)
                s.add(SuggestionT(
                    sentence_id=sid, source=src, target=tgt, sign=sug.sign, **_span_columns(src_span, tgt_span),
                    model_id=sug.model_id, score=float(sug.score), state=sug.state, decided_by=sug.decided_by,
                    relation_id=None if sug.relation is None else rels[sug.relation].id,
                    created_at=sug.created_at or now))
        s.flush()

    @staticmethod
    def _shared_status(ps: ParsedSentence, annotator: str | None) -> str:
        """sentences.status for an imported sentence: the status no annotator is known for, which
        an importing annotator takes as their own mark (see _named_marks)."""
        status = ps.status if ps.marks is None else next((m.status for m in ps.marks if m.annotator is None), "unseen")
        return "unseen" if annotator and status in MARKS else status

    @staticmethod
    def _named_marks(ps: ParsedSentence, annotator: str | None) -> list[tuple[str, str, str | None]]:
        """(annotator, status, updated) marks to store for an imported sentence."""
        marks = [Mark(None, ps.status)] if ps.marks is None else ps.marks
        out: dict[str, tuple[str, str, str | None]] = {}
        for m in marks:  # a file's own mark for the importing annotator wins over an unnamed one
            name = m.annotator or annotator
            if name and m.status in MARKS and (name not in out or m.annotator is not None):
                out[name] = (name, m.status, m.updated)
        return list(out.values())

    def list_documents(self, annotator: str | None = None) -> list[DocumentInfo]:
        """Documents with their sentence counts by status as `annotator` sees them (see sentences)."""
        with self.reading() as s:
            counts: dict[int, dict[str, int]] = {}
            statuses = _statuses(s, true(), annotator)
            for sid, doc_id in s.execute(select(SentenceT.id, SentenceT.document_id)):
                status, by_status = statuses.get(sid, "unseen"), counts.setdefault(doc_id, {})
                by_status[status] = by_status.get(status, 0) + 1
            out = []
            for d in s.scalars(select(DocumentT).where(DocumentT.pending.is_(None)).order_by(DocumentT.id)):
                c = counts.get(d.id, {})
                out.append(DocumentInfo(
                    id=d.id, title=d.title, authors=d.authors, year=d.year, filename=d.filename,
                    format=d.format, n_sentences=sum(c.values()), n_labeled=c.get("labeled", 0),
                    n_no_relation=c.get("no-relation", 0), n_discarded=c.get("discarded", 0),
                ))
            return out

    def update_document(self, document_id: int, *, title: str | None = None, authors: str | None = None,
                        year: int | str | None = None, annotator: str | None = None) -> None:
        """Changes the given metadata fields (None = leave as is)."""
        with self.writing() as log:
            d = self._get(log.session, DocumentT, document_id)
            values: dict = {}
            if title is not None:
                values["title"] = title
            if authors is not None:
                values["authors"] = authors
            if year is not None:
                values.update(year=str(year), year_is_int=isinstance(year, int))
            log.update(d, **values)
            log.record("update_document", annotator, f"edit metadata of {d.filename}")

    def delete_document(self, document_id: int, annotator: str | None = None) -> None:
        """Deletes a document with its sentences and relations; logged row by row, so undo restores it."""
        with self.writing() as log:
            d = self._get(log.session, DocumentT, document_id)
            log.delete(d)
            log.record("delete_document", annotator, f"delete {d.filename}")

    # ---------------------------------------------------------------- sentences
    @staticmethod
    def _sentence_row(x: SentenceT, status: str) -> SentenceRow:
        return SentenceRow(
            id=x.id, document_id=x.document_id, index=x.position, text=x.text, page=x.page,
            status=status, is_reference=bool(x.is_reference), llm=None if x.llm is None else json.loads(x.llm),
        )

    def sentences(self, document_id: int, annotator: str | None = None) -> list[SentenceRow]:
        """A document's sentences in order, each status as `annotator` sees it: "labeled" where they
        have a human relation, their own "no-relation" / "discarded" mark, else "unseen". Without an
        annotator: everyone's together (a relation by anyone, else any mark, see _PRECEDENCE)."""
        where = SentenceT.document_id == document_id
        with self.reading() as s:
            statuses = _statuses(s, where, annotator)
            q = select(SentenceT).where(where).order_by(SentenceT.position, SentenceT.id)
            return [self._sentence_row(x, statuses.get(x.id, "unseen")) for x in s.scalars(q)]

    def sentence_boxes(self, sentence_id: int) -> list[list[float]]:
        """Where a PDF sentence is drawn: [page, x0, top, x1, bottom] in page fractions; [] when
        unknown (not a PDF, imported before boxes were kept, or made by a split or merge)."""
        with self.reading() as s:
            found = s.get(SentenceBoxesT, sentence_id)
            return json.loads(found.boxes) if found else []

    def document_pdf(self, document_id: int) -> bytes | None:
        """The PDF a document was imported from, if it was one and was kept."""
        with self.reading() as s:
            found = s.get(DocumentFileT, document_id)
            return found.content if found else None

    def sentence(self, sentence_id: int, annotator: str | None = None) -> SentenceRow:
        with self.reading() as s:
            x = self._get(s, SentenceT, sentence_id)
            return self._sentence_row(x, _statuses(s, SentenceT.id == sentence_id, annotator).get(x.id, "unseen"))

    def set_status(self, sentence_id: int, status: str, annotator: str | None = None) -> None:
        """`annotator` marks a sentence "no-relation" or "discarded", or takes their mark back
        ("unseen"); no one else's status changes. "labeled" is not set by hand: it is having a
        relation there. Without an annotator only "unseen" is accepted: it clears the status no
        annotator is known for (a version-2 or anonymously imported mark)."""
        if status not in STATUSES:
            raise InputError("status", f"{status!r} is not one of {', '.join(STATUSES)}")
        if status == "labeled":
            raise InputError("status", "'labeled' comes from saving a relation, it is not set by hand")
        if not annotator and status != "unseen":
            raise InputError("status", f"marking a sentence {status} needs an annotator")
        with self.writing() as log:
            s = log.session
            sent = self._get(s, SentenceT, sentence_id)
            if annotator:
                self._mark(log, sent.id, self._annotator_id(s, _name(annotator, "annotator", "status")), status)
            else:
                log.update(sent, status=status)
            log.record("set_status", annotator, f"mark sentence {sent.position + 1} {status}")

    @staticmethod
    def _mark(log: ChangeLog, sentence_id: int, annotator_id: int, status: str) -> None:
        """Sets one annotator's mark on a sentence ("unseen": none), logged for undo."""
        row = log.session.scalars(select(SentenceStatusT).where(
            SentenceStatusT.sentence_id == sentence_id, SentenceStatusT.annotator_id == annotator_id)).first()
        if status not in MARKS:
            if row is not None:
                log.delete(row)
        elif row is None:
            log.add(SentenceStatusT(sentence_id=sentence_id, annotator_id=annotator_id, status=status, updated=_now()))
        elif row.status != status:
            log.update(row, status=status, updated=_now())

    @staticmethod
    def _marks(s: Session, sentence_id: int) -> dict[int, str]:
        """annotator id -> their mark on a sentence."""
        q = (select(SentenceStatusT.annotator_id, SentenceStatusT.status)
             .where(SentenceStatusT.sentence_id == sentence_id))
        return dict(s.execute(q).all())

    def _unmark_no_relation(self, log: ChangeLog, sentence_id: int, annotator: str | None) -> None:
        """A human relation makes the sentence "labeled" for its annotator, so their "no-relation"
        mark goes (logged: undoing the relation brings it back)."""
        if annotator is None:
            return
        q = (select(SentenceStatusT).join(AnnotatorT, AnnotatorT.id == SentenceStatusT.annotator_id)
             .where(SentenceStatusT.sentence_id == sentence_id, AnnotatorT.name == annotator,
                    SentenceStatusT.status == "no-relation"))
        for row in log.session.scalars(q).all():
            log.delete(row)

    def edit_sentence(self, sentence_id: int, text: str, annotator: str | None = None) -> None:
        """Replaces a sentence's text (e.g. a PDF extraction error); relations and suggestions stay,
        their spans re-found in the new text (None where the concept no longer occurs)."""
        if not isinstance(text, str) or not text.strip():
            raise InputError("sentence", "text must not be empty")
        with self.writing() as log:
            s = log.session
            sent = self._get(s, SentenceT, sentence_id)
            old = sent.text
            for model in (RelationT, SuggestionT):
                for r in s.scalars(select(model).where(model.sentence_id == sentence_id)):
                    log.update(r, **self._relocated(r, old, text, 0))
            log.update(sent, text=text)
            log.record("edit_sentence", annotator, f"edit sentence {sent.position + 1}")

    @staticmethod
    def _relocated(r: RelationT | SuggestionT, old: str, new: str, shift: int) -> dict:
        """Span columns of `r` after its sentence text `old` became `new` (old offset o -> o - shift)."""
        out: dict = {}
        for name, start, end in (("source", "src_start", "src_end"), ("target", "tgt_start", "tgt_end")):
            s0, e0 = getattr(r, start), getattr(r, end)
            span = None
            if s0 is not None and e0 is not None:
                span = find_span(new, old[s0:e0], near=s0 - shift)
            span = span or find_span(new, getattr(r, name), near=None if s0 is None else s0 - shift)
            out[start], out[end] = span if span else (None, None)
        return out

    def _shift_positions(self, log: ChangeLog, document_id: int, after: int, delta: int) -> None:
        q = select(SentenceT).where(SentenceT.document_id == document_id, SentenceT.position > after)
        for x in log.session.scalars(q):
            log.update(x, position=x.position + delta)

    def split_sentence(self, sentence_id: int, at: int, annotator: str | None = None) -> tuple[int, int]:
        """Splits a sentence the segmenter merged wrongly at character `at`. Relations go with the
        part that holds both their concepts (first part when unsure)."""
        with self.writing() as log:
            s = log.session
            sent = self._get(s, SentenceT, sentence_id)
            text = sent.text
            left, right = text[:at].rstrip(), text[at:].lstrip()
            if not 0 < at < len(text) or not left or not right:
                raise InputError("sentence", f"cannot split at {at}: both parts must hold text")
            offset = len(text) - len(right)
            self._shift_positions(log, sent.document_id, sent.position, +1)
            second = log.add(SentenceT(
                document_id=sent.document_id, position=sent.position + 1, text=right, page=sent.page,
                start_char=sent.start_char + offset, end_char=sent.end_char, is_reference=sent.is_reference,
                status=sent.status, llm=None,
            ))
            now = _now()  # both parts were read: each annotator's mark goes to both
            log.add_all([SentenceStatusT(sentence_id=second.id, annotator_id=who, status=status, updated=now)
                         for who, status in self._marks(s, sent.id).items()])
            for model in (RelationT, SuggestionT):
                for r in s.scalars(select(model).where(model.sentence_id == sentence_id)):
                    in_left = self._relocated(r, text, left, 0)
                    in_right = self._relocated(r, text, right, offset)
                    was_right = None not in (r.src_start, r.tgt_start) and min(r.src_start, r.tgt_start) >= offset
                    if was_right or (None in in_left.values() and None not in in_right.values()):
                        log.update(r, sentence_id=second.id, **in_right)
                    else:
                        log.update(r, **in_left)
            log.update(sent, text=left, end_char=sent.start_char + len(left))
            log.record("split_sentence", annotator, f"split sentence {sent.position + 1}")
            return sent.id, second.id

    def merge_sentences(self, first_id: int, second_id: int, annotator: str | None = None) -> int:
        """Joins two sentences of a document the segmenter split wrongly; returns the kept id."""
        with self.writing() as log:
            s = log.session
            first = self._get(s, SentenceT, first_id)
            second = self._get(s, SentenceT, second_id)
            if first.id == second.id or first.document_id != second.document_id:
                raise InputError("sentence", "can only merge two different sentences of one document")
            shift = len(first.text) + 1
            for model in (RelationT, SuggestionT):
                for r in s.scalars(select(model).where(model.sentence_id == second.id)):
                    spans = {k: None if getattr(r, k) is None else getattr(r, k) + shift
                             for k in ("src_start", "src_end", "tgt_start", "tgt_end")}
                    log.update(r, sentence_id=first.id, **spans)
            rank = {"labeled": 0, "unseen": 1, "no-relation": 2, "discarded": 3}
            mine, theirs = self._marks(s, first.id), self._marks(s, second.id)
            for who in mine.keys() | theirs.keys():  # per annotator, as for the shared status below
                self._mark(log, first.id, who, min(mine.get(who, "unseen"), theirs.get(who, "unseen"), key=rank.get))
            log.update(
                first, text=f"{first.text} {second.text}", status=min(first.status, second.status, key=rank.get),
                start_char=min(first.start_char, second.start_char), end_char=max(first.end_char, second.end_char),
                llm=first.llm or second.llm,
            )
            position = second.position
            log.delete(second)
            self._shift_positions(log, first.document_id, position, -1)
            log.record("merge_sentences", annotator, f"merge sentences {first.position + 1} and {position + 1}")
            return first.id

    # ---------------------------------------------------------------- relations
    def _relation(self, s: Session, sent: SentenceT, rel: PassageRelation, annotator: str | None,
                  where: str) -> RelationT:
        """A validated new relation row (not yet added); spans found in the text where not given."""
        src, tgt, src_span, tgt_span = self._pair(sent, rel, where)
        if annotator is not None:
            annotator = _name(annotator, "annotator", where)
            self._ensure(s, AnnotatorT, annotator)
        now = _now()
        return RelationT(
            sentence_id=sent.id, source=src, target=tgt, **_span_columns(src_span, tgt_span), sign=rel.sign,
            strength=rel.strength,
            annotator=annotator, origin=rel.origin, model_id=rel.model_id,
            score=None if rel.score is None else float(rel.score), note=rel.note,
            extra=None if rel.extra is None else json.dumps(rel.extra),
            created_at=rel.created_at or now, updated_at=rel.updated_at or rel.created_at or now,
        )

    def _pair(self, sent: SentenceT, rel: PassageRelation, name: str) -> tuple[str, str, Span | None, Span | None]:
        """check_relation, and the two concept names added to the lexicon."""
        src, tgt, src_span, tgt_span = check_relation(rel, sent.text, name)
        for concept in (src, tgt):
            if len(concept) <= NAME_LEN:
                self._ensure(object_session(sent), ConceptT, concept)
        return src, tgt, src_span, tgt_span

    def add_relation(self, sentence_id: int, rel: PassageRelation) -> int:
        """Stores a relation; a human label makes the sentence "labeled" for its annotator."""
        with self.writing() as log:
            sent = self._get(log.session, SentenceT, sentence_id)
            r = log.add(self._relation(log.session, sent, rel, rel.annotator, f"sentence {sentence_id}"))
            if rel.origin == "human":
                self._unmark_no_relation(log, sent.id, r.annotator)
            log.record("add_relation", rel.annotator, f"add {r.source} -> {r.target}")
            return r.id

    def update_relation(self, relation_id: int, **fields) -> None:
        """Changes source/target/source_span/target_span/sign/strength/note. A new source or target
        without a span gets its span re-found. `annotator=` names who edited (default: its annotator);
        a signed-in Actor may edit only what their role allows."""
        actor = fields.pop("annotator", None)
        unknown = set(fields) - set(RELATION_FIELDS)
        if unknown:
            raise InputError("relation", f"cannot update {', '.join(sorted(unknown))}")
        with self.writing() as log:
            s = log.session
            r = self._get(s, RelationT, relation_id)
            check_may_change(actor, r.annotator, f"relation {relation_id}")
            sent = self._get(s, SentenceT, r.sentence_id)
            current = self._passage_relation(r)
            changed = PassageRelation(
                src=fields.get("source", current.src), tgt=fields.get("target", current.tgt),
                sign=fields.get("sign", current.sign), strength=fields.get("strength", current.strength),
                note=fields.get("note", current.note), origin=current.origin,
                src_span=fields.get("source_span", None if "source" in fields else current.src_span),
                tgt_span=fields.get("target_span", None if "target" in fields else current.tgt_span),
            )
            src, tgt, src_span, tgt_span = self._pair(sent, changed, f"relation {relation_id}")
            log.update(
                r, source=src, target=tgt, sign=changed.sign, strength=changed.strength, note=changed.note,
                **_span_columns(src_span, tgt_span),
            )
            if log.changes:
                log.update(r, updated_at=_now())
            log.record("update_relation", name_of(actor) or r.annotator, f"edit {r.source} -> {r.target}")

    def swap_relation(self, relation_id: int, annotator: Acting = None) -> None:
        """Reverses a relation's direction (source <-> target, spans too)."""
        with self.writing() as log:
            r = self._get(log.session, RelationT, relation_id)
            check_may_change(annotator, r.annotator, f"relation {relation_id}")
            log.update(
                r, source=r.target, target=r.source, src_start=r.tgt_start, src_end=r.tgt_end,
                tgt_start=r.src_start, tgt_end=r.src_end, updated_at=_now(),
            )
            log.record("swap_relation", name_of(annotator) or r.annotator, f"swap to {r.source} -> {r.target}")

    def delete_relation(self, relation_id: int, annotator: Acting = None) -> None:
        with self.writing() as log:
            r = self._get(log.session, RelationT, relation_id)
            check_may_change(annotator, r.annotator, f"relation {relation_id}")
            log.delete(r)
            log.record("delete_relation", name_of(annotator) or r.annotator, f"delete {r.source} -> {r.target}")

    @staticmethod
    def _relation_row(r: RelationT) -> RelationRow:
        return RelationRow(
            id=r.id, sentence_id=r.sentence_id, source=r.source, target=r.target,
            source_span=_span(r.src_start, r.src_end), target_span=_span(r.tgt_start, r.tgt_end),
            sign=r.sign, strength=r.strength, annotator=r.annotator, origin=r.origin, model_id=r.model_id,
            score=r.score, note=r.note, created_at=r.created_at, updated_at=r.updated_at,
        )

    @staticmethod
    def _passage_relation(r: RelationT) -> PassageRelation:
        return PassageRelation(
            src=r.source, tgt=r.target, sign=r.sign, src_span=_span(r.src_start, r.src_end),
            tgt_span=_span(r.tgt_start, r.tgt_end), strength=r.strength, annotator=r.annotator,
            origin=r.origin, model_id=r.model_id, score=r.score, note=r.note, created_at=r.created_at,
            updated_at=r.updated_at, extra=None if r.extra is None else json.loads(r.extra),
        )

    @staticmethod
    def _pair_query(model: type[RelationT] | type[SuggestionT], sentence_id: int | None, document_id: int | None):
        q = select(model)
        if sentence_id is not None:
            q = q.where(model.sentence_id == sentence_id)
        if document_id is not None:
            q = q.join(SentenceT, SentenceT.id == model.sentence_id).where(SentenceT.document_id == document_id)
        return q

    def relations(self, *, sentence_id: int | None = None, document_id: int | None = None,
                  annotator: str | None = None, origin: str | None = None) -> list[RelationRow]:
        q = self._pair_query(RelationT, sentence_id, document_id)
        if annotator is not None:
            q = q.where(RelationT.annotator == annotator)
        if origin is not None:
            q = q.where(RelationT.origin == origin)
        with self.reading() as s:
            return [self._relation_row(r) for r in s.scalars(q.order_by(RelationT.id))]

    # ---------------------------------------------------------------- undo
    def undo(self, annotator: Acting, *, of: str | None = None) -> str | None:
        """Reverts `of`'s (default: `annotator`'s) last action not yet undone (None: the last action
        logged without an annotator); returns its description, or None when there is nothing to undo.
        Rows changed since are set back as they were; the undo is itself logged under `annotator`, so
        it loses nothing either. A signed-in Actor undoes someone else's action, or an action that
        touched someone else's relations, only where their role allows changing those rows."""
        whose = of if of is not None else name_of(annotator)
        with self.writing() as log:
            s = log.session
            q = select(ActionT).where(ActionT.undoable.is_(True), ActionT.undone_by.is_(None))
            q = q.where(ActionT.annotator == whose if whose is not None else ActionT.annotator.is_(None))
            action = s.scalars(q.order_by(ActionT.id.desc()).limit(1)).first()
            if action is None:
                return None
            changes = json.loads(action.changes)
            check_may_change(annotator, whose, f"{whose or 'anonymous'}'s action {action.description!r}")
            for row in (row for table, _, *rows in changes if table == "relations" for row in rows if row):
                check_may_change(annotator, row["annotator"], f"undo of {action.description!r}")
            for table, id_, before, after in reversed(changes):
                model = _MODELS[table]
                obj = s.get(model, id_)
                if before is None and obj is not None:
                    log.delete(obj)
                elif after is None and obj is None:
                    log.add(model(**before))
                elif before is not None and obj is not None:
                    log.update(obj, **before)
            done = log.record("undo", name_of(annotator), f"undo: {action.description}", undoable=False)
            action.undone_by = done.id if done else -1
            return action.description

    def history(self, annotator: str | None = None, limit: int = 50) -> list[ActionRow]:
        """The action log, newest first (all annotators when `annotator` is None): the audit trail."""
        q = select(ActionT).order_by(ActionT.id.desc()).limit(limit)
        if annotator is not None:
            q = q.where(ActionT.annotator == annotator)
        with self.reading() as s:
            return [
                ActionRow(id=a.id, annotator=a.annotator, kind=a.kind, description=a.description,
                          created_at=a.created_at, undone=a.undone_by is not None)
                for a in s.scalars(q)
            ]

    # ---------------------------------------------------------------- suggestions
    def add_suggestions(self, sentence_id: int, rels: list[PassageRelation]) -> list[int]:
        """Queues model relations for review (each needs model_id and score). A pair the same model
        already suggested for the sentence, in any state, is not queued again: its id is returned."""
        with self.writing() as log:
            sent = self._get(log.session, SentenceT, sentence_id)
            ids = [self._suggest(log, sent, rel) for rel in rels]
            log.record("suggest", None, f"{len(rels)} suggestions for sentence {sentence_id}", undoable=False)
        return ids

    def _suggest(self, log: ChangeLog, sent: SentenceT, rel: PassageRelation) -> int:
        where = f"sentence {sent.id}: suggestion"
        src, tgt, src_span, tgt_span = self._pair(sent, rel, where)
        if not rel.model_id or not isinstance(rel.score, (int, float)):
            raise InputError(where, "a suggestion needs model_id and a numeric score")
        found = log.session.scalar(select(SuggestionT.id).where(
            SuggestionT.sentence_id == sent.id, SuggestionT.source == src, SuggestionT.target == tgt,
            SuggestionT.sign == rel.sign, SuggestionT.model_id == rel.model_id,
        ))
        if found is None:
            found = log.add(SuggestionT(
                sentence_id=sent.id, source=src, target=tgt, sign=rel.sign,
                **_span_columns(src_span, tgt_span), model_id=rel.model_id, score=float(rel.score),
                state="pending", created_at=_now(), **_directions(rel.extra),
            )).id
        return found

    # ---------------------------------------------------------------- extract runs
    def add_extract_run(self, batch: str, filename: str, model_id: str | None, annotator: str | None,
                        doc: ParsedDocument | None = None, found: Sequence[Sequence[PassageRelation]] = (),
                        error: str | None = None) -> int:
        """Keep one file's Extract result (or its one-line error) under a batch id; returns its id."""
        from data.formats import write_jsonl

        record = None
        if doc is not None:
            sentences = [ParsedSentence(**{**x.__dict__, "relations": list(rels)}) for x, rels in zip(doc.sentences, found)]
            record = write_jsonl([ParsedDocument(**{**doc.__dict__, "sentences": sentences})])
        with self.writing() as log:
            return log.add(ExtractRunT(batch=batch, created=_now(), annotator=annotator, filename=filename,
                                       model_id=model_id, sentences=len(doc.sentences) if doc else 0,
                                       relations=sum(len(r) for r in found), error=error, document=record)).id

    def extract_runs(self, annotator: str | None = None) -> list[ExtractRunRow]:
        """Stored Extract results, newest first (only `annotator`'s when given)."""
        q = select(ExtractRunT).order_by(ExtractRunT.id.desc())
        if annotator is not None:
            q = q.where(ExtractRunT.annotator == annotator)
        with self.reading() as s:
            return [ExtractRunRow(x.id, x.batch, x.created, x.annotator, x.filename, x.model_id, x.sentences,
                                  x.relations, x.error) for x in s.scalars(q)]

    def extract_run(self, run_id: int) -> tuple[ParsedDocument, list[list[PassageRelation]]]:
        """A stored Extract result: the document and the relations proposed per sentence."""
        from data.formats import read_jsonl

        with self.reading() as s:
            run = self._get(s, ExtractRunT, run_id)
            if run.document is None:
                raise InputError(f"extract run {run_id}", f"{run.filename} gave no result: {run.error}")
            doc = read_jsonl(run.filename, run.document.encode())[0]
        found = [x.relations for x in doc.sentences]
        for x in doc.sentences:
            x.relations = []
        return doc, found

    def import_suggested(self, doc: ParsedDocument, found: Sequence[Sequence[PassageRelation]],
                         annotator: str | None = None) -> tuple[int, int]:
        """Import a document (or find it by content hash) and queue model relations (aligned with
        doc.sentences) as suggestions, all in one transaction: a bad relation imports nothing.
        Sentences are matched by text. Returns (document id, suggestions newly queued)."""
        annotator = _name(annotator, "annotator", "import") if annotator else None
        with self.writing() as log:
            s = log.session
            check_document(doc)
            doc_id = self._stored_document(s, doc)
            if doc_id is None:
                doc_id = self._new_document(s, doc, pending=False)
                for start in range(0, len(doc.sentences), IMPORT_BATCH):
                    self._add_sentences(s, doc_id, doc, start, annotator)
            by_text: dict[str, SentenceT] = {}
            for sent in s.scalars(select(SentenceT).where(SentenceT.document_id == doc_id).order_by(SentenceT.position)):
                by_text.setdefault(sent.text, sent)
            pairs = [(by_text[ps.text], rel) for ps, rels in zip(doc.sentences, found) if ps.text in by_text
                     for rel in rels]
            added = self._suggest_many(log, pairs)
            log.record("suggest", None, f"import {doc.filename} with {added} new model suggestions", undoable=False)
        return doc_id, added

    def _suggest_many(self, log: ChangeLog, pairs: list[tuple[SentenceT, PassageRelation]]) -> int:
        """_suggest for many relations with one query for known concepts and one for suggestions
        already queued (a 300-sentence paper took ~0.7 s one relation at a time); returns how many
        were new."""
        s = log.session
        checked = []
        for sent, rel in pairs:
            where = f"sentence {sent.id}: suggestion"
            src, tgt, src_span, tgt_span = check_relation(rel, sent.text, where)
            if not rel.model_id or not isinstance(rel.score, (int, float)):
                raise InputError(where, "a suggestion needs model_id and a numeric score")
            checked.append((sent.id, rel, src, tgt, src_span, tgt_span))
        names = {n for c in checked for n in c[2:4] if len(n) <= NAME_LEN}
        known = set(s.scalars(select(ConceptT.name).where(ConceptT.name.in_(names)))) if names else set()
        for name in sorted(names - known):
            self._ensure(s, ConceptT, name)
        queued = {(x.sentence_id, x.source, x.target, x.sign, x.model_id) for x in s.scalars(
            select(SuggestionT).where(SuggestionT.sentence_id.in_({c[0] for c in checked})))} if checked else set()
        new = []
        for sid, rel, src, tgt, src_span, tgt_span in checked:
            key = (sid, src, tgt, rel.sign, rel.model_id)
            if key not in queued:
                queued.add(key)
                new.append(SuggestionT(sentence_id=sid, source=src, target=tgt, sign=rel.sign,
                                       **_span_columns(src_span, tgt_span), model_id=rel.model_id,
                                       score=float(rel.score), state="pending", created_at=_now(),
                                       **_directions(rel.extra)))
        log.add_all(new)
        return len(new)

    def suggestions(self, *, sentence_id: int | None = None, document_id: int | None = None,
                    state: str | None = "pending") -> list[SuggestionRow]:
        """Suggestions in `state` (None: all), best score first."""
        if state is not None and state not in SUGGESTION_STATES:
            raise InputError("state", f"{state!r} is not one of {', '.join(SUGGESTION_STATES)}")
        q = self._pair_query(SuggestionT, sentence_id, document_id)
        if state is not None:
            q = q.where(SuggestionT.state == state)
        with self.reading() as s:
            return [
                SuggestionRow(
                    id=x.id, sentence_id=x.sentence_id, source=x.source, target=x.target,
                    source_span=_span(x.src_start, x.src_end), target_span=_span(x.tgt_start, x.tgt_end),
                    sign=x.sign, model_id=x.model_id, score=x.score, state=x.state,
                    direction_src=x.direction_src, direction_tgt=x.direction_tgt,
                )
                for x in s.scalars(q.order_by(SuggestionT.score.desc(), SuggestionT.id))
            ]

    def _pending(self, s: Session, suggestion_id: int) -> SuggestionT:
        x = self._get(s, SuggestionT, suggestion_id)
        if x.state != "pending":
            raise InputError(f"suggestion {suggestion_id}", f"already {x.state}")
        return x

    def accept_suggestion(self, suggestion_id: int, annotator: str) -> int:
        """Turns a suggestion into a human relation that keeps the model id and score."""
        with self.writing() as log:
            s = log.session
            x = self._pending(s, suggestion_id)
            sent = self._get(s, SentenceT, x.sentence_id)
            rel = PassageRelation(
                src=x.source, tgt=x.target, sign=x.sign, src_span=_span(x.src_start, x.src_end),
                tgt_span=_span(x.tgt_start, x.tgt_end), annotator=annotator, origin="human",
                model_id=x.model_id, score=x.score,
                extra={k: v for k, v in (("direction_src", x.direction_src), ("direction_tgt", x.direction_tgt)) if v}
                or None,
            )
            r = log.add(self._relation(s, sent, rel, annotator, f"suggestion {suggestion_id}"))
            log.update(x, state="accepted", relation_id=r.id, decided_by=annotator)
            self._unmark_no_relation(log, sent.id, r.annotator)
            log.record("accept_suggestion", annotator, f"accept {x.source} -> {x.target}")
            return r.id

    def reject_suggestion(self, suggestion_id: int, annotator: str) -> None:
        with self.writing() as log:
            x = self._pending(log.session, suggestion_id)
            log.update(x, state="rejected", decided_by=annotator)
            log.record("reject_suggestion", annotator, f"reject {x.source} -> {x.target}")

    # ---------------------------------------------------------------- concepts
    def concepts(self) -> list[str]:
        """Canonical concept names (merged aliases left out), for autocomplete."""
        with self.reading() as s:
            q = select(ConceptT.name).where(ConceptT.canonical_id.is_(None))
            return sorted(s.scalars(q), key=str.casefold)

    def add_concept(self, name: str) -> None:
        name = _name(name, "concept name", "concept")
        with self.writing() as log:
            self._ensure(log.session, ConceptT, name)

    def aliases(self) -> dict[str, str]:
        """alias -> canonical name, chains of merges followed to their end."""
        with self.reading() as s:
            rows = s.execute(select(ConceptT.id, ConceptT.name, ConceptT.canonical_id)).all()
        by_id = {id_: (name, parent) for id_, name, parent in rows}
        out = {}
        for name, parent in by_id.values():
            seen = set()
            root = parent
            while root is not None and by_id[root][1] is not None and root not in seen:
                seen.add(root)
                root = by_id[root][1]
            if parent is not None:
                out[name] = by_id[root][0]
        return out

    def merge_concepts(self, alias: str, canonical: str, annotator: Acting = None) -> None:
        """Makes `alias` another name of `canonical` (the map then shows one node); unmerge reverts.
        Merging into a name that is itself an alias is fine: aliases() follows the chain, and
        unmerging the middle name takes its own aliases with it. Signed in, it needs a reviewer."""
        check_reviews(annotator, "merge")
        alias = _name(alias, "alias", "merge")
        canonical = _name(canonical, "canonical name", "merge")
        with self.writing() as log:
            s = log.session
            for name in (alias, canonical):
                self._ensure(s, ConceptT, name)
            a = s.scalars(select(ConceptT).where(ConceptT.name == alias)).one()
            target = root = s.scalars(select(ConceptT).where(ConceptT.name == canonical)).one()
            while root.canonical_id is not None and root.id != a.id:
                root = s.get(ConceptT, root.canonical_id)
            if root.id == a.id:
                raise InputError("merge", f"{canonical!r} is already merged into {alias!r}")
            log.update(a, canonical_id=target.id)
            log.record("merge_concepts", name_of(annotator), f"merge {alias} into {canonical}")

    def unmerge_concept(self, alias: str, annotator: Acting = None) -> None:
        check_reviews(annotator, "unmerge")
        with self.writing() as log:
            a = log.session.scalars(select(ConceptT).where(ConceptT.name == alias)).first()
            if a is None or a.canonical_id is None:
                raise InputError("unmerge", f"{alias!r} is not merged into another concept")
            log.update(a, canonical_id=None)
            log.record("unmerge_concept", name_of(annotator), f"unmerge {alias}")

    # ---------------------------------------------------------------- map and export
    def evidence(self, *, document_ids: list[int] | None = None, annotators: list[str] | None = None,
                 origins: list[str] | None = None, min_score: float | None = None) -> list[Evidence]:
        """Stored relations with their sentences, as labelled (aliases not resolved: the map does it).
        min_score drops scored relations below it; unscored ones (plain human labels) always pass."""
        q = (
            select(RelationT, SentenceT, DocumentT)
            .join(SentenceT, SentenceT.id == RelationT.sentence_id)
            .join(DocumentT, DocumentT.id == SentenceT.document_id)
            .where(DocumentT.pending.is_(None))
        )
        if document_ids is not None:
            q = q.where(DocumentT.id.in_(list(document_ids)))
        if annotators is not None:
            q = q.where(RelationT.annotator.in_(list(annotators)))
        if origins is not None:
            q = q.where(RelationT.origin.in_(list(origins)))
        if min_score is not None:
            q = q.where(or_(RelationT.score.is_(None), RelationT.score >= min_score))
        with self.reading() as s:
            return [
                Evidence(
                    relation_id=r.id, source=r.source, target=r.target, sign=r.sign, strength=r.strength,
                    sentence_id=x.id, sentence_text=x.text, document_id=d.id, document_title=d.title or d.filename,
                    page=x.page, annotator=r.annotator, origin=r.origin, model_id=r.model_id, score=r.score,
                )
                for r, x, d in s.execute(q.order_by(RelationT.id))
            ]

    @staticmethod
    def _document_marks(s: Session, document_id: int) -> dict[int, list[Mark]]:
        """sentence id -> each annotator's mark, by annotator name."""
        q = (select(SentenceStatusT.sentence_id, AnnotatorT.name, SentenceStatusT.status, SentenceStatusT.updated)
             .join(AnnotatorT, AnnotatorT.id == SentenceStatusT.annotator_id)
             .join(SentenceT, SentenceT.id == SentenceStatusT.sentence_id)
             .where(SentenceT.document_id == document_id).order_by(AnnotatorT.name))
        out: dict[int, list[Mark]] = {}
        for sid, name, status, updated in s.execute(q):
            out.setdefault(sid, []).append(Mark(name, status, updated))
        return out


    def check_export(self, document_ids: list[int] | None = None, annotators: list[str] | None = None) -> None:
        """Raises InputError naming the first document id or annotator the database does not hold."""
        with self.reading() as s:
            if document_ids is not None:
                known = set(s.scalars(select(DocumentT.id).where(DocumentT.id.in_(list(document_ids)))))
                missing = [i for i in document_ids if i not in known]
                if missing:
                    raise InputError("export", f"no document with id {missing[0]}")
            if annotators is not None:
                names = set(s.scalars(select(AnnotatorT.name))) | set(s.scalars(select(RelationT.annotator).distinct()))
                missing_names = [a for a in annotators if a not in names]
                if missing_names:
                    raise InputError("export", f"no annotator named {missing_names[0]!r}")

    def export_documents(self, document_ids: list[int] | None = None,
                         annotators: list[str] | None = None) -> list[ParsedDocument]:
        """Documents as ParsedDocuments with their relations, for the file writers (formats.py); a
        sentence's status is everyone's together (see sentences), as a file has one per sentence.
        `annotators` keeps only their relations and marks (e.g. ["gold"]: the adjudicated set, each
        relation once); unknown ids or names raise InputError (see check_export)."""
        self.check_export(document_ids, annotators)
        with self.reading() as s:
            q = select(DocumentT).where(DocumentT.pending.is_(None)).order_by(DocumentT.id)
            if document_ids is not None:
                q = q.where(DocumentT.id.in_(list(document_ids)))
            out = []
            for d in s.scalars(q):
                sents = list(s.scalars(
                    select(SentenceT).where(SentenceT.document_id == d.id).order_by(SentenceT.position, SentenceT.id)
                ))
                where = SentenceT.document_id == d.id
                statuses = _statuses(s, where, None) if annotators is None else _joint_statuses(s, where, annotators)
                rels: dict[int, list[PassageRelation]] = {}
                rq = (select(RelationT).join(SentenceT, SentenceT.id == RelationT.sentence_id)
                      .where(SentenceT.document_id == d.id).order_by(RelationT.id))
                if annotators is not None:
                    rq = rq.where(RelationT.annotator.in_(list(annotators)))
                index: dict[int, int] = {}  # relation id -> its index in its sentence's relations
                for r in s.scalars(rq):
                    index[r.id] = len(rels.setdefault(r.sentence_id, []))
                    rels[r.sentence_id].append(self._passage_relation(r))
                marks = self._document_marks(s, d.id)
                if annotators is not None:
                    marks = {sid: [m for m in ms if m.annotator in annotators] for sid, ms in marks.items()}
                suggestions: dict[int, list[PassageSuggestion]] = {}
                sq = (select(SuggestionT).join(SentenceT, SentenceT.id == SuggestionT.sentence_id)
                      .where(SentenceT.document_id == d.id).order_by(SuggestionT.id))
                for x in s.scalars(sq):
                    linked = s.get(RelationT, x.relation_id) if x.relation_id is not None else None
                    suggestions.setdefault(x.sentence_id, []).append(PassageSuggestion(
                        src=x.source, tgt=x.target, sign=x.sign, model_id=x.model_id, score=x.score,
                        src_span=_span(x.src_start, x.src_end), tgt_span=_span(x.tgt_start, x.tgt_end),
                        state=x.state, decided_by=x.decided_by, created_at=x.created_at,
                        relation=index.get(x.relation_id) if linked and linked.sentence_id == x.sentence_id else None))
                year: int | str | None = d.year
                if d.year_is_int and d.year is not None:
                    year = int(d.year)
                out.append(ParsedDocument(
                    filename=d.filename, sha256=d.sha256, title=d.title, authors=d.authors, year=year,
                    format=d.format,
                    sentences=[
                        ParsedSentence(
                            text=x.text, page=x.page, start=x.start_char, end=x.end_char,
                            is_reference=bool(x.is_reference), status=statuses.get(x.id, "unseen"),
                            relations=rels.get(x.id, []),
                            llm=None if x.llm is None else json.loads(x.llm),
                            marks=([Mark(None, x.status)] if x.status != "unseen" else []) + marks.get(x.id, []),
                            suggestions=suggestions.get(x.id, []),
                        )
                        for x in sents
                    ],
                ))
            return out
