"""Training: dataset files -> seeded train/validation splits -> (LoRA) -> heads -> bundle.

The validation split of every file is held out from everything (LoRA early stopping uses a slice
of the TRAINING split's pairs, thresholds come from out-of-fold scores of training texts the LoRA
stage did not see), so the validation figures written into the bundle are honest held-out figures.
"""
from __future__ import annotations

import hashlib
import json
import logging
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.errors import InputError
from core.specs import spec_format
from core.types import LabeledData, LabeledExample
from data.readers import SENTENCE_FORMATS, data_sha256, read_dataset, split_apart
from embedding import DEFAULT_PARTS
from finetune.writer import WriterTuning, keep_none
from models.bundle import save_bundle, save_writer
from models.candidates import DEFAULT_CANDIDATES, CandidateSettings
from models.classifier import CLASSES, HeadSettings, RelationModel, TrainingSet, passage_examples
from models.writer import RelationWriter, WriteSettings

log = logging.getLogger(__name__)

LICENSES = {"semeval2010": "CC BY 3.0", "cnc": "CC0 1.0", "twosix": "MIT", "sift": "MIT",
            "store": "the annotators' own labels"}


@dataclass
class TrainSettings:
    """What `python -m models train` does (passed in, peft style)."""

    backbone: str = "minilm"
    lora: bool = False
    """The `train` command's default; `make model` turns it on. A LoRA step of 16 pairs takes about
    1 s with one torch thread (OMP_NUM_THREADS=1); with two threads on a busy 2-core machine it
    took 4-9 s, the threads spinning against other processes."""
    lora_steps: int = 1000
    """At most this many optimiser steps of 16 pairs; early stopping checks every steps/5 (patience
    2). The shipped model (`make model`: 2000 steps, r=16 on every linear layer, --lora-holdout
    0.25) kept step 1200."""
    lora_r: int = 8
    lora_targets: tuple[str, ...] | None = None
    """LoRA rank and target modules (None: the backbone's query/value projections, see
    embedding.backbones.lora_targets_for). alpha is 2 * r, as in the finetune defaults."""
    lora_epochs: int = 1
    """Passes over the sampled pairs and sentences at most (lora_steps caps them first)."""
    lora_holdout: float = 0.0
    """Share of the training texts (pairs and sentences grouped by their text, seeded) kept out of
    the LoRA stage, so that the heads' C, embedding weight and thresholds are chosen on texts the
    adapter never saw (TrainingSet.held_out); the heads still fit on all of them. 0: the LoRA stage
    sees every text and the heads are tuned on all of them (`make model` uses 0.25)."""
    lora_seeds: tuple[int, ...] = ()
    """Seeds of the LoRA runs whose weight changes are averaged into the one adapter that ships
    (finetune.lora.soup_adapters); the runs share the pairs and the early-stopping split, only the
    LoRA start and the batch order differ. () -> one run with `seed`."""
    lora_valid: int = 300
    lora_sentences: bool = True
    """Tune the backbone on the training sentences' causal / not-causal labels too (a second task,
    see finetune.lora), so the sentence vector the sentence head reads is tuned as well."""
    lora_max_chars: int = 300
    """LoRA trains on pairs from texts up to this length: a batch pads to its longest text, and one
    long multi-sentence passage made a step 20x slower."""
    layers: int = 4
    parts: tuple[str, ...] = DEFAULT_PARTS
    marked: bool = False
    """Read each candidate as its own text with A and B wrapped in markers (embedding.pooling.mark),
    in the LoRA stage and in the heads alike: every token's vector then knows which pair is asked
    about, at one forward pass per candidate instead of one per sentence. The sentence head keeps
    the plain text."""
    candidates: CandidateSettings = DEFAULT_CANDIDATES
    """Which concepts are paired and how they are named, in training and extraction alike (with
    states, the sign head learns the sign the text says between the spans as written)."""
    store_weight: float = 10.0
    """Weight of each store label's rows (`--data store:...`) in the heads' fits beside the files'
    rows (TrainingSet.weights): the passages a data scientist labels in a new field are otherwise
    outweighed by thousands of rows from other fields. With no file among the data there is nothing
    to weigh against (a uniform weight would only rescale C): every row weighs 1. 10 was the best
    of 1, 3, 10, 30 on one shuffle of one held-out source, and at least as good as 1 on another
    (README "Learning from your labels", bench/learning_curve.py): the evidence is thin."""
    valid_fraction: float = 0.2
    seed: int = 0
    cache_dir: str | None = None
    """Embedding cache folder; None -> embedding.cache.default_cache_dir()."""
    heads: HeadSettings = field(default_factory=HeadSettings)

    @property
    def lora_run_seeds(self) -> tuple[int, ...]:
        """The seed of every LoRA run: `lora_seeds`, or the one `seed`."""
        return self.lora_seeds or (self.seed,)


