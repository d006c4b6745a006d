"""Figures for the fuzz corpus (tests/fuzz_corpus.py): per format, how many hostile or broken files
were refused with a one-line error, imported correctly, raised anything else (a traceback), broke
the contract otherwise (a partial write, a multi-line message), or took over 10 s; the slowest
case and the peak memory of the process that ran them.

    .venv/bin/python bench/fuzz.py [--cases 500] [--formats pdf,txt,...]

Each format runs in a fresh process (spawn), so its peak resident memory is its own.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

HANG_S = 10.0


def run_format(fmt: str, n: int) -> dict:
    from fuzz_corpus import cases, run_case

    from data.store import Store

    counts = {"error": 0, "imported": 0, "traceback": 0, "contract": 0, "hang": 0}
    slowest, examples = (0.0, ""), []
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(str(Path(tmp) / "fuzz.db"))
        for name, content in cases(fmt, n):
            t0 = time.perf_counter()
            try:
                counts[run_case(store, name, content)] += 1
            except AssertionError as exc:
                counts["contract"] += 1
                examples.append(f"{name}: {str(exc)[:160]}")
            except Exception as exc:
                counts["traceback"] += 1
                examples.append(f"{name}: {type(exc).__name__}: {str(exc)[:160]}")
            took = time.perf_counter() - t0
            counts["hang"] += took > HANG_S
            slowest = max(slowest, (took, name))
        store.close()
    return {"format": fmt, "cases": n, **counts, "slowest_s": round(slowest[0], 2), "slowest": slowest[1],
            "wall_s": round(time.perf_counter() - start, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024), "examples": examples[:5]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=500)
    parser.add_argument("--formats", default="pdf,txt,md,docx,rtf,json,jsonl")
    args = parser.parse_args()
    print("| format | cases | one-line errors | imported | tracebacks | other contract breaks | over 10 s "
          "| slowest case | peak memory | wall |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    with mp.get_context("spawn").Pool(1, maxtasksperchild=1) as pool:
        for fmt in args.formats.split(","):
            r = pool.apply(run_format, (fmt, args.cases))
            print(f"| {fmt} | {r['cases']} | {r['error']} | {r['imported']} | {r['traceback']} | {r['contract']} "
                  f"| {r['hang']} | {r['slowest_s']} s | {r['peak_rss_mb']} MB | {r['wall_s']} s |", flush=True)
            for line in r["examples"]:
                print(f"    {line}", file=sys.stderr)


if __name__ == "__main__":
    main()
