"""LoRA tuning with real MiniLM weights on invented sentences: it learns, it round-trips, it stages.

One module-scoped tuning run (a few seconds) serves most tests, so the weights load once or twice.
"""
from __future__ import annotations

import json
import logging
import re

import numpy as np
import pytest
import torch

from core.types import Candidate, Direction, LabeledExample
from embedding.backbones import clear_backbones, load_backbone
from embedding.pooling import PoolingConfig, encode_candidates
from finetune import lora
from finetune.__main__ import main
from finetune.lora import (HEAD_FILE, TRAINING_FILE, LoraSettings, evaluate_head, load_head, pair_features,
                           read_training, train_lora)

pytestmark = pytest.mark.slow

# Invented sentences in SemEval-2010 Task 8 markup: e1/e2 tags, then the label line.
SENTENCES = [
    ("The <e1>storm</e1> caused severe <e2>flooding</e2> in the valley.", "Cause-Effect(e1,e2)"),
    ("Heavy <e1>rain</e1> triggered several <e2>landslides</e2> near the village.", "Cause-Effect(e1,e2)"),
    ("The <e1>virus</e1> produces a high <e2>fever</e2> in children.", "Cause-Effect(e1,e2)"),
    ("Careless <e1>smoking</e1> started the <e2>fire</e2> in the barn.", "Cause-Effect(e1,e2)"),
    ("The <e1>drought</e1> led to a poor <e2>harvest</e2> last year.", "Cause-Effect(e1,e2)"),
    ("Loud <e1>noise</e1> causes <e2>stress</e2> in city dwellers.", "Cause-Effect(e1,e2)"),
    ("The <e1>earthquake</e1> generated a large <e2>tsunami</e2>.", "Cause-Effect(e1,e2)"),
    ("Excess <e1>sugar</e1> results in tooth <e2>decay</e2>.", "Cause-Effect(e1,e2)"),
    ("The <e1>leak</e1> caused a sudden <e2>explosion</e2> at the plant.", "Cause-Effect(e1,e2)"),
    ("Poor <e1>sanitation</e1> spreads <e2>cholera</e2> quickly.", "Cause-Effect(e1,e2)"),
    ("The <e1>frost</e1> killed most of the young <e2>seedlings</e2>.", "Cause-Effect(e1,e2)"),
    ("A faulty <e1>wire</e1> produced the <e2>spark</e2> that burned the shed.", "Cause-Effect(e1,e2)"),
    ("Overfishing <e1>pressure</e1> causes stock <e2>collapse</e2> in the bay.", "Cause-Effect(e1,e2)"),
    ("The <e1>heatwave</e1> triggered widespread <e2>blackouts</e2>.", "Cause-Effect(e1,e2)"),
    ("The <e1>flooding</e1> was caused by the melting <e2>snow</e2>.", "Cause-Effect(e2,e1)"),
    ("The <e1>rash</e1> came from an allergic <e2>reaction</e2>.", "Cause-Effect(e2,e1)"),
    ("His <e1>cough</e1> was caused by cold <e2>air</e2>.", "Cause-Effect(e2,e1)"),
    ("The <e1>delay</e1> resulted from a broken <e2>signal</e2>.", "Cause-Effect(e2,e1)"),
    ("The <e1>crash</e1> was triggered by a sudden <e2>fog</e2>.", "Cause-Effect(e2,e1)"),
    ("The <e1>damage</e1> was produced by strong <e2>winds</e2>.", "Cause-Effect(e2,e1)"),
    ("Her <e1>headache</e1> came from the bright <e2>lights</e2>.", "Cause-Effect(e2,e1)"),
    ("The <e1>outbreak</e1> was caused by dirty <e2>water</e2>.", "Cause-Effect(e2,e1)"),
    ("The <e1>erosion</e1> resulted from heavy <e2>grazing</e2>.", "Cause-Effect(e2,e1)"),
    ("The <e1>shortage</e1> was triggered by a port <e2>strike</e2>.", "Cause-Effect(e2,e1)"),
    ("The <e1>smog</e1> was produced by diesel <e2>engines</e2>.", "Cause-Effect(e2,e1)"),
    ("The <e1>blight</e1> was caused by a <e2>fungus</e2>.", "Cause-Effect(e2,e1)"),
    ("The <e1>cat</e1> sat quietly on the <e2>mat</e2>.", "Other"),
    ("A <e1>book</e1> lies on the kitchen <e2>table</e2>.", "Other"),
    ("The <e1>keys</e1> are inside the blue <e2>drawer</e2>.", "Content-Container(e1,e2)"),
    ("The <e1>wheel</e1> is part of the old <e2>bicycle</e2>.", "Component-Whole(e1,e2)"),
    ("The <e1>teacher</e1> walked into the <e2>classroom</e2>.", "Entity-Destination(e1,e2)"),
    ("A <e1>flock</e1> of <e2>geese</e2> crossed the sky.", "Member-Collection(e2,e1)"),
    ("The <e1>letter</e1> was written with a fountain <e2>pen</e2>.", "Instrument-Agency(e2,e1)"),
    ("The <e1>bakery</e1> sells fresh <e2>bread</e2> every morning.", "Other"),
    ("The <e1>museum</e1> stands next to the <e2>river</e2>.", "Other"),
    ("The <e1>juice</e1> was poured into a tall <e2>glass</e2>.", "Entity-Destination(e1,e2)"),
    ("The <e1>report</e1> is about local <e2>birds</e2>.", "Message-Topic(e1,e2)"),
    ("A <e1>sofa</e1> was placed near the <e2>window</e2>.", "Other"),
    ("The <e1>apples</e1> came from a nearby <e2>orchard</e2>.", "Entity-Origin(e1,e2)"),
    ("The <e1>engine</e1> of the <e2>truck</e2> is new.", "Component-Whole(e1,e2)"),
    ("The <e1>children</e1> played in the <e2>park</e2> all day.", "Other"),
    ("The <e1>painter</e1> used a thin <e2>brush</e2>.", "Instrument-Agency(e2,e1)"),
    ("A <e1>box</e1> of old <e2>photos</e2> sat in the attic.", "Content-Container(e2,e1)"),
    ("The <e1>lamp</e1> hangs above the wooden <e2>desk</e2>.", "Other"),
    ("The <e1>choir</e1> has forty <e2>singers</e2>.", "Member-Collection(e2,e1)"),
    ("The <e1>bridge</e1> crosses a narrow <e2>canal</e2>.", "Other"),
    ("The <e1>farmer</e1> drove his <e2>tractor</e2> to town.", "Other"),
    ("The <e1>map</e1> shows every <e2>trail</e2> in the forest.", "Message-Topic(e1,e2)"),
]


