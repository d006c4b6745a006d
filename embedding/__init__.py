"""Embedding stage: backbones, one-pass pooling, fusion and an on-disk cache."""
