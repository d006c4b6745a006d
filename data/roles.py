"""Who is acting and what their role lets them change: the rule the store enforces.

A plain annotator name (str) is a trusted caller: the command line, imports, tests and the
app in single-user mode. An `Actor` is a signed-in user, and the store checks every change of
another annotator's rows against the actor's role before writing anything.
"""
from __future__ import annotations

from dataclasses import dataclass

from core.errors import InputError

ROLES = ("annotator", "reviewer", "admin")
"""annotator: labels their own rows · reviewer: also others' rows, adjudication, merges, model
choice · admin: also the accounts. Each role can do everything the roles before it can."""


class NotAllowed(InputError):
    """A signed-in user asked for a change their role does not allow; nothing was changed."""


@dataclass(frozen=True)
class Actor:
    """A signed-in user: the name written into labels and the action log, and their role."""

    name: str
    role: str = "annotator"

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise InputError("role", f"unknown role {self.role!r} (choose from {', '.join(ROLES)})")

    @property
    def reviews(self) -> bool:
        """Reviewers and admins adjudicate, merge concepts, choose models and fix others' labels."""
        return self.role in ("reviewer", "admin")

    @property
    def administers(self) -> bool:
        return self.role == "admin"

    def may_change(self, owner: str | None) -> bool:
        """Own rows always; anyone's (imported rows without an annotator too) for reviewers and admins."""
        return owner == self.name or self.reviews


Acting = Actor | str | None
"""What store methods that change rows take as `annotator`: see the module docstring."""


def name_of(who: Acting) -> str | None:
    """The name to record for `who`."""
    return who.name if isinstance(who, Actor) else who


def check_may_change(who: Acting, owner: str | None, what: str) -> None:
    """Raises NotAllowed when a signed-in `who` may not change a row of `owner`'s."""
    if isinstance(who, Actor) and not who.may_change(owner):
        raise NotAllowed(what, f"belongs to {owner or 'no annotator'}; {who.name} ({who.role}) may change "
                               "only their own")


def check_reviews(who: Acting, what: str) -> None:
    """Raises NotAllowed when a signed-in `who` is not a reviewer or admin."""
    if isinstance(who, Actor) and not who.reviews:
        raise NotAllowed(what, f"needs the reviewer or admin role; {who.name} is {who.role}")
