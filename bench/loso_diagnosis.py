"""Where leave-one-source-out end-to-end F1 is lost, fold by fold.

For each held-out source (models.loso folds: heads fitted on frozen-backbone features of every
other source, sentence labels included so the sentence head exists) this prints:
  (a) ceiling   share of gold relations whose src and tgt both match some candidate pair's spans
                under core.matching's looser rule (a shared content word or overlapping spans; the
                e2e F1 figures use the held-out check's Jaccard rule, core.metrics)
  (b) ranked    of those reachable, the share the pair head puts above the extract threshold in
                the right direction, and the share it ranks first in its passage
  (c) rate      predicted relations per passage against gold per passage, and predictions made on
                passages with no gold relation
  (d) sign      sign accuracy on predictions that match a gold relation when the sign is ignored
  (e) oracles   F1 when picking perfectly among the candidates (the ceiling as F1); the model's own
                predictions kept only on passages with gold (a perfect gate), cut to the gold count
                per passage (a perfect budget), or scored without the sign (a perfect sign head)
and the end-to-end F1 of the model's decoding without and with the sentence gate / budget
(the latter is what `python -m models evaluate --loso` reports for the same settings).

    python bench/loso_diagnosis.py --data FORMAT:PATH [--data ...] [--sources a,b] [--only FOLD,...]

The last line is one JSON object {fold: {...}, "mean": {...}}.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from core.matching import concepts_match, match_relations  # noqa: E402
from core.metrics import e2e_scores  # noqa: E402
from core.types import Direction, PassageRelation  # noqa: E402
from models.candidates import make_candidates_batch  # noqa: E402
from models.classifier import HeadSettings, RelationModel, decide, relations_from  # noqa: E402
from models.loso import SIFT_SOURCES, make_folds  # noqa: E402


def _matches(text: str, span, gold: str, gold_span) -> bool:
    return concepts_match(text[span[0]:span[1]], gold, tuple(span), gold_span)


def _unsigned(rels):
    return [PassageRelation(r.src, r.tgt, 0, r.src_span, r.tgt_span) for r in rels]


def sign_accuracy_on_matched(pred, gold) -> tuple[int, int]:
    """(right signs, matched pairs) when predictions are matched to gold ignoring the sign."""
    right = total = 0
    for p, g in zip(pred, gold):
        for i, j in match_relations(p, _unsigned(g)):
            if g[j].sign in (1, -1):
                total += 1
                right += p[i].sign == g[j].sign
    return right, total


def diagnose(model: RelationModel, texts: list[str], gold: list[list[PassageRelation]]) -> dict:
    per = make_candidates_batch(texts, (), model.candidates)
    flat = [c for cs in per for c in cs]
    probs, p_inc = model.predict_proba(flat)
    ungated = model.info.get("ungated", {})
    t0, rel0 = ungated.get("extract", model.thresholds["extract"]), ungated.get("relative", model.thresholds["relative"])
    n_gold = sum(map(len, gold))
    reachable = above = first = 0
    oracle, plain = [], []
    i = 0
    for text, cs, rels in zip(texts, per, gold):
        pr, pi = probs[i:i + len(cs)], p_inc[i:i + len(cs)]
        i += len(cs)
        preds = [model._prediction(c, p, s, t0) for c, p, s in zip(cs, pr, pi)]
        plain.append(relations_from(preds, None, rel0, model.candidates))
        best_causal = max((p[1] + p[2] for p in pr), default=0.0)
        picks = []
        for g in rels:
            hits = []  # (candidate index, direction that makes it g)
            for k, c in enumerate(cs):
                if _matches(text, c.a, g.src, g.src_span) and _matches(text, c.b, g.tgt, g.tgt_span):
                    hits.append((k, Direction.A_TO_B))
                elif _matches(text, c.b, g.src, g.src_span) and _matches(text, c.a, g.tgt, g.tgt_span):
                    hits.append((k, Direction.B_TO_A))
            if not hits:
                continue
            reachable += 1
            k, d = hits[0]
            c = cs[k]
            src, tgt = (c.a, c.b) if d == Direction.A_TO_B else (c.b, c.a)
            picks.append(PassageRelation(text[src[0]:src[1]], text[tgt[0]:tgt[1]], g.sign, tuple(src), tuple(tgt)))
            said = decide(pr[[k for k, _ in hits]], t0)
            above += any(int(s) == int(d) for s, (_, d) in zip(said, hits))
            first += any(pr[k][1] + pr[k][2] >= best_causal - 1e-12 for k, _ in hits)
        oracle.append(picks)
    found = model.extract(texts)
    gated_p = model.sentence_proba(texts) if model.sentence_ is not None else None
    n_empty = sum(1 for g in gold if not g)

    def rate(pred) -> dict:
        right, matched = sign_accuracy_on_matched(pred, gold)
        s = e2e_scores(pred, gold)
        return {"e2e_f1": round(s["e2e_f1"], 4), "precision": round(s["e2e_precision"], 4),
                "recall": round(s["e2e_recall"], 4), "predicted": sum(map(len, pred)),
                "per_passage": round(sum(map(len, pred)) / len(texts), 2),
                "on_passages_without_gold": sum(len(p) for p, g in zip(pred, gold) if not g),
                "sign_accuracy_on_matched": round(right / matched, 3) if matched else None,
                "matched_ignoring_sign": matched}

    return {
        "passages": len(texts), "gold": n_gold, "gold_per_passage": round(n_gold / len(texts), 2),
        "passages_without_gold": n_empty, "candidates_per_passage": round(len(flat) / len(texts), 1),
        "a_ceiling": round(reachable / n_gold, 3) if n_gold else None,
        "b_reachable_above_threshold": round(above / reachable, 3) if reachable else None,
        "b_reachable_ranked_first": round(first / reachable, 3) if reachable else None,
        "e_oracle_f1": round(e2e_scores(oracle, gold)["e2e_f1"], 4),
        "e_perfect_gate_f1": round(e2e_scores([p if g else [] for p, g in zip(plain, gold)], gold)["e2e_f1"], 4),
        "e_perfect_budget_f1": round(e2e_scores([p[:len(g)] for p, g in zip(plain, gold)], gold)["e2e_f1"], 4),
        "e_perfect_sign_f1": round(e2e_scores(plain, [_unsigned(g) for g in gold])["e2e_f1"], 4),
        "sentence_head_auc_passage_has_gold": _auc(gated_p, [bool(g) for g in gold]),
        "without_gate": rate(plain), "with_gate": rate(found),
        "thresholds": model.thresholds, "ungated_thresholds": {"extract": t0, "relative": rel0},
    }


def _auc(scores, labels) -> float | None:
    if scores is None or len(set(labels)) < 2:
        return None
    from sklearn.metrics import roc_auc_score

    return round(float(roc_auc_score(labels, scores)), 3)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", action="append", required=True, help="FORMAT:PATH, as for evaluate --loso")
    ap.add_argument("--sources", default=",".join(SIFT_SOURCES), help="SIFT sources that are folds")
    ap.add_argument("--only", help="comma-separated fold names to run (default all)")
    ap.add_argument("--backbone", default="minilm", help="embedding backbone, or none (TF-IDF only)")
    ap.add_argument("--heads", default='{"gate": true, "budgets": [1, 2, 3, 5]}',
                    help="HeadSettings fields as JSON (default: the gate and budgets tuned)")
    args = ap.parse_args(argv)
    heads = HeadSettings(**{k: tuple(v) if isinstance(v, list) else v for k, v in json.loads(args.heads).items()})
    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    folds = make_folds(args.data, args.sources.split(","), sentences=True, progress=log)
    only = set(args.only.split(",")) if args.only else None
    out: dict = {}
    for fold in folds:
        if only and fold.name not in only:
            continue
        embedder = None
        if args.backbone != "none":
            from embedding.cache import default_cache_dir
            from embedding.features import CandidateEmbedder

            embedder = CandidateEmbedder(args.backbone, cache_dir=str(default_cache_dir()), batch_size=64)
        model = RelationModel(embedder, replace(heads, seed=0)).fit(fold.train, progress=lambda _: None)
        out[fold.name] = diagnose(model, [p.text for p in fold.data.passages], [p.relations for p in fold.data.passages])
        log(f"fold {fold.name}: {json.dumps(out[fold.name])}")
    keys = ("a_ceiling", "b_reachable_above_threshold", "e_oracle_f1", "e_perfect_gate_f1", "e_perfect_budget_f1",
            "e_perfect_sign_f1")
    mean = {k: round(float(np.mean([f[k] for f in out.values() if f[k] is not None])), 4) for k in keys}
    for k in ("without_gate", "with_gate"):
        mean[k + "_e2e_f1"] = round(float(np.mean([f[k]["e2e_f1"] for f in out.values()])), 4)
    out["mean"] = mean
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
