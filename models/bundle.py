"""A relation-model bundle: a folder that loads without running any stored code.

Version 2 (written now):

    config.json            settings: format marker + version, backbone, adapter folder, pooling,
                           classes, candidate limits, head settings
    state.json             what fitting chose: thresholds, each head's blocks / C / embedding weight,
                           cross-validation losses, tuning rows
    training.json          provenance: training files (secrets in URLs redacted), validation and
                           leave-one-source-out figures, train settings
    classifier.safetensors LogisticRegression coefficients, scaler statistics, TF-IDF idf weights
    vocab.json             TF-IDF vocabularies (plain JSON)
    adapter/               the LoRA adapter from finetune (safetensors + its JSON), when tuned
    README.md              model card
    manifest.json          sha256 of every other file, the model id, and a digest of itself

A relation-writer bundle (models.writer, format "fuzzymap-relation-writer", version 1) has the same
records, manifest and checks, with adapter/ (required) and no classifier: config.json names the base
causal LM and the tuning and writing settings, state.json the extract threshold.

Loading refuses, with a one-line InputError: a folder without our marker or with an unknown version;
any file whose bytes differ from the manifest (config and thresholds included), a listed file that is
missing, a file that is not listed; a manifest not in its canonical form; a path that leaves the
folder (``"adapter": "../elsewhere"``, symlinks); any file of a pickle-capable kind. Version 1 bundles
(config.json holding everything, its own bytes unhashed) still load, under the same path and pickle
checks.
"""
from __future__ import annotations

import hashlib
import json
import re
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load_file, save_file
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from core.errors import InputError
from core.hashing import sha256_file
from finetune.writer import WriterTuning
from models.candidates import CandidateSettings
from models.classifier import CLASSES, HeadSettings, PairText, RelationModel, Scaled, feature_union
from models.concepts_head import concept_features
from models.writer import RelationWriter, WriteSettings

FORMAT = "fuzzymap-relation-model"
VERSION = 2
SUPPORTED = (1, 2)
WRITER_FORMAT = "fuzzymap-relation-writer"
WRITER_VERSION = 1
VERSIONS = {FORMAT: SUPPORTED, WRITER_FORMAT: (WRITER_VERSION,)}
MANIFEST = "manifest.json"
UNHASHED_V1 = {"config.json", "README.md"}
RECORDS = {"config.json", "state.json", "training.json", "README.md", MANIFEST}
"""The files _finish writes from a bundle's records (the rest are weights, copied as they are)."""
"""Version 1 hashed only the weight files; version 2 hashes every file but the manifest itself."""
PICKLE_SUFFIXES = {".pkl", ".pickle", ".joblib", ".bin", ".pt", ".pth", ".ckpt", ".npy", ".npz"}
"""Kinds of file that torch, joblib or numpy would unpickle: never part of a bundle."""
STATE_KEYS = ("thresholds", "heads", "cv", "tuning_rows", "oof_pair_causal_f1", "oof_e2e_f1", "oof_sentence_f1",
              "concept")
TRAINING_KEYS = ("training_data", "validation", "train_settings", "loso")
_SECRET = re.compile(r"(://[^/:@\s]+:)[^@/\s]*@")


def redact(spec: str) -> str:
    """A data source with the password of a URL replaced: `store:postgresql://u:pw@h/db` ->
    `store:postgresql://u:***@h/db` (what a bundle and its card record)."""
    return _SECRET.sub(r"\1***@", spec)


