"""Where the Map draws each concept: a seeded layout computed here, with labels kept apart.

Why not vis-network's physics: it starts from random places in the browser and settles anew on
every rerun, so a merge reshuffled the whole map, and at the default top 60 labels sat on each
other. Here the same map always gets the same positions (a seeded spring layout over the concepts
in name order); positions already known (kept by concept name across reruns) stay where they are
and only new concepts are placed; then label boxes, estimated from the text's length and the
font size, are moved apart until no two intersect.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np

FONT_PX = 14.0
"""vis-network's default label font size."""
NARROW_EM, WIDE_EM = 0.58, 1.0
"""Glyph widths of the label font (Arial, or Liberation Sans in a Linux Chromium) in ems, on the
generous side: lower case but m and w, digits, spaces and light punctuation measure at most 0.56
there (0.47 on average over concept names); anything else (capitals, m, w, &, %, a CJK character)
at most 1."""
NARROW = frozenset(" .,;:'-()/")
NODE_PX = 40.0
"""The largest node radius (fcm.view.MAX_NODE): every box is sized for it, so a node that grows after
a merge (more central) cannot come to overlap a neighbour that is not moved."""
GAP_PX = 6.0
"""Clear space kept between two boxes."""
SEED = 0

Position = tuple[float, float]
Box = tuple[float, float, float, float]


def label_box(name: str, x: float, y: float) -> Box:
    """(x0, y0, x1, y1) a node at (x, y) covers with its label: the dot, and below it the label
    (vis-network draws a dot's label centred under it), one line of FONT_PX text."""
    wide = sum(not ((c.islower() and c not in "mw") or c.isdigit() or c in NARROW) for c in name)
    half = max(NODE_PX, (wide * WIDE_EM + (len(name) - wide) * NARROW_EM) * FONT_PX / 2)
    return x - half, y - NODE_PX, x + half, y + NODE_PX + 2 + 1.25 * FONT_PX


def boxes_overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def place(concepts: Sequence[str], edges: Iterable[tuple[str, str]], known: Mapping[str, Position] | None = None,
          seed: int = SEED) -> dict[str, Position]:
    """Positions (pixels, y down) for every concept. Concepts in `known` keep their position; the
    others are laid out by a seeded spring layout around them; then new concepts are moved until
    no label boxes overlap (known ones only where two known boxes overlap each other)."""
    import networkx as nx

    names = sorted(set(concepts))
    if not names:
        return {}
    keep = {n: (float(known[n][0]), float(known[n][1])) for n in names if known and n in known}
    graph = nx.Graph()
    graph.add_nodes_from(names)
    graph.add_edges_from(sorted((s, t) for s, t in edges if s != t and s in graph and t in graph))
    boxes = np.array([label_box(n, 0.0, 0.0) for n in names])
    if len(keep) == len(names):
        pos = dict(keep)
    else:
        unit = nx.spring_layout(graph, seed=seed)
        scale = _spread(np.array([unit[n] for n in names]), boxes)
        if keep:  # place only the new concepts, among the kept ones (same pixel scale)
            unit = nx.spring_layout(graph, pos={n: np.array(p) / scale for n, p in keep.items()}, fixed=list(keep),
                                    seed=seed)
        pos = {n: keep.get(n, (float(unit[n][0] * scale), float(unit[n][1] * scale))) for n in names}
    points = separate(np.array([pos[n] for n in names]), boxes, np.array([n not in keep for n in names]))
    return {n: (float(x), float(y)) for n, (x, y) in zip(names, points)}


def _spread(unit: np.ndarray, boxes: np.ndarray) -> float:
    """Pixels per unit of a spring layout: neighbours about 3/4 of a typical label apart, so the
    labels mostly fit where the layout put them and few have to move."""
    if len(unit) < 2:
        return 1.0
    gaps = np.hypot(*(unit[:, None, :] - unit[None, :, :]).transpose(2, 0, 1))
    np.fill_diagonal(gaps, np.inf)
    return 0.75 * float(np.median(boxes[:, 2] - boxes[:, 0])) / max(float(np.median(gaps.min(axis=1))), 1e-6)


def separate(points: np.ndarray, boxes: np.ndarray, movable: np.ndarray, step: float = 12.0) -> np.ndarray:
    """Move boxes (given around the origin, drawn at `points`) until no two come closer than GAP_PX.

    Fixed boxes are put down first where they are, then the movable ones, the most central
    first; a box that would overlap one already down goes to the nearest free spot on rings of
    `step` pixels around its place (every ring is tried in a fixed order, so the result is
    repeatable). A fixed box only moves where it overlaps another fixed one."""
    pts = points.astype(float).copy()
    grown = boxes + np.array([-GAP_PX / 2, -GAP_PX / 2, GAP_PX / 2, GAP_PX / 2])
    mov = movable.astype(bool)
    middle = pts.mean(axis=0)
    order = [i for i in range(len(pts)) if not mov[i]] + sorted(
        (i for i in range(len(pts)) if mov[i]), key=lambda i: (float(np.hypot(*(pts[i] - middle))), i))
    down = np.empty((0, 4))
    for i in order:
        for first in range(0, 1_000_000, RINGS_AT_ONCE):  # rings in batches: one array test per batch
            spots = pts[i] + _rings(first, RINGS_AT_ONCE) * step
            cand = grown[i] + np.concatenate([spots, spots], axis=1)
            clash = ((cand[:, None, 0] < down[None, :, 2]) & (down[None, :, 0] < cand[:, None, 2])
                     & (cand[:, None, 1] < down[None, :, 3]) & (down[None, :, 1] < cand[:, None, 3])).any(axis=1)
            free = np.flatnonzero(~clash)
            if len(free):
                pts[i] = spots[free[0]]
                down = np.vstack([down, grown[i] + np.concatenate([pts[i], pts[i]])])
                break
    return pts


RINGS_AT_ONCE = 8


def _rings(first: int, count: int) -> np.ndarray:
    """Offsets on rings first..first+count-1 of unit spacing, nearest ring first (ring 0: the place
    itself), each ring's points at a fixed angle order."""
    out = []
    for ring in range(first, first + count):
        k = 1 if ring == 0 else max(8, int(2 * np.pi * ring))
        angles = np.arange(k) / k * 2 * np.pi
        out.append(ring * np.stack([np.cos(angles), np.sin(angles)], axis=1))
    return np.concatenate(out)
