"""Leave-one-source-out evaluation: train without any text of one source, score end-to-end on it.

Random in-file splits put sibling passages of one document or source on both sides and overstate
what a model does on new text. Here each fold is one source: a SIFT `source` (habitus_ph1,
atlantic_council, rise, nyt) or a whole TwoSix file (the OSW files). For a fold, every training file
loses the fold's texts and every text near-identical to one of them (the same sentence inside a
longer passage, or with other spacing or punctuation, in any file), then the heads (and, with
`lora`, a LoRA stage of its own) are fitted on the rest and the fold's passages are extracted and
scored as the held-out check scores them (core.metrics.e2e_scores: src and tgt words overlap by
Jaccard >= 0.5, sign must agree).
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import InputError
from core.metrics import e2e_scores
from core.names import normalize
from core.specs import spec_format, spec_path
from core.types import LabeledData
from data.readers import SENTENCE_FORMATS, read_dataset
from models.candidates import DEFAULT_CANDIDATES, CandidateSettings
from models.classifier import HeadSettings, RelationModel, TrainingSet

SIFT_SOURCES = ("habitus_ph1", "atlantic_council", "rise", "nyt")
NEAR_OVERLAP = 0.9
"""Two texts are near-identical when this share of the shorter one's words is in the longer one."""
NEAR_MIN_WORDS = 6
"""Shorter texts are only ever left out when identical (case, spacing and punctuation ignored):
a few common words shared say nothing."""
_WORD = re.compile(r"[a-z0-9]+")


def _words(text: str) -> frozenset[str]:
    return frozenset(_WORD.findall(text.casefold()))


def near_identical(held: Sequence[str], texts: Sequence[str]) -> set[str]:
    """The texts (as given) that repeat a held text: identical words, or at least NEAR_OVERLAP of
    the shorter one's words inside the other (a held sentence inside a training passage, or a
    training sentence inside a held passage)."""
    held_sets = [_words(h) for h in held]
    exact = {" ".join(_WORD.findall(h.casefold())) for h in held}
    index: dict[str, list[int]] = {}
    for i, ws in enumerate(held_sets):
        for w in ws:
            index.setdefault(w, []).append(i)
    out = set()
    for text in texts:
        ws = _words(text)
        if " ".join(_WORD.findall(text.casefold())) in exact:
            out.add(text)
            continue
        shared: dict[int, int] = {}
        for w in ws:
            for i in index.get(w, ()):
                shared[i] = shared.get(i, 0) + 1
        for i, n in shared.items():
            small = min(len(ws), len(held_sets[i]))
            if small >= NEAR_MIN_WORDS and n >= NEAR_OVERLAP * small:
                out.add(text)
                break
    return out


def sift_sources(path: str | Path) -> dict[str, str]:
    """Text key of each SIFT premise -> its `source` field (the reader keeps doc ids, not sources)."""
    out = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            out[normalize(row.get("premise", ""))] = str(row.get("source") or "unknown")
    return out


def _texts(data: LabeledData) -> set[str]:
    return ({e.candidate.text for e in data.examples} | {s.text for s in data.sentences}
            | {p.text for p in data.passages})


def _keep(data: LabeledData, drop: set[str]) -> LabeledData:
    """The dataset less every example, sentence and passage whose exact text is in drop."""
    return LabeledData(name=data.name, examples=[e for e in data.examples if e.candidate.text not in drop],
                       sentences=[s for s in data.sentences if s.text not in drop],
                       passages=[p for p in data.passages if p.text not in drop])


@dataclass
class Fold:
    """One held-out source: its passages (scored) and what was left out of training for it."""

    name: str
    spec: str
    data: LabeledData
    train: TrainingSet = field(default_factory=TrainingSet)
    specs: list[str] = field(default_factory=list)
    left_out: dict[str, int] = field(default_factory=dict)
    """Training texts removed per file: the fold's own and those near-identical to one of them."""


