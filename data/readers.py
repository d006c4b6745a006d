"""Dataset readers for training and evaluation: every format into one LabeledData shape.

`read_dataset("FORMAT:PATH")` with FORMAT one of FORMATS. Only the first colon splits, so
"store:postgresql+psycopg://user:pw@host/db" works. What each format gives:

- semeval2010: examples (e1 = a, e2 = b; Cause-Effect(e1,e2) -> A_TO_B, Cause-Effect(e2,e1) -> B_TO_A,
  every other label NONE; no sign) and sentences (causal iff Cause-Effect).
- cnc: Causal News Corpus V2, subtask told by the columns. Subtask 1 (index,text,label) gives
  sentences; subtask 2 (text_w_pairs) gives examples (a = the argument that comes first; cause is
  <ARG0>, effect <ARG1>), passages (a sentence with all its pairs) and sentences (all causal).
- sift: examples for every hypothesis whose subject and object both occur in the premise (causal
  preds with their sign, influence/affect with sign None, the rest NONE), passages with the causal
  hypotheses, sentences causal iff any hypothesis is causal.
- twosix: examples for relations whose src and tgt both occur in the text, passages with every
  relation, sentences causal iff the passage has a relation.
- store: the same from a Store's human labels (sentences marked labeled or no-relation);
  "store:DB#annotators=gold&documents=1,2" keeps only those annotators' labels (the gold set is the
  annotator "gold") in those documents (see store_filters).

Passages are gold for end-to-end scoring. Their PassageRelation.sign is 0 where the dataset has
no sign (CNC, SIFT influence/affect); the store never holds such a relation.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import random
import re
from collections.abc import Callable
from pathlib import Path

from core.errors import InputError
from core.hashing import file_sha256
from core.names import normalize
from core.spans import find_span
from core.specs import spec_format, spec_path
from core.types import (
    Candidate,
    Direction,
    LabeledData,
    LabeledExample,
    LabeledSentence,
    ParsedSentence,
    PassageRelation,
    Span,
)
from data.formats import read_twosix

FORMATS = ("semeval2010", "cnc", "twosix", "sift", "store")
SENTENCE_FORMATS = ("cnc", "twosix", "sift", "store")
"""Formats whose sentence label means "this sentence states a causal relation". SemEval's labels
only the marked pair, so its "Other" sentences may well be causal: they do not train that head."""
SIFT_SIGNS: dict[str, int | None] = {
    "increase": 1, "help": 1, "decrease": -1, "harm": -1, "influence": None, "affect": None,
}
SIFT_NOT_CAUSAL = ("type-of", "prefer", "disprefer", "unrelated-to")
_TAG = re.compile(r"<(/?)([A-Za-z]+\d*)>")
_SEMEVAL_HEAD = re.compile(r'^(\d+)\t"(.*)"$')


def read_dataset(spec: str) -> LabeledData:
    """Reads "FORMAT:PATH"; raises InputError naming the file and what is wrong with it."""
    fmt, path = spec_format(spec), spec_path(spec)
    if ":" not in spec or fmt not in FORMATS or not path:
        raise InputError(spec, f"expected FORMAT:PATH with FORMAT one of {', '.join(FORMATS)}")
    if fmt == "store":
        return _read_store(path)
    file = Path(path)
    if not file.is_file():
        raise InputError(path, "no such file")
    readers: dict[str, Callable[[str, bytes], LabeledData]] = {
        "semeval2010": read_semeval2010, "cnc": read_cnc, "twosix": read_twosix_dataset, "sift": read_sift,
    }
    return readers[fmt](str(file), file.read_bytes())


def _text(name: str, content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(name, f"not UTF-8 text (byte {e.start})") from None


def strip_tags(marked: str) -> tuple[str, dict[str, Span]]:
    """Removes <X>..</X> markup; returns the plain text and each tag's span in it (first use)."""
    out: list[str] = []
    length = 0
    opened: dict[str, int] = {}
    spans: dict[str, Span] = {}
    last = 0
    for m in _TAG.finditer(marked):
        out.append(marked[last:m.start()])
        length += m.start() - last
        last = m.end()
        closing, tag = m.group(1), m.group(2)
        if not closing:
            opened.setdefault(tag, length)
        elif tag in opened and tag not in spans:
            spans[tag] = (opened[tag], length)
    out.append(marked[last:])
    return "".join(out), spans


