"""Writing maps for other tools (Mental Modeler, GraphML viewers, FCMpy) and reading them back.

Only the Mental Modeler CSV is read back: it is the one format other tools hand us. It holds
concept names and weights only; evidence, conflicts and self-loops are not part of it.
"""
from __future__ import annotations

import csv
import json
import math
from dataclasses import asdict
from pathlib import Path

import numpy as np

from core.errors import InputError
from fcm.build import FuzzyMap
from fcm.metrics import map_metrics
from fcm.view import TYPE_COLOURS, edge_colour, edge_width, node_sizes

FCMPY_TERMS: dict[str, float] = {
    "-VH": -1.0, "-H": -0.75, "-M": -0.5, "-L": -0.25, "-VL": -0.1, "NA": 0.0,
    "+VL": 0.1, "+L": 0.25, "+M": 0.5, "+H": 0.75, "+VH": 1.0,
}
"""FCMpy's linguistic terms and the weights they stand for (core.types.STRENGTHS, signed)."""


def _fmt(w: float) -> str:
    """Shortest text that reads back as the same float; zero as '0'."""
    return "0" if w == 0 else repr(float(w))


def write_mental_modeler_csv(fmap: FuzzyMap, path: str | Path, model_name: str = "") -> None:
    """Adjacency matrix: header = model name then concepts; row = source, column = target."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow([model_name, *fmap.concepts])
        for name, row in zip(fmap.concepts, fmap.W):
            writer.writerow([name, *(_fmt(w) for w in row)])


def _parse_weight(cell: str, path: str, src: str, tgt: str) -> float:
    where = f"row {src!r}, column {tgt!r}"
    if not cell.strip():
        return 0.0
    try:
        w = float(cell)
    except ValueError:
        raise InputError(path, f"non-numeric weight {cell!r} at {where}") from None
    if not math.isfinite(w) or not -1.0 <= w <= 1.0:
        raise InputError(path, f"weight {cell!r} at {where} is outside [-1, 1]")
    return w


def _parse_row(cells: list[str], path: str, src: str, concepts: list[str]) -> np.ndarray:
    """A row of weights, converted in one go; cell by cell only to name a bad cell."""
    try:
        row = np.array([c.strip() or "0" for c in cells], dtype=float)
        if np.all(np.abs(row) <= 1.0):  # False for nan too
            return row
    except ValueError:
        pass
    return np.array([_parse_weight(c, path, src, tgt) for c, tgt in zip(cells, concepts)])


def read_mental_modeler_csv(path: str | Path) -> FuzzyMap:
    """Read a Mental Modeler CSV; InputError naming the file for anything that is not one.

    Empty cells are 0. Rows may come in another order than the columns; they are matched
    by name. A UTF-8 byte order mark is ignored.
    """
    name = str(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = [r for r in csv.reader(fh) if any(c.strip() for c in r)]
    except FileNotFoundError:
        raise InputError(name, "file not found") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(name, f"cannot read as a CSV file ({exc})") from None
    if not rows:
        raise InputError(name, "empty file")
    header = rows[0][1:]
    while header and not header[-1].strip():
        header.pop()
    concepts = [c.strip() for c in header]
    if not concepts or any(not c for c in concepts):
        raise InputError(name, "the first row must list the concept names (one is empty)")
    if len(set(concepts)) != len(concepts):
        dup = next(c for c in concepts if concepts.count(c) > 1)
        raise InputError(name, f"concept {dup!r} appears twice in the first row")
    body = rows[1:]
    if len(body) != len(concepts):
        raise InputError(name, f"not square: {len(concepts)} columns but {len(body)} rows")
    pos = {c: i for i, c in enumerate(concepts)}
    W = np.zeros((len(concepts), len(concepts)))
    seen: set[str] = set()
    for row in body:
        src = row[0].strip()
        if src not in pos:
            raise InputError(name, f"row {src!r} is not one of the column concepts")
        if src in seen:
            raise InputError(name, f"row {src!r} appears twice")
        seen.add(src)
        cells = row[1:]
        if len(cells) < len(concepts) or any(c.strip() for c in cells[len(concepts):]):
            raise InputError(name, f"not square: row {src!r} has {len(cells)} cells for {len(concepts)} concepts")
        W[pos[src]] = _parse_row(cells[:len(concepts)], name, src, concepts)
    return FuzzyMap.from_matrix(concepts, W)


def to_networkx(fmap: FuzzyMap):
    """Directed graph: node id = concept name with label, type and centrality; edge weight
    (signed), evidence (count), documents (count) and conflict (bool)."""
    import networkx as nx  # here, not at the top: the CLI's metrics and scenario do not need it

    metrics = map_metrics(fmap.concepts, fmap.W).concepts
    G = nx.DiGraph()
    for c in fmap.concepts:
        G.add_node(c, label=c, type=metrics[c].type, centrality=metrics[c].centrality)
    for e in fmap.edges.values():
        G.add_edge(e.source, e.target, weight=e.weight, evidence=e.n_evidence,
                   documents=e.n_documents, conflict=e.conflict)
    return G


def write_graphml(fmap: FuzzyMap, path: str | Path) -> None:
    import networkx as nx

    nx.write_graphml(to_networkx(fmap), path)


def to_json_dict(fmap: FuzzyMap) -> dict:
    """Concepts and edges with every piece of evidence (the full record, for archiving)."""
    return {
        "concepts": list(fmap.concepts),
        "edges": [
            {
                "source": e.source, "target": e.target, "weight": e.weight,
                "n_evidence": e.n_evidence, "n_documents": e.n_documents,
                "n_positive": e.n_positive, "n_negative": e.n_negative, "conflict": e.conflict,
                "evidence": [asdict(ev) for ev in e.evidence],
            }
            for e in fmap.edges.values()
        ],
        "self_loops": [asdict(ev) for ev in fmap.self_loops],
    }


def write_json(fmap: FuzzyMap, path: str | Path) -> None:
    Path(path).write_text(json.dumps(to_json_dict(fmap), indent=2, ensure_ascii=False), encoding="utf-8")


def nearest_term(weight: float) -> str:
    """The FCMpy term closest to a weight; a tie goes to the weaker term."""
    return min(FCMPY_TERMS, key=lambda t: (abs(FCMPY_TERMS[t] - weight), abs(FCMPY_TERMS[t])))


def to_fcmpy(fmap: FuzzyMap, expert: str = "Expert_1") -> dict:
    """FCMpy expert JSON: one row per edge with every term, 1 for the nearest and 0 elsewhere
    (all terms written so readers that build a table from the rows get no missing columns)."""
    rows = []
    for e in fmap.edges.values():
        term = nearest_term(e.weight)
        rows.append({"from": e.source, "to": e.target, **{t: int(t == term) for t in FCMPY_TERMS}})
    return {expert: rows}


def write_fcmpy_json(fmap: FuzzyMap, path: str | Path, expert: str = "Expert_1") -> None:
    Path(path).write_text(json.dumps(to_fcmpy(fmap, expert), indent=2, ensure_ascii=False), encoding="utf-8")


def _legend() -> list:
    """Legend handles: every edge colour, disagreement, then every node type's colour."""
    from matplotlib.lines import Line2D

    edges = [Line2D([], [], color=edge_colour(w), lw=2, label=t)
             for w, t in ((1, "increases"), (-1, "decreases"), (0, "weight 0 (signs cancel)"))]
    edges.append(Line2D([], [], color="#555555", lw=1, ls="--", label="signs disagree"))
    nodes = [Line2D([], [], ls="", marker="o", markersize=8, markerfacecolor=c, markeredgecolor="#555555", label=k)
             for k, c in TYPE_COLOURS.items()]
    return edges + nodes


