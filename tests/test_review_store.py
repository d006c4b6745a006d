"""Agreement, system comparison, map view and extraction logic against a real SQLite store.

Every expected number is worked out by hand in the comments from the fixture below.
"""
from __future__ import annotations

import csv
import io
import json

import pytest

from core.types import ParsedSentence, PassageRelation
from data.store import Store
from fcm.simulate import parse_clamp_value
from fcm.view import run_scenario
from workspace.agreement import (
    GOLD, adjudicate, adopt_agreed, describe, mismatch_rows, score_systems, shared_documents, store_agreement,
    system_outputs,
)
from workspace.extraction import extract, preview_map, relation_rows, send_to_labeling
from data.model_runs import record_runs
from workspace.mapview import (
    CLAMP_CHOICES, DOWNLOADS, MapQuery, delta_rows, evidence_rows, label_position, load_map, map_file,
    merge_suggestions, metrics_tables, who_said,
)
from workspace.suggest import llm_source
from tests.review_world import GPT_KELP, KELP, REEF, build_world, label, paper

@pytest.fixture
def world(url):
    """The review world in a fresh SQLite file and, when FUZZYMAP_TEST_PG_URL is set, PostgreSQL."""
    store = Store(url)
    yield (store, *build_world(store))
    store.close()


def test_agreement_from_the_store(world):
    store, reef_id, kelp_id, r, _ = world
    assert shared_documents(store, "ann", "bob") == [reef_id]
    ag, sentences = store_agreement(store, "ann", "bob")
    assert [s.id for s in sentences] == r
    # exact: only s0 agrees (same texts, same found spans): P = R = F1 = 1/3
    assert (ag.exact.tp, ag.exact.n_pred, ag.exact.n_gold) == (1, 3, 3)
    # partial: s1 "parrotfish" lies inside "parrotfish numbers": TP 2, P = R = F1 = 2/3
    assert ag.partial.f1 == pytest.approx(2 / 3)
    # has-relation: ann [T,T,T,F], bob [T,T,F,T]; p_o = .5; p_e = .75*.75 + .25*.25 = .625;
    # kappa = (.5 - .625) / .375 = -1/3
    assert ag.kappa == pytest.approx(-1 / 3)
    assert [d.sentence for d in ag.disagreements] == r[1:]
    assert describe(ag.disagreements[1].only_a[0]) == "parrotfish grazing → coral recovery (+)"


def test_adjudication_copies_once(world):
    store, reef_id, _, r, _ = world
    ag, _ = store_agreement(store, "ann", "bob")
    bob_only = ag.disagreements[2].only_b[0]
    new_id = adjudicate(store, bob_only)
    assert new_id is not None and adjudicate(store, bob_only) is None
    (gold,) = store.relations(annotator=GOLD)
    assert (gold.id, gold.source, gold.target, gold.sign, gold.sentence_id) == (new_id, "survey", "years", 1, r[3])
    assert GOLD in store.annotators()
    assert adopt_agreed(store, "ann", "bob", [reef_id]) == 1   # s0, the one exact agreement
    assert adopt_agreed(store, "ann", "bob", [reef_id]) == 0
    assert len(store.relations(annotator=GOLD)) == 2
    assert len(store.relations(annotator="ann")) == 4           # the originals are untouched


