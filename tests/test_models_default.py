"""The shipped bundle (models/default) loads with its real weights and finds obvious relations."""
from __future__ import annotations

from pathlib import Path

import pytest

from models.bundle import load_model, read_config

pytestmark = pytest.mark.slow
DEFAULT = Path(__file__).resolve().parent.parent / "models" / "default"


@pytest.fixture(scope="module")
def model():
    return load_model(DEFAULT)


def test_default_bundle_is_complete_and_small():
    config = read_config(DEFAULT)  # hashes checked
    assert config["adapter"] is None or (DEFAULT / config["adapter"]).is_dir()
    size = sum(p.stat().st_size for p in DEFAULT.rglob("*") if p.is_file())
    assert size < 10 * 1024 * 1024
    assert (DEFAULT / "README.md").read_text().count("CC BY 3.0") >= 1
    assert config["validation"], "validation figures are recorded"


def test_default_model_finds_an_obvious_causal_relation(model):
    sentences = ["Heavy smoking causes lung cancer in older adults.",
                 "The new dam reduced flooding in the lower valley.",
                 "The meeting took place in a small room on Monday."]
    found = model.extract(sentences)
    first = [(r.src.lower(), r.tgt.lower(), r.sign) for r in found[0]]
    assert any("smoking" in s and "cancer" in t for s, t, _ in first), first
    second = [(r.src.lower(), r.tgt.lower(), r.sign) for r in found[1]]
    assert any("dam" in s and "flood" in t and sign == -1 for s, t, sign in second), second
    assert not found[2], found[2]
    for text, rels in zip(sentences, found):
        for r in rels:
            assert text[r.src_span[0]:r.src_span[1]] == r.src and r.model_id == model.model_id


def test_default_model_sentence_head(model):
    p = model.sentence_proba(["Rising fuel prices led to protests across the country.",
                              "The minister arrived in Paris on Friday."])
    assert p[0] > p[1]
