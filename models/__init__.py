"""Relation model: candidates, classifier, bundles, and the train/evaluate/extract CLI."""
from models.bundle import load_model
from models.classifier import RelationModel

__all__ = ["RelationModel", "load_model"]
