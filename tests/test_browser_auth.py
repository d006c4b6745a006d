"""Signed-in annotators in a real Chromium: annotator B cannot undo, edit or delete annotator A's
relation (not through the page, not with A's name in the URL); an admin can, and the log names
the admin."""
from __future__ import annotations

import pytest

from app_server import browser_page, served_store, wait_idle
from core.types import ParsedDocument, ParsedSentence, PassageRelation
from data.accounts import Accounts
from data.store import Store
from test_browser_label import _table_cell

pytestmark = pytest.mark.browser

S = "Offshore wind farms reduce the fishing effort of local trawlers near the coast."


def _accounts_and_relations(store: Store) -> None:
    """Three accounts, and ann's three relations in one sentence."""
    accounts = Accounts(store)
    for name, role in (("root", "admin"), ("ann", "annotator"), ("bob", "annotator")):
        accounts.add_user(name, f"{name}-password", role)
    (doc_id,) = store.import_documents([ParsedDocument("own.txt", "sha-own", [ParsedSentence(S)], title="Own")])
    (sent,) = store.sentences(doc_id)
    for src, tgt, sign in (("Offshore wind farms", "fishing effort", -1), ("fishing effort", "local trawlers", 1),
                           ("wind farms", "the coast", 1)):
        store.add_relation(sent.id, PassageRelation(src, tgt, sign, annotator="ann"))


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with served_store(tmp_path_factory, "browser_auth", _accounts_and_relations,
                      FUZZYMAP_AUTH="password") as (url, store, _):
        yield url, store


def _sign_in(page, name: str) -> None:
    from playwright.sync_api import expect

    expect(page.get_by_role("heading", name="Sign in to fuzzymap")).to_be_visible()
    page.get_by_role("textbox", name="User name").fill(name)
    page.get_by_role("textbox", name="Password").fill(f"{name}-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("stSidebar").get_by_text(f"Signed in as {name}")).to_be_visible()
    wait_idle(page)


def _open_label(page) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Label").click()
    page.get_by_text("Keys: 1–9").wait_for()
    wait_idle(page)


def test_b_cannot_touch_as_relation_and_an_admin_can(app, browser):
    from playwright.sync_api import expect

    expect.set_options(timeout=30_000)
    url, store = app

    def anns() -> list[tuple]:
        return [(r.source, r.target, r.sign) for r in store.relations(annotator="ann")]

    before = anns()
    assert len(before) == 3
    with browser_page(browser) as page:
        page.goto(f"{url}/label?annotator=ann&doc=1&s=1")  # A's name in the address signs nobody in
        _sign_in(page, "bob")
        _open_label(page)
        expect(page.get_by_text("Your relations in this sentence: 0")).to_be_visible()
        expect(page.get_by_text("3 relation(s) by other annotators or imported")).to_be_visible()
        expect(page.get_by_test_id("stDataFrame")).to_have_count(0)  # nothing of ann's to edit or delete
        expect(page.get_by_label("Relations of")).to_have_count(0)
        page.locator(".st-key-lb_undo button").click()
        expect(page.get_by_text("Nothing to undo")).to_be_visible()
        wait_idle(page)
        assert anns() == before and not [a for a in store.history() if a.annotator == "bob"]

        page.locator(".st-key-sign_out button").click()
        _sign_in(page, "root")
        _open_label(page)
        page.get_by_label("Relations of", exact=True).click()
        page.get_by_role("option", name="ann", exact=True).click()
        expect(page.get_by_text("ann's relations in this sentence: 3")).to_be_visible()
        wait_idle(page)

        page.locator(".st-key-lb_undo_other button").click()  # ann's last add
        expect(page.get_by_text("ann's relations in this sentence: 2")).to_be_visible()
        wait_idle(page)
        assert anns() == before[:2]

        page.get_by_test_id("stDataFrame").scroll_into_view_if_needed()  # the grid is clicked by position
        _table_cell(page, 6)  # edit: the first row's "⇄ swap" checkbox
        page.keyboard.press(" ")
        expect(page.get_by_text("fishing effort → Offshore wind farms (−M)")).to_be_visible()
        wait_idle(page)
        assert anns() == [("fishing effort", "Offshore wind farms", -1), before[1]]

        page.get_by_test_id("stDataFrame").scroll_into_view_if_needed()
        _table_cell(page, 0)  # delete: the first row by its marker, with the grid's toolbar button
        page.get_by_role("button", name="Delete row(s)").click()
        expect(page.get_by_text("ann's relations in this sentence: 1")).to_be_visible()
        wait_idle(page)
    assert anns() == [before[1]]
    log = [(a.kind, a.annotator) for a in store.history(limit=3)]
    assert log == [("delete_relation", "root"), ("swap_relation", "root"), ("undo", "root")]
    assert [r.annotator for r in store.relations()] == ["ann"]  # still ann's row, changed by the admin


def test_a_link_to_a_page_asks_for_the_sign_in_then_opens_that_page(app, browser):
    """/map signed out: the sign-in form, not Streamlit's "Page not found"; signed in: the Map page."""
    from playwright.sync_api import expect

    url, _ = app
    with browser_page(browser) as page:
        page.goto(f"{url}/map", wait_until="domcontentloaded")
        _sign_in(page, "ann")
        expect(page.get_by_role("heading", name="Map")).to_be_visible()
        expect(page.get_by_text("Page not found")).to_have_count(0)
        assert page.url.rstrip("/").endswith("/map")
