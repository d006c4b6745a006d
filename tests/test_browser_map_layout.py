"""Real Chromium: the Map draws concepts where fcm.layout put them, and a merge moves no other concept."""
from __future__ import annotations

import pytest

from data.store import Store
from tests.app_server import browser_page, chromium, require_chromium, running_app, wait_idle
from tests.review_world import build_world
from tests.test_review_browser import NODE_POSITIONS_JS, choose

pytestmark = pytest.mark.browser
CANVAS_POSITIONS_JS = NODE_POSITIONS_JS.replace("net.canvasToDOM(p)", "p")
"""Each node's position in vis-network's own coordinates (the x, y the page passed), not the screen's."""


def positions(page) -> dict[str, dict[str, float]]:
    """Node positions once the (re)drawn network is there."""
    for _ in range(60):
        frames = [f for f in page.frames if "streamlit_agraph" in f.url]
        now = frames[0].evaluate(f"() => document.querySelector('.vis-network') && ({CANVAS_POSITIONS_JS})()") \
            if frames else None
        if now:
            return now
        page.wait_for_timeout(500)
    raise AssertionError("the map was not drawn")


def test_a_merge_keeps_every_other_concept_in_place(tmp_path):
    require_chromium()
    db = tmp_path / "app.db"
    store = Store(str(db))
    build_world(store)
    with running_app(db) as url, chromium() as browser, browser_page(browser, 60_000) as page:
        page.goto(f"{url}/map", wait_until="domcontentloaded")
        page.frame_locator('iframe[title="streamlit_agraph.agraph"]').locator("canvas").first.wait_for(state="visible")
        wait_idle(page)
        before = positions(page)
        assert {"parrotfish", "parrotfish numbers", "warmer water"} <= set(before)
        page.wait_for_timeout(1500)
        assert positions(page) == before  # no physics: nothing drifts

        page.get_by_role("tab", name="Merge concepts").click()
        choose(page, "Concept to merge", "parrotfish")
        choose(page, "into", "parrotfish numbers")
        wait_idle(page)
        page.locator(".st-key-merge_manual button").click()
        page.get_by_text("“parrotfish” is shown as “parrotfish numbers”").wait_for()
        wait_idle(page)
        after = positions(page)
        assert set(after) == set(before) - {"parrotfish"}
        assert after == {name: before[name] for name in after}
    assert store.aliases() == {"parrotfish": "parrotfish numbers"}
    store.close()
