"""Candidate concepts found by spaCy in a second process while this one loads the relation model.

A fresh `python -m models extract` spends seconds importing torch, transformers and scikit-learn
and loading the backbone, on one core. Importing spaCy, loading its pipeline and parsing the paper
need none of that: started first, in a process of their own (a thread would wait on the GIL), they
run on the other core, and the candidates are ready before the model is. The second process runs
make_candidates_batch on exactly the batches extraction will ask for, so the relations are the
ones this process would find; if it fails, this process parses the texts itself.
"""
from __future__ import annotations

import json
import multiprocessing
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from models.candidates import CandidateSettings, expect, make_candidates_batch


def candidate_settings(bundle: str | Path) -> CandidateSettings | None:
    """The candidate settings the bundle's config.json states; None when it cannot be read. Read
    before the bundle is checked: a wrong guess only means no prefetch, since make_candidates_batch
    uses what was found ahead only for exactly these settings."""
    try:
        config = json.loads((Path(bundle) / "config.json").read_text(encoding="utf-8"))
        return CandidateSettings.from_config(config["candidates"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def prefetch_candidates(bundle: str | Path, batches: Sequence[Sequence[str]], lexicon: Iterable[str] = ()) -> bool:
    """Start finding the candidates of each batch of texts in a second process; returns whether it
    was started (not for an unreadable bundle config or no texts)."""
    settings = candidate_settings(bundle)
    batches = [list(b) for b in batches if len(b)]
    if settings is None or not batches:
        return False
    lex = sorted(set(lexicon))
    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    for texts in batches:
        expect(texts, pool.submit(make_candidates_batch, texts, lex, settings), lex, settings)
    pool.shutdown(wait=False)  # the submitted batches still run; the process ends after them
    return True
