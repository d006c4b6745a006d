"""Train -> save -> load -> extract on invented fixtures, with the real MiniLM backbone (frozen)
and the real spaCy model; bundles that were tampered with or are foreign are refused."""
from __future__ import annotations

import json
import re
import shutil
from dataclasses import replace

import numpy as np
import pytest

from core.errors import InputError
from core.types import Direction
from models.bundle import load_bundle, read_config
from models.candidates import make_candidates_batch
from models.classifier import HeadSettings
from models.training import TrainSettings, train_model
from tests.models_fixtures import cnc_file, semeval_file, twosix_file

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def specs(tmp_path_factory):
    d = tmp_path_factory.mktemp("data")
    return [f"semeval2010:{semeval_file(d / 'sem.txt')}", f"twosix:{twosix_file(d / 'ts.json')}",
            f"cnc:{cnc_file(d / 'cnc.csv')}"]


@pytest.fixture(scope="module")
def trained(specs, tmp_path_factory):
    out = tmp_path_factory.mktemp("bundle") / "model"
    settings = TrainSettings(lora=False, layers=2, cache_dir=str(tmp_path_factory.mktemp("cache")),
                             heads=HeadSettings(c_grid=(1.0,), cv_folds=3))
    model = train_model(specs, settings, out, progress=lambda _: None)
    return model, out


SENTENCES = ["Heavy rain caused river floods in the valley.", "The report listed warm water and poor sleep.",
             "Air pollution reduced lung disease rates in town, oddly."]


def test_save_load_gives_identical_predictions(trained):
    model, out = trained
    loaded = load_bundle(out)
    cands = [c for cs in make_candidates_batch(SENTENCES) for c in cs]
    # the backbone's float32 sums differ by ~1e-6 with batch composition (padding), hence atol
    p1, s1 = model.predict_proba(cands)
    p2, s2 = loaded.predict_proba(cands)
    np.testing.assert_allclose(p1, p2, atol=1e-5)
    np.testing.assert_allclose(s1, s2, atol=1e-5)
    assert [p.direction for p in model.predict_candidates(cands)] == [p.direction for p in loaded.predict_candidates(cands)]
    assert loaded.thresholds == model.thresholds and loaded.model_id == model.model_id
    key = [[(r.src, r.tgt, r.sign, r.src_span, r.tgt_span) for r in rels] for rels in model.extract(SENTENCES)]
    assert key == [[(r.src, r.tgt, r.sign, r.src_span, r.tgt_span) for r in rels] for rels in loaded.extract(SENTENCES)]
    np.testing.assert_allclose(model.sentence_proba(SENTENCES), loaded.sentence_proba(SENTENCES), atol=1e-5)


def test_bundle_records_data_validation_and_hashes(trained):
    _, out = trained
    config = read_config(out)
    assert config["format"] == "fuzzymap-relation-model" and config["version"] == 2
    assert [d["format"] for d in config["training_data"]] == ["semeval2010", "twosix", "cnc"]
    assert all(len(d["sha256"]) == 64 for d in config["training_data"])
    assert "causal_f1" in next(iter(config["validation"].values()))
    assert set(config["files"]) >= {"classifier.safetensors", "vocab.json"}
    # the sentence head keeps its own embedding weight (HeadSettings.sentence_embed_weight)
    assert config["heads"]["sentence"]["embed_weight"] == 0.02 and config["heads"]["pair"]["embed_weight"] == 0.03
    card = (out / "README.md").read_text()
    assert "CC BY 3.0" in card and "CC0 1.0" in card and "MIT" in card
    assert not any(p.suffix in {".pkl", ".pickle", ".joblib"} for p in out.rglob("*"))


def test_extract_spans_point_into_the_sentence(trained):
    model, _ = trained
    found = model.extract(SENTENCES)
    assert len(found) == len(SENTENCES)
    assert found[0], "an obvious causal sentence from the training templates yields a relation"
    for text, rels in zip(SENTENCES, found):
        for r in rels:
            assert text[r.src_span[0]:r.src_span[1]] == r.src and text[r.tgt_span[0]:r.tgt_span[1]] == r.tgt
            assert r.origin == "model" and r.model_id == model.model_id and 0 <= r.score <= 1 and r.sign in (1, -1)
    best = found[0][0]
    assert "rain" in best.src and "flood" in best.tgt