def test_llm_and_model_systems_scored(world):
    store, reef_id, kelp_id, r, k = world
    store.add_suggestions(r[2], [PassageRelation("parrotfish grazing", "coral recovery", 1, model_id="m1", score=.9,
                                                 origin="model")])
    store.add_suggestions(r[1], [PassageRelation("pressure", "numbers", -1, model_id="m1", score=.4, origin="model")])
    store.add_suggestions(r[1], [PassageRelation("fishing", "parrotfish", 1, model_id="llm:GPT", score=1.0,
                                                 origin="model")])
    names = [(o.kind, o.name) for o in system_outputs(store)]
    assert names == [("llm", "GPT"), ("model", "m1")]          # the llm:GPT suggestion is the block again
    res = score_systems(store, "ann")
    # ann judged reef s0-s2 (labels) and kelp k0 (label), k1 (no-relation); GPT's block covers every
    # judged sentence but reef s2. GPT: reef s0 hit, s1 wrong sign (spurious + missed); kelp k0 hit,
    # k1 spurious. TP 2, predicted 4, reference 3 -> P = .5, R = 2/3, F1 = 4/7
    gpt = res["llm:GPT"]
    assert (gpt.total.tp, gpt.total.n_pred, gpt.total.n_gold) == (2, 4, 3)
    assert gpt.total.f1 == pytest.approx(4 / 7)
    assert gpt.groups[reef_id].as_dict()["tp"] == 1 and gpt.groups[reef_id].n_gold == 2
    assert (gpt.groups[kelp_id].tp, gpt.groups[kelp_id].n_pred, gpt.groups[kelp_id].n_gold) == (1, 2, 1)
    # m1 has no recorded run: it covers the two sentences it proposed for, reef s1 ("pressure" ~
    # "fishing pressure", "numbers" ~ "parrotfish numbers") and s2, both hits: TP 2 of 2 and 2
    m1 = res["model:m1"]
    assert (m1.total.tp, m1.total.n_pred, m1.total.n_gold, m1.n_sentences) == (2, 2, 2, 2)
    # Recorded as run on the whole reef, m1 is scored on s0 too, where it missed: reference 3 -> R = 2/3
    assert record_runs(store, "m1", r) == len(r) and record_runs(store, "m1", r) == 0
    m1 = score_systems(store, "ann")["model:m1"]
    assert (m1.total.tp, m1.total.n_pred, m1.total.n_gold, m1.n_sentences) == (2, 2, 3, 4)  # s0-s3
    assert gpt.n_sentences == 5  # ann judged 6 (reef s0-s3, kelp k0, k1); GPT has no block on s2
    # exact matching: no GPT text equals ann's -> TP 0
    assert score_systems(store, "ann", mode="exact")["llm:GPT"].total.tp == 0
    sentences = {s.id: s for d in (reef_id, kelp_id) for s in store.sentences(d)}
    rows = mismatch_rows(gpt, sentences, {reef_id: "Reef", kelp_id: "Kelp"})
    assert sorted((x["document"], x["sentence #"], x["kind"]) for x in rows) == [
        ("Kelp", 2, "only the system"), ("Reef", 2, "only the reference"), ("Reef", 2, "only the system")]


def test_map_filters_merges_and_evidence(world):
    store, reef_id, kelp_id, r, _ = world
    full = load_map(store, MapQuery())
    # six distinct (source, target) pairs among the seven labels (s0 is said twice)
    assert len(full.edges) == 6 and full.edges[("warmer water", "coral cover")].n_evidence == 2
    assert who_said(store.evidence()) == ["ann", "bob"]
    assert len(load_map(store, MapQuery(documents=(kelp_id,)), store.evidence(document_ids=[kelp_id])).edges) == 1
    assert len(load_map(store, MapQuery(who=("bob",))).edges) == 3
    assert len(load_map(store, MapQuery(documents=(kelp_id,))).edges) == 1
    assert list(load_map(store, MapQuery(min_evidence=2)).edges) == [("warmer water", "coral cover")]
    assert load_map(store, MapQuery(origin="model")).concepts == []

    store.merge_concepts("parrotfish", "parrotfish numbers")
    merged = load_map(store, MapQuery())
    assert merged.edges[("fishing pressure", "parrotfish numbers")].n_evidence == 2
    assert "parrotfish" not in merged.concepts
    store.unmerge_concept("parrotfish")
    assert "parrotfish" in load_map(store, MapQuery()).concepts

    rows = evidence_rows(full, "coral cover")
    assert [(x["who"], x["sentence"]) for x in rows] == [("ann", REEF[0]), ("bob", REEF[0])]
    assert label_position(store, rows[0]["document_id"], rows[0]["sentence_id"]) == 0
    assert label_position(store, reef_id, r[3]) == 3

    whole, per_concept = metrics_tables(full)
    assert whole["concepts"] == len(full.concepts) == 11 and whole["edges"] == 6
    # drivers: warmer water, fishing pressure, parrotfish grazing, survey, sea urchins (5); the six
    # targets are receivers: complexity 6/5 = 1.2, density 6 / (11 * 10)
    assert (whole["drivers (transmitters)"], whole["receivers"], whole["ordinary"]) == (5, 6, 0)
    assert whole["complexity (receivers / drivers)"] == pytest.approx(1.2)
    assert whole["density (edges / N(N-1))"] == pytest.approx(6 / 110)
    assert per_concept[0]["centrality"] == max(x["centrality"] for x in per_concept)


