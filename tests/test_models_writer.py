"""The relation writer (models.writer, finetune.writer, core.relation_text): what it learns to write,
how its text is read back, its bundle, and the CLI. Invented passages only.

A tiny random Llama (SmolLM2's tokenizer, 2 layers of 32) checks the mechanics fast; one test tunes
the real packaged SmolLM2-135M, because what the writer learns depends on its weights."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.errors import InputError
from core.relation_text import PROMPT, UNSIGNED, parse, target
from core.types import PassageRelation
from finetune.writer import WriterTuning, answer_loss, encode, keep_none

RAIN = PassageRelation("low rainfall", "risk for herders", -1)
FUEL = PassageRelation("fuel prices", "transport costs", 1)
ROOT = Path(__file__).resolve().parents[1]


def test_written_relations_read_back_as_written():
    text = target([RAIN, FUEL])
    assert text == "\nlow rainfall -> risk for herders (-)\nfuel prices -> transport costs (+)"
    assert [(r.src, r.tgt, r.sign) for r in parse(text)] == [(r.src, r.tgt, r.sign) for r in (RAIN, FUEL)]
    assert target([]) == "\nnone" and parse("none") == []
    assert target([PassageRelation("Floods", "the road", 0)]) == "\nFloods -> the road"


def test_parse_skips_what_is_not_a_relation_and_repeats():
    text = "fuel prices -> transport costs (+)\nsome chatter\n-> x (+)\nFuel prices -> transport costs (+)\na -> b (-)"
    assert [(r.src, r.tgt, r.sign) for r in parse(text)] == [("fuel prices", "transport costs", 1), ("a", "b", -1)]


def test_keep_none_keeps_every_relation_and_a_seeded_share_of_the_rest():
    examples = [(f"with {i}", [FUEL]) for i in range(10)] + [(f"without {i}", []) for i in range(30)]
    kept = keep_none(examples, 0.2, seed=3)
    assert sum(1 for _, rels in kept if rels) == 10 and sum(1 for _, rels in kept if not rels) == 2
    assert kept == keep_none(examples, 0.2, seed=3)
    with pytest.raises(ValueError):
        keep_none(examples, -1, seed=3)


class _Chars:
    """A stand-in tokenizer: one id per character, enough to check which ids the loss sees."""

    eos_token_id = 0

    def __call__(self, text: str, add_special_tokens: bool = True) -> dict:
        return {"input_ids": ([1] if add_special_tokens else []) + [ord(c) for c in text]}


def test_the_loss_is_on_the_answer_only_and_unsigned_examples_get_their_own_prompt():
    ids, labels = encode(_Chars(), "Rain fell.", [RAIN], max_len=1000)
    prompt = 1 + len(PROMPT.format(text="Rain fell."))  # the tokenizer's start token begins the prompt only
    assert labels[:prompt] == [-100] * prompt and labels[prompt:] == ids[prompt:] and ids[-1] == 0
    assert 1 not in ids[prompt:]
    ids, labels = encode(_Chars(), "Rain fell.", [PassageRelation("rain", "floods", 0)], max_len=1000)
    assert "".join(map(chr, ids[1:1 + len(UNSIGNED.format(text="Rain fell."))])) == UNSIGNED.format(text="Rain fell.")
    ids, labels = encode(_Chars(), "Rain fell.", [RAIN], max_len=12)
    assert len(ids) == len(labels) == 12


def test_answer_loss_is_the_models_own_loss():
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(vocab_size=50, hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                                         num_attention_heads=2, num_key_value_heads=2, pad_token_id=0))
    ids = torch.randint(1, 50, (3, 9))
    mask = torch.ones_like(ids)
    mask[2, 6:] = 0  # a right-padded row
    labels = ids.clone()
    labels[:, :4] = -100
    labels[mask == 0] = -100
    expected = model(input_ids=ids, attention_mask=mask, labels=labels).loss
    assert torch.allclose(answer_loss(model, ids, mask, labels), expected, atol=1e-5)


@pytest.mark.parametrize("bad", [{"r": 0}, {"epochs": 0}, {"lr": 0.0}, {"dropout": 1.0}, {"max_len": 0}])
def test_tuning_settings_are_checked(bad):
    with pytest.raises(ValueError):
        WriterTuning(**bad)


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory) -> Path:
    """A random 2-layer Llama with SmolLM2's tokenizer, saved as a local model folder."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from embedding.backbones import convert_smollm2

    folder = tmp_path_factory.mktemp("tiny-base")
    tok = AutoTokenizer.from_pretrained(convert_smollm2())
    torch.manual_seed(0)
    LlamaForCausalLM(LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                 num_attention_heads=4, num_key_value_heads=2, bos_token_id=tok.bos_token_id,
                                 eos_token_id=tok.eos_token_id)).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


