"""The CLI other tools call, run as a subprocess from the repo root."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv/bin/python") if (ROOT / ".venv/bin/python").exists() else sys.executable

MATRIX = ",wind farm,fish stock,fishing jobs\n" \
         "wind farm,0,-0.5,0\n" \
         "fish stock,0,0,0.75\n" \
         "fishing jobs,0,0,0\n"


def fcm(*args):
    return subprocess.run([PYTHON, "-m", "fcm", *map(str, args)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture
def matrix(tmp_path):
    path = tmp_path / "model.csv"
    path.write_text(MATRIX)
    return path


def test_metrics_json(matrix):
    out = fcm("metrics", matrix, "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert {"n_concepts", "n_edges", "density", "complexity", "hierarchy", "concepts"} <= set(data)
    assert (data["n_concepts"], data["n_edges"], data["density"], data["complexity"]) == (3, 2, 2 / 6, 1.0)
    assert data["concepts"]["fish stock"] == {"indegree": 0.5, "outdegree": 0.75, "centrality": 1.25,
                                              "type": "ordinary"}


def test_metrics_table(matrix):
    out = fcm("metrics", matrix)
    assert out.returncode == 0 and "centrality" in out.stdout and "fishing jobs" in out.stdout


def test_scenario_json_direction_and_clamp(matrix):
    out = fcm("scenario", matrix, "--clamp", "wind farm=high", "--rule", "kosko", "--transfer", "sigmoid",
              "--lambda", "1", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert {"baseline", "scenario", "delta", "converged", "iterations"} <= set(data)
    assert data["scenario"]["wind farm"] == 1.0 and "wind farm" not in data["delta"]
    assert data["converged"] is True and data["iterations"] >= 1
    assert data["delta"]["fish stock"] < 0 < data["baseline"]["fish stock"]  # negative edge
    assert data["delta"]["fishing jobs"] < 0  # passed on through the positive edge


def test_scenario_reports_a_cycle(tmp_path):
    path = tmp_path / "loop.csv"
    path.write_text("model,A,B\nA,0,1\nB,-1,0\n")
    out = fcm("scenario", path, "--transfer", "trivalent", "--rule", "kosko", "--json")
    data = json.loads(out.stdout)
    assert data["converged"] is False and data["cycle_length"] == 4


def test_scenario_table(matrix):
    out = fcm("scenario", matrix, "--clamp", "fish stock=-0.62")
    assert out.returncode == 0 and "clamped" in out.stdout and "delta" in out.stdout


@pytest.mark.parametrize("content,args,reason", [
    (None, [], "file not found"),
    (",A,B\nA,0,1\n", [], "not square"),
    (",A,B\nA,0,much\nB,0,0\n", [], "non-numeric weight 'much'"),
    (",A,B\nA,0,2\nB,0,0\n", [], "outside [-1, 1]"),
    (MATRIX, ["--clamp", "wind=1"], "no concept named 'wind'"),
    (MATRIX, ["--clamp", "wind farm=lots"], "not a number"),
    (MATRIX, ["--clamp", "wind farm=3"], "outside [-1, 1]"),
    (MATRIX, ["--clamp", "wind farm"], "not NAME=VALUE"),
    (MATRIX, ["--lambda", "-1"], "lambda must be > 0"),
])
def test_bad_input_one_line_exit_2(tmp_path, content, args, reason):
    path = tmp_path / "in.csv"
    if content is not None:
        path.write_text(content)
    command = "scenario" if args else "metrics"
    out = fcm(command, path, *args, "--json")
    assert out.returncode == 2 and out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and reason in lines[0]


def test_bad_option_is_one_line_too(matrix):
    out = fcm("scenario", matrix, "--rule", "hebbian")
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1


def test_export_by_suffix(tmp_path, matrix):
    out = fcm("export", matrix, tmp_path / "m.graphml")
    assert out.returncode == 0 and (tmp_path / "m.graphml").exists()
    bad = fcm("export", matrix, tmp_path / "m.xyz")
    assert bad.returncode == 2 and "m.xyz" in bad.stderr
