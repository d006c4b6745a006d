"""bench/ceiling.py: which gold relations span extraction can reach by the held-out check's rule.

Invented passages and relations only."""
from __future__ import annotations

from bench.ceiling import MISSES, fold_ceiling, miss_kind, reach
from core.types import Candidate, ParsedSentence, PassageRelation
from models.candidates import CandidateSettings

TEXT = "Low levels of rainfall increase the risk for herders in the north."


def test_a_pair_reaches_a_gold_relation_in_either_order_by_the_jaccard_rule():
    rain, risk, north = (0, 22), (32, 52), (56, 65)
    assert TEXT[slice(*rain)] == "Low levels of rainfall" and TEXT[slice(*risk)] == "the risk for herders"
    cands = [Candidate(TEXT, rain, risk), Candidate(TEXT, risk, north)]
    # "rainfall" against "low levels of rainfall" is 1/3: no match; "levels of rainfall" is 2/3
    gold = [PassageRelation("levels of rainfall", "risk for herders", -1),
            PassageRelation("north", "risk", 1),  # reached by the pair (risk, north), reversed
            PassageRelation("rainfall", "risk", -1)]
    got, missed = reach(TEXT, cands, gold)
    assert got == 2
    assert missed == {"span longer": 1}  # "rainfall": the closest span holds it and more


def test_misses_are_told_apart():
    spans = ["the risk for herders", "herders"]
    assert miss_kind("herders' risk of losing cattle", TEXT, spans) == MISSES[0]  # words not in the passage
    assert miss_kind("risk for herders in north", TEXT, ["herders"]) == MISSES[1]  # closest span shorter
    assert miss_kind("risk", TEXT, ["the risk for herders"]) == MISSES[2]  # closest span longer


def test_fold_ceiling_counts_and_f1():
    passages = [ParsedSentence(TEXT, relations=[PassageRelation("levels of rainfall", "risk for herders", -1),
                                                PassageRelation("drought", "herders", 1)])]
    out = fold_ceiling(passages, CandidateSettings(granular=True))
    assert out["gold_relations"] == 2 and out["reachable"] == 0.5
    assert out["f1_ceiling"] == round(2 * 0.5 / 1.5, 3)
    assert out["concepts_missed"]["words not in passage"] == 1  # "drought"


def test_verb_phrase_candidates_reach_gold_named_as_events():
    text = "Many farmers deserted their farmlands, and the women do not go to the hospital."
    passages = [ParsedSentence(text, relations=[PassageRelation("farmers deserting farmlands",
                                                                "not going to hospital", 1)])]
    assert fold_ceiling(passages)["reachable"] == 0.0
    assert fold_ceiling(passages, CandidateSettings(verb_phrases=True))["reachable"] == 1.0


def test_a_missing_data_file_ends_the_script_with_one_line():
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    run = subprocess.run([sys.executable, str(root / "bench" / "ceiling.py"), "--data", "sift:/no/such.jsonl"],
                         capture_output=True, text=True, cwd=root, timeout=120)
    assert run.returncode == 2 and run.stderr.strip().splitlines() == ["error: /no/such.jsonl: no such file"]
