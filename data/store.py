"""The annotation store: documents, sentences, relations, suggestions, concepts, and an action log.

Every mutating call is its own committed transaction, so a page reload, a second tab or a restart
loses nothing. Every change is written to the `actions` table as (table, id, before row, after row);
that log is the audit trail and powers undo, so nothing an annotator does is ever lost — undo
itself is logged too. SQLite by default (WAL, busy timeout, write transactions taken with
BEGIN IMMEDIATE so concurrent writers queue instead of failing); any SQLAlchemy URL works.
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import ColumnElement, Engine, create_engine, event, or_, select, true
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session
from sqlalchemy.pool import StaticPool

from data.errors import InputError
from data.roles import Acting, check_may_change, check_reviews, name_of
from data.schema import (
    NAME_LEN,
    ActionT,
    AnnotatorT,
    Base,
    ConceptT,
    DocumentT,
    RelationT,
    SchemaVersion,
    SentenceStatusT,
    SentenceT,
    SuggestionT,
    upgrade,
)
from data.spans import find_span
from data.types import STRENGTHS, Evidence, ParsedDocument, ParsedSentence, PassageRelation, Span

DEFAULT_DB = "var/fuzzymap.db"
ROOT = Path(__file__).resolve().parent.parent
STATUSES = ("unseen", "labeled", "no-relation", "discarded")
MARKS = ("no-relation", "discarded")
"""The statuses an annotator sets by hand; "labeled" is having a human relation in the sentence."""
_PRECEDENCE = ("labeled", "discarded", "no-relation")
"""When several statuses apply (all annotators together), the first found wins: a relation beats
any mark, and "discarded" beats "no-relation" so a sentence someone found unusable is not used as a
negative example."""
ORIGINS = ("human", "model")
SUGGESTION_STATES = ("pending", "accepted", "rejected")
RELATION_FIELDS = ("source", "target", "source_span", "target_span", "sign", "strength", "note")
_MODELS: dict[str, type[Base]] = {
    m.__tablename__: m
    for m in (DocumentT, SentenceT, SentenceStatusT, RelationT, SuggestionT, ConceptT, AnnotatorT)
}


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


@dataclass(frozen=True)
class ActionRow:
    id: int
    annotator: str | None
    kind: str
    description: str
    created_at: str
    undone: bool


def resolve_url(url: str | None = None) -> str:
    """SQLAlchemy URL for `url`, else $FUZZYMAP_DB, else DEFAULT_DB under the repo root.

    A value without "://" is a file path (relative to the working directory, except the default).
    """
    url = url or os.environ.get("FUZZYMAP_DB") or str(ROOT / DEFAULT_DB)
    if "://" in url:
        return url
    path = Path(url).expanduser().resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _row(obj: Base) -> dict:
    return {c.name: getattr(obj, c.name) for c in obj.__table__.columns}


def _span(start: int | None, end: int | None) -> Span | None:
    return None if start is None or end is None else (start, end)


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


def _make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    memory = parsed.database in (None, "", ":memory:")
    engine = create_engine(
        url,
        connect_args={"timeout": 60, "check_same_thread": False},
        **({"poolclass": StaticPool} if memory else {}),
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:
        # Let SQLAlchemy, not pysqlite, emit BEGIN (see _on_begin).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA busy_timeout=60000")
        cur.execute("PRAGMA foreign_keys=ON")
        if not memory:
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")  # with WAL: a program crash loses no commit
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        # A writer takes the write lock up front; a deferred BEGIN that later upgrades to a write
        # can fail with "database is locked" no matter the busy timeout.
        immediate = conn.get_execution_options().get("fuzzymap_write")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _name(value: object, what: str, name: str, where: str = "") -> str:
    """A stripped non-empty string of at most NAME_LEN characters (annotator, concept)."""
    text = _text(value, what, name, where)
    if len(text) > NAME_LEN:
        raise _bad(name, where, f"{what} is longer than {NAME_LEN} characters")
    return text


def _text(value: object, what: str, name: str, where: str = "") -> str:
    if not isinstance(value, str) or not value.strip():
        raise _bad(name, where, f"{what} must be a non-empty string")
    return value.strip()


def _bad(name: str, where: str, reason: str) -> InputError:
    return InputError(name, f"{where}: {reason}" if where else reason)


def check_relation(rel: PassageRelation, text: str, name: str,
                   where: str = "") -> tuple[str, str, Span | None, Span | None]:
    """Validates a relation for a sentence `text` without touching a database; returns the stripped
    concept names and their spans (found in the text where not given). Raises InputError(name, ...)."""
    if not isinstance(rel, PassageRelation):
        raise _bad(name, where, "relation is not a PassageRelation")
    src = _text(rel.src, "source", name, where)
    tgt = _text(rel.tgt, "target", name, where)
    if rel.sign not in (1, -1) or isinstance(rel.sign, bool):
        raise _bad(name, where, f"sign must be +1 or -1, not {rel.sign!r}")
    if rel.strength not in STRENGTHS:
        raise _bad(name, where, f"strength {rel.strength!r} is not one of {', '.join(STRENGTHS)}")
    if rel.origin not in ORIGINS:
        raise _bad(name, where, f"origin {rel.origin!r} is not one of {', '.join(ORIGINS)}")
    if rel.score is not None and (not isinstance(rel.score, (int, float)) or isinstance(rel.score, bool)):
        raise _bad(name, where, "score must be a number")
    if rel.annotator is not None:
        _name(rel.annotator, "annotator", name, where)
    if rel.extra is not None and not isinstance(rel.extra, dict):
        raise _bad(name, where, "extra must be an object")
    spans = []
    for concept, span in ((src, rel.src_span), (tgt, rel.tgt_span)):
        if span is None:
            span = find_span(text, concept)
        elif not (isinstance(span, (tuple, list)) and len(span) == 2
                  and all(isinstance(v, int) for v in span) and 0 <= span[0] < span[1] <= len(text)):
            raise _bad(name, where, f"span {span!r} of {concept!r} is not inside the sentence")
        spans.append(None if span is None else (span[0], span[1]))
    return src, tgt, spans[0], spans[1]


def check_document(doc: ParsedDocument, name: str | None = None, where: str = "") -> None:
    """Everything the store will refuse, found before anything is written (also used by the JSONL
    reader, so a bad file is named at upload). Raises InputError(name or doc.filename, ...)."""
    name = name or getattr(doc, "filename", None) or "document"
    at = f"{where}, " if where else ""
    if not isinstance(doc, ParsedDocument):
        raise _bad(name, where, "not a ParsedDocument")
    if not isinstance(doc.filename, str) or not isinstance(doc.sha256, str) or not doc.sha256 or len(doc.sha256) > 200:
        raise _bad(name, where, "filename must be a string and sha256 a non-empty string of at most 200 characters")
    if doc.year is not None and (not isinstance(doc.year, (int, str)) or isinstance(doc.year, bool)):
        raise _bad(name, where, "year must be an integer or a string")
    for key in ("title", "authors"):
        if getattr(doc, key) is not None and not isinstance(getattr(doc, key), str):
            raise _bad(name, where, f"{key} must be a string")
    if not isinstance(doc.sentences, list):
        raise _bad(name, where, "sentences must be a list")
    for i, sent in enumerate(doc.sentences, 1):
        here = f"{at}sentence {i}"
        if not isinstance(sent, ParsedSentence) or not isinstance(sent.text, str):
            raise InputError(name, f"{here}: not a ParsedSentence with text")
        if sent.status not in STATUSES:
            raise InputError(name, f"{here}: status {sent.status!r} is not one of {', '.join(STATUSES)}")
        if sent.page is not None and (not isinstance(sent.page, int) or isinstance(sent.page, bool)):
            raise InputError(name, f"{here}: page must be an integer")
        if not all(isinstance(v, int) for v in (sent.start, sent.end)):
            raise InputError(name, f"{here}: start and end must be integers")
        if sent.llm is not None and not isinstance(sent.llm, dict):
            raise InputError(name, f"{here}: llm must be an object")
        if not isinstance(sent.relations, list):
            raise InputError(name, f"{here}: relations must be a list")
        for j, rel in enumerate(sent.relations, 1):
            check_relation(rel, sent.text, name, f"{here}, relation {j}")


class _Log:
    """Applies changes through the session and remembers them for the actions table."""

    def __init__(self, session: Session):
        self.session = session
        self.changes: list[list] = []

    def add_all(self, objs: list[Base]) -> None:
        self.session.add_all(objs)
        self.session.flush()
        self.changes.extend([o.__tablename__, o.id, None, _row(o)] for o in objs)

    def add(self, obj: Base) -> Base:
        self.add_all([obj])
        return obj

    def update(self, obj: Base, **values) -> None:
        before = _row(obj)
        for key, value in values.items():
            setattr(obj, key, value)
        after = _row(obj)
        if after != before:
            self.session.flush()
            self.changes.append([obj.__tablename__, obj.id, before, after])

    def delete(self, obj: Base) -> None:
        """Deletes a row and, first, whatever hangs on it, so that every row lost is logged."""
        if isinstance(obj, DocumentT):
            for sent in self.session.scalars(select(SentenceT).where(SentenceT.document_id == obj.id)).all():
                self.delete(sent)
        if isinstance(obj, SentenceT):
            for model in (SentenceStatusT, SuggestionT, RelationT):
                for child in self.session.scalars(select(model).where(model.sentence_id == obj.id)).all():
                    self.delete(child)
        self.changes.append([obj.__tablename__, obj.id, _row(obj), None])
        self.session.delete(obj)
        self.session.flush()

    def record(self, kind: str, annotator: str | None, description: str, undoable: bool = True) -> ActionT | None:
        if not self.changes:
            return None
        action = ActionT(
            annotator=annotator, kind=kind, description=description, changes=json.dumps(self.changes),
            undoable=undoable, created_at=_now(),
        )
        self.session.add(action)
        self.session.flush()
        return action


class Store:
    """The project's one database; open it with a URL or path (see resolve_url)."""

    def __init__(self, url: str | None = None):
        self.url = resolve_url(url)
        self._engine = _make_engine(self.url)
        self._writer = self._engine.execution_options(fuzzymap_write=True)
        with self._writer.begin() as conn:
            upgrade(conn)

    def close(self) -> None:
        self._engine.dispose()

    @contextmanager
    def _read(self) -> Iterator[Session]:
        with Session(self._engine) as s:
            yield s

    @contextmanager
    def _write(self) -> Iterator[_Log]:
        with Session(self._writer, expire_on_commit=False) as s, s.begin():
            yield _Log(s)

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
        with self._write() as log:
            self._ensure(log.session, AnnotatorT, name)

    def _annotator_id(self, s: Session, name: str) -> int:
        self._ensure(s, AnnotatorT, name)
        return s.scalar(select(AnnotatorT.id).where(AnnotatorT.name == name))

    def annotators(self) -> list[str]:
        with self._read() as s:
            return sorted(s.scalars(select(AnnotatorT.name)), key=str.casefold)

    # ---------------------------------------------------------------- documents
    def import_documents(self, docs: list[ParsedDocument], annotator: str | None = None) -> list[int]:
        """Imports in one transaction: one bad document means nothing is imported.

        A document whose sha256 is already stored returns the stored id and adds nothing. Human
        relations without an annotator get `annotator`, and so do the sentences' "no-relation" /
        "discarded" statuses (e.g. a TwoSix passage without relations: read, none found); without
        an annotator those stay a status no annotator is known for. Imports are logged but not
        undoable (delete instead).
        """
        annotator = _name(annotator, "annotator", "import") if annotator else None
        ids: list[int] = []
        with self._write() as log:
            s = log.session
            known: dict[str, int] = {}
            for doc in docs:
                check_document(doc)
                found = known.get(doc.sha256) or s.scalar(select(DocumentT.id).where(DocumentT.sha256 == doc.sha256))
                if found is None:
                    found = self._add_document(log, doc, annotator)
                known[doc.sha256] = found
                ids.append(found)
            names = ", ".join(d.filename for d in docs)
            log.record("import", annotator, f"import {names}", undoable=False)
        return ids

    def _add_document(self, log: _Log, doc: ParsedDocument, annotator: str | None) -> int:
        d = log.add(DocumentT(
            filename=doc.filename, sha256=doc.sha256, format=doc.format or "", title=doc.title,
            authors=doc.authors, year=None if doc.year is None else str(doc.year),
            year_is_int=isinstance(doc.year, int), created=_now(),
        ))
        sents = [
            SentenceT(
                document_id=d.id, position=i, text=ps.text, page=ps.page, start_char=ps.start,
                end_char=ps.end, is_reference=bool(ps.is_reference),
                status="unseen" if annotator and ps.status in MARKS else ps.status,
                llm=None if ps.llm is None else json.dumps(ps.llm),
            )
            for i, ps in enumerate(doc.sentences)
        ]
        log.add_all(sents)
        if annotator:
            who, now = self._annotator_id(log.session, annotator), _now()
            log.add_all([SentenceStatusT(sentence_id=sent.id, annotator_id=who, status=ps.status, updated=now)
                         for sent, ps in zip(sents, doc.sentences) if ps.status in MARKS])
        rels = [
            self._relation(log.session, sent, rel, rel.annotator or (annotator if rel.origin == "human" else None),
                           f"{doc.filename}: sentence {i}")
            for i, (sent, ps) in enumerate(zip(sents, doc.sentences), 1)
            for rel in ps.relations
        ]
        log.add_all(rels)
        return d.id

    def list_documents(self, annotator: str | None = None) -> list[DocumentInfo]:
        """Documents with their sentence counts by status as `annotator` sees them (see sentences)."""
        with self._read() as s:
            counts: dict[int, dict[str, int]] = {}
            statuses = _statuses(s, true(), annotator)
            for sid, doc_id in s.execute(select(SentenceT.id, SentenceT.document_id)):
                status, by_status = statuses.get(sid, "unseen"), counts.setdefault(doc_id, {})
                by_status[status] = by_status.get(status, 0) + 1
            out = []
            for d in s.scalars(select(DocumentT).order_by(DocumentT.id)):
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
        with self._write() as log:
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
        with self._write() as log:
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
        with self._read() as s:
            statuses = _statuses(s, where, annotator)
            q = select(SentenceT).where(where).order_by(SentenceT.position, SentenceT.id)
            return [self._sentence_row(x, statuses.get(x.id, "unseen")) for x in s.scalars(q)]

    def sentence(self, sentence_id: int, annotator: str | None = None) -> SentenceRow:
        with self._read() as s:
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
        with self._write() as log:
            s = log.session
            sent = self._get(s, SentenceT, sentence_id)
            if annotator:
                self._mark(log, sent.id, self._annotator_id(s, _name(annotator, "annotator", "status")), status)
            else:
                log.update(sent, status=status)
            log.record("set_status", annotator, f"mark sentence {sent.position + 1} {status}")

    @staticmethod
    def _mark(log: _Log, sentence_id: int, annotator_id: int, status: str) -> None:
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

    def _unmark_no_relation(self, log: _Log, sentence_id: int, annotator: str | None) -> None:
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
        with self._write() as log:
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

    def _shift_positions(self, log: _Log, document_id: int, after: int, delta: int) -> None:
        q = select(SentenceT).where(SentenceT.document_id == document_id, SentenceT.position > after)
        for x in log.session.scalars(q):
            log.update(x, position=x.position + delta)

    def split_sentence(self, sentence_id: int, at: int, annotator: str | None = None) -> tuple[int, int]:
        """Splits a sentence the segmenter merged wrongly at character `at`. Relations go with the
        part that holds both their concepts (first part when unsure)."""
        with self._write() as log:
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
        with self._write() as log:
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
        with self._write() as log:
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
        with self._write() as log:
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
        with self._write() as log:
            r = self._get(log.session, RelationT, relation_id)
            check_may_change(annotator, r.annotator, f"relation {relation_id}")
            log.update(
                r, source=r.target, target=r.source, src_start=r.tgt_start, src_end=r.tgt_end,
                tgt_start=r.src_start, tgt_end=r.src_end, updated_at=_now(),
            )
            log.record("swap_relation", name_of(annotator) or r.annotator, f"swap to {r.source} -> {r.target}")

    def delete_relation(self, relation_id: int, annotator: Acting = None) -> None:
        with self._write() as log:
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
        with self._read() as s:
            return [self._relation_row(r) for r in s.scalars(q.order_by(RelationT.id))]

    # ---------------------------------------------------------------- undo
    def undo(self, annotator: Acting, *, of: str | None = None) -> str | None:
        """Reverts `of`'s (default: `annotator`'s) last action not yet undone (None: the last action
        logged without an annotator); returns its description, or None when there is nothing to undo.
        Rows changed since are set back as they were; the undo is itself logged under `annotator`, so
        it loses nothing either. A signed-in Actor undoes someone else's action, or an action that
        touched someone else's relations, only where their role allows changing those rows."""
        whose = of if of is not None else name_of(annotator)
        with self._write() as log:
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
        with self._read() as s:
            return [
                ActionRow(id=a.id, annotator=a.annotator, kind=a.kind, description=a.description,
                          created_at=a.created_at, undone=a.undone_by is not None)
                for a in s.scalars(q)
            ]

    # ---------------------------------------------------------------- suggestions
    def add_suggestions(self, sentence_id: int, rels: list[PassageRelation]) -> list[int]:
        """Queues model relations for review (each needs model_id and score). A pair the same model
        already suggested for the sentence, in any state, is not queued again: its id is returned."""
        ids = []
        with self._write() as log:
            s = log.session
            sent = self._get(s, SentenceT, sentence_id)
            for rel in rels:
                where = f"sentence {sentence_id}: suggestion"
                src, tgt, src_span, tgt_span = self._pair(sent, rel, where)
                if not rel.model_id or not isinstance(rel.score, (int, float)):
                    raise InputError(where, "a suggestion needs model_id and a numeric score")
                found = s.scalar(select(SuggestionT.id).where(
                    SuggestionT.sentence_id == sentence_id, SuggestionT.source == src, SuggestionT.target == tgt,
                    SuggestionT.sign == rel.sign, SuggestionT.model_id == rel.model_id,
                ))
                if found is None:
                    found = log.add(SuggestionT(
                        sentence_id=sentence_id, source=src, target=tgt, sign=rel.sign,
                        **_span_columns(src_span, tgt_span), model_id=rel.model_id, score=float(rel.score),
                        state="pending", created_at=_now(),
                    )).id
                ids.append(found)
            log.record("suggest", None, f"{len(rels)} suggestions for sentence {sentence_id}", undoable=False)
        return ids

    def suggestions(self, *, sentence_id: int | None = None, document_id: int | None = None,
                    state: str | None = "pending") -> list[SuggestionRow]:
        """Suggestions in `state` (None: all), best score first."""
        if state is not None and state not in SUGGESTION_STATES:
            raise InputError("state", f"{state!r} is not one of {', '.join(SUGGESTION_STATES)}")
        q = self._pair_query(SuggestionT, sentence_id, document_id)
        if state is not None:
            q = q.where(SuggestionT.state == state)
        with self._read() as s:
            return [
                SuggestionRow(
                    id=x.id, sentence_id=x.sentence_id, source=x.source, target=x.target,
                    source_span=_span(x.src_start, x.src_end), target_span=_span(x.tgt_start, x.tgt_end),
                    sign=x.sign, model_id=x.model_id, score=x.score, state=x.state,
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
        with self._write() as log:
            s = log.session
            x = self._pending(s, suggestion_id)
            sent = self._get(s, SentenceT, x.sentence_id)
            rel = PassageRelation(
                src=x.source, tgt=x.target, sign=x.sign, src_span=_span(x.src_start, x.src_end),
                tgt_span=_span(x.tgt_start, x.tgt_end), annotator=annotator, origin="human",
                model_id=x.model_id, score=x.score,
            )
            r = log.add(self._relation(s, sent, rel, annotator, f"suggestion {suggestion_id}"))
            log.update(x, state="accepted", relation_id=r.id, decided_by=annotator)
            self._unmark_no_relation(log, sent.id, r.annotator)
            log.record("accept_suggestion", annotator, f"accept {x.source} -> {x.target}")
            return r.id

    def reject_suggestion(self, suggestion_id: int, annotator: str) -> None:
        with self._write() as log:
            x = self._pending(log.session, suggestion_id)
            log.update(x, state="rejected", decided_by=annotator)
            log.record("reject_suggestion", annotator, f"reject {x.source} -> {x.target}")

    # ---------------------------------------------------------------- concepts
    def concepts(self) -> list[str]:
        """Canonical concept names (merged aliases left out), for autocomplete."""
        with self._read() as s:
            q = select(ConceptT.name).where(ConceptT.canonical_id.is_(None))
            return sorted(s.scalars(q), key=str.casefold)

    def add_concept(self, name: str) -> None:
        name = _name(name, "concept name", "concept")
        with self._write() as log:
            self._ensure(log.session, ConceptT, name)

    def aliases(self) -> dict[str, str]:
        """alias -> canonical name, chains of merges followed to their end."""
        with self._read() as s:
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
        with self._write() as log:
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
        with self._write() as log:
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
        )
        if document_ids is not None:
            q = q.where(DocumentT.id.in_(list(document_ids)))
        if annotators is not None:
            q = q.where(RelationT.annotator.in_(list(annotators)))
        if origins is not None:
            q = q.where(RelationT.origin.in_(list(origins)))
        if min_score is not None:
            q = q.where(or_(RelationT.score.is_(None), RelationT.score >= min_score))
        with self._read() as s:
            return [
                Evidence(
                    relation_id=r.id, source=r.source, target=r.target, sign=r.sign, strength=r.strength,
                    sentence_id=x.id, sentence_text=x.text, document_id=d.id, document_title=d.title or d.filename,
                    page=x.page, annotator=r.annotator, origin=r.origin, model_id=r.model_id, score=r.score,
                )
                for r, x, d in s.execute(q.order_by(RelationT.id))
            ]

    def export_documents(self, document_ids: list[int] | None = None) -> list[ParsedDocument]:
        """Documents as ParsedDocuments with their relations, for the file writers (formats.py); a
        sentence's status is everyone's together (see sentences), as a file has one per sentence."""
        with self._read() as s:
            q = select(DocumentT).order_by(DocumentT.id)
            if document_ids is not None:
                q = q.where(DocumentT.id.in_(list(document_ids)))
            out = []
            for d in s.scalars(q):
                sents = list(s.scalars(
                    select(SentenceT).where(SentenceT.document_id == d.id).order_by(SentenceT.position, SentenceT.id)
                ))
                statuses = _statuses(s, SentenceT.document_id == d.id, None)
                rels: dict[int, list[PassageRelation]] = {}
                rq = (select(RelationT).join(SentenceT, SentenceT.id == RelationT.sentence_id)
                      .where(SentenceT.document_id == d.id).order_by(RelationT.id))
                for r in s.scalars(rq):
                    rels.setdefault(r.sentence_id, []).append(self._passage_relation(r))
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
                        )
                        for x in sents
                    ],
                ))
            return out


