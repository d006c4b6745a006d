"""Unit tests for the Label page's logic (workspace.labeling, workspace.suggest, workspace.uploads, workspace.samples)."""
from __future__ import annotations

import json

import pytest

from app.markup import escape_markdown, highlight
from core.types import ParsedDocument, ParsedSentence
from data.store import Store
from workspace.labeling import (Pick, advance_pick, concept_chips, neighbours, pair_to_save, unread_keys, next_unlabeled, order_positions, pick_from_span,
                                pick_from_text, progress, span_from_words, word_chip_step, word_spans)
from workspace.samples import ensure_sample
from workspace.suggest import (
    SuggestionSource,
    best_source,
    llm_source,
    prefetch,
    sentence_scores,
    suggest_missing,
    suggestions_from_llm_block,
)
from workspace.uploads import import_uploads

TEXT = "Offshore wind farms reduce the catch of local trawlers."


def test_word_spans_and_span_from_words_any_click_order():
    words = word_spans(TEXT)
    assert [TEXT[a:b] for a, b in words][:4] == ["Offshore", "wind", "farms", "reduce"]
    assert TEXT[slice(*span_from_words(words, 0, 2))] == "Offshore wind farms"
    assert span_from_words(words, 2, 0) == span_from_words(words, 0, 2)
    assert TEXT[slice(*span_from_words(words, 8, 8))] == "trawlers"  # punctuation is not a word
    other = "CO2-emissions rose 5% (p<0.05)."
    assert [other[a:b] for a, b in word_spans(other)] == ["CO2-emissions", "rose", "5%", "p", "0.05"]


def test_word_chip_step_two_clicks_make_any_span():
    anchor, pair = word_chip_step(None, [3])
    assert (anchor, pair) == (3, None)
    assert word_chip_step(anchor, [3, 7]) == (None, (3, 7))
    assert word_chip_step(anchor, []) == (None, (3, 3))  # the anchor clicked again: one word
    assert word_chip_step(5, [2]) == (None, (2, 5))
    assert word_chip_step(None, []) == (None, None)


def test_unread_keys_yields_each_key_once_in_typing_order():
    """The browser sends every key not yet acknowledged, numbered in typing order: merged
    messages, repeats and out-of-order entries still give each key once, in order."""
    first = {"tab": "t1", "keys": [[1, "1", "s"], [2, "2", "s"]]}
    assert unread_keys(None, None, "s") == ([], ("", 0))  # before any key: nothing, and a mark to start from
    keys, seen = unread_keys(first, ("", 0), "s")
    assert (keys, seen) == (["1", "2"], ("t1", 2))
    assert unread_keys(first, seen, "s") == ([], ("t1", 2))  # the same queue again (a later run): nothing new
    merged = {"tab": "t1", "keys": [[4, "Enter", "s"], [2, "2", "s"], [3, "ArrowDown", "s"]]}
    assert unread_keys(merged, seen, "s") == (["ArrowDown", "Enter"], ("t1", 4))
    assert unread_keys({"tab": "t2", "keys": [[1, "3", "s"]]}, ("t1", 4), "s") == (["3"], ("t2", 1))  # a reloaded page


def test_unread_keys_in_a_new_session_skips_keys_sent_to_an_earlier_one():
    """Keys already in the queue when a session first looks at it, typed under another session (a
    browser reconnected to a new one), are not applied; keys numbered after them are."""
    old = {"tab": "t1", "keys": [[7, "Enter", "old"], [8, "n", "old"]]}
    assert unread_keys(old, None, "new") == ([], ("t1", 8))
    assert unread_keys({"tab": "t1", "keys": [[8, "n", "old"], [9, "2", "new"]]}, ("t1", 8), "new") == (["2"], ("t1", 9))


def test_unread_keys_typed_before_the_first_run_ended_are_applied():
    """A key typed as soon as the listener is mounted reaches a session that has not applied a
    queue yet (its first run was cut short by the key): stamped with this session, it is new."""
    queue = {"tab": "t1", "keys": [[6, "Enter", "old"], [7, "1", "new"], [8, "2", "new"]]}
    assert unread_keys(queue, None, "new") == (["1", "2"], ("t1", 8))
    assert unread_keys(queue, None, "other") == ([], ("t1", 8))


@pytest.mark.parametrize("queue", [
    "1", [[1, "1", "s"]], {"tab": 5, "keys": [[1, "1", "s"]]}, {"tab": "t", "keys": "1"}, {"tab": "t"},
    {"tab": "t", "keys": [[1, "q", "s"], [2, "1"], [3, "1", 5], ["3", "1", "s"], [True, "1", "s"], [4.0, "1", "s"],
                          None, [5, None, "s"], [6, "1", "s", "x"]]},
])
def test_unread_keys_ignores_malformed_queues_and_unknown_keys(queue):
    keys, seen = unread_keys(queue, ("t", 0), "s")
    assert keys == []
    assert seen[1] == 0


