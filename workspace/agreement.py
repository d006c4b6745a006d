"""Agreement between annotators and scores of other systems, read from the store: shared
sentences, adjudication into gold, adopting agreed relations, and the rows the Agreement and
Compare pages show. The matching and the scores themselves are core.matching and core.metrics.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from core.matching import MatchMode, as_rel, conflicts, match_relations, relations_match
from core.metrics import Agreement, Score, agreement, score
from core.types import PassageRelation
from data.roles import Acting, check_reviews

if TYPE_CHECKING:  # the store is only needed by the functions that read one
    from data.store import RelationRow, SentenceRow, Store

GOLD = "gold"
"""Annotator name that holds adjudicated labels."""

# ---------------------------------------------------------------- reading the store

def _by_sentence(rows: Iterable[Any]) -> dict[int, list[Any]]:
    out: dict[int, list[Any]] = {}
    for r in rows:
        out.setdefault(r.sentence_id, []).append(r)
    return out


def _document_ids(store: Store, document_ids: Iterable[int] | None) -> list[int]:
    return [d.id for d in store.list_documents()] if document_ids is None else list(document_ids)


JUDGED = ("labeled", "no-relation")
"""A sentence an annotator has judged: labelled it, or read it and marked "no relation"."""


def shared_documents(store: Store, annotator_a: str, annotator_b: str) -> list[int]:
    """Documents in which both annotators have judged at least one sentence."""
    judged = [{d.id for d in store.list_documents(who) if d.n_labeled + d.n_no_relation}
              for who in (annotator_a, annotator_b)]
    return sorted(judged[0] & judged[1])


def shared_sentences(store: Store, document_ids: Iterable[int], annotator_a: str,
                     annotator_b: str) -> list[SentenceRow]:
    """The sentences both annotators judged (each labelled it or marked it "no relation"), as A
    sees them. Why only those: a sentence one of them has not read yet is no evidence of agreement
    or disagreement, and counting it as "no relation" inflated kappa. A sentence either of them
    discarded, and the reference list, are left out too."""
    out = []
    for d in document_ids:
        seen_b = {s.id for s in store.sentences(d, annotator_b) if s.status in JUDGED}
        out += [s for s in store.sentences(d, annotator_a)
                if s.status in JUDGED and s.id in seen_b and not s.is_reference]
    return out


def store_agreement(store: Store, annotator_a: str, annotator_b: str, document_ids: Iterable[int] | None = None,
                    within: set[int] | None = None) -> tuple[Agreement, list[SentenceRow]]:
    """Agreement of two annotators on the sentences both judged in their shared documents (or the
    given ones); `within`: only these sentence ids (e.g. the part assigned to both)."""
    docs = shared_documents(store, annotator_a, annotator_b) if document_ids is None else list(document_ids)
    sentences = [s for s in shared_sentences(store, docs, annotator_a, annotator_b) if within is None or s.id in within]
    a: dict[int, list[Any]] = {}
    b: dict[int, list[Any]] = {}
    for d in docs:
        for sid, rows in _by_sentence(store.relations(document_id=d, annotator=annotator_a)).items():
            a.setdefault(sid, []).extend(rows)
        for sid, rows in _by_sentence(store.relations(document_id=d, annotator=annotator_b)).items():
            b.setdefault(sid, []).extend(rows)
    return agreement(a, b, [s.id for s in sentences]), sentences


def adjudicate(store: Store, relation: RelationRow, gold: str = GOLD, by: Acting = None) -> int | None:
    """Make a relation gold's version; returns the new id, or None if gold already has it. A gold
    version it conflicts with (see conflicts) is replaced: adjudication chooses one version of a
    relation, it never keeps both. A signed-in `by` must be a reviewer or admin."""
    check_reviews(by, "adjudication")
    existing = store.relations(sentence_id=relation.sentence_id, annotator=gold)
    if any(relations_match(relation, g, "exact") for g in existing):
        return None
    store.ensure_annotator(gold)
    for g in existing:
        if conflicts(relation, g):
            store.delete_relation(g.id, gold)
    return store.add_relation(relation.sentence_id, PassageRelation(
        src=relation.source, tgt=relation.target, sign=relation.sign,
        src_span=relation.source_span, tgt_span=relation.target_span,
        strength=relation.strength, annotator=gold, origin="human",
        model_id=relation.model_id, score=relation.score,
        note=f"adjudicated from {relation.annotator or relation.origin} (relation {relation.id})",
    ))


@dataclass
class SystemOutput:
    """Another system's relations per sentence, and the sentences it was run on."""

    name: str
    kind: Literal["llm", "model"]
    relations: dict[int, list[Any]]
    covered: set[int]


