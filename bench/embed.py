"""Speed of the embedding stage: one-pass pooling vs a plain forward pass, marked text, cache, fusion.

    .venv/bin/python bench/embed.py [--sentences 256] [--backbones minilm,smollm2-135m] [--threads 2]
        [--data semeval2010:PATH] [--quality semeval2010:PATH --quality-n 1500]

Sentences are generated from seeded templates (3 concept spans, 3 candidate pairs each), or taken
from --data (any data.readers FORMAT:PATH). The plain baseline is tokenizer + model forward over the
same sentences with the same batch size, in their given order and length-sorted; each timing is the
best of --repeats rounds in which the variants take turns (fair under drifting load). --quality fits
a LogisticRegression per feature set on a seeded 80% of the examples' sentences and reports
directional causal F1 on the other 20% (a validation split of a train file: never a test split),
per backbone, for the first backbone's marked-text variant, and for both fusions.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from core.types import Candidate, Direction, LabeledExample  # noqa: E402
from embedding.backbones import Backbone, load_backbone  # noqa: E402
from embedding.cache import EmbeddingCache  # noqa: E402
from embedding.features import CandidateEmbedder  # noqa: E402
from embedding.fusion import FusedEmbedder  # noqa: E402
from embedding.pooling import PoolingConfig, encode_candidates  # noqa: E402

CONCEPTS = ["rising sea temperatures", "coral bleaching", "fishing pressure", "tourism revenue",
            "nutrient runoff", "algal blooms", "household income", "school attendance", "urban heat",
            "tree cover", "drought frequency", "crop yields", "groundwater levels", "migration",
            "vaccination rates", "disease outbreaks", "fuel prices", "transport costs", "food prices",
            "soil erosion", "river sediment", "hydropower output", "wetland area", "flood damage"]
VERBS = ["increases", "reduces", "is driven by", "leads to", "limits", "is associated with", "amplifies"]
FILLERS = ["in coastal regions", "over the last decade", "according to the survey", "in most districts",
           "despite recent policy changes", "during the dry season", "as reported by local agencies"]


def generated(n: int, seed: int) -> list[Candidate]:
    """n invented sentences of 10-45 words, each with three concepts -> three candidate pairs."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        a, b, c = rng.sample(CONCEPTS, 3)
        pieces = [a.capitalize(), rng.choice(VERBS), b] + rng.sample(FILLERS, rng.randint(0, 4))
        pieces += ["while", c, rng.choice(VERBS), "it"] + rng.sample(FILLERS, rng.randint(0, 3))
        text = " ".join(pieces) + "."
        spans = []
        for concept in (a.capitalize(), b, c):
            i = text.index(concept)
            spans.append((i, i + len(concept)))
        out += [Candidate(text, spans[0], spans[1]), Candidate(text, spans[0], spans[2]),
                Candidate(text, spans[1], spans[2])]
    return out


def from_dataset(spec: str) -> list[LabeledExample]:
    from data.readers import read_dataset  # written by the formats engineer; FORMAT:PATH

    return read_dataset(spec).examples


def interleaved(repeats: int, runs: dict[str, Callable[[], object]]) -> dict[str, float]:
    """Best-of-repeats seconds per run, the runs taking turns so that load drift hits them alike."""
    best = {name: float("inf") for name in runs}
    for _ in range(repeats):
        for name, fn in runs.items():
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


@torch.inference_mode()
def plain_forward(backbone: Backbone, texts: Sequence[str], batch_size: int) -> None:
    for i in range(0, len(texts), batch_size):
        enc = backbone.tokenizer(list(texts[i:i + batch_size]), padding=True, truncation=True, return_tensors="pt")
        backbone.model(**enc)


