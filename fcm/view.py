"""What the map page needs: sub-maps, vis.js style data, evidence per concept, scenario deltas.

Returns plain dicts and dataclasses so the Streamlit page only has to display them
(streamlit_agraph: Node(**node), Edge(**edge)).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from core.types import Evidence
from fcm.build import Edge, FuzzyMap
from fcm.metrics import map_metrics
from fcm.simulate import ScenarioResult, SimulationConfig, scenario

SIGN_COLOURS = {1: "#2b83ba", -1: "#d7191c", 0: "#999999"}
"""Edge colour by sign of the weight: blue increases, red decreases, grey for a zero weight."""
TYPE_COLOURS = {"driver": "#1a9641", "receiver": "#fdae61", "ordinary": "#abd9e9", "isolated": "#dddddd"}
MIN_NODE, MAX_NODE = 10.0, 40.0
MIN_WIDTH, MAX_WIDTH = 1.0, 8.0
WORD_JOINER = "\u2060"


def hover_text(text: str) -> str:
    """Text that stays text when parsed as HTML: streamlit-agraph's frontend sets each node title
    with `innerHTML` (vis-network then shows the same string with `innerText`). A `<` followed by
    an invisible word joiner cannot open a tag, comment or declaration, so a concept name such as
    `<img onerror=...>` shows as written and runs nothing."""
    return text.replace("<", "<" + WORD_JOINER)


def subgraph(fmap: FuzzyMap, concepts: Iterable[str]) -> FuzzyMap:
    """The map restricted to the given concepts (in the map's order), edges between them only."""
    keep = set(concepts)
    idx = [i for i, c in enumerate(fmap.concepts) if c in keep]
    names = [fmap.concepts[i] for i in idx]
    edges = {k: e for k, e in fmap.edges.items() if k[0] in keep and k[1] in keep}
    return FuzzyMap(names, fmap.W[np.ix_(idx, idx)], edges)


def top_by_centrality(fmap: FuzzyMap, n: int) -> FuzzyMap:
    """The n most central concepts (ties broken by name) and the edges among them."""
    indeg, outdeg = np.abs(fmap.W).sum(axis=0), np.abs(fmap.W).sum(axis=1)
    order = sorted(range(len(fmap.concepts)), key=lambda i: (-(indeg[i] + outdeg[i]), fmap.concepts[i]))
    return subgraph(fmap, [fmap.concepts[i] for i in order[:n]])


def node_sizes(centrality: np.ndarray) -> np.ndarray:
    """Sizes between MIN_NODE and MAX_NODE, linear in centrality."""
    top = centrality.max(initial=0.0)
    scaled = centrality / top if top > 0 else np.zeros_like(centrality)
    return MIN_NODE + (MAX_NODE - MIN_NODE) * scaled


def edge_width(weight: float) -> float:
    return MIN_WIDTH + (MAX_WIDTH - MIN_WIDTH) * min(abs(weight), 1.0)


def edge_colour(weight: float) -> str:
    return SIGN_COLOURS[int(np.sign(weight))]


def agraph_elements(fmap: FuzzyMap, positions: Mapping[str, tuple[float, float]] | None = None
                    ) -> tuple[list[dict], list[dict]]:
    """(nodes, edges) as keyword dicts for streamlit_agraph Node / Edge; with `positions`
    (fcm.layout.place) each node carries its x and y, for a map drawn without physics.

    Nodes: size by centrality, colour by type, title (hover) with degrees. Edges: colour by sign,
    width by |weight|, dashed when the evidence disagrees on the sign, label = weight.
    A node title starts with "Concept: ": the frontend opens a double-clicked node's title as a URL,
    and a fixed prefix keeps a name like `javascript:...` from being read as a scheme.
    """
    metrics = map_metrics(fmap.concepts, fmap.W)
    sizes = node_sizes(np.array([m.centrality for m in metrics.concepts.values()]))
    nodes = [
        {
            "id": name, "label": name, "size": float(size), "color": TYPE_COLOURS[m.type],
            "title": hover_text(f"Concept: {name}\n{m.type}; in {m.indegree:.2f}, out {m.outdegree:.2f}, "
                     f"centrality {m.centrality:.2f}"),
            **({"x": positions[name][0], "y": positions[name][1]} if positions else {}),
        }
        for (name, m), size in zip(metrics.concepts.items(), sizes)
    ]
    edges = [
        {
            "source": e.source, "target": e.target, "color": edge_colour(e.weight),
            "width": edge_width(e.weight), "label": f"{e.weight:+.2f}",
            "dashes": e.conflict,
            "title": f"{e.weight:+.2f} from {e.n_evidence} sentence(s) in {e.n_documents} document(s)"
                     + (f"; signs disagree (+{e.n_positive} / -{e.n_negative})" if e.conflict else ""),
        }
        for e in fmap.edges.values()
    ]
    return nodes, edges


def evidence_for_concept(fmap: FuzzyMap, name: str) -> list[tuple[Edge, Evidence]]:
    """Every (edge, evidence) where the concept is source or target, strongest edges first."""
    edges = [e for (s, t), e in fmap.edges.items() if name in (s, t)]
    edges.sort(key=lambda e: (-abs(e.weight), e.source, e.target))
    return [(e, ev) for e in edges for ev in e.evidence]


def run_scenario(
    fmap: FuzzyMap, clamps: Mapping[str, float], config: SimulationConfig | None = None
) -> ScenarioResult:
    """Mental Modeler scenario on a built map; result.delta is {concept: change vs baseline}."""
    return scenario(fmap.concepts, fmap.W, clamps, config)