MIN_STORE_RELATIONS = 20
"""Fewest human relations a store's labels (the gold set, or the annotators chosen) must hold to
train on: below that a 20 % validation split holds a handful of them, too few to say anything,
and the heads' cross-validation folds may lack a class."""


def check_store_size(spec: str, data: LabeledData) -> None:
    """Refuse store labels with fewer than MIN_STORE_RELATIONS relations (InputError)."""
    n = sum(len(p.relations) for p in data.passages)
    if spec_format(spec) == "store" and n < MIN_STORE_RELATIONS:
        raise InputError(spec, f"holds {n} labelled relations; training needs at least {MIN_STORE_RELATIONS}")


def pair_examples(data: LabeledData, fmt: str, candidates: CandidateSettings = DEFAULT_CANDIDATES
                  ) -> tuple[list[LabeledExample], list[tuple]]:
    """(pairs, passages-with-candidate-indices) of one split: passages through the extraction-time
    candidate generator (see classifier.passage_examples), plain span-labelled examples otherwise."""
    if not data.passages:
        return list(data.examples), []
    built = passage_examples([p.text for p in data.passages], [p.relations for p in data.passages], source=fmt,
                             settings=candidates)
    examples: list[LabeledExample] = []
    passages = []
    for p, (exs, n_generated) in zip(data.passages, built):
        passages.append((p.text, p.relations, list(range(len(examples), len(examples) + n_generated))))
        examples += exs
    return examples, passages


@dataclass
class Prepared:
    """The training set, the held-out validation splits and what the bundle records about them."""

    train: TrainingSet
    valid: dict[str, tuple[str, LabeledData]]
    summary: list[dict]


def add_split(train: TrainingSet, data: LabeledData, fmt: str, candidates: CandidateSettings = DEFAULT_CANDIDATES,
              weight: float = 1.0) -> list[LabeledExample]:
    """Append one training split's pairs, passages and (where they mean "causal") sentences; with a
    weight other than 1 its texts' rows weigh that much in the heads' fits (TrainingSet.weights)."""
    if not weight > 0:
        raise InputError(data.name, f"weight {weight!r} must be a positive number")
    exs, passages = pair_examples(data, fmt, candidates)
    offset = len(train.examples)
    train.examples += exs
    train.passages += [(t, rels, [i + offset for i in idx]) for t, rels, idx in passages]
    sentences = [(s.text, s.causal) for s in data.sentences] if fmt in SENTENCE_FORMATS else []
    train.sentences += sentences
    if weight != 1.0:
        train.weights.update(dict.fromkeys([e.candidate.text for e in exs] + [t for t, _ in sentences], weight))
    return exs


def training_set(datasets: Sequence[LabeledData]) -> TrainingSet:
    """A TrainingSet from already-split LabeledData (format read from the name "FORMAT:...")."""
    train = TrainingSet()
    for data in datasets:
        add_split(train, data, spec_format(data.name))
    return train


