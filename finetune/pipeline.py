"""The staged base -> tune -> tuned -> compare run, each stage cached and resumable.

A stage writes its outputs, then stage.json holding a sha256 of everything it read (data, split,
settings, upstream outputs). A later run skips a stage whose stage.json matches and whose outputs
exist, so an interrupted run resumes where it stopped and a changed setting reruns exactly the stages
it affects. stage.json is written last: a crash mid-stage leaves the stage to be redone.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from core.hashing import sha256_file
from core.types import LabeledExample
from embedding.backbones import adapter_hash, load_backbone
from embedding.pooling import PoolingConfig, encode_candidates
from finetune.compare import C_GRID, score_state
from finetune.lora import LoraSettings, sample_examples, data_summary, merge_adapter, read_training, train_lora
from finetune.report import write_report

log = logging.getLogger("fuzzymap.finetune")

STAGES = ("base", "tune", "tuned", "compare")
FEATURES = "features.npz"
CHUNK = 512
"""Sentences per encode_candidates call: small enough for a live progress bar, large enough to batch well."""


@dataclass
class RunConfig:
    """Everything a staged run depends on; one seed drives the split, the sample, LoRA and CV."""

    data: list[str]
    backbone: str
    out: Path
    lora: LoraSettings = field(default_factory=LoraSettings)
    pooling: PoolingConfig = field(default_factory=PoolingConfig)
    valid_fraction: float = 0.15
    max_valid: int | None = None
    cv_folds: int = 3
    c_grid: tuple[float, ...] = C_GRID
    merge: bool = False
    batch_size: int = 32
    command: str = ""


@dataclass
class Split:
    train: list[LabeledExample]
    valid: list[LabeledExample]

    def digest(self) -> str:
        """Content hash of both sides: any change in the data or the split reruns every stage."""
        h = hashlib.sha256()
        for side, examples in (("train", self.train), ("valid", self.valid)):
            h.update(side.encode())
            for e in examples:
                c = e.candidate
                h.update(json.dumps([c.text, c.a, c.b, int(e.label), e.sign, e.source]).encode())
        return h.hexdigest()


def load_split(specs: Sequence[str], valid_fraction: float, seed: int, max_train: int | None,
               max_valid: int | None) -> Split:
    """Read each FORMAT:PATH, hold out a validation split from each (by sentence), then cap the sizes."""
    from data.readers import read_dataset, split

    train: list[LabeledExample] = []
    valid: list[LabeledExample] = []
    for spec in specs:
        data = read_dataset(spec)
        tr, va = split(data, valid_fraction, seed)
        train += tr.examples
        valid += va.examples
        log.info("%s: %d train, %d validation examples", spec, len(tr.examples), len(va.examples))
    return Split(sample_examples(train, max_train, seed), sample_examples(valid, max_valid, seed))


def digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


class Stage:
    """One stage's folder and its cache record."""

    def __init__(self, out: Path, name: str, inputs: dict, outputs: Sequence[str]):
        """outputs: paths relative to the run folder that must exist for the cache to count."""
        self.name, self.dir, self.inputs = name, out / name, inputs
        self.hash = digest(inputs)
        self.outputs = [out / o for o in outputs]
        self.record = self.dir / "stage.json"

    def cached(self) -> bool:
        if not self.record.is_file() or not all(p.exists() for p in self.outputs):
            return False
        return json.loads(self.record.read_text()).get("inputs_hash") == self.hash

    def finish(self, started: float, extra: dict | None = None) -> None:
        record = {"stage": self.name, "inputs_hash": self.hash, "inputs": self.inputs,
                  "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                  "seconds": round(time.perf_counter() - started, 1), **(extra or {})}
        tmp = self.record.with_suffix(".tmp")
        tmp.write_text(json.dumps(record, indent=2, default=str))
        os.replace(tmp, self.record)

    def seconds(self) -> float | None:
        return json.loads(self.record.read_text()).get("seconds") if self.record.is_file() else None


def _encode(backbone, examples: Sequence[LabeledExample], pooling: PoolingConfig, batch_size: int,
            desc: str) -> np.ndarray:
    """encode_candidates in chunks of whole sentences, for a progress bar over thousands of them."""
    by_text: dict[str, list[int]] = {}
    for i, e in enumerate(examples):
        by_text.setdefault(e.candidate.text, []).append(i)
    groups = list(by_text.values())
    step = max(1, CHUNK // batch_size) * batch_size
    out: list[np.ndarray | None] = [None] * len(examples)
    for first in tqdm(range(0, len(groups), step), desc=desc, unit="chunk"):
        index = [i for group in groups[first:first + step] for i in group]
        features = encode_candidates(backbone, [examples[i].candidate for i in index], pooling, batch_size)
        for i, row in zip(index, features):
            out[i] = row
    return np.stack(out)


def _save_features(path: Path, split: Split, backbone, pooling: PoolingConfig, batch_size: int) -> None:
    arrays = {}
    for side, examples in (("train", split.train), ("valid", split.valid)):
        arrays[f"{side}_X"] = _encode(backbone, examples, pooling, batch_size, f"{path.parent.name} {side}")
        arrays[f"{side}_y"] = np.array([int(e.label) for e in examples], dtype=np.int64)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name("tmp-" + path.name)
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def _load_features(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}


def run(config: RunConfig, stages: Sequence[str] = STAGES) -> dict[str, str]:
    """Run the requested stages in order; returns {stage: "ran" | "cached"}."""
    unknown = [s for s in stages if s not in STAGES]
    if unknown:
        raise ValueError(f"unknown stage(s) {unknown}; choose from {','.join(STAGES)}")
    out = Path(config.out)
    seed = config.lora.seed
    split = load_split(config.data, config.valid_fraction, seed, config.lora.max_train, config.max_valid)
    if not split.train or not split.valid:
        raise ValueError(f"need training and validation examples, got {len(split.train)} and {len(split.valid)}")
    out.mkdir(parents=True, exist_ok=True)
    common = {"data": split.digest(), "specs": list(config.data), "valid_fraction": config.valid_fraction,
              "seed": seed, "max_train": config.lora.max_train, "max_valid": config.max_valid,
              "backbone": config.backbone, "pooling": asdict(config.pooling)}
    adapter = out / "tune" / "adapter"
    plan = {
        "base": Stage(out, "base", {**common, "stage": "base"}, [f"base/{FEATURES}"]),
        "tune": Stage(out, "tune", {**common, "stage": "tune", "lora": asdict(config.lora), "merge": config.merge},
                      ["tune/adapter/adapter_model.safetensors", "tune/adapter/fuzzymap_training.json"]
                      + (["tune/merged/config.json"] if config.merge else [])),
    }
    status: dict[str, str] = {}
    last = max(STAGES.index(s) for s in stages)
    for name in STAGES[:last + 1]:
        if name == "tuned":
            _require(plan["tune"], name)
            plan["tuned"] = Stage(out, "tuned", {**common, "stage": "tuned", "adapter": adapter_hash(adapter)},
                                  [f"tuned/{FEATURES}"])
        elif name == "compare":
            _require(plan["base"], name)
            _require(plan["tuned"], name)
            plan["compare"] = Stage(out, "compare", {
                "stage": "compare", "base": sha256_file(plan["base"].dir / FEATURES),
                "tuned": sha256_file(plan["tuned"].dir / FEATURES), "cv_folds": config.cv_folds,
                "c_grid": list(config.c_grid), "seed": seed,
                "training": sha256_file(adapter / "fuzzymap_training.json")},
                                     ["report.json", "report.md", "report.png"])
        if name not in stages:
            continue
        stage = plan[name]
        if stage.cached():
            log.info("stage %s: skipped (cached, inputs %s)", name, stage.hash[:12])
            status[name] = "cached"
            continue
        log.info("stage %s: running", name)
        started = time.perf_counter()
        stage.dir.mkdir(parents=True, exist_ok=True)
        if name == "base":
            _save_features(stage.dir / FEATURES, split, load_backbone(config.backbone), config.pooling,
                           config.batch_size)
        elif name == "tune":
            train_lora(config.backbone, split.train, split.valid, config.lora, adapter, config.pooling,
                       sources=config.data)
            if config.merge:
                merge_adapter(config.backbone, adapter, stage.dir / "merged")
        elif name == "tuned":
            _save_features(stage.dir / FEATURES, split, load_backbone(config.backbone, adapter=adapter),
                           config.pooling, config.batch_size)
        else:
            _compare(config, plan, split, adapter)
        stage.finish(started)
        log.info("stage %s: done in %.1f s", name, time.perf_counter() - started)
        status[name] = "ran"
    return status


def _require(stage: Stage | None, by: str) -> None:
    """A later stage reads an earlier one's outputs: they must exist and match the current inputs."""
    if stage is None or not stage.cached():
        raise ValueError(f"stage {by} needs stage {stage.name if stage else '?'} to be done with the same data "
                         f"and settings: add it to --stages")


def _compare(config: RunConfig, plan: dict[str, Stage], split: Split, adapter: Path) -> None:
    rows = []
    for name in ("base", "tuned"):
        f = _load_features(plan[name].dir / FEATURES)
        rows.append(score_state(name, f["train_X"], f["train_y"], f["valid_X"], f["valid_y"], config.cv_folds,
                                config.c_grid, config.lora.seed))
    training = read_training(adapter)
    head = training["metrics"]["validation"]
    rows.append({"state": "tuned head", **{k: head[k] for k in
                                           ("causal_precision", "causal_recall", "causal_f1", "detection_f1", "n")}})
    info = {
        "backbone": config.backbone, "seed": config.lora.seed, "pooling": asdict(config.pooling),
        "lora": asdict(config.lora), "valid_fraction": config.valid_fraction,
        "data": {"sources": list(config.data), "train": data_summary(split.train),
                 "valid": data_summary(split.valid)},
        "tuning": {k: training.get(k) for k in ("steps", "best_step", "stopped_early", "qlora",
                                                 "trainable_parameters", "seconds")},
        "stage_seconds": {n: plan[n].seconds() for n in ("base", "tune", "tuned")},
        "command": config.command,
    }
    paths = write_report(config.out, rows, info, training.get("history", []))
    log.info("report: %s", ", ".join(str(p) for p in paths.values()))
