"""The concept head (models.concepts_head, HeadSettings.concept_head): which reading of a span
people label, learned from invented passages; off by default; saved and checked like the others."""
from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

from core.errors import InputError
from core.types import PassageRelation
from data.readers import read_dataset
from models.__main__ import _heads, parser
from models.bundle import MANIFEST, load_bundle, load_model, save_bundle
from models.candidates import CandidateSettings, concept_spans
from models.classifier import HeadSettings, RelationModel
from models.concepts_head import SpanCues, concept_labels, span_row
from models.training import training_set

HEADS = ["scarcity", "price", "access", "shortage", "loss", "use", "quality", "supply", "cost", "lack"]
OBJECTS = ["water", "fodder", "pasture", "seed", "forest", "phones", "soil", "credit", "fuel", "land", "grain"]
EFFECTS = ["conflict", "migration", "poverty", "hunger", "erosion", "debt", "violence", "theft"]
CAUSAL = ["The {c} increased {e} in the district.", "The {c} led to {e} among the herders.",
          "Severe {e} followed the {c} last season."]
NEUTRAL = "The {c} and the {e} were listed in the survey."
DEFAULT = Path(__file__).resolve().parent.parent / "models" / "default"
NEW = "The lack of rain worsened hunger among the traders."
QUIET = lambda _: None  # noqa: E731
GRANULAR = CandidateSettings(granular=True)


