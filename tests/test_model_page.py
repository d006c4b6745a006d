"""Model page logic: active model setting, store filters, bundle list and cards, training jobs,
comparison of two bundles (the same numbers as `python -m models evaluate`) and its plots."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.errors import InputError
from core.paths import DEFAULT_BUNDLE
from data.readers import read_dataset, store_filters, store_spec
from data.store import Store
from data.store.settings import ACTIVE_MODEL, active_model, set_setting
from model_page_world import gold_store
from models.bundle import read_config
from models.training import MIN_STORE_RELATIONS, check_store_size
from workspace import training_jobs
from workspace.model_catalog import card, check_bundle, display_rows, list_bundles
from workspace.suggest import bundle_path

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def var(tmp_path, monkeypatch):
    monkeypatch.setenv("FUZZYMAP_VAR", str(tmp_path / "var"))
    return tmp_path / "var"


def wait_for(predicate, timeout: float = 300.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.5)
    raise TimeoutError("condition not reached")


# ------------------------------------------------------------------ active model
def test_active_model_is_stored_logged_and_env_wins(tmp_path, monkeypatch):
    monkeypatch.delenv("FUZZYMAP_MODEL", raising=False)
    store = Store(str(tmp_path / "s.db"))
    assert active_model(store) is None and bundle_path(store) == DEFAULT_BUNDLE == bundle_path()
    set_setting(store, ACTIVE_MODEL, "var/models/a", "ann")
    set_setting(store, ACTIVE_MODEL, "var/models/b", "bob")
    assert bundle_path(store) == "var/models/b"
    assert active_model(Store(store.url)) == "var/models/b"  # as another server process sees it
    assert [a.description for a in store.history(limit=2)] == ["active_model = var/models/b",
                                                                "active_model = var/models/a"]
    monkeypatch.setenv("FUZZYMAP_MODEL", "elsewhere")
    assert bundle_path(store) == "elsewhere"
    with pytest.raises(InputError):
        set_setting(store, ACTIVE_MODEL, "  ")
    monkeypatch.delenv("FUZZYMAP_MODEL")
    assert bundle_path(store) == "var/models/b"  # the refused value changed nothing


# ------------------------------------------------------------------ store labels
def test_store_filters_pick_annotators_and_documents(tmp_path):
    store = gold_store(str(tmp_path / "g.db"))
    url = store.url
    assert store_filters(store_spec(url, ["gold", "ann"], [2, 1])[6:]) == (url, ["gold", "ann"], [2, 1])
    assert store_spec(url) == f"store:{url}"
    gold = read_dataset(store_spec(url, ["gold"]))
    assert len(gold.passages) == 60 and sum(len(p.relations) for p in gold.passages) == 50
    assert read_dataset(store_spec(url, ["nobody"])).passages == []
    assert read_dataset(store_spec(url, ["gold"], [2])).passages == []  # the unlabelled paper
    ann = store.list_documents()[0].id
    sid = store.sentences(ann)[0].id
    from core.types import PassageRelation

    text = store.sentence(sid).text
    store.add_relation(sid, PassageRelation(text.split()[1], text.split()[-1].rstrip("."), 1, annotator="ann"))
    only_ann = read_dataset(store_spec(url, ["ann"]))
    assert [p.text for p in only_ann.passages] == [text] and len(only_ann.passages[0].relations) == 1
    with pytest.raises(InputError, match="unknown store filter"):
        read_dataset(f"store:{url}#who=gold")
    with pytest.raises(InputError, match="cannot be chosen"):
        store_spec(url, ["a,b"])


def test_too_few_relations_are_refused_by_page_and_cli(tmp_path, var):
    store = gold_store(str(tmp_path / "g.db"), n=12)  # 10 relations
    spec = store_spec(store.url, ["gold"])
    with pytest.raises(InputError, match=f"holds 10 labelled relations; training needs at least {MIN_STORE_RELATIONS}"):
        check_store_size(spec, read_dataset(spec))
    with pytest.raises(InputError, match="needs at least"):
        training_jobs.start_job(training_jobs.TrainJob(name="few", data=[spec]))
    assert training_jobs.current_job() is None and not (var / "models" / "few").exists()
    out = subprocess.run([sys.executable, "-m", "models", "train", "--data", spec, "--out", str(tmp_path / "m")],
                         cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 2 and out.stderr.strip().count("\n") == 0 and "needs at least 20" in out.stderr
    assert not (tmp_path / "m").exists()


# ------------------------------------------------------------------ bundles
def test_bundle_list_refuses_tampered_and_foreign_bundles(tiny_model, tmp_path, var):
    root = var / "models"
    for name in ("good", "tampered", "foreign"):
        shutil.copytree(tiny_model, root / name)
    (root / "tampered" / "vocab.json").write_text("{}")
    config = json.loads((root / "foreign" / "config.json").read_text())
    (root / "foreign" / "config.json").write_text(json.dumps({**config, "format": "someone-else"}))
    (root / "empty").mkdir()
    found = {e.path.name: e for e in list_bundles(active=root / "good", roots=(root,))}
    assert found["good"].ok and found["good"].active and not found["tampered"].active
    assert found["tampered"].reason == "bundle file vocab.json was modified (sha256 mismatch): refusing to load"
    assert "format marker" in found["foreign"].reason
    assert found["empty"].reason == "not a fuzzymap model bundle (no config.json)"
    shipped = {e.path.name for e in list_bundles()}
    assert "default" in shipped


def test_card_shows_data_licences_validation_and_leave_one_source_out(tiny_model, tmp_path):
    folder = shutil.copytree(tiny_model, tmp_path / "b")
    config = read_config(folder)
    c = card(config)
    assert c.model_id == config["model_id"] and c.backbone == "minilm" and c.adapter is None
    assert c.thresholds == config["thresholds"]
    (item,) = c.data
    assert item["licence"] == "MIT" and item["format"] == "twosix" and item["train pairs"] > 0
    (row,) = c.validation
    assert row["data"] == item["data"] and row["causal_f1"] == config["validation"][item["data"]]["causal_f1"]
    assert c.leave_one_source_out == []
    loso = {"folds": {"nyt": {"e2e_f1": 0.25, "precision": 0.5, "recall": 0.125}}, "mean_e2e_f1": 0.25}
    assert card({**config, "loso": loso}).leave_one_source_out == [
        {"data": "nyt", "e2e_precision": 0.5, "e2e_recall": 0.125, "e2e_f1": 0.25}, {"data": "mean", "e2e_f1": 0.25}]
    (folder / "config.json").write_text(json.dumps({**config, "thresholds": {}}))  # every file is hashed
    assert not check_bundle(folder).ok
    default = card(check_bundle(ROOT / "models" / "default").config)
    assert default.adapter.startswith("LoRA ") and "r=16" in default.adapter


def test_card_tables_show_no_none():
    rows = [{"data": "cnc", "n": 0, "causal_f1": None, "causal_precision": 0.87719}]
    assert display_rows(rows) == [{"data": "cnc", "n": 0, "causal_f1": "–", "causal_precision": "0.877"}]


# ------------------------------------------------------------------ jobs
def test_stages_are_read_from_training_messages():
    assert training_jobs.stage_of("store:x.db: 151 training pairs {'none': 3}, 47 sentences; validation 1 pairs")[0] == \
        "reading the training data"
    assert training_jobs.stage_of("pair head: choosing C by cross-validation") == ("pair head: cross-validating C", 0.60)
    assert training_jobs.stage_of("saving the bundle to var/models/x")[0] == "saving the bundle"
    assert training_jobs.stage_of("Loading weights") is None


def test_loss_points_come_from_the_lora_checks_and_plot_with_the_heads_cv():
    import logging

    from workspace.model_comparison import loss_plot, png_bytes

    points: list[dict] = []
    handler = training_jobs._LossHandler(points.append)
    log = logging.getLogger("finetune.lora")
    for msg, args in (("before tuning: valid loss %.4f, causal F1 %.3f", (0.9, 0.1)),
                      ("step %d: valid loss %.4f, causal F1 %.3f, sentence F1 %s", (40, 0.5, 0.6, None)),
                      ("adapter saved to %s (best step %s, valid loss %.4f)", ("x", 40, 0.5))):
        handler.emit(log.makeRecord(log.name, logging.INFO, __file__, 1, msg, args, None))
    assert points == [{"step": 0, "valid_loss": 0.9}, {"step": 40, "valid_loss": 0.5}]
    cv = {"pair": {"1.0": 0.4, "4.0": 0.3, "chosen_C": 4.0}}
    assert png_bytes(loss_plot(points, cv))[:4] == png_bytes(loss_plot([], cv))[:4] == b"\x89PNG"


def test_a_job_trains_in_the_background_one_at_a_time(tmp_path, var):
    store = gold_store(str(tmp_path / "g.db"))
    spec = store_spec(store.url, ["gold"])
    default_files = {p: p.stat().st_mtime_ns for p in (ROOT / "models" / "default").rglob("*")}
    job = training_jobs.start_job(training_jobs.TrainJob(name="fresh", data=[spec]))
    assert job.pid and training_jobs.current_job().status == training_jobs.RUNNING
    with pytest.raises(InputError, match="job 'fresh' is already running"):
        training_jobs.start_job(training_jobs.TrainJob(name="second", data=[spec]))
    done = wait_for(lambda: (j := training_jobs.current_job()).status != training_jobs.RUNNING and j)
    assert done.status == training_jobs.DONE, (done.error, (var / "jobs" / "train.log").read_text()[-2000:])
    assert done.progress == 1.0 and done.stage == "done" and done.cv["pair"]["chosen_C"] in (1.0, 4.0)
    assert any("training pairs" in line for line in done.log)
    entry = check_bundle(var / "models" / "fresh")
    assert entry.ok and entry.model_id == done.model_id and (var / "models" / "fresh" / "README.md").is_file()
    assert entry.config["training_data"][0]["spec"] == spec
    assert {p: p.stat().st_mtime_ns for p in (ROOT / "models" / "default").rglob("*")} == default_files
    with pytest.raises(InputError, match="exists already"):
        training_jobs.start_job(training_jobs.TrainJob(name="fresh", data=[spec]))
    assert not (var / "jobs" / "train.lock").exists()


def test_a_job_can_be_cancelled_and_a_dead_worker_is_reported(tmp_path, var):
    store = gold_store(str(tmp_path / "g.db"))
    spec = store_spec(store.url, ["gold"])
    job = training_jobs.start_job(training_jobs.TrainJob(name="stopped", data=[spec]))
    wait_for(lambda: training_jobs.current_job().log, timeout=120)  # the worker is under way
    stopped = training_jobs.cancel_job()
    assert stopped.status == training_jobs.CANCELLED and not training_jobs._alive(job.pid)
    assert not (var / "models" / "stopped").exists() and not list((var / "models").glob(".bundle-*"))
    assert not (var / "jobs" / "train.lock").exists()
    lock = var / "jobs" / "train.lock"
    lock.touch()  # a start in another tab, under way
    with pytest.raises(InputError, match="another training job is starting"):
        training_jobs.start_job(training_jobs.TrainJob(name="racing", data=[spec]))
    os.utime(lock, (time.time() - 120, time.time() - 120))  # ... that never finished
    assert training_jobs.start_job(training_jobs.TrainJob(name="after", data=[spec])).pid
    training_jobs.cancel_job()
    state = training_jobs.current_job()
    state.status, state.pid = training_jobs.RUNNING, job.pid  # as if a worker had died without a word
    training_jobs._write(state)
    assert training_jobs.current_job().status == training_jobs.FAILED


# ------------------------------------------------------------------ comparison
@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A gold store and a bundle trained on it (the training function the job runs)."""
    from models.training import TrainSettings, train_model

    folder = tmp_path_factory.mktemp("compare")
    store = gold_store(str(folder / "g.db"))
    spec = store_spec(store.url, ["gold"])
    train_model([spec], TrainSettings(lora=False), folder / "tuned", progress=lambda *_: None)
    return spec, folder / "tuned"


