"""Real Chromium through Playwright: upload, label by keyboard only, reload, export; suggestions."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from app_server import browser_page, served_store, wait_idle
from core.types import ParsedDocument, ParsedSentence

pytestmark = pytest.mark.browser

S1 = "Offshore wind farms reduce the fishing effort of local trawlers."
PAPER = f"{S1} Warmer water increases the growth of algae. Stricter quotas lower the landings of cod.\n"
LLM_FILE = [
    {"text": "Seal numbers rise where fishing discards grow.", "causal relations": [],
     "meta_data": {"title": "Seals and discards", "authors": "Doe, Jane", "year": 2024},
     "LLM": {"GPT3.5": [{"src": "fishing discards", "tgt": "Seal numbers", "direction": "increase"},
                        {"src": "Seal numbers", "tgt": "fishing discards", "direction": "decrease"}],
             "Llama": [{"src": "fishing discards", "tgt": "Seal numbers", "direction": "Increase"}]}},
]


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with served_store(tmp_path_factory, "browser") as (url, store, _):
        yield url, store


def _upload_and_open(page, url: str, name: str, content: bytes, mime: str, title: str,
                     annotator: str = "tester", type_name: bool = False) -> None:
    """Open Home as `annotator` (from the address, or typed into the sidebar box), upload a file,
    open it on the Label page."""
    from playwright.sync_api import expect

    if type_name:
        page.goto(url)
        box = page.get_by_role("combobox", name="Annotator")
        box.click()
        page.keyboard.type(annotator)
        page.keyboard.press("Enter")
        expect(page).to_have_url(re.compile(f"annotator={annotator}"))  # remembered in the address
        wait_idle(page)
    else:
        page.goto(f"{url}/?annotator={annotator}")
    page.locator("[data-testid=stFileUploader] input[type=file]").set_input_files(
        files=[{"name": name, "mimeType": mime, "buffer": content}])
    if name.endswith(".json"):  # a labeled file: Home asks whose labels they are (the default owner)
        page.get_by_role("button", name="Import").click()
    page.get_by_text(f"{name}: imported 1 document(s)").wait_for()
    wait_idle(page)
    expect(page.get_by_role("combobox", name="Document")).to_have_value(f"{title} ({name})")
    page.get_by_role("button", name="Label this document").click()
    page.get_by_text("Keys: 1–9").wait_for()


def _box(page, label: str):
    return page.get_by_role("combobox", name=label)


def test_keyboard_only_labeling_survives_reload_and_exports(app, page):
    from playwright.sync_api import expect

    url, store = app
    _upload_and_open(page, url, "fish.txt", PAPER.encode(), "text/plain", "fish.txt")
    expect(page.get_by_text("Sentence 1 of 3")).to_be_visible()
    kb = page.keyboard
    kb.press("1")  # source chip: Offshore wind farms
    expect(_box(page, "Source")).to_have_value("Offshore wind farms")
    kb.press("2")  # target chip: fishing effort
    expect(_box(page, "Target")).to_have_value("fishing effort")
    kb.press("ArrowDown")  # sign: decrease
    expect(page.get_by_role("radio", name="− decrease")).to_be_checked()
    kb.press("Enter")
    expect(page.get_by_text("Your relations in this sentence: 1")).to_be_visible()
    kb.press("3")
    expect(_box(page, "Source")).to_have_value("local trawlers")
    kb.press("2")
    expect(_box(page, "Target")).to_have_value("fishing effort")
    kb.press("Enter")  # default sign +
    expect(page.get_by_text("Your relations in this sentence: 2")).to_be_visible()
    wait_idle(page)
    for key, box in (("1", "Source"), ("3", "Target")):  # a third relation, then undo it by key
        kb.press(key)
        expect(_box(page, box)).not_to_have_value("")
    kb.press("Enter")
    expect(page.get_by_text("Your relations in this sentence: 3")).to_be_visible()
    wait_idle(page)
    kb.press("u")
    expect(page.get_by_text("Your relations in this sentence: 2")).to_be_visible()

    page.reload()
    expect(page.get_by_text("Your relations in this sentence: 2")).to_be_visible()
    expect(page.get_by_text(
        "Offshore wind farms → fishing effort (−M) · local trawlers → fishing effort (+M)")).to_be_visible()
    rels = {(r.source, r.target, r.sign, r.annotator) for r in store.relations()}
    assert rels == {("Offshore wind farms", "fishing effort", -1, "tester"),
                    ("local trawlers", "fishing effort", 1, "tester")}

    page.goto(f"{url}/export?annotator=tester")
    page.get_by_text("All documents", exact=True).click()
    expect(page.get_by_test_id("stMetricValue").first).to_have_text(str(len(store.list_documents())))
    wait_idle(page)
    with page.expect_download() as dl:
        page.get_by_role("button", name="Download TwoSix JSON").click()
    passages = json.loads(Path(dl.value.path()).read_text())
    (labeled,) = [p for p in passages if p["text"] == S1]
    assert sorted((r["src"], r["tgt"], r["direction"]) for r in labeled["causal relations"]) == [
        ("Offshore wind farms", "fishing effort", "decrease"), ("local trawlers", "fishing effort", "increase")]


def test_keys_typed_in_one_go_are_applied_in_order_once_each(app, page):
    """Eleven keys typed without waiting for the page (two relations, a sign, a move to the next
    sentence, a third relation): each is applied once, in typing order, on the sentence it was
    typed for, however the browser's messages are merged into page runs (app.keys)."""
    from playwright.sync_api import expect

    url, store = app
    (doc_id,) = store.import_documents([ParsedDocument(
        "burst.txt", "sha-burst", [ParsedSentence(t) for t in PAPER.split(". ")], title="Burst")])
    page.goto(f"{url}/label?annotator=bo&doc={doc_id}&s=1")
    page.get_by_text("Keys: 1–9").wait_for()
    hint = "el => getComputedStyle(el, '::after').content"  # each button shows its key (app.keys.key_hints)
    assert page.locator('[class*="st-key-lb_chip_2_"] button p').first.evaluate(hint) == '"3"'
    assert page.locator(".st-key-lb_save button p").evaluate(hint) == '"Enter"'
    listener = page.locator(".st-key-lb_keys")  # mounted, listening, and out of the layout (no gap)
    assert listener.count() == 1 and listener.evaluate("el => getComputedStyle(el).display") == "none"
    for key in ("1", "2", "ArrowDown", "Enter", "3", "2", "Enter", "ArrowRight", "1", "3", "Enter"):
        page.keyboard.press(key)
    expect(page.get_by_text("Sentence 2 of 3")).to_be_visible()
    expect(page.get_by_text("Your relations in this sentence: 1")).to_be_visible()
    wait_idle(page)
    found = {(r.source, r.target, r.sign) for r in store.relations(document_id=doc_id, annotator="bo")}
    assert found == {("Offshore wind farms", "fishing effort", -1), ("local trawlers", "fishing effort", 1),
                     ("Warmer water", "algae", 1)}


