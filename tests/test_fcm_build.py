"""Building a map from evidence: grouping, weights, conflicts, aliases, filters; merge suggestions."""
import numpy as np
import pytest

from core.errors import InputError
from core.types import Evidence
from fcm.build import EvidenceFilter, FuzzyMap, build_map, resolve
from fcm.normalize import suggest_merges

_ids = iter(range(1, 10_000))


def ev(src, tgt, sign=1, strength="M", doc=1, who="ann", origin="human", score=None):
    rid = next(_ids)
    return Evidence(
        relation_id=rid, source=src, target=tgt, sign=sign, strength=strength, sentence_id=rid,
        sentence_text=f"Invented sentence {rid} about {src} and {tgt}.", document_id=doc,
        document_title=f"Doc {doc}", page=1, annotator=who if origin == "human" else None,
        origin=origin, model_id="rel-v1" if origin == "model" else None, score=score,
    )


def test_one_edge_per_pair_with_mean_weight_and_evidence():
    fmap = build_map([
        ev("rain", "flooding", 1, "H", doc=1),
        ev("rain", "flooding", 1, "VL", doc=2),
        ev("rain", "flooding", 1, "", doc=2),  # no strength: M
        ev("flooding", "crop yield", -1, "VH"),
    ])
    assert fmap.concepts == ["crop yield", "flooding", "rain"]
    assert fmap.n_edges == 2 and len(fmap.edges) == 2
    edge = fmap.edges[("rain", "flooding")]
    assert edge.weight == pytest.approx((0.75 + 0.1 + 0.5) / 3)
    assert (edge.n_evidence, edge.n_documents, edge.conflict) == (3, 2, False)
    assert fmap.W[fmap.index("rain"), fmap.index("flooding")] == pytest.approx(0.45)
    assert fmap.W[fmap.index("flooding"), fmap.index("crop yield")] == -1.0
    assert fmap.W[fmap.index("flooding"), fmap.index("rain")] == 0.0  # direction kept
    assert all(e.sentence_text.startswith("Invented") for e in edge.evidence)


def test_conflicting_signs_are_flagged_with_counts():
    fmap = build_map([
        ev("tourism", "litter", 1, "H"), ev("tourism", "litter", 1, "M"),
        ev("tourism", "litter", -1, "VH"), ev("tourism", "jobs", 1, "H"),
    ])
    edge = fmap.edges[("tourism", "litter")]
    assert edge.conflict and (edge.n_positive, edge.n_negative) == (2, 1)
    assert edge.weight == pytest.approx((0.75 + 0.5 - 1.0) / 3)
    assert not fmap.edges[("tourism", "jobs")].conflict


def test_aliases_resolved_before_grouping_including_chains():
    aliases = {"Wind Farms": "wind farm", "wind farms": "Wind Farms", "the  fish": "fish"}
    fmap = build_map([
        ev("wind farms", "the fish", -1, "H"),
        ev("wind farm", "fish", -1, "M"),
        ev("Wind Farms ", "fish", 1, "L"),
    ], aliases=aliases)
    assert fmap.concepts == ["fish", "wind farm"]
    edge = fmap.edges[("wind farm", "fish")]
    assert edge.n_evidence == 3 and edge.conflict
    assert resolve("a", {"a": "b", "b": "a"}) in {"a", "b"}  # a cycle terminates


def test_alias_that_makes_a_self_loop_keeps_the_evidence_aside():
    fmap = build_map([ev("fishes", "fish"), ev("fish", "jobs")], aliases={"fishes": "fish"})
    assert list(fmap.edges) == [("fish", "jobs")] and len(fmap.self_loops) == 1


def test_min_evidence_filter():
    data = [ev("a", "b"), ev("a", "b"), ev("b", "c")]
    fmap = build_map(data, filter=EvidenceFilter(min_evidence=2))
    assert list(fmap.edges) == [("a", "b")] and fmap.concepts == ["a", "b"]


def test_document_annotator_origin_and_score_filters():
    data = [
        ev("a", "b", doc=1, who="ana"), ev("a", "c", doc=2, who="ben"),
        ev("b", "c", doc=1, origin="model", score=0.9), ev("c", "d", doc=1, origin="model", score=0.4),
    ]
    assert set(build_map(data, filter=EvidenceFilter(documents=frozenset({1}))).edges) == {
        ("a", "b"), ("b", "c"), ("c", "d")}
    assert set(build_map(data, filter=EvidenceFilter(annotators=frozenset({"ben"}))).edges) == {("a", "c")}
    assert set(build_map(data, filter=EvidenceFilter(annotators=frozenset({"rel-v1"}))).edges) == {
        ("b", "c"), ("c", "d")}
    assert set(build_map(data, filter=EvidenceFilter(origin="human")).edges) == {("a", "b"), ("a", "c")}
    # min_score drops weakly scored evidence only; unscored human labels stay
    assert set(build_map(data, filter=EvidenceFilter(min_score=0.5)).edges) == {
        ("a", "b"), ("a", "c"), ("b", "c")}
    assert set(build_map(data, filter=EvidenceFilter(min_score=0.95)).edges) == {("a", "b"), ("a", "c")}


def test_bad_strength_or_sign_is_an_input_error():
    with pytest.raises(InputError, match="unknown strength 'huge'"):
        build_map([ev("a", "b", strength="huge")])
    with pytest.raises(InputError, match="sign"):
        build_map([ev("a", "b", sign=0)])


def test_empty_evidence_gives_empty_map():
    fmap = build_map([])
    assert fmap.concepts == [] and fmap.W.shape == (0, 0)


def test_merge_suggestions_case_plural_article():
    names = {"Wind Farms": 2, "wind farm": 5, "the wind farm": 1, "policies": 1, "policy": 3,
             "Fishes": 1, "fish": 1, "The Economy": 1, "economy": 1, "glass": 1, "glas": 1,
             "houses": 1, "house": 1, "jobs": 1}
    assert suggest_merges(names) == [
        ("The Economy", "economy"), ("Fishes", "fish"), ("houses", "house"),
        ("policies", "policy"), ("Wind Farms", "wind farm"), ("the wind farm", "wind farm"),
    ]


def test_merge_suggestions_prefer_the_singular_without_counts():
    assert suggest_merges(["Bus", "buses", "a bus"]) == [("a bus", "Bus"), ("buses", "Bus")]
    assert suggest_merges(["jobs", "income"]) == []


def test_map_from_a_bare_matrix():
    fmap = FuzzyMap.from_matrix(["a", "b"], np.array([[0.0, -0.25], [0.0, 0.0]]))
    assert list(fmap.edges) == [("a", "b")] and fmap.edges[("a", "b")].evidence == []
    assert fmap.index("b") == 1
    with pytest.raises(KeyError):
        fmap.index("c")
