"""Relation model: candidates, classifier, bundles, and the train/evaluate/extract CLI.

Names are imported on first use, so `python -m models --help` and the app start without the ML stack.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from models.bundle import load_model
    from models.classifier import RelationModel

__all__ = ["RelationModel", "load_model"]


def __getattr__(name: str):
    if name == "load_model":
        from models.bundle import load_model

        return load_model
    if name == "RelationModel":
        from models.classifier import RelationModel

        return RelationModel
    raise AttributeError(f"module 'models' has no attribute {name!r}")
