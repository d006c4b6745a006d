"""Bundle version 2: every file hashed (config and thresholds included), paths confined to the
folder, no pickle-capable file, secrets redacted, one-line refusals; version 1 bundles still load."""
from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import pytest

from core.errors import InputError
from core.hashing import sha256_file
from data.readers import read_dataset
from models.bundle import MANIFEST, copy_bundle, load_bundle, read_config, redact, save_bundle, upgrade_bundle
from models.classifier import HeadSettings, RelationModel
from models.training import training_set
from tests.models_fixtures import semeval_file, twosix_file

DEFAULT = Path(__file__).resolve().parent.parent / "models" / "default"
SENTENCES = ["The heavy rain caused river floods in the valley.", "The long drought reduced crop failure in town."]
SECRET = "store:postgresql+psycopg://ann:hunter2secret@db.example.org:5432/fuzzymap"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    """A small TF-IDF-only bundle (no backbone: no weights to load), with provenance to redact."""
    d = tmp_path_factory.mktemp("data")
    data = [read_dataset(f"semeval2010:{semeval_file(d / 's.txt', n=60)}"),
            read_dataset(f"twosix:{twosix_file(d / 't.json', n=40)}")]
    model = RelationModel(None, HeadSettings(c_grid=(1.0,), cv_folds=3)).fit(training_set(data), progress=lambda _: None)
    model.info["training_data"] = [{"spec": SECRET, "format": "store", "name": "store:db", "license": "own"}]
    model.info["validation"] = {SECRET: {"e2e_f1": 0.5}}
    model.info["loso"] = {"folds": {"rise": {"e2e_f1": 0.25, "precision": 0.3, "recall": 0.2}}, "mean_e2e_f1": 0.25,
                          "settings": {"backbone": None}}
    return save_bundle(model, d / "model")


def copy_of(src: Path, tmp_path: Path) -> Path:
    out = tmp_path / "copy"
    shutil.copytree(src, out)
    return out


def refused(path: Path, match: str) -> str:
    with pytest.raises(InputError, match=match) as err:
        load_bundle(path)
    line = str(err.value)
    assert "\n" not in line
    return line


def test_v2_layout_and_round_trip(bundle: Path) -> None:
    names = sorted(p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file())
    assert names == sorted(["README.md", "classifier.safetensors", "config.json", MANIFEST, "state.json",
                            "training.json", "vocab.json"])
    config = json.loads((bundle / "config.json").read_text())
    state = json.loads((bundle / "state.json").read_text())
    assert config["version"] == 2 and "thresholds" not in config and "thresholds" in state
    manifest = json.loads((bundle / MANIFEST).read_text())
    assert set(manifest["files"]) == set(names) - {MANIFEST}
    loaded = load_bundle(bundle)
    merged = read_config(bundle)
    assert loaded.thresholds == merged["thresholds"] and loaded.model_id == manifest["model_id"]
    assert merged["loso"]["mean_e2e_f1"] == 0.25
    assert [len(r) for r in loaded.extract(SENTENCES)] == [len(r) for r in loaded.extract(SENTENCES)]


@pytest.mark.parametrize("name", ["README.md", "classifier.safetensors", "config.json", MANIFEST, "state.json",
                                  "training.json", "vocab.json"])
@pytest.mark.parametrize("where", [0, -2])
def test_any_changed_byte_in_any_file_is_refused(bundle: Path, tmp_path: Path, name: str, where: int) -> None:
    copy = copy_of(bundle, tmp_path)
    blob = bytearray((copy / name).read_bytes())
    blob[where] ^= 0x01
    (copy / name).write_bytes(bytes(blob))
    refused(copy, "modified|unreadable|not a JSON|format marker|version|not a fuzzymap")


