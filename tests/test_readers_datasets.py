"""Dataset readers on small invented files in each real format, and the train/validation split."""
from __future__ import annotations

import json

import pytest

from core.errors import InputError
from core.types import (
    Candidate,
    Direction,
    LabeledData,
    LabeledExample,
    LabeledSentence,
    ParsedDocument,
    ParsedSentence,
    PassageRelation,
)
from data.readers import FORMATS, read_dataset, split, split_apart, strip_tags
from data.store import Store

SEMEVAL = (
    '1\t"The <e1>drought</e1> caused a sharp <e2>crop failure</e2> last year."\r\n'
    "Cause-Effect(e1,e2)\r\nComment: clear case\r\n\r\n"
    '2\t"The <e1>rash</e1> came from a new <e2>detergent</e2>."\r\n'
    "Cause-Effect(e2,e1)\r\nComment:\r\n\r\n"
    '3\t"A <e1>wheel</e1> of the old <e2>cart</e2> squeaked."\r\n'
    "Component-Whole(e1,e2)\r\nComment:\r\n\r\n"
    '4\t"The <e1>keys</e1> were in the <e2>drawer</e2>."\r\n'
    "Other\r\nComment:\r\n\r\n"
)
CNC1 = (
    '\ufeffindex,text,label\r\nt_0,"Strikes closed the port , and prices rose .",1\r\n'
    "t_1,Talks resume on Monday .,0\r\n"
)
CNC2 = (
    "\ufeffcorpus,doc_id,sent_id,eg_id,index,text,text_w_pairs,seq_label,pair_label,context,num_sents\r\n"
    'cnc,d1,1,0,cnc_d1_1_0,"Shops shut because workers protested , and prices rose .",'
    '"<ARG1>Shops shut</ARG1> <SIG0>because</SIG0> <ARG0>workers protested</ARG0> , and prices rose .",1,1,,1\r\n'
    'cnc,d1,1,1,cnc_d1_1_1,"Shops shut because workers protested , and prices rose .",'
    '"<ARG0>Shops shut because workers protested</ARG0> , <SIG0>and</SIG0> <ARG1>prices rose</ARG1> .",1,1,,1\r\n'
)
SIFT = [
    {"premise": "Cheap loans increase home buying, while high rents harm young families.",
     "hypotheses": [{"subj": "cheap loans", "pred": "increase(s)", "obj": "home buying"},
                    {"subj": "high rents", "pred": "harm(s)", "obj": "young families", "context": "in cities"},
                    {"subj": "banks", "pred": "help(s)", "obj": "home buying"},
                    {"subj": "home buying", "pred": "type-of", "obj": "cheap loans"},
                    {"subj": "x", "pred": "", "obj": "y"}],
     "doc_id": "p1", "user": "u", "source": "test"},
    {"premise": "Young voters prefer short videos to long speeches.",
     "hypotheses": [{"subj": "young voters", "pred": "prefer(s)", "obj": "short videos"}], "source": "test"},
    {"premise": "Weather affects turnout.",
     "hypotheses": [{"subj": "turnout", "pred": "decrease(s)", "obj": "weather"},
                    {"subj": "weather", "pred": "affect(s)", "obj": "turnout"}], "source": "test"},
]
TWOSIX = [
    {"text": "Noise from piling reduces cod spawning.",
     "causal relations": [{"src": "noise", "tgt": "cod spawning", "direction": "Decrease"},
                          {"src": "sound", "tgt": "cod", "direction": "decrease"}],
     "meta_data": {"title": "T", "authors": "A", "year": 2020}},
    {"text": "The survey ran for two summers.", "causal relations": [],
     "meta_data": {"title": "T", "authors": "A", "year": 2020}},
]


def _write(tmp_path, name: str, text: str | bytes) -> str:
    path = tmp_path / name
    if isinstance(text, str):
        path.write_bytes(text.encode("utf-8"))
    else:
        path.write_bytes(text)
    return str(path)


def _texts(e: LabeledExample) -> tuple[str, str]:
    return e.candidate.a_text, e.candidate.b_text


def test_strip_tags_nested():
    text, spans = strip_tags("<ARG0><SIG0>to</SIG0> foil it</ARG0> now")
    assert text == "to foil it now" and spans == {"SIG0": (0, 2), "ARG0": (0, 10)}