def _head_state(pipe: Pipeline, name: str, arrays: dict, vocab: dict) -> dict:
    """Plain arrays + JSON for one head's Pipeline([features, LogisticRegression])."""
    union: FeatureUnion = pipe[0]
    lr: LogisticRegression = pipe[-1]
    arrays[f"{name}.coef"] = lr.coef_
    arrays[f"{name}.intercept"] = lr.intercept_
    arrays[f"{name}.classes"] = np.asarray(lr.classes_, dtype=np.int64)
    blocks = dict(union.transformer_list)
    meta: dict = {"blocks": list(blocks), "C": lr.C}
    if "embed" in blocks:
        scaled: Scaled = blocks["embed"][-1]
        arrays[f"{name}.mean"] = scaled.mean_
        arrays[f"{name}.scale"] = scaled.scale_
        meta["embed_weight"] = scaled.weight
        meta["parts"] = list(blocks["embed"][0].parts)
        meta["marked"] = bool(getattr(blocks["embed"][0], "marked", False))
    if "lexical" in blocks:
        text: PairText = blocks["lexical"]
        arrays[f"{name}.idf"] = text.vectorizer_.idf_
        vocab[name] = {k: int(v) for k, v in text.vectorizer_.vocabulary_.items()}
        meta["lexical"] = {**text.get_params(), "ngram_range": list(text.ngram_range)}
    return meta


