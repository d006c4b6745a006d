"""CandidateEmbedder: the embedding stage as a scikit-learn transformer, so the relation model is a Pipeline.

It holds only its settings: the backbone itself lives in the per-process cache of load_backbone,
so cloning, grid searches and saving a bundle never copy model weights.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from core.types import Candidate, LabeledExample
from embedding import DEFAULT_PARTS
from embedding.backbones import Backbone, load_backbone
from embedding.cache import EmbeddingCache
from embedding.pooling import PoolingConfig, encode_candidates



def as_candidates(X: Sequence[Candidate | LabeledExample]) -> list[Candidate]:
    """Accept candidates or labelled examples (training data) alike."""
    out = []
    for item in X:
        item = item.candidate if isinstance(item, LabeledExample) else item
        if not isinstance(item, Candidate):
            raise TypeError(f"CandidateEmbedder expects Candidate or LabeledExample items, got {type(item).__name__}")
        out.append(item)
    return out


class CandidateEmbedder(TransformerMixin, BaseEstimator):
    """Candidates -> float32 features [n, len(parts) * hidden], one forward pass per distinct sentence.

    cache_dir: folder of the on-disk embedding cache (None: no disk cache).
    """

    def __init__(self, backbone: str = "minilm", adapter: str | Path | None = None, layers: int = 4,
                 parts: tuple[str, ...] = DEFAULT_PARTS, marked: bool = False,
                 cache_dir: str | Path | None = None, batch_size: int = 32) -> None:
        self.backbone = backbone
        self.adapter = adapter
        self.layers = layers
        self.parts = parts
        self.marked = marked
        self.cache_dir = cache_dir
        self.batch_size = batch_size

    def fit(self, X: Sequence[Candidate] | None = None, y=None) -> CandidateEmbedder:
        """Nothing is learned: fit validates the settings and loads the backbone once."""
        self.config_ = PoolingConfig(layers=self.layers, parts=tuple(self.parts), marked=self.marked)
        model = self.get_backbone()
        self.adapter_hash_ = model.adapter_hash
        self.hidden_size_ = int(model.model.config.hidden_size)
        self.n_features_out_ = self.hidden_size_ * len(self.config_.parts)
        return self

    def get_backbone(self) -> Backbone:
        return load_backbone(self.backbone, self.adapter)

    def _cache(self, model: Backbone) -> EmbeddingCache | None:
        return EmbeddingCache(self.cache_dir, model, self.layers) if self.cache_dir is not None else None

    def _encode(self, X: Sequence[Candidate], per_layer: bool) -> np.ndarray:
        check_is_fitted(self, "config_")
        model = self.get_backbone()
        return encode_candidates(model, as_candidates(X), self.config_, self.batch_size, self._cache(model),
                                 per_layer=per_layer)

    def transform(self, X: Sequence[Candidate]) -> np.ndarray:
        return self._encode(X, per_layer=False)

    def transform_layers(self, X: Sequence[Candidate]) -> np.ndarray:
        """[n, layers, len(parts) * hidden]: one feature vector per layer (for Gram fusion)."""
        return self._encode(X, per_layer=True)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        check_is_fitted(self, "config_")
        return np.asarray([f"{part}_{i}" for part in self.config_.parts for i in range(self.hidden_size_)],
                          dtype=object)
