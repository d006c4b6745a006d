"""File formats that carry labels: TwoSix JSON (the seed project's), fuzzymap JSONL, relations CSV.

Readers are pure (bytes in, ParsedDocuments out, no database) and reject bad input with one
InputError naming the file and the place ("passage 3: 'causal relations' must be a list").
Writers are tested by round trips through the store.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import asdict, fields
from typing import Any

from core.errors import InputError, check_encodable
from core.signs import DIRECTIONS, sign_word
from core.spans import find_span
from core.types import Mark, ParsedDocument, ParsedSentence, PassageRelation, PassageSuggestion
from data.validate import check_document

TWOSIX_KEYS = ("text", "causal relations", "meta_data", "LLM")
META_KEYS = ("title", "authors", "year")
JSONL_VERSION = 1
CSV_COLUMNS = (
    "document", "sentence_index", "sentence", "page", "source", "target", "sign", "strength",
    "annotator", "origin", "model_id", "score", "note", "created_at", "updated_at",
)


MAX_JSON_DEPTH = 32
"""Deepest nesting of lists and objects accepted (a TwoSix file needs 4, an LLM block a few more)."""


def _no_constant(word: str) -> Any:
    raise ValueError(f"{word} is not a number JSON allows")


def parse_json(name: str, text: str, where: str = "") -> Any:
    """json.loads with limits: no NaN/Infinity, nesting at most MAX_JSON_DEPTH, integers of at most
    4300 digits (Python's own limit), no lone UTF-16 surrogates (\\ud800); else InputError."""
    at = f"{where}: " if where else ""
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as e:
        place = f"column {e.colno}" if where else f"line {e.lineno} column {e.colno}"
        raise InputError(name, f"{at}not valid JSON: {e.msg} at {place}") from None
    except RecursionError:
        raise InputError(name, f"{at}JSON nested deeper than the limit of {MAX_JSON_DEPTH}") from None
    except ValueError as e:  # an over-long integer, NaN, Infinity
        raise InputError(name, f"{at}not valid JSON: {str(e).split(';')[0]}") from None
    _check_json(name, at, value)
    return value


def _check_json(name: str, at: str, value: Any) -> None:
    """Nesting depth and string validity of a parsed JSON value, without recursion."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                raise InputError(name, f"{at}JSON nested deeper than the limit of {MAX_JSON_DEPTH}")
            children = list(item.items()) if isinstance(item, dict) else [(None, v) for v in item]
            for key, child in children:
                if key is not None:
                    stack.append((key, depth))
                stack.append((child, depth + 1))
        elif isinstance(item, str):
            check_encodable(name, item, at.rstrip(": "))


def load_json(name: str, content: bytes) -> Any:
    """Parses JSON bytes (UTF-8, BOM allowed) or raises InputError with the position."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(name, f"not UTF-8 text (byte {e.start})") from None
    return parse_json(name, text)


def _string(value: Any, name: str, where: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InputError(name, f"{where}: {what} must be a non-empty string")
    return value


# ---------------------------------------------------------------------------- TwoSix JSON
def read_twosix(name: str, content: bytes) -> list[ParsedDocument]:
    """One ParsedDocument per distinct meta_data (paper), in first-appearance order; one sentence
    per passage with its text kept whole.

    TwoSix has no offsets, annotator or strength: spans are found in the text case-insensitively
    (None where the label paraphrases; the relation is kept), strength is "M", origin "human",
    annotator None (the importer's name is given at import). The direction as spelled and any
    extra relation keys are kept in PassageRelation.extra, the LLM block in ParsedSentence.llm,
    so write_twosix gives the file back. A passage with relations is "labeled", one without
    "no-relation" (it was read and holds none).
    """
    data = load_json(name, content)
    if not isinstance(data, list) or not data:
        raise InputError(name, "expected a JSON list of passages")
    papers: dict[str, ParsedDocument] = {}
    offsets: dict[str, int] = {}
    for i, passage in enumerate(data, 1):
        where = f"passage {i}"
        if not isinstance(passage, dict):
            raise InputError(name, f"{where}: must be an object")
        text = passage.get("text")
        if not isinstance(text, str):
            raise InputError(name, f"{where}: 'text' must be a string")
        rels = passage.get("causal relations")
        if not isinstance(rels, list):
            raise InputError(name, f"{where}: 'causal relations' must be a list")
        meta = passage.get("meta_data", {})
        if not isinstance(meta, dict):
            raise InputError(name, f"{where}: 'meta_data' must be an object")
        llm = passage.get("LLM")
        if llm is not None and not isinstance(llm, dict):
            raise InputError(name, f"{where}: 'LLM' must be an object keyed by system name")
        key = json.dumps(meta, sort_keys=True)
        doc = papers.get(key)
        if doc is None:
            doc = papers[key] = _twosix_document(name, meta, where)
            offsets[key] = 0
        unknown = sorted(set(passage) - set(TWOSIX_KEYS))
        if unknown:
            doc.warnings.append(f"{where}: ignored keys {', '.join(unknown)}")
        start = offsets[key]
        offsets[key] = start + len(text) + 1
        doc.sentences.append(ParsedSentence(
            text=text, start=start, end=start + len(text), status="labeled" if rels else "no-relation",
            relations=[_twosix_relation(name, f"{where}, relation {j}", r, text) for j, r in enumerate(rels, 1)],
            llm=llm,
        ))
    docs = list(papers.values())
    digest = hashlib.sha256(content).hexdigest()
    for k, doc in enumerate(docs):
        doc.sha256 = digest if len(docs) == 1 else f"{digest}:{k}"
    return docs


def _twosix_document(name: str, meta: dict, where: str) -> ParsedDocument:
    for key in ("title", "authors"):
        if meta.get(key) is not None and not isinstance(meta[key], str):
            raise InputError(name, f"{where}: meta_data '{key}' must be a string")
    year = meta.get("year")
    if year is not None and (not isinstance(year, (int, str)) or isinstance(year, bool)):
        raise InputError(name, f"{where}: meta_data 'year' must be an integer or a string")
    doc = ParsedDocument(
        filename=name, sha256="", sentences=[], title=meta.get("title"), authors=meta.get("authors"),
        year=year, format="twosix",
    )
    unknown = sorted(set(meta) - set(META_KEYS))
    if unknown:
        doc.warnings.append(f"{where}: meta_data keys {', '.join(unknown)} are not kept")
    return doc


def _twosix_relation(name: str, where: str, rel: Any, text: str) -> PassageRelation:
    if not isinstance(rel, dict):
        raise InputError(name, f"{where}: must be an object with src, tgt, direction")
    src = _string(rel.get("src"), name, where, "'src'")
    tgt = _string(rel.get("tgt"), name, where, "'tgt'")
    direction = rel.get("direction")
    if not isinstance(direction, str) or sign_word(direction, DIRECTIONS) is None:
        raise InputError(name, f"{where}: 'direction' must be increase or decrease, not {direction!r}")
    extra = {k: v for k, v in rel.items() if k not in ("src", "tgt")}
    return PassageRelation(
        src=src, tgt=tgt, sign=sign_word(direction, DIRECTIONS), src_span=find_span(text, src),
        tgt_span=find_span(text, tgt), extra=extra,
    )


def _twosix_direction(rel: PassageRelation) -> str:
    """The direction as the file spelled it, when the sign is unchanged; else in the same style."""
    word = "increase" if rel.sign > 0 else "decrease"
    spelled = (rel.extra or {}).get("direction")
    if not isinstance(spelled, str):
        return word
    if sign_word(spelled, DIRECTIONS) == rel.sign:
        return spelled
    return word.capitalize() if spelled[:1].isupper() else word


def write_twosix(docs: list[ParsedDocument]) -> str:
    """TwoSix JSON: every sentence that was read (labeled, no-relation, or holding relations).

    Cannot hold offsets, strength, annotator, origin, score, notes or times (use JSONL for
    those); meta_data keys whose value is None are left out.
    """
    passages = []
    for doc in docs:
        meta = {k: v for k, v in (("title", doc.title), ("authors", doc.authors), ("year", doc.year)) if v is not None}
        for sent in doc.sentences:
            if not sent.relations and sent.status not in ("labeled", "no-relation"):
                continue
            passage: dict[str, Any] = {
                "text": sent.text,
                "causal relations": [
                    {"src": r.src, "tgt": r.tgt, **(r.extra or {}), "direction": _twosix_direction(r)}
                    for r in sent.relations
                ],
                "meta_data": dict(meta),
            }
            if sent.llm is not None:
                passage["LLM"] = sent.llm
            passages.append(passage)
    return json.dumps(passages, indent=2, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------------------- fuzzymap JSONL
def write_jsonl(docs: list[ParsedDocument]) -> str:
    """Lossless: one JSON object per line per document, every field of the records included
    (offsets, statuses and each annotator's marks, annotators, origins, model ids, scores, notes,
    times, LLM blocks, model suggestions with their decisions)."""
    lines = []
    for doc in docs:
        record = {"fuzzymap": JSONL_VERSION, **asdict(doc)}
        record.pop("pdf")  # the source file stays out of a text export
        lines.append(json.dumps(record, ensure_ascii=False))
    return "".join(line + "\n" for line in lines)


def read_jsonl(name: str, content: bytes) -> list[ParsedDocument]:
    """Reads write_jsonl's output back into the same records."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(name, f"not UTF-8 text (byte {e.start})") from None
    docs = []
    # Lines end at "\n" only: str.splitlines would also cut at U+2028 and other characters that
    # write_jsonl leaves unescaped inside strings.
    for n, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        where = f"line {n}"
        record = parse_json(name, line, where)
        if not isinstance(record, dict) or record.get("fuzzymap") != JSONL_VERSION:
            raise InputError(name, f"{where}: not a fuzzymap document record (version {JSONL_VERSION})")
        docs.append(_jsonl_document(name, where, record))
    if not docs:
        raise InputError(name, "holds no document")
    return docs


def _build(cls: type, name: str, where: str, record: Any, **nested: Any) -> Any:
    """cls(**record) for a JSON object whose keys are cls's fields, with readable errors."""
    if not isinstance(record, dict):
        raise InputError(name, f"{where}: must be an object")
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(record) - known)
    if unknown:
        raise InputError(name, f"{where}: unknown keys {', '.join(unknown)}")
    try:
        return cls(**{**record, **nested})
    except TypeError as e:
        raise InputError(name, f"{where}: {e}") from None


def _jsonl_document(name: str, where: str, record: dict) -> ParsedDocument:
    record = {k: v for k, v in record.items() if k != "fuzzymap"}
    sentences = record.get("sentences")
    if not isinstance(sentences, list):
        raise InputError(name, f"{where}: 'sentences' must be a list")
    parsed = []
    for i, sent in enumerate(sentences, 1):
        at = f"{where}, sentence {i}"
        if not isinstance(sent, dict):
            raise InputError(name, f"{at}: must be an object")
        marks = sent.get("marks")
        if marks is not None:
            marks = _jsonl_list(Mark, name, at, "marks", marks)
        parsed.append(_build(ParsedSentence, name, at, sent, marks=marks,
                             relations=_jsonl_list(PassageRelation, name, at, "relations", sent.get("relations", [])),
                             suggestions=_jsonl_list(PassageSuggestion, name, at, "suggestions",
                                                     sent.get("suggestions", []))))
    doc = _build(ParsedDocument, name, where, record, sentences=parsed)
    check_document(doc, name, where)
    return doc


def _jsonl_list(cls: type, name: str, at: str, key: str, items: Any) -> list:
    """A sentence's list of relations, suggestions or marks as records, spans as tuples."""
    if not isinstance(items, list):
        raise InputError(name, f"{at}: '{key}' must be a list")
    out = []
    for j, item in enumerate(items, 1):
        here = f"{at}, {key[:-1]} {j}"
        record = _build(cls, name, here, item)
        for span in ("src_span", "tgt_span"):
            if hasattr(record, span):
                setattr(record, span, _jsonl_span(name, here, getattr(record, span)))
        out.append(record)
    return out


def _jsonl_span(name: str, where: str, span: Any) -> tuple[int, int] | None:
    if span is None:
        return None
    if not (isinstance(span, list) and len(span) == 2 and all(isinstance(v, int) for v in span)):
        raise InputError(name, f"{where}: a span must be [start, end]")
    return (span[0], span[1])


# ---------------------------------------------------------------------------- relations CSV
def write_relations_csv(docs: list[ParsedDocument]) -> str:
    """One row per relation with its document, sentence and provenance, for spreadsheets."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for doc in docs:
        for i, sent in enumerate(doc.sentences, 1):  # counted from 1, as the Label page shows them
            for r in sent.relations:
                writer.writerow([
                    doc.title or doc.filename, i, sent.text, sent.page, r.src, r.tgt, r.sign, r.strength,
                    r.annotator, r.origin, r.model_id, r.score, r.note, r.created_at, r.updated_at,
                ])
    return out.getvalue()