def test_neighbours_walks_the_given_order():
    statuses = ["labeled", "unseen", "unseen", "unseen"]
    assert neighbours(statuses, [], [0, 1, 2, 3], 0) == (None, 1, 1)
    assert neighbours(statuses, [False, True, False, False], [0, 1, 2, 3], 0) == (None, 1, 2)  # 1 is a reference
    assert neighbours(statuses, [], [2, 0, 3, 1], 3) == (0, 1, 1)
    assert neighbours(statuses, [], [2, 0, 3, 1], 1) == (3, None, 2)


def test_pair_to_save_prefers_the_complete_pair_then_the_one_replaced_in_the_same_run():
    a, b, c = Pick("a", (0, 1)), Pick("b", (2, 3)), Pick("c", (4, 5))
    assert pair_to_save(a, b, None) == ((a, b), False)
    assert pair_to_save(a, b, (b, c)) == ((a, b), False)  # a whole pair typed before Enter wins
    assert pair_to_save(c, None, (a, b)) == ((a, b), True)  # Enter, then the next pair's first chip
    assert pair_to_save(a, None, None) == (None, False)
    assert pair_to_save(None, None, None) == (None, False)


def test_advance_pick_source_then_target_then_restart():
    a, b, c = Pick("a", (0, 1)), Pick("b"), Pick("c")
    assert advance_pick(None, None, a) == (a, None)
    assert advance_pick(a, None, b) == (a, b)
    assert advance_pick(a, b, c) == (c, None)
    assert advance_pick(a, None, a) == (a, None)  # the source again: no self-relation


def test_picks_trim_and_locate():
    assert pick_from_span(TEXT, (19, 27)) == Pick("reduce", (20, 26))
    assert pick_from_text(TEXT, "  local   trawlers ") == Pick("local trawlers", (40, 54))
    assert pick_from_text(TEXT, "fish stocks") == Pick("fish stocks", None)


def test_concept_chips_sorted_unique_and_include_lexicon():
    chips = concept_chips(TEXT, ["local trawlers"])
    assert chips == sorted(set(chips))
    assert (40, 54) in chips or any(a <= 40 and 54 <= b for a, b in chips)


def test_next_unlabeled_wraps_and_skips_references():
    statuses = ["labeled", "unseen", "no-relation", "unseen", "unseen"]
    assert next_unlabeled(statuses, 1) == 3
    assert next_unlabeled(statuses, 4) == 1
    assert next_unlabeled(statuses, 1, skip=[False, False, False, True, False]) == 4
    assert next_unlabeled(["labeled", "discarded"], 0) is None
    assert next_unlabeled(statuses, None, order=[4, 3, 2, 1, 0]) == 4  # from the start of an ordering
    assert next_unlabeled(statuses, 4, order=[4, 3, 2, 1, 0]) == 3


def test_order_positions():
    scores = [0.1, None, 0.9, 0.55, 0.0]
    assert order_positions(scores, "document") == [0, 1, 2, 3, 4]
    assert order_positions(scores, "likely causal") == [2, 3, 0, 4, 1]
    assert order_positions(scores, "uncertain") == [3, 0, 2, 4, 1]
    with pytest.raises(ValueError):
        order_positions(scores, "random")


def test_progress():
    assert progress(3, 4) == 0.75
    assert progress(0, 0) == 0.0


def test_escape_markdown_keeps_text_inert():
    nasty = "<b>bold</b> *x* _y_ [link](http://a) $x^2$ # h :red[z]"
    escaped = escape_markdown(nasty)
    assert "<b>" not in escaped and "\\<b\\>" in escaped
    assert "\\*x\\*" in escaped and "\\[link\\]\\(http" in escaped and "\\$x" in escaped
    assert escaped.replace("\\", "").replace("\u2060", "") == nasty
    assert escape_markdown("see http://x.org, www.y.org, a@b.org") == (
        "see http\\:\u2060//x\\.org, www\u2060\\.y\\.org, a\u2060@b\\.org")  # no bare links
    assert escape_markdown("&lt;b&gt; &#x3C;") == "\\&lt;b\\&gt; \\&\\#x3C;"  # entities stay as typed
    assert escape_markdown("a\u202egnp.exe\u2066b\u2069") == "agnp\\.exeb"  # no right-to-left override


def test_highlight_colours_spans_and_escapes_rest():
    md = highlight("a*b causes c_d.", (0, 3), (11, 14))
    assert md == ":blue-background[a\\*b] causes :orange-background[c\\_d]\\."
    assert highlight("abc", (0, 2), (1, 3)) == ":blue-background[ab]c"  # overlap: target dropped


LLM = {"GPT3.5": [{"src": "wind farms", "tgt": "catch", "direction": "Decrease"},
                  {"src": "x", "tgt": "y", "direction": "unclear"}],
       "Llama": [{"src": "Wind farms", "tgt": "catch", "direction": "decrease"},
                 {"src": "trawlers", "tgt": "catch", "direction": "increase"}]}


