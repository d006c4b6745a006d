"""Embedding stage with the real MiniLM weights: masked one-pass pooling, cache, adapters, sklearn API."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from core.types import Candidate, LabeledExample, Direction
from embedding.backbones import clear_backbones, load_backbone, load_base_model, merge_lora
from embedding.cache import EmbeddingCache
from embedding.features import CandidateEmbedder
from embedding.pooling import PoolingConfig, encode_candidates, mark, pool_pairs, span_weights

pytestmark = pytest.mark.slow

SHORT = "Warmer winters raise tick numbers."
LONG = ("After several unusually dry seasons in the northern upland catchments, the regional water board "
        "reported that reduced groundwater recharge had lowered well levels across most farming districts.")


def cand(text: str, a: str, b: str) -> Candidate:
    i, j = text.index(a), text.index(b)
    return Candidate(text, (i, i + len(a)), (j, j + len(b)))


SHORT_PAIR = cand(SHORT, "Warmer winters", "tick numbers")
LONG_PAIR = cand(LONG, "reduced groundwater recharge", "well levels")
LONG_PAIR2 = cand(LONG, "dry seasons", "groundwater recharge")


@pytest.fixture(scope="module")
def minilm():
    return load_backbone("minilm")


@pytest.fixture()
def forward_calls(minilm):
    calls = []
    handle = minilm.model.register_forward_pre_hook(lambda module, args: calls.append(1))
    yield calls
    handle.remove()


def test_backbone_is_frozen_fast_encoder(minilm):
    assert minilm.kind == "encoder" and minilm.tokenizer.is_fast
    assert minilm.lora_targets == ["query", "value"]
    assert not minilm.model.training and minilm.model.dtype == torch.float32
    assert load_backbone("minilm") is minilm


def test_padding_does_not_change_embedding(minilm):
    alone = encode_candidates(minilm, [SHORT_PAIR], batch_size=2)
    batched = encode_candidates(minilm, [SHORT_PAIR, LONG_PAIR], batch_size=2)
    assert alone.shape == (1, 5 * 384)
    assert encode_candidates(minilm, []).shape == (0, 5 * 384)
    np.testing.assert_allclose(batched[0], alone[0], atol=1e-5, rtol=0)


def test_batched_pool_pairs_matches_one_at_a_time(minilm):
    config = PoolingConfig(layers=3, parts=("sentence", "a", "b", "a*b", "a-b", "|a-b|"))
    enc = minilm.tokenizer([SHORT, LONG], return_offsets_mapping=True, padding=True, return_tensors="pt")
    offsets = enc.pop("offset_mapping")
    with torch.no_grad():
        hidden = minilm.model(**enc, output_hidden_states=True).hidden_states
    batched = pool_pairs(hidden, enc["attention_mask"], offsets,
                         [(1, LONG_PAIR.a, LONG_PAIR.b), (0, SHORT_PAIR.a, SHORT_PAIR.b), (1, LONG_PAIR2.a, LONG_PAIR2.b)],
                         config).numpy()
    single = np.concatenate([encode_candidates(minilm, [c], config, batch_size=1)
                             for c in (LONG_PAIR, SHORT_PAIR, LONG_PAIR2)])
    np.testing.assert_allclose(batched, single, atol=1e-5, rtol=0)
    assert not np.allclose(batched[0], batched[2])  # same sentence, different pair


def test_sentence_mean_excludes_specials_and_padding(minilm):
    config = PoolingConfig(layers=2, parts=("sentence",))
    enc = minilm.tokenizer([SHORT], return_tensors="pt")
    with torch.no_grad():
        hidden = minilm.model(**enc, output_hidden_states=True).hidden_states
    expected = torch.stack(hidden[-2:]).mean(0)[0, 1:-1].mean(0).numpy()  # drop [CLS] and [SEP]
    got = encode_candidates(minilm, [SHORT_PAIR], config)[0]
    np.testing.assert_allclose(got, expected, atol=1e-5, rtol=0)


def test_span_overlap_and_nearest_fallback():
    offsets = torch.tensor([[0, 0], [0, 4], [5, 11], [12, 18], [0, 0]])
    content = torch.tensor([False, True, True, True, False])
    spans = torch.tensor([[2, 8], [11, 12], [30, 30]])  # two tokens; between tokens; past the end
    weights = span_weights(offsets, content, spans)
    assert weights[0].tolist() == [0, 0.5, 0.5, 0, 0]
    assert weights[1].tolist() == [0, 0, 1, 0, 0]  # touches token 2's end and token 3's start: nearest first
    assert weights[2].tolist() == [0, 0, 0, 1, 0]


def test_mark_wraps_spans_in_either_order():
    text, a, b = mark(SHORT_PAIR)
    assert text == "[A] Warmer winters [/A] raise [B] tick numbers [/B]."
    assert text[a[0]:a[1]] == "Warmer winters" and text[b[0]:b[1]] == "tick numbers"
    text, a, b = mark(Candidate(SHORT, SHORT_PAIR.b, SHORT_PAIR.a))
    assert text == "[B] Warmer winters [/B] raise [A] tick numbers [/A]."
    assert text[a[0]:a[1]] == "tick numbers" and text[b[0]:b[1]] == "Warmer winters"


def test_marked_variant_one_pass_per_pair(minilm, forward_calls):
    config = PoolingConfig(marked=True)
    x = encode_candidates(minilm, [LONG_PAIR, LONG_PAIR2], config, batch_size=1)
    assert len(forward_calls) == 2 and x.shape == (2, 5 * 384)
    assert not np.allclose(x, encode_candidates(minilm, [LONG_PAIR, LONG_PAIR2]))


def test_cache_returns_identical_arrays_without_forward_pass(minilm, forward_calls, tmp_path):
    pairs = [SHORT_PAIR, LONG_PAIR, LONG_PAIR2]
    first = encode_candidates(minilm, pairs, cache=EmbeddingCache(tmp_path, minilm, 4), batch_size=1)
    assert len(forward_calls) == 2  # one pass per distinct sentence, not per pair
    cache = EmbeddingCache(tmp_path, minilm, 4)
    again = encode_candidates(minilm, pairs, cache=cache)
    assert len(forward_calls) == 2 and cache.hits == 2
    np.testing.assert_array_equal(first, again)
    reused = cand(LONG, "dry seasons", "well levels")  # new pair of stored spans: still no pass
    encode_candidates(minilm, [reused], cache=cache)
    assert len(forward_calls) == 2
    encode_candidates(minilm, [cand(LONG, "farming districts", "well levels")], cache=cache)
    assert len(forward_calls) == 3  # a new span re-encodes its sentence once
    other_layers = EmbeddingCache(tmp_path, minilm, 2)
    assert other_layers.folder != cache.folder


def test_corrupt_cache_file_is_a_miss(minilm, tmp_path):
    cache = EmbeddingCache(tmp_path, minilm, 4)
    cache.put(SHORT, np.zeros((0, 2), dtype=np.int64), np.zeros((1, 4, 384), dtype=np.float32))
    cache._path(SHORT).write_bytes(b"not a zip")
    assert cache.get(SHORT) is None


def test_embedder_is_a_sklearn_transformer(tmp_path):
    embedder = CandidateEmbedder(layers=2, parts=("a", "b", "a*b"), cache_dir=tmp_path)
    params = embedder.get_params()
    assert params["layers"] == 2 and params["parts"] == ("a", "b", "a*b")
    twin = clone(embedder)
    assert twin.get_params() == params and not hasattr(twin, "config_")
    examples = [LabeledExample(SHORT_PAIR, Direction.A_TO_B), LabeledExample(LONG_PAIR, Direction.A_TO_B),
                LabeledExample(LONG_PAIR2, Direction.NONE),
                LabeledExample(Candidate(SHORT, SHORT_PAIR.b, SHORT_PAIR.a), Direction.NONE)]
    pipe = make_pipeline(embedder, LogisticRegression(max_iter=200)).fit(examples, [e.label for e in examples])
    assert pipe.predict_proba([e.candidate for e in examples]).shape == (4, 2)
    x = pipe[0].transform([SHORT_PAIR])
    assert x.dtype == np.float32 and x.shape == (1, 3 * 384) == (1, pipe[0].n_features_out_)
    assert len(pipe[0].get_feature_names_out()) == 3 * 384
    assert pipe[0].transform_layers([SHORT_PAIR]).shape == (1, 2, 3 * 384)
    with pytest.raises(TypeError, match="Candidate"):
        pipe[0].transform(["a sentence"])


def test_bad_names_fail_clearly(tmp_path):
    with pytest.raises(ValueError, match="not 'minilm'"):
        load_backbone("no-such-model/anywhere")
    with pytest.raises(ValueError, match="config.json"):
        load_backbone(str(tmp_path))
    with pytest.raises(ValueError, match="adapter_model.safetensors"):
        load_backbone("minilm", adapter=tmp_path)
    with pytest.raises(ValueError, match="parts"):
        PoolingConfig(parts=("sentence", "cls"))


def test_saved_adapter_reloads_identically(minilm, tmp_path):
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(0)
    _, base, _ = load_base_model("minilm")
    tuned = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, target_modules=minilm.lora_targets,
                                            init_lora_weights=False))
    tuned.save_pretrained(tmp_path / "adapter")
    assert (tmp_path / "adapter" / "adapter_model.safetensors").is_file()
    pairs = [SHORT_PAIR, LONG_PAIR]
    base_x = encode_candidates(minilm, pairs)
    first = load_backbone("minilm", adapter=tmp_path / "adapter")
    assert first.adapter_hash and first is not minilm
    x1 = encode_candidates(first, pairs)
    clear_backbones()
    second = load_backbone("minilm", adapter=tmp_path / "adapter")
    assert second is not first and second.adapter_hash == first.adapter_hash
    np.testing.assert_array_equal(encode_candidates(second, pairs), x1)
    assert np.abs(x1 - base_x).max() > 1e-2


def test_adapter_merge_matches_peft(tmp_path):
    """merge_lora (no peft import at load time) gives peft's own merged weights, every layer adapted."""
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(0)
    _, base, _ = load_base_model("minilm")
    original = {k: v.clone() for k, v in base.state_dict().items()}
    tuned = get_peft_model(base, LoraConfig(r=4, lora_alpha=16, target_modules=["query", "key", "value", "dense"],
                                            init_lora_weights=False))
    tuned.save_pretrained(tmp_path / "adapter")
    want = tuned.merge_and_unload().state_dict()
    _, fresh, _ = load_base_model("minilm")
    got = merge_lora(fresh, tmp_path / "adapter").state_dict()
    assert want.keys() == got.keys()
    for key in want:
        torch.testing.assert_close(got[key], want[key], atol=1e-6, rtol=1e-5)
    changed = {k for k in want if not torch.equal(want[k], original[k])}
    assert "encoder.layer.5.intermediate.dense.weight" in changed and "encoder.layer.0.attention.self.key.weight" in changed


def test_foreign_adapter_is_refused(tmp_path):
    from safetensors.torch import save_file

    folder = tmp_path / "adapter"
    folder.mkdir()
    (folder / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "r": 2, "lora_alpha": 4}))
    save_file({"base_model.model.encoder.layer.0.attention.self.nope.lora_A.weight": torch.zeros(2, 384),
               "base_model.model.encoder.layer.0.attention.self.nope.lora_B.weight": torch.zeros(384, 2)},
              str(folder / "adapter_model.safetensors"))
    with pytest.raises(ValueError, match="cannot be applied"):
        load_backbone("minilm", adapter=folder)
    (folder / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "r": 2, "lora_alpha": 4,
                                                            "use_dora": True}))
    with pytest.raises(ValueError, match="only plain LoRA"):
        load_backbone("minilm", adapter=folder)
