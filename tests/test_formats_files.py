"""TwoSix JSON, fuzzymap JSONL and relations CSV: parsing, errors, and round trips through the store."""
from __future__ import annotations

import csv
import hashlib
import io
import json

import pytest

from core.errors import InputError
from core.types import Mark, ParsedDocument, ParsedSentence, PassageRelation
from data.formats import read_jsonl, read_twosix, write_jsonl, write_relations_csv, write_twosix
from data.store import Store

META_A = {"title": "Seabirds and turbines", "authors": "Roe, Ann; Poe, Ben", "year": 2019}
META_B = {"title": "Ferry noise", "authors": "Moe, Cy", "year": "2022"}
TWOSIX = [
    {"text": "Turbine wakes increase sediment mixing near the piles.",
     "causal relations": [{"src": "Turbine wakes", "tgt": "sediment mixing", "direction": "increase"},
                          {"src": "pile scour", "tgt": "sediment mixing", "direction": "Increase"}],
     "meta_data": META_A,
     "LLM": {"sys-a": [{"src": "turbine wakes", "tgt": "mixing", "direction": "increase"}], "sys-b": []}},
    {"text": "Gulls avoided the wind farm during storms.", "causal relations": [], "meta_data": META_A},
    {"text": "Louder ferries reduce porpoise sightings, and PORPOISE SIGHTINGS drop further in winter.",
     "causal relations": [{"src": "louder ferries", "tgt": "porpoise sightings", "direction": "Decrease",
                           "confidence": "high"}],
     "meta_data": META_B},
]


@pytest.fixture
def store(tmp_path):
    s = Store(str(tmp_path / "formats.db"))
    yield s
    s.close()


def _bytes(obj) -> bytes:
    return json.dumps(obj).encode()


def test_read_twosix_groups_papers_and_finds_spans():
    content = _bytes(TWOSIX)
    a, b = read_twosix("osw.json", content)
    digest = hashlib.sha256(content).hexdigest()
    assert (a.sha256, b.sha256) == (f"{digest}:0", f"{digest}:1")
    assert (a.title, a.year, b.year, a.format) == ("Seabirds and turbines", 2019, "2022", "twosix")
    assert [s.text for s in a.sentences] == [TWOSIX[0]["text"], TWOSIX[1]["text"]]
    assert [s.status for s in a.sentences] == ["labeled", "no-relation"]
    wakes, scour = a.sentences[0].relations
    assert (wakes.sign, wakes.src_span, wakes.tgt_span) == (1, (0, 13), (23, 38))
    assert scour.src_span is None and scour.tgt_span == (23, 38)  # paraphrased label is kept
    assert a.sentences[0].llm == TWOSIX[0]["LLM"] and a.sentences[1].llm is None
    (ferries,) = b.sentences[0].relations
    assert ferries.sign == -1 and ferries.src_span == (0, 14) and ferries.tgt_span == (22, 40)
    assert a.sentences[1].start == a.sentences[0].end + 1


def test_twosix_round_trip_through_store_is_exact(store):
    content = _bytes(TWOSIX)
    ids = store.import_documents(read_twosix("osw.json", content), annotator="seed")
    assert len(ids) == 2 and store.import_documents(read_twosix("osw.json", content)) == ids
    written = write_twosix(store.export_documents())
    assert json.loads(written) == TWOSIX
    # an edit made in the app shows in the next export, in the file's own spelling
    rel = store.relations(document_id=ids[1])[0]
    store.update_relation(rel.id, sign=1)
    again = json.loads(write_twosix(store.export_documents([ids[1]])))
    assert again[0]["causal relations"][0]["direction"] == "Increase"


@pytest.mark.parametrize("data, reason", [
    ({"text": "x"}, "expected a JSON list of passages"),
    ([], "expected a JSON list of passages"),
    ([{"text": "ok", "causal relations": [], "meta_data": {}}, {"text": "a", "causal relations": {}}],
     "passage 2: 'causal relations' must be a list"),
    ([{"text": 5, "causal relations": []}], "passage 1: 'text' must be a string"),
    ([{"text": "a b", "causal relations": [{"src": "a", "tgt": "b", "direction": "up"}]}],
     "passage 1, relation 1: 'direction' must be increase or decrease, not 'up'"),
    ([{"text": "a b", "causal relations": [{"src": "", "tgt": "b", "direction": "increase"}]}],
     "passage 1, relation 1: 'src' must be a non-empty string"),
    ([{"text": "a", "causal relations": [], "meta_data": {"year": [2020]}}],
     "passage 1: meta_data 'year' must be an integer or a string"),
    ([{"text": "a", "causal relations": [], "LLM": ["gpt"]}], "passage 1: 'LLM' must be an object"),
])
def test_twosix_errors_name_file_and_place(data, reason):
    with pytest.raises(InputError) as err:
        read_twosix("bad.json", _bytes(data))
    assert str(err.value).startswith(f"bad.json: {reason}")