TEXTS = ["Warmer water reduces the growth of young cod.", "More seals mean fewer cod in the bay.",
         "The survey ran in May."]
RELATIONS = [[PassageRelation("warmer water", "growth of young cod", -1)], [PassageRelation("seals", "cod", -1)], []]


@pytest.fixture(scope="module")
def tiny_bundle(tiny_base, tmp_path_factory) -> Path:
    from models.bundle import save_writer
    from models.writer import RelationWriter, WriteSettings

    writer = RelationWriter(str(tiny_base), WriterTuning(epochs=1, batch_size=3), WriteSettings(max_new_tokens=8))
    writer.fit(TEXTS, RELATIONS, progress=lambda m: None)
    return save_writer(writer, tmp_path_factory.mktemp("writer") / "bundle")


def test_a_writer_bundle_loads_and_extracts_through_the_extractor(tiny_bundle):
    import torch
    from safetensors.torch import load_file

    from models.bundle import read_config
    from models.extractor import Extractor

    config = read_config(tiny_bundle)
    assert config["format"] == "fuzzymap-relation-writer" and config["model_id"].startswith("fuzzymap-writer-")
    assert {"adapter/adapter_model.safetensors", "adapter/adapter_config.json", "config.json"} <= set(config["files"])
    assert "# " + config["model_id"] in (tiny_bundle / "README.md").read_text()
    tensors = load_file(str(tiny_bundle / "adapter" / "adapter_model.safetensors"))
    assert tensors and {t.dtype for t in tensors.values()} == {torch.float16}  # half the size of float32
    extractor = Extractor.load(tiny_bundle, ahead=[TEXTS])
    seen = []
    extractor.model.writing.batch_size = 2  # the Extractor's batches (256) are cut to what one generate call takes
    try:
        found = extractor.pipe(TEXTS, on_progress=lambda done, total: seen.append((done, total)))
    finally:
        extractor.model.writing.batch_size = 16  # the loaded bundle is cached for the process
    assert len(found) == 3 and seen == [(2, 3), (3, 3)] and extractor.model_id == config["model_id"]
    assert all(r.origin == "model" and r.model_id == config["model_id"] for rels in found for r in rels)


def _bump(record: dict, path: tuple[str, ...]) -> None:
    for key in path[:-1]:
        record = record[key]
    record[path[-1]] = record[path[-1]] * 2 + 1


@pytest.mark.parametrize("name, change", [("config.json", ("writing", "max_new_tokens")),
                                          ("state.json", ("thresholds", "extract")),
                                          ("adapter/adapter_config.json", ("lora_alpha",)),
                                          ("adapter/adapter_model.safetensors", None)])
def test_a_writer_bundle_with_a_changed_byte_is_refused(tiny_bundle, tmp_path, name, change):
    """A changed setting (still valid JSON) or weight byte: refused, config and threshold included."""
    import shutil

    from models.bundle import load_bundle

    copy = tmp_path / "copy"
    shutil.copytree(tiny_bundle, copy)
    if change:
        record = json.loads((copy / name).read_text())
        _bump(record, change)
        (copy / name).write_text(json.dumps(record))
    else:
        data = bytearray((copy / name).read_bytes())
        data[-1] ^= 0x01
        (copy / name).write_bytes(bytes(data))
    with pytest.raises(InputError, match="modified"):
        load_bundle(copy)


def test_a_writer_bundle_is_not_rewritten_as_a_relation_model(tiny_bundle, tmp_path):
    from models.bundle import copy_bundle

    with pytest.raises(InputError, match="relation-writer"):
        copy_bundle(tiny_bundle, tmp_path / "out", {"backbone": "minilm"})


