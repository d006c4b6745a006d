"""bench/backbones.py: the rows it measures are real (MiniLM weights, the shipped bundle) and its table
says when a backbone could not be loaded instead of leaving it out."""
from __future__ import annotations

from pathlib import Path

import pytest

from bench.backbones import bundle_backbone, make_probe, measure_one, sentences, table

ROOT = Path(__file__).resolve().parent.parent


def test_invented_paper_gives_the_sentences_asked_for():
    texts = sentences(60)
    assert 50 <= len(texts) <= 70 and all(t.endswith(".") for t in texts)


def test_default_bundle_names_its_backbone(tmp_path):
    assert bundle_backbone(ROOT / "models" / "default") == "minilm"
    assert bundle_backbone(tmp_path) is None


def test_table_keeps_unavailable_backbones():
    ok = {"backbone": "minilm", "layers": 6, "hidden": 384, "params_m": 22.7, "load_s": 0.2,
          "embed_sent_s_1t": 90.0, "embed_sent_s_2t": 150.0, "bundle": "models/default",
          "extract_sent_s_with_load": 47.0}
    text = table([ok, {"backbone": "bge-small", "error": "RuntimeError: not installed"}], [1, 2], 2)
    lines = text.splitlines()
    assert lines[2] == "| minilm | 6 x 384 | 22.7 | 0.2 | 90.0 | 150.0 | 47.0 (models/default) |"
    assert lines[3] == "| bge-small | not available: RuntimeError: not installed |"
    assert "extraction sent/s incl. load (2 threads)" in lines[0]


@pytest.mark.slow
def test_measure_one_minilm_with_bundle():
    row = measure_one("minilm", str(ROOT / "models" / "default"), 12, [1], 1, 1)
    assert (row["layers"], row["hidden"], row["kind"]) == (6, 384, "encoder")
    assert row["sentences"] >= 10 and row["embed_sent_s_1t"] > 0 and row["extract_sent_s_with_load"] > 0
    assert 20 < row["params_m"] < 25 and row["extract_threads"] == 1


@pytest.mark.slow
def test_probe_is_a_loadable_backbone_and_bundle(tmp_path):
    from embedding.backbones import clear_backbones, load_base_model
    from models.extractor import Extractor

    folder, bundle = make_probe("6x384", tmp_path)
    _, model, kind = load_base_model(folder)
    assert (model.config.num_hidden_layers, model.config.hidden_size, kind) == (6, 384, "encoder")
    clear_backbones()
    found = Extractor.load(bundle).pipe(["Warmer winters raise tick numbers.", "Rainfall reduces yields."])
    assert len(found) == 2
    assert bundle_backbone(Path(bundle)) == folder
    assert make_probe("2x128", tmp_path)[1] is None  # heads of models/default need MiniLM's width