def main(argv: list[str] | None = None) -> int:
    """`python -m data.store`: look into, fill or export the database from a shell."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m data.store", description="The fuzzymap annotation store.")
    parser.add_argument("--db", help="SQLAlchemy URL or SQLite path (default: $FUZZYMAP_DB or var/fuzzymap.db)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("info", help="schema version and documents with their label counts")
    load = commands.add_parser("import", help="import files (PDF, TXT, MD, DOCX, RTF, TwoSix JSON, JSONL) at once")
    load.add_argument("files", nargs="+")
    load.add_argument("--annotator", help="who labelled the relations the files carry (TwoSix)")
    dump = commands.add_parser("export", help="write documents with their relations")
    dump.add_argument("--format", choices=("twosix", "jsonl", "csv"), default="jsonl")
    dump.add_argument("--documents", help="comma-separated document ids (default: all)")
    dump.add_argument("--out", help="file to write (default: standard output)")
    args = parser.parse_args(argv)
    try:
        store = Store(args.db)
        if args.command == "info":
            with store._engine.connect() as conn:
                version = conn.execute(select(SchemaVersion.version)).scalar()
            print(f"{make_url(store.url).render_as_string(hide_password=True)}  schema version {version}")
            for d in store.list_documents():
                print(f"{d.id:>5}  {d.filename}  {d.title or ''}  sentences {d.n_sentences}, labeled {d.n_labeled}, "
                      f"no-relation {d.n_no_relation}, discarded {d.n_discarded}")
        elif args.command == "import":
            from data.ingest import read_path

            docs = [doc for f in args.files for doc in read_path(f)]
            ids = store.import_documents(docs, annotator=args.annotator)
            print(f"imported {len(docs)} documents: ids {', '.join(map(str, ids))}")
        else:
            from data.formats import write_jsonl, write_relations_csv, write_twosix

            ids = [int(x) for x in args.documents.split(",")] if args.documents else None
            writer = {"twosix": write_twosix, "jsonl": write_jsonl, "csv": write_relations_csv}[args.format]
            text = writer(store.export_documents(ids))
            if args.out:
                Path(args.out).write_text(text, encoding="utf-8")
            else:
                sys.stdout.write(text)
        store.close()
    except (InputError, KeyError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
