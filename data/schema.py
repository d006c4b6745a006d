"""Tables of the annotation store and the migrations that bring an old database up to date.

The schema is versioned: `schema_version` holds one row with the version number, and
`MIGRATIONS[i]` upgrades a version-(i+1) database to version i+2. A fresh database is created
at the latest version directly. Everything here is plain portable SQL (SQLite, PostgreSQL, ...):
times are ISO-8601 UTC strings and JSON is stored as text, so no dialect-specific type is needed.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone

from sqlalchemy import (
    Boolean,
    Connection,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from core.errors import InputError

NAME_LEN = 255
"""Longest annotator / concept name: short enough for a unique index on every backend."""


class Base(DeclarativeBase):
    pass


class SchemaVersion(Base):
    __tablename__ = "schema_version"
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)


class DocumentT(Base):
    __tablename__ = "documents"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    filename: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(200), unique=True)
    format: Mapped[str] = mapped_column(String(32), default="")
    title: Mapped[str | None] = mapped_column(Text, nullable=True)
    authors: Mapped[str | None] = mapped_column(Text, nullable=True)
    year: Mapped[str | None] = mapped_column(String(32), nullable=True)
    year_is_int: Mapped[bool] = mapped_column(Boolean, default=False)
    created: Mapped[str] = mapped_column(String(40))
    pending: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    """Set while an import is still writing the document's batches (the time of the last one):
    every read leaves such a document out; the import's last transaction clears it."""


class SentenceT(Base):
    __tablename__ = "sentences"
    __table_args__ = (Index("ix_sentences_document_position", "document_id", "position"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    page: Mapped[int | None] = mapped_column(Integer, nullable=True)
    start_char: Mapped[int] = mapped_column(Integer, default=0)
    end_char: Mapped[int] = mapped_column(Integer, default=0)
    is_reference: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="unseen")
    """Since version 3 only a status no annotator is known for (see SentenceStatusT)."""
    llm: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON text, added in version 2


class DocumentFileT(Base):
    """The uploaded PDF itself (table added in version 5), for showing a sentence on its page."""

    __tablename__ = "document_files"
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"),
                                             primary_key=True, autoincrement=False)
    content: Mapped[bytes] = mapped_column(LargeBinary)


class SentenceBoxesT(Base):
    """Where a PDF sentence is drawn (table added in version 5): JSON list of
    [page, x0, top, x1, bottom] in fractions of the page size."""

    __tablename__ = "sentence_boxes"
    sentence_id: Mapped[int] = mapped_column(ForeignKey("sentences.id", ondelete="CASCADE"),
                                             primary_key=True, autoincrement=False)
    boxes: Mapped[str] = mapped_column(Text)


class ConceptT(Base):
    """A concept name; canonical_id set = this name is an alias of that concept (a merge)."""

    __tablename__ = "concepts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LEN), unique=True)
    canonical_id: Mapped[int | None] = mapped_column(ForeignKey("concepts.id"), nullable=True)
    created: Mapped[str] = mapped_column(String(40))


class AnnotatorT(Base):
    __tablename__ = "annotators"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LEN), unique=True)
    created: Mapped[str] = mapped_column(String(40))


class UserT(Base):
    """A sign-in account (table added in version 10). `password` is an argon2 hash, or NULL for a
    user who signs in through the team's identity provider (st.login)."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LEN), unique=True)
    password: Mapped[str | None] = mapped_column(String(255), nullable=True)
    role: Mapped[str] = mapped_column(String(32))
    created: Mapped[str] = mapped_column(String(40))


class SentenceStatusT(Base):
    """One annotator's "no-relation" or "discarded" mark on a sentence (table added in version 3).

    Why per annotator: agreement needs to know which sentences each annotator has read, and one
    annotator's "no relation" must not count as another's progress. "labeled" is never stored here:
    it is having a human relation in the sentence. `sentences.status` keeps only what no annotator
    is known for: a version-2 mark the action log cannot attribute, or one imported without a name.
    """

    __tablename__ = "sentence_status"
    __table_args__ = (UniqueConstraint("sentence_id", "annotator_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sentence_id: Mapped[int] = mapped_column(ForeignKey("sentences.id", ondelete="CASCADE"))
    annotator_id: Mapped[int] = mapped_column(ForeignKey("annotators.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    updated: Mapped[str] = mapped_column(String(40))


class _Pair:
    """Columns of a concept pair in one sentence: shared by relations and suggestions."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sentence_id: Mapped[int] = mapped_column(ForeignKey("sentences.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(Text)
    target: Mapped[str] = mapped_column(Text)
    src_start: Mapped[int | None] = mapped_column(Integer, nullable=True)
    src_end: Mapped[int | None] = mapped_column(Integer, nullable=True)
    tgt_start: Mapped[int | None] = mapped_column(Integer, nullable=True)
    tgt_end: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sign: Mapped[int] = mapped_column(Integer)


