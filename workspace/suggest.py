"""Sources of suggested relations for the Label page (model in the loop).

A source maps sentence texts to proposed relations (origin "model", with model_id and score).
Two exist: the shipped relation model bundle, and the other systems' predictions a TwoSix file
carries in its "LLM" block. The page stores what a source proposes as pending suggestions, which
the annotator accepts (becoming a human label that keeps the score) or rejects.
"""
from __future__ import annotations

import gc
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from core.paths import DEFAULT_BUNDLE
from core.signs import sign_word
from core.spans import find_span
from core.types import PassageRelation

SuggestFn = Callable[[Sequence[str], Sequence[dict | None]], list[list[PassageRelation]]]
"""(sentence texts, their LLM blocks) -> proposed relations per sentence."""



@dataclass(frozen=True)
class SuggestionSource:
    """A named way to propose relations; `note` says why a better source is not in use, `cheap`
    whether a whole document can be asked at once (else the page asks sentence by sentence),
    `extractor` the models.extractor.Extractor behind a model source (None for the LLM block)."""

    name: str
    suggest: SuggestFn
    note: str | None = None
    cheap: bool = False
    extractor: Any = None

    def pipe(self, texts: Sequence[str], llms: Sequence[dict | None], batch_size: int | None = None,
             on_progress: Callable[[int, int], None] | None = None) -> list[list[PassageRelation]]:
        """suggest, with progress after every batch: a model source batches through Extractor.pipe
        (the one batching loop); the LLM block's source in plain slices of batch_size."""
        if self.extractor is None:
            step = max(1, batch_size or len(texts) or 1)
            found: list[list[PassageRelation]] = []
            for start in range(0, len(texts), step):
                found += self.suggest(texts[start:start + step], llms[start:start + step])
                if on_progress is not None:
                    on_progress(len(found), len(texts))
            return found
        model = self.extractor.pipe(list(texts), batch_size, on_progress)
        return [m + suggestions_from_llm_block(t, b) for m, t, b in zip(model, texts, llms)]


def suggestions_from_llm_block(text: str, llm: dict | None) -> list[PassageRelation]:
    """Relations proposed by the systems of a TwoSix "LLM" block, one per distinct relation.

    The block carries no confidence, so the score is the share of systems proposing the same
    (source, target, sign); model_id names the first system that proposed it ("llm:GPT3.5").
    Entries without a usable direction are skipped, not guessed.
    """
    if not llm:
        return []
    found: dict[tuple[str, str, int], tuple[PassageRelation, set[str]]] = {}
    for system, items in llm.items():
        for item in items or []:
            if not isinstance(item, dict):
                continue
            src, tgt = str(item.get("src", "")).strip(), str(item.get("tgt", "")).strip()
            sign = sign_word(item.get("direction"))
            if not src or not tgt or sign is None:
                continue
            key = (src.lower(), tgt.lower(), sign)
            if key not in found:
                rel = PassageRelation(src, tgt, sign, find_span(text, src), find_span(text, tgt),
                                      origin="model", model_id=f"llm:{system}")
                found[key] = (rel, set())
            found[key][1].add(system)
    n_systems = max(len(llm), 1)
    out = []
    for rel, systems in found.values():
        rel.score = round(len(systems) / n_systems, 4)
        out.append(rel)
    return out


def llm_source() -> SuggestionSource:
    """The stand-in source: other systems' predictions stored with the imported passages."""
    def suggest(texts: Sequence[str], llms: Sequence[dict | None]) -> list[list[PassageRelation]]:
        return [suggestions_from_llm_block(t, b) for t, b in zip(texts, llms)]

    return SuggestionSource("LLM block of the imported file", suggest, cheap=True)


