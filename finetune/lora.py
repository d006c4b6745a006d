"""LoRA / QLoRA tuning of a backbone for relation candidates, on exactly the features the classifier uses.

The backbone is tuned under a classification objective over candidates: a small linear head on the
pooled pair features (embedding.pooling.pool_pairs, the same pooling the relation model later reads)
predicts none / A->B / B->A, and a sign head is trained only where a sign is labeled (masked loss).
Sentences labelled "causal or not" (Causal News Corpus) can be mixed in as a second task: their own
batches, a one-logit head on the pooled sentence vector, the vector the sentence head later reads.
The head is linear on purpose: the downstream model is a linear classifier refit on the tuned
features, so the backbone should learn features that are linearly separable, not lean on a deep head.

Only the adapter (a few hundred kB) and the head are saved; `embedding.backbones.load_backbone(name,
adapter=dir)` merges the adapter back into the weights for inference.
"""
from __future__ import annotations

import copy
import json
import logging
import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import Tensor, nn
from tqdm.auto import tqdm

from core.metrics import pair_scores, sentence_scores, sign_accuracy
from core.specs import spec_format
from core.types import Candidate, Direction, LabeledExample
from embedding.backbones import lora_targets_for, load_base_model, merge_lora
from embedding.pooling import PoolingConfig, model_inputs, pool_pairs

log = logging.getLogger("fuzzymap.finetune")

TRAINING_FILE = "fuzzymap_training.json"
HEAD_FILE = "head.safetensors"
QLORA_CPU_MESSAGE = "QLoRA needs a CUDA GPU; this machine has none — use plain LoRA (qlora=False)"
CLASS_WEIGHTS = ("none", "sqrt", "balanced")


class QLoRAUnavailable(RuntimeError):
    """QLoRA (4-bit base weights) was asked for on a machine that cannot train it.

    bitsandbytes imports and even runs 4-bit layers on CPU, but backpropagating through them there
    fails deep inside torch; this error says so up front, in words a user can act on.
    """


