"""Building a fuzzy cognitive map from labelled relations (core.types.Evidence).

One edge per (source concept, target concept). Its weight is the mean over the evidence of
sign x strength, and the evidence stays attached so a reviewer can read the sentences behind
a number. Disagreeing signs are flagged on the edge (conflict) rather than silently averaged.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from core.errors import InputError
from core.names import clean_name
from core.types import STRENGTHS, Evidence

DEFAULT_STRENGTH = "M"
"""Strength used when a relation carries none (fcm.md: M = 0.5)."""


@dataclass
class Edge:
    """One aggregated causal link with the evidence behind it.

    weight is mean(sign x strength) over the evidence; n_positive / n_negative count the signs
    and conflict is True when both are non-zero, so the reviewer sees the disagreement.
    """

    source: str
    target: str
    weight: float
    evidence: list[Evidence] = field(default_factory=list)
    n_positive: int = 0
    n_negative: int = 0

    @property
    def conflict(self) -> bool:
        return self.n_positive > 0 and self.n_negative > 0

    @property
    def n_evidence(self) -> int:
        return len(self.evidence)

    @property
    def n_documents(self) -> int:
        """Distinct documents that state this edge: the 'number of sources' shown beside it."""
        return len({e.document_id for e in self.evidence})


@dataclass
class FuzzyMap:
    """Concepts, the weight matrix and the edges it came from.

    W[i, j] is the effect of concepts[i] (source) on concepts[j] (target), in [-1, 1].
    edges maps (source, target) names to Edge; a map read from a matrix has edges without
    evidence. self_loops keeps evidence whose source and target resolved to the same concept
    (after aliases): it is not part of W but is not thrown away either.
    """

    concepts: list[str]
    W: np.ndarray
    edges: dict[tuple[str, str], Edge] = field(default_factory=dict)
    self_loops: list[Evidence] = field(default_factory=list)

    def index(self, name: str) -> int:
        try:
            return self.concepts.index(name)
        except ValueError:
            raise KeyError(name) from None

    @property
    def n_edges(self) -> int:
        return int(np.count_nonzero(self.W))

    @classmethod
    def from_matrix(cls, concepts: list[str], W: np.ndarray) -> FuzzyMap:
        """A map from a bare matrix (no evidence): one Edge per non-zero weight."""
        W = np.asarray(W, dtype=float)
        edges = {
            (concepts[i], concepts[j]): Edge(concepts[i], concepts[j], float(W[i, j]))
            for i, j in zip(*np.nonzero(W))
        }
        return cls(list(concepts), W, edges)


@dataclass
class EvidenceFilter:
    """Which evidence counts towards the map; all fields optional, None means 'any'.

    documents: document ids to keep. annotators: names matched against Evidence.annotator or
    Evidence.model_id (who said it). origin: "human" or "model". min_score: drop evidence scored
    below it; unscored evidence (plain human labels) always passes, as in Store.evidence.
    min_evidence: drop edges with fewer pieces of evidence after the other filters.
    """

    documents: frozenset[int] | None = None
    annotators: frozenset[str] | None = None
    origin: str | None = None
    min_score: float | None = None
    min_evidence: int = 1

    def keeps(self, ev: Evidence) -> bool:
        if self.documents is not None and ev.document_id not in self.documents:
            return False
        if self.annotators is not None and not ({ev.annotator, ev.model_id} & set(self.annotators)):
            return False
        if self.origin is not None and ev.origin != self.origin:
            return False
        return self.min_score is None or ev.score is None or ev.score >= self.min_score


def resolve(name: str, aliases: Mapping[str, str]) -> str:
    """Follow alias -> canonical links (chains allowed, cycles stop where they repeat).

    The name is cleaned with clean_name; alias keys are taken as given (build_map cleans them).
    """
    name = clean_name(name)
    seen = {name}
    while name in aliases:
        nxt = clean_name(aliases[name])
        if nxt in seen:
            break
        seen.add(nxt)
        name = nxt
    return name


def signed_strength(ev: Evidence) -> float:
    """sign x strength of one relation; a missing strength counts as DEFAULT_STRENGTH."""
    term = ev.strength or DEFAULT_STRENGTH
    if term not in STRENGTHS:
        raise InputError(f"relation {ev.relation_id}", f"unknown strength {term!r}")
    if ev.sign not in (1, -1):
        raise InputError(f"relation {ev.relation_id}", f"sign must be +1 or -1, got {ev.sign!r}")
    return ev.sign * STRENGTHS[term]


def build_map(
    evidence: Iterable[Evidence],
    aliases: Mapping[str, str] | None = None,
    filter: EvidenceFilter | None = None,
) -> FuzzyMap:
    """Aggregate evidence into a map: aliases resolved first, then grouped per (source, target).

    Concepts are every name that ends up on a kept edge, sorted case-insensitively so the
    same evidence always gives the same matrix.
    """
    aliases = {clean_name(k): clean_name(v) for k, v in (aliases or {}).items()}
    filter = filter or EvidenceFilter()
    groups: dict[tuple[str, str], list[Evidence]] = {}
    self_loops: list[Evidence] = []
    for ev in evidence:
        if not filter.keeps(ev):
            continue
        src, tgt = resolve(ev.source, aliases), resolve(ev.target, aliases)
        if src == tgt:
            self_loops.append(ev)
            continue
        groups.setdefault((src, tgt), []).append(ev)

    edges: dict[tuple[str, str], Edge] = {}
    for (src, tgt), evs in groups.items():
        if len(evs) < filter.min_evidence:
            continue
        values = [signed_strength(e) for e in evs]
        edges[(src, tgt)] = Edge(
            src, tgt, float(np.mean(values)), evs,
            n_positive=sum(v > 0 for v in values), n_negative=sum(v < 0 for v in values),
        )
    concepts = sorted({n for key in edges for n in key}, key=lambda s: (s.casefold(), s))
    pos = {c: i for i, c in enumerate(concepts)}
    W = np.zeros((len(concepts), len(concepts)))
    for (src, tgt), edge in edges.items():
        W[pos[src], pos[tgt]] = edge.weight
    return FuzzyMap(concepts, W, edges, self_loops)
