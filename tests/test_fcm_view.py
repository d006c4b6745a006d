"""The functions the map page calls: sub-maps, agraph style data, evidence, scenario deltas."""
import pytest

from data.types import Evidence
from fcm.build import build_map
from fcm.view import (
    SIGN_COLOURS, TYPE_COLOURS, agraph_elements, evidence_for_concept, run_scenario, top_by_centrality,
)


def ev(rid, src, tgt, sign=1, strength="H", doc=1):
    return Evidence(rid, src, tgt, sign, strength, rid, f"Invented sentence {rid}.", doc, "Doc", None,
                    "ana", "human")


@pytest.fixture(scope="module")
def fmap():
    return build_map([
        ev(1, "hub", "x", 1, "VH"), ev(2, "hub", "y", -1, "VH"), ev(3, "y", "hub", 1, "H"),
        ev(4, "x", "y", 1, "VL"), ev(5, "x", "y", -1, "VL"), ev(6, "p", "q", 1, "VL"),
    ])


def test_top_by_centrality_keeps_edges_among_chosen(fmap):
    sub = top_by_centrality(fmap, 3)
    assert set(sub.concepts) == {"hub", "x", "y"}
    assert set(sub.edges) == {("hub", "x"), ("hub", "y"), ("y", "hub"), ("x", "y")}
    assert sub.W[sub.index("hub"), sub.index("y")] == -1.0
    assert top_by_centrality(fmap, 0).concepts == []


def test_agraph_style(fmap):
    nodes, edges = agraph_elements(fmap)
    by_id = {n["id"]: n for n in nodes}
    assert by_id["p"]["color"] == TYPE_COLOURS["driver"] and by_id["q"]["color"] == TYPE_COLOURS["receiver"]
    assert by_id["hub"]["size"] > by_id["x"]["size"] > by_id["p"]["size"]
    e = {(d["source"], d["target"]): d for d in edges}
    assert e["hub", "y"]["color"] == SIGN_COLOURS[-1] and e["hub", "x"]["color"] == SIGN_COLOURS[1]
    assert e["hub", "x"]["width"] > e["y", "hub"]["width"] > e["p", "q"]["width"]
    assert e["x", "y"]["dashes"] and "disagree" in e["x", "y"]["title"]


def test_evidence_for_concept(fmap):
    pairs = evidence_for_concept(fmap, "x")
    assert [ev.relation_id for _, ev in pairs] == [1, 4, 5]
    assert evidence_for_concept(fmap, "nobody") == []


def test_run_scenario_deltas(fmap):
    res = run_scenario(fmap, {"hub": 1.0})
    assert set(res.delta) == {"x", "y", "p", "q"}
    assert res.delta["p"] == 0.0 and res.delta["q"] == 0.0
    assert res.delta["x"] > 0 and res.delta["y"] < 0
