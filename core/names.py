"""Concept names and texts compared as people read them: spacing (and for keys, case) ignored."""
from __future__ import annotations


def clean_name(name: str) -> str:
    """Collapse runs of whitespace so 'wind  farm ' and 'wind farm' are the same concept."""
    return " ".join(name.split())


def normalize(text: str) -> str:
    """Case-folded, single-spaced text: the key two spellings of one concept or text share."""
    return clean_name(text.casefold())