def semeval_text(rows=SENTENCES) -> str:
    return "".join(f'{i}\t"{s}"\r\n{label}\r\nComment:\r\n\r\n' for i, (s, label) in enumerate(rows, 1))


def _examples(rows=SENTENCES) -> list[LabeledExample]:
    """Examples straight from the fixture list (the staged tests read the same text through data.readers)."""
    out = []
    for sentence, label in rows:
        spans, text = {}, ""
        for part in re.split(r"(</?e[12]>)", sentence):
            if part in ("<e1>", "<e2>"):
                spans[part[2]] = len(text)
            elif part in ("</e1>", "</e2>"):
                spans[part[3]] = (spans[part[3]], len(text))
            else:
                text += part
        direction = {"Cause-Effect(e1,e2)": Direction.A_TO_B,
                     "Cause-Effect(e2,e1)": Direction.B_TO_A}.get(label, Direction.NONE)
        out.append(LabeledExample(Candidate(text, spans["1"], spans["2"]), direction, source="fixture"))
    return out


EXAMPLES = _examples()
TRAIN = EXAMPLES[0::2] + EXAMPLES[1::4]
VALID = EXAMPLES[3::4]
SETTINGS = LoraSettings(epochs=3, batch_size=8, lr=2e-3, seed=0, patience=2, max_steps=8, eval_every=4)


@pytest.fixture(scope="module")
def tuned(tmp_path_factory):
    out = tmp_path_factory.mktemp("adapter")
    return train_lora("minilm", TRAIN, VALID, SETTINGS, out)


def test_tuning_lowers_loss_and_saves_adapter_with_metadata(tuned):
    files = {p.name for p in tuned.adapter_dir.iterdir()}
    assert {"adapter_model.safetensors", "adapter_config.json", TRAINING_FILE, HEAD_FILE} <= files
    before, best = tuned.history[0], tuned.metrics
    assert before["step"] == 0 and best["step"] > 0
    assert best["loss"] < before["loss"] * 0.8, (before["loss"], best["loss"])
    meta = read_training(tuned.adapter_dir)
    assert meta["settings"]["seed"] == 0 and meta["backbone"] == "minilm"
    assert meta["lora_targets"] == ["query", "value"] and meta["qlora"] is lora.cuda_available()
    assert meta["data"]["train"]["n"] == len(TRAIN) and meta["data"]["valid"]["n"] == len(VALID)
    assert meta["data"]["train"]["labels"]["A_TO_B"] == sum(e.label == Direction.A_TO_B for e in TRAIN)
    assert meta["metrics"]["validation"]["loss"] == pytest.approx(best["loss"])
    assert meta["pooling"] == {"layers": 4, "parts": ["sentence", "a", "b", "a*b", "a-b"], "marked": False}
    config = json.loads((tuned.adapter_dir / "adapter_config.json").read_text())
    assert config["r"] == 8 and sorted(config["target_modules"]) == ["query", "value"]