def test_the_writer_learns_to_write_relations_and_names_a_new_concept_from_the_text(tmp_path):
    """The real SmolLM2-135M, tuned briefly on three invented passages, writes the taught relation
    for a sentence it never saw, naming the new concept with the sentence's words; its bundle
    writes the same relations after a reload."""
    import torch

    from models.bundle import load_bundle, save_writer
    from models.writer import RelationWriter, WriteSettings

    torch.manual_seed(0)
    writer = RelationWriter("smollm2-135m", WriterTuning(epochs=10, lr=5e-3, batch_size=3),
                            WriteSettings(max_new_tokens=24))
    writer.fit(TEXTS, RELATIONS, progress=lambda m: None)
    save_writer(writer, tmp_path / "bundle")
    new = "Warmer water reduces the growth of young salmon."
    found = writer.extract([new, TEXTS[2]])
    assert [(r.src, r.tgt, r.sign) for r in found[0]] == [("warmer water", "growth of young salmon", -1)]
    assert found[1] == []
    rel = found[0][0]
    assert 0.5 < rel.score <= 1 and rel.model_id == writer.model_id
    assert rel.extra == {"direction_src": "increase", "direction_tgt": "decrease"}
    assert load_bundle(tmp_path / "bundle").extract([new, TEXTS[2]]) == found
    assert writer.extract([new], threshold=1.01) == [[]]


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "models", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)


def test_train_writer_and_evaluate_on_invented_files(tiny_base, tmp_path):
    from tests.test_models_loso import sift_file, twosix_with_copies

    specs = [f"sift:{sift_file(tmp_path / 'sift.jsonl')}", f"twosix:{twosix_with_copies(tmp_path / 'copies.json')}"]
    out = tmp_path / "writer"
    done = _run("train-writer", *[a for s in specs for a in ("--data", s)], "--out", str(out), "--base", str(tiny_base),
                "--epochs", "1", "--threads", "1")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["out"] == str(out) and set(result["validation"]) == set(specs)
    assert all("e2e_f1" in v and "n" not in v for v in result["validation"].values())
    training = json.loads((out / "training.json").read_text())
    assert [d["spec"] for d in training["training_data"]] == specs
    scored = _run("evaluate", "--model", str(out), "--data", specs[0], "--json")
    assert scored.returncode == 0, scored.stderr
    last = json.loads(scored.stdout.strip().splitlines()[-1])
    assert last["split"] == "validation" and last["model"] == result["model_id"]  # a training file: its validation split


def test_train_writer_refuses_files_without_passages_in_one_line(tmp_path):
    semeval = tmp_path / "semeval.txt"
    semeval.write_text('1\t"The <e1>storm</e1> caused the <e2>flood</e2>."\nCause-Effect(e1,e2)\nComment:\n\n')
    done = _run("train-writer", "--data", f"semeval2010:{semeval}", "--out", str(tmp_path / "w"))
    assert done.returncode == 2 and "no passages with relations" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "w").exists()


