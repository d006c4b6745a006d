"""Sign words: how files and models spell a relation's sign."""
from __future__ import annotations

from typing import Any


def direction_sign(direction: Any) -> int:
    """TwoSix 'increase'/'Increase' -> +1, 'decrease' -> -1, anything else -> 0 (matches no sign)."""
    word = str(direction or "").strip().casefold()
    return {"increase": 1, "decrease": -1, "+": 1, "-": -1}.get(word, 0)