def test_semeval2010(tmp_path):
    data = read_dataset(f"semeval2010:{_write(tmp_path, 'train.txt', SEMEVAL)}")
    assert data.name == "semeval2010:train.txt"
    assert [e.label for e in data.examples] == [Direction.A_TO_B, Direction.B_TO_A, Direction.NONE, Direction.NONE]
    assert [_texts(e) for e in data.examples[:2]] == [("drought", "crop failure"), ("rash", "detergent")]
    assert data.examples[0].candidate.text == "The drought caused a sharp crop failure last year."
    assert all(e.sign is None for e in data.examples)
    assert [s.causal for s in data.sentences] == [True, True, False, False]
    assert data.examples[3].source == "semeval2010:4" and data.passages == []


def test_cnc_subtask1(tmp_path):
    data = read_dataset(f"cnc:{_write(tmp_path, 's1.csv', CNC1)}")
    assert data.sentences == [
        LabeledSentence("Strikes closed the port , and prices rose .", True, "cnc:t_0"),
        LabeledSentence("Talks resume on Monday .", False, "cnc:t_1"),
    ]
    assert data.examples == [] and data.passages == []


def test_cnc_subtask2(tmp_path):
    data = read_dataset(f"cnc:{_write(tmp_path, 's2.csv', CNC2)}")
    first, second = data.examples
    assert _texts(first) == ("Shops shut", "workers protested") and first.label == Direction.B_TO_A
    assert _texts(second) == ("Shops shut because workers protested", "prices rose")
    assert second.label == Direction.A_TO_B and second.sign is None
    (passage,) = data.passages
    assert passage.text == "Shops shut because workers protested , and prices rose ."
    assert [(r.src, r.tgt, r.sign) for r in passage.relations] == [
        ("workers protested", "Shops shut", 0), ("Shops shut because workers protested", "prices rose", 0)]
    assert data.sentences == [LabeledSentence(passage.text, True, "cnc:cnc_d1_1_0")]


def test_sift(tmp_path):
    data = read_dataset(f"sift:{_write(tmp_path, 'sift.jsonl', chr(10).join(json.dumps(r) for r in SIFT))}")
    got = [(_texts(e), e.label, e.sign) for e in data.examples]
    assert got == [
        (("Cheap loans", "home buying"), Direction.A_TO_B, 1),
        (("high rents", "young families"), Direction.A_TO_B, -1),
        (("Cheap loans", "home buying"), Direction.NONE, None),  # type-of, ordered by position
        (("Young voters", "short videos"), Direction.NONE, None),
        (("Weather", "turnout"), Direction.B_TO_A, -1),
        (("Weather", "turnout"), Direction.A_TO_B, None),
    ]
    assert [s.causal for s in data.sentences] == [True, False, True]
    first = data.passages[0]
    assert [(r.src, r.tgt, r.sign, r.src_span) for r in first.relations] == [
        ("cheap loans", "home buying", 1, (0, 11)), ("high rents", "young families", -1, (40, 50)),
        ("banks", "home buying", 1, None)]  # kept for end-to-end scoring though "banks" is not in the text
    assert data.passages[1].relations == [] and data.passages[2].relations[1].sign == 0


def test_twosix(tmp_path):
    data = read_dataset(f"twosix:{_write(tmp_path, 'osw.json', json.dumps(TWOSIX))}")
    (example,) = data.examples  # "sound" does not occur in the text
    assert _texts(example) == ("Noise", "cod spawning") and (example.label, example.sign) == (Direction.A_TO_B, -1)
    assert [s.causal for s in data.sentences] == [True, False]
    assert len(data.passages) == 2 and len(data.passages[0].relations) == 2


def test_store(tmp_path):
    path = tmp_path / "labels.db"
    store = Store(str(path))
    (doc_id,) = store.import_documents([ParsedDocument("p.txt", "h", [
        ParsedSentence("Dredging raises turbidity."), ParsedSentence("Turbidity lowers seagrass growth."),
        ParsedSentence("Nobody has read this one yet."), ParsedSentence("Methods were standard."),
    ])])
    sids = [s.id for s in store.sentences(doc_id)]
    store.add_relation(sids[0], PassageRelation("turbidity", "dredging", 1, annotator="ann"))
    store.swap_relation(store.relations()[0].id)
    store.add_relation(sids[1], PassageRelation("turbidity", "seagrass growth", -1, annotator="ann"))
    store.add_relation(sids[1], PassageRelation("seagrass", "turbidity", 1, origin="model", model_id="m", score=0.2))
    store.set_status(sids[3], "no-relation", "ann")
    store.close()
    data = read_dataset(f"store:{path}")
    assert [(_texts(e), e.label, e.sign) for e in data.examples] == [
        (("Dredging", "turbidity"), Direction.A_TO_B, 1), (("Turbidity", "seagrass growth"), Direction.A_TO_B, -1)]
    assert [(s.text, s.causal) for s in data.sentences] == [
        ("Dredging raises turbidity.", True), ("Turbidity lowers seagrass growth.", True),
        ("Methods were standard.", False)]
    by_url = read_dataset(f"store:sqlite:///{path}")
    assert [(e.candidate, e.label) for e in by_url.examples] == [(e.candidate, e.label) for e in data.examples]


