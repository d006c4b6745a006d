"""Concept head first look: how well does P(concept) (models.concepts_head) separate the candidate
spans people label from the other readings, out of fold? Not an end-to-end figure: leave one source
out (`evaluate --loso --heads '{"concept_head": true}'`) is the figure the head is judged by.

    python bench/concept_head.py --data twosix:../shared/data/twosix/OSW_labeled_data.json \
        --data sift:../shared/data/twosix/SIFT_data_2024_03.jsonl [--passages 200] [--backbone minilm]

Samples up to --passages passages per file (seeded), takes their granular candidate spans and the
labels the head trains on (concept_labels), and prints one JSON line: spans, concepts, out-of-fold ROC
AUC from the text cues alone and with the backbone's span vectors (frozen), overall and per file, and
per file how many gold ends have a candidate span the head would count as that concept. The folds keep
each text's spans together, as in RelationModel.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sklearn.metrics import roc_auc_score  # noqa: E402
from sklearn.model_selection import StratifiedGroupKFold  # noqa: E402

from data.readers import read_dataset  # noqa: E402
from models.candidates import CandidateSettings, concept_spans_batch  # noqa: E402
from models.concepts_head import concept_features, concept_labels, span_row  # noqa: E402
from models.heads import Encoded, HeadClassifier, Lookup  # noqa: E402

GRANULAR = CandidateSettings(granular=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", action="append", required=True, metavar="FORMAT:PATH")
    ap.add_argument("--passages", type=int, default=200)
    ap.add_argument("--backbone", default="minilm", help="backbone for the span vectors, or none")
    ap.add_argument("--embed-weight", type=float, default=0.03)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rows, y, source = [], [], []
    reach: dict[str, list[int]] = {}
    for spec in args.data:
        passages = list({p.text: p for p in read_dataset(spec).passages}.values())
        random.Random(args.seed).shuffle(passages)
        passages = passages[:args.passages]
        for p, spans in zip(passages, concept_spans_batch([p.text for p in passages], (), GRANULAR)):
            rows += [span_row(p.text, s) for s in spans]
            y += concept_labels(p.text, spans, p.relations)
            source += [Path(spec.split(":", 1)[1]).name] * len(spans)
            ends = reach.setdefault(source[-1] if spans else Path(spec.split(":", 1)[1]).name, [0, 0])
            for rel in p.relations:
                for end in ((rel.src, rel.src_span), (rel.tgt, rel.tgt_span)):
                    one = type(rel)(end[0], end[0], 0, end[1], end[1])
                    ends[0] += any(concept_labels(p.text, spans, [one]))
                    ends[1] += 1
    y, source = np.asarray(y), np.asarray(source)
    folds = list(StratifiedGroupKFold(3, shuffle=True, random_state=args.seed).split(
        np.zeros(len(y)), y, groups=[r.text for r in rows]))

    def auc(features, X) -> dict:
        p = HeadClassifier(features, (0.25, 1.0, 4.0), (), folds, args.seed).fit(X, y).oof_proba_[:, 1]
        return {"all": round(roc_auc_score(y, p), 3),
                **{s: round(roc_auc_score(y[source == s], p[source == s]), 3) for s in np.unique(source)
                   if 0 < y[source == s].sum() < (source == s).sum()}}

    out = {"spans": len(y), "concepts": int(y.sum()),
           "gold_ends_with_an_exact_span": {k: f"{a}/{b}" for k, (a, b) in reach.items()},
           "auc_cues": auc(concept_features(None, 1.0), rows)}
    if args.backbone != "none":
        from embedding.features import CandidateEmbedder

        vectors = CandidateEmbedder(args.backbone, layers=4, parts=("a",)).fit(rows).transform(rows)
        encoded = [Encoded(r.text, r.a, r.b, v) for r, v in zip(rows, vectors)]
        out[f"auc_{args.backbone}_and_cues"] = auc(concept_features(Lookup(), args.embed_weight), encoded)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
