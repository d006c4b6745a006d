"""Soak: labelling writers keep writing while a large plain-text document is imported.

    .venv/bin/python bench/soak.py [--mb 40] [--writers 8] [--seconds 60] [--url URL]

The document is generated from seeded sentence templates and written as a .txt file; a separate
process reads it (read_path: parsing holds no lock) and then imports it, while `--writers`
processes each add relations to a small document for `--seconds` from the moment the import
starts writing (and on until it ends). Every writer records each call's latency and error.
Afterwards every write a writer was told succeeded must be in the database (lost writes), the
imported document must be whole, and no writer may have seen "database is locked".
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.types import ParsedDocument, ParsedSentence, PassageRelation  # noqa: E402
from data.ingest import read_path  # noqa: E402
from data.store import Store  # noqa: E402

CONCEPTS = ["rainfall", "river flow", "sediment load", "fish stocks", "tourism", "water quality", "algae"]


def write_text(path: Path, megabytes: float, seed: int = 0) -> None:
    """A seeded plain-text paper of about `megabytes` MB: paragraphs of five sentences."""
    rng = random.Random(seed)
    target = int(megabytes * 2**20)
    with path.open("w", encoding="utf-8") as f:
        written, i = 0, 0
        while written < target:
            sentences = []
            for _ in range(5):
                a, b = rng.sample(CONCEPTS, 2)
                sentences.append(f"At station {i} more {a} changed the {b} by {rng.randint(2, 90)} percent "
                                 f"over {rng.randint(2, 40)} years of monitoring.")
                i += 1
            paragraph = " ".join(sentences) + "\n\n"
            f.write(paragraph)
            written += len(paragraph)


def _importer(url: str, path: str, started, out) -> None:
    start = time.perf_counter()
    docs = read_path(path)
    parsed = time.perf_counter()
    started.set()
    ids = Store(url).import_documents(docs)
    done = time.perf_counter()
    out.put({"ids": ids, "sentences": len(docs[0].sentences), "parse_s": parsed - start,
             "write_s": done - parsed, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})


def _writer(url: str, k: int, sentence_ids: list[int], seconds: float, started, import_done, out) -> None:
    store = Store(url)
    rng = random.Random(k)
    latencies, ok, locked, other = [], [], 0, []
    started.wait()
    end = time.perf_counter() + seconds
    i = 0
    while time.perf_counter() < end or not import_done.is_set():
        note = f"writer {k} write {i}"
        a, b = rng.sample(CONCEPTS[:2], 2)
        t0 = time.perf_counter()
        try:
            rid = store.add_relation(rng.choice(sentence_ids), PassageRelation(
                a, b, rng.choice([1, -1]), annotator=f"writer{k}", note=note))
            ok.append((rid, note))
        except Exception as exc:  # counted: the soak must see none
            if "database is locked" in str(exc):
                locked += 1
            else:
                other.append(f"{type(exc).__name__}: {str(exc)[:200]}")
        latencies.append(time.perf_counter() - t0)
        i += 1
    out.put({"k": k, "latencies": latencies, "ok": ok, "locked": locked, "other": other})


def soak(url: str, text_path: Path, writers: int, seconds: float) -> dict:
    """Runs the soak on an empty database at url; returns the figures (see module docstring)."""
    store = Store(url)
    small = ParsedDocument("small.txt", "soak-small", [
        ParsedSentence(f"More rainfall raised the river flow at site {i}.", start=60 * i, end=60 * i + 48)
        for i in range(50)], format="txt")
    (small_id,) = store.import_documents([small])
    sentence_ids = [s.id for s in store.sentences(small_id)]
    ctx = mp.get_context("spawn")
    started, import_done, out = ctx.Event(), ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(url, k, sentence_ids, seconds, started, import_done, out))
             for k in range(writers)]
    importer = ctx.Process(target=_importer, args=(url, str(text_path), started, out))
    for p in procs + [importer]:
        p.start()
    results, imported = [], None
    while len(results) < writers or imported is None:
        item = out.get(timeout=1800)
        if "ids" in item:
            imported = item
            import_done.set()
        else:
            results.append(item)
    for p in procs + [importer]:
        p.join()
    latencies = sorted(t for r in results for t in r["latencies"])
    written = [w for r in results for w in r["ok"]]
    stored = {(r.id, r.note) for r in store.relations(document_id=small_id)}
    lost = [w for w in written if tuple(w) not in stored]
    docs = {d.id: d.n_sentences for d in store.list_documents()}

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    return {
        "writers": writers, "seconds": seconds, "document_mb": round(text_path.stat().st_size / 2**20, 1),
        "document_sentences": imported["sentences"], "imported_whole": docs.get(imported["ids"][0]) == imported["sentences"],
        "parse_s": round(imported["parse_s"], 1), "import_write_s": round(imported["write_s"], 1),
        "importer_peak_rss_mb": round(imported["peak_rss_mb"]), "writes_ok": len(written),
        "writes_attempted": len(latencies), "lost_writes": len(lost), "locked_errors": sum(r["locked"] for r in results),
        "other_errors": [e for r in results for e in r["other"]][:5],
        "p50_ms": round(pct(0.50), 1), "p95_ms": round(pct(0.95), 1), "p99_ms": round(pct(0.99), 1),
        "max_ms": round(latencies[-1] * 1000, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=40)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--url", help="an EMPTY database (default: a fresh SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        text = Path(tmp) / "large.txt"
        write_text(text, args.mb)
        url = args.url or f"sqlite:///{Path(tmp) / 'soak.db'}"
        print(json.dumps(soak(url, text, args.writers, args.seconds), indent=1))


if __name__ == "__main__":
    main()
