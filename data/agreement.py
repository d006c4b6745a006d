"""Agreement between annotators, and scoring other systems against reference labels.

Why here and not in the app: the same matcher serves the Agreement and Compare pages and the
relation model's end-to-end metric, so it must be a plain, unit-tested function.

A relation is anything with a source, a target and a sign: a PassageRelation, a store RelationRow
or SuggestionRow, an Evidence, or a TwoSix "LLM" dict ({"src", "tgt", "direction"}).
Matching is always inside one sentence and one-to-one (a maximum bipartite matching, so one
loose prediction cannot claim two gold relations).
"""
from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from data.roles import Acting, check_reviews
from data.types import PassageRelation, Span

if TYPE_CHECKING:  # the store is only needed by the functions that read one
    from data.store import RelationRow, SentenceRow, Store

MatchMode = Literal["overlap", "exact"]
GOLD = "gold"
"""Annotator name that holds adjudicated labels."""

STOPWORDS = frozenset(
    "a an the of in on at to for from by with and or as is are was were be been its their this that "
    "these those".split()
)
"""Words that alone never make two concept texts 'the same concept'."""

_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Rel:
    """The fields matching needs, whatever record a relation came in."""

    src: str
    tgt: str
    sign: int
    src_span: Span | None = None
    tgt_span: Span | None = None


def direction_sign(direction: Any) -> int:
    """TwoSix 'increase'/'Increase' -> +1, 'decrease' -> -1, anything else -> 0 (matches no sign)."""
    word = str(direction or "").strip().casefold()
    return {"increase": 1, "decrease": -1, "+": 1, "-": -1}.get(word, 0)


def as_rel(obj: Any) -> Rel:
    """View any supported relation record as a Rel."""
    if isinstance(obj, Rel):
        return obj
    if isinstance(obj, Mapping):
        sign = obj["sign"] if "sign" in obj else direction_sign(obj.get("direction"))
        return Rel(str(obj.get("src", "")), str(obj.get("tgt", "")), int(sign),
                   _span(obj.get("src_span")), _span(obj.get("tgt_span")))
    if hasattr(obj, "src"):  # PassageRelation
        return Rel(obj.src, obj.tgt, int(obj.sign), _span(obj.src_span), _span(obj.tgt_span))
    return Rel(obj.source, obj.target, int(obj.sign),  # RelationRow, SuggestionRow, Evidence
               _span(getattr(obj, "source_span", None)), _span(getattr(obj, "target_span", None)))


def _span(value: Any) -> Span | None:
    return None if value is None else (int(value[0]), int(value[1]))


def normalize(text: str) -> str:
    """Case-folded, single-spaced concept text."""
    return " ".join(text.casefold().split())


def _singular(word: str) -> str:
    """'farms' -> 'farm' (not 'grass' or 'gas'): plural and singular mentions share a word."""
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def content_words(text: str) -> frozenset[str]:
    """Words of a concept text without stop words (all words if it has nothing else), singular."""
    words = _WORD.findall(text.casefold())
    content = [w for w in words if w not in STOPWORDS] or words
    return frozenset(_singular(w) for w in content)


def concepts_match(a: str, b: str, a_span: Span | None = None, b_span: Span | None = None,
                   mode: MatchMode = "overlap") -> bool:
    """Do two concept mentions name the same thing?

    exact: identical spans when both have one, else identical normalised text.
    overlap: overlapping spans, or at least one shared content word (the seed's rule).
    """
    if mode == "exact":
        if a_span is not None and b_span is not None:
            return a_span == b_span
        return normalize(a) == normalize(b)
    if mode != "overlap":
        raise ValueError(f"unknown match mode {mode!r}")
    if a_span is not None and b_span is not None and a_span[0] < b_span[1] and b_span[0] < a_span[1]:
        return True
    return bool(content_words(a) & content_words(b))


def relations_match(pred: Any, gold: Any, mode: MatchMode = "overlap") -> bool:
    """Same sign (a gold sign of 0, 'unknown', accepts either), and source and target match."""
    p, g = as_rel(pred), as_rel(gold)
    return ((p.sign == g.sign or g.sign == 0)
            and concepts_match(p.src, g.src, p.src_span, g.src_span, mode)
            and concepts_match(p.tgt, g.tgt, p.tgt_span, g.tgt_span, mode))


