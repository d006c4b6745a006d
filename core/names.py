"""Concept names and texts compared as people read them: case and spacing ignored."""
from __future__ import annotations


def normalize(text: str) -> str:
    """Case-folded, single-spaced concept text."""
    return " ".join(text.casefold().split())