def _pair_example(text: str, cause: Span, effect: Span, sign: int | None, source: str) -> LabeledExample:
    """A candidate with a = the span that comes first, labelled by which way the cause points."""
    cause_first = cause[0] <= effect[0]
    a, b = (cause, effect) if cause_first else (effect, cause)
    return LabeledExample(Candidate(text, a, b), Direction.A_TO_B if cause_first else Direction.B_TO_A, sign, source)


def _overlap(x: Span, y: Span) -> bool:
    return x[0] < y[1] and y[0] < x[1]


# ---------------------------------------------------------------------------- SemEval-2010 Task 8
def read_semeval2010(name: str, content: bytes) -> LabeledData:
    """SemEval-2010 Task 8: blocks of id<TAB>"marked sentence", label, Comment, blank line."""
    data = LabeledData(name=f"semeval2010:{Path(name).name}")
    lines = _text(name, content).splitlines()
    n = 0
    while n < len(lines):
        line = lines[n]
        n += 1
        if not line.strip() or line.startswith("Comment"):
            continue
        head = _SEMEVAL_HEAD.match(line)
        if head is None or n >= len(lines):
            raise InputError(name, f"line {n}: expected id<TAB>\"sentence\" followed by a label line")
        label = lines[n].strip()
        n += 1
        text, spans = strip_tags(head.group(2))
        if "e1" not in spans or "e2" not in spans:
            raise InputError(name, f"line {n - 1}: sentence {head.group(1)} lacks <e1> or <e2>")
        direction = {"Cause-Effect(e1,e2)": Direction.A_TO_B, "Cause-Effect(e2,e1)": Direction.B_TO_A}.get(
            label, Direction.NONE)
        source = f"semeval2010:{head.group(1)}"
        data.examples.append(LabeledExample(Candidate(text, spans["e1"], spans["e2"]), direction, None, source))
        data.sentences.append(LabeledSentence(text, direction != Direction.NONE, source))
    if not data.examples:
        raise InputError(name, "holds no SemEval sentence")
    return data


# ---------------------------------------------------------------------------- Causal News Corpus
def read_cnc(name: str, content: bytes) -> LabeledData:
    """Causal News Corpus V2 CSV (UTF-8 with BOM); subtask 1 or 2, told by the columns."""
    rows = list(csv.DictReader(io.StringIO(_text(name, content))))
    columns = set(rows[0]) if rows else set()
    if "text_w_pairs" in columns:
        return _cnc_pairs(name, rows)
    if {"text", "label"} <= columns:
        return _cnc_sentences(name, rows)
    raise InputError(name, "not a Causal News Corpus file: needs columns text,label or text_w_pairs")


def _cnc_sentences(name: str, rows: list[dict]) -> LabeledData:
    data = LabeledData(name=f"cnc:{Path(name).name}")
    for n, row in enumerate(rows, 2):
        label = (row.get("label") or "").strip()
        if label not in ("0", "1") or not row.get("text"):
            raise InputError(name, f"line {n}: label must be 0 or 1 and text non-empty")
        data.sentences.append(LabeledSentence(row["text"], label == "1", f"cnc:{row.get('index') or n}"))
    return data


def _cnc_pairs(name: str, rows: list[dict]) -> LabeledData:
    data = LabeledData(name=f"cnc:{Path(name).name}")
    passages: dict[str, ParsedSentence] = {}
    for n, row in enumerate(rows, 2):
        text, spans = strip_tags(row.get("text_w_pairs") or "")
        if "ARG0" not in spans or "ARG1" not in spans:
            raise InputError(name, f"line {n}: text_w_pairs needs <ARG0>..</ARG0> and <ARG1>..</ARG1>")
        cause, effect = spans["ARG0"], spans["ARG1"]
        source = f"cnc:{row.get('index') or n}"
        if text not in passages:
            passages[text] = ParsedSentence(text, status="labeled")
            data.sentences.append(LabeledSentence(text, True, source))
        passages[text].relations.append(PassageRelation(
            src=text[cause[0]:cause[1]], tgt=text[effect[0]:effect[1]], sign=0, src_span=cause, tgt_span=effect,
        ))
        if not _overlap(cause, effect):
            data.examples.append(_pair_example(text, cause, effect, None, source))
    data.passages = list(passages.values())
    return data


# ---------------------------------------------------------------------------- SIFT
def _sift_pred(pred: str) -> str:
    pred = pred.strip().lower()
    return pred[:-3] if pred.endswith("(s)") else pred