def prepare(specs: Sequence[str], valid_fraction: float, seed: int, progress: Callable = print,
            candidates: CandidateSettings = DEFAULT_CANDIDATES, store_weight: float = 1.0) -> Prepared:
    """Read every file, split it by sentence (seeded; data.readers.split_apart: no file's validation
    text in any file's training split), gather training pairs/sentences."""
    train = TrainingSet()
    valid: dict[str, tuple[str, LabeledData]] = {}
    summary = []
    read = {spec: read_dataset(spec) for spec in specs}
    for spec, data in read.items():
        check_store_size(spec, data)
    splits = split_apart(read, valid_fraction, seed)
    files = any(spec_format(spec) != "store" for spec in specs)
    for spec in specs:
        fmt, data = spec_format(spec), read[spec]
        tr, va, dropped = splits[spec]
        if dropped:
            progress(f"{spec}: {dropped} training texts left out, being in another file's validation split")
        weight = store_weight if fmt == "store" and files else 1.0
        exs = add_split(train, tr, fmt, candidates, weight)
        valid[spec] = (fmt, va)
        labels = Counter(CLASSES[int(e.label)] for e in exs)
        summary.append({"spec": spec, "format": fmt, "name": data.name, "sha256": data_sha256(spec, data),
                        "license": LICENSES.get(fmt), "valid_fraction": valid_fraction, "seed": seed, "weight": weight,
                        "train": {"pairs": dict(labels), "sentences": len(tr.sentences), "passages": len(tr.passages)},
                        "valid": {"pairs": len(va.examples), "sentences": len(va.sentences),
                                  "passages": len(va.passages)},
                        "train_texts_in_other_validation": dropped})
        progress(f"{spec}: {len(exs)} training pairs {dict(labels)}, {len(tr.sentences)} sentences; "
                 f"validation {len(va.examples)} pairs, {len(va.sentences)} sentences, {len(va.passages)} passages")
    return Prepared(train, valid, summary)


def held_out_texts(train: TrainingSet, fraction: float, seed: int) -> frozenset[str]:
    """A seeded share of the training texts, drawn by a hash of each text: all pairs of a sentence
    or passage fall on the same side, and the draw does not depend on the order of the files."""
    if fraction <= 0:
        return frozenset()
    texts = {e.candidate.text for e in train.examples} | {t for t, _ in train.sentences}
    bar = int(fraction * 2**32)
    return frozenset(t for t in texts
                     if int.from_bytes(hashlib.sha256(f"{seed}\0{t}".encode()).digest()[:4], "big") < bar)


def weighted_draw(pairs: Sequence[LabeledExample], weights: dict[str, float], n: int, seed: int
                  ) -> list[LabeledExample]:
    """n pairs drawn with replacement, each as likely as its text's weight (TrainingSet.weights;
    1 when unnamed): a store label weighing W is tuned on W times as often as a pair of 1."""
    w = np.array([weights.get(e.candidate.text, 1.0) for e in pairs])
    drawn = np.random.default_rng(seed).choice(len(pairs), size=n, replace=True, p=w / w.sum())
    return [pairs[i] for i in drawn]


