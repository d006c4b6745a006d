"""Speed of what the review pages compute per rerun: the map (300+ concepts), its drawing data,
metrics, a scenario, two-annotator agreement and system scoring.

    .venv/bin/python bench/review.py [--concepts 300] [--relations 3000] [--top 60]

A fresh SQLite store in a temporary folder is filled from seeded templates: two annotators label
the same sentences (agreeing on about 70%), and every sentence carries an invented "LLM" block.
Each step is timed as the median of --repeat runs (milliseconds).
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.types import ParsedDocument, ParsedSentence, PassageRelation  # noqa: E402
from data.store import Store  # noqa: E402
from fcm.view import agraph_elements, run_scenario, top_by_centrality  # noqa: E402
from workspace.agreement import score_systems, store_agreement  # noqa: E402
from workspace.mapview import MapQuery, load_map, metrics_tables  # noqa: E402


def document(n_concepts: int, n_relations: int, seed: int) -> ParsedDocument:
    rng = random.Random(seed)
    names = [f"factor {i}" for i in range(n_concepts)]
    sentences = []
    for i in range(n_relations):
        a, b = rng.sample(names, 2)
        sign = rng.choice([1, -1])
        sent = ParsedSentence(f"In site {i}, more {a} changes {b}.", page=1 + i // 40, status="labeled",
                              llm={"bench-llm": [{"src": a, "tgt": b, "direction": rng.choice(["increase", "decrease"])}]})
        sent.relations.append(PassageRelation(a, b, sign, annotator="ann"))
        if rng.random() < 0.7:
            sent.relations.append(PassageRelation(a, b, sign, annotator="bob"))
        elif rng.random() < 0.5:
            sent.relations.append(PassageRelation(b, a, sign, annotator="bob"))
        sentences.append(sent)
    return ParsedDocument("bench.txt", f"bench-review-{seed}", sentences, title="Bench")


def timed(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--concepts", type=int, default=300)
    ap.add_argument("--relations", type=int, default=3000)
    ap.add_argument("--top", type=int, default=60)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'bench.db'}")
        (doc_id,) = store.import_documents([document(args.concepts, args.relations, args.seed)])
        fmap = load_map(store, MapQuery())
        view = top_by_centrality(fmap, args.top)
        first = fmap.concepts[0]
        steps = {
            "load_map (store.evidence + build, all labels)": lambda: load_map(store, MapQuery()),
            f"top {args.top} by centrality": lambda: top_by_centrality(fmap, args.top),
            f"agraph nodes/edges, top {args.top}": lambda: agraph_elements(view),
            "agraph nodes/edges, whole map": lambda: agraph_elements(fmap),
            "metrics tables": lambda: metrics_tables(fmap),
            "scenario (1 concept clamped)": lambda: run_scenario(fmap, {first: 1.0}),
            "agreement ann vs bob": lambda: store_agreement(store, "ann", "bob", [doc_id]),
            "score systems vs ann": lambda: score_systems(store, "ann", [doc_id]),
        }
        print(f"{len(fmap.concepts)} concepts, {len(fmap.edges)} edges, "
              f"{len(store.relations())} stored relations; median of {args.repeat} runs")
        print("| step | ms |\n|---|---|")
        for name, fn in steps.items():
            print(f"| {name} | {timed(fn, args.repeat):.0f} |")
        store.close()


if __name__ == "__main__":
    main()