def test_twosix_not_json():
    with pytest.raises(InputError, match=r"^broken.json: not valid JSON: .* line 1 column"):
        read_twosix("broken.json", b'[{"text": "a",')


def _rich_document() -> ParsedDocument:
    return ParsedDocument(
        filename="reef.pdf", sha256="f" * 64, title="Reef notes", authors="Li, Q", year="2018", format="pdf",
        warnings=["page 3: no text"],
        sentences=[
            ParsedSentence("Coral bleaching lowers fish counts.", page=1, start=10, end=45, status="labeled",
                           relations=[
                               PassageRelation("coral bleaching", "fish counts", -1, (0, 15), (23, 34), strength="VH",
                                               annotator="ann", note="seen twice",
                                               created_at="2026-01-01T10:00:00Z", updated_at="2026-01-02T10:00:00Z"),
                               PassageRelation("bleaching", "fish", -1, (6, 15), (23, 27), strength="L", origin="model",
                                               model_id="minilm-v1", score=0.625, annotator=None,
                                               created_at="2026-01-03T00:00:00Z", updated_at="2026-01-03T00:00:00Z"),
                           ]),
            ParsedSentence("Smith et al. 2001. Reef atlas.", page=9, start=900, end=930, is_reference=True,
                           status="discarded"),
            ParsedSentence("Shade cloth cools the water.", page=2, start=50, end=78,
                           llm={"sys": [{"src": "shade cloth", "tgt": "water", "direction": "decrease"}]}),
        ],
    )


def test_jsonl_round_trip_through_store_is_lossless(store):
    doc = _rich_document()
    text = write_jsonl([doc])
    assert len(text.splitlines()) == 1
    (parsed,) = read_jsonl("reef.jsonl", text.encode())
    assert parsed == doc
    store.import_documents([parsed])
    exported = store.export_documents()
    doc.warnings = []  # warnings are for the upload screen, not stored
    for sent in doc.sentences:  # the store names each status's annotator (None: not known)
        sent.marks = [Mark(None, sent.status)] if sent.status != "unseen" else []
    assert exported == [doc]
    assert read_jsonl("again.jsonl", write_jsonl(exported).encode()) == exported


@pytest.mark.parametrize("text, reason", [
    ('{"fuzzymap": 1, "filename": "a", "sha256": "b"', "line 1: not valid JSON"),
    ('\n{"filename": "a"}', "line 2: not a fuzzymap document record"),
    ('{"fuzzymap": 1, "filename": "a", "sha256": "b", "sentences": {}}', "line 1: 'sentences' must be a list"),
    ('{"fuzzymap": 1, "filename": "a", "sha256": "b", "sentences": [{"text": "x", "colour": 1}]}',
     "line 1, sentence 1: unknown keys colour"),
    ('{"fuzzymap": 1, "filename": "a", "sha256": "b", "sentences": [{"text": "x", "relations": '
     '[{"src": "x", "tgt": "y", "sign": 1, "src_span": [1]}]}]}', "line 1, sentence 1, relation 1: a span must be"),
    ("", "holds no document"),
    ('{"fuzzymap": 1, "filename": "a", "sha256": "b", "sentences": [{"text": "x y", "status": "done"}]}',
     "line 1, sentence 1: status 'done' is not one of"),
    ('{"fuzzymap": 1, "filename": "a", "sha256": "b", "sentences": [{"text": "x y", "relations": '
     '[{"src": "x", "tgt": "y", "sign": 1, "strength": "huge"}]}]}', "line 1, sentence 1, relation 1: strength 'huge'"),
    ('{"fuzzymap": 1, "filename": "a", "sha256": "", "sentences": []}', "line 1: filename must be a string and sha256"),
])
def test_jsonl_errors(text, reason):
    with pytest.raises(InputError, match=f"^bad.jsonl: {reason}"):
        read_jsonl("bad.jsonl", text.encode())


def test_relations_csv_one_row_per_relation():
    rows = list(csv.DictReader(io.StringIO(write_relations_csv([_rich_document()]))))
    assert len(rows) == 2
    first, second = rows
    assert (first["document"], first["sentence_index"], first["page"], first["source"], first["target"]) == (
        "Reef notes", "1", "1", "coral bleaching", "fish counts")
    assert (first["sign"], first["strength"], first["annotator"], first["origin"], first["note"]) == (
        "-1", "VH", "ann", "human", "seen twice")
    assert (second["origin"], second["model_id"], float(second["score"]), second["annotator"]) == (
        "model", "minilm-v1", 0.625, "")
