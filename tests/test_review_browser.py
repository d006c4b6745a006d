"""Review pages in a real Chromium: the map draws, a node click or the select box shows a concept's
evidence, a scenario charts, the files the Map and Export pages hand out carry what the database
holds, and the shipped relation model extracts from an uploaded paper into labeling."""
from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from models.bundle import read_config
from tests.app_server import ROOT, browser_page, served_store, wait_idle
from tests.review_world import REEF, build_world

pytestmark = pytest.mark.browser
WAIT_MS = 60_000


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with served_store(tmp_path_factory, "review_browser", build_world,
                      FUZZYMAP_MODEL=str(ROOT / "models" / "default")) as (url, store, _):  # the shipped bundle
        yield url, store


def choose(page, label: str, option: str, multi: bool = False) -> None:
    """Pick an option of a Streamlit select box / multiselect by typing it; Enter takes the best
    match (the drop-down can open outside the viewport, where a click cannot reach it)."""
    page.get_by_label(label, exact=True).first.click()
    page.keyboard.type(option)
    page.get_by_role("option", name=option, exact=True).first.wait_for(state="attached")
    page.keyboard.press("Enter")
    if multi:
        page.keyboard.press("Escape")  # a multiselect stays open after a pick


NODE_POSITIONS_JS = """() => {
  // Test-only: find the vis-network instance behind streamlit-agraph's React tree and return each
  // node's position in the iframe's coordinates, so the test can click a node like a user.
  const el = document.querySelector('.vis-network');
  const key = Object.keys(el.parentNode).find(k => k.startsWith('__reactFiber') || k.startsWith('__reactInternalInstance'));
  let fiber = el.parentNode[key], net = null;
  const isNet = v => v && typeof v.getPositions === 'function';
  for (let up = 0; fiber && up < 30 && !net; up++, fiber = fiber.return) {
    const sn = fiber.stateNode;
    if (sn && typeof sn === 'object') net = Object.values(sn).find(isNet) || null;
    for (let h = fiber.memoizedState, i = 0; !net && h && i < 20; h = h.next, i++) {
      const v = h.memoizedState;
      net = isNet(v) ? v : (v && isNet(v.current) ? v.current : null);
    }
  }
  if (!net) return null;
  const out = {};
  for (const [id, p] of Object.entries(net.getPositions())) out[id] = net.canvasToDOM(p);
  return out;
}"""


def node_position(page, concept: str) -> dict[str, float]:
    """Where a node is drawn, once the layout has stopped moving."""
    frame = next(f for f in page.frames if "streamlit_agraph" in f.url)
    last = None
    for _ in range(40):
        now = frame.evaluate(NODE_POSITIONS_JS)
        if now and now == last:
            return now[concept]
        last = now
        page.wait_for_timeout(500)
    raise AssertionError(f"the map layout did not settle: {last}")


def download(page, button: str) -> bytes:
    """The file a download button serves, clicked once the page's script run is over: a button
    clicked mid-run can be replaced by the rerun, and its download never starts."""
    wait_idle(page)
    with page.expect_download() as info:
        page.get_by_role("button", name=button).click()
    return Path(info.value.path()).read_bytes()


def test_map_select_concept_and_run_scenario(app, browser, tmp_path):
    from playwright.sync_api import expect

    url, _ = app
    with browser_page(browser, WAIT_MS) as page:
        page.goto(f"{url}/map", wait_until="domcontentloaded")
        page.get_by_role("heading", name="Map").wait_for()
        graph = page.frame_locator('iframe[title="streamlit_agraph.agraph"]')
        graph.locator("canvas").first.wait_for(state="visible")

        # a click on a node selects its concept (agraph returns the node id, the page reruns)
        at = node_position(page, "warmer water")
        graph.locator("canvas").first.click(position=at)
        expect(page.get_by_label("Concept", exact=True)).to_have_value("warmer water", timeout=WAIT_MS)
        page.locator("td[role=gridcell]", has_text="warmer water → coral cover").first.wait_for(state="attached")
        # the select box is the other way in; the evidence sentence shows in the table's accessible cells
        choose(page, "Concept", "coral cover")
        expect(page.get_by_label("Concept", exact=True)).to_have_value("coral cover", timeout=WAIT_MS)
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


def test_map_download_mental_modeler(app, browser):
    url, _ = app
    with browser_page(browser, WAIT_MS) as page:
        page.goto(f"{url}/map", wait_until="domcontentloaded")
        page.get_by_role("tab", name="Download").click()
        rows = list(csv.reader(io.StringIO(download(page, "Mental Modeler CSV").decode())))
        concepts = rows[0][1:]
        assert len(concepts) == 11 and "coral cover" in concepts
        weights = {(r[0], c): float(w) for r in rows[1:] for c, w in zip(concepts, r[1:])}
        assert weights[("warmer water", "coral cover")] == -0.5          # two labels, sign - strength M
        assert sum(w != 0 for w in weights.values()) == 6


def test_export_download_carries_every_relation(app, browser):
    url, store = app
    with browser_page(browser, WAIT_MS) as page:
        page.goto(f"{url}/export", wait_until="domcontentloaded")
        page.get_by_text("All documents").click()
        page.get_by_text("All 7 relations the database holds").wait_for()
        passages = json.loads(download(page, "Download TwoSix JSON"))
        assert sum(len(p["causal relations"]) for p in passages) == len(store.relations()) == 7


def test_extract_with_the_shipped_model_and_send_to_labeling(app, browser):
    url, store = app
    with browser_page(browser, WAIT_MS) as page:
        paper = b"Heavy rain caused river floods in the valley. The survey ran for three years.\n"
        page.goto(f"{url}/extract", wait_until="domcontentloaded")
        page.locator("[data-testid=stFileUploader] input[type=file]").set_input_files(
            files=[{"name": "floods.txt", "mimeType": "text/plain", "buffer": paper}])
        page.get_by_role("button", name=re.compile(r"Extract relations from \d+ sentences")).click()
        page.get_by_text("Relations at or above the minimum score").wait_for()
        page.frame_locator('iframe[title="streamlit_agraph.agraph"]').locator("canvas").first.wait_for(state="visible")
        page.locator("td[role=gridcell]", has_text="river floods").first.wait_for(state="attached")
        page.get_by_role("button", name="Send to labeling as suggestions").click()
        page.get_by_text(re.compile(r"\d+ new suggestion\(s\) queued")).wait_for()
        (doc,) = [d for d in store.list_documents() if d.filename == "floods.txt"]
        config = read_config(ROOT / "models" / "default")
        queued = store.suggestions(document_id=doc.id)
        assert queued and {s.model_id for s in queued} == {config["model_id"]}
        assert any((s.source, s.target, s.sign) == ("Heavy rain", "river floods", 1) for s in queued)
        page.get_by_role("link", name="Open it on the Label page").click()
        page.get_by_text("Heavy rain caused river floods in the valley.").first.wait_for()