def draw_map(fmap: FuzzyMap, path: str | Path, seed: int = 0) -> None:
    """PNG or SVG (by suffix) of the map: spring layout with a fixed seed, edges coloured by
    sign, as wide as |weight| and dashed where the evidence disagrees; nodes sized by centrality
    and coloured by type."""
    import networkx as nx
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    suffix = Path(path).suffix.lower()
    if suffix not in (".png", ".svg"):
        raise InputError(str(path), "picture must end in .png or .svg")
    G = to_networkx(fmap)
    pos = nx.spring_layout(G, seed=seed)
    sizes = node_sizes(np.array([G.nodes[c]["centrality"] for c in G.nodes])) * 20
    colours = [TYPE_COLOURS[G.nodes[c]["type"]] for c in G.nodes]
    weights = [d["weight"] for _, _, d in G.edges(data=True)]
    styles = ["dashed" if d["conflict"] else "solid" for _, _, d in G.edges(data=True)]
    fig = Figure(figsize=(10, 8))
    ax = fig.add_subplot()
    ax.set_axis_off()
    nx.draw_networkx_nodes(G, pos, ax=ax, node_size=sizes, node_color=colours, edgecolors="#555555")
    nx.draw_networkx_edges(G, pos, ax=ax, edge_color=[edge_colour(w) for w in weights],
                           width=[edge_width(w) / 2 for w in weights], style=styles, node_size=sizes,
                           arrows=True, arrowsize=12, connectionstyle="arc3,rad=0.08")
    nx.draw_networkx_labels(G, pos, ax=ax, font_size=8, clip_on=False)  # a long label is not cut at the axes
    ax.legend(handles=_legend(), loc="lower left", fontsize=7, frameon=False)
    fig.tight_layout()
    with rc_context({"svg.hashsalt": "fuzzymap"}):
        fig.savefig(path, format=suffix[1:], metadata={"Date": None} if suffix == ".svg" else {"Software": None},
                    bbox_inches="tight", pad_inches=0.4)  # labels sticking out of the axes are kept, with a margin
