"""A small invented review world shared by the review tests: two papers, two annotators and an
LLM block, as rows in a real store. Every number the tests expect is derived from it by hand."""
from __future__ import annotations

from core.types import ParsedDocument, ParsedSentence, PassageRelation
from data.store import Store

REEF = ["Warmer water reduces coral cover on the reef.",
        "Fishing pressure lowers parrotfish numbers.",
        "Parrotfish grazing increases coral recovery.",
        "The survey ran for three years."]
KELP = ["Sea urchins reduce kelp forests.",
        "Kelp forests shelter young cod."]
GPT_REEF = [[{"src": "warm water", "tgt": "coral", "direction": "Decrease"}],
            [{"src": "fishing", "tgt": "parrotfish numbers", "direction": "increase"}],
            None, []]
GPT_KELP = [[{"src": "urchins", "tgt": "kelp", "direction": "decrease"}],
            [{"src": "kelp", "tgt": "cod", "direction": "increase"}]]


def paper(name, texts, llm):
    return ParsedDocument(name, f"sha-{name}", [
        ParsedSentence(t, page=1, llm=None if block is None else {"GPT": block}) for t, block in zip(texts, llm)],
        title=name.split(".")[0].title())


def label(who, src, tgt, sign, **kw):
    return PassageRelation(src, tgt, sign, annotator=who, **kw)


def build_world(store: Store) -> tuple[int, int, list[int], list[int]]:
    """Two documents; ann labels both, bob labels the reef only. Both read every reef sentence (one
    without their relation they mark no relation). Returns (reef, kelp, reef sentence ids, kelp
    sentence ids)."""
    reef_id, kelp_id = store.import_documents([paper("reef.txt", REEF, GPT_REEF), paper("kelp.txt", KELP, GPT_KELP)])
    r = [s.id for s in store.sentences(reef_id)]
    k = [s.id for s in store.sentences(kelp_id)]
    store.add_relation(r[0], label("ann", "warmer water", "coral cover", -1))
    store.add_relation(r[1], label("ann", "fishing pressure", "parrotfish numbers", -1))
    store.add_relation(r[2], label("ann", "parrotfish grazing", "coral recovery", +1, strength="H"))
    store.add_relation(r[0], label("bob", "warmer water", "coral cover", -1))
    store.add_relation(r[1], label("bob", "fishing pressure", "parrotfish", -1))
    store.add_relation(r[3], label("bob", "survey", "years", +1))
    store.set_status(r[3], "no-relation", "ann")
    store.set_status(r[2], "no-relation", "bob")
    store.add_relation(k[0], label("ann", "sea urchins", "kelp forests", -1))
    store.set_status(k[1], "no-relation", "ann")
    return reef_id, kelp_id, r, k