class RelationT(_Pair, Base):
    __tablename__ = "relations"
    strength: Mapped[str] = mapped_column(String(4), default="M")
    annotator: Mapped[str | None] = mapped_column(String(NAME_LEN), nullable=True, index=True)
    origin: Mapped[str] = mapped_column(String(16), default="human")
    model_id: Mapped[str | None] = mapped_column(String(NAME_LEN), nullable=True)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)  # added in version 2
    extra: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON text, added in version 2
    created_at: Mapped[str] = mapped_column(String(40))
    updated_at: Mapped[str] = mapped_column(String(40))


class SuggestionT(_Pair, Base):
    """A model's proposed relation waiting for a human decision (table added in version 2)."""

    __tablename__ = "suggestions"
    model_id: Mapped[str] = mapped_column(String(NAME_LEN))
    score: Mapped[float] = mapped_column(Float)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    relation_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(NAME_LEN), nullable=True)
    created_at: Mapped[str] = mapped_column(String(40))
    # the model's reading of each concept's state ("low rainfall": decrease), added in version 7
    direction_src: Mapped[str | None] = mapped_column(String(8), nullable=True)
    direction_tgt: Mapped[str | None] = mapped_column(String(8), nullable=True)


class ActionT(Base):
    """Audit log and undo stack: every change as (table, id, before row, after row) JSON."""

    __tablename__ = "actions"
    __table_args__ = (Index("ix_actions_annotator_id", "annotator", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    annotator: Mapped[str | None] = mapped_column(String(NAME_LEN), nullable=True)
    kind: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text)
    changes: Mapped[str] = mapped_column(Text)
    undoable: Mapped[bool] = mapped_column(Boolean, default=True)
    undone_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[str] = mapped_column(String(40))


class SettingT(Base):
    """One app-wide setting as text (table added in version 8): the active relation model, chosen on
    the Model page, lives here so every session and a restarted server see the same choice."""

    __tablename__ = "settings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(NAME_LEN), unique=True)
    value: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str | None] = mapped_column(String(NAME_LEN), nullable=True)
    updated: Mapped[str] = mapped_column(String(40))



class ExtractRunT(Base):
    """What the model proposed for one file on the Extract page, kept so a reload lists it (table
    added in version 6). document: the file's document as one fuzzymap JSONL record with the
    proposals as its sentences' relations; error: the one-line reason the file gave nothing."""

    __tablename__ = "extract_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created: Mapped[str] = mapped_column(String(40))
    annotator: Mapped[str | None] = mapped_column(String(NAME_LEN), nullable=True)
    batch: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(Text)
    model_id: Mapped[str | None] = mapped_column(String(NAME_LEN), nullable=True)
    sentences: Mapped[int] = mapped_column(Integer, default=0)
    relations: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    document: Mapped[str | None] = mapped_column(Text, nullable=True)


