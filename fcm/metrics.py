"""Graph-theoretic map indices after Özesmi & Özesmi (2004), vectorised over the weight matrix.

W[i, j] is the effect of i on j, so outdegree sums a row and indegree a column of |W|.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass
class ConceptMetrics:
    indegree: float
    outdegree: float
    centrality: float
    type: str
    """driver (only out), receiver (only in), ordinary (both), isolated (neither)."""


@dataclass
class MapMetrics:
    """Whole-map indices plus per-concept degrees, in the CLI's JSON shape (to_dict).

    complexity is receivers / drivers; it is None (JSON null) when the map has no driver,
    because the ratio is then undefined (0/0) or infinite, and neither is a JSON number.
    """

    n_concepts: int
    n_edges: int
    density: float
    connections_per_concept: float
    n_drivers: int
    n_receivers: int
    n_ordinary: int
    complexity: float | None
    hierarchy: float
    concepts: dict[str, ConceptMetrics]

    def to_dict(self) -> dict:
        return asdict(self)


def degrees(W: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(indegree, outdegree) per concept: column and row sums of |W|."""
    A = np.abs(np.asarray(W, dtype=float))
    return A.sum(axis=0), A.sum(axis=1)


def concept_types(indegree: np.ndarray, outdegree: np.ndarray) -> list[str]:
    kinds = np.where(
        indegree > 0,
        np.where(outdegree > 0, "ordinary", "receiver"),
        np.where(outdegree > 0, "driver", "isolated"),
    )
    return kinds.tolist()


def hierarchy_index(outdegree: np.ndarray) -> float:
    """MacDonald (1983): 12 / ((N-1) N (N+1)) * sum_i (od_i - mean od)^2; 0 for N < 2."""
    n = len(outdegree)
    if n < 2:
        return 0.0
    return float(12.0 / ((n - 1) * n * (n + 1)) * np.sum((outdegree - outdegree.mean()) ** 2))


def map_metrics(concepts: list[str], W: np.ndarray) -> MapMetrics:
    """All indices of a map. Edges are the non-zero entries of W (a diagonal entry counts too)."""
    W = np.asarray(W, dtype=float)
    n = len(concepts)
    indeg, outdeg = degrees(W)
    kinds = concept_types(indeg, outdeg)
    n_edges = int(np.count_nonzero(W))
    drivers, receivers = kinds.count("driver"), kinds.count("receiver")
    return MapMetrics(
        n_concepts=n,
        n_edges=n_edges,
        density=n_edges / (n * (n - 1)) if n > 1 else 0.0,
        connections_per_concept=n_edges / n if n else 0.0,
        n_drivers=drivers,
        n_receivers=receivers,
        n_ordinary=kinds.count("ordinary"),
        complexity=receivers / drivers if drivers else None,
        hierarchy=hierarchy_index(outdeg),
        concepts={
            name: ConceptMetrics(float(i), float(o), float(i + o), k)
            for name, i, o, k in zip(concepts, indeg, outdeg, kinds)
        },
    )