def test_a_changed_threshold_is_refused(bundle: Path, tmp_path: Path) -> None:
    copy = copy_of(bundle, tmp_path)
    state = json.loads((copy / "state.json").read_text())
    state["thresholds"]["extract"] = 0.01
    (copy / "state.json").write_text(json.dumps(state, indent=1, sort_keys=True) + "\n")
    refused(copy, "state.json was modified")
    # re-hashing the file in the manifest is caught by the manifest's own digest
    manifest = json.loads((copy / MANIFEST).read_text())
    manifest["files"]["state.json"] = sha256_file(copy / "state.json")
    (copy / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    refused(copy, "manifest.json was modified")


def test_unlisted_and_pickle_files_and_symlinks_are_refused(bundle: Path, tmp_path: Path) -> None:
    copy = copy_of(bundle, tmp_path)
    (copy / "extra.json").write_text("{}")
    refused(copy, "extra.json is not in the manifest")
    (copy / "extra.json").unlink()
    (copy / "head.pkl").write_bytes(pickle.dumps({"x": 1}))
    refused(copy, "pickle-capable")
    (copy / "head.pkl").unlink()
    (copy / "vocab.json").unlink()
    (copy / "vocab.json").symlink_to(bundle / "vocab.json")
    refused(copy, "symbolic link")


def test_secrets_are_redacted_in_every_file(bundle: Path) -> None:
    assert redact(SECRET) == "store:postgresql+psycopg://ann:***@db.example.org:5432/fuzzymap"
    assert redact("sift:../data/x.jsonl") == "sift:../data/x.jsonl"
    for p in bundle.rglob("*"):
        if p.is_file():
            assert b"hunter2secret" not in p.read_bytes(), p.name
    assert "ann:***@db.example.org" in (bundle / "training.json").read_text()


def test_card_states_loso_figures(bundle: Path) -> None:
    card = (bundle / "README.md").read_text()
    assert "Leave one source out" in card and "rise: e2e_f1 0.25" in card and "Mean over the folds: 0.25" in card


def test_copy_bundle_keeps_the_weights_and_hashes_a_changed_config_again(bundle: Path, tmp_path: Path) -> None:
    """copy_bundle (bench/backbones.py points a copy at another backbone): an unchanged copy is the
    same model, a changed config a new one that still passes every check."""
    same = copy_bundle(bundle, tmp_path / "same", {})
    assert read_config(same)["model_id"] == read_config(bundle)["model_id"]
    for name in ("classifier.safetensors", "vocab.json", "config.json", "state.json"):
        assert (same / name).read_bytes() == (bundle / name).read_bytes(), name
    other = copy_bundle(bundle, tmp_path / "other", {"candidates": {"max_pairs": 7, "max_distance": 30}})
    config = read_config(other)
    assert config["candidates"]["max_pairs"] == 7 and config["model_id"] != read_config(bundle)["model_id"]
    assert (other / "classifier.safetensors").read_bytes() == (bundle / "classifier.safetensors").read_bytes()
    assert load_bundle(other).candidates.max_pairs == 7


def as_version_1(src: Path, out: Path) -> Path:
    """The bundle at src in the version-1 layout (what the version-1 writer made): every record in
    config.json, which lists the sha256 of every file but itself and the card."""
    shutil.copytree(src, out)
    merged = read_config(src)
    for name in (MANIFEST, "state.json", "training.json"):
        (out / name).unlink()
    files = {p.relative_to(out).as_posix(): sha256_file(p) for p in sorted(out.rglob("*"))
             if p.is_file() and p.name not in ("config.json", "README.md")}
    (out / "config.json").write_text(json.dumps({**merged, "version": 1, "files": files}, indent=1))
    return out


@pytest.fixture()
def v1(tmp_path: Path) -> Path:
    """The shipped bundle's weights in the version-1 layout."""
    return as_version_1(DEFAULT, tmp_path / "v1")


def test_shipped_bundle_is_version_2_and_a_v1_layout_reads(v1: Path) -> None:
    assert read_config(DEFAULT)["version"] == 2
    config = read_config(v1)
    assert config["version"] == 1 and config["adapter"] == "adapter" and config["thresholds"]["extract"] > 0


def test_v1_adapter_outside_the_folder_is_refused(v1: Path, tmp_path: Path) -> None:
    shutil.copytree(v1 / "adapter", tmp_path / "elsewhere")
    config = json.loads((v1 / "config.json").read_text())
    for bad in ("../elsewhere", str(tmp_path / "elsewhere")):
        config["adapter"] = bad
        (v1 / "config.json").write_text(json.dumps(config))
        refused(v1, "not a path inside the bundle folder")
    (v1 / "adapter").rename(v1 / "real")
    (v1 / "adapter").symlink_to(tmp_path / "elsewhere")
    config["adapter"] = "adapter"
    (v1 / "config.json").write_text(json.dumps(config))
    refused(v1, "symbolic link|outside the bundle folder")


def test_v1_pickle_cases_are_one_line_refusals(v1: Path) -> None:
    # a pickled adapter beside (or instead of) the safetensors one
    (v1 / "adapter" / "adapter_model.bin").write_bytes(pickle.dumps({"w": 1}))
    refused(v1, "pickle-capable")
    (v1 / "adapter" / "adapter_model.bin").unlink()
    # a pickle in place of the classifier, its hash updated in the (unhashed) version-1 config
    (v1 / "classifier.safetensors").write_bytes(pickle.dumps({"coef": [1.0]}))
    config = json.loads((v1 / "config.json").read_text())
    config["files"]["classifier.safetensors"] = sha256_file(v1 / "classifier.safetensors")
    (v1 / "config.json").write_text(json.dumps(config))
    refused(v1, "unreadable bundle weights")


def test_v1_changed_weights_are_refused(v1: Path) -> None:
    blob = bytearray((v1 / "vocab.json").read_bytes())
    blob[-2] ^= 0x01
    (v1 / "vocab.json").write_bytes(bytes(blob))
    refused(v1, "vocab.json was modified")


@pytest.mark.slow
def test_v1_bundle_loads_and_upgrades_to_v2_predicting_the_same(v1: Path, tmp_path: Path) -> None:
    old = load_bundle(v1)
    out = upgrade_bundle(v1, tmp_path / "v2")
    for rel in read_config(v1)["files"]:  # the weights are copied byte for byte
        assert (out / rel).read_bytes() == (v1 / rel).read_bytes(), rel
    new = load_bundle(out)
    assert read_config(out)["version"] == 2 and new.model_id == old.model_id and new.thresholds == old.thresholds
    key = [[(r.src, r.tgt, r.sign, r.score, r.model_id) for r in rels] for rels in old.extract(SENTENCES)]
    assert key == [[(r.src, r.tgt, r.sign, r.score, r.model_id) for r in rels] for rels in new.extract(SENTENCES)]
    assert any(key), "the shipped model finds the obvious relation"
    with pytest.raises(InputError, match="version 2 already"):
        upgrade_bundle(out, tmp_path / "again")
    # a model saved afresh gets an id from its own files
    assert save_bundle(new, tmp_path / "resaved") and new.model_id != old.model_id