def passages_file(path: Path, n: int = 48, seed: int = 3) -> Path:
    """TwoSix passages whose concepts are "HEAD of OBJECT" phrases (the labelled reading)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        c, e = f"{rng.choice(HEADS)} of {rng.choice(OBJECTS)}", rng.choice(EFFECTS)
        if i % 4 == 3:
            out.append({"text": NEUTRAL.format(c=c, e=e), "causal relations": []})
        else:
            out.append({"text": CAUSAL[i % 3].format(c=c, e=e),
                        "causal relations": [{"src": c, "tgt": e, "direction": "increase"}]})
    path.write_text(json.dumps(out))
    return path


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return [read_dataset(f"twosix:{passages_file(tmp_path_factory.mktemp('d') / 'p.json')}")]


def fit(data, concept_head: bool) -> RelationModel:
    settings = HeadSettings(c_grid=(1.0,), cv_folds=3, concept_head=concept_head)
    return RelationModel(None, settings, GRANULAR).fit(training_set(data), progress=QUIET)


@pytest.fixture(scope="module")
def on(data) -> RelationModel:
    return fit(data, True)


@pytest.fixture(scope="module")
def off(data) -> RelationModel:
    return fit(data, False)


def p_of(model: RelationModel, text: str, phrase: str) -> float:
    start = text.index(phrase)
    return float(model.concept_proba([(text, (start, start + len(phrase)))])[0])


def test_labels_take_the_whole_phrase_not_its_parts() -> None:
    text = "The scarcity of water increased conflict in the district."
    spans = concept_spans(text, (), GRANULAR)
    words = {text[s:e]: y for (s, e), y in zip(spans, concept_labels(
        text, spans, [PassageRelation("scarcity of water", "conflict", 1)]))}
    assert words["scarcity of water"] == 1 and words["conflict"] == 1
    assert words["scarcity"] == 0 and words["water"] == 0 and words["district"] == 0
    assert concept_labels(text, spans, [PassageRelation("water", "conflict", 1)], states=True)[
        spans.index(next(s for s in spans if text[s[0]:s[1]] == "scarcity of water"))] == 1


def test_span_cues_see_attachments_from_the_text_alone() -> None:
    text = "The scarcity of water increased conflict."
    rows = SpanCues().transform([span_row(text, (4, 12)), span_row(text, (4, 21)), span_row(text, (16, 21))])
    names = list(SpanCues().get_feature_names_out())
    assert rows[:, names.index("next_prep")].tolist() == [1, 0, 0]  # "scarcity" before "of"
    assert rows[:, names.index("prev_prep")].tolist() == [0, 0, 1]  # "water" after "of"
    assert rows[:, names.index("has_of")].tolist() == [0, 1, 0]


def test_head_prefers_the_labelled_reading_on_new_words(on: RelationModel) -> None:
    assert on.concept_ is not None and on.info["concept"]["concepts"] > 0
    whole = p_of(on, NEW, "lack of rain")
    assert whole > 0.5
    assert whole > p_of(on, NEW, "lack") and whole > p_of(on, NEW, "rain")
    assert "concept" in on.thresholds and 0.0 <= on.thresholds["concept"] <= 0.5
    assert "chosen_C" in on.info["cv"]["concept"]


def test_cross_validation_keeps_each_texts_spans_in_one_fold(data, monkeypatch) -> None:
    """The out-of-fold P(concept) the threshold is tuned on comes from texts the head did not see."""
    import models.classifier as classifier

    seen = []

    class Spy(classifier.HeadClassifier):
        def fit(self, X, y, **kw):
            if isinstance(self.cv, list):
                seen.append((list(X), self.cv))
            return super().fit(X, y, **kw)

    monkeypatch.setattr(classifier, "HeadClassifier", Spy)
    fit(data, True)
    (rows, folds), = seen
    assert len(folds) == 3
    for train, test in folds:
        assert not {rows[i].text for i in train} & {rows[i].text for i in test}


def test_off_by_default_and_a_zero_threshold_changes_nothing(data, on: RelationModel, off: RelationModel) -> None:
    assert HeadSettings().concept_head is False
    assert off.concept_ is None and "concept" not in off.thresholds and "concept" not in off.info
    texts = [NEW, "The price of fodder led to theft among the herders.", NEUTRAL.format(c="cost of land", e="debt")]
    on.thresholds, saved = {**off.thresholds, "concept": 0.0}, on.thresholds
    try:
        assert on.extract(texts) == off.extract(texts)
        # a threshold above every P(concept) drops every pair
        on.thresholds["concept"] = 1.01
        assert on.extract(texts) == [[], [], []]
    finally:
        on.thresholds = saved


def test_a_bundle_without_a_concept_head_loads_as_before() -> None:
    model = load_model(DEFAULT)
    assert model.concept_ is None and "concept" not in model.thresholds and not model.settings.concept_head
    probs = np.ones((2, 3))
    assert model._drop_by_concept([], probs) is probs


def test_bundle_round_trip_and_a_changed_byte_is_refused(on: RelationModel, off: RelationModel,
                                                         tmp_path: Path) -> None:
    path = save_bundle(on, tmp_path / "with")
    config = json.loads((path / "config.json").read_text())
    state = json.loads((path / "state.json").read_text())
    assert config["settings"]["concept_head"] is True and state["heads"]["concept"]["blocks"] == ["span"]
    assert {"concept.coef", "concept.intercept", "concept.classes"} <= set(load_file(str(path / "classifier.safetensors")))
    assert "classifier.safetensors" in json.loads((path / MANIFEST).read_text())["files"]
    loaded = load_bundle(path)
    spans = [(NEW, s) for s in concept_spans(NEW, (), GRANULAR)]
    assert np.array_equal(loaded.concept_proba(spans), on.concept_proba(spans))
    texts = [NEW, "The price of fodder led to theft among the herders."]
    assert loaded.thresholds == on.thresholds
    assert [[(r.src, r.tgt, r.sign, r.score) for r in rs] for rs in loaded.extract(texts)] == \
        [[(r.src, r.tgt, r.sign, r.score) for r in rs] for rs in on.extract(texts)]
    plain = save_bundle(off, tmp_path / "without")
    assert "concept" not in json.loads((plain / "state.json").read_text())["heads"]
    assert "concept_head" not in json.loads((plain / "config.json").read_text())["settings"]
    assert load_bundle(plain).concept_ is None

    copy = tmp_path / "copy"
    shutil.copytree(path, copy)
    blob = bytearray((copy / "classifier.safetensors").read_bytes())
    blob[-2] ^= 0x01  # inside the arrays, the concept head's among them
    (copy / "classifier.safetensors").write_bytes(bytes(blob))
    with pytest.raises(InputError, match="classifier.safetensors was modified"):
        load_bundle(copy)


def test_with_the_backbone_the_span_vector_comes_from_the_a_part(data, tmp_path: Path) -> None:
    """The head reads the embedder's "a" part of each span row, and a bundle restores it exactly."""
    from embedding.features import CandidateEmbedder

    model = RelationModel(CandidateEmbedder("minilm", layers=4), HeadSettings(c_grid=(1.0,), concept_head=True),
                          GRANULAR).fit(training_set(data), progress=QUIET)
    blocks = dict(model.concept_[0].transformer_list)
    assert list(blocks) == ["embed", "span"] and blocks["embed"][0].parts == ("a",)
    assert p_of(model, NEW, "lack of rain") > max(p_of(model, NEW, "lack"), p_of(model, NEW, "rain"))
    spans = [(NEW, s) for s in concept_spans(NEW, (), GRANULAR)]
    loaded = load_bundle(save_bundle(model, tmp_path / "b"))
    assert np.array_equal(loaded.concept_proba(spans), model.concept_proba(spans))


