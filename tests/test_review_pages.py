"""The Agreement, Compare, Export, Map and Extract pages run headless (AppTest) on a real SQLite store."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from core.types import ParsedDocument, ParsedSentence, PassageRelation
from data.store import Store
from fcm.view import SIGN_COLOURS
from workspace.agreement import GOLD
from tests.app_server import app_test, graph, table
from tests.review_world import build_world

TIMEOUT = 60


@pytest.fixture
def world(db):
    store = Store(str(db))
    yield (store, *build_world(store))
    store.close()


def open_page(db, name: str) -> AppTest:
    at = app_test(db, f"pages/{name}", timeout=TIMEOUT)
    assert not at.exception, at.exception
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_agreement_page_scores_and_adjudicates(db, world):
    store, reef_id, _, r, _ = world
    at = open_page(db, "agreement.py")
    assert at.selectbox(key="agree_a").value == "ann" and at.selectbox(key="agree_b").value == "bob"
    assert at.multiselect(key="agree_docs_ann_bob").value == [reef_id]
    # hand-computed in test_review_store: kappa -1/3, exact F1 1/3, partial F1 2/3
    assert metrics(at) == {"Shared sentences": "4", "Cohen's kappa": "-0.333", "F1, exact spans": "0.333",
                           "F1, overlapping concepts": "0.667"}
    bob_only = next(x for x in store.relations(annotator="bob") if x.sentence_id == r[3])
    at.button(key=f"gold_{bob_only.id}").click().run()
    assert not at.exception
    assert [(g.source, g.target) for g in store.relations(annotator=GOLD)] == [("survey", "years")]
    assert at.button(key=f"gold_{bob_only.id}").disabled       # already in gold
    at.button(key="agree_adopt").click().run()
    assert len(store.relations(annotator=GOLD)) == 2


def test_agreement_page_needs_two_annotators(db):
    at = open_page(db, "agreement.py")
    assert "needs two annotators" in at.info[0].value


def test_compare_page_scores_the_llm_block(db, world):
    at = open_page(db, "compare.py")
    assert at.selectbox(key="compare_ref").value == "ann"
    systems = table(at, "system")
    gpt = systems.set_index("system").loc["llm:GPT"]
    # TP 2 of 4 predicted, 3 reference (test_review_store): P .5, R 2/3, F1 4/7
    assert (gpt["precision"], gpt["recall"], gpt["F1"]) == ("0.500", "0.667", "0.571")
    assert len(table(at, "kind")) == 3
    at.radio(key="compare_mode").set_value("exact").run()
    assert table(at, "system").set_index("system").loc["llm:GPT", "matched"] == 0


def test_export_page_counts_and_offers_the_file(db, world):
    store = world[0]
    at = open_page(db, "export.py")
    at.radio(key="export_scope").set_value("All documents").run()
    assert metrics(at)["Relations"] == str(len(store.relations())) == "7"
    assert not at.error
    at.radio(key="export_format").set_value("csv").run()
    assert at.download_button(key="export_download").label == "Download Relations CSV"


def test_map_page_concept_evidence_merge_scenario(db, world):
    store, reef_id, _, r, _ = world
    at = open_page(db, "map.py")
    assert metrics(at)["Concepts"] == "11" and metrics(at)["Edges"] == "6"
    drawn = graph(at)
    assert len(drawn["nodes"]) == 11 and len(drawn["edges"]) == 6
    survey = next(e for e in drawn["edges"] if e["from"] == "survey")
    warm = next(e for e in drawn["edges"] if e["from"] == "warmer water")
    assert (survey["color"], warm["color"]) == (SIGN_COLOURS[1], SIGN_COLOURS[-1])   # colour by sign
    at.selectbox(key="map_concept").set_value("coral cover").run()
    evidence = table(at, "who")
    assert list(evidence["who"]) == ["ann", "bob"]

    at.selectbox(key="merge_alias").set_value("parrotfish").run()
    at.selectbox(key="merge_canonical").set_value("parrotfish numbers").run()
    at.button(key="merge_manual").click().run()
    assert store.aliases() == {"parrotfish": "parrotfish numbers"} and metrics(at)["Concepts"] == "10"
    at.button(key="unmerge_0").click().run()
    assert store.aliases() == {} and metrics(at)["Concepts"] == "11"

    at.multiselect(key="scenario_concepts").set_value(["warmer water"]).run()
    at.select_slider(key="clamp_warmer water").set_value("-high").run()
    at.button(key="scenario_run").click().run()
    assert not at.exception
    deltas = table(at, "delta")
    # warmer water -| coral cover (-0.5); clamped to -1 it raises coral cover the most
    assert deltas.iloc[0]["concept"] == "coral cover" and deltas.iloc[0]["delta"] > 0
    assert at.get("vega_lite_chart")                               # the bar chart of deltas

    at.selectbox(key="map_concept").set_value("years").run()    # bob's label on the 4th reef sentence
    at.button(key="map_open").click().run()
    assert not at.exception
    assert at.session_state["doc"] == reef_id and at.session_state["pos"] == 3
    assert (at.query_params["doc"], at.query_params["s"]) == (str(reef_id), "4")
    assert any("survey ran for three years" in m.value for m in at.markdown)  # the Label page shows it


def test_a_300_concept_map_shows_the_top_n(db):
    sentences = []
    for i in range(300):  # a ring plus chords: 300 concepts, each with edges, some more central
        for j in {(i + 1) % 300, (i * 7 + 3) % 300} - {i}:
            rel = PassageRelation(f"factor {i}", f"factor {j}", 1 if (i + j) % 3 else -1, annotator="ann")
            sentences.append(ParsedSentence(f"Factor {i} changes factor {j}.", relations=[rel]))
    store = Store(str(db))
    store.import_documents([ParsedDocument("big.txt", "sha-big", sentences)])
    store.close()
    at = open_page(db, "map.py")
    assert metrics(at)["Concepts"] == "300"
    assert at.slider(key="map_top_n").value == 60 and len(graph(at)["nodes"]) == 60
    at.slider(key="map_top_n").set_value(20).run()
    drawn = graph(at)
    assert len(drawn["nodes"]) == 20
    assert {e["from"] for e in drawn["edges"]} | {e["to"] for e in drawn["edges"]} <= {n["id"] for n in drawn["nodes"]}
    assert len(at.selectbox(key="map_concept").options) == 300   # every concept stays selectable


def test_map_page_filters_to_nothing(db, world):
    at = open_page(db, "map.py")
    at.radio(key="map_origin").set_value("model only").run()
    assert "No relation passes these filters" in at.info[0].value


def test_extract_page_without_a_bundle_says_so(db, world, tmp_path, monkeypatch):
    monkeypatch.setenv("FUZZYMAP_MODEL", str(tmp_path / "no_bundle"))
    at = open_page(db, "extract.py")
    assert "No relation model bundle" in at.warning[0].value