def test_suggestions_from_llm_block_agreement_is_the_score():
    rels = suggestions_from_llm_block(TEXT, LLM)
    by_pair = {(r.src.lower(), r.tgt): r for r in rels}
    assert set(by_pair) == {("wind farms", "catch"), ("trawlers", "catch")}
    agreed = by_pair[("wind farms", "catch")]
    assert (agreed.sign, agreed.score, agreed.model_id, agreed.origin) == (-1, 1.0, "llm:GPT3.5", "model")
    assert agreed.src_span == (9, 19) and TEXT[slice(*agreed.tgt_span)] == "catch"
    assert by_pair[("trawlers", "catch")].score == 0.5
    assert suggestions_from_llm_block(TEXT, None) == []


@pytest.fixture
def store(tmp_path):
    return Store(str(tmp_path / "t.db"))


def _doc(sha: str, *sentences: ParsedSentence) -> ParsedDocument:
    return ParsedDocument("d.txt", sha, list(sentences), title="D")


def test_suggest_missing_stores_once_and_scores(store):
    (doc_id,) = store.import_documents([_doc("s1", ParsedSentence(TEXT, llm=LLM), ParsedSentence("Nothing here."))])
    rows = store.sentences(doc_id)
    done: set[int] = set()
    assert suggest_missing(store, rows, llm_source(), done) == 2
    assert suggest_missing(store, rows, llm_source(), set()) == 0  # already in the store
    assert done == {r.id for r in rows}
    assert sentence_scores(store, rows, done) == [1.0, 0.0]
    assert sentence_scores(store, rows, set()) == [1.0, None]
    top = store.suggestions(sentence_id=rows[0].id)[0]
    rid = store.accept_suggestion(top.id, "ann")
    (rel,) = store.relations(sentence_id=rows[0].id)
    assert (rel.id, rel.origin, rel.score, rel.model_id) == (rid, "human", 1.0, "llm:GPT3.5")


def test_import_uploads_duplicate_and_bad_file(store):
    good = ("notes.txt", b"Warm water lowers cod recruitment. Fishing pressure raises mortality.")
    first, again, bad = import_uploads(store, [good, good, ("broken.json", b"{not json")])
    assert first.ok and "imported 1 document" in first.message
    assert again.ok and again.message == "notes.txt: already imported (document 1), nothing added"
    assert again.document_ids == first.document_ids
    assert not bad.ok and bad.message.startswith("broken.json: ")
    assert len(store.list_documents()) == 1


def test_import_uploads_twosix_keeps_llm_block(store):
    passages = [{"text": TEXT, "causal relations": [], "meta_data": {"title": "P", "authors": "A", "year": 2020},
                 "LLM": LLM}]
    (out,) = import_uploads(store, [("p.json", json.dumps(passages).encode())])
    assert out.ok
    (row,) = store.sentences(out.document_ids[0])
    assert row.llm == LLM


def test_ensure_sample_only_on_empty_store(store, tmp_path):
    sample = tmp_path / "sample.md"
    sample.write_text("# A sample\n\nShading reduces algae growth. Nutrients increase algae growth.\n")
    ids = ensure_sample(store, sample)
    assert len(ids) == 1 and len(store.list_documents()) == 1
    assert ensure_sample(store, sample) == []
    assert ensure_sample(Store(str(tmp_path / "other.db")), tmp_path / "missing.md") == []


def test_best_source_falls_back_to_llm_block_with_a_reason(tmp_path, monkeypatch):
    monkeypatch.setenv("FUZZYMAP_MODEL", str(tmp_path / "missing"))
    missing = best_source()
    assert missing.cheap and "no model bundle available" in missing.note and str(tmp_path) in missing.note
    (tmp_path / "broken").mkdir()
    broken = best_source(str(tmp_path / "broken"))
    assert broken.cheap and "not usable" in broken.note
    assert broken.suggest([TEXT], [LLM])[0] == suggestions_from_llm_block(TEXT, LLM)


def test_prefetch_asks_in_the_background_once(store):
    (doc_id,) = store.import_documents([_doc("s3", ParsedSentence(TEXT, llm=LLM), ParsedSentence("Nothing."))])
    rows = store.sentences(doc_id)
    asked: list[str] = []
    slow = SuggestionSource("slow", lambda texts, llms: (asked.extend(texts), llm_source().suggest(texts, llms))[1])
    done: set[int] = set()
    thread = prefetch(store, rows, slow, done)
    assert prefetch(store, rows, slow, done) is None  # already queued: no second thread
    thread.join(timeout=30)
    assert asked == [TEXT, "Nothing."] and done == {r.id for r in rows}
    assert len(store.suggestions(sentence_id=rows[0].id)) == 2
    assert suggest_missing(store, rows, slow, done) == 0 and prefetch(store, rows, slow, done) is None