def test_training_loss_falls_with_fixed_seed(tmp_path):
    """Validating on the training set itself: the loss after a few steps is below the loss before."""
    settings = LoraSettings(batch_size=4, lr=2e-3, seed=1, max_steps=3)
    subset = EXAMPLES[::4]
    result = train_lora("minilm", subset, subset, settings, tmp_path)
    assert result.history[-1]["loss"] < result.history[0]["loss"]
    again = train_lora("minilm", subset, subset, settings, tmp_path / "again")
    assert [h["loss"] for h in again.history] == pytest.approx([h["loss"] for h in result.history], abs=1e-5)


def test_reloaded_adapter_reproduces_tuned_features_and_head_metrics(tuned):
    """The saved adapter + head, reloaded through load_backbone, give the validation loss recorded in training."""
    clear_backbones()
    base = load_backbone("minilm")
    reloaded = load_backbone("minilm", adapter=tuned.adapter_dir)
    candidates = [e.candidate for e in VALID]
    before, after = encode_candidates(base, candidates), encode_candidates(reloaded, candidates)
    assert not np.allclose(before, after, atol=1e-3), "LoRA did not change the embeddings"
    head = load_head(tuned.adapter_dir)
    metrics = evaluate_head(reloaded.model, reloaded.tokenizer, head, VALID, PoolingConfig())
    assert metrics["loss"] == pytest.approx(tuned.metrics["loss"], rel=1e-3, abs=1e-5)
    with torch.no_grad():
        train_path = pair_features(reloaded.model, reloaded.tokenizer, candidates, PoolingConfig()).numpy()
    np.testing.assert_allclose(train_path, after, atol=1e-4)


def test_merged_model_is_a_plain_backbone_folder(tuned, tmp_path):
    merged = tmp_path / "merged"
    assert main(["merge", "--backbone", "minilm", "--adapter", str(tuned.adapter_dir), "--out", str(merged)]) == 0
    assert read_training(merged)["backbone"] == "minilm"
    assert (merged / "model.safetensors").is_file() and (merged / "config.json").is_file()
    candidates = [e.candidate for e in VALID]
    plain = encode_candidates(load_backbone(str(merged)), candidates)
    np.testing.assert_allclose(plain, encode_candidates(load_backbone("minilm", adapter=tuned.adapter_dir),
                                                        candidates), atol=1e-5)


def test_qlora_on_cpu_fails_clearly_and_auto_falls_back(monkeypatch, caplog):
    monkeypatch.setattr(lora, "cuda_available", lambda: False)
    with pytest.raises(lora.QLoRAUnavailable, match="QLoRA needs a CUDA GPU; this machine has none"):
        train_lora("minilm", TRAIN, VALID, LoraSettings(qlora=True), "unused")
    with caplog.at_level(logging.INFO, logger="fuzzymap.finetune"):
        assert lora.resolve_qlora(None) is False
    assert "QLoRA off: no CUDA GPU" in caplog.text
    assert lora.resolve_qlora(False) is False


def test_qlora_config_is_nf4_double_quant(monkeypatch):
    config = lora.bnb_config()
    assert config.load_in_4bit and config.bnb_4bit_quant_type == "nf4" and config.bnb_4bit_use_double_quant
    monkeypatch.setattr(lora, "cuda_available", lambda: True)
    assert lora.resolve_qlora(None) is True and lora.resolve_qlora(False) is False


@pytest.mark.skipif(not torch.cuda.is_available(), reason="QLoRA training needs a CUDA GPU")
def test_qlora_tunes_on_gpu(tmp_path):
    result = train_lora("minilm", TRAIN, VALID, LoraSettings(max_steps=2, batch_size=8), tmp_path)
    meta = read_training(result.adapter_dir)
    assert meta["qlora"] is True and (result.adapter_dir / "adapter_model.safetensors").is_file()
    # the recorded figures are the float model's that bundles load, the 4-bit ones kept beside them
    merged = lora.merged_validation("minilm", result.adapter_dir, VALID, PoolingConfig())
    assert meta["metrics"]["validation"]["loss"] == pytest.approx(merged["loss"], rel=1e-4)
    assert meta["metrics"]["validation_4bit"]["step"] == meta["best_step"]


