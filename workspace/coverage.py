"""Compare page logic: how much of what a reference judged a model has read, and running it on the rest.

Why: a model is scored only on sentences it was run on (data.model_runs), so a document an
annotator judged but nobody asked the model about would silently drop out of its score. Compare
counts those sentences and runs the model on exactly them, through the one extraction path
(SuggestionSource.pipe, i.e. models.extractor.Extractor.pipe), storing what it proposes as
pending suggestions like the Label page does; afterwards the model covers every judged sentence.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.metrics import Score
from data.model_runs import record_runs
from workspace.agreement import SystemOutput, judged_sentences, system_outputs
from workspace.extraction import BATCH, queue_suggestions

if TYPE_CHECKING:
    from data.store import SentenceRow, Store
    from workspace.suggest import SuggestionSource


@dataclass(frozen=True)
class Coverage:
    """A model's reach over the sentences a reference judged."""

    model_id: str
    judged: int
    missing: tuple[SentenceRow, ...]
    """Judged sentences the model was never run on, in document order."""

    @property
    def covered(self) -> int:
        return self.judged - len(self.missing)


def model_coverage(store: Store, reference: str, document_ids: Iterable[int] | None, model_id: str,
                   outputs: Sequence[SystemOutput] | None = None) -> Coverage:
    """Which of the reference's judged sentences the model has read (run on, or proposed for).
    outputs: system_outputs of these documents, when the caller has read them already (the Compare
    page scores the same systems next)."""
    judged = judged_sentences(store, reference, document_ids)
    if outputs is None:
        outputs = system_outputs(store, sorted({s.document_id for s in judged}))
    ran = next((o.covered for o in outputs if o.kind == "model" and o.name == model_id), set())
    return Coverage(model_id, len(judged), tuple(s for s in judged if s.id not in ran))


def run_on_missing(store: Store, source: SuggestionSource, coverage: Coverage,
                   on_progress: Callable[[int, int], None] | None = None, batch_size: int = BATCH) -> int:
    """Run the source's model on the coverage's missing sentences, queue its proposals as pending
    suggestions and record the runs; returns how many suggestions were new. on_progress(done,
    total) after every batch. Reference-list sentences are recorded without asking (see
    data.model_runs)."""
    model_id = getattr(source.extractor, "model_id", None)
    if model_id != coverage.model_id:
        raise ValueError(f"the source runs model {model_id!r}, the coverage is of {coverage.model_id!r}")
    todo = [s for s in coverage.missing if not s.is_reference]
    found = source.pipe([s.text for s in todo], [s.llm for s in todo], batch_size, on_progress)
    added = sum(queue_suggestions(store, row.id, rels) for row, rels in zip(todo, found))
    record_runs(store, model_id, [s.id for s in coverage.missing])
    return added


def scored_on(result: Score, judged: int) -> str:
    """'scored on N of M judged sentences', for the Compare table."""
    return f"scored on {result.n_sentences} of {judged} judged sentences"


def bundle_model_id(path: str) -> str | None:
    """The model id a bundle's relations carry, read without loading its weights; None when the
    folder is no usable bundle."""
    from core.errors import InputError
    from models.bundle import read_config

    try:
        return read_config(path).get("model_id")
    except (InputError, OSError):
        return None