def read_sift(name: str, content: bytes) -> LabeledData:
    """SIFT JSONL: one premise per line with subj/pred/obj hypotheses."""
    data = LabeledData(name=f"sift:{Path(name).name}")
    for n, line in enumerate(_text(name, content).splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise InputError(name, f"line {n}: not valid JSON: {e.msg}") from None
        premise, hyps = (row.get("premise"), row.get("hypotheses")) if isinstance(row, dict) else (None, None)
        if not isinstance(premise, str) or not isinstance(hyps, list):
            raise InputError(name, f"line {n}: needs a 'premise' string and a 'hypotheses' list")
        source = f"sift:{row.get('doc_id') or n}"
        passage = ParsedSentence(premise, status="labeled")
        for k, hyp in enumerate(hyps, 1):
            if not isinstance(hyp, dict) or not all(isinstance(hyp.get(key), str) for key in ("subj", "pred", "obj")):
                raise InputError(name, f"line {n}, hypothesis {k}: needs subj, pred and obj strings")
            pred = _sift_pred(hyp["pred"])
            causal = pred in SIFT_SIGNS
            if not causal and pred not in SIFT_NOT_CAUSAL:
                continue  # an unknown or empty predicate says nothing
            subj, obj = find_span(premise, hyp["subj"]), find_span(premise, hyp["obj"])
            if causal:
                passage.relations.append(PassageRelation(
                    hyp["subj"].strip(), hyp["obj"].strip(), SIFT_SIGNS[pred] or 0, subj, obj))
            if subj is None or obj is None or _overlap(subj, obj):
                continue
            if causal:
                data.examples.append(_pair_example(premise, subj, obj, SIFT_SIGNS[pred], source))
            else:
                a, b = sorted((subj, obj))
                data.examples.append(LabeledExample(Candidate(premise, a, b), Direction.NONE, None, source))
        passage.status = "labeled" if passage.relations else "no-relation"
        data.passages.append(passage)
        data.sentences.append(LabeledSentence(premise, bool(passage.relations), source))
    return data


# ---------------------------------------------------------------------------- TwoSix and the store
def _from_passages(name: str, passages: list[ParsedSentence]) -> LabeledData:
    """Examples, sentences and passages from labelled sentences (TwoSix files, the store)."""
    data = LabeledData(name=name, passages=passages)
    for n, passage in enumerate(passages, 1):
        source = f"{name}:{n}"
        data.sentences.append(LabeledSentence(passage.text, bool(passage.relations), source))
        for rel in passage.relations:
            src = rel.src_span or find_span(passage.text, rel.src)
            tgt = rel.tgt_span or find_span(passage.text, rel.tgt)
            if src is not None and tgt is not None and not _overlap(src, tgt):
                data.examples.append(_pair_example(passage.text, src, tgt, rel.sign, source))
    return data


def read_twosix_dataset(name: str, content: bytes) -> LabeledData:
    docs = read_twosix(name, content)
    return _from_passages(f"twosix:{Path(name).name}", [s for d in docs for s in d.sentences])


def store_filters(path: str) -> tuple[str, list[str] | None, list[int] | None]:
    """(database, annotators, document ids) of a store spec's PATH: "DB" or
    "DB#annotators=gold,ann&documents=1,3" (either part may be left out; None: no filter)."""
    url, _, query = path.partition("#")
    annotators: list[str] | None = None
    documents: list[int] | None = None
    for part in filter(None, query.split("&")):
        key, _, value = part.partition("=")
        items = [v.strip() for v in value.split(",") if v.strip()]
        if key == "annotators" and items:
            annotators = items
        elif key == "documents" and items and all(v.isdigit() for v in items):
            documents = [int(v) for v in items]
        else:
            raise InputError(path, f"unknown store filter {part!r} (annotators=NAME,... or documents=ID,...)")
    return url, annotators, documents


def store_spec(url: str, annotators: list[str] | None = None, documents: list[int] | None = None) -> str:
    """The "store:..." spec that store_filters reads back (None or empty: no filter)."""
    for name in annotators or ():
        if any(c in name for c in ",&#="):
            raise InputError(name, "an annotator name with , & # or = cannot be chosen as training data")
    parts = ([f"annotators={','.join(annotators)}"] if annotators else []) + (
        [f"documents={','.join(map(str, documents))}"] if documents else [])
    return f"store:{url}" + (f"#{'&'.join(parts)}" if parts else "")


def _read_store(path: str) -> LabeledData:
    """Human labels of the store: every sentence someone marked labeled or no-relation, or with
    annotators given, the sentences those annotators labeled or marked, with their relations only."""
    from data.store import Store  # only this reader needs SQLAlchemy

    url, annotators, documents = store_filters(path)
    if "://" not in url and not Path(url).is_file():
        raise InputError(url, "no such database file")
    store = Store(url)
    try:
        passages = []
        for doc_id, doc in zip(_document_ids(store, documents), store.export_documents(documents)):
            if annotators is not None:
                marks = [store.sentences(doc_id, who) for who in annotators]
                seen = [any(m[i].status in ("labeled", "no-relation") for m in marks) for i in range(len(doc.sentences))]
            for i, sent in enumerate(doc.sentences):
                keep = seen[i] if annotators is not None else sent.status in ("labeled", "no-relation")
                if keep:
                    sent.relations = [r for r in sent.relations if r.origin == "human"
                                      and (annotators is None or r.annotator in annotators)]
                    passages.append(sent)
    finally:
        store.close()
    return _from_passages(f"store:{Path(url).name if '://' not in url else 'db'}", passages)


def _document_ids(store, documents: list[int] | None) -> list[int]:
    """Ids in export_documents' order (by id), only those asked for when documents is given."""
    ids = sorted(d.id for d in store.list_documents())
    return ids if documents is None else [i for i in ids if i in set(documents)]


# ---------------------------------------------------------------------------- splits
def text_keys(data: LabeledData) -> set[str]:
    """Every text of a dataset (examples, sentences, passages), case and spacing ignored."""
    return ({normalize(e.candidate.text) for e in data.examples} | {normalize(s.text) for s in data.sentences}
            | {normalize(p.text) for p in data.passages})


def _where(data: LabeledData, keep: Callable[[str], bool], name: str) -> LabeledData:
    """The examples, sentences and passages of a dataset whose text key passes keep."""
    return LabeledData(name=name,
                       examples=[e for e in data.examples if keep(normalize(e.candidate.text))],
                       sentences=[s for s in data.sentences if keep(normalize(s.text))],
                       passages=[p for p in data.passages if keep(normalize(p.text))])


def without_texts(data: LabeledData, keys: set[str]) -> LabeledData:
    """The dataset less every example, sentence and passage whose text is in keys (see text_keys)."""
    return _where(data, lambda t: t not in keys, data.name)


def split(data: LabeledData, valid_fraction: float, seed: int) -> tuple[LabeledData, LabeledData]:
    """Train / validation split by sentence text (case and spacing ignored), so no sentence is in
    both: examples from one sentence would otherwise leak its label into validation."""
    if not 0 < valid_fraction < 1:
        raise ValueError("valid_fraction must be between 0 and 1")
    texts = sorted(text_keys(data))
    random.Random(seed).shuffle(texts)
    valid = set(texts[:round(len(texts) * valid_fraction)])
    return (_where(data, lambda t: t not in valid, f"{data.name}:train"),
            _where(data, lambda t: t in valid, f"{data.name}:valid"))


def split_apart(datasets: dict[str, LabeledData], valid_fraction: float, seed: int
                ) -> dict[str, tuple[LabeledData, LabeledData, int]]:
    """Each file's (train, validation, training texts dropped) split (`split`), where a text in any
    file's validation split is dropped from every file's training split: two files that share
    sentences (CNC subtasks 1 and 2) would otherwise train one's validation sentences through the other."""
    splits = {name: split(data, valid_fraction, seed) for name, data in datasets.items()}
    in_valid = set().union(*(text_keys(va) for _, va in splits.values()))
    out = {}
    for name, (tr, va) in splits.items():
        dropped = len(text_keys(tr) & in_valid)
        out[name] = (without_texts(tr, in_valid) if dropped else tr, va, dropped)
    return out


def data_sha256(spec: str, data: LabeledData) -> str | None:
    """What identifies a dataset for "was this trained on?": the file's sha256, or for the store
    (a database that changes with every label) a sha256 of the labelled passages read from it."""
    if spec_format(spec) != "store":
        return file_sha256(spec_path(spec))
    rows = [[p.text, [[r.src, r.tgt, r.sign] for r in p.relations]] for p in data.passages]
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()
