"""The one extraction path: sentences in, model relations out, in length-sorted batches.

The CLI (`python -m models extract` and `extract-corpus`), the Extract page and the Label page's
suggestions all call Extractor.pipe, so batching, progress and speed settings live here only.
Why length-sorted: a batch is padded to its longest sentence, and on a paper of mixed sentence
lengths sorting cuts the padded tokens the backbone computes; the order given back is the input's.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from core.batching import length_batches
from core.types import ParsedDocument, ParsedSentence, PassageRelation

if TYPE_CHECKING:
    from models.classifier import RelationModel
    from models.writer import RelationWriter

Progress = Callable[[int, int], None]
"""on_progress(done, total): sentences finished so far, of how many."""

BATCH = 256
"""Sentences per model call when the caller does not ask for a progress bar that moves often:
large enough that spaCy and the backbone run full batches, small enough that memory stays flat."""


@dataclass
class ExtractSettings:
    """How extraction runs (peft style, passed in)."""

    batch_size: int = BATCH
    threshold: float | None = None
    """P(causal) a relation needs; None: the bundle's tuned "extract" threshold."""
    embed_batch: int = 256
    """Sentences per forward pass of the backbone (within embedding.pooling.MAX_BATCH_CHARS), set
    on the model's embedders when the Extractor is made. Length-sorted, so padding stays small:
    on the 600-sentence bench paper 256 took about half the time of 32 with two busy cores, the
    same relations."""


class Extractor:
    """A relation model bundle as a callable extraction pipeline (one model load, many documents):
    the pair scorer (RelationModel) or the opt-in relation writer (models.writer)."""

    def __init__(self, model: RelationModel | RelationWriter, lexicon: Iterable[str] = (),
                 settings: ExtractSettings | None = None) -> None:
        self.model = model
        self.lexicon = sorted({t for t in lexicon if t and t.strip()})
        self.settings = settings or ExtractSettings()
        for head in (getattr(model, name, None) for name in ("pair_", "sign_", "sentence_")):
            if head is not None and "embed" in head[0].named_transformers:
                head.set_params(features__embed__encode__batch_size=self.settings.embed_batch)

    @classmethod
    def load(cls, path: str | Path, lexicon: Iterable[str] = (), settings: ExtractSettings | None = None,
             ahead: Sequence[Sequence[str]] = ()) -> Extractor:
        """Load a bundle folder (tampered or foreign bundles raise InputError).

        ahead: the texts of each document the caller will pass to document() (its non-reference
        sentences) or pipe(), with the default batch size: their candidate concepts are found in a
        second process while the model loads (models.prefetch), same relations, less waiting."""
        from models.bundle import load_model

        settings = settings or ExtractSettings()
        if ahead:  # a relation-writer bundle states no candidate settings: prefetch_candidates starts nothing
            from models.prefetch import prefetch_candidates

            size = settings.batch_size
            prefetch_candidates(path, [[texts[i] for i in batch] for texts in ahead
                                       for batch in length_batches(texts, size)], lexicon)
        return cls(load_model(path), lexicon, settings)

    @property
    def model_id(self) -> str | None:
        return self.model.model_id

    def pipe(self, texts: Sequence[str], batch_size: int | None = None,
             on_progress: Progress | None = None) -> list[list[PassageRelation]]:
        """Relations per text (origin "model", model_id, score), in the order of texts.

        Texts are processed shortest first in batches of batch_size (at most the model's max_batch,
        where it has one: the relation writer's); on_progress(done, total) is called after each batch. A relation does not depend on which batch its sentence was in."""
        out: list[list[PassageRelation]] = [[] for _ in texts]
        done = 0
        size = batch_size or self.settings.batch_size
        for batch in length_batches(texts, min(size, getattr(self.model, "max_batch", size))):
            found = self.model.extract([texts[i] for i in batch], lexicon=self.lexicon,
                                       threshold=self.settings.threshold, chunk=len(batch))
            for i, rels in zip(batch, found):
                out[i] = rels
            done += len(batch)
            if on_progress is not None:
                on_progress(done, len(texts))
        if on_progress is not None and not texts:
            on_progress(0, 0)
        return out

    def document(self, doc: ParsedDocument, batch_size: int | None = None,
                 on_progress: Progress | None = None) -> list[list[PassageRelation]]:
        """Relations aligned with doc.sentences; reference-list sentences are not read and get []."""
        todo = [i for i, s in enumerate(doc.sentences) if not s.is_reference]
        found = self.pipe([doc.sentences[i].text for i in todo], batch_size, on_progress)
        out: list[list[PassageRelation]] = [[] for _ in doc.sentences]
        for i, rels in zip(todo, found):
            out[i] = rels
        return out


def with_relations(doc: ParsedDocument, found: Sequence[Sequence[PassageRelation]]) -> list[ParsedSentence]:
    """The sentences of doc that the model read, each carrying what it found, for writing as TwoSix
    (a sentence read and found empty is "no-relation"; a TwoSix input keeps every passage)."""
    twosix = doc.format == "twosix"
    out = []
    for sent, rels in zip(doc.sentences, found):
        if sent.is_reference:
            continue
        rels = [PassageRelation(**{**r.__dict__, "extra": {**(r.extra or {}), "score": r.score}}) for r in rels]
        if rels or twosix:
            out.append(ParsedSentence(sent.text, sent.page, sent.start, sent.end,
                                      status="labeled" if rels else "no-relation", relations=rels, llm=sent.llm))
    return out
