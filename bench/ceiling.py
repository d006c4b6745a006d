"""How much of the gold end-to-end extraction can reach at all, by the held-out check's rule.

A gold relation is reachable when one candidate pair of its passage (models.candidates, the pairs
the relation model scores) has one span matching the gold src and the other the gold tgt by the
held-out check's rule (core.metrics.twosix_concepts_match: Jaccard >= 0.5 on the words), in
either order. A model that picks perfectly among the candidates and gets every sign right then
scores recall = that share and precision 1: the F1 ceiling of span extraction on the source.
Each gold concept that no span matches is put down to one of: its words are not all in the
passage (a paraphrase or another inflection: "getting pregnant" for "get pregnant"), the closest
span is shorter, longer, or neither.

    python bench/ceiling.py --data FORMAT:PATH [--data ...] [--sources a,b] [--granular] [--verb-phrases]

--verb-phrases also measures what candidates named the way SIFT's annotators name events would add:
each verb with its object, complement and attachments, named with the verb as a gerund ("they go to
the hospital" -> "going to hospital"; "not" kept; also with the verb's noun subject in front: "farmers
deserting farmlands"). These names are not text spans, so this figure counts any two distinct
names of the passage as a pair (no pair limit), beside the same count for the spans alone.

Folds are those of `evaluate --loso` (each SIFT source named, each TwoSix file). Prints a table
and, as its last line, the JSON {fold: {...}, "mean": {...}}.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.metrics import twosix_concepts_match, twosix_words  # noqa: E402
from core.types import Candidate, PassageRelation  # noqa: E402

MISSES = ("words not in passage", "span shorter", "span longer", "other")


def miss_kind(name: str, text: str, spans: Sequence[str]) -> str:
    """Why no span matches the gold concept `name` in `text` (one of MISSES)."""
    gold = twosix_words(name)
    if not gold <= twosix_words(text):
        return MISSES[0]
    closest = max(spans, key=lambda s: len(twosix_words(s) & gold) / max(len(twosix_words(s) | gold), 1), default="")
    words = twosix_words(closest)
    return MISSES[1] if words < gold else MISSES[2] if words > gold else MISSES[3]


def reach(text: str, candidates: Sequence[Candidate], gold: Sequence[PassageRelation]) -> tuple[int, Counter]:
    """(gold relations some candidate pair reaches, why each unmatched gold concept is missed)."""
    pairs = [(text[c.a[0]:c.a[1]], text[c.b[0]:c.b[1]]) for c in candidates]
    spans = sorted({s for pair in pairs for s in pair})
    reached, missed = 0, Counter()
    for r in gold:
        reached += any((twosix_concepts_match(a, r.src) and twosix_concepts_match(b, r.tgt))
                       or (twosix_concepts_match(b, r.src) and twosix_concepts_match(a, r.tgt)) for a, b in pairs)
        for name in (r.src, r.tgt):
            if not any(twosix_concepts_match(s, name) for s in spans):
                missed[miss_kind(name, text, spans)] += 1
    return reached, missed


def gerund(verb: str) -> str:
    """The -ing form of a verb's lemma ("go" -> "going", "make" -> "making", "die" -> "dying",
    "stop" -> "stopping"); a rule of thumb, right for the common cases."""
    v = verb.lower()
    if v.endswith("ie"):
        return v[:-2] + "ying"
    if v.endswith("e") and v != "be" and not v.endswith(("ee", "ye", "oe")):
        return v[:-1] + "ing"
    if len(v) in (3, 4) and v[-1] in "bdgmnprt" and v[-2] in "aeiou" and v[-3] not in "aeiou":
        return v + v[-1] + "ing"
    return v + "ing"


VP_PARTS = ("dobj", "prep", "prt", "acomp", "attr", "oprd", "dative", "xcomp", "npadvmod", "advmod")


def lemma_nlp():
    """The candidates' spaCy pipeline with its lemmatizer (models.candidates.nlp leaves it out)."""
    import spacy

    from models.candidates import SPACY_MODEL

    return spacy.load(SPACY_MODEL, exclude=["ner"])