def test_predictions_learn_direction(trained):
    model, _ = trained
    from core.types import Candidate

    text = "The crop failure was caused by long drought in the valley."
    a, b = (4, 16), (31, 43)
    assert text[a[0]:a[1]] == "crop failure" and text[b[0]:b[1]] == "long drought"
    pred = model.predict_candidates([Candidate(text, a, b)])[0]
    assert pred.direction == Direction.B_TO_A


def test_tampered_bundle_is_refused(trained, tmp_path):
    _, out = trained
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    blob = bytearray((copy / "classifier.safetensors").read_bytes())
    blob[-1] ^= 0x01
    (copy / "classifier.safetensors").write_bytes(bytes(blob))
    with pytest.raises(InputError, match="modified"):
        load_bundle(copy)
    shutil.rmtree(copy)
    shutil.copytree(out, copy)
    (copy / "vocab.json").unlink()
    with pytest.raises(InputError, match="missing"):
        load_bundle(copy)


def test_foreign_folders_are_refused(trained, tmp_path):
    _, out = trained
    with pytest.raises(InputError, match="no config.json"):
        load_bundle(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"format": "something-else", "version": 1}))
    with pytest.raises(InputError, match="format marker"):
        load_bundle(tmp_path)
    config = json.loads((out / "config.json").read_text())
    config["version"] = 99
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(InputError, match="version"):
        load_bundle(tmp_path)


def test_lora_stage_ships_its_adapter_and_is_reused(specs, tmp_path, monkeypatch):
    monkeypatch.setenv("FUZZYMAP_CACHE", str(tmp_path / "cache"))
    settings = TrainSettings(lora=True, lora_steps=2, lora_valid=8, layers=2, cache_dir=str(tmp_path / "emb"),
                             lora_r=4, lora_targets=("query", "value", "dense"),
                             heads=HeadSettings(c_grid=(1.0,), cv_folds=3))
    said: list[str] = []
    model = train_model(specs, settings, tmp_path / "tuned", progress=said.append)
    config = read_config(tmp_path / "tuned")
    assert config["adapter"] == "adapter" and (tmp_path / "tuned" / "adapter" / "adapter_model.safetensors").is_file()
    # the rank and target modules asked for are the ones tuned (every "dense": attention output and MLP too)
    adapter_config = json.loads((tmp_path / "tuned" / "adapter" / "adapter_config.json").read_text())
    assert adapter_config["r"] == 4 and adapter_config["lora_alpha"] == 8
    assert set(adapter_config["target_modules"]) == {"query", "value", "dense"}
    assert config["train_settings"]["lora_r"] == 4
    # peft's README (it names this machine's paths) and the tuning-only head stay out of the bundle
    assert not {"README.md", "head.safetensors"} & {p.name for p in (tmp_path / "tuned" / "adapter").iterdir()}
    # the fixture's sentences were the second task of the tuning
    assert any(re.search(r"pairs and [1-9]\d* sentences", m) for m in said)
    loaded = load_bundle(tmp_path / "tuned")
    cands = [c for cs in make_candidates_batch(SENTENCES) for c in cs]
    p1, _ = model.predict_proba(cands)
    p2, _ = loaded.predict_proba(cands)
    np.testing.assert_allclose(p1, p2, atol=1e-5)
    assert not any("reusing" in m for m in said)
    said.clear()  # same pairs and settings: the tuned adapter comes from the cache, not a second tuning
    train_model(specs, settings, tmp_path / "again", progress=said.append)
    assert any("reusing the adapter" in m for m in said)
    said.clear()  # the same pool of pairs split another way is another adapter
    train_model(specs, replace(settings, lora_valid=6), tmp_path / "other", progress=said.append)
    assert not any("reusing" in m for m in said)
    said.clear()  # two seeds: seed 0's run is the one above, only seed 1 tunes; the bundle ships their mean
    souped = train_model(specs, replace(settings, lora_seeds=(0, 1)), tmp_path / "soup", progress=said.append)
    assert any("seed 0: reusing" in m for m in said) and any(m.startswith("LoRA seed 1: minilm") for m in said)
    soup_config = json.loads((tmp_path / "soup" / "adapter" / "adapter_config.json").read_text())
    assert (soup_config["r"], soup_config["lora_alpha"]) == (8, 16)
    assert read_config(tmp_path / "soup")["train_settings"]["lora_seeds"] == [0, 1]
    p3, _ = souped.predict_proba(cands)
    assert not np.allclose(p1, p3, atol=1e-4), "the averaged adapter scored like seed 0's alone"
    np.testing.assert_allclose(load_bundle(tmp_path / "soup").predict_proba(cands)[0], p3, atol=1e-5)