@dataclass
class LoraSettings:
    """How to tune: the peft LoRA config, the optimiser, early stopping and size limits."""

    r: int = 8
    alpha: int = 16
    dropout: float = 0.1
    target_modules: list[str] | None = None
    """None -> the backbone's defaults (query,value for BERT-likes; q_proj,v_proj for Llama-likes)."""
    epochs: int = 2
    lr: float = 5e-4
    batch_size: int = 16
    seed: int = 0
    patience: int = 1
    """Validation checks without improvement before stopping; the best state is what gets saved."""
    qlora: bool | None = None
    """None -> on when CUDA is present (4-bit nf4 + double quant); True on a CPU machine -> QLoRAUnavailable."""
    max_steps: int | None = None
    max_train: int | None = None
    """Keep at most this many training examples (a seeded sample): quick runs and tests."""
    eval_every: int | None = None
    """Optimiser steps between validation checks; None -> once per epoch."""
    class_weight: str = "sqrt"
    """Direction loss weights: "sqrt" (inverse square-root frequency), "balanced" or "none".
    Fully balanced weights over-predict "causal" on SemEval-like data (87% none); square-root
    weights still give the rare directions a real gradient without that bias."""
    sign_weight: float = 0.5
    sentence_weight: float = 1.0
    """Weight of the sentence task's loss (only when causal / not-causal sentences are given)."""
    weight_decay: float = 0.01

    def __post_init__(self) -> None:
        if self.class_weight not in CLASS_WEIGHTS:
            raise ValueError(f"LoraSettings.class_weight must be one of {CLASS_WEIGHTS}, got {self.class_weight!r}")
        for name in ("r", "alpha", "epochs", "batch_size", "patience"):
            if getattr(self, name) < 1:
                raise ValueError(f"LoraSettings.{name} must be >= 1, got {getattr(self, name)}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"LoraSettings.dropout must be in [0, 1), got {self.dropout}")


@dataclass
class TuneResult:
    """Where the adapter went, the validation history (step 0 = before tuning) and the best metrics."""

    adapter_dir: Path
    history: list[dict] = field(default_factory=list)
    metrics: dict = field(default_factory=dict)


def cuda_available() -> bool:
    """One place to ask, so tests can pretend either way."""
    return torch.cuda.is_available()


def resolve_qlora(requested: bool | None) -> bool:
    """Whether to tune in 4-bit: auto-on with CUDA, a clear error when forced on without it."""
    cuda = cuda_available()
    if requested is None:
        if cuda:
            log.info("QLoRA on: CUDA GPU found, base weights in 4-bit nf4 with double quantisation")
        else:
            log.info("QLoRA off: no CUDA GPU on this machine, tuning with plain LoRA (float32)")
        return cuda
    if requested and not cuda:
        raise QLoRAUnavailable(QLORA_CPU_MESSAGE)
    return requested


def seed_everything(seed: int) -> None:
    """Python, numpy and torch RNGs: LoRA init, dropout and data order all come from these."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def bnb_config():
    """4-bit nf4 with double quantisation (the QLoRA paper's set-up), computing in bfloat16."""
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                              bnb_4bit_compute_dtype=torch.bfloat16)


def _trainable_model(backbone: str, qlora: bool):
    """(tokenizer, model, kind): float32 (on the GPU when there is one), or 4-bit prepared for k-bit training.

    For QLoRA the float model from load_base_model only lends its tokenizer set-up and resolved
    folder; the weights are then read again, quantised, straight onto the GPU.
    """
    tokenizer, model, kind = load_base_model(backbone)
    if not qlora:
        return tokenizer, model.to("cuda") if cuda_available() else model, kind
    from peft import prepare_model_for_kbit_training
    from transformers import AutoModel

    path = model.name_or_path
    del model
    quantised = AutoModel.from_pretrained(path, quantization_config=bnb_config(),
                                          device_map={"": torch.cuda.current_device()})
    return tokenizer, prepare_model_for_kbit_training(quantised), kind


class PairHead(nn.Module):
    """Linear direction (3 classes) and sign (1 logit) heads on normalised pair features."""

    def __init__(self, dim: int, dropout: float = 0.1):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.drop = nn.Dropout(dropout)
        self.direction = nn.Linear(dim, len(Direction))
        self.sign = nn.Linear(dim, 1)

    def forward(self, features: Tensor) -> tuple[Tensor, Tensor]:
        x = self.drop(self.norm(features))
        return self.direction(x), self.sign(x).squeeze(-1)


class SentenceHead(nn.Module):
    """One logit, "this sentence states a causal relation", on the normalised sentence vector."""

    def __init__(self, dim: int, dropout: float = 0.1):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.drop = nn.Dropout(dropout)
        self.causal = nn.Linear(dim, 1)

    def forward(self, features: Tensor) -> Tensor:
        return self.causal(self.drop(self.norm(features))).squeeze(-1)


def sentence_features(model: nn.Module, tokenizer, texts: Sequence[str], pooling: PoolingConfig) -> Tensor:
    """The pooled sentence vector (same layers as the pair features), with gradients."""
    whole = [Candidate(t, (0, len(t)), (0, len(t))) for t in texts]
    return pair_features(model, tokenizer, whole, PoolingConfig(layers=pooling.layers, parts=("sentence",)))


def sentence_loss(logits: Tensor, sentences: Sequence[tuple[str, bool]]) -> Tensor:
    target = torch.tensor([float(c) for _, c in sentences], device=logits.device)
    return nn.functional.binary_cross_entropy_with_logits(logits, target)


def pair_features(model: nn.Module, tokenizer, candidates: Sequence[Candidate], pooling: PoolingConfig) -> Tensor:
    """Pooled pair features with gradients: one forward pass per distinct model input in the batch."""
    inputs = model_inputs(candidates, pooling.marked)
    texts = list(dict.fromkeys(text for text, _, _ in inputs))
    row = {text: i for i, text in enumerate(texts)}
    device = next(p for p in model.parameters()).device
    enc = tokenizer(texts, return_offsets_mapping=True, padding=True, truncation=True, return_tensors="pt")
    offsets = enc.pop("offset_mapping").to(device)
    enc = {k: v.to(device) for k, v in enc.items()}
    hidden = model(**enc, output_hidden_states=True).hidden_states
    spans = [(row[text], a, b) for text, a, b in inputs]
    return pool_pairs(hidden, enc["attention_mask"], offsets, spans, pooling).float()


def class_weights(labels: Sequence[int], mode: str) -> Tensor:
    """Per-direction loss weights, normalised so the average example weighs 1."""
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=len(Direction)).astype(np.float64)
    if mode == "none":
        weights = np.ones(len(Direction))
    else:
        freq = np.maximum(counts, 1.0) / max(counts.sum(), 1.0)
        weights = 1.0 / freq if mode == "balanced" else 1.0 / np.sqrt(freq)
    weights = weights / (weights * counts).sum() * max(counts.sum(), 1.0)
    return torch.tensor(weights, dtype=torch.float32)