def test_settings_are_validated():
    with pytest.raises(ValueError, match="class_weight"):
        LoraSettings(class_weight="equal")
    with pytest.raises(ValueError, match="r must be"):
        LoraSettings(r=0)


def test_sign_loss_counts_only_labeled_causal_examples():
    c = Candidate("x causes y", (0, 1), (9, 10))
    batch = [LabeledExample(c, Direction.A_TO_B, 1), LabeledExample(c, Direction.B_TO_A, -1),
             LabeledExample(c, Direction.A_TO_B, None), LabeledExample(c, Direction.NONE, 1)]
    d_logits = torch.zeros(4, 3)
    sign_logits = torch.tensor([2.0, -2.0, 5.0, -5.0])
    _, _, sign = lora.head_loss(d_logits, sign_logits, batch, None, 1.0)
    expected = torch.nn.functional.binary_cross_entropy_with_logits(torch.tensor([2.0, -2.0]), torch.tensor([1.0, 0.0]))
    assert float(sign) == pytest.approx(float(expected))
    flipped = sign_logits.clone()
    flipped[2:] = -flipped[2:]  # unlabeled sign / not causal: must not move the loss
    assert float(lora.head_loss(d_logits, flipped, batch, None, 1.0)[2]) == pytest.approx(float(expected))
    unsigned = [LabeledExample(c, Direction.A_TO_B, None)] * 4
    total, direction, sign = lora.head_loss(d_logits, sign_logits, unsigned, None, 1.0)
    assert float(sign) == 0.0 and float(total) == pytest.approx(float(direction))


def test_class_weights_are_milder_than_balanced():
    labels = [0] * 80 + [1] * 15 + [2] * 5
    sqrt, balanced = lora.class_weights(labels, "sqrt"), lora.class_weights(labels, "balanced")
    assert sqrt[2] > sqrt[1] > sqrt[0]
    assert balanced[2] / balanced[0] > sqrt[2] / sqrt[0]
    counts = torch.tensor([80.0, 15.0, 5.0])
    assert float((sqrt * counts).sum()) == pytest.approx(100.0)


