"""Review pages in a real Chromium: the map draws, a concept shows its evidence, a scenario charts,
and the files the Map and Export pages hand out carry what the database holds."""
from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pytest

from data.store import Store
from tests.app_server import CHROMIUM, CHROMIUM_ARGS, running_app
from tests.review_world import REEF, build_world

pytestmark = pytest.mark.browser
WAIT_MS = 60_000


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        if os.environ.get("FUZZYMAP_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} is missing and FUZZYMAP_REQUIRE_BROWSER=1")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    db = tmp_path_factory.mktemp("review_browser") / "app.db"
    store = Store(str(db))
    build_world(store)
    with running_app(db, FUZZYMAP_MODEL=str(db.parent / "no-model")) as url:
        yield url, store
    store.close()


@pytest.fixture(scope="module")
def browser(app):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(WAIT_MS)
    yield pg
    context.close()


def choose(page, label: str, option: str, multi: bool = False) -> None:
    """Pick an option of a Streamlit select box / multiselect by typing it; Enter takes the best
    match (the drop-down can open outside the viewport, where a click cannot reach it)."""
    page.get_by_label(label, exact=True).first.click()
    page.keyboard.type(option)
    page.get_by_role("option", name=option, exact=True).first.wait_for(state="attached")
    page.keyboard.press("Enter")
    if multi:
        page.keyboard.press("Escape")  # a multiselect stays open after a pick


def download(page, button: str) -> bytes:
    with page.expect_download() as info:
        page.get_by_role("button", name=button).click()
    return Path(info.value.path()).read_bytes()


def test_map_select_concept_and_run_scenario(app, page, tmp_path):
    url, _ = app
    page.goto(f"{url}/map", wait_until="domcontentloaded")
    page.get_by_role("heading", name="Map").wait_for()
    graph = page.frame_locator('iframe[title="streamlit_agraph.agraph"]')
    graph.locator("canvas").first.wait_for(state="visible")

    choose(page, "Concept", "coral cover")
    # its evidence sentence, in the (canvas-drawn) table's accessible cells
    page.locator("td[role=gridcell]", has_text=REEF[0]).first.wait_for(state="attached")

    page.get_by_role("tab", name="Scenario").click()
    choose(page, "Concepts to clamp", "warmer water", multi=True)
    page.get_by_role("button", name="Run scenario").click()
    chart = page.locator('[data-testid="stVegaLiteChart"]').first
    chart.wait_for(state="visible")
    chart.locator("canvas, svg").first.wait_for(state="visible")
    page.get_by_text("Change against the baseline").wait_for()
    page.screenshot(path=str(tmp_path / "map_scenario.png"))
    assert (tmp_path / "map_scenario.png").stat().st_size > 10_000


def test_map_download_mental_modeler(app, page):
    url, store = app
    page.goto(f"{url}/map", wait_until="domcontentloaded")
    page.get_by_role("tab", name="Download").click()
    rows = list(csv.reader(io.StringIO(download(page, "Mental Modeler CSV").decode())))
    concepts = rows[0][1:]
    assert len(concepts) == 11 and "coral cover" in concepts
    weights = {(r[0], c): float(w) for r in rows[1:] for c, w in zip(concepts, r[1:])}
    assert weights[("warmer water", "coral cover")] == -0.5          # two labels, sign - strength M
    assert sum(w != 0 for w in weights.values()) == 6


def test_export_download_carries_every_relation(app, page):
    url, store = app
    page.goto(f"{url}/export", wait_until="domcontentloaded")
    page.get_by_text("All documents").click()
    page.get_by_text("All 7 relations the database holds").wait_for()
    passages = json.loads(download(page, "Download TwoSix JSON"))
    assert sum(len(p["causal relations"]) for p in passages) == len(store.relations()) == 7