def test_keys_typed_while_the_label_page_opens_are_kept(app, page):
    """Keys typed right after "Label this document" is clicked, while the Label page is still
    loading (its key listener not mounted yet), are applied once it is (app.keys)."""
    from playwright.sync_api import expect

    url, store = app
    page.goto(f"{url}/?annotator=quick")
    page.locator("[data-testid=stFileUploader] input[type=file]").set_input_files(
        files=[{"name": "quick.txt", "mimeType": "text/plain", "buffer": (PAPER + "Nets catch seals.").encode()}])
    page.get_by_text("quick.txt: imported 1 document(s)").wait_for()
    wait_idle(page)
    page.get_by_role("button", name="Label this document").click()
    expect(page).to_have_url(re.compile("/label"))
    for key in ("1", "2", "Enter"):
        page.keyboard.press(key)
    expect(page.get_by_text("Your relations in this sentence: 1")).to_be_visible()
    (doc,) = [d for d in store.list_documents() if d.filename == "quick.txt"]
    wait_idle(page)
    assert {(r.source, r.target, r.sign) for r in store.relations(document_id=doc.id, annotator="quick")} == {
        ("Offshore wind farms", "fishing effort", 1)}


def test_keys_typed_as_soon_as_a_new_tab_shows_the_sentence_are_kept(app, browser):
    """A tab whose first page is the Label page (a bookmark, a reload) shows its sentence only once
    the key listener is mounted, so keys typed the moment the sentence shows are all applied."""
    from playwright.sync_api import expect

    url, store = app
    (doc_id,) = store.import_documents([ParsedDocument(
        "tabs.txt", "sha-tabs", [ParsedSentence(f"Offshore wind farms near port {i} reduce fishing effort.")
                                 for i in range(1, 5)], title="Tabs")])
    for i in range(1, 5):
        with browser_page(browser) as page:
            page.goto(f"{url}/label?annotator=tab{i}&doc={doc_id}&s={i}")
            page.locator(".st-key-lb_sentence").get_by_text(f"near port {i} reduce").wait_for()
            for key in ("1", "2", "Enter"):
                page.keyboard.press(key)
            expect(page.get_by_text("Your relations in this sentence: 1")).to_be_visible()
            wait_idle(page)
        assert len(store.relations(document_id=doc_id, annotator=f"tab{i}")) == 1


