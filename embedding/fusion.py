"""Fusing several backbones (e.g. MiniLM + SmolLM2): standardised concatenation or LLMEmbed's Gram pooling.

concat: each backbone's features are standardised with statistics learned in fit, then concatenated.
Without it the decoder's few huge-activation dimensions would dominate any linear model.

gram (LLMEmbed "co-occurrence pooling"): every layer vector of every backbone ([n, k, D_i]) is
standardised, projected to a common `dim` and L2-normalised; the vectors are stacked into X and the
Gram matrix X·Xᵀ (cosines, upper triangle) is power-normalised with 2*sigmoid(s*x)-1 and concatenated
with the mean of the projected vectors. LLMEmbed learns its projections; here they are fixed Gaussian
random projections drawn from `seed` (Johnson-Lindenstrauss keeps the cosines), so nothing is trained
and the features are reproducible. dim defaults to 256 rather than LLMEmbed's 1024: the projection is
the cost of this method (n * vectors * D * dim multiply-adds) and random projections need no more
to keep cosines to about ±0.06.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.utils.validation import check_is_fitted

from core.types import Candidate
from embedding.features import CandidateEmbedder

METHODS = ("concat", "gram")


def _stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std over samples (and layers), std floored so constant features stay finite.

    In float64: decoder hidden states have outlier dimensions in the thousands with a small spread,
    where float32 sums lose the digits the standardised feature is made of."""
    axes = tuple(range(x.ndim - 1))
    x = np.asarray(x, dtype=np.float64)
    return x.mean(axis=axes), np.maximum(x.std(axis=axes), 1e-6)


def power_normalise(x: np.ndarray, scale: float) -> np.ndarray:
    """LLMEmbed's 2*sigmoid(s*x)-1: squashes to (-1, 1) while keeping the sign."""
    return 2.0 / (1.0 + np.exp(-scale * x)) - 1.0


class FusedEmbedder(TransformerMixin, BaseEstimator):
    """Several CandidateEmbedders fused into one feature matrix; see the module docstring."""

    def __init__(self, embedders: Sequence[CandidateEmbedder] = (), method: str = "concat", dim: int = 256,
                 scale: float = 5.0, seed: int = 0) -> None:
        self.embedders = embedders
        self.method = method
        self.dim = dim
        self.scale = scale
        self.seed = seed

    def _blocks(self, X: Sequence[Candidate]) -> list[np.ndarray]:
        if self.method == "gram":
            return [e.transform_layers(X) for e in self.embedders_]
        return [e.transform(X) for e in self.embedders_]

    def fit(self, X: Sequence[Candidate], y=None) -> FusedEmbedder:
        self._fit(X)
        return self

    def fit_transform(self, X: Sequence[Candidate], y=None, **fit_params) -> np.ndarray:
        return self._combine(self._fit(X))

    def _fit(self, X: Sequence[Candidate]) -> list[np.ndarray]:
        if self.method not in METHODS:
            raise ValueError(f"FusedEmbedder.method must be one of {METHODS}, got {self.method!r}")
        if not self.embedders:
            raise ValueError("FusedEmbedder needs at least one embedder")
        self.embedders_ = [clone(e).fit(X) for e in self.embedders]
        blocks = self._blocks(X)
        self.means_, self.stds_ = zip(*(_stats(b) for b in blocks))
        if self.method == "gram":
            rng = np.random.default_rng(self.seed)
            self.projections_ = [rng.standard_normal((b.shape[-1], self.dim)).astype(np.float32) for b in blocks]
            n_vectors = sum(b.shape[1] for b in blocks)
            self.n_features_out_ = self.dim + n_vectors * (n_vectors - 1) // 2
        else:
            self.n_features_out_ = sum(b.shape[-1] for b in blocks)
        return blocks

    def transform(self, X: Sequence[Candidate]) -> np.ndarray:
        check_is_fitted(self, "means_")
        return self._combine(self._blocks(X))

    def _combine(self, blocks: list[np.ndarray]) -> np.ndarray:
        standard = [(np.asarray(b, dtype=np.float64) - m) / s for b, m, s in zip(blocks, self.means_, self.stds_)]
        if self.method == "concat":
            return np.concatenate(standard, axis=-1).astype(np.float32)
        vectors = np.concatenate([b @ p for b, p in zip(standard, self.projections_)], axis=1)  # [n, V, dim]
        vectors /= np.maximum(np.linalg.norm(vectors, axis=-1, keepdims=True), 1e-12)
        gram = np.einsum("nvd,nwd->nvw", vectors, vectors)
        upper = np.triu_indices(gram.shape[1], k=1)
        co = power_normalise(gram[:, upper[0], upper[1]], self.scale)
        return np.concatenate([vectors.mean(axis=1), co], axis=1).astype(np.float32)