def match_relations(pred: Sequence[Any], gold: Sequence[Any],
                    mode: MatchMode = "overlap") -> list[tuple[int, int]]:
    """A maximum one-to-one matching of one sentence's predicted and gold relations.

    Returns (pred index, gold index) pairs sorted by pred index. Exact pairs are matched first and
    looser ones only added by augmenting paths, so of equally large matchings the tightest is kept.
    """
    p_rels, g_rels = [as_rel(r) for r in pred], [as_rel(r) for r in gold]
    exact = [[j for j, g in enumerate(g_rels) if relations_match(p, g, "exact")] for p in p_rels]
    loose = [[j for j, g in enumerate(g_rels) if j not in ex and relations_match(p, g, mode)]
             for p, ex in zip(p_rels, exact)] if mode != "exact" else [[] for _ in p_rels]
    owner: dict[int, int] = {}  # gold index -> pred index

    def augment(i: int, options: list[list[int]], seen: set[int]) -> bool:  # Kuhn's augmenting path
        for j in options[i]:
            if j in seen:
                continue
            seen.add(j)
            if j not in owner or augment(owner[j], options, seen):
                owner[j] = i
                return True
        return False

    for i in range(len(p_rels)):  # exact pairs first, so the tightest matching is kept
        augment(i, exact, set())
    both = [ex + lo for ex, lo in zip(exact, loose)]
    for i in range(len(p_rels)):
        if i not in owner.values():
            augment(i, both, set())
    return sorted((i, j) for j, i in owner.items())


@dataclass
class PRF:
    """Counts behind precision / recall / F1; undefined ratios are None, not a fake 0 or 1."""

    tp: int = 0
    n_pred: int = 0
    n_gold: int = 0

    @property
    def precision(self) -> float | None:
        return self.tp / self.n_pred if self.n_pred else None

    @property
    def recall(self) -> float | None:
        return self.tp / self.n_gold if self.n_gold else None

    @property
    def f1(self) -> float | None:
        total = self.n_pred + self.n_gold
        return 2 * self.tp / total if total else None

    def __add__(self, other: PRF) -> PRF:
        return PRF(self.tp + other.tp, self.n_pred + other.n_pred, self.n_gold + other.n_gold)

    def as_dict(self) -> dict[str, Any]:
        return {"tp": self.tp, "predicted": self.n_pred, "reference": self.n_gold,
                "precision": self.precision, "recall": self.recall, "f1": self.f1}


@dataclass
class Mismatch:
    """A relation without a partner: 'spurious' (predicted only) or 'missed' (reference only)."""

    sentence: Hashable
    kind: Literal["spurious", "missed"]
    relation: Any


@dataclass
class Score:
    """Micro-averaged P/R/F1 over sentences, per group (e.g. document), and what did not match."""

    total: PRF
    groups: dict[Hashable, PRF] = field(default_factory=dict)
    mismatches: list[Mismatch] = field(default_factory=list)
    n_sentences: int = 0
    """How many sentences were scored."""


def score(pred: Mapping[Hashable, Sequence[Any]], gold: Mapping[Hashable, Sequence[Any]],
          sentences: Iterable[Hashable], mode: MatchMode = "overlap",
          group_of: Mapping[Hashable, Hashable] | None = None) -> Score:
    """Score predictions against reference relations on the given sentences (missing = none)."""
    result = Score(PRF())
    for s in sentences:
        p, g = list(pred.get(s, ())), list(gold.get(s, ()))
        pairs = match_relations(p, g, mode)
        prf = PRF(len(pairs), len(p), len(g))
        result.total = result.total + prf
        result.n_sentences += 1
        if group_of is not None:
            key = group_of[s]
            result.groups[key] = result.groups.get(key, PRF()) + prf
        matched_p, matched_g = {i for i, _ in pairs}, {j for _, j in pairs}
        result.mismatches += [Mismatch(s, "spurious", r) for i, r in enumerate(p) if i not in matched_p]
        result.mismatches += [Mismatch(s, "missed", r) for j, r in enumerate(g) if j not in matched_g]
    return result


def fmt_measure(x: float | None) -> str:
    """A precision / recall / F1 / kappa for display: three decimals, or "–" when undefined
    (None, e.g. kappa when both annotators always say the same)."""
    return "–" if x is None else f"{x:.3f}"


def cohen_kappa(a: Sequence[bool], b: Sequence[bool]) -> float | None:
    """Cohen's kappa of two binary judgements; None when chance agreement is 1 (undefined)."""
    if len(a) != len(b):
        raise ValueError("both annotators must judge the same items")
    n = len(a)
    if n == 0:
        return None
    observed = sum(x == y for x, y in zip(a, b)) / n
    pa, pb = sum(a) / n, sum(b) / n
    chance = pa * pb + (1 - pa) * (1 - pb)
    if chance == 1:
        return None
    return (observed - chance) / (1 - chance)


