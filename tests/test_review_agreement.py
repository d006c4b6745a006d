"""workspace.agreement on cases computed by hand (the arithmetic is in the comments)."""
import pytest

from core.matching import Rel, as_rel, concepts_match, match_relations, relations_match
from core.metrics import PRF, agreement, cohen_kappa, fmt_measure, score
from core.types import PassageRelation
from workspace.agreement import sentence_system_rows


def R(src, tgt, sign=1, src_span=None, tgt_span=None):
    return PassageRelation(src, tgt, sign, src_span, tgt_span)


def test_concept_matching_rules():
    assert concepts_match("wind farm", "the wind farms")            # shares "wind"
    assert not concepts_match("the fish", "the boats")               # only the stop word "the"
    assert concepts_match("the", "The")                               # all stop words: all words count
    assert concepts_match("farms", "farm") and not concepts_match("grass", "gras")  # plural 's' only
    assert concepts_match("Wind  Farm", "wind farm", mode="exact")   # case and spacing only
    assert not concepts_match("wind farm", "wind farms", mode="exact")
    # exact with spans on both sides compares the spans, not the text
    assert not concepts_match("fish", "fish", (0, 4), (10, 14), mode="exact")
    # overlapping spans match loosely even without a shared whole word
    assert concepts_match("recreational fishing", "fishing", (7, 27), (20, 27))
    with pytest.raises(ValueError):
        concepts_match("a", "b", mode="fuzzy")


def test_sign_must_agree_and_llm_dicts_are_read():
    gold = R("BIWF", "fishing", +1)
    assert relations_match({"src": "BIWF", "tgt": "recreational fishing", "direction": "Increase"}, gold)
    assert not relations_match({"src": "BIWF", "tgt": "recreational fishing", "direction": "decrease"}, gold)
    assert as_rel({"src": "a", "tgt": "b", "direction": "sideways"}).sign == 0  # matches no signed label
    assert not relations_match(R("BIWF", "fishing", -1), gold)
    # a reference without a sign (SIFT 'influences') accepts either; a prediction without one matches none
    assert relations_match(R("BIWF", "fishing", -1), R("BIWF", "fishing", 0))
    assert not relations_match(R("BIWF", "fishing", 0), gold)


def test_three_predictions_one_hit():
    pred = [R("wind farm", "fishing"), R("noise", "fish", -1), R("tourism", "jobs")]
    gold = [R("the wind farms", "recreational fishing"), R("noise", "fish", +1), R("jobs", "tourism")]
    # overlap: p0~g0 ("wind", "fishing" shared, same sign); p1 vs g1 sign differs; p2 vs g2 reversed.
    # TP = 1 of 3 predicted and 3 gold: P = R = 1/3, F1 = 2*1/(3+3) = 1/3.
    s = score({1: pred}, {1: gold}, [1])
    assert (s.total.tp, s.total.n_pred, s.total.n_gold) == (1, 3, 3)
    assert s.total.precision == pytest.approx(1 / 3) and s.total.f1 == pytest.approx(1 / 3)
    # exact: "wind farm" != "the wind farms" -> no hit at all
    assert score({1: pred}, {1: gold}, [1], mode="exact").total.tp == 0
    kinds = sorted(m.kind for m in s.mismatches)
    assert kinds == ["missed", "missed", "spurious", "spurious"]


def test_matching_is_one_to_one_and_prefers_exact():
    # both predictions overlap the single gold relation; only one may count: P = 1/2, R = 1/1,
    # F1 = 2*1/(2+1) = 2/3. The exact twin (index 1) is the one kept.
    pred = [R("fish stock", "catch"), R("fish", "catch")]
    gold = [R("fish", "catch")]
    assert match_relations(pred, gold) == [(1, 0)]
    s = score({"s": pred}, {"s": gold}, ["s"])
    assert s.total.precision == 0.5 and s.total.recall == 1.0 and s.total.f1 == pytest.approx(2 / 3)


def test_maximum_matching_reassigns():
    # p0 "fish stock" overlaps g0 "fish" and g1 "stock levels"; p1 "salmon fish" overlaps only g0.
    # Greedy p0->g0 would leave p1 unmatched (TP 1); the maximum matching is p0->g1, p1->g0 (TP 2).
    pred = [R("fish stock", "catch"), R("salmon fish", "catch")]
    gold = [R("fish", "catch"), R("stock levels", "catch")]
    assert match_relations(pred, gold) == [(0, 1), (1, 0)]


def test_cohen_kappa_by_hand():
    # 10 sentences: both 3, only A 2, only B 1, neither 4.
    # p_o = (3+4)/10 = 0.7; p_A = 5/10, p_B = 4/10; p_e = .5*.4 + .5*.6 = 0.5; kappa = (.7-.5)/.5 = 0.4
    a = [True] * 3 + [True] * 2 + [False] * 1 + [False] * 4
    b = [True] * 3 + [False] * 2 + [True] * 1 + [False] * 4
    assert cohen_kappa(a, b) == pytest.approx(0.4)
    assert cohen_kappa([True, True], [True, True]) is None   # chance agreement 1: undefined
    assert cohen_kappa([], []) is None
    assert cohen_kappa([True, False], [False, True]) == pytest.approx(-1.0)  # p_o 0, p_e .5


