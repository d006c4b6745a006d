"""Checks a parsed document must pass before anything is stored or written: names, texts, spans,
signs, strengths and marks, each failure one InputError line naming the file and place."""
from __future__ import annotations

from core.errors import InputError
from core.spans import find_span
from core.types import (
    MARKS, ORIGINS, STATUSES, STRENGTHS, SUGGESTION_STATES, Mark, ParsedDocument, ParsedSentence, PassageRelation,
    PassageSuggestion, Span,
)
from data.schema import NAME_LEN


def _name(value: object, what: str, name: str, where: str = "") -> str:
    """A stripped non-empty string of at most NAME_LEN characters (annotator, concept)."""
    text = _text(value, what, name, where)
    if len(text) > NAME_LEN:
        raise _bad(name, where, f"{what} is longer than {NAME_LEN} characters")
    return text


def _text(value: object, what: str, name: str, where: str = "") -> str:
    if not isinstance(value, str) or not value.strip():
        raise _bad(name, where, f"{what} must be a non-empty string")
    return value.strip()


def _bad(name: str, where: str, reason: str) -> InputError:
    return InputError(name, f"{where}: {reason}" if where else reason)


def check_relation(rel: PassageRelation, text: str, name: str,
                   where: str = "") -> tuple[str, str, Span | None, Span | None]:
    """Validates a relation for a sentence `text` without touching a database; returns the stripped
    concept names and their spans (found in the text where not given). Raises InputError(name, ...)."""
    if not isinstance(rel, PassageRelation):
        raise _bad(name, where, "relation is not a PassageRelation")
    src = _text(rel.src, "source", name, where)
    tgt = _text(rel.tgt, "target", name, where)
    if rel.sign not in (1, -1) or isinstance(rel.sign, bool):
        raise _bad(name, where, f"sign must be +1 or -1, not {rel.sign!r}")
    if rel.strength not in STRENGTHS:
        raise _bad(name, where, f"strength {rel.strength!r} is not one of {', '.join(STRENGTHS)}")
    if rel.origin not in ORIGINS:
        raise _bad(name, where, f"origin {rel.origin!r} is not one of {', '.join(ORIGINS)}")
    if rel.score is not None and (not isinstance(rel.score, (int, float)) or isinstance(rel.score, bool)
                                  or not 0 <= rel.score <= 1):  # NaN fails every comparison
        raise _bad(name, where, f"score must be a number from 0 to 1, not {rel.score!r}")
    if rel.annotator is not None:
        _name(rel.annotator, "annotator", name, where)
    for key, longest in (("model_id", NAME_LEN), ("note", None), ("created_at", 40), ("updated_at", 40)):
        value = getattr(rel, key)
        if value is not None and (not isinstance(value, str) or (longest and len(value) > longest)):
            raise _bad(name, where, f"{key} must be a string" + (f" of at most {longest} characters" if longest else ""))
    if rel.extra is not None and not isinstance(rel.extra, dict):
        raise _bad(name, where, "extra must be an object")
    spans = []
    for concept, span in ((src, rel.src_span), (tgt, rel.tgt_span)):
        if span is None:
            span = find_span(text, concept)
        elif not (isinstance(span, (tuple, list)) and len(span) == 2
                  and all(isinstance(v, int) for v in span) and 0 <= span[0] < span[1] <= len(text)):
            raise _bad(name, where, f"span {span!r} of {concept!r} is not inside the sentence")
        spans.append(None if span is None else (span[0], span[1]))
    return src, tgt, spans[0], spans[1]


_MAX_INT = 2**31
"""Offsets and page numbers must fit a 32-bit INTEGER column on every backend."""