@dataclass
class Disagreement:
    """One sentence where the two annotators' relations differ (unmatched under exact match)."""

    sentence: Hashable
    only_a: list[Any]
    only_b: list[Any]
    partial: list[tuple[Any, Any]]
    """Pairs that match loosely (overlapping concepts) but not exactly: boundary disagreements."""


@dataclass
class Agreement:
    """Two annotators on their shared sentences.

    exact / partial: A's relations scored against B's (precision = share of A's found by B; F1 is
    symmetric). kappa: Cohen's kappa on 'the sentence has a relation'. table: counts of sentences
    (both, only A, only B, neither).
    """

    n_sentences: int
    exact: PRF
    partial: PRF
    kappa: float | None
    table: dict[str, int]
    disagreements: list[Disagreement]


def agreement(a: Mapping[Hashable, Sequence[Any]], b: Mapping[Hashable, Sequence[Any]],
              sentences: Iterable[Hashable]) -> Agreement:
    """Relation-level and sentence-level agreement of annotator A with annotator B."""
    sentences = list(sentences)
    exact = score(a, b, sentences, "exact")
    partial = score(a, b, sentences, "overlap")
    has_a = [bool(a.get(s)) for s in sentences]
    has_b = [bool(b.get(s)) for s in sentences]
    table = {"both": 0, "only_a": 0, "only_b": 0, "neither": 0}
    for x, y in zip(has_a, has_b):
        table["both" if x and y else "only_a" if x else "only_b" if y else "neither"] += 1
    disagreements = []
    for s in sentences:
        ra, rb = list(a.get(s, ())), list(b.get(s, ()))
        pairs = match_relations(ra, rb, "exact")
        left_a = [r for i, r in enumerate(ra) if i not in {p for p, _ in pairs}]
        left_b = [r for j, r in enumerate(rb) if j not in {g for _, g in pairs}]
        if not (left_a or left_b):
            continue
        loose = match_relations(left_a, left_b, "overlap")
        disagreements.append(Disagreement(
            s,
            [r for i, r in enumerate(left_a) if i not in {p for p, _ in loose}],
            [r for j, r in enumerate(left_b) if j not in {g for _, g in loose}],
            [(left_a[i], left_b[j]) for i, j in loose],
        ))
    return Agreement(len(sentences), exact.total, partial.total, cohen_kappa(has_a, has_b),
                     table, disagreements)


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


def conflicts(a: Any, b: Any) -> bool:
    """Two versions of one relation: the same source and target (overlapping concepts), but a
    different sign or different spans. The reverse direction is another relation, no conflict."""
    p, q = as_rel(a), as_rel(b)
    return (concepts_match(p.src, q.src, p.src_span, q.src_span) and concepts_match(p.tgt, q.tgt, p.tgt_span, q.tgt_span)
            and not relations_match(p, q, "exact"))


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
    that data.suggest made from an LLM block (model_id 'llm:...') are that block again: skipped.

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
            if (r.model_id or "").startswith("llm:"):  # the LLM block again (data.suggest stand-in)
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
                  mode: MatchMode = "overlap") -> dict[str, Score]:
    """Each system scored against the reference annotator on the sentences both judged (the
    reference labelled them or marked them 'no-relation', and the system covers them), with
    per-document P/R/F1 and the mismatches. Keys are 'llm:NAME' / 'model:NAME'."""
    docs = _document_ids(store, document_ids)
    judged = {s.id: s.document_id for s in judged_sentences(store, reference, docs)}
    gold: dict[int, list[Any]] = {}
    for d in docs:
        gold.update(_by_sentence(store.relations(document_id=d, annotator=reference)))
    results = {}
    for out in system_outputs(store, docs):
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
    """The seed's per-sentence view: each system of a sentence's LLM block, what it proposed, and
    its P/R/F1 against the sentence's labels (None where undefined)."""
    rows = []
    for system, rels in (llm or {}).items():
        prf = score({0: list(rels or [])}, {0: list(labels)}, [0], mode).total
        rows.append({"system": system, "relations": "; ".join(describe(r) for r in rels or []),
                     "precision": prf.precision, "recall": prf.recall, "f1": prf.f1})
    return rows