def test_heads_option_for_train_and_evaluate() -> None:
    assert _heads('{"concept_head": true}').concept_head is True
    for argv in (["train", "--data", "twosix:x.json", "--out", "m", "--heads", '{"concept_head": true}'],
                 ["evaluate", "--loso", "--data", "twosix:x.json", "--heads", '{"concept_head": true}']):
        assert _heads(parser().parse_args(argv).heads).concept_head is True
    for bad in ('{"no_such": 1}', "[1]", "{"):
        with pytest.raises(InputError, match="--heads"):
            _heads(bad)


def cnc_pairs_file(path: Path, n: int = 24, seed: int = 5) -> Path:
    """Causal News Corpus subtask-2 CSV: cause in <ARG0>, effect in <ARG1> (invented sentences)."""
    import csv

    rng = random.Random(seed)
    with open(path, "w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow(["corpus", "doc_id", "sent_id", "eg_id", "index", "text", "text_w_pairs", "seq_label",
                         "pair_label", "context", "num_sents"])
        for i in range(n):
            c, e = f"{rng.choice(HEADS)} of {rng.choice(OBJECTS)}", rng.choice(EFFECTS)
            marked = f"<ARG0>The {c}</ARG0> <SIG0>caused</SIG0> <ARG1>{e}</ARG1> in the villages ."
            writer.writerow(["cnc", f"d{i}", "0", "0", f"fx_{i}", f"The {c} caused {e} in the villages .", marked,
                             "1", "1", "", "1"])
    return path


def test_train_and_loso_cli_take_the_concept_head(tmp_path: Path, monkeypatch, capsys) -> None:
    from models.__main__ import main

    monkeypatch.setenv("FUZZYMAP_CACHE", str(tmp_path / "cache"))
    twosix = f"twosix:{passages_file(tmp_path / 'a.json')}"
    cnc = f"cnc:{cnc_pairs_file(tmp_path / 'c.csv')}"
    heads = '{"c_grid": [1.0], "concept_head": true}'
    assert main(["train", "--data", twosix, "--data", cnc, "--granular", "--no-lora", "--heads", heads,
                 "--out", str(tmp_path / "m")]) == 0
    model = load_bundle(tmp_path / "m")
    assert model.settings.concept_head and model.concept_ is not None and model.candidates.granular
    cnc_texts = {p.text for p in read_dataset(cnc).passages}
    assert model.info["concept"]["concepts"] > 0 and cnc_texts
    capsys.readouterr()
    argv = ["evaluate", "--loso", "--json", "--backbone", "none", "--granular", "--heads",
            '{"c_grid": [1.0], "cv_folds": 2, "concept_head": true}',
            "--data", twosix, "--data", f"twosix:{passages_file(tmp_path / 'b.json', seed=4)}"]
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(result["folds"]) == {"a", "b"} and result["settings"]["heads"]["concept_head"] is True


def test_cnc_subtask_2_cause_and_effect_spans_are_training_concepts(tmp_path: Path) -> None:
    data = read_dataset(f"cnc:{cnc_pairs_file(tmp_path / 'c.csv')}")
    model = fit([data], True)
    # each sentence: "The HEAD of OBJECT" (cause) and "EFFECT" (effect) are its two labelled spans
    assert model.info["concept"]["concepts"] == 2 * len({p.text for p in data.passages})
    text = data.passages[0].text
    cause = data.passages[0].relations[0].src[len("The "):]
    assert p_of(model, text, cause) > max(p_of(model, text, cause.split(" of ")[0]),
                                          p_of(model, text, cause.split(" of ")[1]))