def system_outputs(store: Store, document_ids: Iterable[int] | None = None) -> list[SystemOutput]:
    """Every other system in the given documents: TwoSix 'LLM' blocks (one system per key) and
    model bundles (suggestions in any state, plus model-origin relations, per model_id). Suggestions
    that workspace.suggest made from an LLM block (model_id 'llm:...') are that block again: skipped.

    An LLM system covers the sentences whose block names it (an empty list there is a real 'no
    relation'); a model covers the sentences it was run on (data.model_runs) and those it proposed
    something for.
    """
    from data.model_runs import runs_by_model  # here: matching itself must import without the store

    docs = _document_ids(store, document_ids)
    systems: dict[tuple[str, str], SystemOutput] = {
        ("model", name): SystemOutput(name, "model", {}, ran) for name, ran in runs_by_model(store, docs).items()}
    for d in docs:
        for s in store.sentences(d):
            for name, rels in (s.llm or {}).items():
                out = systems.setdefault(("llm", name), SystemOutput(name, "llm", {}, set()))
                out.covered.add(s.id)
                out.relations.setdefault(s.id, []).extend(rels or [])
        model_rows = store.suggestions(document_id=d, state=None) + store.relations(document_id=d, origin="model")
        for r in model_rows:
            if (r.model_id or "").startswith("llm:"):  # the LLM block again (workspace.suggest stand-in)
                continue
            name = r.model_id or "model"
            out = systems.setdefault(("model", name), SystemOutput(name, "model", {}, set()))
            out.relations.setdefault(r.sentence_id, []).append(r)
            out.covered.add(r.sentence_id)
    return sorted(systems.values(), key=lambda o: (o.kind, o.name))


def judged_sentences(store: Store, reference: str, document_ids: Iterable[int] | None = None) -> list[SentenceRow]:
    """The sentences the reference annotator judged (labelled, or marked 'no relation'), in
    document order: what systems are scored on."""
    return [s for d in _document_ids(store, document_ids) for s in store.sentences(d, reference)
            if s.status in JUDGED]


def score_systems(store: Store, reference: str, document_ids: Iterable[int] | None = None,
                  mode: MatchMode = "overlap", outputs: Sequence[SystemOutput] | None = None) -> dict[str, Score]:
    """Each system scored against the reference annotator on the sentences both judged (the
    reference labelled them or marked them 'no-relation', and the system covers them), with
    per-document P/R/F1 and the mismatches. Keys are 'llm:NAME' / 'model:NAME'. outputs:
    system_outputs of these documents, when the caller has read them already."""
    docs = _document_ids(store, document_ids)
    judged = {s.id: s.document_id for s in judged_sentences(store, reference, docs)}
    gold: dict[int, list[Any]] = {}
    for d in docs:
        gold.update(_by_sentence(store.relations(document_id=d, annotator=reference)))
    results = {}
    for out in system_outputs(store, docs) if outputs is None else outputs:
        sentences = [s for s in judged if s in out.covered]
        results[f"{out.kind}:{out.name}"] = score(out.relations, gold, sentences, mode, group_of=judged)
    return results


def adopt_agreed(store: Store, annotator_a: str, annotator_b: str, document_ids: Iterable[int],
                 gold: str = GOLD, by: Acting = None) -> int:
    """Copy every relation both annotators labelled identically (exact match) into gold, and mark
    "no relation" for gold where both did (so systems scored against gold are judged there too);
    returns how many relations and marks were new there. A signed-in `by` must be a reviewer or admin."""
    check_reviews(by, "adjudication")
    added = 0
    for d in document_ids:
        a = _by_sentence(store.relations(document_id=d, annotator=annotator_a))
        b = _by_sentence(store.relations(document_id=d, annotator=annotator_b))
        for sid in a.keys() & b.keys():
            for i, _ in match_relations(a[sid], b[sid], "exact"):
                added += adjudicate(store, a[sid][i], gold) is not None
        views = [store.sentences(d, who) for who in (annotator_a, annotator_b, gold)]
        for sa, sb, sg in zip(*views):
            if sa.status == sb.status == "no-relation" and sg.status == "unseen":
                store.set_status(sa.id, "no-relation", gold)
                added += 1
    return added


def describe(relation: Any) -> str:
    """'source → target (+)' for lists and buttons."""
    r = as_rel(relation)
    sign = {1: "+", -1: "−"}.get(r.sign, "?")
    return f"{r.src} → {r.tgt} ({sign})"


def mismatch_rows(result: Score, sentences: Mapping[int, SentenceRow],
                  titles: Mapping[int, str]) -> list[dict[str, Any]]:
    """The mismatches of a system score as table rows with document and sentence text."""
    rows = []
    for m in result.mismatches:
        s = sentences[m.sentence]
        rows.append({"document": titles[s.document_id], "sentence #": s.index + 1,
                     "kind": "only the system" if m.kind == "spurious" else "only the reference",
                     "relation": describe(m.relation), "sentence": s.text})
    return rows


def sentence_system_rows(llm: Mapping[str, Sequence[Any]] | None, labels: Sequence[Any],
                         mode: MatchMode = "overlap") -> list[dict[str, Any]]:
    """The per-sentence view: each system of a sentence's LLM block, what it proposed, and
    its P/R/F1 against the sentence's labels (None where undefined)."""
    rows = []
    for system, rels in (llm or {}).items():
        prf = score({0: list(rels or [])}, {0: list(labels)}, [0], mode).total
        rows.append({"system": system, "relations": "; ".join(describe(r) for r in rels or []),
                     "precision": prf.precision, "recall": prf.recall, "f1": prf.f1})
    return rows
