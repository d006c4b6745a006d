"""Speed of the annotation store: import, labelling writes (one and eight writers), map reads, exports.

    .venv/bin/python bench/store.py [--sentences 2000] [--writes 200] [--threads 8] [--url URL]

Without --url a fresh SQLite file in a temporary folder (WAL, as the app uses it); with --url an
EMPTY database or schema (PostgreSQL: postgresql+psycopg://user:pw@host/db). The document is
generated from seeded templates; one sentence in ten carries a relation.
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.types import ParsedDocument, ParsedSentence, PassageRelation  # noqa: E402
from data.formats import write_jsonl, write_twosix  # noqa: E402
from data.store import Store  # noqa: E402

CONCEPTS = ["rainfall", "river flow", "sediment load", "fish stocks", "tourism", "water quality", "algae"]


def document(n: int, seed: int) -> ParsedDocument:
    rng = random.Random(seed)
    sentences = []
    for i in range(n):
        a, b = rng.sample(CONCEPTS, 2)
        sent = ParsedSentence(f"In site {i}, more {a} changes the {b} noticeably.", page=1 + i // 40)
        if i % 10 == 0:
            sent.relations.append(PassageRelation(a, b, rng.choice([1, -1]), annotator="seed"))
            sent.status = "labeled"
        sentences.append(sent)
    return ParsedDocument(filename="bench.txt", sha256=f"bench-{seed}-{n}", sentences=sentences, title="Bench")


def timed(label: str, fn, count: int = 1) -> None:
    start = time.perf_counter()
    fn()
    took = time.perf_counter() - start
    per = f"  ({took / count * 1000:.1f} ms each)" if count > 1 else ""
    print(f"{label:<48} {took:8.3f} s{per}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=2000)
    parser.add_argument("--writes", type=int, default=200)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--url")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    url = args.url or str(Path(tempfile.mkdtemp()) / "bench.db")
    store = Store(url)
    doc = document(args.sentences, args.seed)
    ids: list[int] = []
    timed(f"import {args.sentences} sentences", lambda: ids.extend(store.import_documents([doc])))
    sids = [s.id for s in store.sentences(ids[0])]

    def writes(n: int, who: str, mine: Store) -> None:
        for i in range(n):
            mine.add_relation(sids[i % len(sids)], PassageRelation("rainfall", f"effect {who} {i}", 1, annotator=who))

    timed(f"add_relation x{args.writes}, one writer", lambda: writes(args.writes, "solo", store), args.writes)

    def crowd() -> None:
        stores = [Store(url) for _ in range(args.threads)]
        threads = [threading.Thread(target=writes, args=(args.writes, f"w{k}", s)) for k, s in enumerate(stores)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    total = args.writes * args.threads
    timed(f"add_relation x{total}, {args.threads} writers at once", crowd, total)
    n_rel = len(store.relations())
    timed(f"evidence() over {n_rel} relations", store.evidence)
    docs: list[ParsedDocument] = []
    timed("export_documents()", lambda: docs.extend(store.export_documents()))
    timed("write_twosix", lambda: write_twosix(docs))
    timed("write_jsonl", lambda: write_jsonl(docs))
    timed("undo x20", lambda: [store.undo("solo") for _ in range(20)], 20)
    print(f"database: {store.url}")
    store.close()


if __name__ == "__main__":
    main()