def _redacted(value):
    """Every string in a JSON-like value with URL passwords redacted (see redact)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {_redacted(k): _redacted(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redacted(v) for v in value]
    return value


def _dump(obj: dict, sort: bool = False) -> str:
    """A bundle's JSON text; the manifest's is canonical (sorted keys), so a changed byte shows."""
    return json.dumps(obj, indent=1, sort_keys=sort) + "\n"


def _manifest_digest(manifest: dict) -> str:
    body = {k: v for k, v in manifest.items() if k != "digest"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def save_bundle(model: RelationModel, path: str | Path, card: str | None = None) -> Path:
    """Write a version-2 bundle atomically-ish (temp folder, then rename) and set model.model_id
    (a hash of every file that changes a prediction)."""
    path = Path(path)
    tmp = Path(tempfile.mkdtemp(prefix=".bundle-", dir=path.parent if path.parent.exists() else None))
    arrays: dict[str, np.ndarray] = {}
    vocab: dict[str, dict] = {}
    heads = {name: _head_state(pipe, name, arrays, vocab) if pipe is not None else None
             for name, pipe in (("pair", model.pair_), ("sign", model.sign_), ("sentence", model.sentence_))}
    if model.concept_ is not None:  # a bundle without a concept head records none (its bytes as before)
        heads["concept"] = _head_state(model.concept_, "concept", arrays, vocab)
    # float64 as fitted (a reload predicts exactly the same); safetensors writes raw memory and
    # LogisticRegression's coef_ is Fortran-ordered, so copy to C order
    save_file({k: np.ascontiguousarray(v) for k, v in arrays.items()}, str(tmp / "classifier.safetensors"))
    (tmp / "vocab.json").write_text(json.dumps(vocab, sort_keys=True))
    emb = model.embedder
    adapter = getattr(emb, "adapter", None) if emb is not None else None
    if adapter:
        # peft's own README and the tuning head (unused at inference) stay behind
        shutil.copytree(adapter, tmp / "adapter",
                        ignore=shutil.ignore_patterns(*(f"*{x}" for x in PICKLE_SUFFIXES), "README.md",
                                                      "head.safetensors"))
    config = {
        "format": FORMAT,
        "version": VERSION,
        "backbone": getattr(emb, "backbone", None),
        "adapter": "adapter" if adapter else None,
        "pooling": {"layers": emb.layers, "parts": list(emb.parts), "marked": emb.marked} if emb is not None else None,
        "classes": list(CLASSES),
        "signs": {"1": "increase", "-1": "decrease"},
        "candidates": model.candidates.to_config(),
        # concept_head is named only when on: a bundle trained without it keeps the bytes (and the
        # model id) it had before the setting existed
        "settings": {k: list(v) if isinstance(v, tuple) else v for k, v in vars(model.settings).items()
                     if k != "concept_head" or v},
    }
    state = {"thresholds": model.thresholds, "heads": heads,
             **{k: model.info[k] for k in STATE_KEYS if k in model.info}}
    training = {k: model.info[k] for k in TRAINING_KEYS if k in model.info}
    model.model_id = _finish(tmp, path, config, state, training, None, card)
    return path


def save_writer(writer: RelationWriter, path: str | Path, card: str | None = None) -> Path:
    """Write a relation-writer bundle (adapter + records, hashed like save_bundle's) and set
    writer.model_id; the base model's weights are not copied (the bundle names its base). The
    adapter is stored in float16 (RelationWriter.fit keeps it so): half the size, and its merge
    into the float32 base is computed in float32."""
    import torch
    from safetensors.torch import save_file as save_tensors

    path = Path(path)
    tmp = Path(tempfile.mkdtemp(prefix=".bundle-", dir=path.parent if path.parent.exists() else None))
    adapter_config, weights = writer.adapter_
    (tmp / "adapter").mkdir()
    save_tensors({k: v.to(torch.float16).contiguous() for k, v in weights.items()},
                 str(tmp / "adapter" / "adapter_model.safetensors"))
    (tmp / "adapter" / "adapter_config.json").write_text(_dump(adapter_config, sort=True))
    config = {"format": WRITER_FORMAT, "version": WRITER_VERSION, "base": writer.base, "adapter": "adapter",
              "tuning": {k: list(v) if isinstance(v, tuple) else v for k, v in vars(writer.tuning).items()},
              "writing": vars(writer.writing)}
    state = {"thresholds": writer.thresholds}
    training = {k: writer.info[k] for k in TRAINING_KEYS if k in writer.info}
    writer.model_id = _finish(tmp, path, config, state, training, None, card, WRITER_FORMAT)
    return path


def _finish(tmp: Path, path: Path, config: dict, state: dict, training: dict, model_id: str | None,
            card: str | None, fmt: str = FORMAT) -> str:
    """Write the JSON parts, card and manifest beside the weights already in tmp, then move tmp to
    path; returns the model id (model_id, or a hash of every file that changes a prediction)."""
    training = _redacted(training)
    (tmp / "config.json").write_text(_dump(config))
    (tmp / "state.json").write_text(_dump(state))
    (tmp / "training.json").write_text(_dump(training))
    predicting = {p.relative_to(tmp).as_posix(): sha256_file(p) for p in sorted(tmp.rglob("*"))
                  if p.is_file() and p.name != "training.json"}
    prefix = "fuzzymap-writer-" if fmt == WRITER_FORMAT else "fuzzymap-rel-"
    model_id = model_id or prefix + hashlib.sha256(json.dumps(predicting, sort_keys=True).encode()).hexdigest()[:12]
    view = {**config, **state, **training, "model_id": model_id}
    (tmp / "README.md").write_text(card if card is not None else
                                   writer_card(view) if fmt == WRITER_FORMAT else model_card(view))
    files = {p.relative_to(tmp).as_posix(): sha256_file(p) for p in sorted(tmp.rglob("*")) if p.is_file()}
    manifest = {"format": fmt, "version": config["version"], "model_id": model_id, "files": files}
    manifest["digest"] = _manifest_digest(manifest)
    (tmp / MANIFEST).write_text(_dump(manifest, sort=True))
    if path.exists():
        shutil.rmtree(path)
    tmp.rename(path)
    load_model.cache_clear()
    return model_id


def upgrade_bundle(src: str | Path, out: str | Path) -> Path:
    """A version-1 bundle re-written as version 2 at out (out may be src): the weight files are
    copied byte for byte, the records split into config / state / training, the model id kept,
    so the upgraded bundle predicts exactly what the old one did, under the same name."""
    old = _relation_model(read_config(src), src)
    if old["version"] != 1:
        raise InputError(str(src), f"bundle is version {old['version']} already")
    return _rewrite(Path(src), Path(out), old, {}, old["model_id"])


def copy_bundle(src: str | Path, out: str | Path, changes: dict) -> Path:
    """The bundle at src re-written at out with config keys replaced by `changes` (e.g. another
    backbone folder of the same shape): the weight files byte for byte, every file hashed again,
    and a new model id, since such a change can change predictions."""
    return _rewrite(Path(src), Path(out), _relation_model(read_config(src), src), changes, None)


def _relation_model(config: dict, path: str | Path) -> dict:
    if config["format"] != FORMAT:
        raise InputError(str(path), "a relation-writer bundle has no backbone or records to rewrite")
    return config


def _rewrite(src: Path, out: Path, old: dict, changes: dict, model_id: str | None) -> Path:
    """Copy src's weight files (every listed file but the records _finish writes) into a fresh
    folder and finish it as a version-2 bundle at out."""
    tmp = Path(tempfile.mkdtemp(prefix=".bundle-", dir=out.parent if out.parent.exists() else None))
    for rel in old["files"]:
        if rel in RECORDS:
            continue
        (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src / rel, tmp / rel)
    config = {"format": FORMAT, "version": VERSION,
              **{k: old.get(k) for k in ("backbone", "adapter", "pooling", "classes", "signs", "candidates", "settings")},
              **changes}
    state = {k: old[k] for k in STATE_KEYS if k in old}
    training = {k: old[k] for k in TRAINING_KEYS if k in old}
    _finish(tmp, out, config, state, training, model_id, None)
    return out


def _inside(root: Path, rel: object, what: str) -> Path:
    """root/rel when it names a place inside root (no absolute path, no "..", no symlink out)."""
    if not isinstance(rel, str) or not rel or Path(rel).is_absolute() or ".." in Path(rel).parts:
        raise InputError(str(root), f"bundle {what} {rel!r} is not a path inside the bundle folder: refusing to load")
    target = root / rel
    try:
        target.resolve().relative_to(root.resolve())
    except ValueError:
        raise InputError(str(root), f"bundle {what} {rel!r} leads outside the bundle folder: refusing to load") from None
    return target


def _check_folder(root: Path) -> None:
    """No symlink and no pickle-capable file anywhere in the bundle folder."""
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if p.is_symlink():
            raise InputError(str(root), f"bundle file {rel} is a symbolic link: refusing to load")
        if p.is_file() and p.suffix.lower() in PICKLE_SUFFIXES:
            raise InputError(str(root), f"bundle file {rel} is of a pickle-capable kind ({p.suffix}): refusing to load")


def _json(path: Path, root: Path) -> dict:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(str(root), f"unreadable bundle file {path.name} ({type(exc).__name__})") from None
    if not isinstance(value, dict):
        raise InputError(str(root), f"bundle file {path.name} is not a JSON object")
    return value


def _check_hashes(root: Path, files: object, exempt: set[str]) -> dict[str, str]:
    if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
        raise InputError(str(root), "bundle lists its files wrongly (no name -> sha256 table)")
    for rel, digest in files.items():
        target = _inside(root, rel, "file")
        if not target.is_file():
            raise InputError(str(root), f"bundle file {rel} is missing")
        if sha256_file(target) != digest:
            raise InputError(str(root), f"bundle file {rel} was modified (sha256 mismatch): refusing to load")
    unlisted = [p.relative_to(root).as_posix() for p in sorted(root.rglob("*")) if p.is_file()
                and p.relative_to(root).as_posix() not in files and p.relative_to(root).as_posix() not in exempt]
    if unlisted and root.joinpath(MANIFEST).is_file():
        raise InputError(str(root), f"bundle file {unlisted[0]} is not in the manifest: refusing to load")
    return files


def read_config(path: str | Path) -> dict:
    """Everything a bundle records, as one dict (version 2: config.json, state.json and
    training.json merged, plus model_id and files), after the marker, version, path, pickle and hash
    checks (InputError otherwise)."""
    path = Path(path)
    cfg_path = path / "config.json"
    if not cfg_path.is_file():
        raise InputError(str(path), "not a fuzzymap model bundle (no config.json)")
    config = _json(cfg_path, path)
    fmt = config.get("format")
    if fmt not in VERSIONS:
        raise InputError(str(path), f"not a fuzzymap model bundle (format marker is not {FORMAT!r} or {WRITER_FORMAT!r})")
    version = config.get("version")
    if version not in VERSIONS[fmt]:
        raise InputError(str(path), f"bundle version {version!r} not supported (need one of {VERSIONS[fmt]})")
    _check_folder(path)
    legacy = fmt == FORMAT and version == 1
    if legacy:
        _check_hashes(path, config.get("files") or {}, UNHASHED_V1)
        merged = config
    else:
        man_path = path / MANIFEST
        if not man_path.is_file():
            raise InputError(str(path), f"bundle has no {MANIFEST}: refusing to load")
        manifest = _json(man_path, path)
        if man_path.read_text(encoding="utf-8") != _dump(manifest, sort=True) or manifest.get("digest") != _manifest_digest(manifest):
            raise InputError(str(path), f"bundle file {MANIFEST} was modified: refusing to load")
        if (manifest.get("format"), manifest.get("version")) != (fmt, version):
            raise InputError(str(path), f"bundle {MANIFEST} does not match config.json (format, version)")
        files = _check_hashes(path, manifest.get("files"), {MANIFEST})
        missing = {"config.json", "state.json", "training.json", "README.md"} - set(files)
        if missing:
            raise InputError(str(path), f"bundle {MANIFEST} does not cover {sorted(missing)[0]}: refusing to load")
        merged = {**config, **_json(path / "state.json", path), **_json(path / "training.json", path),
                  "model_id": manifest.get("model_id"), "files": files}
    if fmt == FORMAT and "classifier.safetensors" not in (merged.get("files") or {}):
        raise InputError(str(path), "bundle lists no classifier.safetensors")
    if fmt == WRITER_FORMAT and merged.get("adapter") is None:
        raise InputError(str(path), "relation-writer bundle names no adapter folder")
    if merged.get("adapter") is not None:
        adapter = _inside(path, merged["adapter"], "adapter folder")
        for name in ("adapter_model.safetensors", "adapter_config.json"):
            hashed = f"{Path(merged['adapter']).as_posix()}/{name}" in merged["files"]
            if not (adapter / name).is_file() or (not legacy and not hashed):
                raise InputError(str(path), f"bundle adapter folder lacks a hashed {name}: refusing to load")
    return merged


def _restore_head(meta: dict, name: str, arrays: dict, vocab: dict, embedder, settings: HeadSettings) -> Pipeline:
    emb = None
    if "embed" in meta["blocks"]:
        emb = (clone(embedder).set_params(parts=tuple(meta["parts"]), marked=meta.get("marked", embedder.marked))
               if embedder is not None else None)
        if emb is None:
            raise InputError(name, "head needs an embedder but the bundle names no backbone")
    if name == "concept":
        union = concept_features(emb, meta.get("embed_weight", 1.0))
        if [n for n, _ in union.transformer_list] != meta["blocks"]:
            raise ValueError(f"concept head blocks {meta['blocks']} are not {[n for n, _ in union.transformer_list]}")
    else:
        union = feature_union(emb, HeadSettings(**{**vars(settings), "embed_weight": meta.get("embed_weight", 1.0),
                                                    "lexical": "lexical" in meta["blocks"],
                                                    "cues": "cues" in meta["blocks"],
                                                    "path": "path" in meta["blocks"]}),
                              sentence_only=bool(meta.get("lexical", {}).get("sentence_only")))
    blocks = dict(union.transformer_list)
    if "embed" in blocks:
        blocks["embed"][0].fit()
        scaled = blocks["embed"][-1]
        scaled.mean_, scaled.scale_ = arrays[f"{name}.mean"].astype(np.float64), arrays[f"{name}.scale"].astype(np.float64)
    if "lexical" in blocks:
        lex = {k: tuple(v) if k == "ngram_range" else v for k, v in meta["lexical"].items()}
        blocks["lexical"].set_params(**lex).restore(vocab[name], arrays[f"{name}.idf"])
    lr = LogisticRegression(C=meta["C"])
    lr.coef_ = arrays[f"{name}.coef"].astype(np.float64)
    lr.intercept_ = arrays[f"{name}.intercept"].astype(np.float64)
    lr.classes_ = arrays[f"{name}.classes"]
    lr.n_features_in_ = lr.coef_.shape[1]
    return Pipeline([("features", union), ("clf", lr)])


def load_bundle(path: str | Path) -> RelationModel | RelationWriter:
    """A RelationModel (or a RelationWriter, by the bundle's format) from a bundle folder; refuses
    tampered or foreign bundles (InputError)."""
    path = Path(path)
    config = read_config(path)
    if config["format"] == WRITER_FORMAT:
        return _load_writer(path, config)
    try:
        arrays = load_file(str(path / "classifier.safetensors"))
        vocab = json.loads((path / "vocab.json").read_text())
    except (SafetensorError, OSError, ValueError) as exc:
        raise InputError(str(path), f"unreadable bundle weights ({type(exc).__name__}): refusing to load") from None
    try:
        return _build(path, config, arrays, vocab)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise InputError(str(path), f"malformed bundle ({type(exc).__name__}: {exc}): refusing to load") from None


def _build(path: Path, config: dict, arrays: dict, vocab: dict) -> RelationModel:
    """The model from a checked bundle's records and arrays (a malformed record raises)."""
    embedder = None
    if config.get("backbone"):
        from embedding.features import CandidateEmbedder

        pool = config["pooling"]
        adapter = str(path / config["adapter"]) if config.get("adapter") else None
        embedder = CandidateEmbedder(config["backbone"], adapter=adapter, layers=pool["layers"],
                                     parts=tuple(pool["parts"]), marked=pool["marked"])
    known = set(vars(HeadSettings()))
    settings = HeadSettings(**{k: tuple(v) if isinstance(v, list) else v
                               for k, v in config.get("settings", {}).items() if k in known})
    model = RelationModel(embedder, settings, CandidateSettings.from_config(config.get("candidates", {})))
    heads = config["heads"]
    model.pair_ = _restore_head(heads["pair"], "pair", arrays, vocab, embedder, settings)
    for name in ("sign", "sentence", "concept"):
        if heads.get(name):
            emb = None if embedder is None else type(embedder)(**embedder.get_params())
            setattr(model, f"{name}_", _restore_head(heads[name], name, arrays, vocab, emb, settings))
    model.thresholds = dict(config["thresholds"])
    model.model_id = config["model_id"]
    model.info = {k: config[k] for k in (*STATE_KEYS, *TRAINING_KEYS) if k in config and k not in ("thresholds", "heads")}
    return model


def _load_writer(path: Path, config: dict) -> RelationWriter:
    """The writer of a checked bundle, its adapter merged into the base (a malformed record, adapter
    or base that does not fit raises InputError)."""
    from safetensors.torch import load_file as load_tensors

    try:
        adapter = path / config["adapter"]
        weights = load_tensors(str(adapter / "adapter_model.safetensors"))
        adapter_config = _json(adapter / "adapter_config.json", path)
        writer = RelationWriter(config["base"], WriterTuning(**config["tuning"]), WriteSettings(**config["writing"]))
        writer.thresholds = {k: float(v) for k, v in config["thresholds"].items()}
    except (SafetensorError, OSError, KeyError, TypeError, ValueError) as exc:
        raise InputError(str(path), f"malformed relation-writer bundle ({type(exc).__name__}: {exc}): refusing to load") from None
    writer.adapter_ = (adapter_config, weights)
    writer.model_id = config["model_id"]
    writer.info = {k: config[k] for k in TRAINING_KEYS if k in config}
    try:
        return writer.ready()
    except (ValueError, KeyError, RuntimeError, AttributeError) as exc:
        raise InputError(str(path), f"relation-writer adapter does not fit its base {config['base']!r} ({exc})") from None


@lru_cache(maxsize=4)
def _cached(path: str, stamp: int) -> RelationModel | RelationWriter:
    return load_bundle(path)


def load_model(path: str | Path = "models/default") -> RelationModel | RelationWriter:
    """The bundle at path, loaded once per process (reloaded when its config, state or manifest changes)."""
    path = Path(path).resolve()
    stamps = [(path / name).stat().st_mtime_ns for name in ("config.json", "state.json", MANIFEST)
              if (path / name).exists()]
    return _cached(str(path), max(stamps, default=0))


load_model.cache_clear = _cached.cache_clear  # type: ignore[attr-defined]


def model_card(config: dict) -> str:
    """README.md of a bundle: what it was trained on, under which licenses, and how it scored."""
    lines = [f"# {config['model_id']}", "",
             "Relation model of fuzzymap: candidate (sentence, concept A, concept B) -> none / A->B / B->A, "
             "plus the sign (increase / decrease) and a sentence-level causal head.", "",
             f"- backbone: `{config.get('backbone')}`" + (" + LoRA adapter (`adapter/`)" if config.get("adapter") else ""),
             f"- pooling: `{json.dumps(config.get('pooling'))}`",
             f"- thresholds: `{json.dumps(config.get('thresholds'))}`",
             f"- candidates: spaCy noun chunks + concept lexicon, `{json.dumps(config.get('candidates'))}`", "",
             "## Training data", "", *_data_lines(config)]
    lines += ["", "Licenses: SemEval-2010 Task 8 CC BY 3.0; Causal News Corpus V2 CC0 1.0; TwoSix / SIFT MIT.",
              "", "## Validation (held-out split of each training file, never used for fitting or tuning)", "",
              *_validation_lines(config)]
    lines += ["", "Thresholds were tuned on out-of-fold probabilities of the training split.", "", *_loso_lines(config)]
    return "\n".join(lines)


def _loso_lines(config: dict) -> list[str]:
    """A card's leave-one-source-out figures (none when the bundle records none)."""
    loso = config.get("loso")
    if not loso:
        return []
    lines = ["## Leave one source out (end-to-end F1: src and tgt words overlap by Jaccard >= 0.5, sign must agree)", "",
             f"Each fold trained without any text of its source: {json.dumps(loso.get('settings', {}))}", ""]
    for name, fold in (loso.get("folds") or {}).items():
        lines.append(f"- {name}: e2e_f1 {fold.get('e2e_f1')} (precision {fold.get('precision')}, "
                     f"recall {fold.get('recall')})")
    return lines + ["", f"Mean over the folds: {loso.get('mean_e2e_f1')}", ""]


def writer_card(config: dict) -> str:
    """README.md of a relation-writer bundle: what it is, its base, its data and how it scored."""
    lines = [f"# {config['model_id']}", "",
             "Relation writer of fuzzymap: a causal LM with a LoRA adapter (`adapter/`) that writes each "
             "sentence's relations as `source -> target (+|-)` lines. Opt-in: slower than the pair scorer.", "",
             f"- base: `{config.get('base')}` (weights not in the bundle)",
             f"- tuning: `{json.dumps(config.get('tuning'))}`",
             f"- writing: `{json.dumps(config.get('writing'))}`",
             f"- thresholds: `{json.dumps(config.get('thresholds'))}`", "", "## Training data", "",
             *_data_lines(config), "", "## Validation (held-out split of each training file, never used for tuning)",
             "", *_validation_lines(config), "", *_loso_lines(config)]
    return "\n".join(lines).rstrip("\n") + "\n"


def _data_lines(config: dict) -> list[str]:
    """A card's training files: spec, licence, training and validation counts."""
    return [f"- `{item.get('spec')}` ({item.get('license', 'license unknown')}): "
            f"{item.get('train', {})} train / {item.get('valid', {})} validation"
            for item in config.get("training_data", [])]


def _validation_lines(config: dict) -> list[str]:
    """A card's validation figures, one line per training file."""
    lines = []
    for name, figures in (config.get("validation") or {}).items():
        shown = ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in figures.items())
        lines.append(f"- {name}: {shown}")
    return lines
