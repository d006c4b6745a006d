"""Özesmi indices hand-checked on a small map."""
import json

import numpy as np
import pytest

from fcm.metrics import map_metrics

# A -> B 0.5, A -> C -1, B -> C 0.25, D unconnected
NAMES = ["A", "B", "C", "D"]
W = np.array([
    [0.0, 0.5, -1.0, 0.0],
    [0.0, 0.0, 0.25, 0.0],
    [0.0, 0.0, 0.0, 0.0],
    [0.0, 0.0, 0.0, 0.0],
])


def test_degrees_centrality_and_types():
    m = map_metrics(NAMES, W).concepts
    assert [(m[c].indegree, m[c].outdegree, m[c].centrality) for c in NAMES] == [
        (0.0, 1.5, 1.5), (0.5, 0.25, 0.75), (1.25, 0.0, 1.25), (0.0, 0.0, 0.0)]
    assert [m[c].type for c in NAMES] == ["driver", "ordinary", "receiver", "isolated"]


def test_map_indices():
    m = map_metrics(NAMES, W)
    assert (m.n_concepts, m.n_edges) == (4, 3)
    assert m.density == 3 / 12
    assert m.connections_per_concept == 0.75
    assert (m.n_drivers, m.n_receivers, m.n_ordinary) == (1, 1, 1)
    assert m.complexity == 1.0
    # od = (1.5, .25, 0, 0), mean .4375; squares 1.12890625 + .03515625 + 2 * .19140625 = 1.546875
    assert m.hierarchy == pytest.approx(12 / (3 * 4 * 5) * 1.546875)


def test_complexity_counts_receivers_over_drivers():
    # A -> B, A -> C: one driver, two receivers
    W2 = np.array([[0, 1, 1], [0, 0, 0], [0, 0, 0]], dtype=float)
    assert map_metrics(list("ABC"), W2).complexity == 2.0


def test_complexity_without_drivers_is_null_in_json():
    loop = np.array([[0, 1], [-1, 0]], dtype=float)
    m = map_metrics(["A", "B"], loop)
    assert m.complexity is None
    assert json.loads(json.dumps(m.to_dict()))["complexity"] is None


def test_hierarchy_of_a_star_and_a_ring():
    # a star of N-1 arrows from one hub: od = (N-1, 0, ...): h = 12/((N-1)N(N+1)) * (N-1)^2 (N-1)/N
    n = 5
    star = np.zeros((n, n))
    star[0, 1:] = 1
    expected = 12 / ((n - 1) * n * (n + 1)) * ((n - 1) ** 2 * (n - 1) / n)
    assert map_metrics(list("ABCDE"), star).hierarchy == pytest.approx(expected)
    ring = np.roll(np.eye(n), 1, axis=1)  # every concept has od = 1: fully democratic
    assert map_metrics(list("ABCDE"), ring).hierarchy == 0.0


def test_empty_and_single_concept_maps():
    assert map_metrics([], np.zeros((0, 0))).to_dict()["density"] == 0.0
    one = map_metrics(["A"], np.zeros((1, 1)))
    assert (one.density, one.hierarchy, one.complexity) == (0.0, 0.0, None)
    assert one.concepts["A"].type == "isolated"
