"""Validation splits stay unseen across files: two files that share sentences (as CNC subtasks 1
and 2 do) are split apart, so a text one file holds out must not be trained on through the other."""
from __future__ import annotations

import csv

from data.readers import read_dataset, split, text_keys
from models.training import prepare
from tests.models_fixtures import cnc_file


def _cnc_with_extra_rows(path, base, extra: int):
    """The rows of another subtask-1 file, then `extra` sentences of its own: same texts, other split."""
    with open(base, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    with open(path, "w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerows(rows)
        writer.writerows([f"extra_{i}", f"The extra sentence number {i} names nothing.", 0] for i in range(extra))
    return path


def test_no_training_text_is_another_files_validation_text(tmp_path):
    first = cnc_file(tmp_path / "one.csv", n=60)
    second = _cnc_with_extra_rows(tmp_path / "two.csv", first, extra=40)
    specs = [f"cnc:{first}", f"cnc:{second}"]
    splits = [split(read_dataset(s), 0.2, 0) for s in specs]
    valid_texts = text_keys(splits[0][1]) | text_keys(splits[1][1])
    assert text_keys(splits[1][0]) & text_keys(splits[0][1]), "the fixture must share texts across the splits"

    messages: list[str] = []
    prep = prepare(specs, 0.2, 0, progress=messages.append)
    trained = {" ".join(t.split()).casefold() for t, _ in prep.train.sentences}
    assert trained and not trained & valid_texts
    # what each file gave up is recorded and said, and its validation split is untouched
    dropped = [item["train_texts_in_other_validation"] for item in prep.summary]
    assert sum(dropped) == len((text_keys(splits[0][0]) | text_keys(splits[1][0])) & valid_texts) > 0
    assert any("left out" in m for m in messages)
    assert [len(prep.valid[s][1].sentences) for s in specs] == [len(va.sentences) for _, va in splits]


def test_a_single_file_loses_nothing(tmp_path):
    spec = f"cnc:{cnc_file(tmp_path / 'one.csv', n=60)}"
    tr, _ = split(read_dataset(spec), 0.2, 0)
    prep = prepare([spec], 0.2, 0, progress=lambda _: None)
    assert len(prep.train.sentences) == len(tr.sentences)
    assert prep.summary[0]["train_texts_in_other_validation"] == 0
