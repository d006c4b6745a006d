"""Real Chromium: the Map draws concepts where fcm.layout put them, a merge moves no other concept, and no
label overlaps another at the default top 60."""
from __future__ import annotations

import itertools

import pytest

from data.store import Store
from core.types import ParsedDocument, ParsedSentence, PassageRelation
from tests.app_server import browser_page, chromium, require_chromium, running_app, wait_idle
from tests.review_world import build_world
from tests.test_map_layout import concepts, edges
from tests.test_review_browser import NODE_POSITIONS_JS, choose

pytestmark = pytest.mark.browser
CANVAS_POSITIONS_JS = NODE_POSITIONS_JS.replace("net.canvasToDOM(p)", "p")
"""Each node's position in vis-network's own coordinates (the x, y the page passed), not the screen's."""
BOUNDING_BOXES_JS = NODE_POSITIONS_JS.replace("out[id] = net.canvasToDOM(p)", "out[id] = net.getBoundingBox(id)")
"""Each node's box as vis-network draws it, dot and label together ({top, left, right, bottom})."""


def positions(page, script: str = CANVAS_POSITIONS_JS) -> dict[str, dict[str, float]]:
    """Node positions (or what `script` returns per node) once the (re)drawn network is there."""
    for _ in range(60):
        frames = [f for f in page.frames if "streamlit_agraph" in f.url]
        now = frames[0].evaluate(f"() => document.querySelector('.vis-network') && ({script})()") \
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


def test_no_label_overlaps_another_on_the_default_top_60(tmp_path):
    """Boxes measured in the browser (vis-network's own, with the real font), not estimated."""
    require_chromium()
    names = concepts(90)
    links = edges(names, 200)
    db = tmp_path / "app.db"
    store = Store(str(db))
    (doc_id,) = store.import_documents([ParsedDocument("many.txt", "sha-many", [
        ParsedSentence(f"{a} increases {b}.", page=1) for a, b in links], title="Many")])
    for row, (a, b) in zip(store.sentences(doc_id), links):
        store.add_relation(row.id, PassageRelation(a, b, 1, annotator="ann"))
    with running_app(db) as url, chromium() as browser, browser_page(browser, 60_000) as page:
        page.goto(f"{url}/map", wait_until="domcontentloaded")
        page.get_by_text("Show the top N concepts by centrality").wait_for()
        wait_idle(page)
        boxes = positions(page, BOUNDING_BOXES_JS)
    store.close()
    assert len(boxes) == 60
    for (a, p), (b, q) in itertools.combinations(boxes.items(), 2):
        assert not (p["left"] < q["right"] and q["left"] < p["right"] and p["top"] < q["bottom"]
                    and q["top"] < p["bottom"]), (a, p, b, q)