def make_folds(specs: Sequence[str], sources: Sequence[str] = SIFT_SOURCES, sentences: bool = True,
               progress: Callable = print, candidates: CandidateSettings = DEFAULT_CANDIDATES, files: bool = True
               ) -> list[Fold]:
    """A fold per SIFT source named in `sources` and (files: True) per TwoSix file among specs; each
    with its training set (every file less the fold's texts and their near-identical copies).
    sentences: False leaves the sentence labels out of training (extraction does not use the
    sentence head)."""
    from models.training import add_split

    read = {spec: read_dataset(spec) for spec in specs}
    folds: list[Fold] = []
    for spec, data in read.items():
        fmt = spec_format(spec)
        if fmt == "sift":
            by_source = sift_sources(spec_path(spec))
            for source in sources:
                part = LabeledData(name=f"{data.name}:{source}",
                                   examples=[e for e in data.examples if by_source.get(normalize(e.candidate.text)) == source],
                                   sentences=[s for s in data.sentences if by_source.get(normalize(s.text)) == source],
                                   passages=[p for p in data.passages if by_source.get(normalize(p.text)) == source])
                if not part.passages:
                    known = ", ".join(sorted(set(by_source.values())))
                    raise InputError(spec, f"no passages of source {source!r} (sources here: {known})")
                folds.append(Fold(source, spec, part))
        elif fmt == "twosix" and files:
            folds.append(Fold(Path(spec_path(spec)).stem, spec, data))
    if not folds:
        raise InputError("--loso", "no source to hold out: give a sift or twosix file")
    for fold in folds:
        held = sorted(_texts(fold.data))
        for spec, data in read.items():
            texts = sorted(_texts(data))
            drop = near_identical(held, texts)
            fold.left_out[spec] = len(drop)
            kept = _keep(data, drop)
            fmt = spec_format(spec)
            if not sentences and fmt in SENTENCE_FORMATS:
                kept = LabeledData(name=kept.name, examples=kept.examples, passages=kept.passages)
            add_split(fold.train, kept, fmt, candidates)
            fold.specs.append(spec)
        progress(f"fold {fold.name}: {len(fold.data.passages)} passages held out; training texts left out "
                 f"per file {fold.left_out}; {len(fold.train.examples)} training pairs")
    return folds


def training_texts(train: TrainingSet) -> set[str]:
    """Every text a TrainingSet would fit on (pairs, passages, sentences)."""
    return ({e.candidate.text for e in train.examples} | {t for t, *_ in train.passages}
            | {t for t, _ in train.sentences})


@dataclass
class LosoSettings:
    """How each fold's model is trained (passed in, peft style)."""

    backbone: str | None = "minilm"
    """None: the TF-IDF baseline (no embedding block)."""
    adapter: str | None = None
    """A fixed LoRA adapter for every fold. One tuned on the held-out sources too (the shipped
    bundle's) leaks them: such figures are a reference, not LOSO."""
    lora: bool = False
    """A LoRA stage per fold on that fold's training set (models.training.tune_backbone)."""
    lora_steps: int = 300
    lora_r: int = 16
    lora_targets: tuple[str, ...] = ("query", "key", "value", "dense")
    """Rank and target modules of the per-fold LoRA stage: `make model`'s shape, fewer steps."""
    lora_holdout: float = 0.25
    heads: HeadSettings = field(default_factory=HeadSettings)
    candidates: CandidateSettings = DEFAULT_CANDIDATES
    """As models.training.TrainSettings.candidates, in training and extraction alike."""
    seed: int = 0


def run_loso(specs: Sequence[str], settings: LosoSettings, sources: Sequence[str] = SIFT_SOURCES,
             progress: Callable = print) -> dict:
    """{"folds": {name: {"e2e_f1", "precision", "recall", ...}}, "mean_e2e_f1", "settings"}."""
    from dataclasses import replace

    from models.training import TrainSettings, held_out_texts, tune_backbone

    folds = make_folds(specs, sources, sentences=settings.heads.gate, progress=progress,
                       candidates=settings.candidates)
    out: dict = {"folds": {}}
    for fold in folds:
        embedder = None
        if settings.backbone:
            from embedding.cache import default_cache_dir
            from embedding.features import CandidateEmbedder

            adapter = settings.adapter
            if settings.lora:
                fold.train.held_out = held_out_texts(fold.train, settings.lora_holdout, settings.seed)
                ts = TrainSettings(backbone=settings.backbone, lora=True, seed=settings.seed,
                                   lora_steps=settings.lora_steps, lora_r=settings.lora_r,
                                   lora_targets=settings.lora_targets, lora_epochs=3,
                                   lora_holdout=settings.lora_holdout)
                adapter = str(tune_backbone(ts, fold.train, fold.specs, progress))
            elif adapter and settings.lora_holdout:
                # the same hash-drawn texts the shipped adapter's LoRA stage left out tune the heads
                fold.train.held_out = held_out_texts(fold.train, settings.lora_holdout, settings.seed)
            embedder = CandidateEmbedder(settings.backbone, adapter=adapter, cache_dir=str(default_cache_dir()),
                                         batch_size=64)
        heads = replace(settings.heads, seed=settings.seed)
        model = RelationModel(embedder, heads, settings.candidates)
        model.fit(fold.train, progress=lambda _: None)
        found = model.extract([p.text for p in fold.data.passages])
        scores = e2e_scores(found, [p.relations for p in fold.data.passages])
        out["folds"][fold.name] = {
            "e2e_f1": round(scores["e2e_f1"], 4), "precision": round(scores["e2e_precision"], 4),
            "recall": round(scores["e2e_recall"], 4), "passages": len(fold.data.passages),
            "gold_relations": sum(len(p.relations) for p in fold.data.passages),
            "predicted": sum(map(len, found)), "thresholds": model.thresholds,
            "train_texts_left_out": fold.left_out}
        progress(f"fold {fold.name}: {json.dumps(out['folds'][fold.name])}")
    f1s = [f["e2e_f1"] for f in out["folds"].values()]
    out["mean_e2e_f1"] = round(sum(f1s) / len(f1s), 4) if f1s else None
    return out