def test_merge_suggestions_and_scenario(world):
    store, _, kelp_id, _, k = world
    store.add_relation(k[1], label("bob", "Kelp forest", "young cod", 1))
    fmap = load_map(store, MapQuery(documents=(kelp_id,)))
    # "kelp forests" (1 use) vs "Kelp forest" (1 use): singular wins the tie
    assert merge_suggestions(fmap) == [("kelp forests", "Kelp forest")]
    # sea urchins -| kelp forests: clamping urchins high must push kelp forests down
    levels = [parse_clamp_value(c) for c in CLAMP_CHOICES]
    assert levels == [-1.0, -0.62, -0.25, 0.25, 0.62, 1.0]   # the slider runs low to high
    result = run_scenario(fmap, {"sea urchins": 1.0})
    deltas = delta_rows(result)
    assert deltas[0]["concept"] == "kelp forests" and deltas[0]["delta"] < 0 and deltas[0]["effect"] == "falls"
    assert [abs(d["delta"]) for d in deltas] == sorted((abs(d["delta"]) for d in deltas), reverse=True)


def test_map_downloads(world):
    store = world[0]
    fmap = load_map(store, MapQuery())
    files = {kind: map_file(fmap, kind) for kind in DOWNLOADS}
    header = next(csv.reader(io.StringIO(files["mental_modeler"].decode())))
    assert header[1:] == fmap.concepts
    assert len(json.loads(files["json"])["edges"]) == 6
    assert len(json.loads(files["fcmpy"])["Expert_1"]) == 6
    assert b"<graphml" in files["graphml"] and files["graphml"].count(b"<edge ") == 6
    assert files["png"].startswith(b"\x89PNG") and b"<svg" in files["svg"]
    with pytest.raises(ValueError):
        map_file(fmap, "pdf")


def test_extract_preview_and_send_to_labeling(tmp_path):
    """The LLM-block source is a real suggestion source (workspace.suggest): it proposes the block's relations."""
    store = Store(f"sqlite:///{tmp_path / 'x.db'}")
    doc = paper("kelp.txt", KELP, GPT_KELP)
    doc.sentences.append(ParsedSentence("Doe J. 2020. Kelp. Marine Notes 3.", is_reference=True,
                                        llm={"GPT": [{"src": "Doe", "tgt": "Kelp", "direction": "increase"}]}))
    seen = []
    found = extract(llm_source(), doc, on_progress=lambda done, total: seen.append((done, total)), batch_size=1)
    assert seen == [(1, 2), (2, 2)]                  # the reference-list sentence is not asked
    assert [[(x.src, x.tgt, x.sign) for x in rels] for rels in found] == [
        [("urchins", "kelp", -1)], [("kelp", "cod", 1)], []]
    rows = relation_rows(doc, found)
    assert [x["sentence #"] for x in rows] == [1, 2] and rows[0]["evidence"] == KELP[0]
    assert len(preview_map(doc, found).edges) == 2
    assert relation_rows(doc, found, min_score=1.01) == []

    doc_id, queued = send_to_labeling(store, doc, found)
    assert queued == 2 and len(store.suggestions(document_id=doc_id)) == 2
    assert send_to_labeling(store, doc, found) == (doc_id, 0)   # same document, nothing queued twice
    assert len(store.list_documents()) == 1
    store.close()
