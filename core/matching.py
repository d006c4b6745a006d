"""Matching relations: do two relation records name the same source, target and sign?

A relation is anything with a source, a target and a sign: a PassageRelation, a store RelationRow
or SuggestionRow, an Evidence, or a TwoSix "LLM" dict ({"src", "tgt", "direction"}).
Matching is always inside one sentence and one-to-one (a maximum bipartite matching, so one
loose prediction cannot claim two gold relations). The same matcher serves the Agreement and
Compare pages and the relation model's end-to-end score.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from core.names import normalize
from core.signs import direction_sign
from core.types import Span

MatchMode = Literal["overlap", "exact"]

STOPWORDS = frozenset(
    "a an the of in on at to for from by with and or as is are was were be been its their this that "
    "these those".split()
)
"""Words that alone never make two concept texts 'the same concept'."""

_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Rel:
    """The fields matching needs, whatever record a relation came in."""

    src: str
    tgt: str
    sign: int
    src_span: Span | None = None
    tgt_span: Span | None = None


def as_rel(obj: Any) -> Rel:
    """View any supported relation record as a Rel."""
    if isinstance(obj, Rel):
        return obj
    if isinstance(obj, Mapping):
        sign = obj["sign"] if "sign" in obj else direction_sign(obj.get("direction"))
        return Rel(str(obj.get("src", "")), str(obj.get("tgt", "")), int(sign),
                   _span(obj.get("src_span")), _span(obj.get("tgt_span")))
    if hasattr(obj, "src"):  # PassageRelation
        return Rel(obj.src, obj.tgt, int(obj.sign), _span(obj.src_span), _span(obj.tgt_span))
    return Rel(obj.source, obj.target, int(obj.sign),  # RelationRow, SuggestionRow, Evidence
               _span(getattr(obj, "source_span", None)), _span(getattr(obj, "target_span", None)))


def _span(value: Any) -> Span | None:
    return None if value is None else (int(value[0]), int(value[1]))


def _singular(word: str) -> str:
    """'farms' -> 'farm' (not 'grass' or 'gas'): plural and singular mentions share a word."""
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def content_words(text: str) -> frozenset[str]:
    """Words of a concept text without stop words (all words if it has nothing else), singular."""
    words = _WORD.findall(text.casefold())
    content = [w for w in words if w not in STOPWORDS] or words
    return frozenset(_singular(w) for w in content)


def concepts_match(a: str, b: str, a_span: Span | None = None, b_span: Span | None = None,
                   mode: MatchMode = "overlap") -> bool:
    """Do two concept mentions name the same thing?

    exact: identical spans when both have one, else identical normalised text.
    overlap: overlapping spans, or at least one shared content word.
    """
    if mode == "exact":
        if a_span is not None and b_span is not None:
            return a_span == b_span
        return normalize(a) == normalize(b)
    if mode != "overlap":
        raise ValueError(f"unknown match mode {mode!r}")
    if a_span is not None and b_span is not None and a_span[0] < b_span[1] and b_span[0] < a_span[1]:
        return True
    return bool(content_words(a) & content_words(b))


def relations_match(pred: Any, gold: Any, mode: MatchMode = "overlap") -> bool:
    """Same sign (a gold sign of 0, 'unknown', accepts either), and source and target match."""
    p, g = as_rel(pred), as_rel(gold)
    return ((p.sign == g.sign or g.sign == 0)
            and concepts_match(p.src, g.src, p.src_span, g.src_span, mode)
            and concepts_match(p.tgt, g.tgt, p.tgt_span, g.tgt_span, mode))


def match_relations(pred: Sequence[Any], gold: Sequence[Any],
                    mode: MatchMode = "overlap") -> list[tuple[int, int]]:
    """A maximum one-to-one matching of one sentence's predicted and gold relations.

    Returns (pred index, gold index) pairs sorted by pred index. Exact pairs are matched first and
    looser ones only added by augmenting paths, so of equally large matchings the tightest is kept.
    """
    p_rels, g_rels = [as_rel(r) for r in pred], [as_rel(r) for r in gold]
    exact = [[j for j, g in enumerate(g_rels) if relations_match(p, g, "exact")] for p in p_rels]
    loose = [[j for j, g in enumerate(g_rels) if j not in ex and relations_match(p, g, mode)]
             for p, ex in zip(p_rels, exact)] if mode != "exact" else [[] for _ in p_rels]
    owner: dict[int, int] = {}  # gold index -> pred index

    def augment(i: int, options: list[list[int]], seen: set[int]) -> bool:  # Kuhn's augmenting path
        for j in options[i]:
            if j in seen:
                continue
            seen.add(j)
            if j not in owner or augment(owner[j], options, seen):
                owner[j] = i
                return True
        return False

    for i in range(len(p_rels)):  # exact pairs first, so the tightest matching is kept
        augment(i, exact, set())
    both = [ex + lo for ex, lo in zip(exact, loose)]
    for i in range(len(p_rels)):
        if i not in owner.values():
            augment(i, both, set())
    return sorted((i, j) for j, i in owner.items())



def conflicts(a: Any, b: Any) -> bool:
    """Two versions of one relation: the same source and target (overlapping concepts), but a
    different sign or different spans. The reverse direction is another relation, no conflict."""
    p, q = as_rel(a), as_rel(b)
    return (concepts_match(p.src, q.src, p.src_span, q.src_span) and concepts_match(p.tgt, q.tgt, p.tgt_span, q.tgt_span)
            and not relations_match(p, q, "exact"))
