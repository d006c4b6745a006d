"""Sign-in accounts: argon2-hashed passwords, roles, and the first admin of a fresh install.

Accounts live in the store's database (users table), so a team sharing a PostgreSQL database
shares its accounts. Passwords are hashed with argon2id (argon2-cffi, its default parameters);
only the hash is stored, and it never enters the action log.
"""
from __future__ import annotations

import hmac
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select

from core.errors import InputError
from data.roles import ROLES, Acting, Actor, NotAllowed
from data.schema import NAME_LEN, UserT
from data.store import Store
from data.store.log import _now

MIN_PASSWORD = 8
ADMIN_USER_ENV, ADMIN_PASSWORD_ENV = "FUZZYMAP_ADMIN_USER", "FUZZYMAP_ADMIN_PASSWORD"
_HASHER = PasswordHasher()
_DUMMY = _HASHER.hash("not anyone's password")  # verified for unknown names: no timing hint they are unknown


def hash_password(password: str) -> str:
    """An argon2id hash of a password that passes `check_password`."""
    return _HASHER.hash(check_password(password))


def verify_password(stored: str | None, password: str) -> bool:
    """Whether `password` matches the stored hash; False for a user without one (identity provider)."""
    try:
        return _HASHER.verify(stored or _DUMMY, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def check_password(password: str) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise InputError("password", f"needs at least {MIN_PASSWORD} characters")
    return password


def check_user_name(name: object) -> str:
    name = name.strip() if isinstance(name, str) else ""
    if not name or len(name) > NAME_LEN or not name.isprintable():
        raise InputError("user name", f"must be 1 to {NAME_LEN} printable characters")
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise InputError("role", f"unknown role {role!r} (choose from {', '.join(ROLES)})")
    return role


@dataclass(frozen=True)
class UserRow:
    name: str
    role: str
    has_password: bool
    created: str


class Accounts:
    """The users table of a Store's database."""

    def __init__(self, store: Store):
        self._store = store

    def count(self) -> int:
        with self._store.reading() as s:
            return s.scalar(select(func.count()).select_from(UserT))

    def users(self) -> list[UserRow]:
        with self._store.reading() as s:
            return [UserRow(u.name, u.role, u.password is not None, u.created)
                    for u in s.scalars(select(UserT).order_by(func.lower(UserT.name)))]

    def add_user(self, name: str, password: str | None, role: str = "annotator", by: Acting = None) -> Actor:
        """A new account (password None: signs in through the identity provider only). Signed in,
        only an admin adds users."""
        _need_admin(by, "add user")
        name, role = check_user_name(name), check_role(role)
        hashed = None if password is None else hash_password(password)
        self._store.ensure_annotator(name)
        with self._store.writing() as log:
            s = log.session
            if s.scalar(select(UserT.id).where(UserT.name == name)) is not None:
                raise InputError("user name", f"{name!r} already has an account")
            s.add(UserT(name=name, password=hashed, role=role, created=_now()))
        return Actor(name, role)

    def set_role(self, name: str, role: str, by: Acting = None) -> None:
        """Changes a user's role; the last admin cannot be demoted (someone must manage accounts)."""
        _need_admin(by, "set role")
        role = check_role(role)
        with self._store.writing() as log:
            s = log.session
            user = _user(s, name)
            admins = s.scalar(select(func.count()).select_from(UserT).where(UserT.role == "admin"))
            if user.role == "admin" and role != "admin" and admins <= 1:
                raise InputError("role", f"{name} is the only admin; make someone else admin first")
            user.role = role

    def set_password(self, name: str, password: str, by: Acting = None) -> None:
        """A new password: one's own, or anyone's by an admin."""
        if not (by is None or isinstance(by, str) or by.name == name):
            _need_admin(by, "set password")
        hashed = hash_password(password)
        with self._store.writing() as log:
            _user(log.session, name).password = hashed

    def sign_in(self, name: str, password: str) -> Actor | None:
        """The user when name and password match an account, else None (which one was wrong is not said)."""
        with self._store.reading() as s:
            user = s.scalars(select(UserT).where(UserT.name == (name or "").strip())).first()
        if not verify_password(user.password if user else None, password or "") or user is None:
            return None
        return Actor(user.name, user.role)

    def find(self, name: str) -> Actor | None:
        """The account's current role (None when it is gone): a signed-in session re-reads it."""
        with self._store.reading() as s:
            user = s.scalars(select(UserT).where(UserT.name == name)).first()
        return Actor(user.name, user.role) if user else None

    def identity(self, name: str) -> Actor:
        """The account of a user the identity provider vouched for; a first visit creates an
        annotator account without a password (an admin can raise its role)."""
        found = self.find(name)
        if found is not None:
            return found
        try:
            return self.add_user(name, None)
        except InputError:  # another session created it first
            return self.identity(name)

    def bootstrap(self, env: Mapping[str, str] = os.environ) -> str | None:
        """First start: with no account yet, creates the admin named in FUZZYMAP_ADMIN_USER /
        FUZZYMAP_ADMIN_PASSWORD, or returns a one-time token for the server to print, which
        `claim` exchanges for the first admin account. None when accounts exist (or were made)."""
        if self.count():
            return None
        if env.get(ADMIN_USER_ENV) and env.get(ADMIN_PASSWORD_ENV):
            self.add_user(env[ADMIN_USER_ENV], env[ADMIN_PASSWORD_ENV], "admin")
            return None
        return secrets.token_urlsafe(16)

    def claim(self, token: str, expected: str, name: str, password: str) -> Actor:
        """The first admin, for whoever holds the token printed at start; refused once any account exists."""
        if not (token and hmac.compare_digest(token.strip().encode(), expected.encode())):
            raise NotAllowed("token", "does not match the one printed in the server console")
        if self.count():
            raise NotAllowed("token", "an admin already exists; ask them for an account")
        return self.add_user(name, password, "admin")


def _need_admin(by: Acting, what: str) -> None:
    if isinstance(by, Actor) and not by.administers:
        raise NotAllowed(what, f"needs the admin role; {by.name} is {by.role}")


def _user(s, name: str) -> UserT:
    user = s.scalars(select(UserT).where(UserT.name == name)).first()
    if user is None:
        raise InputError("user", f"no account named {name!r}")
    return user
