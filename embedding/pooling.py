"""One forward pass per sentence; every candidate pair in it is pooled from that pass.

LLMEmbed averages hidden states over all positions, padding included. Here every mean is masked:
padding and special tokens ([CLS], [SEP], BOS: the tokens a fast tokenizer gives an empty offset)
never count, so a sentence's vector does not depend on what it was batched with.

Span -> tokens: a token belongs to a character span if its offsets overlap the span. When no token
overlaps (an empty span, or one past the truncation point) the span falls back to the nearest
content token, so every candidate still gets a vector instead of a NaN.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np
import torch
from torch import Tensor

from core.types import Candidate, Span
from embedding import DEFAULT_PARTS

if TYPE_CHECKING:
    from embedding.backbones import Backbone

PARTS = ("sentence", "a", "b", "a*b", "a-b", "|a-b|")
MARKERS = ("[A] ", " [/A]", "[B] ", " [/B]")
"""Marked-text variant: A becomes "[A] text [/A]" and B "[B] text [/B]" in the model input."""


@dataclass(frozen=True)
class PoolingConfig:
    """How a candidate becomes a vector: which layers, which parts, plain or marked text."""

    layers: int = 4
    parts: tuple[str, ...] = DEFAULT_PARTS
    marked: bool = False

    def __post_init__(self) -> None:
        if self.layers < 1:
            raise ValueError(f"PoolingConfig.layers must be >= 1, got {self.layers}")
        unknown = [p for p in self.parts if p not in PARTS]
        if unknown or not self.parts:
            raise ValueError(f"PoolingConfig.parts: unknown {unknown or 'empty'}; choose from {PARTS}")
        object.__setattr__(self, "parts", tuple(self.parts))


class UnitStore(Protocol):
    """What encode_candidates needs from a cache (embedding.cache.EmbeddingCache implements it)."""

    def get(self, text: str) -> tuple[np.ndarray, np.ndarray] | None: ...

    def put(self, text: str, spans: np.ndarray, units: np.ndarray) -> None: ...


def last_layers(hidden: Tensor | Sequence[Tensor], layers: int) -> list[Tensor]:
    """The last `layers` hidden states as [B, T, H] tensors (a [L, T, H] tensor counts as one sentence)."""
    chosen = list(hidden[-layers:])
    if len(chosen) < layers:
        raise ValueError(f"model has {len(chosen)} hidden states, PoolingConfig.layers={layers}")
    return [h.unsqueeze(0) if h.dim() == 2 else h for h in chosen]


def content_mask(attention_mask: Tensor, offsets: Tensor) -> Tensor:
    """Real text tokens: attended and with a non-empty character offset (drops pads and specials)."""
    offsets = offsets.to(attention_mask.device)
    return attention_mask.bool() & (offsets[..., 1] > offsets[..., 0])


def span_weights(offsets: Tensor, content: Tensor, spans: Tensor) -> Tensor:
    """[m, T] averaging weights for m char spans of one sentence (offsets [T, 2], content [T])."""
    start, end = spans[:, :1], spans[:, 1:]
    tok_start, tok_end = offsets[:, 0].unsqueeze(0), offsets[:, 1].unsqueeze(0)
    inside = content.unsqueeze(0) & (tok_start < end) & (tok_end > start)
    empty = ~inside.any(dim=1)
    if empty.any():
        gap = torch.maximum(start - tok_end, tok_start - end).clamp(min=0).float()
        gap = gap.masked_fill(~content.unsqueeze(0), float("inf"))
        nearest = torch.zeros_like(inside)
        nearest[torch.arange(len(spans)), gap.argmin(dim=1)] = True
        inside = torch.where(empty.unsqueeze(1), nearest, inside)
    weights = inside.float()
    return weights / weights.sum(dim=1, keepdim=True).clamp(min=1.0)


def pool_units(layers: Sequence[Tensor], attention_mask: Tensor, offsets: Tensor,
               spans_per_row: Sequence[Sequence[Span]]) -> list[Tensor]:
    """Per batch row, a [1 + m, k, H] tensor: the sentence's masked mean, then each span's mean.

    layers: k tensors [B, T, H]. All rows and units are pooled by one batched matmul of averaging
    weights [B, U, T] with the layers side by side [B, T, k*H].
    """
    content = content_mask(attention_mask, offsets)
    n_units = max(1 + len(spans) for spans in spans_per_row)
    weights = torch.zeros(len(spans_per_row), n_units, content.shape[1], device=content.device)
    for row, spans in enumerate(spans_per_row):
        sentence = content[row].float()
        weights[row, 0] = sentence / sentence.sum().clamp(min=1.0)
        if len(spans):
            span_t = torch.as_tensor(np.asarray(spans, dtype=np.int64).reshape(-1, 2), device=content.device)
            weights[row, 1:1 + len(spans)] = span_weights(offsets[row], content[row], span_t)
    side_by_side = torch.cat(list(layers), dim=-1)
    pooled = torch.bmm(weights.to(side_by_side.dtype), side_by_side)
    pooled = pooled.view(len(spans_per_row), n_units, len(layers), -1)
    return [pooled[row, :1 + len(spans)] for row, spans in enumerate(spans_per_row)]


def compose(sentence: Tensor, a: Tensor, b: Tensor, parts: Sequence[str], per_layer: bool = False) -> Tensor:
    """Concatenate the chosen parts from [n, k, H] unit vectors.

    Layers are averaged first (LLMEmbed's multi-layer mean); per_layer keeps them apart, [n, k, D],
    for the Gram fusion that needs one vector per layer.
    """
    if not per_layer:
        sentence, a, b = (x.mean(dim=1, keepdim=True) for x in (sentence, a, b))
    table = {"sentence": lambda: sentence, "a": lambda: a, "b": lambda: b, "a*b": lambda: a * b,
             "a-b": lambda: a - b, "|a-b|": lambda: (a - b).abs()}
    out = torch.cat([table[p]() for p in parts], dim=-1)
    return out if per_layer else out.squeeze(1)


def pool_pairs(hidden: Tensor | Sequence[Tensor], attention_mask: Tensor, offsets: Tensor,
               spans: Sequence[tuple], config: PoolingConfig = PoolingConfig()) -> Tensor:
    """Pair features [n, len(parts) * H] from one batched forward pass; differentiable (finetune trains on it).

    hidden: the model's hidden_states (tuple of [B, T, H]) or a [L, B, T, H] / [L, T, H] tensor.
    attention_mask [B, T], offsets [B, T, 2] (the tokenizer's offset_mapping).
    spans: (row, a_span, b_span) per pair, row indexing the batch; (a_span, b_span) when B is 1.
    """
    layers = last_layers(hidden, config.layers)
    if attention_mask.dim() == 1:
        attention_mask, offsets = attention_mask.unsqueeze(0), offsets.unsqueeze(0)
    triples = [s if len(s) == 3 else (0, *s) for s in spans]
    per_row: list[list[Span]] = [[] for _ in range(layers[0].shape[0])]
    index = []
    for row, a, b in triples:
        index.append((row, len(per_row[row]) + 1, len(per_row[row]) + 2))
        per_row[row] += [tuple(a), tuple(b)]
    units = pool_units(layers, attention_mask, offsets.to(attention_mask.device), per_row)
    sentence = torch.stack([units[r][0] for r, _, _ in index])
    a_vec = torch.stack([units[r][i] for r, i, _ in index])
    b_vec = torch.stack([units[r][j] for r, _, j in index])
    return compose(sentence, a_vec, b_vec, config.parts)


def mark(candidate: Candidate) -> tuple[str, Span, Span]:
    """The marked text and where A's and B's words sit inside it (markers excluded from the spans)."""
    text = candidate.text
    events = sorted([(candidate.a, MARKERS[0], MARKERS[1]), (candidate.b, MARKERS[2], MARKERS[3])],
                    key=lambda e: e[0][0])
    (s1, open1, close1), (s2, open2, close2) = events
    if s2[0] < s1[1]:
        raise ValueError(f"marked pooling needs non-overlapping spans, got {candidate.a} and {candidate.b}")
    out = (text[:s1[0]] + open1 + text[s1[0]:s1[1]] + close1 + text[s1[1]:s2[0]] + open2
           + text[s2[0]:s2[1]] + close2 + text[s2[1]:])
    first = (s1[0] + len(open1), s1[1] + len(open1))
    shift = len(open1) + len(close1) + len(open2)
    second = (s2[0] + shift, s2[1] + shift)
    return (out, first, second) if events[0][1] == MARKERS[0] else (out, second, first)


def model_inputs(candidates: Sequence[Candidate], marked: bool) -> list[tuple[str, Span, Span]]:
    """Per candidate, the text the model reads and the A/B spans inside it."""
    if marked:
        return [mark(c) for c in candidates]
    return [(c.text, tuple(c.a), tuple(c.b)) for c in candidates]


@torch.inference_mode()
def forward_units(backbone: Backbone, texts: Sequence[str], spans: Sequence[Sequence[Span]],
                  layers: int, batch_size: int = 32) -> list[np.ndarray]:
    """Encode each text once (length-sorted batches, so padding stays small) -> [1 + m, k, H] each."""
    out: list[np.ndarray] = [np.empty(0)] * len(texts)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    device = next(backbone.model.parameters()).device
    for first in range(0, len(order), batch_size):
        batch = order[first:first + batch_size]
        enc = backbone.tokenizer([texts[i] for i in batch], return_offsets_mapping=True, padding=True,
                                 truncation=True, return_tensors="pt")
        offsets = enc.pop("offset_mapping")
        enc = {k: v.to(device) for k, v in enc.items()}
        hidden = backbone.model(**enc, output_hidden_states=True).hidden_states
        units = pool_units(last_layers(hidden, layers), enc["attention_mask"], offsets.to(device), [spans[i] for i in batch])
        for i, u in zip(batch, units):
            out[i] = u.float().cpu().numpy()
    return out


def candidate_units(backbone: Backbone, candidates: Sequence[Candidate], config: PoolingConfig,
                    batch_size: int = 32, cache: UnitStore | None = None) -> tuple[np.ndarray, ...]:
    """(sentence, a, b) unit vectors, each [n, k, H], with one pass per distinct model input.

    With a cache, inputs whose spans are all stored are read from disk and never reach the model;
    an input with a new span is re-encoded once with the union of its old and new spans.
    """
    inputs = model_inputs(candidates, config.marked)
    wanted: dict[str, dict[Span, None]] = {}
    for text, a, b in inputs:
        wanted.setdefault(text, {}).update({a: None, b: None})
    found: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    todo: list[str] = []
    for text, spans in wanted.items():
        hit = cache.get(text) if cache is not None else None
        if hit is not None and hit[1].shape[1] == config.layers:
            stored = {tuple(s): None for s in hit[0].tolist()}
            if all(s in stored for s in spans):
                found[text] = hit
                continue
            spans.update(stored)
        todo.append(text)
    spans_todo = [list(wanted[t]) for t in todo]
    for text, spans, units in zip(todo, spans_todo,
                                  forward_units(backbone, todo, spans_todo, config.layers, batch_size)):
        span_arr = np.asarray(spans, dtype=np.int64).reshape(-1, 2)
        found[text] = (span_arr, units)
        if cache is not None:
            cache.put(text, span_arr, units)
    lookup = {text: {tuple(s): i + 1 for i, s in enumerate(arr.tolist())} for text, (arr, _) in found.items()}
    sentence = np.stack([found[t][1][0] for t, _, _ in inputs])
    a = np.stack([found[t][1][lookup[t][sa]] for t, sa, _ in inputs])
    b = np.stack([found[t][1][lookup[t][sb]] for t, _, sb in inputs])
    return sentence, a, b


def encode_candidates(backbone: Backbone, candidates: Sequence[Candidate], config: PoolingConfig = PoolingConfig(),
                      batch_size: int = 32, cache: UnitStore | None = None, per_layer: bool = False) -> np.ndarray:
    """float32 features [n, len(parts) * H] (or [n, k, len(parts) * H] with per_layer)."""
    if not len(candidates):
        width = backbone.model.config.hidden_size * len(config.parts)
        return np.zeros((0, config.layers, width) if per_layer else (0, width), dtype=np.float32)
    units = candidate_units(backbone, candidates, config, batch_size, cache)
    tensors = [torch.from_numpy(u) for u in units]
    return compose(*tensors, config.parts, per_layer=per_layer).numpy().astype(np.float32, copy=False)
