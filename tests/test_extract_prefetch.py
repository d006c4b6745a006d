"""Candidates found ahead in a second process (models.prefetch) are the ones found here: the
extract CLI writes what the in-process path writes, and its own process never imports spaCy."""
from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from models import candidates
from models.candidates import CandidateSettings, expect, make_candidates_batch
from models.prefetch import candidate_settings

ROOT = Path(__file__).resolve().parent.parent
BUNDLE = ROOT / "models" / "default"
TEXTS = ["Heavy rain caused floods in the valley, and the floods damaged roads near the river.",
         "Warmer sea temperatures reduced the growth of young cod.",
         "The meeting took place on Monday."]

PROBE = """
import json, sys
from models import candidates
from models.prefetch import prefetch_candidates
texts = json.loads(sys.argv[2])
started = prefetch_candidates(sys.argv[1], [texts[:2], texts[2:]])
settings = candidates.CandidateSettings.from_config(json.loads(sys.argv[3]))
found = candidates.make_candidates_batch(texts[:2], (), settings)
found += candidates.make_candidates_batch(texts[2:], (), settings)
print(json.dumps({"started": started, "spacy_here": "spacy" in sys.modules,
                  "found": [[[c.a, c.b] for c in cs] for cs in found]}))
"""


@pytest.fixture(autouse=True)
def _nothing_ahead():
    candidates._AHEAD.clear()
    yield
    candidates._AHEAD.clear()


def test_candidates_from_the_second_process_equal_parsing_here_and_spacy_stays_out():
    settings = candidate_settings(BUNDLE)
    assert settings is not None
    run = subprocess.run([sys.executable, "-c", PROBE, str(BUNDLE), json.dumps(TEXTS), json.dumps(settings.to_config())],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    probe = json.loads(run.stdout.strip().splitlines()[-1])
    assert probe["started"] and probe["spacy_here"] is False  # parsed over there, not here
    here = make_candidates_batch(TEXTS[:2], (), settings) + make_candidates_batch(TEXTS[2:], (), settings)
    assert probe["found"] == [[[list(c.a), list(c.b)] for c in cs] for cs in here]
    assert any(probe["found"])


class Failed:
    def result(self):
        raise RuntimeError("the second process died")


class Wrong:
    def result(self):
        return [["not", "these"]]


def test_a_failed_prefetch_is_parsed_here_and_other_settings_never_use_it():
    reference = make_candidates_batch(TEXTS[:1])
    expect(TEXTS[:1], Failed())
    assert make_candidates_batch(TEXTS[:1]) == reference
    expect(TEXTS[:1], Wrong(), (), CandidateSettings(max_pairs=7))
    assert make_candidates_batch(TEXTS[:1]) == reference  # announced for max_pairs=7 only
    assert make_candidates_batch(TEXTS[:1], (), CandidateSettings(max_pairs=7)) == [["not", "these"]]


def test_no_prefetch_without_a_readable_bundle_config(tmp_path):
    from models.prefetch import prefetch_candidates

    assert candidate_settings(tmp_path) is None
    (tmp_path / "config.json").write_text(json.dumps({"candidates": {"max_pairs": "40", "max_distance": 30}}))
    assert candidate_settings(tmp_path) is None
    assert prefetch_candidates(tmp_path, [TEXTS]) is False and not candidates._AHEAD
    assert prefetch_candidates(BUNDLE, [[]]) is False


CLI = """
import runpy, sys
sys.argv = ["models", "extract", "--model", sys.argv[1], sys.argv[2], "--out", sys.argv[3]]
try:
    runpy.run_module("models", run_name="__main__")
except SystemExit as exc:
    assert not exc.code, exc.code
print("SPACY", "spacy" in sys.modules)
"""


@pytest.mark.slow
def test_extract_cli_writes_what_the_in_process_path_writes(tmp_path):
    from data.formats import write_twosix
    from data.ingest import read_path
    from models.extractor import Extractor, with_relations

    paper = tmp_path / "paper.txt"
    paper.write_text(" ".join(TEXTS) + "\n\nLow rainfall increases the risk of crop failure for herders. "
                     "Tourism in the bay improved local incomes.\n", encoding="utf-8")
    out = tmp_path / "out.json"
    run = subprocess.run([sys.executable, "-c", CLI, str(BUNDLE), str(paper), str(out)], cwd=ROOT,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == "SPACY False"
    docs = read_path(paper)
    extractor = Extractor.load(BUNDLE)
    expected = write_twosix([replace(doc, sentences=with_relations(doc, extractor.document(doc))) for doc in docs])
    assert out.read_text() == expected
    assert sum(len(p["causal relations"]) for p in json.loads(expected)) >= 2


def test_forward_batches_keep_order_size_and_the_character_budget():
    from embedding.pooling import MAX_BATCH_CHARS, _batches

    lengths = [10, 20, 30, 5000, 40000, 70000, 40000]
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    got = _batches(order, lengths, 3)
    assert [i for b in got for i in b] == order and all(1 <= len(b) <= 3 for b in got)
    assert all(len(b) == 1 or len(b) * max(lengths[i] for i in b) <= MAX_BATCH_CHARS for b in got)
    assert got[0] == [0, 1, 2] and [5] in got  # a text over the budget still gets a batch of its own


@pytest.mark.slow
def test_large_forward_batches_give_the_relations_of_small_ones():
    from models.extractor import ExtractSettings, Extractor

    small = Extractor.load(BUNDLE, settings=ExtractSettings(embed_batch=2))
    reference = small.pipe(TEXTS + ["Low rainfall increases the risk of crop failure for herders."])
    large = Extractor(small.model, settings=ExtractSettings(embed_batch=256))
    assert small.model.pair_.get_params()["features__embed__encode__batch_size"] == 256
    found = large.pipe(TEXTS + ["Low rainfall increases the risk of crop failure for herders."])
    assert [[(r.src, r.tgt, r.sign) for r in rs] for rs in found] == \
        [[(r.src, r.tgt, r.sign) for r in rs] for rs in reference]
    assert all(abs(a.score - b.score) <= 1e-3 for x, y in zip(found, reference) for a, b in zip(x, y))
    assert sum(map(len, reference)) >= 2