def tune_backbone(settings: TrainSettings, train: TrainingSet, specs: Sequence[str], progress: Callable = print
                  ) -> Path:
    """LoRA on a seeded sample of the training pairs; early stopping on another slice of them.
    Where the set weighs some texts (store labels, TrainingSet.weights) the tuning pairs are drawn
    by weight (weighted_draw): the user's labels then shape the backbone too, not only the heads.

    The adapter is kept in the cache folder under a hash of everything that determines it (the
    pairs, the LoRA and pooling settings), so retraining the heads reuses it instead of spending
    tens of CPU minutes tuning the same adapter again. With several `lora_seeds` each run is cached
    on its own (a soup of seeds 0 and 1 reuses the plain seed-0 run) and their mean is returned.
    """
    import random

    from core.paths import cache_root
    from embedding.pooling import PoolingConfig
    from finetune.lora import LoraSettings, soup_adapters, train_lora

    pairs = [e for e in train.examples
             if len(e.candidate.text) <= settings.lora_max_chars and e.candidate.text not in train.held_out]
    random.Random(settings.seed).shuffle(pairs)
    n_stop = min(settings.lora_valid, max(len(pairs) // 5, 1))
    stop, fit = pairs[:n_stop], pairs[n_stop:]
    if fit and any(e.candidate.text in train.weights for e in fit):
        fit = weighted_draw(fit, train.weights, settings.lora_steps * 16, settings.seed)
    sentences = [s for s in train.sentences if len(s[0]) <= settings.lora_max_chars and s[0] not in train.held_out
                 ] if settings.lora_sentences else []
    random.Random(settings.seed).shuffle(sentences)
    n_stop = min(settings.lora_valid, len(sentences) // 5)
    stop_sentences, fit_sentences = sentences[:n_stop], sentences[n_stop:]
    pooling = PoolingConfig(layers=settings.layers, parts=tuple(settings.parts), marked=settings.marked)

    def rows(exs: list) -> list:
        return [(e.candidate.text, e.candidate.a, e.candidate.b, int(e.label), e.sign) for e in exs]

    def tune(seed: int) -> Path:
        lora = LoraSettings(r=settings.lora_r, alpha=2 * settings.lora_r,
                            target_modules=list(settings.lora_targets) if settings.lora_targets else None,
                            epochs=settings.lora_epochs, max_steps=settings.lora_steps, seed=seed, patience=2,
                            max_train=settings.lora_steps * 16, eval_every=max(settings.lora_steps // 5, 1))
        # the key covers the split too: two runs that differ only in how many pairs stop early share the
        # pool of pairs, and one would otherwise be handed the other's adapter
        key = hashlib.sha256(json.dumps(
            [settings.backbone, repr(lora), repr(pooling), rows(fit), rows(stop), fit_sentences, stop_sentences],
            default=str).encode()).hexdigest()
        out_dir = cache_root() / "adapters" / f"{settings.backbone}-{key[:20]}"
        if (out_dir / "adapter_model.safetensors").is_file():
            progress(f"LoRA seed {seed}: reusing the adapter tuned on the same pairs and settings ({out_dir})")
            return out_dir
        progress(f"LoRA seed {seed}: {settings.backbone}, {settings.lora_steps} steps of 16 on "
                 f"{min(len(fit), lora.max_train)} pairs and {len(fit_sentences)} sentences")
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="tuning-", dir=out_dir.parent) as tmp:  # same disk: rename is atomic
            result = train_lora(settings.backbone, fit, stop, lora, Path(tmp) / "adapter", pooling,
                                sources=list(specs), sentences=fit_sentences, valid_sentences=stop_sentences)
            Path(result.adapter_dir).rename(out_dir)
        progress(f"LoRA seed {seed} done: {result.metrics}")
        return out_dir

    members = [tune(seed) for seed in settings.lora_run_seeds]
    if len(members) == 1:
        return members[0]
    soup_dir = cache_root() / "adapters" / ("soup-" + hashlib.sha256(
        json.dumps([m.name for m in members]).encode()).hexdigest()[:20])
    if not (soup_dir / "adapter_model.safetensors").is_file():
        with tempfile.TemporaryDirectory(prefix="soup-", dir=soup_dir.parent) as tmp:
            Path(soup_adapters(members, Path(tmp) / "adapter")).rename(soup_dir)
    progress(f"LoRA: the {len(members)} runs averaged into one adapter ({soup_dir})")
    return soup_dir


def train_model(specs: Sequence[str], settings: TrainSettings, out: str | Path,
                progress: Callable = print, loso: dict | None = None) -> RelationModel:
    """The whole `train` command: returns the fitted model, saved as a bundle at `out`. loso: a
    leave-one-source-out result of the same recipe (models.loso.run_loso) for the bundle to state."""
    from embedding.cache import default_cache_dir
    from embedding.features import CandidateEmbedder
    from models.evaluate import evaluate_data

    clock = time.perf_counter()
    prep = prepare(specs, settings.valid_fraction, settings.seed, progress, settings.candidates,
                   settings.store_weight)
    if settings.lora:
        prep.train.held_out = held_out_texts(prep.train, settings.lora_holdout, settings.seed)
        progress(f"{len(prep.train.held_out)} training texts held out of the LoRA stage to tune the heads on")
    adapter = tune_backbone(settings, prep.train, specs, progress) if settings.lora else None
    embedder = CandidateEmbedder(settings.backbone, adapter=str(adapter) if adapter else None,
                                 layers=settings.layers, parts=tuple(settings.parts), marked=settings.marked,
                                 cache_dir=settings.cache_dir or str(default_cache_dir()), batch_size=64)
    model = RelationModel(embedder, settings.heads, settings.candidates)
    model.fit(prep.train, progress)
    model.info["training_data"] = prep.summary
    progress("scoring the held-out validation splits")
    model.info["validation"] = {spec: evaluate_data(model, data, fmt, progress)
                                for spec, (fmt, data) in prep.valid.items()}
    model.info["train_settings"] = {"backbone": settings.backbone, "lora": settings.lora,
                                    "lora_steps": settings.lora_steps, "lora_r": settings.lora_r,
                                    "lora_targets": settings.lora_targets, "lora_epochs": settings.lora_epochs,
                                    "lora_holdout": settings.lora_holdout if settings.lora else None,
                                    "lora_seeds": list(settings.lora_run_seeds) if settings.lora else None,
                                    "marked": settings.marked, "granular": settings.candidates.granular,
                                    "states": settings.candidates.states,
                                    "verb_phrases": settings.candidates.verb_phrases,
                                    "store_weight": settings.store_weight,
                                    "valid_fraction": settings.valid_fraction,
                                    "seed": settings.seed, "seconds": round(time.perf_counter() - clock)}
    if loso:
        model.info["loso"] = loso
    progress(f"saving the bundle to {out}")
    save_bundle(model, out)
    embedder.set_params(adapter=str(Path(out) / "adapter") if adapter else None, cache_dir=None)
    return model


def train_writer(specs: Sequence[str], out: str | Path, base: str = "smollm2-135m",
                 tuning: WriterTuning | None = None, writing: WriteSettings | None = None,
                 valid_fraction: float = 0.2, none_share: float = 0.1, progress: Callable = print) -> RelationWriter:
    """The whole `train-writer` command: every file split as `train` splits it (same fraction and
    seed: tuning.seed), the writer tuned on the training passages (those without relations kept at
    most `none_share` times as many as those with: finetune.writer.keep_none), scored on each file's
    validation passages, saved as a bundle at `out`."""
    from models.evaluate import evaluate_data

    tuning = tuning or WriterTuning()
    clock = time.perf_counter()
    read = {spec: read_dataset(spec) for spec in specs}
    for spec, data in read.items():
        check_store_size(spec, data)
        if not any(p.relations for p in data.passages):
            raise InputError(spec, "has no passages with relations: the writer learns from passages (sift, twosix, store)")
    splits = split_apart(read, valid_fraction, tuning.seed)
    examples, summary = [], []
    for spec, (tr, va, dropped) in splits.items():
        examples += [(p.text, list(p.relations)) for p in tr.passages]
        summary.append({"spec": spec, "format": spec_format(spec), "name": read[spec].name,
                        "sha256": data_sha256(spec, read[spec]), "license": LICENSES.get(spec_format(spec)),
                        "valid_fraction": valid_fraction, "seed": tuning.seed,
                        "train": {"passages": len(tr.passages)}, "valid": {"passages": len(va.passages)},
                        "train_texts_in_other_validation": dropped})
        progress(f"{spec}: {len(tr.passages)} training passages, {len(va.passages)} validation passages")
    examples = keep_none(examples, none_share, tuning.seed)
    writer = RelationWriter(base, tuning, writing).fit([t for t, _ in examples], [r for _, r in examples],
                                                       progress=progress)
    writer.info["training_data"] = summary
    progress("scoring the held-out validation splits")
    writer.info["validation"] = {spec: evaluate_data(writer, va, spec_format(spec), progress)
                                 for spec, (_, va, _) in splits.items()}
    writer.info["train_settings"] = {"base": base, "valid_fraction": valid_fraction, "none_share": none_share,
                                     "seconds": round(time.perf_counter() - clock)}
    progress(f"saving the bundle to {out}")
    save_writer(writer, out)
    return writer