def test_accept_and_reject_suggestions_by_keyboard(app, page):
    from playwright.sync_api import expect

    url, store = app
    _upload_and_open(page, url, "seals.json", json.dumps(LLM_FILE).encode(), "application/json",
                     "Seals and discards", annotator="bea", type_name=True)
    expect(page.get_by_text("Suggestions (A accept · X reject · E edit the top one)")).to_be_visible()
    expect(page.get_by_text("score 1.00")).to_be_visible()
    page.keyboard.press("a")  # accept the top one: both systems agree, score 1.0
    expect(page.get_by_text("Your relations in this sentence: 1")).to_be_visible()
    expect(page.get_by_text("score 1.00")).to_have_count(0)  # the page has caught up with the accept
    wait_idle(page)  # until the run ends, the moved suggestion can show twice: stale and redrawn
    expect(page.get_by_text("score 0.50")).to_have_count(1)
    page.keyboard.press("x")  # reject the remaining one
    expect(page.get_by_text("Suggestions (A accept · X reject · E edit the top one)")).to_have_count(0)

    wait_idle(page)
    for box, concept in (("Source", "seal diet"), ("Target", "cod stocks")):  # new concepts, typed
        _box(page, box).click()
        page.keyboard.type(concept)
        page.keyboard.press("Enter")
        expect(_box(page, box)).to_have_value(concept)
        wait_idle(page)
    page.get_by_role("button", name="Save relation").click()
    expect(page.get_by_text("Your relations in this sentence: 2")).to_be_visible()

    doc = next(d for d in store.list_documents() if d.filename == "seals.json")
    typed = next(r for r in store.relations(document_id=doc.id) if r.source == "seal diet")
    assert (typed.target, typed.source_span, typed.target_span, typed.annotator) == ("cod stocks", None, None, "bea")
    assert {"seal diet", "cod stocks"} <= set(store.concepts())  # the lexicon offers them next time
    (rel,) = [r for r in store.relations(document_id=doc.id) if r.origin == "human" and r.model_id]
    assert (rel.source, rel.target, rel.sign, rel.origin, rel.score, rel.model_id, rel.annotator) == (
        "fishing discards", "Seal numbers", 1, "human", 1.0, "llm:GPT3.5", "bea")
    (rejected,) = store.suggestions(document_id=doc.id, state="rejected")
    assert (rejected.source, rejected.target, rejected.sign) == ("Seal numbers", "fishing discards", -1)


