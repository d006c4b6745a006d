"""Real Chromium: the Label page shows the PDF page with the current sentence highlighted."""
from __future__ import annotations

import io

import pytest

from app_server import served_store, wait_idle
from data.ingest import read_document
from test_pdf_layout import label, two_column_page_with_middle_float
from workspace.pageview import sentence_page

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with served_store(tmp_path_factory, "pageview") as (url, store, _):
        yield url, store


def amber(image) -> tuple[int, int, int, int] | None:
    """Bounding box of the highlight's colour in a screenshot (blended edges included)."""
    import numpy as np

    a = np.asarray(image.convert("RGB")).astype(int)
    mask = (a[..., 0] > 200) & (a[..., 1] > 150) & (a[..., 1] < 235) & (a[..., 2] < 120)
    ys, xs = np.nonzero(mask)
    return (xs.min(), ys.min(), xs.max(), ys.max()) if len(xs) else None


def test_pdf_page_shows_with_a_highlight_box_over_the_current_sentence(app, page):
    from PIL import Image
    from playwright.sync_api import expect

    url, store = app
    (doc_id,) = store.import_documents(read_document("layout.pdf", two_column_page_with_middle_float()))
    rows = store.sentences(doc_id)
    pos = next(i for i, r in enumerate(rows) if label(r.text) == "R" and r.page == 1)
    view = sentence_page(store, doc_id, rows[pos].id)
    page.goto(f"{url}/label?annotator=tom&doc={doc_id}&s={pos + 1}")
    page.get_by_text("Keys: 1–9").wait_for()
    expect(page.get_by_role("switch", name="Show the PDF page")).to_be_checked()  # on for a PDF
    img = page.locator(".st-key-lb_page_view img")
    img.wait_for()
    wait_idle(page)
    expect(page.get_by_text("Page 1", exact=True)).to_be_visible()
    shot = Image.open(io.BytesIO(img.screenshot()))
    scale = shot.width / view.size[0]
    want = [min(b[0] for b in view.boxes), min(b[1] for b in view.boxes),
            max(b[2] for b in view.boxes), max(b[3] for b in view.boxes)]
    got = amber(shot)
    assert got is not None, "no highlight on the page shown"
    # The highlight on screen is where the sentence's boxes say, within a few pixels.
    assert all(abs(g - w * scale) <= 4 for g, w in zip(got, want)), (got, [w * scale for w in want])
    assert got[0] > shot.width / 2 - 5  # a right-column sentence: nothing lit in the left column

    # The next sentence moves the highlight; switching the view off removes the page.
    page.keyboard.press("ArrowRight")
    expect(page.get_by_text(f"Sentence {pos + 2} of {len(rows)}", exact=False)).to_be_visible()
    wait_idle(page)
    moved = amber(Image.open(io.BytesIO(img.screenshot())))
    assert moved is not None and moved != got
    page.get_by_role("switch", name="Show the PDF page").click(force=True)
    expect(img).to_have_count(0)


def test_text_documents_start_with_the_page_view_off(app, page):
    from playwright.sync_api import expect

    url, store = app
    (doc_id,) = store.import_documents(read_document("notes.txt", b"Cod fell after the closure. Seals rose."))
    page.goto(f"{url}/label?annotator=tom&doc={doc_id}&s=1")
    page.get_by_text("Keys: 1–9").wait_for()
    expect(page.get_by_role("switch", name="Show the PDF page")).not_to_be_checked()
    expect(page.locator(".st-key-lb_page_view")).to_have_count(0)
