"""Team workflow in a real Chromium: a labeled TwoSix upload lands under the named annotator, a
gold-only export of a three-annotator document has each relation once, the arrow keys move on
after a click on the Order control, and an assigned document shows in its assignee's queue only."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from app_server import served_store, wait_idle
from core.types import ParsedDocument, ParsedSentence
from data.assignments import assign
from data.store import Store
from test_export_annotators import three_annotators

pytestmark = pytest.mark.browser

TWOSIX = json.dumps([
    {"text": "Harbour porpoises avoid pile driving noise.", "meta_data": {"title": "Porpoises"},
     "causal relations": [{"src": "pile driving noise", "tgt": "Harbour porpoises", "direction": "decrease"}]},
    {"text": "The survey ran in spring.", "meta_data": {"title": "Porpoises"}, "causal relations": []},
]).encode()
TEXTS = ["Warm water lowers cod recruitment.", "Storms damage kelp forests.", "Seals eat cod.",
         "Quotas lower landings of cod."]


def _documents(store: Store) -> tuple[int, int]:
    """A document three annotators labelled, and a plain one assigned to alice."""
    gold_doc = three_annotators(store)
    (plain,) = store.import_documents([ParsedDocument("cod.txt", "sha-cod", [ParsedSentence(t) for t in TEXTS],
                                                      title="Cod notes")])
    assign(store, plain, [("alice", 0, 3)], by="rita")
    return gold_doc, plain


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with served_store(tmp_path_factory, "team", _documents) as (url, store, (gold_doc, plain)):
        yield url, store, gold_doc, plain


def test_labeled_twosix_upload_lands_under_the_named_annotator(app, page):
    url, store, _, _ = app
    page.goto(f"{url}/?annotator=tester")
    page.locator("[data-testid=stFileUploader] input[type=file]").set_input_files(
        files=[{"name": "porpoise.json", "mimeType": "application/json", "buffer": TWOSIX}])
    owner = page.get_by_label("porpoise.json: 1 relation(s), 1 mark(s) — annotator")
    owner.wait_for()
    assert owner.input_value() == "imported:porpoise.json"
    owner.fill("carol")
    page.get_by_role("button", name="Import").click()
    page.get_by_text("porpoise.json: imported 1 document(s), 2 sentences, labels under carol").wait_for()
    doc = next(d for d in store.list_documents() if d.filename == "porpoise.json")
    assert {r.annotator for r in store.relations(document_id=doc.id)} == {"carol"}
    assert [s.status for s in store.sentences(doc.id, "carol")] == ["labeled", "no-relation"]
    assert [s.status for s in store.sentences(doc.id, "tester")] == ["unseen", "unseen"]


def test_gold_only_export_has_each_relation_once(app, page):
    from playwright.sync_api import expect

    url, store, gold_doc, _ = app
    page.goto(f"{url}/export?annotator=rita")
    page.get_by_text("Gold only", exact=True).click()
    expect(page.get_by_text("All 2 relations the database holds")).to_be_visible()
    wait_idle(page)
    with page.expect_download() as dl:
        page.get_by_role("button", name="Download TwoSix JSON").click()
    passages = json.loads(Path(dl.value.path()).read_text())
    rels = [(p["text"], r["src"], r["tgt"]) for p in passages for r in p["causal relations"]]
    assert sorted(rels) == sorted(set(rels)) and len(rels) == 2
    assert len(store.relations(document_id=gold_doc)) == 7  # alice, bob and gold each hold them


def test_arrow_keys_move_on_after_clicking_the_order_control(app, page):
    from playwright.sync_api import expect

    url, _, _, plain = app
    page.goto(f"{url}/label?annotator=tester&doc={plain}&s=1")
    page.get_by_text("Keys: 1–9").wait_for()
    expect(page.get_by_text("Sentence 1 of 4")).to_be_visible()
    order = page.get_by_test_id("stSidebar").get_by_role("radio", name="uncertain")
    order.click()
    wait_idle(page)
    expect(page).to_have_url(re.compile("lb_order=uncertain"))
    page.wait_for_function(  # the clicked radio gives the keyboard back to the page
        "() => !document.querySelector('[data-testid=\"stSidebar\"]').contains(document.activeElement)", timeout=3000)
    caption = page.get_by_text(re.compile(r"^Sentence \d of 4"))
    first = caption.inner_text()
    page.keyboard.press("ArrowRight")
    expect(caption).not_to_have_text(first)
    page.reload()  # the order stays in the address
    page.get_by_text("Keys: 1–9").wait_for()
    expect(page.get_by_test_id("stSidebar").get_by_role("radio", name="uncertain")).to_be_checked()


def test_assigned_document_shows_in_the_assignees_queue_only(app, page):
    from playwright.sync_api import expect

    url, _, _, plain = app
    page.goto(f"{url}/?annotator=alice")
    expect(page.get_by_text("Your queue")).to_be_visible()
    expect(page.get_by_role("button", name="Deploy")).to_have_count(0)  # .streamlit/config.toml: toolbarMode
    expect(page.get_by_text("Cod notes — sentences 1–4")).to_be_visible()
    expect(page.get_by_text("0 of 4 done")).to_be_visible()
    page.locator(f".st-key-queue_open_{plain} button").click()
    page.get_by_text("Keys: 1–9").wait_for()
    expect(page.get_by_text("Sentence 1 of 4")).to_be_visible()
    page.goto(f"{url}/?annotator=bob")
    page.get_by_text("Documents").first.wait_for()
    wait_idle(page)
    expect(page.get_by_text("Your queue")).to_have_count(0)
    expect(page.get_by_text("Cod notes — sentences 1–4")).to_have_count(0)


def test_enter_in_the_note_box_saves(app, page):
    from playwright.sync_api import expect

    url, store, _, plain = app
    page.goto(f"{url}/label?annotator=noter&doc={plain}&s=1")
    page.get_by_text("Keys: 1–9").wait_for()
    for key, box in (("1", "Source"), ("2", "Target")):
        page.keyboard.press(key)
        expect(page.get_by_role("combobox", name=box)).not_to_have_value("")
    wait_idle(page)
    page.get_by_label("Note (optional)").fill("seen in table 2")
    page.get_by_label("Note (optional)").press("Enter")
    expect(page.get_by_text("Your relations in this sentence: 1")).to_be_visible()
    (rel,) = store.relations(annotator="noter")
    assert rel.note == "seen in table 2"
