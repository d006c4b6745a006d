"""Store labels weigh `store_weight` in the heads' fits; the learning curve never scores a text it trained on.

Invented fixtures: a SemEval-style file says "A accompanies B" is no causal relation; a store
holds a data scientist's labels saying it is. As the store's weight grows, the model's answer on
an unseen "X accompanies Y" moves toward the store's labels.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bench.learning_curve import curve_split, mean_result, setup_key, split_source, write_labels
from data.readers import read_dataset
from data.store import Store
from core.types import Candidate, Direction, LabeledExample, ParsedDocument, ParsedSentence, PassageRelation
from models.bundle import read_config
from models.classifier import HeadSettings, RelationModel
from models.loso import near_identical
from models.training import add_split, prepare, weighted_draw

ROOT = Path(__file__).resolve().parents[1]
THINGS = ["rain", "wind", "smoke", "dust", "heat", "frost", "noise", "traffic", "fire", "snow", "hail", "fog",
          "mud", "sand", "salt", "ice", "steam", "ash", "soot", "pollen", "mould", "rust"]
OTHERS = ["floods", "storms", "fevers", "delays", "losses", "fights", "rumours", "queues", "strikes", "riots",
          "outages", "shortages", "repairs", "closures", "protests", "debts"]


def semeval_none(path: Path, n: int = 60) -> Path:
    """n SemEval blocks of "The <e1>A</e1> accompanies the <e2>B</e2>." labelled Other."""
    blocks = []
    for i in range(n):
        a, b = THINGS[i % len(THINGS)], OTHERS[(i * 7) % len(OTHERS)]
        blocks.append(f'{i + 1}\t"The <e1>{a}</e1> accompanies the <e2>{b}</e2> in town {i}."\r\n'
                      f"Other\r\nComment:\r\n\r\n")
    path.write_text("".join(blocks), newline="")
    return path


def labelled_store(path: Path, n: int = 30) -> Path:
    """A store whose annotator labelled n "The A accompanies the B." sentences as A -> B."""
    texts = [f"The {THINGS[(i * 5) % len(THINGS)]} accompanies the {OTHERS[(i * 3) % len(OTHERS)]} in village {i}."
             for i in range(n)]
    sentences, at = [], 0
    for t in texts:
        sentences.append(ParsedSentence(text=t, start=at, end=at + len(t)))
        at += len(t) + 1
    doc = ParsedDocument("labels.txt", hashlib.sha256(" ".join(texts).encode()).hexdigest(), sentences, format="txt")
    store = Store(str(path))
    try:
        [doc_id] = store.import_documents([doc])
        for i, row in enumerate(store.sentences(doc_id)):
            a, b = row.text.split(" accompanies the ")
            store.add_relation(row.id, PassageRelation(a.removeprefix("The "), b.split(" in village")[0],
                                                       1 if i % 3 else -1, annotator="ds"))
    finally:
        store.close()
    return path


@pytest.fixture(scope="module")
def specs(tmp_path_factory) -> list[str]:
    folder = tmp_path_factory.mktemp("weight")
    return [f"semeval2010:{semeval_none(folder / 'base.txt')}", f"store:{labelled_store(folder / 'labels.db')}"]


def p_causal(specs: list[str], weight: float) -> float:
    prep = prepare(specs, 0.2, 0, progress=lambda *_: None, store_weight=weight)
    model = RelationModel(None, HeadSettings(c_grid=(1.0,), cv_folds=2)).fit(prep.train, progress=lambda _: None)
    text = "The gravel accompanies the droughts in hamlet 99."
    probs, _ = model.predict_proba([Candidate(text, (4, 10), (25, 33))])
    return float(probs[0, 1] + probs[0, 2])


def test_store_weight_reaches_the_training_set_and_the_bundle_record(specs):
    prep = prepare(specs, 0.2, 0, progress=lambda *_: None, store_weight=5.0)
    store_texts = {p[0] for p in prep.train.passages}
    assert store_texts and set(prep.train.weights) == store_texts  # the store's passages, no file text
    assert set(prep.train.weights.values()) == {5.0}
    assert [s["weight"] for s in prep.summary] == [1.0, 5.0]


def test_store_labels_alone_are_not_reweighted(specs):
    """Nothing to weigh them against: a uniform weight would only rescale C."""
    prep = prepare(specs[1:], 0.2, 0, progress=lambda *_: None, store_weight=5.0)
    assert prep.train.weights == {} and prep.summary[0]["weight"] == 1.0


def test_heavier_store_labels_move_predictions_toward_them(specs):
    light, heavy = p_causal(specs, 1.0), p_causal(specs, 30.0)
    assert light < 0.5 < heavy  # the files outnumber the store at weight 1; at 30 the store wins


def test_sample_weight_reaches_every_pair_fit(specs, monkeypatch):
    from sklearn.linear_model import LogisticRegression

    seen: list = []
    original = LogisticRegression.fit

    def spy(self, X, y, sample_weight=None):
        seen.append(None if sample_weight is None else np.unique(sample_weight).tolist())
        return original(self, X, y, sample_weight=sample_weight)

    monkeypatch.setattr(LogisticRegression, "fit", spy)
    p_causal(specs, 4.0)
    assert seen and all(w == [1.0, 4.0] or w == [4.0] for w in seen)  # CV folds and the refit, sign head too


def test_bad_weight_is_refused_in_one_line(specs, tmp_path):
    with pytest.raises(Exception, match="must be a positive number"):
        add_split(prepare(specs, 0.2, 0, progress=lambda *_: None).train, read_dataset(specs[1]), "store", weight=0)
    run = subprocess.run([sys.executable, "-m", "models", "train", "--data", specs[1], "--store-weight", "-2",
                          "--out", str(tmp_path / "m")], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "is not a positive number" in run.stderr and not (tmp_path / "m").exists()


# ---------------------------------------------------------------- the learning curve's split
def passages(n: int = 40) -> list[ParsedSentence]:
    """Invented passages, some near-identical to others (one inside a longer one, one re-spaced)."""
    out = [ParsedSentence(text=f"The {THINGS[i % len(THINGS)]} of season {i} raised the {OTHERS[i % len(OTHERS)]} "
                               f"along road {i * 3}.",
                          relations=[PassageRelation(THINGS[i % len(THINGS)], OTHERS[i % len(OTHERS)], 1 if i % 2 else -1)])
           for i in range(n)]
    out.append(ParsedSentence(text=out[3].text + " Officials then counted the damage twice."))
    out.append(ParsedSentence(text="  ".join(out[7].text.split()).upper()))
    out.append(ParsedSentence(text=out[11].text, relations=[PassageRelation("x", "y", 0)]))
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_curve_split_never_scores_a_text_any_k_trains_on(seed):
    items = passages()
    pool, scored, dropped = split_source(items, 20, seed)
    assert len(pool) == 20 and len(pool) + len(scored) + dropped == len(items)
    assert not near_identical([p.text for p in scored], [p.text for p in pool])
    assert not {p.text for p in pool} & {p.text for p in scored}
    again = split_source(items, 20, seed)
    assert [p.text for p in again[0]] == [p.text for p in pool] and [p.text for p in again[1]] == [p.text for p in scored]


def test_curve_mean_averages_each_k_and_weight_over_the_shuffles():
    def shuffle(seed: int, f1: list[float]) -> dict:
        runs = [{"k": 0, "weight": None, "e2e_f1": f1[0], "precision": 0.2, "recall": 0.1},
                {"k": 50, "weight": 10.0, "e2e_f1": f1[1], "precision": 0.3, "recall": 0.1}]
        return {"source": "s", "seed": seed, "scored_passages": 9, "runs": runs}

    mean = mean_result([shuffle(0, [0.1, 0.2]), shuffle(1, [0.3, 0.5])])
    assert mean["seeds"] == [0, 1]
    assert [(r["k"], r["weight"], r["n"], r["e2e_f1"]) for r in mean["runs"]] == [(0, None, 2, 0.2), (50, 10.0, 2, 0.35)]


def test_curve_labels_go_through_the_store_and_back(tmp_path):
    pool, scored, _ = split_source(passages(), 20, 0)
    labelled = pool[:10] + [passages()[-1]]  # one with an unsigned relation only
    unsigned = write_labels(tmp_path / "k10.db", labelled)
    data = read_dataset(f"store:{tmp_path / 'k10.db'}")
    # labelled, or marked no-relation; a passage with only unsigned relations stays unlabeled
    assert [p.text for p in data.passages] == [p.text for p in labelled
                                               if not p.relations or any(r.sign for r in p.relations)]
    assert unsigned == sum(r.sign == 0 for p in labelled for r in p.relations)
    assert sum(len(p.relations) for p in data.passages) == sum(r.sign != 0 for p in labelled for r in p.relations)
    assert not {p.text for p in data.passages} & {p.text for p in scored}


def test_curve_lexicon_is_the_labelled_concepts_and_a_setup_of_its_own(tmp_path):
    """--lexicon extracts with the store's concepts: the ends of the relations saved, nothing of
    the scored passages; fits with and without it are never taken for each other (--rows)."""
    pool, _, _ = split_source(passages(), 20, 0)
    write_labels(tmp_path / "k10.db", pool[:10])
    store = Store(str(tmp_path / "k10.db"))
    try:
        names = {n for p in pool[:10] for r in p.relations if r.sign for n in (r.src, r.tgt)}
        assert set(store.concepts()) == names
    finally:
        store.close()
    data = tmp_path / "data.txt"
    data.write_text("x")
    specs = [f"semeval2010:{data}"]
    assert setup_key(specs, "rise", 0, [1.0]) != setup_key(specs, "rise", 0, [1.0], lexicon=True)


@pytest.mark.slow
def test_train_command_records_the_store_weight(specs, tmp_path):
    """The real CLI with the real backbone: the weight lands in training.json beside each file's."""

    env = {**os.environ, "FUZZYMAP_CACHE": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1"}
    run = subprocess.run([sys.executable, "-m", "models", "train", *[a for s in specs for a in ("--data", s)],
                          "--store-weight", "4", "--out", str(tmp_path / "m")],
                         cwd=ROOT, capture_output=True, text=True, timeout=600, env=env)
    assert run.returncode == 0, run.stderr[-2000:]
    config = read_config(tmp_path / "m")
    assert config["train_settings"]["store_weight"] == 4.0
    assert [d["weight"] for d in config["training_data"]] == [1.0, 4.0]
    assert json.loads(run.stdout.splitlines()[-1])["model"] == str(tmp_path / "m")


def test_curve_fold_is_the_source_alone_and_trains_on_none_of_it(tmp_path):
    from models.loso import make_folds, training_texts
    from tests.test_models_loso import SIFT_ROWS, sift_file, twosix_with_copies

    specs = [f"sift:{sift_file(tmp_path / 'sift.jsonl')}", f"twosix:{twosix_with_copies(tmp_path / 'copies.json')}"]
    [fold] = make_folds(specs, ["habitus_ph1"], sentences=False, progress=lambda _: None, files=False)
    held = [r[1] for r in SIFT_ROWS if r[0] == "habitus_ph1"]
    assert sorted(p.text for p in fold.data.passages) == sorted(held)
    trained = sorted(training_texts(fold.train))
    assert trained and not near_identical(held, trained)
    assert fold.left_out[specs[1]] == 1  # the TwoSix passage that holds a habitus_ph1 sentence


def _pairs(n_base: int, n_store: int) -> tuple[list[LabeledExample], dict[str, float]]:
    exs = [LabeledExample(Candidate(f"base sentence {i} about rain.", (14, 18), (25, 29)), Direction.NONE)
           for i in range(n_base)]
    exs += [LabeledExample(Candidate(f"store sentence {i} about rain.", (15, 19), (26, 30)), Direction.A_TO_B, 1)
            for i in range(n_store)]
    return exs, {e.candidate.text: 10.0 for e in exs[n_base:]}


def test_weighted_lora_pairs_are_drawn_by_weight():
    exs, weights = _pairs(900, 100)
    fit = weighted_draw(exs, weights, 4000, seed=3)
    assert len(fit) == 4000
    # 100 pairs of weight 10 against 900 of 1: about 1000 / 1900 of every draw is a store pair
    assert 0.48 < sum(e.candidate.text in weights for e in fit) / len(fit) < 0.58
    assert [e.candidate.text for e in weighted_draw(exs, weights, 4000, seed=3)] == [e.candidate.text for e in fit]
    assert [e.candidate.text for e in weighted_draw(exs, weights, 4000, seed=4)] != [e.candidate.text for e in fit]
    unweighted = weighted_draw(exs, {}, 4000, seed=3)  # texts not named weigh 1
    assert 0.07 < sum(e.candidate.text in weights for e in unweighted) / 4000 < 0.13


@pytest.mark.parametrize("weighted", [False, True])
def test_lora_stage_takes_store_labels_by_weight_and_unweighted_sets_as_before(weighted, monkeypatch, tmp_path):
    """The LoRA stage tunes on a draw by weight only when the set weighs some texts; a set without
    weights gets the plain seeded split it always had (so `make model`'s adapter is unchanged)."""
    import random

    import finetune.lora
    from models.classifier import TrainingSet
    from models.training import TrainSettings, tune_backbone

    exs, weights = _pairs(900, 100)
    train = TrainingSet(examples=list(exs), weights=weights if weighted else {})
    seen = {}

    class Stop(Exception):
        pass

    def fake_train_lora(backbone, fit, stop, lora, out_dir, pooling, **kw):
        seen.update(fit=fit, stop=stop)
        raise Stop

    monkeypatch.setattr(finetune.lora, "train_lora", fake_train_lora)
    monkeypatch.setenv("FUZZYMAP_CACHE", str(tmp_path))
    with pytest.raises(Stop):
        tune_backbone(TrainSettings(lora=True, lora_steps=100, seed=0), train, [], lambda _: None)
    store_share = sum(e.candidate.text in weights for e in seen["fit"]) / len(seen["fit"])
    order = list(exs)
    random.Random(0).shuffle(order)
    assert seen["stop"] == order[:200]  # the early-stopping pairs: a plain seeded slice either way
    if weighted:
        assert len(seen["fit"]) == 1600 and 0.45 < store_share < 0.62
        assert not {id(e) for e in seen["fit"]} & {id(e) for e in seen["stop"]}
    else:
        assert seen["fit"] == order[200:]


def test_curve_setups_differ_by_lora_steps_and_labelable_passages(tmp_path):
    data = tmp_path / "data.txt"
    data.write_text("x")
    specs = [f"semeval2010:{data}"]
    keys = {setup_key(specs, "rise", 0, [1.0]), setup_key(specs, "rise", 0, [1.0], lora_steps=400),
            setup_key(specs, "rise", 0, [1.0], labelable=100), setup_key(specs, "rise", 0, [1.0], labelable=50)}
    assert len(keys) == 4


def test_curve_k0_alone_with_labelable_scores_the_same_passages_as_the_largest_k():
    """--ks 0 --labelable 20 and --ks 0,20 (two processes, say) score one set of passages; fewer
    labelable passages than the largest k is refused."""
    items = passages()
    alone, together = curve_split(items, [0], 20, 1), curve_split(items, [0, 20], None, 1)
    assert [p.text for p in alone[1]] == [p.text for p in together[1]]
    assert [p.text for p in curve_split(items, [0], None, 1)[1]] != [p.text for p in alone[1]]
    with pytest.raises(SystemExit, match="fewer than the largest k"):
        curve_split(items, [0, 20], 10, 1)


@pytest.mark.slow
def test_train_with_lora_tunes_on_store_labels_by_their_weight(specs, tmp_path, monkeypatch):
    """`train --lora --store-weight W` with the real backbone: the LoRA stage is handed the store's
    pairs about W times as often as their share of the pool; at weight 1 it gets the plain pool."""
    import finetune.lora
    from models.training import TrainSettings, train_model

    monkeypatch.setenv("FUZZYMAP_CACHE", str(tmp_path / "cache"))
    real, shares = finetune.lora.train_lora, {}

    def spy(backbone, train, valid, settings, *args, **kwargs):
        drawn = finetune.lora.sample_examples(train, settings.max_train, settings.seed)
        shares[weight] = sum("village" in e.candidate.text for e in drawn) / len(drawn)
        return real(backbone, train, valid, settings, *args, **kwargs)

    monkeypatch.setattr(finetune.lora, "train_lora", spy)
    for weight in (1.0, 10.0):
        settings = TrainSettings(lora=True, lora_steps=8, lora_valid=8, layers=2, lora_r=2, store_weight=weight,
                                 cache_dir=str(tmp_path / "emb"), heads=HeadSettings(c_grid=(1.0,), cv_folds=2))
        train_model(specs, settings, tmp_path / f"w{weight:g}", progress=lambda _: None)
    assert 0.2 < shares[1.0] < 0.8 and shares[10.0] > 0.85, shares
