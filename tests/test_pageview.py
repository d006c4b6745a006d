"""The page beside the sentence: boxes kept at import, the page rendered with them highlighted."""
from __future__ import annotations

import io
import re

import pytest

from data.ingest import read_document
from data.store import Store
from test_pdf_layout import label, two_column_page_with_middle_float
from workspace.pageview import HIGHLIGHT, render_page, sentence_page
from workspace.suggest import suggest_missing


def imported(url: str):
    store = Store(url)
    docs = read_document("layout.pdf", two_column_page_with_middle_float())
    (doc_id,) = store.import_documents(docs)
    return store, doc_id, store.sentences(doc_id)


def dark_share(image, box) -> float:
    """Share of clearly dark (text) pixels inside a pixel box."""
    import numpy as np

    return float((np.asarray(image.convert("L").crop(box)) < 128).mean())


def test_a_right_column_sentence_is_highlighted_over_its_own_text(url):
    from PIL import Image

    store, doc_id, rows = imported(url)
    right = next(r for r in rows if label(r.text) == "R" and r.page == 1)
    view = sentence_page(store, doc_id, right.id, width=800)
    assert view is not None and view.page == 1 and view.boxes
    w, h = view.size
    # Every box lies in the right column (right of the page middle) and on text.
    plain, _ = render_page(store.document_pdf(doc_id), 1, 800)
    for x0, y0, x1, y1 in view.boxes:
        assert x0 > w / 2 - 5 and x1 < w and 0 < y0 < y1 < h
        assert dark_share(plain, (x0, y0, x1, y1)) > 0.03
    # The highlight is drawn there, and nowhere in the left column.
    shown = Image.open(io.BytesIO(view.png)).convert("RGB")
    x0, y0, x1, y1 = view.boxes[0]
    edge = [shown.getpixel((x, y0 + 1)) for x in range(x0 + 2, x1 - 2)]
    assert sum(p == HIGHLIGHT for p in edge) > 0.5 * len(edge)
    left = shown.crop((0, 0, w // 2 - 20, h))
    assert HIGHLIGHT not in {c for _, c in left.getcolors(1 << 20)}
    store.close()


COD = "Cod landings fell after the closure of the bay."
SEALS = "Seals ate more herring in the cold winter."


def turned_pdf(rotation: int, lines: list[tuple[float, float, str]]) -> bytes:
    """One A4 page shown turned by `rotation` (/Rotate), with text drawn upright in the unturned
    page: reportlab then makes the media box landscape for a quarter turn (842 x 595 pt), so the
    lines sit inside 595 pt of height."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1)
    c.setPageRotation(rotation)
    c.setFont("Helvetica", 10)
    for x, y, text in lines:
        c.drawString(x, y, text)
    c.showPage()
    c.save()
    return buf.getvalue()


def dark_pixels(image):
    """(x, y) of every clearly dark pixel."""
    import numpy as np

    ys, xs = np.nonzero(np.asarray(image.convert("L")) < 128)
    return list(zip(xs.tolist(), ys.tolist()))


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_the_highlight_follows_a_page_rotated_for_display(rotation, tmp_path):
    lines = [(72, 400, COD), (300, 200, SEALS)]
    store = Store(f"sqlite:///{tmp_path / 'r.db'}")
    (doc_id,) = store.import_documents(read_document("turned.pdf", turned_pdf(rotation, lines)))
    rows = store.sentences(doc_id)
    assert [r.text for r in rows] == [COD, SEALS]
    plain, turned = render_page(store.document_pdf(doc_id), 1, 600)
    assert turned == rotation
    for row, line in zip(rows, lines):
        view = sentence_page(store, doc_id, row.id, width=600)
        assert view is not None and len(view.boxes) == 1 and view.size == plain.size
        x0, y0, x1, y1 = view.boxes[0]
        assert (x1 - x0 > y1 - y0) == (rotation in (0, 180))  # the line runs across or down the image
        # The box holds the sentence's own ink: every dark pixel of a page with only this line
        # (same place, same turn), and on the full page no ink of the other line.
        alone, _ = render_page(turned_pdf(rotation, [line]), 1, 600)
        ink = dark_pixels(alone)
        assert len(ink) > 200
        inside = sum(x0 <= x <= x1 and y0 <= y <= y1 for x, y in ink)
        assert inside >= 0.98 * len(ink)
        others = set(dark_pixels(plain)) - set(ink)
        assert others and not any(x0 <= x <= x1 and y0 <= y <= y1 for x, y in others)
    store.close()


def test_text_files_and_sentences_without_boxes_have_no_page(url):
    store = Store(url)
    (doc_id,) = store.import_documents(read_document("notes.txt", b"Cod fell. Seals rose."))
    rows = store.sentences(doc_id)
    assert store.document_pdf(doc_id) is None and store.sentence_boxes(rows[0].id) == []
    assert sentence_page(store, doc_id, rows[0].id) is None
    store.close()


def test_deleting_a_document_removes_its_pdf_and_boxes(url):
    store, doc_id, rows = imported(url)
    store.delete_document(doc_id)
    assert store.document_pdf(doc_id) is None and store.sentence_boxes(rows[0].id) == []
    store.close()


class _Recorder:
    """A suggestion source that records what it is asked."""

    cheap = True
    note = ""

    def __init__(self):
        self.asked: list[str] = []

    def suggest(self, texts, llms):
        self.asked += texts
        return [[] for _ in texts]


def test_reference_list_sentences_are_never_put_to_the_model(url):
    store, doc_id, rows = imported(url)
    refs = [r for r in rows if r.is_reference]
    assert len(refs) == 5
    source = _Recorder()
    suggest_missing(store, rows, source, set())
    assert source.asked and not set(source.asked) & {r.text for r in refs}
    assert any(label(t) == "R" for t in source.asked)
    store.close()


def test_a_database_from_before_the_page_view_gains_its_tables(tmp_path):
    from sqlalchemy import create_engine, inspect

    from data.schema import MIGRATIONS, _add_page_view_tables

    url = f"sqlite:///{tmp_path / 'old.db'}"
    Store(url).close()
    engine = create_engine(url)
    before = MIGRATIONS.index(_add_page_view_tables) + 1  # the version the page view upgrades
    with engine.begin() as c:  # back to that version: no page-view tables
        c.exec_driver_sql("DROP TABLE sentence_boxes")
        c.exec_driver_sql("DROP TABLE document_files")
        c.exec_driver_sql(f"UPDATE schema_version SET version = {before}")
    store, doc_id, rows = imported(url)
    assert {"sentence_boxes", "document_files"} <= set(inspect(engine).get_table_names())
    assert store.sentence_boxes(rows[0].id) and store.document_pdf(doc_id)
    store.close()
    engine.dispose()


def test_label_page_marks_reference_sentences_and_next_unlabeled_skips_them(tmp_path, monkeypatch):
    from app_server import app_test

    db = tmp_path / "label.db"
    monkeypatch.setenv("FUZZYMAP_MODEL", str(tmp_path / "no-model"))
    store, doc_id, rows = imported(f"sqlite:///{db}")
    first_ref = next(i for i, r in enumerate(rows) if r.is_reference)
    at = app_test(str(db), "pages/label.py", query={"doc": str(doc_id), "s": str(first_ref + 1)})
    assert not at.exception
    captions = [c.value for c in at.caption]
    assert any(c.startswith(f"Sentence {first_ref + 1} of") and c.endswith("· reference list") for c in captions)
    assert at.toggle(key=f"lb_page_view_{doc_id}").value  # a PDF: the page is shown
    assert len(at.get("image")) == 1
    # From the last body sentence, "next unlabeled" passes over the whole reference list.
    at = app_test(str(db), "pages/label.py", query={"doc": str(doc_id), "s": str(first_ref)})
    at.button(key="lb_next_unlabeled").click().run()
    (now,) = [int(m.group(1)) for c in at.caption if (m := re.match(r"Sentence (\d+) of", c.value))]
    assert now != first_ref and not rows[now - 1].is_reference
    store.close()
