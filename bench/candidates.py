"""Candidate ceiling: which share of the gold relations of a passage dataset could ANY choice among the
candidate pairs find, under the end-to-end matching (core.metrics)? It tells whether recall is lost
by the candidate generator or by the classifier.

    python bench/candidates.py --data sift:../shared/data/twosix/SIFT_data_2024_03.jsonl [--valid-fraction 0.2]

Every candidate pair is offered in both directions with both signs; a gold relation counts as
found when any of those readings matches it (core.metrics.twosix_relations_match). Scores the
same held-out validation split as `models train` (seeded), or the whole file with --valid-fraction 0. Prints one JSON line.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.metrics import twosix_relations_match  # noqa: E402
from core.types import PassageRelation  # noqa: E402
from data.readers import read_dataset, split  # noqa: E402
from models.candidates import make_candidates_batch  # noqa: E402


def every_reading(text: str, a: tuple[int, int], b: tuple[int, int]) -> list[PassageRelation]:
    """One candidate pair as the four relations a perfect classifier could choose from."""
    x, y = text[a[0]:a[1]], text[b[0]:b[1]]
    return [PassageRelation(s, t, sign, sa, ta) for s, t, sa, ta in ((x, y, a, b), (y, x, b, a)) for sign in (1, -1)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help="FORMAT:PATH of a dataset with passages (twosix, sift, store)")
    ap.add_argument("--valid-fraction", type=float, default=0.2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    data = read_dataset(args.data)
    passages = split(data, args.valid_fraction, args.seed)[1].passages if args.valid_fraction else data.passages
    per = make_candidates_batch([p.text for p in passages])
    found = 0
    for p, cands in zip(passages, per):
        readings = [r for c in cands for r in every_reading(c.text, c.a, c.b)]
        found += sum(any(twosix_relations_match(r, g) for r in readings) for g in p.relations)
    n_gold = sum(len(p.relations) for p in passages)
    print(json.dumps({"data": args.data, "passages": len(passages), "gold_relations": n_gold,
                      "pairs_per_passage": round(sum(map(len, per)) / max(len(passages), 1), 2),
                      "candidate_ceiling_recall": round(found / n_gold, 4) if n_gold else None}))


if __name__ == "__main__":
    main()
