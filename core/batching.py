"""Batches of texts by length, shortest first: a batch is padded to its longest text, so texts of
like length batched together cut the padded tokens a model computes. Used by the extraction path
(models.extractor) and by the relation writer's own generate calls (models.writer)."""
from __future__ import annotations

from collections.abc import Sequence


def length_batches(texts: Sequence[str], size: int) -> list[list[int]]:
    """Indices of texts, shortest first, in batches of size (at least 1)."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    size = max(1, size)
    return [order[first:first + size] for first in range(0, len(order), size)]
