"""Leave-one-source-out: no text of the held-out source (nor a near copy) reaches training."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from models.loso import make_folds, near_identical, training_texts
from tests.models_fixtures import semeval_file, twosix_file

SIFT_ROWS = [
    ("habitus_ph1", "Low rainfall in the north raised the risk of conflict between herders and farmers.",
     "rainfall", "increase(s)", "risk of conflict"),
    ("habitus_ph1", "Poor functioning of markets reduced the income of pastoralists in the region.",
     "poor functioning of markets", "decrease(s)", "income of pastoralists"),
    ("habitus_ph1", "Access to grazing areas improved the condition of the cattle during the dry season.",
     "access to grazing areas", "increase(s)", "condition of the cattle"),
    ("rise", "Higher fuel prices lowered the profits of small fishing firms along the coast.",
     "fuel prices", "decrease(s)", "profits of small fishing firms"),
    ("rise", "New irrigation schemes boosted the harvest of rice in the delta.",
     "irrigation schemes", "increase(s)", "harvest of rice"),
    ("nyt", "The long drought caused the crop failure that emptied the village markets.",
     "long drought", "increase(s)", "crop failure"),
    ("nyt", "Heavy rain flooded the roads to the capital for a week.",
     "heavy rain", "increase(s)", "flooded roads"),
]


def sift_file(path: Path) -> Path:
    """SIFT JSONL with a `source` per line (invented sentences)."""
    lines = [json.dumps({"source": src, "premise": text, "doc_id": f"d{i}",
                         "hypotheses": [{"subj": s, "pred": p, "obj": o}]})
             for i, (src, text, s, p, o) in enumerate(SIFT_ROWS)]
    path.write_text("\n".join(lines) + "\n")
    return path


def twosix_with_copies(path: Path) -> Path:
    """TwoSix passages that repeat SIFT sentences: one inside a longer passage, one with other
    spacing and punctuation, and one unrelated passage."""
    passages = [
        {"text": "Field notes. " + SIFT_ROWS[0][1] + " The report ends here.",
         "causal relations": [{"src": "rainfall", "tgt": "risk of conflict", "direction": "increase"}]},
        {"text": SIFT_ROWS[3][1].upper().replace(" ", "  ").rstrip(".") + "!",
         "causal relations": []},
        {"text": "Warm water caused coral bleaching on the outer reef.",
         "causal relations": [{"src": "warm water", "tgt": "coral bleaching", "direction": "increase"}]},
    ]
    path.write_text(json.dumps(passages))
    return path


@pytest.fixture()
def specs(tmp_path: Path) -> list[str]:
    return [f"semeval2010:{semeval_file(tmp_path / 'semeval.txt', n=20)}",
            f"twosix:{twosix_with_copies(tmp_path / 'copies.json')}",
            f"twosix:{twosix_file(tmp_path / 'osw.json', n=12)}",
            f"sift:{sift_file(tmp_path / 'sift.jsonl')}"]


def test_near_identical_finds_copies_inside_longer_texts_and_respelled() -> None:
    held = ["Low rainfall in the north raised the risk of conflict between herders and farmers."]
    texts = ["Notes. Low rainfall in the north raised the risk of conflict between herders and farmers. End.",
             "LOW  rainfall in the north raised the risk of conflict between herders and farmers!",
             "Rainfall in the south lowered the price of millet in the markets of the capital."]
    assert near_identical(held, texts) == set(texts[:2])
    # short texts only ever match when identical
    assert near_identical(["Heavy rain."], ["Heavy rain fell.", "heavy  RAIN"]) == {"heavy  RAIN"}


def test_no_fold_trains_on_a_text_of_its_held_out_source(specs: list[str]) -> None:
    folds = make_folds(specs, ("habitus_ph1", "rise", "nyt"), progress=lambda _: None)
    names = [f.name for f in folds]
    assert names == ["copies", "osw", "habitus_ph1", "rise", "nyt"]
    for fold in folds:
        held = {p.text for p in fold.data.passages} | {s.text for s in fold.data.sentences}
        seen = training_texts(fold.train)
        assert seen, fold.name
        assert not held & seen, fold.name
        assert not near_identical(sorted(held), sorted(seen)), fold.name
    by = {f.name: f for f in folds}
    # the held-out SIFT sentence copied into a TwoSix passage is left out of that file too
    assert by["habitus_ph1"].left_out[specs[1]] == 1 and by["rise"].left_out[specs[1]] == 1
    assert by["nyt"].left_out[specs[1]] == 0
    # and the other sources still train
    assert SIFT_ROWS[3][1] in training_texts(by["habitus_ph1"].train)
    assert len(by["habitus_ph1"].data.passages) == 3 and len(by["nyt"].data.passages) == 2


def test_loso_cli_prints_folds_and_mean_as_last_json_line(specs: list[str], capsys) -> None:
    from models.__main__ import main

    argv = ["evaluate", "--loso", "--json", "--backbone", "none", "--sources", "habitus_ph1,rise",
            "--heads", '{"c_grid": [1.0], "cv_folds": 2}']
    for spec in specs:
        argv += ["--data", spec]
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(result["folds"]) == {"copies", "osw", "habitus_ph1", "rise"}
    for fold in result["folds"].values():
        assert {"e2e_f1", "precision", "recall"} <= set(fold)
        assert 0.0 <= fold["e2e_f1"] <= 1.0
    mean = sum(f["e2e_f1"] for f in result["folds"].values()) / 4
    assert result["mean_e2e_f1"] == pytest.approx(mean, abs=1e-3)


def test_loso_bad_options_are_one_line_errors(specs: list[str], capsys) -> None:
    from models.__main__ import main

    assert main(["evaluate", "--loso", "--data", specs[0], "--heads", "[1"]) == 2
    assert main(["evaluate", "--loso", "--data", specs[0], "--adapter", "/nonexistent"]) == 2
    assert main(["evaluate", "--data", specs[0]]) == 2  # no --model and no --loso
    assert main(["evaluate", "--loso", "--backbone", "none", "--data", specs[0]]) == 2  # nothing to hold out
    assert main(["evaluate", "--loso", "--backbone", "none", "--data", specs[3], "--sources", "rise,folktales"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 5 and all(line.startswith("error: ") for line in lines)
    assert "no passages of source 'folktales' (sources here: habitus_ph1, nyt, rise)" in lines[-1]


@pytest.mark.slow
def test_lora_stage_per_fold_tunes_without_the_held_out_texts(specs: list[str], tmp_path: Path, monkeypatch) -> None:
    """With --lora each fold tunes its own adapter on its own training set (a few steps here)."""
    import models.training as training
    from models.classifier import HeadSettings
    from models.loso import LosoSettings, run_loso

    monkeypatch.setenv("FUZZYMAP_CACHE", str(tmp_path / "cache"))
    tuned: list[set[str]] = []
    real = training.tune_backbone

    def spy(settings, train, fold_specs, progress=print):
        # tune_backbone leaves train.held_out out of the LoRA stage (the heads are tuned on those)
        tuned.append(({e.candidate.text for e in train.examples} | {t for t, _ in train.sentences}) - train.held_out)
        assert settings.lora_steps == 2 and train.held_out
        assert settings.lora_r == 16 and settings.lora_targets == ("query", "key", "value", "dense")  # make model's shape
        return real(settings, train, fold_specs, progress)

    monkeypatch.setattr(training, "tune_backbone", spy)
    settings = LosoSettings(lora=True, lora_steps=2, heads=HeadSettings(c_grid=(1.0,), cv_folds=2))
    result = run_loso(specs[1:], settings, ("habitus_ph1", "rise"), progress=lambda _: None)
    assert set(result["folds"]) == {"copies", "osw", "habitus_ph1", "rise"} and len(tuned) == 4
    held = {r[1] for r in SIFT_ROWS if r[0] == "habitus_ph1"}
    assert not near_identical(sorted(held), sorted(tuned[2]))  # the habitus_ph1 fold's LoRA data