def _targets(examples: Sequence[LabeledExample], device) -> tuple[Tensor, Tensor, Tensor]:
    """Direction labels, sign targets (1 = increase) and the mask of examples whose sign counts."""
    direction = torch.tensor([int(e.label) for e in examples], dtype=torch.long, device=device)
    known = [e.sign is not None and e.label != Direction.NONE for e in examples]
    sign = torch.tensor([1.0 if (e.sign or 0) > 0 else 0.0 for e in examples], device=device)
    return direction, sign, torch.tensor(known, dtype=torch.bool, device=device)


def head_loss(direction_logits: Tensor, sign_logits: Tensor, examples: Sequence[LabeledExample],
              weights: Tensor | None, sign_weight: float) -> tuple[Tensor, Tensor, Tensor]:
    """(total, direction, sign) losses; the sign term only over labeled causal examples."""
    direction, sign, known = _targets(examples, direction_logits.device)
    w = weights.to(direction_logits.device) if weights is not None else None
    dir_loss = nn.functional.cross_entropy(direction_logits, direction, weight=w)
    if known.any():
        sign_loss = nn.functional.binary_cross_entropy_with_logits(sign_logits[known], sign[known])
    else:
        sign_loss = direction_logits.new_zeros(())
    return dir_loss + sign_weight * sign_loss, dir_loss, sign_loss


@torch.no_grad()
def evaluate_head(model: nn.Module, tokenizer, head: PairHead, examples: Sequence[LabeledExample],
                  pooling: PoolingConfig, batch_size: int = 32, desc: str = "validate") -> dict:
    """Unweighted loss and direction / sign metrics of backbone + head on labeled examples."""
    was_training = model.training, head.training
    model.eval()
    head.eval()
    direction_logits, sign_logits = [], []
    for first in tqdm(range(0, len(examples), batch_size), desc=desc, leave=False, unit="batch"):
        batch = examples[first:first + batch_size]
        logits = head(pair_features(model, tokenizer, [e.candidate for e in batch], pooling))
        direction_logits.append(logits[0].cpu())
        sign_logits.append(logits[1].cpu())
    model.train(was_training[0])
    head.train(was_training[1])
    d_logits, s_logits = torch.cat(direction_logits), torch.cat(sign_logits)
    _, dir_loss, sign_loss = head_loss(d_logits, s_logits, examples, None, 1.0)
    pred = d_logits.argmax(dim=1).numpy()
    gold = np.array([int(e.label) for e in examples])
    metrics = {"loss": float(dir_loss), "sign_loss": float(sign_loss), **pair_scores(gold, pred)}
    _, _, known = _targets(examples, "cpu")
    if known.any():
        gold_sign = [e.sign if k else 0 for e, k in zip(examples, known.tolist())]
        metrics["sign_accuracy"] = sign_accuracy(gold_sign, [1 if x > 0 else -1 for x in s_logits.tolist()])
        metrics["sign_n"] = int(known.sum())
    return metrics


