"""The fast paths change nothing: Extractor.pipe (length-sorted batches of any size) gives the
reference path's relations (RelationModel.extract over the sentences in their own order, which
evaluate uses for the SemEval / CNC / end-to-end figures), and start-up stays light."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from models.extractor import Extractor

ROOT = Path(__file__).resolve().parent.parent
SENTENCES = [
    "Heavy smoking causes lung cancer in older adults.",
    "The new dam reduced flooding in the lower valley, while warmer water lowered the growth of young cod.",
    "The meeting took place in a small room on Monday.",
    "Low rainfall increases the risk of crop failure for herders.",
    "Because of rising fuel prices, the fishing fleet stayed in port and local employment fell sharply "
    "across the northern sites during the survey years, as reported by the regional agency.",
    "Tourism in the bay improved local incomes.",
    "Ocean acidification threatened seabird populations.",
    "Storm frequency was measured together with coastal erosion.",
]


def key(found):
    return [[(r.src, r.tgt, r.sign, r.src_span, r.tgt_span) for r in rels] for rels in found]


@pytest.mark.slow
def test_pipe_equals_the_reference_path_for_any_batch_size():
    extractor = Extractor.load(ROOT / "models" / "default")
    reference = extractor.model.extract(SENTENCES)
    assert sum(map(len, reference)) >= 4  # the fixture has relations to compare
    for size in (1, 3, 256):
        seen = []
        found = extractor.pipe(SENTENCES, batch_size=size, on_progress=lambda d, t: seen.append((d, t)))
        assert key(found) == key(reference), size
        for rels, ref in zip(found, reference):
            assert all(abs(a.score - b.score) <= 1e-3 for a, b in zip(rels, ref))
        assert seen[-1] == (len(SENTENCES), len(SENTENCES)) and len(seen) == -(-len(SENTENCES) // size)
    assert extractor.pipe([]) == []


def test_cli_help_and_the_default_engine_import_no_ml_stack_and_never_ray():
    probe = ("import sys, runpy; sys.argv = ['models', '--help']\n"
             "try:\n    runpy.run_module('models', run_name='__main__')\nexcept SystemExit:\n    pass\n"
             "import models.corpus, workspace.extraction, workspace.suggest\n"
             "heavy = sorted(m for m in ('torch', 'sklearn', 'spacy', 'transformers', 'ray') if m in sys.modules)\n"
             "print('HEAVY', heavy)")
    run = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == "HEAVY []"
    assert "extract-corpus" in run.stdout
