"""Exports never drop relations: every format, read back, carries what the database holds."""
from __future__ import annotations

import csv
import io
import json

import pytest

from core.types import ParsedDocument, ParsedSentence, PassageRelation
from data.formats import read_jsonl, read_twosix
from data.store import Store
from workspace.exporting import EXPORT_FORMATS, counts, export_text, file_name, stored_relation_count

TEXTS = ["Dredging raises turbidity in the bay.",
         "Turbidity lowers seagrass growth and seagrass growth lowers turbidity.",
         "Nothing causal is said here.",
         "A sentence later discarded still keeps its label: storms raise turbidity.",
         "Smith A. 2019. Turbidity. Coastal Letters 4."]


@pytest.fixture
def store(url):
    """A SQLite file and, when FUZZYMAP_TEST_PG_URL is set, a PostgreSQL schema."""
    s = Store(url)
    docs = [ParsedDocument("bay.txt", "sha-bay", [ParsedSentence(t, page=1) for t in TEXTS], title="Bay"),
            ParsedDocument("empty.txt", "sha-empty", [ParsedSentence("Only one sentence.")])]
    docs[0].sentences[4].is_reference = True
    bay, _ = s.import_documents(docs)
    ids = [x.id for x in s.sentences(bay)]
    s.add_relation(ids[0], PassageRelation("dredging", "turbidity", 1, annotator="ann", strength="VH", note="clear"))
    s.add_relation(ids[0], PassageRelation("dredging", "turbidity", 1, annotator="bob"))    # same pair, 2nd annotator
    s.add_relation(ids[1], PassageRelation("turbidity", "seagrass growth", -1, annotator="ann"))
    s.add_relation(ids[1], PassageRelation("seagrass growth", "turbidity", -1, annotator="ann"))
    s.add_relation(ids[1], PassageRelation("water clarity", "seagrass", 1, annotator="bob"))  # paraphrase: no span
    (sugg,) = s.add_suggestions(ids[3], [PassageRelation("storms", "turbidity", 1, origin="model", model_id="m",
                                                         score=0.8)])
    s.accept_suggestion(sugg, "ann")
    s.set_status(ids[3], "discarded", "ann")
    s.add_relation(ids[4], PassageRelation("Smith", "turbidity", 1, annotator="ann"))      # on a reference line
    s.add_relation(ids[2], PassageRelation("nothing", "here", 1, annotator="gold", origin="model", score=0.1,
                                           model_id="m"))
    s.set_status(ids[2], "no-relation", "ann")
    yield s
    s.close()


def _count_back(fmt: str, text: str) -> int:
    if fmt == "twosix":
        return sum(len(p["causal relations"]) for p in json.loads(text))
    if fmt == "jsonl":
        return counts(read_jsonl("x.jsonl", text.encode())).relations
    return len(list(csv.DictReader(io.StringIO(text))))


@pytest.mark.parametrize("fmt", list(EXPORT_FORMATS))
def test_every_relation_is_exported(store, fmt):
    docs = store.export_documents()
    held = len(store.relations())
    assert held == 8 and stored_relation_count(store) == held
    assert counts(docs).relations == held and counts(docs).documents == 2
    assert _count_back(fmt, export_text(docs, fmt)) == held
    bay_only = store.export_documents([store.list_documents()[0].id])  # the other document has none
    assert _count_back(fmt, export_text(bay_only, fmt)) == held


def test_twosix_keeps_each_relation_text_and_sign(store):
    passages = json.loads(export_text(store.export_documents(), "twosix"))
    pairs = sorted((r["src"], r["tgt"], r["direction"]) for p in passages for r in p["causal relations"])
    stored = sorted((r.source, r.target, "increase" if r.sign > 0 else "decrease") for r in store.relations())
    assert pairs == stored
    back = read_twosix("x.json", json.dumps(passages).encode())
    assert counts(back).relations == 8


def test_names_and_counts(store):
    docs = store.export_documents()
    assert file_name(docs[:1], "jsonl") == "bay.jsonl"
    assert file_name(docs, "csv") == "fuzzymap_2_documents.csv"
    hostile = ParsedDocument(filename="../../x\u202egpj.<script>" + "n" * 10_000 + ".txt", sha256="h", sentences=[])
    name = file_name([hostile], "jsonl")
    assert name.startswith("x_gpj._script_nnn") and name.endswith(".jsonl") and len(name) <= 86
    assert file_name([ParsedDocument(filename="...", sha256="d", sentences=[])], "csv") == "fuzzymap.csv"
    assert counts(docs).sentences == len(TEXTS) + 1
    assert stored_relation_count(store, [store.list_documents()[1].id]) == 0