@torch.no_grad()
def evaluate_sentences(model: nn.Module, tokenizer, head: SentenceHead, sentences: Sequence[tuple[str, bool]],
                       pooling: PoolingConfig, batch_size: int = 32) -> dict:
    """Loss and F1 (at 0.5) of backbone + sentence head on held-out causal / not-causal sentences."""
    was_training = model.training, head.training
    model.eval()
    head.eval()
    logits = torch.cat([head(sentence_features(model, tokenizer, [t for t, _ in sentences[i:i + batch_size]],
                                               pooling)).cpu()
                        for i in tqdm(range(0, len(sentences), batch_size), desc="validate sentences", leave=False)])
    model.train(was_training[0])
    head.train(was_training[1])
    gold = np.array([bool(c) for _, c in sentences])
    return {"sentence_loss": float(sentence_loss(logits, sentences)),
            "sentence_f1": sentence_scores(gold, logits.numpy() > 0)["sentence_f1"]}


def sample_examples(examples: Sequence[LabeledExample], limit: int | None, seed: int) -> list[LabeledExample]:
    """A seeded subset (order kept) when a limit is set."""
    if limit is None or limit >= len(examples):
        return list(examples)
    keep = np.sort(np.random.default_rng(seed).choice(len(examples), size=limit, replace=False))
    return [examples[i] for i in keep]


def data_summary(examples: Sequence[LabeledExample]) -> dict:
    """Counts by direction, by source dataset and of labeled signs: what a reader of the adapter needs to know.

    Sources are counted by their first field ("semeval2010:17" -> "semeval2010"): readers tag each
    example with its own id, which would make one entry per example.
    """
    return {"n": len(examples),
            "labels": {Direction(k).name: v for k, v in sorted(Counter(int(e.label) for e in examples).items())},
            "sources": dict(sorted(Counter(spec_format(e.source) for e in examples).items())),
            "signed": sum(e.sign is not None for e in examples)}


def _objective(metrics: dict, settings: LoraSettings) -> float:
    """What early stopping minimises: the direction loss, plus the weighted sentence loss if any."""
    return metrics["loss"] + settings.sentence_weight * metrics.get("sentence_loss", 0.0)


def _trainable_state(model: nn.Module, head: PairHead) -> tuple[dict, dict]:
    """Copies of what tuning changes (LoRA weights, head), to restore the best validation state."""
    lora = {k: v.detach().clone() for k, v in model.named_parameters() if v.requires_grad}
    return lora, copy.deepcopy(head.state_dict())


