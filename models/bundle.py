"""A relation-model bundle: a folder that loads without running any stored code.

    config.json            format marker + version, backbone, pooling, classes, thresholds,
                           training-data summary, validation figures, sha256 of every other file
    classifier.safetensors LogisticRegression coefficients, scaler statistics, TF-IDF idf weights
    vocab.json             TF-IDF vocabularies (plain JSON)
    adapter/               the LoRA adapter from finetune (safetensors + its JSON), when tuned
    README.md              model card

Loading re-hashes every listed file and refuses a bundle whose hashes differ (tampered), whose
marker or version is not ours (foreign), or that lacks a listed file.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file, save_file
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from data.errors import InputError
from models.classifier import CLASSES, HeadSettings, PairText, RelationModel, Scaled, feature_union

FORMAT = "fuzzymap-relation-model"
VERSION = 1
HEADS = ("pair", "sign", "sentence")
UNHASHED = {"config.json", "README.md"}
"""The card may be edited by people; everything that changes predictions is hashed."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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


def save_bundle(model: RelationModel, path: str | Path, card: str | None = None) -> Path:
    """Write the bundle atomically-ish (temp folder, then rename) and set model.model_id."""
    path = Path(path)
    tmp = Path(tempfile.mkdtemp(prefix=".bundle-", dir=path.parent if path.parent.exists() else None))
    arrays: dict[str, np.ndarray] = {}
    vocab: dict[str, dict] = {}
    heads = {name: _head_state(pipe, name, arrays, vocab) if pipe is not None else None
             for name, pipe in (("pair", model.pair_), ("sign", model.sign_), ("sentence", model.sentence_))}
    # float64 as fitted (a reload predicts exactly the same); safetensors writes raw memory and
    # LogisticRegression's coef_ is Fortran-ordered, so copy to C order
    save_file({k: np.ascontiguousarray(v) for k, v in arrays.items()}, str(tmp / "classifier.safetensors"))
    (tmp / "vocab.json").write_text(json.dumps(vocab, sort_keys=True))
    emb = model.embedder
    adapter = getattr(emb, "adapter", None) if emb is not None else None
    if adapter:
        # peft's own README and the tuning head (unused at inference) stay behind
        shutil.copytree(adapter, tmp / "adapter",
                        ignore=shutil.ignore_patterns("*.bin", "*.pt", "*.pkl", "README.md", "head.safetensors"))
    files = {p.relative_to(tmp).as_posix(): sha256_file(p) for p in sorted(tmp.rglob("*"))
             if p.is_file() and p.name not in UNHASHED}
    model.model_id = f"fuzzymap-rel-{files['classifier.safetensors'][:12]}"
    config = {
        "format": FORMAT,
        "version": VERSION,
        "model_id": model.model_id,
        "backbone": getattr(emb, "backbone", None),
        "adapter": "adapter" if adapter else None,
        "pooling": {"layers": emb.layers, "parts": list(emb.parts), "marked": emb.marked} if emb is not None else None,
        "classes": list(CLASSES),
        "signs": {"1": "increase", "-1": "decrease"},
        "thresholds": model.thresholds,
        "candidates": {"max_pairs": model.max_pairs, "max_distance": model.max_distance},
        "heads": heads,
        "settings": {k: list(v) if isinstance(v, tuple) else v for k, v in vars(model.settings).items()},
        **{k: v for k, v in model.info.items()},
        "files": files,
    }
    (tmp / "config.json").write_text(json.dumps(config, indent=1, sort_keys=False))
    (tmp / "README.md").write_text(card if card is not None else model_card(config))
    if path.exists():
        shutil.rmtree(path)
    tmp.rename(path)
    load_model.cache_clear()
    return path