def verb_phrase_names(doc) -> list[str]:
    """Each verb of a passage (parsed by lemma_nlp) with what follows it in VP_PARTS, named as a
    gerund phrase, with "not" where the verb is negated, and again with its noun subject in front."""
    out = []
    for t in doc:
        if t.pos_ != "VERB":
            continue
        end = max([c.right_edge.i for c in t.rights if c.dep_ in VP_PARTS], default=t.i) + 1
        rest = doc[t.i + 1:end].text
        name = ("not " if any(c.dep_ == "neg" for c in t.lefts) else "") + (
            t.lower_ if t.tag_ == "VBG" else gerund(t.lemma_)) + (f" {rest}" if rest else "")
        out.append(name)
        subject = [c for c in t.lefts if c.dep_ in ("nsubj", "nsubjpass") and c.pos_ in ("NOUN", "PROPN")]
        if subject:
            out.append(f"{subject[0].text} {name}")
    return out


def reach_names(names: Sequence[str], gold: Sequence[PassageRelation]) -> int:
    """Gold relations whose src and tgt match two distinct names among `names`."""
    return sum(any(i != j for i, a in enumerate(names) if twosix_concepts_match(a, r.src)
                   for j, b in enumerate(names) if twosix_concepts_match(b, r.tgt)) for r in gold)


def fold_ceiling(passages: Sequence, granular: bool, verb_phrases: bool = False) -> dict:
    """The share of a fold's gold relations reachable, the F1 ceiling and the misses by kind."""
    from models.candidates import concept_spans_batch, make_candidates_batch

    texts = [p.text for p in passages]
    cands = make_candidates_batch(texts, granular=granular)
    reached, missed, n = 0, Counter(), 0
    for p, cs in zip(passages, cands):
        got, why = reach(p.text, cs, p.relations)
        reached, n = reached + got, n + len(p.relations)
        missed += why
    share = reached / n if n else 0.0
    out = {"gold_relations": n, "reachable": round(share, 3),
           "f1_ceiling": round(2 * share / (1 + share), 3) if share else 0.0,
           "concepts_missed": {k: missed[k] for k in MISSES},
           "candidates_per_passage": round(sum(map(len, cands)) / max(len(passages), 1), 1)}
    if verb_phrases and n:
        spans = concept_spans_batch(texts, granular=granular)
        names = [[t[a:b] for a, b in sp] for t, sp in zip(texts, spans)]
        verbs = [verb_phrase_names(doc) for doc in lemma_nlp().pipe(texts, batch_size=64)]
        out["span_pairs_reachable"] = round(sum(reach_names(ns, p.relations) for ns, p in zip(names, passages)) / n, 3)
        out["with_verb_phrases_reachable"] = round(sum(reach_names(ns + vs, p.relations)
                                                       for ns, vs, p in zip(names, verbs, passages)) / n, 3)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    from models.loso import SIFT_SOURCES, make_folds

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", action="append", required=True, help="FORMAT:PATH, as for evaluate --loso")
    ap.add_argument("--sources", default=",".join(SIFT_SOURCES), help="SIFT sources that are folds")
    ap.add_argument("--granular", action="store_true", help="candidates at several granularities (train --granular)")
    ap.add_argument("--verb-phrases", action="store_true", help="also count gerund-named verb phrases (see above)")
    args = ap.parse_args(argv)
    folds = make_folds(args.data, [s for s in args.sources.split(",") if s], sentences=False,
                       progress=lambda msg: print(msg, file=sys.stderr))
    out = {f.name: fold_ceiling(f.data.passages, args.granular, args.verb_phrases) for f in folds}
    extra = ("span_pairs_reachable", "with_verb_phrases_reachable") if args.verb_phrases else ()
    print("| fold | gold | candidate pairs per passage | reachable | F1 ceiling | gold concepts missed: "
          + " / ".join(MISSES) + "".join(f" | {k}" for k in extra) + " |\n|---|---|---|---|---|---|" + "---|" * len(extra))
    for name, r in out.items():
        print(f"| {name} | {r['gold_relations']} | {r['candidates_per_passage']} | {r['reachable']:.3f} | "
              f"{r['f1_ceiling']:.3f} | " + " / ".join(str(v) for v in r["concepts_missed"].values())
              + "".join(f" | {r.get(k, 0):.3f}" for k in extra) + " |")
    out["mean"] = {k: round(sum(r.get(k, 0) for r in out.values()) / len(folds), 3)
                   for k in ("reachable", "f1_ceiling", *extra)}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