def test_staged_command_runs_then_skips_cached_stages(tmp_path, caplog):
    data = tmp_path / "tiny_semeval.txt"
    data.write_text(semeval_text(), encoding="utf-8", newline="")
    out = tmp_path / "run"
    argv = ["run", "--data", f"semeval2010:{data}", "--backbone", "minilm", "--out", str(out),
            "--valid-fraction", "0.25", "--max-train", "24", "--max-steps", "3", "--batch-size", "8",
            "--lr", "2e-3", "--cv-folds", "2", "--c-grid", "0.1,1"]
    with caplog.at_level(logging.INFO, logger="fuzzymap.finetune"):
        assert main(argv) == 0
    assert "skipped (cached" not in caplog.text
    for name in ("report.md", "report.json", "report.png"):
        assert (out / name).stat().st_size > 0
    assert (out / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = json.loads((out / "report.json").read_text())
    assert [r["state"] for r in report["rows"]] == ["base", "tuned", "tuned head"]
    assert report["data"]["train"]["n"] == 24 and "validation" in report["note"].lower()
    assert all(0.0 <= r["causal_f1"] <= 1.0 for r in report["rows"])
    assert "Validation figures" in (out / "report.md").read_text()
    stamps = {s: (out / s / "stage.json").stat().st_mtime_ns for s in ("base", "tune", "tuned", "compare")}

    caplog.clear()
    with caplog.at_level(logging.INFO, logger="fuzzymap.finetune"):
        assert main(argv) == 0
    for stage in ("base", "tune", "tuned", "compare"):
        assert f"stage {stage}: skipped (cached" in caplog.text
    assert stamps == {s: (out / s / "stage.json").stat().st_mtime_ns for s in stamps}

    caplog.clear()
    with caplog.at_level(logging.INFO, logger="fuzzymap.finetune"):
        assert main(argv[:-2] + ["--c-grid", "1"]) == 0
    assert "stage tuned: skipped (cached" in caplog.text and "stage compare: running" in caplog.text


def test_staged_command_rejects_missing_upstream_stage(tmp_path, capsys):
    data = tmp_path / "tiny_semeval.txt"
    data.write_text(semeval_text(), encoding="utf-8", newline="")
    code = main(["run", "--data", f"semeval2010:{data}", "--out", str(tmp_path / "run"), "--stages", "tuned"])
    assert code == 2
    assert "needs stage tune" in capsys.readouterr().err


def test_qlora_flag_on_cpu_is_a_clean_cli_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(lora, "cuda_available", lambda: False)
    data = tmp_path / "tiny_semeval.txt"
    data.write_text(semeval_text(), encoding="utf-8", newline="")
    code = main(["run", "--data", f"semeval2010:{data}", "--out", str(tmp_path / "run"), "--stages", "tune",
                 "--qlora"])
    assert code == 2
    assert "QLoRA needs a CUDA GPU" in capsys.readouterr().err


def test_staged_command_names_a_bad_data_file(tmp_path, capsys):
    missing = tmp_path / "nope.txt"
    assert main(["run", "--data", f"semeval2010:{missing}", "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert str(missing) in err and "no such file" in err
    assert not (tmp_path / "run").exists()


def test_sentence_task_tunes_the_backbone_beside_the_pairs(tmp_path):
    # the fixture's sentences as "causal or not" (the pair's label says which), a second task
    texts = [(e.candidate.text, e.label != Direction.NONE) for e in EXAMPLES]
    train_s, valid_s = texts[0::2], texts[1::2]
    settings = LoraSettings(epochs=3, batch_size=8, lr=2e-3, seed=0, patience=3, max_steps=12, eval_every=6)
    result = train_lora("minilm", TRAIN, VALID, settings, tmp_path, sentences=train_s, valid_sentences=valid_s)
    history = result.history
    assert all("sentence_loss" in h and "sentence_f1" in h for h in history)
    # it learns the sentence task too: held-out sentence loss falls and F1 ends above the untuned one
    assert min(h["sentence_loss"] for h in history[1:]) < history[0]["sentence_loss"]
    assert history[-1]["sentence_f1"] > history[0]["sentence_f1"]
    data = read_training(result.adapter_dir)["data"]["sentences"]
    assert data == {"train": len(train_s), "causal": sum(c for _, c in train_s), "valid": len(valid_s)}


def test_soup_of_two_seeds_is_one_adapter_with_the_mean_change(tuned, tmp_path):
    """The averaged adapter merges to base + the mean of the two runs' weight changes, and peft reads it too."""
    from peft import PeftModel

    from embedding.backbones import load_base_model
    from finetune.lora import soup_adapters

    other = train_lora("minilm", TRAIN, VALID, LoraSettings(**{**SETTINGS.__dict__, "seed": 1}), tmp_path / "seed1")
    soup = soup_adapters([tuned.adapter_dir, other.adapter_dir], tmp_path / "soup")
    config = json.loads((soup / "adapter_config.json").read_text())
    assert (config["r"], config["lora_alpha"]) == (16, 32)
    assert [run["seed"] for run in read_training(soup)["soup"]] == [0, 1]
    clear_backbones()
    weights = {}
    for name, adapter in (("base", None), ("a", tuned.adapter_dir), ("b", other.adapter_dir), ("soup", soup)):
        model = load_backbone("minilm", adapter=adapter).model
        weights[name] = model.encoder.layer[0].attention.self.query.weight.detach().clone()
        clear_backbones()
    change_a, change_b = weights["a"] - weights["base"], weights["b"] - weights["base"]
    assert not torch.allclose(change_a, change_b, atol=1e-6), "the two seeds tuned the same weights"
    torch.testing.assert_close(weights["soup"], weights["base"] + (change_a + change_b) / 2, atol=1e-6, rtol=0)
    _, base, _ = load_base_model("minilm")
    via_peft = PeftModel.from_pretrained(base, str(soup)).merge_and_unload()
    torch.testing.assert_close(via_peft.encoder.layer[0].attention.self.query.weight, weights["soup"],
                               atol=1e-6, rtol=0)


def test_soup_refuses_adapters_of_another_shape(tuned, tmp_path):
    from finetune.lora import soup_adapters

    other = tmp_path / "r4"
    other.mkdir()
    for f in ("adapter_model.safetensors", TRAINING_FILE):
        (other / f).write_bytes((tuned.adapter_dir / f).read_bytes())
    config = json.loads((tuned.adapter_dir / "adapter_config.json").read_text())
    (other / "adapter_config.json").write_text(json.dumps({**config, "r": 4}))
    with pytest.raises(ValueError, match="r differ"):
        soup_adapters([tuned.adapter_dir, other], tmp_path / "soup")
    assert not (tmp_path / "soup").exists()
    with pytest.raises(ValueError, match="at least two"):
        soup_adapters([tuned.adapter_dir], tmp_path / "soup")
