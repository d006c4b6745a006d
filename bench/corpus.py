"""Corpus extraction: invented papers through `python -m models extract-corpus`, local vs Ray.

    python -m bench.corpus [--model models/default] [--papers 200] [--sentences 40] [--workers 2]
                           [--skip-ray] [--skip-resume]

Writes the papers (seeded templates, 5 of them broken files) to a temporary folder and runs:
1. the local engine over all of them;
2. the Ray engine with --workers local Ray workers (same files, a fresh --out);
3. kill-and-resume: the local engine killed (SIGKILL) after its first output lines, then rerun
   with the same --out: every paper once, equal to step 1's lines.
Prints one JSON line: wall seconds, documents/s, sentences/s and peak memory per engine, and
whether the outputs agree. Memory is the largest resident set of the run's processes (Ray:
per worker), sampled from /proc every 0.2 s.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.extract import invented_paper  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BROKEN = {"truncated.pdf": b"%PDF-1.7\n1 0 obj", "empty.txt": b"", "zip.docx": b"PK\x03\x04garbage",
          "cut.json": b'{"x": [', "foreign.jsonl": b'{"fuzzymap": 99}\n'}
"""Five files that cannot be read, each for a different reason (ingestion's one-line errors)."""


def write_corpus(folder: Path, papers: int, sentences: int, broken: bool = True) -> list[Path]:
    """papers invented papers (sentences each, seeded per paper) under folder/, in sub-folders of
    50, plus the BROKEN files when broken. Returns the paper paths."""
    out = []
    for i in range(papers):
        sub = folder / f"batch{i // 50:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        path = sub / f"paper{i:04d}.txt"
        path.write_text(f"Invented paper {i}\n\n" + invented_paper(sentences, seed=1000 + i))
        out.append(path)
    if broken:
        (folder / "broken").mkdir(parents=True, exist_ok=True)
        for name, content in BROKEN.items():
            (folder / "broken" / name).write_bytes(content)
    return out


def comparable(path: Path) -> list[str]:
    """Output lines without their timings, sorted: what two engines must agree on byte for byte."""
    lines = []
    for line in path.read_text().splitlines():
        record = json.loads(line)
        record.pop("timings")
        lines.append(json.dumps(record, ensure_ascii=False))
    return sorted(lines)


def _tree(pid: int) -> list[int]:
    """pid and its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def run(args: list[str], kill_after_lines: int | None = None, out: Path | None = None) -> dict:
    """Run the CLI, sampling memory; optionally SIGKILL it once out holds kill_after_lines lines."""
    cmd = [sys.executable, "-m", "models", "extract-corpus", *args]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    peak = {"driver": 0.0, "worker": 0.0}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            for p in _tree(proc.pid):
                kind = "worker" if "CorpusWorker" in _cmdline(p) or "ray::" in _cmdline(p) else "driver"
                if p == proc.pid:
                    kind = "driver"
                peak[kind] = max(peak[kind], _rss_mb(p))
            if kill_after_lines and out is not None and out.is_file() and \
                    out.read_bytes().count(b"\n") >= kill_after_lines:
                os.killpg(proc.pid, signal.SIGKILL)  # the session this run started, nothing else
                return
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = proc.communicate()
    done.set()
    sampler.join()
    wall = time.perf_counter() - start
    summary = json.loads(stdout.strip().splitlines()[-1]) if stdout.strip() else {}
    return {"rc": proc.returncode, "wall_s": round(wall, 1), "summary": summary,
            "peak_rss_mb": {k: round(v) for k, v in peak.items()}, "stderr_tail": stderr.strip().splitlines()[-2:]}


def rates(result: dict, workers: int = 1) -> dict:
    s, wall = result["summary"], result["wall_s"]
    return {"wall_s": wall, "documents": s.get("documents"), "failed": s.get("failed"),
            "documents_per_s": round(s.get("documents", 0) / wall, 2),
            "documents_per_s_per_worker": round(s.get("documents", 0) / wall / workers, 2),
            "sentences_per_s": round(s.get("sentences", 0) / wall, 1), "peak_rss_mb": result["peak_rss_mb"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="models/default")
    ap.add_argument("--papers", type=int, default=200)
    ap.add_argument("--sentences", type=int, default=40)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--skip-ray", action="store_true")
    ap.add_argument("--skip-resume", action="store_true")
    args = ap.parse_args()
    report: dict = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "papers": args.papers,
                    "sentences_per_paper": args.sentences, "broken_files": len(BROKEN), "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "corpus"
        write_corpus(folder, args.papers, args.sentences)
        local_out = Path(tmp) / "local.jsonl"
        local = run(["--model", args.model, str(folder), "--out", str(local_out)])
        fails = [json.loads(x)["source"] for x in (Path(tmp) / "local.failures.jsonl").read_text().splitlines()]
        report["local"] = rates(local)
        report["local"]["failures_are_the_broken_files"] = sorted(Path(f).name for f in fails) == sorted(BROKEN)
        if not args.skip_ray:
            ray_out = Path(tmp) / "ray.jsonl"
            ray = run(["--model", args.model, str(folder), "--out", str(ray_out), "--engine", "ray",
                       "--workers", str(args.workers)])
            report["ray"] = rates(ray, args.workers)
            report["ray"]["equal_to_local"] = comparable(ray_out) == comparable(local_out)
        if not args.skip_resume:
            resumed_out = Path(tmp) / "resumed.jsonl"
            killed = run(["--model", args.model, str(folder), "--out", str(resumed_out)], kill_after_lines=10,
                         out=resumed_out)
            lines_at_kill = resumed_out.read_bytes().count(b"\n")
            again = run(["--model", args.model, str(folder), "--out", str(resumed_out)])
            report["kill_and_resume"] = {
                "killed_rc": killed["rc"], "lines_when_killed": lines_at_kill,
                "skipped_on_resume": again["summary"].get("skipped_already_done"),
                "equal_to_uninterrupted": comparable(resumed_out) == comparable(local_out)}
    report["load_avg_1min"] = round(os.getloadavg()[0], 2)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