def _table_cell(page, column: int) -> None:
    """Select a cell of the relations table's first row, `column` as glide-data-grid counts them
    (0 = the row marker, 1 = source, ...). The grid is a canvas: click just right of its 30 px
    row-marker column (rows are 35 px, header first), then walk with the arrow keys, which the grid
    takes while it has the focus; each step is checked in the grid's accessibility cells. A click
    that lands while the grid is redrawn after a rerun selects nothing, so the click is repeated
    (a few times at most) until the grid shows the selection."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import expect

    selected = (page.get_by_role("button", name="Delete row(s)") if column == 0
                else page.locator('[data-testid="glide-cell-1-0"][aria-selected="true"]'))
    for attempt in range(4):
        wait_idle(page)
        page.get_by_test_id("stDataFrame").scroll_into_view_if_needed()  # a click below the viewport hits nothing
        box = page.get_by_test_id("stDataFrame").locator("canvas").first.bounding_box()
        page.mouse.click(box["x"] + (15 if column == 0 else 45), box["y"] + 35 + 17)
        try:
            selected.wait_for(state="visible" if column == 0 else "attached", timeout=5000)
            break
        except PlaywrightTimeout:
            if attempt == 3:
                raise
    if column == 0:
        expect(page.get_by_role("button", name="Delete row(s)")).to_be_visible()  # the row is selected
        return
    for c in range(1, column + 1):
        if c > 1:
            page.keyboard.press("ArrowRight")
        expect(page.get_by_test_id(f"glide-cell-{c}-0")).to_have_attribute("aria-selected", "true")


def _grid_row(page) -> list[str]:
    """The first row of the relations table as the grid shows it (its accessibility cells)."""
    return [page.get_by_test_id(f"glide-cell-{c}-0").inner_text() for c in range(1, 5)]


def test_relations_table_swap_edit_delete(app, page):
    from playwright.sync_api import expect

    url, store = app
    (doc_id,) = store.import_documents([ParsedDocument("table.txt", "sha-table", [ParsedSentence(S1)], title="Table")])
    page.goto(f"{url}/label?annotator=tom&doc={doc_id}&s=1")
    page.get_by_text("Keys: 1–9").wait_for()
    for key, box in (("1", "Source"), ("2", "Target")):
        page.keyboard.press(key)
        expect(_box(page, box)).not_to_have_value("")
        wait_idle(page)
    page.keyboard.press("ArrowDown")
    expect(page.get_by_role("radio", name="− decrease")).to_be_checked()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Offshore wind farms → fishing effort (−M)")).to_be_visible()
    wait_idle(page)
    expect(page.get_by_test_id("glide-cell-1-0")).to_have_text("Offshore wind farms")

    def mine() -> list[tuple]:
        return [(r.source, r.target, r.sign, r.strength) for r in store.relations(document_id=doc_id, annotator="tom")]

    assert mine() == [("Offshore wind farms", "fishing effort", -1, "M")]

    _table_cell(page, 6)  # the "⇄ swap" checkbox
    page.keyboard.press(" ")
    expect(page.get_by_text("fishing effort → Offshore wind farms (−M)")).to_be_visible()
    wait_idle(page)
    assert mine() == [("fishing effort", "Offshore wind farms", -1, "M")]
    assert _grid_row(page) == ["fishing effort", "Offshore wind farms", "−", "M"]
    expect(page.get_by_text("Sentence 1 of 1")).to_be_visible()  # the grid's arrow keys did not change sentence

    _table_cell(page, 4)  # strength, from its drop-down: M is chosen, the next one down is H
    page.keyboard.press("Enter")
    expect(page.get_by_role("option", name="M", exact=True)).to_have_attribute("aria-selected", "true")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.get_by_text("fishing effort → Offshore wind farms (−H)")).to_be_visible()
    wait_idle(page)
    assert mine() == [("fishing effort", "Offshore wind farms", -1, "H")]
    assert _grid_row(page) == ["fishing effort", "Offshore wind farms", "−", "H"]

    _table_cell(page, 0)  # select the row by its marker, then delete it with the grid's toolbar button
    page.get_by_role("button", name="Delete row(s)").click()
    expect(page.get_by_text("Your relations in this sentence: 0")).to_be_visible()
    wait_idle(page)
    assert mine() == []
    page.reload()
    page.get_by_text("Keys: 1–9").wait_for()
    expect(page.get_by_text("Your relations in this sentence: 0")).to_be_visible()
    expect(page.get_by_test_id("stDataFrame")).to_have_count(0)



def test_relations_table_note_typed_with_shortcut_letters(app, page):
    """A note typed into the relations table is saved, even though it is full of the page's one-key
    shortcuts (N no relation, S swap, D discard, A/E suggestion, digits chips, Enter save): while
    the table's cell has the focus or its editor is open, those keys belong to the table. The form
    holds picks and the document has a next sentence, so any shortcut that fired would show."""
    from playwright.sync_api import expect

    url, store = app
    (doc_id,) = store.import_documents([ParsedDocument(
        "note.txt", "sha-note", [ParsedSentence(S1), ParsedSentence("Colder winters slow the spread of crabs.")],
        title="Note")])
    page.goto(f"{url}/label?annotator=nia&doc={doc_id}&s=1")
    page.get_by_text("Keys: 1–9").wait_for()

    def pick_both() -> None:
        for key, box in (("1", "Source"), ("2", "Target")):
            page.keyboard.press(key)
            expect(_box(page, box)).not_to_have_value("")
            wait_idle(page)

    pick_both()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Offshore wind farms → fishing effort (+M)")).to_be_visible()
    wait_idle(page)
    pick_both()  # unsaved picks in the form: a stray S would swap them, a stray Enter save them

    def mine() -> list[tuple]:
        return [(r.source, r.target, r.sign, r.strength, r.note)
                for r in store.relations(document_id=doc_id, annotator="nia")]

    def nothing_else_happened() -> None:
        expect(page.get_by_text("Sentence 1 of 2")).to_be_visible()
        expect(_box(page, "Source")).to_have_value("Offshore wind farms")
        expect(_box(page, "Target")).to_have_value("fishing effort")
        expect(page.get_by_role("radio", name="+ increase")).to_be_checked()
        assert [(r.text, r.status) for r in store.sentences(doc_id, "nia")] == sentences
        assert len(store.relations(document_id=doc_id)) == 1

    sentences = [(r.text, r.status) for r in store.sentences(doc_id, "nia")]
    relation = mine()[0][:4]
    note = "no sand eel habitat lost 1+2"
    _table_cell(page, 5)  # the note column: type straight onto the selected cell, as in a spreadsheet
    page.keyboard.press(note[0])  # "n" opens the cell's editor with that letter...
    editor = page.locator("#portal textarea")
    expect(editor).to_have_value(note[0])
    page.keyboard.type(note[1:], delay=20)  # ...and the rest goes there (typing faster than it opens loses keys)
    expect(editor).to_have_value(note)
    page.keyboard.press("Enter")  # commits the edit
    expect(page.get_by_test_id("glide-cell-5-0")).to_have_text(note)
    wait_idle(page)
    assert mine() == [(*relation, note)]
    nothing_else_happened()

    _table_cell(page, 5)  # Enter on the selected cell opens its editor on the saved text; replace it
    page.keyboard.press("Enter")
    expect(editor).to_have_value(note)
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("seabed sand shifts", delay=20)
    expect(editor).to_have_value("seabed sand shifts")
    box = page.get_by_test_id("stDataFrame").bounding_box()
    page.mouse.click(box["x"] + 5, box["y"] + box["height"] + 40)  # clicking away commits too
    expect(page.get_by_test_id("glide-cell-5-0")).to_have_text("seabed sand shifts")
    wait_idle(page)
    assert mine() == [(*relation, "seabed sand shifts")]
    nothing_else_happened()
    page.reload()
    page.get_by_text("Keys: 1–9").wait_for()
    expect(page.get_by_test_id("glide-cell-5-0")).to_have_text("seabed sand shifts")
    assert mine() == [(*relation, "seabed sand shifts")]