class ModelRunT(Base):
    """A relation model (by model id) was run on a sentence (table added in version 11), whether or
    not it proposed anything there: Compare scores a model only on sentences it has read."""

    __tablename__ = "model_runs"
    __table_args__ = (UniqueConstraint("sentence_id", "model_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sentence_id: Mapped[int] = mapped_column(ForeignKey("sentences.id", ondelete="CASCADE"), index=True)
    model_id: Mapped[str] = mapped_column(String(NAME_LEN), index=True)
    created: Mapped[str] = mapped_column(String(40))


class AssignmentT(Base):
    """A reviewer's assignment of a document's sentences first..last (positions, inclusive) to an
    annotator (table added in version 9). Two assignments of one sentence to two annotators are
    the overlap that agreement is measured on."""

    __tablename__ = "assignments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    annotator: Mapped[str] = mapped_column(String(NAME_LEN), index=True)
    first: Mapped[int] = mapped_column(Integer)
    last: Mapped[int] = mapped_column(Integer)
    assigned_by: Mapped[str | None] = mapped_column(String(NAME_LEN), nullable=True)
    created: Mapped[str] = mapped_column(String(40))


def _v1_to_v2(conn: Connection) -> None:
    """Version 2 keeps other systems' predictions per sentence (TwoSix "LLM" block), notes and
    format-specific extras on relations, and adds the model-suggestion queue."""
    for table, column in (("sentences", "llm"), ("relations", "note"), ("relations", "extra")):
        conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} TEXT"))
    SuggestionT.__table__.create(conn, checkfirst=True)


def _status_authors(conn: Connection) -> dict[int, tuple[str | None, str]]:
    """sentence id -> (who, status) of the last logged change of its status, by replaying the
    action log: a set_status action names its annotator; an undo gives back whoever had set the
    status it restores; any other change (import, merge, split, a label) names nobody."""
    actions = ActionT.__table__
    undid = dict(conn.execute(select(actions.c.undone_by, actions.c.id).where(actions.c.undone_by.is_not(None))).all())
    now: dict[int, tuple[str | None, str]] = {}
    before: dict[int, dict[int, tuple[str | None, str] | None]] = {}  # action id -> `now` it changed
    q = select(actions.c.id, actions.c.annotator, actions.c.kind, actions.c.changes).order_by(actions.c.id)
    for id_, annotator, kind, changes in conn.execute(q):
        prev = before[id_] = {}
        for table, sid, old, new in json.loads(changes):
            if table != "sentences" or (old and new and old["status"] == new["status"]):
                continue
            prev.setdefault(sid, now.get(sid))
            if new is None:
                now.pop(sid, None)
                continue
            restored = before.get(undid.get(id_), {}).get(sid) if kind == "undo" else None
            who = annotator if kind == "set_status" else restored[0] if restored else None
            now[sid] = (who, new["status"])
    return now


def _v2_to_v3(conn: Connection) -> None:
    """Version 3 keeps "no-relation" / "discarded" per annotator (sentence_status table).

    A version-2 mark moves to the annotator whose logged set_status made it, when the log shows
    that the sentence's last status change was that annotator's set_status (or an undo back to
    it) and it set the status the sentence has now. Anything else (no name in the log, a merge,
    split or import set it) stays in `sentences.status`, which from now on means "no annotator
    known": no annotator's progress or agreement counts it, rather than guessing whose it was.
    Logged version-2 set_status actions are no longer undoable: undoing one would reset the old
    shared column, not the mark that moved.
    """
    SentenceStatusT.__table__.create(conn, checkfirst=True)
    sentences, annotators = SentenceT.__table__, AnnotatorT.__table__
    authors = _status_authors(conn)
    stamp = datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
    marked = conn.execute(select(sentences.c.id, sentences.c.status)
                          .where(sentences.c.status.in_(("no-relation", "discarded")))).all()
    moved = [(sid, authors[sid][0], status) for sid, status in marked
             if sid in authors and authors[sid][0] and authors[sid][1] == status]
    ids: dict[str, int] = {}
    for name in {who for _, who, _ in moved}:
        ids[name] = conn.scalar(select(annotators.c.id).where(annotators.c.name == name)) or conn.execute(
            annotators.insert().values(name=name, created=stamp)).inserted_primary_key[0]
    for sid, who, status in moved:
        conn.execute(SentenceStatusT.__table__.insert().values(
            sentence_id=sid, annotator_id=ids[who], status=status, updated=stamp))
    if moved:
        conn.execute(update(sentences).where(sentences.c.id.in_([sid for sid, _, _ in moved])).values(status="unseen"))
    actions = ActionT.__table__
    conn.execute(update(actions).where(actions.c.kind == "set_status").values(undoable=False))


def _pending_imports(conn: Connection) -> None:
    """documents.pending: large imports are written in batches, and a document is invisible
    until its import's last transaction (see Store.import_documents)."""
    conn.execute(text("ALTER TABLE documents ADD COLUMN pending VARCHAR(40)"))
    conn.execute(text("CREATE INDEX ix_documents_pending ON documents (pending)"))


def _add_page_view_tables(conn: Connection) -> None:
    """Version 5 keeps PDFs and sentence boxes for the page view; documents imported before
    have neither and show no page."""
    DocumentFileT.__table__.create(conn, checkfirst=True)
    SentenceBoxesT.__table__.create(conn, checkfirst=True)


def _add_extract_runs(conn: Connection) -> None:
    """Version 6 keeps Extract page results (extract_runs) so they survive a reload."""
    ExtractRunT.__table__.create(conn, checkfirst=True)


def _suggestion_directions(conn: Connection) -> None:
    """Suggestions keep the direction of each concept the model read from its state words
    (direction_src, direction_tgt: increase / decrease); older suggestions have none (NULL). A
    table that _v1_to_v2 just created from today's model has them already."""
    have = {c["name"] for c in inspect(conn).get_columns("suggestions")}
    for column in ("direction_src", "direction_tgt"):
        if column not in have:
            conn.execute(text(f"ALTER TABLE suggestions ADD COLUMN {column} VARCHAR(8)"))


def _add_settings_table(conn: Connection) -> None:
    """Version 8 adds the settings table (the active relation model)."""
    SettingT.__table__.create(conn, checkfirst=True)


def _add_assignments(conn: Connection) -> None:
    """Version 9 lets a reviewer assign documents or sentence ranges to annotators."""
    AssignmentT.__table__.create(conn, checkfirst=True)


def _add_users_table(conn: Connection) -> None:
    """Version 10 adds sign-in accounts (users table); existing annotators get no account until an
    admin adds one, and their labels stay theirs by name."""
    UserT.__table__.create(conn, checkfirst=True)


def _add_model_runs(conn: Connection) -> None:
    """Version 11 records which sentences each model was run on (model_runs). Older databases know
    it only where a model proposed something: those sentences are recorded; the rest count as not
    run, and Compare offers to run the model on the ones a reference judged."""
    ModelRunT.__table__.create(conn, checkfirst=True)
    stamp = datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
    conn.execute(text(
        "INSERT INTO model_runs (sentence_id, model_id, created) SELECT DISTINCT sentence_id, model_id, :stamp "
        "FROM (SELECT sentence_id, model_id FROM suggestions UNION SELECT sentence_id, model_id FROM relations "
        "WHERE origin = 'model') AS ran WHERE model_id IS NOT NULL AND model_id NOT LIKE 'llm:%'"), {"stamp": stamp})


MIGRATIONS: list[Callable[[Connection], None]] = [_v1_to_v2, _v2_to_v3, _pending_imports, _add_page_view_tables, _add_extract_runs, _suggestion_directions, _add_settings_table, _add_assignments, _add_users_table, _add_model_runs]
SCHEMA_VERSION = len(MIGRATIONS) + 1


def current_version(conn: Connection) -> int | None:
    """The database's schema version; None for an empty database."""
    if not inspect(conn).has_table("schema_version"):
        return None
    return conn.execute(select(SchemaVersion.version)).scalar()


def upgrade(conn: Connection) -> int:
    """Create or migrate the schema inside the caller's transaction; returns the version found."""
    found = current_version(conn)
    if found is None and inspect(conn).get_table_names():
        raise InputError("database", "holds other tables but no schema_version: not a fuzzymap database")
    if found is None:
        Base.metadata.create_all(conn)
        conn.execute(SchemaVersion.__table__.insert().values(version=SCHEMA_VERSION))
        return SCHEMA_VERSION
    if found > SCHEMA_VERSION:
        raise RuntimeError(f"database schema version {found} is newer than this program ({SCHEMA_VERSION})")
    for migrate in MIGRATIONS[found - 1:]:
        migrate(conn)
    if found < SCHEMA_VERSION:
        conn.execute(SchemaVersion.__table__.update().values(version=SCHEMA_VERSION))
    return found
