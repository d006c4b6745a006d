"""Export round trips: Mental Modeler CSV, GraphML, JSON, FCMpy JSON, pictures."""
import json
import xml.etree.ElementTree as ET

import networkx as nx
import numpy as np
import pytest

from core.errors import InputError
from core.types import Evidence
from fcm.build import FuzzyMap, build_map
from fcm.exports import (
    draw_map, nearest_term, read_mental_modeler_csv, to_fcmpy, to_json_dict, write_fcmpy_json,
    write_graphml, write_json, write_mental_modeler_csv,
)


def ev(rid, src, tgt, sign, strength, doc=1):
    return Evidence(rid, src, tgt, sign, strength, rid, f"Invented: {src} changes {tgt}.", doc,
                    f"Doc {doc}", 2, "ana", "human")


@pytest.fixture(scope="module")
def fmap() -> FuzzyMap:
    return build_map([
        ev(1, 'sea "surface" temperature', "coral, bleaching", 1, "H"),
        ev(2, 'sea "surface" temperature', "coral, bleaching", 1, "VH", doc=2),
        ev(3, "coral, bleaching", "reef fish", -1, "M"),
        ev(4, "reef fish", "tourism", 1, "L"),
        ev(5, "reef fish", "tourism", -1, "L"),
        ev(6, "tourism", "coral, bleaching", 1, "VL"),
    ])


def test_mental_modeler_csv_round_trip(tmp_path, fmap):
    path = tmp_path / "map.csv"
    write_mental_modeler_csv(fmap, path, model_name="reef model")
    back = read_mental_modeler_csv(path)
    assert back.concepts == fmap.concepts
    assert np.array_equal(back.W, fmap.W)
    assert path.read_text().splitlines()[0].startswith("reef model,")


def test_mental_modeler_csv_bom_empty_cells_and_row_order(tmp_path):
    path = tmp_path / "mm.csv"
    path.write_text("\ufeff,A,B\nB,0.5,\nA,,-1\n", encoding="utf-8")
    back = read_mental_modeler_csv(path)
    assert back.concepts == ["A", "B"]
    assert back.W.tolist() == [[0.0, -1.0], [0.5, 0.0]]
    assert set(back.edges) == {("A", "B"), ("B", "A")}


@pytest.mark.parametrize("text,reason", [
    ("", "empty file"),
    (",A,B\nA,0,1\n", "not square: 2 columns but 1 rows"),
    (",A,B\nA,0,1\nB,0\n", "not square: row 'B'"),
    (",A,B\nA,0,x\nB,0,0\n", "non-numeric weight 'x' at row 'A', column 'B'"),
    (",A,B\nA,0,1.5\nB,0,0\n", "outside [-1, 1]"),
    (",A,B\nA,0,nan\nB,0,0\n", "outside [-1, 1]"),
    (",A,B\nA,0,1\nC,0,0\n", "row 'C' is not one of the column concepts"),
    (",A,A\nA,0,1\nA,0,0\n", "appears twice"),
])
def test_mental_modeler_csv_bad_input(tmp_path, text, reason):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(InputError) as err:
        read_mental_modeler_csv(path)
    assert str(path) in str(err.value) and reason in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        read_mental_modeler_csv(tmp_path / "nope.csv")


def test_graphml_parses_back_with_networkx(tmp_path, fmap):
    path = tmp_path / "map.graphml"
    write_graphml(fmap, path)
    G = nx.read_graphml(path)
    assert {G.nodes[n]["label"] for n in G.nodes} == set(fmap.concepts)
    data = G.edges['sea "surface" temperature', "coral, bleaching"]
    assert data["weight"] == pytest.approx(0.875) and data["evidence"] == 2
    conflicted = G.edges["reef fish", "tourism"]
    assert conflicted["weight"] == 0.0 and conflicted["conflict"] is True
    assert G.edges["coral, bleaching", "reef fish"]["weight"] == -0.5
    assert G.number_of_edges() == 4


def test_json_keeps_the_evidence(tmp_path, fmap):
    path = tmp_path / "map.json"
    write_json(fmap, path)
    data = json.loads(path.read_text())
    assert data == json.loads(json.dumps(to_json_dict(fmap)))
    edge = next(e for e in data["edges"] if e["source"] == "reef fish")
    assert edge["conflict"] and (edge["n_positive"], edge["n_negative"]) == (1, 1)
    assert [e["relation_id"] for e in edge["evidence"]] == [4, 5]
    assert edge["evidence"][0]["sentence_text"] == "Invented: reef fish changes tourism."


@pytest.mark.parametrize("weight,term", [
    (1.0, "+VH"), (0.8, "+H"), (0.3, "+L"), (0.12, "+VL"), (0.0, "NA"), (-0.49, "-M"),
    (-0.9, "-VH"), (-0.2, "-L"), (0.625, "+M"),  # 0.625 is halfway: the weaker term
])
def test_nearest_fcmpy_term(weight, term):
    assert nearest_term(weight) == term


def test_fcmpy_expert_json(tmp_path, fmap):
    path = tmp_path / "fcmpy.json"
    write_fcmpy_json(fmap, path)
    rows = json.loads(path.read_text())["Expert_1"]
    assert rows == to_fcmpy(fmap)["Expert_1"] and len(rows) == 4
    row = next(r for r in rows if r["from"] == "coral, bleaching")
    assert row["to"] == "reef fish" and row["-M"] == 1
    assert all(sum(v for k, v in r.items() if k not in ("from", "to")) == 1 for r in rows)


def test_png_and_deterministic_svg(tmp_path, fmap):
    draw_map(fmap, tmp_path / "map.png")
    assert (tmp_path / "map.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    draw_map(fmap, tmp_path / "a.svg")
    draw_map(fmap, tmp_path / "b.svg")
    assert (tmp_path / "a.svg").read_bytes() == (tmp_path / "b.svg").read_bytes()
    ET.parse(tmp_path / "a.svg")
    with pytest.raises(InputError, match="png or .svg"):
        draw_map(fmap, tmp_path / "map.gif")