def test_lora_holdout_keeps_its_texts_out_of_the_tuning(specs, tmp_path, monkeypatch):
    import finetune.lora
    from models.training import held_out_texts, prepare

    monkeypatch.setenv("FUZZYMAP_CACHE", str(tmp_path / "cache"))
    seen: list = []
    real = finetune.lora.train_lora

    def spy(backbone, train, valid, *args, sentences=(), valid_sentences=(), **kwargs):
        seen.extend([e.candidate.text for e in [*train, *valid]] + [t for t, _ in [*sentences, *valid_sentences]])
        return real(backbone, train, valid, *args, sentences=sentences, valid_sentences=valid_sentences, **kwargs)

    monkeypatch.setattr(finetune.lora, "train_lora", spy)
    settings = TrainSettings(lora=True, lora_steps=2, lora_valid=8, layers=2, lora_r=2, lora_holdout=0.3,
                             cache_dir=str(tmp_path / "emb"), heads=HeadSettings(c_grid=(1.0,), cv_folds=3))
    model = train_model(specs, settings, tmp_path / "held", progress=lambda _: None)
    held = held_out_texts(prepare(specs, 0.2, 0, progress=lambda _: None).train, 0.3, 0)
    assert held and seen and not held & set(seen)
    assert model.info["tuning_rows"]["held_out_of_backbone"] is True
    assert read_config(tmp_path / "held")["train_settings"]["lora_holdout"] == 0.3


def test_marked_model_reads_each_pair_marked_and_each_sentence_plain(specs, tmp_path):
    """train --marked: the pair and sign heads read the text with A and B marked (so the sentence
    part differs between two pairs of one sentence), the sentence head the plain text; the bundle
    says so per head and reloads to the same predictions."""
    settings = TrainSettings(lora=False, layers=2, marked=True, cache_dir=str(tmp_path / "cache"),
                             heads=HeadSettings(c_grid=(1.0,), cv_folds=3))
    model = train_model(specs, settings, tmp_path / "marked", progress=lambda _: None)
    config = read_config(tmp_path / "marked")
    assert config["pooling"]["marked"] is True
    assert config["heads"]["pair"]["marked"] is True and config["heads"]["sentence"]["marked"] is False
    assert config["train_settings"]["marked"] is True

    cands = make_candidates_batch(["Heavy rain caused river floods and landslides in the valley."])[0]
    assert len(cands) >= 2
    embed = dict(model.pair_[0].transformer_list)["embed"][0]
    sentence_part = embed.transform(cands[:2])[:, :embed.hidden_size_]
    assert not np.allclose(sentence_part[0], sentence_part[1])  # the markers moved every token's vector
    plain = dict(model.sentence_[0].transformer_list)["embed"][0]
    assert plain.marked is False

    loaded = load_bundle(tmp_path / "marked")
    np.testing.assert_allclose(model.predict_proba(cands)[0], loaded.predict_proba(cands)[0], atol=1e-5)
    np.testing.assert_allclose(model.sentence_proba(SENTENCES), loaded.sentence_proba(SENTENCES), atol=1e-5)
    assert dict(loaded.pair_[0].transformer_list)["embed"][0].marked is True
    assert dict(loaded.sentence_[0].transformer_list)["embed"][0].marked is False
