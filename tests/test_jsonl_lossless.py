"""JSONL is lossless in fact: a database exported to JSONL and imported into an empty one holds
the same rows, table by table (per-annotator marks and model suggestions included).

A seeded generator builds each database through the Store's own calls, as annotators would.
"""
from __future__ import annotations

import random

import pytest
from sqlalchemy import select

from core.types import ParsedDocument, ParsedSentence, PassageRelation
from data.formats import read_jsonl, write_jsonl
from data.schema import AnnotatorT, DocumentT, RelationT, SentenceStatusT, SentenceT, SuggestionT
from data.store import Store

WORDS = ["kelp", "cod", "seals", "turbines", "noise", "plaice", "sand", "heat", "crabs", "terns"]
ANNOTATORS = ["ann", "bob", "Çelik", "李"]


def _sentence(rng: random.Random) -> ParsedSentence:
    a, b, c = rng.sample(WORDS, 3)
    text = f"{a.capitalize()} {rng.choice(['raised', 'lowered'])} {b} near the {c}."
    return ParsedSentence(text, page=rng.choice([None, rng.randint(1, 30)]), is_reference=rng.random() < 0.1,
                          llm={"gpt": [{"src": a, "tgt": b}]} if rng.random() < 0.2 else None)


def _document(rng: random.Random, k: int) -> ParsedDocument:
    sentences = [_sentence(rng) for _ in range(rng.randint(1, 6))]
    at = 0
    for s in sentences:
        s.start, s.end = at, at + len(s.text)
        at = s.end + 1
    return ParsedDocument(filename=f"paper{k}.txt", sha256=f"{rng.getrandbits(128):032x}", sentences=sentences,
                          title=rng.choice([None, f"Paper {k} \u2028 on {rng.choice(WORDS)}"]),
                          authors=rng.choice([None, "Ngata, R.; Berg, O."]),
                          year=rng.choice([None, 2019, "in press"]), format="txt")


def _fill(store: Store, rng: random.Random) -> None:
    """Documents, then a random mix of what annotators and the model do to them."""
    ids = store.import_documents([_document(rng, k) for k in range(rng.randint(1, 3))])
    sentences = [s for d in ids for s in store.sentences(d)]
    for _ in range(rng.randint(5, 25)):
        sent = rng.choice(sentences)
        words = [w for w in WORDS if w in sent.text.lower()]
        who = rng.choice(ANNOTATORS)
        act = rng.random()
        if act < 0.35:
            src, tgt = rng.sample(words, 2)
            store.add_relation(sent.id, PassageRelation(
                src, tgt, rng.choice([1, -1]), strength=rng.choice(["VL", "M", "VH"]), annotator=who,
                note=rng.choice([None, "checked", "<b>kept as text</b>"]),
                extra=rng.choice([None, {"direction": "Increase"}])))
        elif act < 0.55:
            store.set_status(sent.id, rng.choice(["no-relation", "discarded", "unseen"]), who)
        elif act < 0.8:
            src, tgt = rng.sample(words, 2)
            store.add_suggestions(sent.id, [PassageRelation(
                src, tgt, rng.choice([1, -1]), origin="model", model_id=rng.choice(["m1", "m2"]),
                score=round(rng.random(), 3))])
        else:
            pending = store.suggestions(sentence_id=sent.id)
            if pending:
                x = rng.choice(pending)
                if rng.random() < 0.6:
                    store.accept_suggestion(x.id, who)
                else:
                    store.reject_suggestion(x.id, who)
    if rng.random() < 0.3:  # a model relation and a status no annotator is known for
        sent = rng.choice(sentences)
        words = [w for w in WORDS if w in sent.text.lower()]
        store.add_relation(sent.id, PassageRelation(words[0], words[1], 1, origin="model", model_id="m1", score=0.5))
        store.set_status(rng.choice(sentences).id, "unseen")


def _tables(store: Store) -> dict[str, list]:
    """Every row of the document tables, ids replaced by what they point at, in a stable order."""
    with store.reading() as s:
        docs = {d.id: d.sha256 for d in s.scalars(select(DocumentT))}
        sents = {x.id: (docs[x.document_id], x.position) for x in s.scalars(select(SentenceT))}
        names = {a.id: a.name for a in s.scalars(select(AnnotatorT))}
        rels: dict[int, tuple] = {}  # relation id -> (its sentence, its place among the sentence's relations)
        seen: dict[tuple, int] = {}
        for r in s.scalars(select(RelationT).order_by(RelationT.id)):
            key = sents[r.sentence_id]
            rels[r.id] = (key, seen.get(key, 0))
            seen[key] = seen.get(key, 0) + 1

        def row(obj, drop=()) -> dict:
            return {c.name: getattr(obj, c.name) for c in obj.__table__.columns if c.name not in ("id", *drop)}

        out = {
            "documents": sorted((row(d, ("created",)) for d in s.scalars(select(DocumentT))), key=repr),
            "sentences": sorted(({**row(x), "document_id": docs[x.document_id]} for x in s.scalars(select(SentenceT))),
                                key=repr),
            "sentence_status": sorted(({**row(m), "sentence_id": sents[m.sentence_id], "annotator_id": names[m.annotator_id]}
                                       for m in s.scalars(select(SentenceStatusT))), key=repr),
            "relations": [{**row(r), "sentence_id": sents[r.sentence_id]}
                          for r in s.scalars(select(RelationT).order_by(RelationT.id))],
            "suggestions": [{**row(x), "sentence_id": sents[x.sentence_id],
                             "relation_id": rels.get(x.relation_id)}
                            for x in s.scalars(select(SuggestionT).order_by(SuggestionT.id))],
            "annotators": sorted(names[i] for i in {m.annotator_id for m in s.scalars(select(SentenceStatusT))})
                          + sorted({r.annotator for r in s.scalars(select(RelationT)) if r.annotator}),
        }
    # Relations of one sentence keep their order; across sentences the import order is the file's.
    out["relations"].sort(key=lambda r: (repr(r["sentence_id"])))
    out["suggestions"].sort(key=lambda r: (repr(r["sentence_id"])))
    return out


@pytest.mark.parametrize("seed", range(25))
def test_export_import_gives_the_same_tables(tmp_path, seed):
    rng = random.Random(seed)
    first = Store(str(tmp_path / "first.db"))
    _fill(first, rng)
    text = write_jsonl(first.export_documents())
    second = Store(str(tmp_path / "second.db"))
    second.import_documents(read_jsonl("all.jsonl", text.encode()))
    before, after = _tables(first), _tables(second)
    assert before["suggestions"] or seed % 5  # the generator does make suggestions
    for table in before:
        assert after[table] == before[table], table
    assert write_jsonl(second.export_documents()) == text
    first.close()
    second.close()