def read_config(path: str | Path) -> dict:
    """config.json of a bundle after the marker, version and hash checks (InputError otherwise)."""
    path = Path(path)
    cfg_path = path / "config.json"
    if not cfg_path.is_file():
        raise InputError(str(path), "not a fuzzymap model bundle (no config.json)")
    try:
        config = json.loads(cfg_path.read_text())
    except (OSError, ValueError) as exc:
        raise InputError(str(cfg_path), f"unreadable bundle config ({exc})") from exc
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise InputError(str(path), f"not a fuzzymap model bundle (format marker is not {FORMAT!r})")
    if config.get("version") != VERSION:
        raise InputError(str(path), f"bundle version {config.get('version')!r} not supported (need {VERSION})")
    for rel, digest in (config.get("files") or {}).items():
        target = path / rel
        if ".." in Path(rel).parts or not target.is_file():
            raise InputError(str(path), f"bundle file {rel} is missing")
        if sha256_file(target) != digest:
            raise InputError(str(path), f"bundle file {rel} was modified (sha256 mismatch): refusing to load")
    if "classifier.safetensors" not in (config.get("files") or {}):
        raise InputError(str(path), "bundle lists no classifier.safetensors")
    return config


def _restore_head(meta: dict, name: str, arrays: dict, vocab: dict, embedder, settings: HeadSettings) -> Pipeline:
    emb = None
    if "embed" in meta["blocks"]:
        emb = (clone(embedder).set_params(parts=tuple(meta["parts"]), marked=meta.get("marked", embedder.marked))
               if embedder is not None else None)
        if emb is None:
            raise InputError(name, "head needs an embedder but the bundle names no backbone")
    union = feature_union(emb, HeadSettings(**{**vars(settings), "embed_weight": meta.get("embed_weight", 1.0),
                                                "lexical": "lexical" in meta["blocks"],
                                                "cues": "cues" in meta["blocks"]}),
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


def load_bundle(path: str | Path) -> RelationModel:
    """A RelationModel from a bundle folder; refuses tampered or foreign bundles (InputError)."""
    path = Path(path)
    config = read_config(path)
    arrays = load_file(str(path / "classifier.safetensors"))
    vocab = json.loads((path / "vocab.json").read_text())
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
    cand = config.get("candidates", {})
    model = RelationModel(embedder, settings, cand.get("max_pairs", 40), cand.get("max_distance", 30))
    heads = config["heads"]
    model.pair_ = _restore_head(heads["pair"], "pair", arrays, vocab, embedder, settings)
    for name in ("sign", "sentence"):
        if heads.get(name):
            emb = None if embedder is None else type(embedder)(**embedder.get_params())
            setattr(model, f"{name}_", _restore_head(heads[name], name, arrays, vocab, emb, settings))
    model.thresholds = dict(config["thresholds"])
    model.model_id = config["model_id"]
    model.info = {k: config[k] for k in ("training_data", "validation", "cv") if k in config}
    return model


@lru_cache(maxsize=4)
def _cached(path: str, stamp: int) -> RelationModel:
    return load_bundle(path)


def load_model(path: str | Path = "models/default") -> RelationModel:
    """The bundle at path, loaded once per process (reloaded when its config.json changes)."""
    path = Path(path).resolve()
    cfg = path / "config.json"
    return _cached(str(path), cfg.stat().st_mtime_ns if cfg.exists() else 0)


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
             "## Training data", ""]
    for item in config.get("training_data", []):
        lines.append(f"- `{item.get('spec')}` ({item.get('license', 'license unknown')}): "
                     f"{item.get('train', {})} train / {item.get('valid', {})} validation")
    lines += ["", "Licenses: SemEval-2010 Task 8 CC BY 3.0; Causal News Corpus V2 CC0 1.0; TwoSix / SIFT MIT.",
              "", "## Validation (held-out split of each training file, never used for fitting or tuning)", ""]
    for name, figures in (config.get("validation") or {}).items():
        shown = ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in figures.items())
        lines.append(f"- {name}: {shown}")
    lines += ["", "Thresholds were tuned on out-of-fold probabilities of the training split.", ""]
    return "\n".join(lines)
