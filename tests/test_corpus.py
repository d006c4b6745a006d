"""extract-corpus with the local engine: sources, resume by content hash, failures, --db, kill and resume.

The CLI runs are real: the shipped bundle, invented papers written here, a real SQLite store.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.corpus import BROKEN, comparable, write_corpus
from core.errors import InputError
from models.corpus import done_hashes, expand_sources, failures_path

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "default"


def cli(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "models", "extract-corpus", "--model", str(MODEL), *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def test_sources_are_files_folders_and_globs(tmp_path):
    papers = write_corpus(tmp_path / "c", 3, 4, broken=False)
    (tmp_path / "c" / "notes.xyz").write_text("not a paper")
    assert expand_sources([str(tmp_path / "c")]) == sorted(papers)  # recursive, supported suffixes only
    assert expand_sources([str(papers[1]), str(tmp_path / "c" / "*" / "paper0000.txt")]) == [papers[1], papers[0]]
    assert expand_sources([str(papers[0]), str(tmp_path / "c")]) == sorted(papers)  # each file once
    with pytest.raises(InputError, match="names no file"):
        expand_sources([str(tmp_path / "missing*.pdf")])


def test_a_line_cut_short_by_a_kill_is_dropped_and_redone(tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text(json.dumps({"source_sha256": "aa"}) + "\n" + '{"source_sha256": "bb", "twos')
    assert done_hashes(out) == {"aa"}
    assert out.read_text().count("\n") == 1 and out.read_text().endswith("}\n")
    out.write_text("[1, 2]\n")
    with pytest.raises(InputError, match="not an extract-corpus output line"):
        done_hashes(out)
    assert failures_path(out).name == "out.failures.jsonl"


def test_bad_input_is_one_line_before_loading_anything(tmp_path):
    run = cli(str(tmp_path / "nothing-here"), "--out", str(tmp_path / "o.jsonl"))
    assert run.returncode == 2 and run.stderr.strip().count("\n") == 0 and "names no file" in run.stderr
    assert not (tmp_path / "o.jsonl").exists()
    papers = write_corpus(tmp_path / "c", 1, 3, broken=False)
    run = cli(str(papers[0]), "--out", str(tmp_path / "o.jsonl"), "--workers", "2")
    assert run.returncode == 2 and "--engine ray" in run.stderr


@pytest.mark.slow
def test_broken_files_are_reported_the_rest_extracted_and_a_rerun_skips_all(tmp_path):
    folder = tmp_path / "corpus"
    papers = write_corpus(folder, 4, 8)
    out = tmp_path / "out.jsonl"
    db = tmp_path / "store.db"
    run = cli(str(folder), "--out", str(out), "--db", str(db))
    assert run.returncode == 1, run.stderr  # finished, with failures
    summary = json.loads(run.stdout.strip().splitlines()[-1])
    assert summary["documents"] == 4 and summary["failed"] == len(BROKEN) and summary["sentences"] == 4 * 9
    failures = [json.loads(x) for x in failures_path(out).read_text().splitlines()]
    assert sorted(Path(f["source"]).name for f in failures) == sorted(BROKEN)
    assert all(f["error"] and "\n" not in f["error"] for f in failures)
    assert "documents/s" in run.stderr and "sentences/s" in run.stderr and "ETA" in run.stderr
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert sorted(r["source"] for r in lines) == sorted(map(str, papers))
    for r in lines:
        assert r["model_id"].startswith("fuzzymap-rel-") and set(r["timings"]) == {"read_s", "extract_s"}
        assert r["relations"] == sum(len(p["causal relations"]) for p in r["twosix"]) > 0
        assert r["source_sha256"] == r["sha256"]  # a text file is one document: same bytes
    from data.store import Store

    store = Store(str(db))
    try:
        docs = store.list_documents()
        assert len(docs) == 4
        by_name = {r["filename"]: r["relations"] for r in lines}
        for d in docs:
            pending = store.suggestions(document_id=d.id)
            assert len(pending) == by_name[d.filename] and all(s.model_id == lines[0]["model_id"] for s in pending)
        from data.model_runs import runs_by_model

        # every sentence counts as read by the model, also those it proposed nothing for (Compare)
        assert runs_by_model(store) == {lines[0]["model_id"]: {s.id for d in docs for s in store.sentences(d.id)}}
    finally:
        store.close()

    again = cli(str(folder), "--out", str(out), "--db", str(db))
    summary = json.loads(again.stdout.strip().splitlines()[-1])
    assert summary["skipped_already_done"] == 4 and summary["documents"] == 0 and summary["failed"] == len(BROKEN)
    assert len(out.read_text().splitlines()) == 4


@pytest.mark.slow
def test_a_killed_run_resumes_losing_nothing(tmp_path):
    folder = tmp_path / "corpus"
    write_corpus(folder, 8, 6, broken=False)
    whole = tmp_path / "whole.jsonl"
    assert cli(str(folder), "--out", str(whole)).returncode == 0
    out = tmp_path / "out.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "models", "extract-corpus", "--model", str(MODEL), str(folder),
                             "--out", str(out)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while not (out.is_file() and out.read_bytes().count(b"\n") >= 2) and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done_when_killed = out.read_bytes().count(b"\n")
    assert 2 <= done_when_killed < 8, "killed mid-run"
    with open(out, "ab") as handle:  # as if the kill had cut a line in half
        handle.write(b'{"source": "half a li')
    run = cli(str(folder), "--out", str(out))
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout.strip().splitlines()[-1])["skipped_already_done"] == done_when_killed
    assert comparable(out) == comparable(whole)
