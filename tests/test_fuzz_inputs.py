"""Fuzz: 500 seeded hostile or broken files per upload format through ingestion and the store.

Every case ends one of two ways: a one-line InputError that names the file, with the database
unchanged; or an import whose stored sentences are the parsed ones. Never another exception,
never more than 10 s. A few cases per format also go through the command line, which must exit
0 or 2 with one line and no traceback. (bench/fuzz.py runs the same corpus and reports figures.)
"""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from fuzz_corpus import FORMATS, cases, run_case

from data.store import Store

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
CASES = 500


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_case_is_a_one_line_error_or_a_correct_import(tmp_path, fmt):
    store = Store(str(tmp_path / "fuzz.db"))
    outcomes = {"error": 0, "imported": 0}
    failures = []
    slowest = (0.0, "")
    for name, content in cases(fmt, CASES):
        start = time.perf_counter()
        try:
            outcomes[run_case(store, name, content)] += 1
        except Exception as exc:  # collected, so one run lists every kind of failure
            failures.append(f"{name} ({len(content)} bytes): {type(exc).__name__}: {str(exc)[:200]}")
        took = time.perf_counter() - start
        slowest = max(slowest, (took, name))
    assert not failures, f"{len(failures)} of {CASES} cases broke the contract:\n" + "\n".join(failures[:20])
    assert slowest[0] < 10, f"{slowest[1]} took {slowest[0]:.1f} s"
    assert sum(outcomes.values()) == CASES and outcomes["error"] and outcomes["imported"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_command_line_exits_2_with_one_line(tmp_path, fmt):
    db = tmp_path / "cli.db"
    picked = [c for i, c in enumerate(cases(fmt, 60)) if i % 20 == 1][:3]
    for name, content in picked:
        path = tmp_path / name
        path.write_bytes(content)
        done = subprocess.run([sys.executable, "-m", "data.store", "--db", str(db), "import", str(path)],
                              cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert "Traceback" not in done.stderr
        if done.returncode == 2:
            assert done.stderr.count("\n") == 1 and done.stderr.startswith(f"error: {name}: "), done.stderr
            assert str(tmp_path) not in done.stderr
        else:
            assert done.returncode == 0 and done.stderr == "", done.stderr
