"""Embedding stage: backbones, one-pass pooling, fusion and an on-disk cache."""

DEFAULT_PARTS = ("sentence", "a", "b", "a*b", "a-b")
"""The parts of a candidate pooled into its features unless a setting names others (here, free of
torch, so settings can name it without loading the model stack)."""
