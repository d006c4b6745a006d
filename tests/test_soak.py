"""Soak (short): 8 writer processes keep adding relations while a 4 MB text file is imported in
batches. No write is lost, none sees "database is locked", the document arrives whole.
bench/soak.py runs the full 40 MB / 60 s version for the README figures."""
from __future__ import annotations

import pytest

from bench.soak import soak, write_text

pytestmark = pytest.mark.slow


def test_writers_keep_writing_during_a_large_import(tmp_path):
    text = tmp_path / "large.txt"
    write_text(text, 4)
    figures = soak(f"sqlite:///{tmp_path / 'soak.db'}", text, writers=8, seconds=10)
    assert figures["document_sentences"] > 40_000 and figures["imported_whole"]
    assert figures["writes_ok"] == figures["writes_attempted"] > 100
    assert figures["lost_writes"] == 0 and figures["locked_errors"] == 0 and figures["other_errors"] == []