def model_source(path: str = DEFAULT_BUNDLE, lexicon: Iterable[str] = ()) -> SuggestionSource:
    """The relation model bundle, plus the LLM block where a sentence has one; raises when the
    bundle cannot be loaded."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from models.extractor import Extractor  # imported late: the app must start without the ML stack

    source = SuggestionSource(f"relation model ({path})", lambda texts, llms: source.pipe(texts, llms),
                              extractor=Extractor.load(path, lexicon))
    source.suggest([WARM_UP], [None])  # spaCy and the tokenizer load lazily: now, not on an annotator's first sentence
    settle_heap()
    return source


WARM_UP = "Warmer water reduces the growth of young cod."
"""An invented sentence asked once when a model source is built, to load everything it loads lazily."""


def settle_heap() -> None:
    """Move every object alive now out of the garbage collector's reach (gc.freeze).

    Why: the model stack (torch, transformers, spaCy, scikit-learn) leaves about half a million
    long-lived objects, and each full collection walks them all: in the app that was a 0.1-0.4 s
    pause about three times per Label page view and its first key presses (2 shared cores, load
    2-6); frozen, 3-20 ms. They live as long as the process: there is nothing to collect among them.
    """
    gc.collect()
    gc.freeze()


def bundle_path(store=None) -> str:
    """The bundle the app uses: FUZZYMAP_MODEL, else the one made active on the Model page (kept
    in `store`), else models/default."""
    if os.environ.get("FUZZYMAP_MODEL"):
        return os.environ["FUZZYMAP_MODEL"]
    from data.store.settings import active_model

    return (active_model(store) if store is not None else None) or DEFAULT_BUNDLE


def best_source(path: str | None = None, lexicon: Iterable[str] = ()) -> SuggestionSource:
    """The model bundle when one loads, else the LLM-block stand-in with the reason as a note.

    `path` defaults to bundle_path().
    """
    path = path or bundle_path()
    fallback = llm_source()
    if not os.path.isdir(path):
        return replace(fallback, note=f"no model bundle available at {path}: showing the file's LLM predictions")
    try:
        return model_source(path, lexicon)
    except Exception as exc:  # a broken or missing bundle must not take the Label page down
        return replace(fallback, note=f"model bundle at {path} not usable ({exc}): showing the file's LLM predictions")


_ASKING = threading.Lock()
"""One question to a source at a time: the model is not asked from two threads at once, and a
sentence being scored in the background is not scored twice."""


_QUEUE_LOCK = threading.Lock()
_QUEUED: set[int] = set()
"""Sentence ids a background thread is about to ask about (no second thread for them)."""


def suggest_missing(store, rows: Sequence, source: SuggestionSource, done: set[int]) -> int:
    """Ask `source` about the sentences not asked yet and store its proposals as pending.

    `done` remembers sentence ids already asked in this session (also those that got nothing);
    sentences that already hold suggestions in the store are not asked again. Returns how many
    suggestions were added.
    """
    if all(r.id in done for r in rows):
        return 0
    with _ASKING:
        has = {s.sentence_id for s in _suggestions_of(store, rows)}
        # Reference-list entries are citations, not claims: the model is never asked about them.
        todo = [r for r in rows if r.id not in done and r.id not in has
                and not getattr(r, "is_reference", False)]
        added = 0
        if todo:
            proposals = source.suggest([r.text for r in todo], [r.llm for r in todo])
            for row, rels in zip(todo, proposals):
                if rels:
                    added += len(store.add_suggestions(row.id, rels))
        if getattr(getattr(source, "extractor", None), "model_id", None):  # a model read them: Compare scores it there
            from data.model_runs import record_runs

            record_runs(store, source.extractor.model_id, [r.id for r in rows if r.id not in done and r.id not in has])
        done.update(r.id for r in rows)
    return added


def prefetch(store, rows: Sequence, source: SuggestionSource, done: set[int]) -> threading.Thread | None:
    """Ask `source` about the coming sentences in a background thread, one at a time, so a slow
    model has their suggestions ready when the annotator gets there. Returns the thread (None
    when there is nothing to ask)."""
    with _QUEUE_LOCK:
        rows = [r for r in rows if r.id not in done and r.id not in _QUEUED]
        _QUEUED.update(r.id for r in rows)
    if not rows:
        return None

    def work() -> None:
        for row in rows:
            try:
                suggest_missing(store, [row], source, done)
            finally:
                with _QUEUE_LOCK:
                    _QUEUED.discard(row.id)

    thread = threading.Thread(target=work, name="fuzzymap-prefetch", daemon=True)
    thread.start()
    return thread


def _suggestions_of(store, rows: Sequence) -> list:
    """Suggestions in any state for the documents of `rows`."""
    docs = {r.document_id for r in rows}
    return [s for d in docs for s in store.suggestions(document_id=d, state=None)]


def sentence_scores(store, rows: Sequence, done: set[int]) -> list[float | None]:
    """Each sentence's best suggestion score (any state); 0 when asked and nothing was proposed,
    None when never asked. The input of workspace.labeling.order_positions."""
    best: dict[int, float] = {}
    for s in _suggestions_of(store, rows):
        best[s.sentence_id] = max(best.get(s.sentence_id, 0.0), s.score or 0.0)
    return [best.get(r.id, 0.0 if r.id in done else None) for r in rows]
