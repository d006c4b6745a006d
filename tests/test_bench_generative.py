"""bench/generative.py: its folds, samples, CNC examples and bad input (the writer itself: test_models_writer).

Invented passages and relations only."""
from __future__ import annotations

import json

import pytest

from bench.generative import cnc_examples, held_out, main, model_folder, share_of
from core.errors import InputError, run_script
from core.names import normalize
from core.types import PassageRelation

FUEL = PassageRelation("fuel prices", "transport costs", 1)


def test_a_smaller_share_is_part_of_a_larger_one():
    examples = [(f"passage {i}", [FUEL]) for i in range(40)]
    quarter, half = share_of(examples, 0.25, seed=1), share_of(examples, 0.5, seed=1)
    assert len(quarter) == 10 and len(half) == 20 and {t for t, _ in quarter} <= {t for t, _ in half}
    assert share_of(examples, 1.0, seed=1) == examples and quarter == share_of(examples, 0.25, seed=1)


def test_cnc_spans_are_cause_to_effect_without_a_sign(tmp_path):
    path = tmp_path / "cnc.csv"
    path.write_text("\ufeffcorpus,doc_id,text,text_w_pairs\n"
                    'cnc,d1,Floods closed the road .,<ARG0>Floods</ARG0> <SIG0>closed</SIG0> <ARG1>the road</ARG1> .\n'
                    "cnc,d2,Nothing here .,Nothing here .\n", encoding="utf-8")
    assert [(t, [(r.src, r.tgt, r.sign) for r in rels]) for t, rels in cnc_examples(str(path))] == [
        ("Floods closed the road .", [("Floods", "the road", 0)])]


def test_model_folder_refuses_what_is_not_a_model(tmp_path):
    with pytest.raises(InputError, match="--model"):
        model_folder(str(tmp_path))
    (tmp_path / "x.bin").write_bytes(b"junk")
    with pytest.raises(InputError, match="--model"):
        model_folder(str(tmp_path / "x.bin"))


def _exit_status(argv: list[str]) -> int:
    """What the script ends with when run with argv (core.errors.run_script, as `__main__` runs it)."""
    with pytest.raises(SystemExit) as exit_:
        run_script(lambda: main(argv))
    return exit_.value.code


def test_a_missing_file_gives_one_line_and_a_bad_count_is_refused(capsys):
    assert _exit_status(["--data", "sift:/no/such.jsonl", "--fold", "x"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
    with pytest.raises(SystemExit):
        main(["--data", "twosix:/no/such.json", "--fold", "x", "--epochs", "0"])
    with pytest.raises(SystemExit):
        main(["--data", "twosix:/no/such.json", "--fold", "x", "--none-share", "-1"])
    with pytest.raises(SystemExit):
        main(["--data", "twosix:/no/such.json", "--fold", "x", "--train-share", "0"])


def test_a_cnc_file_without_its_columns_and_a_damaged_gguf_give_one_line(tmp_path, capsys):
    cnc = tmp_path / "cnc.csv"
    cnc.write_text("corpus,doc_id,text\ncnc,d1,Floods closed the road .\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 2: needs 'text' and 'text_w_pairs'"):
        cnc_examples(str(cnc))
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"GGUF\x03\x00\x00\x00cut short")
    with pytest.raises(InputError, match="not a readable GGUF model"):
        model_folder(str(gguf))
    gguf.write_bytes(b"not a model at all")
    with pytest.raises(InputError, match="not a readable GGUF model"):
        model_folder(str(gguf))


def test_random_split_is_make_models_split_and_keeps_validation_texts_out_of_training(tmp_path):
    from data.readers import read_dataset, split
    from tests.test_models_loso import sift_file, twosix_with_copies

    specs = [f"sift:{sift_file(tmp_path / 'sift.jsonl')}", f"twosix:{twosix_with_copies(tmp_path / 'copies.json')}"]
    train, held = held_out(specs, "random")
    assert list(held) == specs
    for spec in specs:
        assert [p.text for p in held[spec]] == [p.text for p in split(read_dataset(spec), 0.2, 0)[1].passages]
    valid = {normalize(p.text) for part in held.values() for p in part}
    assert valid and train and not valid & {normalize(t) for t, _ in train}


def test_a_loso_fold_holds_out_its_source_and_an_unknown_one_is_refused(tmp_path):
    from tests.test_models_loso import sift_file

    path = sift_file(tmp_path / "sift.jsonl")
    with path.open("a") as f:  # every SIFT source has a fold
        f.write(json.dumps({"source": "atlantic_council", "premise": "Sanctions cut the exports of cocoa by half.",
                            "doc_id": "d9", "hypotheses": [{"subj": "sanctions", "pred": "decrease(s)",
                                                            "obj": "exports of cocoa"}]}) + "\n")
    specs = [f"sift:{path}"]
    train, held = held_out(specs, "rise")
    assert list(held) == ["rise"] and len(held["rise"]) == 2
    assert not {t for t, _ in train} & {p.text for p in held["rise"]} and len(train) == 6
    with pytest.raises(InputError, match="random"):
        held_out(specs, "no_such_source")