def bench_backbone(name: str, cands: list[Candidate], args: argparse.Namespace, cache_root: Path) -> dict:
    backbone = load_backbone(name)
    texts = list(dict.fromkeys(c.text for c in cands))
    config = PoolingConfig(layers=args.layers)
    encode_candidates(backbone, cands[:8], config)  # warm-up
    n_marked = min(len(cands), args.marked_n)
    marked_config = PoolingConfig(args.layers, marked=True)
    cache_dir = cache_root / name
    cold = interleaved(1, {"cold": lambda: encode_candidates(backbone, cands, config, args.batch_size,
                                                             EmbeddingCache(cache_dir, backbone, args.layers))})["cold"]
    t = interleaved(args.repeats, {
        "plain": lambda: plain_forward(backbone, texts, args.batch_size),
        "sorted": lambda: plain_forward(backbone, sorted(texts, key=len), args.batch_size),
        "one": lambda: encode_candidates(backbone, cands, config, args.batch_size),
        "marked": lambda: encode_candidates(backbone, cands[:n_marked], marked_config, args.batch_size),
        "warm": lambda: encode_candidates(backbone, cands, config, args.batch_size,
                                          EmbeddingCache(cache_dir, backbone, args.layers)),
    })
    plain, plain_sorted, one, marked, warm = (t[k] for k in ("plain", "sorted", "one", "marked", "warm"))
    return {"backbone": name, "sentences": len(texts), "candidates": len(cands),
            "dim": backbone.model.config.hidden_size * len(config.parts),
            "plain_sent_s": len(texts) / plain, "plain_sorted_sent_s": len(texts) / plain_sorted,
            "one_sent_s": len(texts) / one, "one_cand_s": len(cands) / one,
            "ratio": plain / one, "ratio_sorted": plain_sorted / one,
            "marked_cand_s": n_marked / marked, "marked_cost": (marked / n_marked) / (one / len(cands)),
            "cold_cache_cand_s": len(cands) / cold, "warm_cache_cand_s": len(cands) / warm}


def bench_fusion(names: list[str], cands: list[Candidate], args: argparse.Namespace, cache_root: Path,
                 one_pass_s: float) -> list[dict]:
    """Fusion on top of warm caches: what fusing adds beyond running each backbone once."""
    rows = []
    for method in ("concat", "gram"):
        embedders = [CandidateEmbedder(n, layers=args.layers, cache_dir=cache_root / n) for n in names]
        fused = FusedEmbedder(embedders, method=method, dim=args.gram_dim)
        fit = interleaved(1, {"fit": lambda: fused.fit(cands)})["fit"]
        apply = interleaved(args.repeats, {"transform": lambda: fused.transform(cands)})["transform"]
        rows.append({"method": method, "dim": fused.n_features_out_, "fit_s": fit, "transform_s": apply,
                     "cand_s_cached": len(cands) / apply, "cand_s_uncached": len(cands) / (one_pass_s + apply)})
    return rows


