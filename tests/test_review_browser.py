"""The Map page in a real Chromium: the graph draws, a concept shows its evidence, a scenario charts."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from data.store import Store
from tests.app_server import CHROMIUM, CHROMIUM_ARGS, running_app
from tests.review_world import REEF, build_world

pytestmark = pytest.mark.browser
WAIT_MS = 60_000


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("FUZZYMAP_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} is missing and FUZZYMAP_REQUIRE_BROWSER=1")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def choose(page, label: str, option: str, multi: bool = False) -> None:
    """Pick an option of a Streamlit select box / multiselect by typing it; Enter takes the best
    match (the drop-down can open outside the viewport, where a click cannot reach it)."""
    page.get_by_label(label, exact=True).first.click()
    page.keyboard.type(option)
    page.get_by_role("option", name=option, exact=True).first.wait_for(state="attached")
    page.keyboard.press("Enter")
    if multi:
        page.keyboard.press("Escape")  # a multiselect stays open after a pick


def test_map_select_concept_and_run_scenario(browser, tmp_path):
    db = tmp_path / "browser.db"
    store = Store(str(db))
    build_world(store)
    store.close()
    with running_app(db) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{url}/map", wait_until="domcontentloaded")
        page.get_by_role("heading", name="Map").wait_for(timeout=WAIT_MS)

        graph = page.frame_locator('iframe[title="streamlit_agraph.agraph"]')
        graph.locator("canvas").first.wait_for(state="visible", timeout=WAIT_MS)

        choose(page, "Concept", "coral cover")
        # its evidence sentence, in the (canvas-drawn) table's accessible cells
        page.locator("td[role=gridcell]", has_text=REEF[0]).first.wait_for(state="attached", timeout=WAIT_MS)

        page.get_by_role("tab", name="Scenario").click()
        choose(page, "Concepts to clamp", "warmer water", multi=True)
        page.get_by_role("button", name="Run scenario").click()
        chart = page.locator('[data-testid="stVegaLiteChart"]').first
        chart.wait_for(state="visible", timeout=WAIT_MS)
        chart.locator("canvas, svg").first.wait_for(state="visible", timeout=WAIT_MS)
        page.get_by_text("Change against the baseline").wait_for(timeout=WAIT_MS)
        page.screenshot(path=str(tmp_path / "map_scenario.png"), full_page=True)
        assert (tmp_path / "map_scenario.png").stat().st_size > 10_000
        page.close()
