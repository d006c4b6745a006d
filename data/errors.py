"""The one error type for bad user input: it names the file and the reason in one line."""
from __future__ import annotations


class InputError(ValueError):
    """Raised for any file or value a user supplied that cannot be used; nothing was changed."""

    def __init__(self, name: str, reason: str):
        self.name = name
        self.reason = reason
        super().__init__(f"{name}: {reason}")
