"""extract-corpus on Ray, for real: a Ray head on 127.0.0.1 with two workers gives the local
engine's lines byte for byte (timings aside) after sorting, and a worker killed mid-run loses
no document. Bounded: tiny papers, two workers, a 256 MB object store, a timeout per test."""
from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from bench.corpus import BROKEN, comparable, write_corpus

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "default"
ENV = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "token",
       "RAY_AUTH_TOKEN": secrets.token_hex(16)}
"""The test head and its drivers share a token made here (Ray 2.60 authenticates even local clusters)."""


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "models", "extract-corpus", "--model", str(MODEL), *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=400, env=ENV)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Six small papers plus the broken files, and the local engine's output over them."""
    tmp = tmp_path_factory.mktemp("ray_corpus")
    write_corpus(tmp / "corpus", 6, 6)
    local = tmp / "local.jsonl"
    run = cli(str(tmp / "corpus"), "--out", str(local))
    assert run.returncode == 1 and json.loads(run.stdout.splitlines()[-1])["failed"] == len(BROKEN), run.stderr
    return tmp / "corpus", local


@pytest.fixture
def ray_head():
    """`ray start --head --block` on 127.0.0.1 with 2 CPUs, in its own session; stopped (that
    session only) after the test. Its temp folder is short: Ray's socket paths must fit 107 bytes."""
    port = free_port()
    temp = tempfile.mkdtemp(prefix="ray", dir="/tmp")
    head = subprocess.Popen([str(Path(sys.executable).parent / "ray"), "start", "--head", "--block",
                             "--node-ip-address=127.0.0.1", f"--port={port}", "--num-cpus=2",
                             "--include-dashboard=false", "--object-store-memory=268435456",
                             "--disable-usage-stats", f"--temp-dir={temp}"],
                            cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        assert head.poll() is None, "ray start exited"
        time.sleep(0.5)
    time.sleep(3)  # the raylet registers with the GCS after the port opens
    yield f"127.0.0.1:{port}"
    head.terminate()  # `ray start --block` stops the processes it started
    try:
        head.wait(timeout=60)
    finally:
        try:
            os.killpg(head.pid, signal.SIGKILL)  # anything of that session still there
        except ProcessLookupError:
            pass
        head.wait()
        shutil.rmtree(temp, ignore_errors=True)


@pytest.mark.timeout(420)
def test_ray_head_with_two_workers_equals_the_local_engine(corpus, ray_head, tmp_path):
    folder, local = corpus
    out = tmp_path / "ray.jsonl"
    run = cli(str(folder), "--out", str(out), "--engine", "ray", "--address", ray_head, "--workers", "2")
    assert run.returncode == 1, run.stderr[-2000:]
    summary = json.loads(run.stdout.splitlines()[-1])
    assert summary["documents"] == 6 and summary["failed"] == len(BROKEN)
    assert comparable(out) == comparable(local)
    failures = sorted(Path(json.loads(x)["source"]).name for x in (tmp_path / "ray.failures.jsonl").read_text().splitlines())
    assert failures == sorted(BROKEN)


@pytest.mark.timeout(420)
def test_a_worker_killed_mid_run_loses_no_document(corpus, tmp_path, monkeypatch):
    from models.corpus import Source, run_corpus
    from models.ray_engine import RayEngine

    folder, local = corpus
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    engine = RayEngine(MODEL, keep_documents=False, workers=2)
    killed: list[int] = []

    def killing_engine(sources: list[Source]):
        for result in engine(sources):
            if not killed:
                pid = engine.pids()[0]
                os.kill(pid, signal.SIGKILL)  # a worker this test's Ray started
                killed.append(pid)
            yield result

    out = tmp_path / "ray.jsonl"
    summary = run_corpus(sorted(p for p in folder.rglob("*") if p.is_file()), out, killing_engine)
    assert killed and not ray.is_initialized()  # the engine stopped the Ray it started
    assert sorted(Path(f["source"]).name for f in summary.failures) == sorted(BROKEN)
    assert summary.documents == 6
    assert comparable(out) == comparable(local)
