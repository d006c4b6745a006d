"""The Label page's logic as plain functions, so it can be unit-tested without a browser.

Word chips, picking source/target, "next unlabeled" and sentence ordering for active learning
live here; the Streamlit page only calls these and renders (safe display of text: app.markup).
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from core.names import clean_name
from core.spans import find_span
from core.types import Span
from data.roles import Acting

_WORD = re.compile(r"\w(?:[\w'’%/.-]*\w)?%?")
ORDERS = ("document", "likely causal", "uncertain")
"""Sentence orders the Label page offers: reading order, most-likely-causal first, or the
sentences the model is least sure about first (active learning)."""
DONE_STATUSES = ("labeled", "no-relation", "discarded")


@dataclass(frozen=True)
class Pick:
    """A concept chosen for a relation end: its text and, when it occurs in the sentence, its span."""

    text: str
    span: Span | None = None


def word_spans(text: str) -> list[Span]:
    """Offsets of the words of `text` (punctuation dropped): the word chips of the Label page."""
    return [m.span() for m in _WORD.finditer(text)]


def span_from_words(words: Sequence[Span], first: int, last: int) -> Span:
    """The span from one word chip to another, in either click order (two clicks = any span)."""
    lo, hi = sorted((first, last))
    return (words[lo][0], words[hi][1])


def pick_from_span(text: str, span: Span) -> Pick:
    """A Pick for a span of the sentence, with its text trimmed of surrounding blanks."""
    start, end = span
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Pick(text[start:end], (start, end))


def pick_from_text(sentence: str, concept: str) -> Pick:
    """A typed concept: located in the sentence when it occurs there, else kept as free text."""
    concept = clean_name(concept)
    return Pick(concept, find_span(sentence, concept))


def advance_pick(source: Pick | None, target: Pick | None, new: Pick) -> tuple[Pick | None, Pick | None]:
    """Where a newly chosen concept goes: source first, then target, then a fresh start.

    This is what makes "digit, digit, Enter" a whole relation: the first chip becomes the
    source, the second the target; a third choice starts a new pair. The source chosen again as
    the target changes nothing: a concept cannot cause itself, and a key pressed twice (or
    delivered twice while the page redraws) must not turn into one.
    """
    if source is None:
        return new, None
    if target is None:
        return (source, None) if new == source else (source, new)
    return new, None


def pair_to_save(source: Pick | None, target: Pick | None,
                 replaced: tuple[Pick, Pick] | None) -> tuple[tuple[Pick, Pick] | None, bool]:
    """(the pair a Save click saves, whether the current picks are a new pair begun after it).

    Clicks made quickly reach the server together, and Streamlit then runs their callbacks in an
    order of its own, not the order clicked (keys do not: app.keys queues them in order). So the
    save runs after every callback of its run, on the pair complete by then; failing that, on the
    complete pair a new first pick replaced in that same run (the Save came before that pick).
    None: nothing complete to save.
    """
    if source is not None and target is not None:
        return (source, target), False
    if replaced is not None:
        return replaced, True
    return None, False


KEY_NAMES = frozenset([*"123456789", *"saxendug", "Enter", "Escape", "ArrowUp", "ArrowDown", "ArrowLeft",
                       "ArrowRight", "Shift+ArrowUp", "Shift+ArrowDown"])
"""The Label page's keys, as the page's key listener (app.keys) names them."""


def unread_keys(queue: object, seen: tuple[str, int] | None, session: str) -> tuple[list[str], tuple[str, int]]:
    """(the keys of the browser's key queue not applied yet, in typing order; the new `seen` mark).

    The browser numbers each key it takes and sends every key not yet acknowledged, so a message
    that merges several keys, or repeats one already applied, still yields each key once and in
    the order typed. `queue` is the newest queue the listener has sent, {"tab": id, "keys": [[number, name,
    session], ...]}, each key stamped with the page session it was typed under (the `session` the
    page hands the listener); it comes from the browser, so anything malformed counts as no
    keys. `seen` is (tab, last number applied), None while this session has applied no queue: then
    the keys stamped with this `session` are new (they may arrive while the page's first run is
    going), and keys stamped with another session belong to that one (a browser that reconnected)
    and are not applied. A new tab id means the browser's numbering started again (a reload).
    """
    tab, keys = None, []
    if isinstance(queue, dict) and isinstance(queue.get("tab"), str) and isinstance(queue.get("keys"), list):
        tab = queue["tab"]
        keys = [(k[0], k[1], k[2]) for k in queue["keys"] if isinstance(k, list) and len(k) == 3
                and type(k[0]) is int and k[1] in KEY_NAMES and isinstance(k[2], str)]
    if tab is None:
        return [], seen or ("", 0)
    last_tab, last = seen or (tab, max((n for n, _, typed_in in keys if typed_in != session), default=0))
    if tab != last_tab:
        last = 0
    fresh = sorted((n, name) for n, name, _ in keys if n > last)
    return [name for _, name in fresh], (tab, max([last, *(n for n, _ in fresh)]))


def neighbours(statuses: Sequence[str], skip: Sequence[bool], order: Sequence[int],
               pos: int) -> tuple[int | None, int | None, int | None]:
    """(back, next, next unlabeled) positions from `pos` along the walked order; None where there is none."""
    k = list(order).index(pos)
    return (order[k - 1] if k > 0 else None, order[k + 1] if k + 1 < len(order) else None,
            next_unlabeled(statuses, pos, skip, order))


def concept_chips(text: str, lexicon: Iterable[str] = ()) -> list[Span]:
    """Candidate concept spans of a sentence, in reading order, without duplicates.

    Uses the model package's noun-chunk finder when it is installed; otherwise only concepts of
    the lexicon that occur in the sentence (the page still offers word chips and typing).
    """
    try:
        from models.candidates import chip_spans
    except ImportError:
        spans = [s for s in (find_span(text, c) for c in lexicon) if s is not None]
    else:
        spans = list(chip_spans(text, lexicon))
    return sorted(set(spans))


def stable_chips(previous: Sequence[Span], fresh: Sequence[Span]) -> list[Span]:
    """The chips of a sentence after its lexicon grew (a save adds concepts): the chips shown so
    far keep their numbers, so a digit typed from memory picks what it picked before; spans found
    only now come after them."""
    return [*previous, *(s for s in fresh if s not in previous)]


def next_unlabeled(statuses: Sequence[str], current: int | None, skip: Sequence[bool] = (),
                   order: Sequence[int] | None = None) -> int | None:
    """Position of the next sentence still "unseen" after `current`, wrapping around; None if none.

    `order` is the sequence the annotator walks (reading order by default; see order_positions);
    `current` None starts from its beginning. `skip` marks sentences never offered for labeling
    (the reference list of a paper).
    """
    seq = list(order) if order is not None else list(range(len(statuses)))
    k = seq.index(current) if current is not None else len(seq) - 1
    for step in range(1, len(seq) + 1):
        i = seq[(k + step) % len(seq)]
        if statuses[i] == "unseen" and not (skip and skip[i]):
            return i
    return None


def order_positions(scores: Sequence[float | None], order: str) -> list[int]:
    """Sentence positions in the requested order; `scores` is each sentence's best model score.

    "likely causal" puts high scores first; "uncertain" puts scores nearest 0.5 first (the
    classic uncertainty sampling of active learning). Unscored sentences go last; ties keep
    reading order, so the result is deterministic.
    """
    positions = range(len(scores))
    if order == "document":
        return list(positions)
    if order == "likely causal":
        key = lambda i: (scores[i] is None, -(scores[i] or 0.0), i)  # noqa: E731
    elif order == "uncertain":
        key = lambda i: (scores[i] is None, abs((scores[i] or 0.0) - 0.5), i)  # noqa: E731
    else:
        raise ValueError(f"unknown order {order!r}; choose one of {ORDERS}")
    return sorted(positions, key=key)


def progress(n_done: int, n_total: int) -> float:
    """Share of sentences dealt with (labeled, no relation or discarded), 0 for an empty document."""
    return n_done / n_total if n_total else 0.0


def word_chip_step(anchor: int | None, selected: Sequence[int]) -> tuple[int | None, tuple[int, int] | None]:
    """One click on the word chips: returns (new anchor, finished (first, last) word pair or None).

    The chips are a multi-select showing the anchor selected: a click on another word gives two
    selected words (the span between them); a second click on the anchor deselects it (a
    one-word span). So any span takes two clicks.
    """
    chosen = sorted(set(selected))
    if len(chosen) >= 2:
        return None, (chosen[0], chosen[-1])
    if len(chosen) == 1:
        if anchor is None or anchor == chosen[0]:
            return chosen[0], None
        return None, tuple(sorted((anchor, chosen[0])))
    if anchor is not None:
        return None, (anchor, anchor)
    return None, None


def apply_table_edits(store, change: dict, relation_ids: Sequence[int], annotator: Acting) -> list[str]:
    """Writes a st.data_editor change set of the relations table to the store.

    `change` is the editor's state ({"edited_rows": {row: {column: value}}, "deleted_rows": [row]});
    row numbers index `relation_ids`. Deleting, swapping (the "swap" checkbox) and editing
    source/target/sign/strength/note each become one undoable store action. Returns the error
    lines of edits the store refused (e.g. an empty concept); the other edits are still saved.
    """
    from core.errors import InputError

    errors = []

    def attempt(step) -> None:
        try:
            step()
        except InputError as exc:  # also NotAllowed: a signed-in user's role does not cover the row
            errors.append(str(exc))

    for row in change.get("deleted_rows", []):
        attempt(lambda rid=relation_ids[row]: store.delete_relation(rid, annotator))
    for row, edit in change.get("edited_rows", {}).items():
        rid = relation_ids[int(row)]
        edit = dict(edit)
        if edit.pop("swap", False):
            attempt(lambda: store.swap_relation(rid, annotator))
        fields = {k: v for k, v in edit.items() if k in ("source", "target", "strength", "note")}
        if "sign" in edit:
            fields["sign"] = -1 if edit["sign"] in ("−", "-") else 1
        if fields:
            attempt(lambda: store.update_relation(rid, annotator=annotator, **fields))
    return errors