def train_lora(backbone: str, train: Sequence[LabeledExample], valid: Sequence[LabeledExample],
               settings: LoraSettings = LoraSettings(), out_dir: str | Path = "adapter",
               pooling: PoolingConfig = PoolingConfig(), sources: Sequence[str] = (),
               sentences: Sequence[tuple[str, bool]] = (), valid_sentences: Sequence[tuple[str, bool]] = ()
               ) -> TuneResult:
    """Tune LoRA adapters on `train`, stop early on `valid`, save the best adapter + head + metadata.

    sources: how the data was given (e.g. "semeval2010:/path"), recorded in fuzzymap_training.json.
    sentences / valid_sentences: (text, causal) pairs for the sentence task (see the module's note);
    its head only shapes the backbone and is not saved.
    """
    from peft import LoraConfig, get_peft_model

    if not train or not valid:
        raise ValueError(f"train_lora needs training and validation examples, got {len(train)} and {len(valid)}")
    started, clock = datetime.now(timezone.utc), time.perf_counter()
    qlora = resolve_qlora(settings.qlora)
    seed_everything(settings.seed)
    train = sample_examples(train, settings.max_train, settings.seed)
    tokenizer, base, kind = _trainable_model(backbone, qlora)
    targets = list(settings.target_modules or lora_targets_for(base))
    config = LoraConfig(r=settings.r, lora_alpha=settings.alpha, lora_dropout=settings.dropout,
                        target_modules=targets, bias="none")
    torch.manual_seed(settings.seed)
    model = get_peft_model(base, config)
    device = next(model.parameters()).device
    dim = model.config.hidden_size * len(pooling.parts)
    head = PairHead(dim, settings.dropout).to(device)
    s_head = SentenceHead(model.config.hidden_size, settings.dropout).to(device)
    sentences = list(sentences)
    valid_sentences = list(valid_sentences) if sentences else []
    weights = class_weights([int(e.label) for e in train], settings.class_weight)
    params = [p for p in model.parameters() if p.requires_grad] + list(head.parameters())
    params += list(s_head.parameters()) if sentences else []
    optimizer = torch.optim.AdamW(params, lr=settings.lr, weight_decay=settings.weight_decay)
    n_trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    log.info("tuning %s with LoRA r=%d on %s (%d trainable backbone parameters%s): %d train, %d valid",
             backbone, settings.r, ",".join(targets), n_trainable, ", QLoRA 4-bit" if qlora else "",
             len(train), len(valid))

    bs = settings.batch_size
    steps_per_epoch = (len(train) + bs - 1) // bs + (len(sentences) + bs - 1) // bs
    total = steps_per_epoch * settings.epochs
    if settings.max_steps is not None:
        total = min(total, settings.max_steps)
    eval_every = settings.eval_every or steps_per_epoch
    rng = np.random.default_rng(settings.seed)

    def validate() -> dict:
        metrics = evaluate_head(model, tokenizer, head, valid, pooling)
        if valid_sentences:
            metrics.update(evaluate_sentences(model, tokenizer, s_head, valid_sentences, pooling))
        return metrics

    history = [{"step": 0, "epoch": 0.0, **validate()}]
    best, best_state, bad_checks, step, stopped_early = None, None, 0, 0, False
    log.info("before tuning: valid loss %.4f, causal F1 %.3f", history[0]["loss"], history[0]["causal_f1"])
    model.train()
    head.train()
    bar = tqdm(total=total, desc="LoRA tuning", unit="step")
    running: list[float] = []
    while step < total and not stopped_early:
        order = rng.permutation(len(train))
        schedule = [(False, order[i:i + bs]) for i in range(0, len(order), bs)]
        if sentences:  # the two tasks' batches interleaved at random
            s_order = rng.permutation(len(sentences))
            schedule += [(True, s_order[i:i + bs]) for i in range(0, len(s_order), bs)]
            schedule = [schedule[k] for k in rng.permutation(len(schedule))]
        for is_sentence, rows in schedule:
            if is_sentence:
                batch_s = [sentences[i] for i in rows]
                logits = s_head(sentence_features(model, tokenizer, [t for t, _ in batch_s], pooling))
                loss = settings.sentence_weight * sentence_loss(logits, batch_s)
            else:
                batch = [train[i] for i in rows]
                d_logits, s_logits = head(pair_features(model, tokenizer, [e.candidate for e in batch], pooling))
                loss, _, _ = head_loss(d_logits, s_logits, batch, weights, settings.sign_weight)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
            running.append(loss.item())
            bar.update(1)
            bar.set_postfix(loss=f"{np.mean(running[-20:]):.4f}")
            if step % eval_every == 0 or step == total:
                metrics = validate()
                history.append({"step": step, "epoch": round(step / steps_per_epoch, 3),
                                "train_loss": float(np.mean(running)), **metrics})
                running = []
                log.info("step %d: valid loss %.4f, causal F1 %.3f, sentence F1 %s", step, metrics["loss"],
                         metrics["causal_f1"], metrics.get("sentence_f1", "-"))
                if best is None or _objective(metrics, settings) < _objective(best, settings) - 1e-6:
                    best, best_state, bad_checks = history[-1], _trainable_state(model, head), 0
                else:
                    bad_checks += 1
                    if bad_checks >= settings.patience:
                        stopped_early = True
                        log.info("early stop at step %d: no validation improvement in %d checks", step, bad_checks)
                        break
            if step >= total:
                break
    bar.close()
    if best is None or _objective(best, settings) >= _objective(history[0], settings):
        log.warning("tuning did not lower the validation loss below the untuned %.4f",
                    _objective(history[0], settings))
    if best_state is not None:
        lora, head_state = best_state
        with torch.no_grad():
            for name, param in model.named_parameters():
                if name in lora:
                    param.copy_(lora[name])
        head.load_state_dict(head_state)

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    save_file({k: v.detach().cpu().contiguous() for k, v in head.state_dict().items()}, str(out / HEAD_FILE),
              metadata={"dim": str(dim), "classes": ",".join(d.name for d in Direction)})
    metrics = dict(best or history[-1])
    tuned_4bit = None
    if qlora:
        tuned_4bit, metrics = metrics, {**metrics, **merged_validation(backbone, out, valid, pooling)}
        log.info("QLoRA adapter merged into the float base: valid loss %.4f (4-bit during tuning: %.4f)",
                 metrics["loss"], tuned_4bit["loss"])
    meta = {
        "backbone": backbone, "kind": kind, "lora_targets": targets, "qlora": qlora,
        "pooling": asdict(pooling), "settings": asdict(settings), "seed": settings.seed,
        "data": {"sources": list(sources), "train": data_summary(train), "valid": data_summary(valid),
                 "sentences": {"train": len(sentences), "causal": sum(c for _, c in sentences),
                               "valid": len(valid_sentences)}},
        "trainable_parameters": n_trainable, "feature_dim": dim, "steps": step, "stopped_early": stopped_early,
        "best_step": metrics.get("step", 0), "history": history,
        "metrics": {"validation": metrics, **({"validation_4bit": tuned_4bit} if tuned_4bit else {})},
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - clock, 1),
        "versions": _versions(),
        "note": "metrics are on the validation split held out from the given data (not a test set)",
    }
    (out / TRAINING_FILE).write_text(json.dumps(meta, indent=2, default=str))
    log.info("adapter saved to %s (best step %s, valid loss %.4f)", out, meta["best_step"], metrics["loss"])
    return TuneResult(out, history, metrics)