def quality(spec: str, names: list[str], n: int, args: argparse.Namespace,
            cache_root: Path) -> list[tuple[str, float, float]]:
    """Directional causal F1 on a seeded 20% sentence split of a train file, LR per feature set."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    examples = from_dataset(spec)
    random.Random(args.seed).shuffle(examples)
    examples = examples[:n]
    texts = sorted({e.candidate.text for e in examples})
    random.Random(args.seed).shuffle(texts)
    valid_texts = set(texts[: len(texts) // 5])
    train = [e for e in examples if e.candidate.text not in valid_texts]
    valid = [e for e in examples if e.candidate.text in valid_texts]
    y_train, y_valid = np.array([int(e.label) for e in train]), np.array([int(e.label) for e in valid])
    print(f"  train {len(train)} examples, validation {len(valid)} ({int((y_valid != 0).sum())} causal)")
    embedders = {n_: CandidateEmbedder(n_, layers=args.layers, cache_dir=cache_root / n_) for n_ in names}
    feature_sets: dict[str, object] = dict(embedders)
    feature_sets[f"{names[0]} marked"] = CandidateEmbedder(names[0], layers=args.layers, marked=True,
                                                           cache_dir=cache_root / names[0])
    if len(names) > 1:
        feature_sets["concat"] = FusedEmbedder(list(embedders.values()), method="concat")
        feature_sets["gram"] = FusedEmbedder(list(embedders.values()), method="gram", dim=args.gram_dim)
    out = []
    for label, features in feature_sets.items():
        start = time.perf_counter()
        model = make_pipeline(features, StandardScaler(), LogisticRegression(C=0.1, max_iter=2000))
        model.fit([e.candidate for e in train], y_train)
        pred = model.predict([e.candidate for e in valid])
        causal = pred != int(Direction.NONE)
        gold = y_valid != int(Direction.NONE)
        hit = (causal & (pred == y_valid)).sum()
        f1 = 2 * hit / max(causal.sum() + gold.sum(), 1)
        out.append((label, float(f1), time.perf_counter() - start))
    return out


def speed(names: list[str], cands: list[Candidate], args: argparse.Namespace, cache_root: Path) -> None:
    rows = [bench_backbone(n, cands, args, cache_root) for n in names]
    print("\n| backbone | sentences | candidates | dim | plain fwd sent/s (given / sorted) | one-pass sent/s "
          "| one-pass cand/s | ratio vs plain (given / sorted) | marked cand/s (cost x) | cache cold / hit cand/s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['backbone']} | {r['sentences']} | {r['candidates']} | {r['dim']} "
              f"| {r['plain_sent_s']:.1f} / {r['plain_sorted_sent_s']:.1f} | {r['one_sent_s']:.1f} "
              f"| {r['one_cand_s']:.1f} | {r['ratio']:.2f} / {r['ratio_sorted']:.2f} "
              f"| {r['marked_cand_s']:.1f} ({r['marked_cost']:.1f}x) "
              f"| {r['cold_cache_cand_s']:.1f} / {r['warm_cache_cand_s']:.0f} |")
    if len(names) > 1:
        one_pass = sum(r["candidates"] / r["one_cand_s"] for r in rows)
        print("\n| fusion | dim | fit s (cached) | transform s (cached) | cand/s cached | cand/s incl. backbones |")
        print("|---|---|---|---|---|---|")
        for f in bench_fusion(names, cands, args, cache_root, one_pass):
            print(f"| {f['method']} | {f['dim']} | {f['fit_s']:.2f} | {f['transform_s']:.2f} "
                  f"| {f['cand_s_cached']:.0f} | {f['cand_s_uncached']:.1f} |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sentences", type=int, default=256, help="0: skip the speed part")
    p.add_argument("--backbones", default="minilm,smollm2-135m")
    p.add_argument("--data", help="FORMAT:PATH (data.readers) instead of generated sentences")
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--marked-n", type=int, default=192, help="candidates timed in the marked-text variant")
    p.add_argument("--gram-dim", type=int, default=256)
    p.add_argument("--quality", help="FORMAT:PATH of a TRAIN file: small F1 comparison on a 20%% split of it")
    p.add_argument("--quality-n", type=int, default=1500)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # rows appear as they are measured, even into a file
    torch.set_num_threads(args.threads)
    names = [n for n in args.backbones.split(",") if n]
    if args.data:
        examples = from_dataset(args.data)
        texts = list(dict.fromkeys(e.candidate.text for e in examples))[: args.sentences]
        keep = set(texts)
        cands = [e.candidate for e in examples if e.candidate.text in keep]
    else:
        cands = generated(args.sentences, args.seed)
    print(f"torch threads {torch.get_num_threads()}, batch {args.batch_size}, last {args.layers} layers, "
          f"best of {args.repeats}; load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        cache_root = Path(tmp)
        if cands:
            speed(names, cands, args, cache_root)
        if args.quality:
            print(f"\nquality: directional causal F1 on a 20% sentence split of {args.quality} "
                  f"({args.quality_n} examples, LR C=0.1)")
            for label, f1, seconds in quality(args.quality, names, args.quality_n, args, cache_root):
                print(f"  {label:20s} F1 {f1:.3f}  ({seconds:.0f} s fit + predict)")


if __name__ == "__main__":
    main()
