"""A hostile corpus on every page in a real Chromium: script tags, onerror / onload handlers,
javascript: links, Markdown images and LaTeX, Streamlit directives, right-to-left overrides and a
10,000-character name, imported through the TwoSix reader as an upload is. Nothing may run (no
dialog, no request to the sentinel host, no changed title, no handler attribute in any frame) and
each page stays usable (its heading and the page list visible, the next page reached by a click)."""
from __future__ import annotations

import json

import pytest

from app_server import browser_page, chromium, served_store, wait_idle
from core.types import PassageRelation
from data.ingest import read_document
from data.store import Store

pytestmark = pytest.mark.browser

SENTINEL = "sentinel.invalid"
RUN = f"top.document.title='pwned';top.__pwned=1;fetch('http://{SENTINEL}/js')"
SCRIPT = f"<script>{RUN}</script>"
IMG = f'<img src=x onerror="{RUN}">'
SVG = f'<svg onload="{RUN}">'
JSLINK = "[click me](javascript:alert(1))"
MDIMG = f"![logo](http://{SENTINEL}/md.png)"
LATEX = r"$\href{javascript:alert(1)}{x}$"
DIRECTIVE = ":red[pwned] :material/warning:"
RTL = "\u202egnp.exe"
LONG = "W" * 10_000
PAGES = ["Home", "Label", "Map", "Extract", "Agreement", "Compare", "Export"]


def _corpus() -> bytes:
    rel = lambda s, t, d: {"src": s, "tgt": t, "direction": d}  # noqa: E731
    meta = {"title": f"{SCRIPT}{MDIMG}{RTL}{LONG}", "authors": IMG, "year": 2024}
    return json.dumps([
        {"text": f"{IMG} raises {SCRIPT} levels.", "causal relations": [rel(IMG, SCRIPT, "increase")],
         "meta_data": meta, "LLM": {f"gpt {SCRIPT}": [rel(SVG, JSLINK, "increase")]}},
        {"text": f"{JSLINK} lowers {MDIMG} quickly.", "causal relations": [rel(JSLINK, MDIMG, "decrease")],
         "meta_data": meta},
        {"text": f"{LATEX} raises {DIRECTIVE} and {SVG}.", "causal relations": [rel(LATEX, DIRECTIVE, "increase")],
         "meta_data": meta},
        {"text": f"{RTL} raises {SVG} and {LONG} raises cod.", "causal relations": [rel(LONG, "cod", "increase")],
         "meta_data": meta},
    ]).encode()


def _hostile(store: Store) -> None:
    a, b = IMG, JSLINK  # two annotators with hostile names, so Agreement and Compare have work
    (doc_id,) = store.import_documents(read_document(f"{IMG}{RTL}.json", _corpus()), annotator=a)
    sents = store.sentences(doc_id)
    store.add_relation(sents[0].id, PassageRelation(SCRIPT, IMG, -1, annotator=b, note=MDIMG))
    store.add_relation(sents[2].id, PassageRelation(SVG, LATEX, 1, annotator=b))
    store.merge_concepts(SVG, DIRECTIVE)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with served_store(tmp_path_factory, "hostile", _hostile) as (url, _, _):
        yield url


def _inert(page, hits: list[str], dialogs: list[str], where: str) -> None:
    """Nothing ran anywhere on the page, and it is still usable."""
    from playwright.sync_api import expect

    wait_idle(page)
    page.wait_for_timeout(500)  # an onerror / onload would have fired by now
    for frame in page.frames:
        state = frame.evaluate("""() => ({title: document.title, flag: typeof window.__pwned,
            handlers: document.querySelectorAll('[onerror],[onload],[onclick],[onmouseover]').length,
            js: [...document.querySelectorAll('a[href]')].filter(a => /^\\s*javascript:/i.test(a.href)).length,
            sentinel: [...document.querySelectorAll('[src],[href]')].filter(
                e => /^[^#]*sentinel/.test(e.getAttribute('src') || e.getAttribute('href') || '')).length})""")
        assert "pwned" not in state["title"] and state["flag"] == "undefined", (where, frame.url, state)
        assert state["handlers"] == state["js"] == state["sentinel"] == 0, (where, frame.url, state)
    assert not hits and not dialogs, (where, hits, dialogs)
    assert page.title() == "fuzzymap" or page.title().endswith("fuzzymap"), page.title()
    expect(page.get_by_test_id("stException")).to_have_count(0)
    expect(page.get_by_test_id("stSidebarNav")).to_be_visible()
    primary = ".st-key-lb_save button" if where.startswith("Label") else "h1"  # the Label page has no title
    page.locator(primary).first.click(trial=True)  # visible, and nothing laid over it takes the click
    expect(page.get_by_test_id("stSidebar").get_by_text("Single-user mode (FUZZYMAP_AUTH=off)")).to_be_visible()
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], (where, width)  # a 10,000-character name does not widen the page


def test_every_page_renders_the_hostile_corpus_inert(app):
    from playwright.sync_api import expect

    expect.set_options(timeout=30_000)
    hits: list[str] = []
    dialogs: list[str] = []
    with chromium() as browser, browser_page(browser) as page:
        page.context.route(f"**/*{SENTINEL}*", lambda route: (hits.append(route.request.url), route.abort()))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(f"{app}/?annotator=reviewer")
        page.get_by_role("heading", name="Documents").wait_for()
        for name in PAGES:
            page.get_by_test_id("stSidebarNav").get_by_role("link", name=name, exact=True).click()
            wait_idle(page)
            _inert(page, hits, dialogs, name)
            if name == "Label":
                for _ in range(3):  # every sentence of the corpus, with its chips and suggestions
                    page.locator(".st-key-lb_next button").click()
                    wait_idle(page)
                    _inert(page, hits, dialogs, "Label, next sentence")
            if name == "Map":
                page.get_by_label("Concept", exact=True).click()
                page.keyboard.press("Enter")  # the first concept: the names sort markup first
                wait_idle(page)
                for tab in ("Evidence", "Merge concepts", "Scenario", "Metrics", "Download"):
                    page.get_by_role("tab", name=tab).click()
                    if tab == "Scenario":
                        page.get_by_label("Concepts to clamp", exact=True).click()
                        page.keyboard.press("Enter")
                        page.keyboard.press("Escape")
                    wait_idle(page)
                    _inert(page, hits, dialogs, f"Map, {tab}")
            if name == "Export":
                with page.expect_download() as download:
                    page.get_by_role("button", name="Download").first.click()
                suggested = download.value.suggested_filename
                assert set(suggested) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
                assert len(suggested) <= 100
                _inert(page, hits, dialogs, "Export, after download")