@pytest.mark.parametrize("spec, message", [
    ("nope:file.txt", "^nope:file.txt: expected FORMAT:PATH"),
    ("semeval2010", "^semeval2010: expected FORMAT:PATH"),
    ("sift:/no/such/file.jsonl", "^/no/such/file.jsonl: no such file"),
    ("store:/no/such.db", "^/no/such.db: no such database file"),
])
def test_bad_specs(spec, message):
    with pytest.raises(InputError, match=message):
        read_dataset(spec)


@pytest.mark.parametrize("fmt, content, message", [
    ("semeval2010", '1\t"no tags here"\r\nOther\r\n', "line 1: sentence 1 lacks <e1> or <e2>"),
    ("semeval2010", "just some text\n", "line 1: expected id<TAB>"),
    ("cnc", "a,b\n1,2\n", "not a Causal News Corpus file"),
    ("cnc", "index,text,label\nx,Some text,yes\n", "line 2: label must be 0 or 1"),
    ("cnc", "index,text_w_pairs\nx,no args\n", "line 2: text_w_pairs needs <ARG0>"),
    ("sift", '{"premise": "a"}\n', "line 1: needs a 'premise' string and a 'hypotheses' list"),
    ("sift", '{"premise": "a", "hypotheses": []}\n{oops\n', "line 2: not valid JSON"),
    ("twosix", '[{"text": "a", "causal relations": 3}]', r"passage 1: 'causal relations' must be a list"),
])
def test_malformed_files(tmp_path, fmt, content, message):
    path = _write(tmp_path, "bad.data", content)
    with pytest.raises(InputError, match=f"^{path}: {message}"):
        read_dataset(f"{fmt}:{path}")


def test_split_keeps_sentences_apart():
    texts = [f"Sentence number {i} about rain and floods." for i in range(40)]
    data = LabeledData(
        name="d",
        examples=[LabeledExample(Candidate(t, (25, 29), (34, 40)), Direction.A_TO_B) for t in texts for _ in range(2)],
        sentences=[LabeledSentence(t.upper(), True) for t in texts],  # same sentence, other case
        passages=[ParsedSentence(t) for t in texts[:10]],
    )
    train, valid = split(data, 0.25, seed=3)
    assert (train.name, valid.name) == ("d:train", "d:valid")
    train_texts = {e.candidate.text for e in train.examples}
    valid_texts = {e.candidate.text for e in valid.examples}
    assert len(valid_texts) == 10 and not train_texts & valid_texts
    assert {s.text.lower() for s in valid.sentences} == {t.lower() for t in valid_texts}
    assert len(train.examples) + len(valid.examples) == 80
    assert len(train.passages) + len(valid.passages) == 10
    assert split(data, 0.25, seed=3) == (train, valid)
    assert split(data, 0.25, seed=4)[1] != valid
    with pytest.raises(ValueError):
        split(data, 1.0, seed=0)


def test_split_apart_keeps_every_files_validation_texts_out_of_every_training_split():
    texts = [f"Sentence number {i} about rain and floods." for i in range(40)]
    one = LabeledData(name="one", sentences=[LabeledSentence(t, True) for t in texts])
    other = LabeledData(name="other", passages=[ParsedSentence(t) for t in texts[::2]])  # shares half the texts
    parts = split_apart({"one": one, "other": other}, 0.25, seed=3)
    valid = {s.text for s in parts["one"][1].sentences} | {p.text for p in parts["other"][1].passages}
    train = {s.text for s in parts["one"][0].sentences} | {p.text for p in parts["other"][0].passages}
    assert not train & valid and train | valid == set(texts)
    for name, data in (("one", one), ("other", other)):
        tr, va, dropped = parts[name]
        assert va == split(data, 0.25, seed=3)[1]  # each file's own validation split, unchanged
        assert dropped == len(split(data, 0.25, seed=3)[0].sentences) + len(split(data, 0.25, seed=3)[0].passages) \
            - len(tr.sentences) - len(tr.passages)
    assert parts["one"][2] > 0 or parts["other"][2] > 0
    assert set(FORMATS) == {"semeval2010", "cnc", "twosix", "sift", "store"}