def check_document(doc: ParsedDocument, name: str | None = None, where: str = "") -> None:
    """Everything the store will refuse, found before anything is written (also used by the JSONL
    reader, so a bad file is named at upload). Raises InputError(name or doc.filename, ...)."""
    name = name or getattr(doc, "filename", None) or "document"
    at = f"{where}, " if where else ""
    if not isinstance(doc, ParsedDocument):
        raise _bad(name, where, "not a ParsedDocument")
    if not isinstance(doc.filename, str) or not isinstance(doc.sha256, str) or not doc.sha256 or len(doc.sha256) > 200:
        raise _bad(name, where, "filename must be a string and sha256 a non-empty string of at most 200 characters")
    if doc.year is not None and (not isinstance(doc.year, (int, str)) or isinstance(doc.year, bool)
                                 or (isinstance(doc.year, int) and not -9999 <= doc.year <= 9999)
                                 or (isinstance(doc.year, str) and len(doc.year) > 32)):
        raise _bad(name, where, "year must be an integer from -9999 to 9999 or a string of at most 32 characters")
    for key in ("title", "authors"):
        if getattr(doc, key) is not None and not isinstance(getattr(doc, key), str):
            raise _bad(name, where, f"{key} must be a string")
    if not isinstance(doc.format, str) or len(doc.format) > 32:
        raise _bad(name, where, "format must be a string of at most 32 characters")
    if not isinstance(doc.sentences, list):
        raise _bad(name, where, "sentences must be a list")
    for i, sent in enumerate(doc.sentences, 1):
        here = f"{at}sentence {i}"
        if not isinstance(sent, ParsedSentence) or not isinstance(sent.text, str):
            raise InputError(name, f"{here}: not a ParsedSentence with text")
        if sent.status not in STATUSES:
            raise InputError(name, f"{here}: status {sent.status!r} is not one of {', '.join(STATUSES)}")
        if sent.page is not None and (not isinstance(sent.page, int) or isinstance(sent.page, bool)
                                      or not 1 <= sent.page < _MAX_INT):
            raise InputError(name, f"{here}: page must be a positive integer")
        if not (all(isinstance(v, int) and not isinstance(v, bool) for v in (sent.start, sent.end))
                and 0 <= sent.start <= sent.end < _MAX_INT):
            raise InputError(name, f"{here}: start and end must be offsets with 0 <= start <= end")
        if sent.llm is not None and not isinstance(sent.llm, dict):
            raise InputError(name, f"{here}: llm must be an object")
        if not isinstance(sent.relations, list):
            raise InputError(name, f"{here}: relations must be a list")
        for j, rel in enumerate(sent.relations, 1):
            check_relation(rel, sent.text, name, f"{here}, relation {j}")
        _check_marks(sent.marks, name, here)
        if not isinstance(sent.suggestions, list):
            raise InputError(name, f"{here}: suggestions must be a list")
        for j, sug in enumerate(sent.suggestions, 1):
            _check_suggestion(sug, sent, name, f"{here}, suggestion {j}")


def _check_marks(marks: object, name: str, where: str) -> None:
    if marks is None:
        return
    if not isinstance(marks, list) or not all(isinstance(m, Mark) for m in marks):
        raise InputError(name, f"{where}: marks must be a list of marks")
    seen = set()
    for m in marks:
        if m.annotator is not None:
            _name(m.annotator, "mark annotator", name, where)
        allowed = STATUSES if m.annotator is None else MARKS
        if m.status not in allowed:
            raise InputError(name, f"{where}: mark status {m.status!r} is not one of {', '.join(allowed)}")
        if m.updated is not None and (not isinstance(m.updated, str) or len(m.updated) > 40):
            raise InputError(name, f"{where}: mark updated must be a string of at most 40 characters")
        if m.annotator in seen:
            raise InputError(name, f"{where}: two marks for annotator {m.annotator!r}")
        seen.add(m.annotator)


def _check_suggestion(sug: object, sent: ParsedSentence, name: str, where: str) -> None:
    if not isinstance(sug, PassageSuggestion):
        raise InputError(name, f"{where}: not a suggestion")
    as_relation = PassageRelation(src=sug.src, tgt=sug.tgt, sign=sug.sign, src_span=sug.src_span,
                                  tgt_span=sug.tgt_span, origin="model", model_id=sug.model_id,
                                  score=sug.score, created_at=sug.created_at, annotator=sug.decided_by)
    check_relation(as_relation, sent.text, name, where)
    if not isinstance(sug.model_id, str) or not sug.model_id or not isinstance(sug.score, (int, float)):
        raise InputError(name, f"{where}: a suggestion needs model_id and a numeric score")
    if sug.state not in SUGGESTION_STATES:
        raise InputError(name, f"{where}: state {sug.state!r} is not one of {', '.join(SUGGESTION_STATES)}")
    if sug.relation is not None and (not isinstance(sug.relation, int) or isinstance(sug.relation, bool)
                                     or not 0 <= sug.relation < len(sent.relations)):
        raise InputError(name, f"{where}: relation must be the index of one of the sentence's relations")