def test_two_annotators_by_hand():
    # s1: same source, target spans overlap but differ -> partial match only.
    # s2: identical relation. s3: only B labelled. s4: nobody labelled.
    a = {1: [R("wind farm", "fishing", 1, (0, 9), (20, 27))],
         2: [R("noise", "fish", -1, (0, 5), (15, 19))]}
    b = {1: [R("wind farm", "recreational fishing", 1, (0, 9), (7, 27))],
         2: [R("noise", "fish", -1, (0, 5), (15, 19))],
         3: [R("tourism", "jobs", 1)]}
    ag = agreement(a, b, [1, 2, 3, 4])
    # exact: TP 1 (s2); |A| = 2, |B| = 3 -> P = 1/2, R = 1/3, F1 = 2/(2+3) = 0.4
    assert ag.exact.precision == 0.5 and ag.exact.recall == pytest.approx(1 / 3)
    assert ag.exact.f1 == pytest.approx(0.4)
    # partial: TP 2 (s1, s2) -> P = 1, R = 2/3, F1 = 4/5 = 0.8
    assert ag.partial.precision == 1.0 and ag.partial.f1 == pytest.approx(0.8)
    # has-relation: A = [T,T,F,F], B = [T,T,T,F]; p_o = 3/4; p_A = .5, p_B = .75;
    # p_e = .5*.75 + .5*.25 = .5; kappa = (.75 - .5)/.5 = 0.5
    assert ag.kappa == pytest.approx(0.5)
    assert ag.table == {"both": 2, "only_a": 0, "only_b": 1, "neither": 1}
    assert [d.sentence for d in ag.disagreements] == [1, 3]
    s1, s3 = ag.disagreements
    assert s1.only_a == [] and s1.only_b == [] and len(s1.partial) == 1
    assert s3.only_b == b[3] and s3.only_a == []


def test_per_document_groups_and_undefined_ratios():
    pred = {1: [R("a x", "b")], 2: [R("c", "d")], 3: []}
    gold = {1: [R("x", "b")], 2: [], 3: [R("e", "f")]}
    s = score(pred, gold, [1, 2, 3], group_of={1: "doc1", 2: "doc1", 3: "doc2"})
    # doc1: TP 1, 2 predicted, 1 gold -> P .5, R 1; doc2: 0 predicted, 1 gold -> P undefined, R 0
    assert s.groups["doc1"].as_dict()["precision"] == 0.5 and s.groups["doc1"].recall == 1.0
    assert s.groups["doc2"].precision is None and s.groups["doc2"].recall == 0.0
    assert PRF().f1 is None
    assert (s.total.tp, s.total.n_pred, s.total.n_gold) == (1, 2, 2)


def test_store_rows_are_read_by_field_name():
    class Row:  # the shape of data.store.RelationRow, without a database
        source, target, sign, source_span, target_span = "Fish", "Catch", 1, [0, 4], None
    assert as_rel(Row()) == Rel("Fish", "Catch", 1, (0, 4), None)


def test_per_sentence_system_rows():
    labels = [R("wind farm", "fishing", 1), R("noise", "fish", -1)]
    llm = {"GPT": [{"src": "wind farms", "tgt": "fishing effort", "direction": "increase"}],
           "Llama": [{"src": "noise", "tgt": "fish", "direction": "increase"},
                     {"src": "wind", "tgt": "fishing", "direction": "Increase"}],
           "Empty": []}
    rows = {r["system"]: r for r in sentence_system_rows(llm, labels)}
    # GPT: 1 of 1 right, finds 1 of 2 labels: P 1, R .5, F1 2/3
    assert (rows["GPT"]["precision"], rows["GPT"]["recall"]) == (1.0, 0.5)
    assert rows["GPT"]["f1"] == pytest.approx(2 / 3)
    # Llama: noise->fish has the wrong sign; wind->fishing hits: P .5, R .5, F1 .5
    assert (rows["Llama"]["precision"], rows["Llama"]["recall"], rows["Llama"]["f1"]) == (0.5, 0.5, 0.5)
    assert rows["Llama"]["relations"] == "noise → fish (+); wind → fishing (+)"
    # nothing proposed: precision undefined, recall 0, F1 0
    assert (rows["Empty"]["precision"], rows["Empty"]["recall"], rows["Empty"]["f1"]) == (None, 0.0, 0.0)
    assert sentence_system_rows(None, labels) == []


def test_measures_show_three_decimals_and_a_dash_when_undefined():
    assert fmt_measure(None) == "–"
    assert fmt_measure(0.0) == "0.000"
    assert fmt_measure(2 / 3) == "0.667"
