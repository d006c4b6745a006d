"""Relation model: candidates, classifier, bundles and the train / evaluate / extract CLI."""
