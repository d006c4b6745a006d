"""App-wide settings kept in the store (table `settings`): today, which relation model is active.

Why in the store and not the session: the Model page's choice must reach the Label and Extract
pages of every browser tab, and survive a server restart. Each change is written to the action
log (not undoable: choosing again is the undo), so nobody loses track of which model made what.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select

from core.errors import InputError
from data.roles import Acting, check_reviews, name_of
from data.schema import SettingT

ACTIVE_MODEL = "active_model"
"""Key of the bundle folder the app's suggestions and extraction use (FUZZYMAP_MODEL overrides it)."""


def get_setting(store, key: str) -> str | None:
    """The stored value of `key`, or None when it was never set."""
    with store.reading() as s:
        return s.scalar(select(SettingT.value).where(SettingT.key == key))


def set_setting(store, key: str, value: str, annotator: Acting = None) -> None:
    """Store `value` under `key` (one transaction, logged with who changed it). App-wide settings
    (the active model) are a reviewer's choice: a signed-in annotator is refused."""
    check_reviews(annotator, f"setting {key}")
    annotator = name_of(annotator)
    if not key or not isinstance(value, str) or not value.strip():
        raise InputError(key or "setting", "a setting needs a non-empty text value")
    stamp = datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
    with store.writing() as log:
        row = log.session.scalars(select(SettingT).where(SettingT.key == key)).first()
        if row is None:
            log.add(SettingT(key=key, value=value, updated_by=annotator, updated=stamp))
        else:
            log.update(row, value=value, updated_by=annotator, updated=stamp)
        log.record("set_setting", annotator, f"{key} = {value}", undoable=False)


def active_model(store) -> str | None:
    """The bundle folder chosen on the Model page, or None when none was chosen."""
    return get_setting(store, ACTIVE_MODEL)
