"""The change log: every write goes through ChangeLog, which records (table, id, before, after) rows
into the actions table; that log is the audit trail and what undo replays."""
from __future__ import annotations

import json
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.schema import ActionT, AssignmentT, Base, DocumentT, RelationT, SentenceStatusT, SentenceT, SuggestionT


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _row(obj: Base) -> dict:
    return {c.name: getattr(obj, c.name) for c in obj.__table__.columns}



class ChangeLog:
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
            for model in (AssignmentT, SentenceT):
                for child in self.session.scalars(select(model).where(model.document_id == obj.id)).all():
                    self.delete(child)
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


