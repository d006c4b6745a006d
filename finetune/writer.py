"""LoRA tuning of the relation writer: a small causal LM learns to write a passage's relations.

The loss is the next-token cross-entropy on the answer only (the "src -> tgt (+|-)" lines of
core.relation_text, then end of text), with the output layer applied to those positions alone: a
large vocabulary (Gemma 3: 262k tokens) would otherwise cost most of each step. The adapter comes
back as plain data (peft's adapter_config.json as a dict, its tensors by name), which
models.bundle writes as safetensors + JSON and embedding.backbones.merge_lora merges. torch and
peft are imported inside the functions that use them: models.bundle reads WriterTuning, and the app
lists bundles without loading the ML stack.
"""
from __future__ import annotations

import json
import random
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from core.relation_text import prompt, target
from core.types import PassageRelation

if TYPE_CHECKING:
    import torch

Example = tuple[str, Sequence[PassageRelation]]
"""A passage's text and its relations (none: the writer learns to write "none")."""
TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
"""Every linear layer of a Llama-, Qwen- or Gemma-style block."""


@dataclass
class WriterTuning:
    """How the writer is tuned (peft style, passed in); the defaults are bench/generative.py's."""

    r: int = 16
    alpha: int | None = None
    """None -> 2r."""
    dropout: float = 0.05
    target_modules: tuple[str, ...] = TARGETS
    epochs: int = 8
    batch_size: int = 8
    lr: float = 3e-4
    max_len: int = 256
    """Tokens of prompt + answer kept per example."""
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("r", "epochs", "batch_size", "max_len"):
            if getattr(self, name) < 1:
                raise ValueError(f"WriterTuning.{name} must be >= 1, got {getattr(self, name)}")
        if not self.lr > 0 or not 0 <= self.dropout < 1:
            raise ValueError("WriterTuning: lr must be > 0 and dropout in [0, 1)")
        self.target_modules = tuple(self.target_modules)


def keep_none(examples: Sequence[Example], share: float, seed: int) -> list[Example]:
    """The examples with relations, and a seeded sample of those without, at most `share` times as
    many: a file of mostly empty passages (142 of OSW Copping's 150) otherwise teaches the writer to
    write "none" for plain cases."""
    if not share >= 0:
        raise ValueError(f"the share of passages without relations must be >= 0, got {share}")
    with_rel = [e for e in examples if e[1]]
    without = [e for e in examples if not e[1]]
    random.Random(seed).shuffle(without)
    return with_rel + without[:round(share * len(with_rel))]


def encode(tokenizer, text: str, relations: Sequence[PassageRelation], max_len: int) -> tuple[list[int], list[int]]:
    """Token ids and labels (-100 on the prompt: the loss is on what the model writes). Relations
    that all lack a sign (CNC spans) are asked for under the unsigned prompt."""
    unsigned = bool(relations) and not any(r.sign for r in relations)
    asked = tokenizer(prompt(text, unsigned))["input_ids"]
    answer = tokenizer(target(relations), add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    ids = (asked + answer)[:max_len]
    return ids, ([-100] * len(asked) + answer)[:max_len]


def answer_loss(model, ids: torch.Tensor, mask: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean next-token cross-entropy over the labelled (answer) positions, the same value as the
    model's own loss, with the output layer applied to those positions only."""
    import torch

    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    hidden = base.get_decoder()(input_ids=ids, attention_mask=mask).last_hidden_state
    targets = labels[:, 1:]
    keep = targets != -100
    logits = base.get_output_embeddings()(hidden[:, :-1][keep])
    cap = getattr(base.config, "final_logit_softcapping", None)
    if cap:
        logits = torch.tanh(logits / cap) * cap
    return torch.nn.functional.cross_entropy(logits.float(), targets[keep])


def tune_writer(tokenizer, model, examples: Sequence[Example], settings: WriterTuning,
                progress: Callable[[str], None] = print) -> tuple[dict, dict[str, torch.Tensor]]:
    """LoRA-tune `model` (a float32 causal LM, changed in place) on the examples; returns the
    adapter as (peft adapter_config.json dict, tensors by name). Seeded: LoRA start, dropout and the
    order of each epoch."""
    import torch
    from peft import LoraConfig, get_peft_model

    from finetune.lora import seed_everything

    if not examples:
        raise ValueError("no passages to tune the relation writer on")
    seed_everything(settings.seed)
    peft_model = get_peft_model(model, LoraConfig(
        r=settings.r, lora_alpha=settings.alpha or 2 * settings.r, lora_dropout=settings.dropout,
        target_modules=list(settings.target_modules)))
    rng = random.Random(settings.seed)
    encoded = [encode(tokenizer, t, rels, settings.max_len) for t, rels in examples]
    params = [p for p in peft_model.parameters() if p.requires_grad]
    batch = settings.batch_size
    steps = settings.epochs * ((len(encoded) + batch - 1) // batch)
    opt = torch.optim.AdamW(params, lr=settings.lr, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 20) * max(0.0, 1 - s / steps))
    pad = tokenizer.pad_token_id
    peft_model.train()
    step, t0 = 0, time.time()
    for epoch in range(settings.epochs):
        order = list(range(len(encoded)))
        rng.shuffle(order)
        total = 0.0
        for i in range(0, len(order), batch):
            rows = [encoded[j] for j in order[i:i + batch]]
            width = max(len(ids) for ids, _ in rows)
            ids = torch.tensor([r[0] + [pad] * (width - len(r[0])) for r in rows])
            labels = torch.tensor([r[1] + [-100] * (width - len(r[1])) for r in rows])
            mask = torch.tensor([[1] * len(r[0]) + [0] * (width - len(r[0])) for r in rows])
            loss = answer_loss(peft_model, ids, mask, labels)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
            opt.zero_grad()
            total += loss.item() * len(rows)
            step += 1
        progress(f"writer epoch {epoch + 1}/{settings.epochs}: loss {total / len(encoded):.3f}, "
                 f"{step} steps, {time.time() - t0:.0f} s")
    peft_model.eval()
    with tempfile.TemporaryDirectory() as tmp:  # peft's own writer gives the config its on-disk form
        peft_model.save_pretrained(tmp)
        from safetensors.torch import load_file

        config = json.loads((Path(tmp) / "adapter_config.json").read_text())
        weights = load_file(str(Path(tmp) / "adapter_model.safetensors"))
    config["base_model_name_or_path"] = None  # a path of this machine; the bundle names its base
    return config, weights
