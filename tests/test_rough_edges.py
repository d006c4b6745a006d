"""Rough edges, each with its test: fcm metrics on a non-CSV file and into a closed pipe, a Year
that is not a number asks first, and no Deploy button in the app's toolbar."""
from __future__ import annotations

import subprocess
import sys
import tomllib

from app_server import ROOT, app_test
from core.types import ParsedDocument, ParsedSentence
from data.store import Store
from fcm.__main__ import main as fcm_main


def _matrix(path, n: int) -> None:
    names = [f"concept {i}" for i in range(n)]
    rows = [",".join(["", *names])]
    rows += [",".join([a, *("0.5" if j == (i + 1) % n else "0" for j in range(n))]) for i, a in enumerate(names)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def test_fcm_metrics_names_a_json_file(tmp_path, capsys):
    f = tmp_path / "x.json"
    f.write_text("[]")
    assert fcm_main(["metrics", str(f)]) == 2
    err = capsys.readouterr().err
    assert err == f"error: {f}: is a JSON file; fcm reads a Mental Modeler CSV matrix (the Map page's “Mental Modeler CSV” download)\n"


def test_fcm_metrics_into_a_closed_pipe_has_no_traceback(tmp_path):
    m = tmp_path / "m.csv"
    _matrix(m, 1500)  # about 200 kB of JSON: more than a pipe holds, so the write meets the closed end
    proc = subprocess.Popen([sys.executable, "-m", "fcm", "metrics", str(m), "--json"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.read(10)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0
    assert "Traceback" not in err and "BrokenPipeError" not in err


def test_year_that_is_not_a_number_asks_first(db):
    store = Store(str(db))
    (doc,) = store.import_documents([ParsedDocument("cod.txt", "cod", [ParsedSentence("Cod eat sprat.")])])
    at = app_test(db)
    at.text_input[2].set_value("twenty")
    at.button(key=f"FormSubmitter:meta_{doc}-Save metadata").click().run()
    assert not at.exception
    assert "is not a number" in at.warning[0].value
    assert store.list_documents()[0].year is None  # nothing saved before the answer
    at.button(key="meta_year_yes").click().run()
    assert store.list_documents()[0].year == "twenty"
    at.text_input[2].set_value("2021")
    at.button(key=f"FormSubmitter:meta_{doc}-Save metadata").click().run()
    assert store.list_documents()[0].year == "2021" and not at.warning


def test_no_deploy_button():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["client"]["toolbarMode"] == "minimal"


def test_no_none_shown_for_a_label_without_page_or_score(db):
    from core.types import PassageRelation
    from workspace.mapview import MapQuery, evidence_rows, load_map

    store = Store(str(db))
    (doc,) = store.import_documents([ParsedDocument("cod.txt", "cod", [ParsedSentence("Warm water lowers cod.")])])
    sid = store.sentences(doc)[0].id
    store.add_relation(sid, PassageRelation("Warm water", "cod", -1, annotator="ann"))
    (row,) = evidence_rows(load_map(store, MapQuery()), "cod")
    assert (row["page"], row["score"]) == ("", "")
    at = app_test(db, page="pages/label.py", query={"doc": str(doc), "s": "1"})
    assert not at.exception
    table = next(d.value for d in at.dataframe if "score" in d.value.columns)
    assert list(table["score"]) == [""]
    assert not any("None" in c.value for c in at.caption)


def test_scenario_bars_in_the_maps_sign_colours(db):
    from fcm.view import SIGN_COLOURS
    from workspace.mapview import SCENARIO_SERIES, scenario_bars
    from review_world import build_world

    store = Store(str(db))
    build_world(store)
    at = app_test(db, page="pages/map.py")
    at.multiselect(key="scenario_concepts").set_value(["warmer water"]).run()
    at.select_slider(key="clamp_warmer water").set_value("-high").run()
    at.button(key="scenario_run").click().run()
    assert not at.exception
    (chart,) = at.get("vega_lite_chart")
    spec = chart.proto.spec
    assert SIGN_COLOURS[1] in spec and SIGN_COLOURS[-1] in spec
    result = at.session_state["scenario_result"]
    bars = scenario_bars(result)
    assert all(b["rises"] is None or b["falls"] is None for b in bars)  # one series per bar
    assert bars[0]["rises"] > 0 and list(SCENARIO_SERIES) == ["rises", "falls"]


def test_png_legend_is_complete_and_labels_keep_a_margin(tmp_path):
    import numpy as np
    from matplotlib.image import imread

    from fcm.build import Edge, FuzzyMap
    from fcm.exports import _legend, draw_map
    from fcm.view import SIGN_COLOURS, TYPE_COLOURS

    colours = {h.get_color() for h in _legend()} | {h.get_markerfacecolor() for h in _legend()}
    assert set(SIGN_COLOURS.values()) <= colours and set(TYPE_COLOURS.values()) <= colours
    names = ["left " * 30, "b", "right " * 30]  # labels far wider than the space beside their nodes
    W = np.zeros((3, 3))
    W[0, 1], W[1, 2] = 0.5, -0.5
    edges = {(names[i], names[j]): Edge(names[i], names[j], W[i, j]) for i, j in ((0, 1), (1, 2))}
    draw_map(FuzzyMap(names, W, edges), tmp_path / "m.png")
    img = imread(tmp_path / "m.png")[..., :3]
    border = np.concatenate([img[:10].reshape(-1, 3), img[-10:].reshape(-1, 3),
                             img[:, :10].reshape(-1, 3), img[:, -10:].reshape(-1, 3)])
    assert (border > 0.99).all()  # nothing drawn in the outer margin
    assert img.shape[1] > 1000  # wider than the 10 in figure at 100 dpi: the long labels are drawn whole
