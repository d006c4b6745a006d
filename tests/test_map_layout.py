"""The Map's layout: seeded and repeatable, stable across a merge, no label over another at the top 60."""
from __future__ import annotations

import itertools
import random

from fcm.layout import label_box, place
from fcm.view import agraph_elements, top_by_centrality
from fcm.build import build_map
from core.types import Evidence

WORDS = ["coral", "cover", "warmer", "water", "fishing", "pressure", "parrotfish", "grazing", "sea", "urchin",
         "kelp", "forest", "young", "cod", "nutrient", "runoff", "algae", "bloom", "oxygen", "levels",
         "tourism", "income", "storm", "damage", "reef", "recovery", "seagrass", "meadows", "predator", "numbers"]


def concepts(n: int, seed: int = 1) -> list[str]:
    """n distinct invented concept names of one to four words (6 to 40 characters)."""
    rng = random.Random(seed)
    out: dict[str, None] = {}
    while len(out) < n:
        out[" ".join(rng.sample(WORDS, rng.randint(1, 4)))] = None
    return list(out)


def edges(names: list[str], k: int, seed: int = 2) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    return [tuple(rng.sample(names, 2)) for _ in range(k)]


def assert_apart(pos: dict[str, tuple[float, float]]) -> None:
    boxes = {n: label_box(n, *p) for n, p in pos.items()}
    for (a, ba), (b, bb) in itertools.combinations(boxes.items(), 2):
        assert not (ba[0] < bb[2] and bb[0] < ba[2] and ba[1] < bb[3] and bb[1] < ba[3]), (a, b)


def test_the_same_map_gets_the_same_positions_whatever_the_order():
    names = concepts(60)
    links = edges(names, 120)
    first = place(names, links)
    assert first == place(list(reversed(names)), list(reversed(links)))
    assert set(first) == set(names)
    assert len({p for p in first.values()}) == 60


def test_no_two_labels_overlap_on_a_60_concept_map():
    names = concepts(60)
    pos = place(names, edges(names, 120))
    assert_apart(pos)
    # the map is spread, not a line: both directions are used
    xs, ys = [p[0] for p in pos.values()], [p[1] for p in pos.values()]
    assert max(xs) - min(xs) > 500 and max(ys) - min(ys) > 500


def test_a_merge_keeps_every_other_concept_where_it_was():
    names = concepts(60)
    links = edges(names, 120)
    before = place(names, links)
    alias, canonical = names[7], names[3]
    merged_names = [n for n in names if n != alias]
    merged_links = [(canonical if s == alias else s, canonical if t == alias else t) for s, t in links]
    after = place(merged_names, merged_links, known=before)
    assert after == {n: before[n] for n in merged_names}
    # A concept new to the view (a wider top N) is placed among them without moving any, apart from all.
    grown = place([*merged_names, "storm damage to tourism income"], merged_links, known=after)
    assert {n: grown[n] for n in merged_names} == after
    assert_apart(grown)


def test_known_positions_that_collide_are_still_pulled_apart():
    pos = place(["alpha", "beta"], [], known={"alpha": (0.0, 0.0), "beta": (3.0, 0.0)})
    assert pos["alpha"] == (0.0, 0.0)  # the first by name stays, the later one moves
    assert_apart(pos)


def test_agraph_nodes_carry_fixed_positions():
    evidence = [Evidence(relation_id=i, source=s, target=t, sign=1, strength="M", sentence_id=i,
                         sentence_text="x", document_id=1, document_title="d", page=None, annotator="ann",
                         origin="human", model_id=None, score=None)
                for i, (s, t) in enumerate(edges(concepts(80), 150))]
    view = top_by_centrality(build_map(evidence), 60)
    pos = place(view.concepts, view.edges)
    nodes, _ = agraph_elements(view, pos)
    assert len(nodes) == 60
    assert all((n["x"], n["y"]) == pos[n["id"]] for n in nodes)
    assert_apart(pos)
