"""A PDF page as an image with one sentence's boxes drawn on it, for the Label page.

Pages are rendered with pypdfium2 and kept in memory by (file hash, page, width), so
moving between sentences of one page renders it once; the highlight is drawn on a copy each time.
Box coordinates are fractions of the page (data.blocks.Box), so they scale to any render width.
"""
from __future__ import annotations

import hashlib
import io
import threading
from collections import OrderedDict
from dataclasses import dataclass

from data.pdf import PDFIUM_LOCK

HIGHLIGHT = (255, 200, 0)  # amber, visible on white paper and black text


@dataclass
class PageView:
    page: int
    png: bytes
    boxes: list[tuple[int, int, int, int]]  # the highlight boxes in image pixels (x0, y0, x1, y1)
    size: tuple[int, int]


def render_page(pdf: bytes, page: int, width: int) -> tuple[object, int]:
    """Page `page` (1-based) of a PDF as a PIL image (`width` pixels per page width) and the
    page's rotation in degrees clockwise, which pdfium applies when rendering."""
    import pypdfium2 as pdfium

    with PDFIUM_LOCK:
        doc = pdfium.PdfDocument(pdf)
        try:
            p = doc[page - 1]
            image = p.render(scale=width / p.get_width()).to_pil().convert("RGB")
            rotation = p.get_rotation()
            p.close()
        finally:
            doc.close()
    return image, rotation


def turn_boxes(boxes: list[list[float]], rotation: int) -> list[list[float]]:
    """Boxes of the unrotated page (as text is read) where a page shown turned clockwise by
    `rotation` degrees has them."""
    out = []
    for p, x0, top, x1, bottom in boxes:
        for _ in range(rotation // 90 % 4):  # a quarter turn clockwise: (x, y) -> (1 - y, x)
            x0, top, x1, bottom = 1 - bottom, x0, 1 - top, x1
        out.append([p, x0, top, x1, bottom])
    return out


_CACHE: OrderedDict[tuple[str, int, int], tuple[object, int]] = OrderedDict()
_CACHE_SIZE = 32
_CACHE_LOCK = threading.Lock()


def cached_page(pdf: bytes, page: int, width: int):
    """render_page, remembered for the last pages asked for (keyed by the file's hash, so a
    document deleted and another stored under its id never shows the old pages)."""
    key = (hashlib.sha256(pdf).hexdigest(), page, width)
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    image = render_page(pdf, page, width)
    with _CACHE_LOCK:
        _CACHE[key] = image
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return image


def highlight_boxes(image, boxes: list[list[float]], page: int) -> tuple[object, list[tuple[int, int, int, int]]]:
    """A copy of the page image with the boxes of `page` filled translucently and outlined.
    Only the boxes' pixels are blended: the whole page would cost tens of ms per key press."""
    from PIL import Image, ImageDraw

    w, h = image.size
    pixels = [(max(0, round(x0 * w) - 2), max(0, round(top * h) - 1),
               min(w - 1, round(x1 * w) + 2), min(h - 1, round(bottom * h) + 1))
              for p, x0, top, x1, bottom in boxes if p == page]
    marked = image.copy()
    for box in pixels:
        region = marked.crop((box[0], box[1], box[2] + 1, box[3] + 1))
        tint = Image.new("RGB", region.size, HIGHLIGHT)
        marked.paste(Image.blend(region, tint, 0.35), box[:2])
    draw = ImageDraw.Draw(marked)
    for box in pixels:
        draw.rectangle(box, outline=HIGHLIGHT, width=2)
    return marked, pixels


def sentence_page(store, document_id: int, sentence_id: int, width: int = 900) -> PageView | None:
    """The page a sentence starts on with the sentence highlighted; None when the document has
    no PDF or the sentence no boxes."""
    boxes = store.sentence_boxes(sentence_id)
    if not boxes:
        return None
    page = int(boxes[0][0])
    pdf = store.document_pdf(document_id)
    if pdf is None:
        return None
    image, rotation = cached_page(pdf, page, width)
    marked, pixels = highlight_boxes(image, turn_boxes(boxes, rotation), page)
    buf = io.BytesIO()
    marked.save(buf, format="PNG", compress_level=1)  # fast: this runs on every key press
    return PageView(page, buf.getvalue(), pixels, marked.size)
