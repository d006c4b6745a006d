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

--verb-phrases: verb phrases are candidates too, named as gerund phrases the way SIFT's annotators
name events (models.candidates.span_name: "they go to the hospital" -> "going to the hospital").

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

from core.metrics import twosix_concepts_match, twosix_overlap, twosix_words  # noqa: E402
from core.types import Candidate, PassageRelation  # noqa: E402
from models.candidates import DEFAULT_CANDIDATES, CandidateSettings, span_name  # noqa: E402

MISSES = ("words not in passage", "span shorter", "span longer", "other")


def miss_kind(name: str, text: str, spans: Sequence[str]) -> str:
    """Why no span matches the gold concept `name` in `text` (one of MISSES)."""
    gold = twosix_words(name)
    if not gold <= twosix_words(text):
        return MISSES[0]
    closest = max(spans, key=lambda s: twosix_overlap(s, name), default="")
    words = twosix_words(closest)
    return MISSES[1] if words < gold else MISSES[2] if words > gold else MISSES[3]


def reach(text: str, candidates: Sequence[Candidate], gold: Sequence[PassageRelation],
          settings: CandidateSettings = DEFAULT_CANDIDATES) -> tuple[int, Counter]:
    """(gold relations some candidate pair reaches, why each unmatched gold concept is missed); the
    candidates' names as extraction gives them (models.candidates.span_name)."""
    pairs = [(span_name(text, c.a, settings), span_name(text, c.b, settings)) for c in candidates]
    spans = sorted({s for pair in pairs for s in pair})
    reached, missed = 0, Counter()
    for r in gold:
        reached += any((twosix_concepts_match(a, r.src) and twosix_concepts_match(b, r.tgt))
                       or (twosix_concepts_match(b, r.src) and twosix_concepts_match(a, r.tgt)) for a, b in pairs)
        for name in (r.src, r.tgt):
            if not any(twosix_concepts_match(s, name) for s in spans):
                missed[miss_kind(name, text, spans)] += 1
    return reached, missed


def fold_ceiling(passages: Sequence, settings: CandidateSettings = DEFAULT_CANDIDATES) -> dict:
    """The share of a fold's gold relations reachable, the F1 ceiling and the misses by kind."""
    from models.candidates import make_candidates_batch

    cands = make_candidates_batch([p.text for p in passages], (), settings)
    reached, missed, n = 0, Counter(), 0
    for p, cs in zip(passages, cands):
        got, why = reach(p.text, cs, p.relations, settings)
        reached, n = reached + got, n + len(p.relations)
        missed += why
    share = reached / n if n else 0.0
    return {"gold_relations": n, "reachable": round(share, 3),
            "f1_ceiling": round(2 * share / (1 + share), 3) if share else 0.0,
            "concepts_missed": {k: missed[k] for k in MISSES},
            "candidates_per_passage": round(sum(map(len, cands)) / max(len(passages), 1), 1)}


def main(argv: Sequence[str] | None = None) -> int:
    from models.loso import SIFT_SOURCES, make_folds

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", action="append", required=True, help="FORMAT:PATH, as for evaluate --loso")
    ap.add_argument("--sources", default=",".join(SIFT_SOURCES), help="SIFT sources that are folds")
    ap.add_argument("--granular", action="store_true", help="candidates at several granularities (train --granular)")
    ap.add_argument("--verb-phrases", action="store_true", help="verb phrases named as gerund phrases (train --verb-phrases)")
    args = ap.parse_args(argv)
    folds = make_folds(args.data, [s for s in args.sources.split(",") if s], sentences=False,
                       progress=lambda msg: print(msg, file=sys.stderr))
    settings = CandidateSettings(granular=args.granular, verb_phrases=args.verb_phrases)
    out = {f.name: fold_ceiling(f.data.passages, settings) for f in folds}
    print("| fold | gold | candidate pairs per passage | reachable | F1 ceiling | gold concepts missed: "
          + " / ".join(MISSES) + " |\n|---|---|---|---|---|---|")
    for name, r in out.items():
        print(f"| {name} | {r['gold_relations']} | {r['candidates_per_passage']} | {r['reachable']:.3f} | "
              f"{r['f1_ceiling']:.3f} | " + " / ".join(str(v) for v in r["concepts_missed"].values()) + " |")
    out["mean"] = {k: round(sum(r[k] for r in out.values()) / len(folds), 3) for k in ("reachable", "f1_ceiling")}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    from core.errors import run_script

    run_script(main)