def merged_validation(backbone: str, adapter_dir: Path, valid: Sequence[LabeledExample],
                      pooling: PoolingConfig) -> dict:
    """Validation metrics of the saved adapter + head merged into the float32 base.

    QLoRA tunes against 4-bit base weights, but every bundle merges the adapter into the float base
    (embedding.backbones.merge_lora), whose features differ by the quantisation error: the figures
    recorded for a QLoRA adapter must be this model's, not the 4-bit one's. The sentence task's
    figures stay the 4-bit ones: its head only shapes the backbone and is not saved.
    """
    tokenizer, base, _ = load_base_model(backbone)
    model = merge_lora(base, adapter_dir).eval()
    return evaluate_head(model, tokenizer, load_head(adapter_dir), valid, pooling)


def _versions() -> dict:
    import peft
    import transformers

    return {"torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__}


def read_training(adapter_dir: str | Path) -> dict:
    """The fuzzymap_training.json written next to an adapter."""
    path = Path(adapter_dir) / TRAINING_FILE
    if not path.is_file():
        raise ValueError(f"{path}: missing (not an adapter folder written by finetune)")
    return json.loads(path.read_text())


def load_head(adapter_dir: str | Path) -> PairHead:
    """The tuned head saved beside an adapter, in eval mode."""
    path = Path(adapter_dir) / HEAD_FILE
    state = load_file(str(path))
    head = PairHead(state["direction.weight"].shape[1])
    head.load_state_dict(state)
    return head.eval()


SOUP_KEYS = ("r", "lora_alpha", "target_modules", "use_rslora", "use_dora", "bias", "fan_in_fan_out",
             "base_model_name_or_path")
"""adapter_config.json fields that must agree for adapters to be averaged."""


def soup_adapters(members: Sequence[str | Path], out_dir: str | Path) -> Path:
    """Average the weight changes of LoRA runs that differ only in their seed: one plain adapter.

    Run i changes a weight by (alpha / r) * B_i @ A_i. Stacking the A_i along the rank and the B_i / n
    side by side gives one LoRA of rank n * r (alpha n * alpha, so the same scale) whose change is
    exactly the mean of the n changes ("model soup"). It loads and merges like any adapter, so
    extraction costs what one run's does. Meant to damp what one seed's random start and early stop
    put in; for seeds that stopped 800 steps apart it diluted the better run instead (README).
    """
    members = [Path(m) for m in members]
    if len(members) < 2:
        raise ValueError(f"a soup needs at least two adapters, got {len(members)}")
    configs = [json.loads((m / "adapter_config.json").read_text()) for m in members]
    for m, c in zip(members[1:], configs[1:]):
        differ = [k for k in SOUP_KEYS if _canonical(c.get(k)) != _canonical(configs[0].get(k))]
        if differ:
            raise ValueError(f"{m}: cannot be averaged with {members[0]}: {', '.join(differ)} differ")
    if configs[0].get("use_rslora"):
        raise ValueError("rank-stabilised LoRA (use_rslora) scales by 1/sqrt(r): stacking would change the scale")
    tensors = [load_file(str(m / "adapter_model.safetensors")) for m in members]
    if any(set(t) != set(tensors[0]) for t in tensors[1:]):
        raise ValueError("the adapters adapt different modules")
    n = len(members)
    soup = {}
    for key in tensors[0]:
        if ".lora_A." in key:
            soup[key] = torch.cat([t[key] for t in tensors], dim=0).contiguous()
        elif ".lora_B." in key:
            soup[key] = (torch.cat([t[key] for t in tensors], dim=1) / n).contiguous()
        else:
            raise ValueError(f"unexpected tensor {key!r} in {members[0]}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    save_file(soup, str(out / "adapter_model.safetensors"))
    config = {**configs[0], "r": n * int(configs[0]["r"]), "lora_alpha": n * configs[0]["lora_alpha"]}
    (out / "adapter_config.json").write_text(json.dumps(config, indent=2))
    trainings = [read_training(m) if (m / TRAINING_FILE).is_file() else {} for m in members]
    per_run = ("seed", "steps", "best_step", "stopped_early", "metrics", "history", "started_at", "finished_at",
               "seconds")
    meta = {k: v for k, v in trainings[0].items() if k not in per_run}
    meta["soup"] = [{k: t.get(k) for k in per_run if k != "history"} for t in trainings]
    meta["note"] = (f"the mean of {n} LoRA runs' weight changes (finetune.lora.soup_adapters); each run's "
                    "metrics are on the validation split held out from the given data")
    (out / TRAINING_FILE).write_text(json.dumps(meta, indent=2, default=str))
    log.info("averaged %d adapters into %s (rank %d)", n, out, config["r"])
    return out


def _canonical(value):
    return sorted(value) if isinstance(value, list) else value


def merge_adapter(backbone: str, adapter_dir: str | Path, out_dir: str | Path) -> Path:
    """Merge an adapter into its base weights and save a plain model folder (safetensors + tokenizer).

    The folder loads like any local Hugging Face backbone (`load_backbone(str(out_dir))`), for
    tools that know nothing about peft. The base's `architectures` is kept so a decoder stays a decoder.
    """
    adapter_dir, out = Path(adapter_dir), Path(out_dir)
    tokenizer, base, _ = load_base_model(backbone)
    architectures = list(getattr(base.config, "architectures", None) or [])
    merged = merge_lora(base, adapter_dir)  # the merge every bundle load does, so both give the same weights
    out.mkdir(parents=True, exist_ok=True)
    merged.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    if architectures:
        config_path = out / "config.json"
        config = json.loads(config_path.read_text())
        config["architectures"] = architectures
        config_path.write_text(json.dumps(config, indent=2))
    if (adapter_dir / TRAINING_FILE).is_file():
        (out / TRAINING_FILE).write_text((adapter_dir / TRAINING_FILE).read_text())
    log.info("merged %s + %s into %s", backbone, adapter_dir, out)
    return out