def _cli_evaluate(bundle: Path, spec: str) -> dict:
    out = subprocess.run([sys.executable, "-m", "models", "evaluate", "--model", str(bundle), "--data", spec,
                          "--json"], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _same_figures(row: dict, cli: dict) -> None:
    figures = {k: v for k, v in cli.items() if k not in ("model", "data", "split")}
    assert {k: row[k] for k in figures} == figures and row["model_id"] == cli["model"]


def test_comparison_matches_the_cli_and_plots_export_as_png(trained, tmp_path):
    from workspace.model_comparison import calibration_plot, compare, confusion_plot, metric_bars, png_bytes, pr_curves
    from models_fixtures import twosix_file

    spec, tuned = trained
    default = ROOT / "models" / "default"
    other = f"twosix:{twosix_file(tmp_path / 'other.json', n=30, seed=5)}"
    result = compare((default, tuned), [spec, other])
    base_gold, tuned_gold, base_other, tuned_other = result.per_source
    # the gold set trained the tuned bundle: both are scored on its held-out split, as the CLI scores the tuned one
    assert base_gold["split"] == tuned_gold["split"] == "held out of training"
    cli = _cli_evaluate(tuned, spec)
    assert cli["split"] == "validation"
    _same_figures(tuned_gold, cli)
    assert base_gold["n_passages"] == tuned_gold["n_passages"] == cli["n_passages"] > 0
    # a file neither bundle saw is scored whole, by both, exactly as the CLI does
    for bundle, row in ((default, base_other), (tuned, tuned_other)):
        assert row["split"] == "all"
        _same_figures(row, _cli_evaluate(bundle, other))
    assert {r["document"] for r in result.per_document} == {"Invented gold paper"}  # the new paper has no gold
    scores = result.pairs[tuned.name]
    assert scores.confusion().sum() == len(scores.gold) > 0
    for make in (metric_bars, pr_curves, calibration_plot, confusion_plot):
        assert png_bytes(make(result))[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_training_file_is_compared_on_its_held_out_split_only(trained):
    from models.bundle import read_config
    from workspace.model_comparison import common_part

    spec, tuned = trained
    data = read_dataset(spec)
    kind, part = common_part(spec, data, [read_config(ROOT / "models" / "default"), read_config(tuned)])
    assert kind == "held out of training" and 0 < len(part.passages) < len(data.passages)
    train_texts = {p.text for p in data.passages} - {p.text for p in part.passages}
    assert len(train_texts) == len(data.passages) - len(part.passages)
    kind, whole = common_part(spec, data, [read_config(ROOT / "models" / "default")])
    assert kind == "all" and whole is data