def test_the_model_page_lists_a_writer_bundle_and_compares_it_with_the_pair_scorer(tiny_bundle, tmp_path):
    """The card names its base and adapter; a comparison gives both bundles' end-to-end figures and
    the pair plots show the pair scorer alone."""
    import shutil

    from models_fixtures import twosix_file
    from workspace.model_catalog import card, list_bundles
    from workspace.model_comparison import compare, confusion_plot, metric_bars, png_bytes, pr_curves

    root = tmp_path / "models"
    shutil.copytree(tiny_bundle, root / "writer")
    (entry,) = list_bundles(roots=(root,))
    assert entry.ok
    c = card(entry.config)
    assert c.backbone == entry.config["base"] and c.adapter.startswith("LoRA relation writer r=16")
    assert c.validation == [] and c.thresholds == {"extract": 0.0}
    default = ROOT / "models" / "default"
    spec = f"twosix:{twosix_file(tmp_path / 'other.json', n=6, seed=5)}"
    result = compare((default, root / "writer"), [spec])
    base, writer = result.per_source
    assert base["split"] == writer["split"] == "all" and writer["model_id"] == entry.model_id
    assert "e2e_f1" in writer and "causal_f1" not in writer and "causal_f1" in base
    assert list(result.pairs) == ["default"]
    for make in (metric_bars, pr_curves, confusion_plot):
        assert png_bytes(make(result))[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_model_page_job_trains_a_relation_writer_from_store_labels(tiny_base, tmp_path, monkeypatch):
    """The Model page's job with kind "relation writer": the same train_writer as the CLI, its
    epochs moving the job's progress, the bundle listed afterwards."""
    from data.readers import store_spec
    from model_page_world import gold_store
    from workspace import training_jobs
    from workspace.model_catalog import check_bundle

    monkeypatch.setenv("FUZZYMAP_VAR", str(tmp_path / "var"))
    store = gold_store(str(tmp_path / "g.db"), n=30)
    spec = store_spec(store.url, ["gold"])
    job = training_jobs.TrainJob(name="writer", data=[spec], backbone=str(tiny_base), kind="relation writer")
    assert job.command().startswith(f"python -m models train-writer --data '{spec}' --base {tiny_base}")
    with pytest.raises(InputError, match="one of"):
        training_jobs.start_job(training_jobs.TrainJob(name="odd", data=[spec], kind="oracle"))
    training_jobs.start_job(job)
    deadline = time.monotonic() + 300
    while (done := training_jobs.current_job()).status == training_jobs.RUNNING:
        assert time.monotonic() < deadline, done.log
        time.sleep(0.5)
    assert done.status == training_jobs.DONE, (done.error, done.log)
    assert any(line.startswith("writer epoch 8/8") for line in done.log) and done.progress == 1.0
    entry = check_bundle(tmp_path / "var" / "models" / "writer")
    assert entry.ok and entry.config["format"] == "fuzzymap-relation-writer" and entry.model_id == done.model_id


def test_the_writers_epochs_move_a_jobs_progress():
    from workspace.training_jobs import stage_of

    assert stage_of("relation writer: tuning smollm2-135m on 40 passages (30 with relations)") == (
        "tuning the relation writer", 0.05)
    assert stage_of("writer epoch 4/8: loss 0.512, 20 steps, 31 s") == ("tuning the relation writer", 0.45)


def test_one_relation_per_source_and_target_best_scored_first():
    from models.writer import RelationWriter

    lines = [("wind farm construction -> turbidity (+)", 0.88), ("", 0.5), ("some chatter", 0.9),
             ("construction of wind farms -> turbidity (-)", 0.92), ("turbidity -> seagrass (-)", 0.95),
             ("Turbidity -> turbidity (+)", 0.99), ("seagrass -> fish (+)", 0.2)]
    found = RelationWriter().relations_in(lines, threshold=0.3)
    assert [(r.src, r.tgt, r.sign, r.score) for r in found] == [
        ("turbidity", "seagrass", -1, 0.95), ("construction of wind farms", "turbidity", -1, 0.92)]


class _Pieces:
    """A stand-in tokenizer whose ids are indices into a list of text pieces (0: end of text)."""

    all_special_ids = [0]

    def __init__(self, pieces: list[str]) -> None:
        self.pieces = pieces

    def decode(self, ids: list[int]) -> str:
        return "".join(self.pieces[i] for i in ids)

    def batch_decode(self, rows: list[list[int]]) -> list[str]:
        return [self.decode(r) for r in rows]


def test_each_written_line_is_scored_by_the_tokens_it_took():
    import torch

    from models.writer import RelationWriter

    writer = RelationWriter()
    writer.tokenizer_ = _Pieces(["<eos>", "\n", "rain", " -> floods (+)", "\nwind", " -> crops (-)", "\n", "junk"])
    ids = torch.tensor([1, 2, 3, 4, 5, 6, 0, 7])  # the answer ends at the end-of-text token
    probs = torch.tensor([0.9, 0.8, 0.6, 0.5, 0.7, 0.3, 0.1, 0.1])
    lines = writer._lines(ids, probs)
    # line 1 took "rain", " -> floods (+)" and the "\nwind" token that ends it; line 2 that token too
    assert [text for text, _ in lines] == ["rain -> floods (+)", "wind -> crops (-)"]
    assert [round(p, 4) for _, p in lines] == [round((0.8 + 0.6 + 0.5) / 3, 4), round((0.5 + 0.7 + 0.3) / 3, 4)]
    writer.tokenizer_ = _Pieces(["<eos>", "\na -> b (+)\nc -> d (-)\n"])  # a token holding whole lines
    assert [(t, round(p, 4)) for t, p in writer._lines(torch.tensor([1, 0]), torch.tensor([0.4, 0.1]))] == [
        ("a -> b (+)", 0.4), ("c -> d (-)", 0.4)]


def test_bench_none_probability_is_that_of_writing_none_first(tiny_bundle):
    """bench/writer_options.py's gate: P("\\n") * P("none" | "\\n") after the prompt, batched with
    left padding, equals the same product from one unpadded forward pass per text."""
    import torch

    from bench.writer_options import none_probability
    from core.relation_text import prompt
    from models.bundle import load_model

    writer = load_model(tiny_bundle)
    writer.writing.batch_size = 2  # TEXTS differ in length, so a batch is padded
    try:
        batched = none_probability(writer, TEXTS)
    finally:
        writer.writing.batch_size = 16  # the loaded bundle is cached for the process
    tok = writer.tokenizer_
    for text, p in zip(TEXTS, batched):
        asked = tok(prompt(text))["input_ids"]
        answer = tok("\nnone", add_special_tokens=False)["input_ids"]
        with torch.inference_mode():
            probs = writer.model_(input_ids=torch.tensor([asked + answer])).logits[0].float().softmax(-1)
        expected = probs[len(asked) - 1, answer[0]] * probs[len(asked), answer[1]]
        assert p == pytest.approx(float(expected), rel=1e-3)
    assert len(set(batched)) == 3 and all(0 < p < 1 for p in batched)  # one per text, not one per batch


def test_bench_agreement_needs_the_sign_and_a_shared_word_at_each_end():
    """bench/writer_options.py counts a writer relation as one the pair scorer also finds by this rule."""
    from core.matching import relations_match as agrees

    warm = PassageRelation("warmer water", "growth of young cod", -1)
    assert agrees(warm, PassageRelation("water temperature", "cod growth", -1))
    assert not agrees(warm, PassageRelation("water temperature", "cod growth", 1))
    assert not agrees(warm, PassageRelation("seals", "cod growth", -1))


def test_answers_come_back_in_the_order_of_the_texts(tiny_bundle):
    """write batches texts by length; each answer still lands at its own text's place."""
    from models.bundle import load_model

    writer = load_model(tiny_bundle)
    writer.writing.batch_size = 2
    try:
        forward, backward = writer.write(TEXTS), writer.write(TEXTS[::-1])
    finally:
        writer.writing.batch_size = 16  # the loaded bundle is cached for the process
    assert len({str(a) for a in forward}) == 3  # three different answers, so a mix-up would show
    assert backward == forward[::-1]


def test_a_writer_cards_leave_one_source_out_figures(tiny_bundle, tmp_path):
    """Figures recorded under "loso" show in the bundle's README and in the Model page's card."""
    from models.bundle import load_model, read_config, save_writer
    from workspace.model_catalog import card

    writer = load_model(tiny_bundle)
    assert "Leave one source out" not in (tiny_bundle / "README.md").read_text()
    writer.info = {**writer.info, "loso": {"folds": {"fish": {"e2e_f1": 0.25, "precision": 0.5, "recall": 0.1667}},
                                           "mean_e2e_f1": 0.25, "settings": {"recipe": "invented"}}}
    save_writer(writer, tmp_path / "b")
    readme = (tmp_path / "b" / "README.md").read_text()
    assert "## Leave one source out" in readme and "- fish: e2e_f1 0.25 (precision 0.5, recall 0.1667)" in readme
    assert readme.endswith("Mean over the folds: 0.25\n")
    rows = {r["data"]: r for r in card(read_config(tmp_path / "b")).leave_one_source_out}
    assert rows["fish"]["e2e_f1"] == 0.25 and rows["mean"]["e2e_f1"] == 0.25
