"""Sign words: how files and other systems spell a relation's sign."""
from __future__ import annotations

from typing import Any

DIRECTIONS = {"increase": 1, "decrease": -1}
"""The words a TwoSix file's labelled relations spell their sign with (any case)."""
DIRECTION_WORDS = {sign: word for word, sign in DIRECTIONS.items()}
"""+1 / -1 -> the word a relation's direction_src / direction_tgt is written with."""
SIGN_WORDS = {**DIRECTIONS, "increases": 1, "decreases": -1, "+": 1, "-": -1}
"""What another system's relations (a TwoSix "LLM" block) may say."""


def sign_word(word: Any, words: dict[str, int] = SIGN_WORDS) -> int | None:
    """+1 / -1 for a sign word in any case and spacing; None for anything else."""
    return words.get(str(word or "").strip().casefold())


def direction_sign(direction: Any) -> int:
    """'increase'/'Increase' -> +1, 'decrease' -> -1, anything else -> 0 (matches no sign)."""
    return sign_word(direction) or 0
