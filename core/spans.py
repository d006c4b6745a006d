"""Finding a concept's text inside a sentence, for formats that carry no offsets."""
from __future__ import annotations

import re

from core.types import Span


def find_span(text: str, phrase: str, near: int | None = None) -> Span | None:
    """Offsets of `phrase` in `text`, case-insensitive; None when it does not occur.

    Whole-word occurrences win over ones inside a longer word ("rain" is not found in
    "training" if it also stands alone); among equals the one closest to `near` (a previous
    start offset, so an edited sentence keeps pointing at the same mention) or else the first.
    """
    phrase = phrase.strip()
    if not phrase:
        return None
    pattern = re.escape(phrase)
    hits = [m.span() for m in re.finditer(pattern, text, flags=re.IGNORECASE)]
    if not hits:
        return None
    words = [h for h in hits if _whole_word(text, h)]
    pool = words or hits
    if near is None:
        return pool[0]
    return min(pool, key=lambda h: (abs(h[0] - near), h[0]))


def _whole_word(text: str, span: Span) -> bool:
    start, end = span
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return not (before.isalnum() or after.isalnum())
