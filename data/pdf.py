"""PDF text in reading order: columns, running headers and footers, hyphenation, metadata.

Text runs and their boxes come from pdfium (pypdfium2, which pdfplumber itself depends on): it
reads a dense two-column page in ~20 ms of CPU, where pdfplumber/pdfminer took ~0.4 s a page on
the same machine, far from the 20 pages/s the upload page needs (see bench/ingest.py). Layout is
rebuilt from the boxes in Python, per page and per text run (a run is one PDF text object:
usually a line or a word); only pages set sideways are read per character:

1. runs -> visual rows (same baseline);
2. rows repeating at the top or bottom of most pages (digits ignored) and bare page numbers are
   dropped;
3. a gutter is a vertical strip in the middle of the page that (almost) no run covers; rows not
   crossing it are read left column first, then right column, full-width rows (titles, abstracts,
   wide figure and table captions) in place, so each band between full-width blocks is read
   column by column;
4. lines -> paragraphs on larger vertical gaps, first-line indents, bullets, numbered entries and
   lines that end early; paragraphs flow across column and page breaks, also past a float that
   interrupts them mid-sentence.

Every run keeps its box on the page, so each sentence knows where it is drawn (Block.boxes).
"""
from __future__ import annotations

import ctypes
import math
import re
import statistics
import threading
from collections import Counter
from dataclasses import dataclass

import numpy as np

from core.errors import InputError
from data.blocks import Block, Box, clean, is_caption, is_heading, is_table, join_lines, vocabulary

PDFIUM_LOCK = threading.Lock()  # pdfium is not thread-safe; Streamlit serves sessions in threads
MAX_PDF_PAGES = 5000
_BARE_NUMBER = re.compile(r"^(?:page\s*)?(?:\d{1,4}|[ivxlc]{1,6})(?:\s*(?:/|of)\s*\d{1,4})?$", re.I)
_DIGITS = re.compile(r"\d+")
# A numbered list entry ("12. Smith, A.", "[3] Smith"): reference lists set them flush left.
_ENTRY = re.compile(r"^(?:\[\d{1,3}\]|\d{1,3}\.)\s+[A-Z\u00c0-\u024f]")
_BULLETS = "\u2022\u2023\u25aa\u25e6\u2013\u2014\u25cf\u25a0*"
_PLACEHOLDERS = {"", "untitled", "anonymous", "(unspecified)", "unspecified", "unknown", "none"}


@dataclass
class _Run:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    page_box: Box  # x0, top, x1, bottom as drawn, in fractions of the page's width and height

    @property
    def height(self) -> float:
        return self.bottom - self.top


@dataclass
class _Row:
    runs: list[_Run]

    @property
    def text(self) -> str:
        return _join_runs(self.runs)


@dataclass
class _Line:
    text: str
    x0: float
    x1: float
    top: float
    height: float
    page: int
    section: int  # lines of one column of a stretch, or of consecutive full-width rows
    column: int  # 0 full width (or one-column page), 1 left, 2 right
    boxes: list[tuple[int, int, Box]]  # each run's (start, end) in text and its page_box


def _join_runs(runs: list[_Run]) -> str:
    return _join_spans(runs)[0]


def _join_spans(runs: list[_Run]) -> tuple[str, list[tuple[int, int, Box]]]:
    """Runs of one row, left to right; a space only where there is a visible gap. Also where
    each run's text lies in the row's text, with its box on the page."""
    out = ""
    spans = []
    prev: _Run | None = None
    for run in sorted(runs, key=lambda r: r.x0):
        if out and out[-1] in "\x02\ufffe":  # pdfium's line-end hyphen mark, but the line goes on
            out = out[:-1] + "-"
        if prev is not None and run.x0 - prev.x1 > 0.15 * max(run.height, prev.height):
            out += " "
        spans.append((len(out), len(out) + len(run.text), run.page_box))
        out += run.text
        prev = run
    return out, spans


def _page_angle(textpage) -> float:
    """The text direction most characters of the page share (radians, pdfium's convention);
    a sample of characters is enough and keeps this cheap."""
    import pypdfium2.raw as raw

    n = textpage.count_chars()
    angles = Counter(round(raw.FPDFText_GetCharAngle(textpage.raw, i), 1)
                     for i in range(0, n, max(1, n // 200)))
    return angles.most_common(1)[0][0] if angles else 0.0


def _turned_runs(textpage, width: float, height: float, turned: int) -> list[_Run]:
    """Words of a page set sideways, built from single characters.

    pdfium's runs follow the order characters were written in, which on such pages (a rotated
    table with maths in its caption) is not always reading order; characters placed one by one
    and sorted along their line are. `turned` is 1 for text read top to bottom (pdfium angle
    pi/2), -1 for bottom to top (3 pi/2).
    """
    import pypdfium2.raw as raw

    box = [ctypes.c_double() for _ in range(4)]
    chars = []  # (across top, across bottom, along start, along end, char, page box)
    for i in range(textpage.count_chars()):
        ch = chr(raw.FPDFText_GetUnicode(textpage.raw, i) or 32)
        if ch.isspace() or not raw.FPDFText_GetCharBox(textpage.raw, i, *map(ctypes.byref, box)):
            continue
        left, right, bottom, top = (b.value for b in box)
        upright = min(raw.FPDFText_GetCharAngle(textpage.raw, i) % (2 * math.pi),
                      -raw.FPDFText_GetCharAngle(textpage.raw, i) % (2 * math.pi)) < 0.3
        if right - left <= 0 or top - bottom <= 0 or upright:
            continue  # upright text on a turned page (a page number) and empty boxes
        page_box = (left / width, (height - top) / height, right / width, (height - bottom) / height)
        if turned == 1:  # read top to bottom, next line to the left
            chars.append((width - right, width - left, height - top, height - bottom, ch, page_box))
        else:  # read bottom to top, next line to the right
            chars.append((left, right, bottom, top, ch, page_box))
    if not chars:
        return []
    lines: list[list[tuple]] = []
    band = (0.0, 0.0)
    # A char joins the line whose band holds most of it: full stops and commas sit at one edge.
    for c in sorted(chars, key=lambda c: (c[0] + c[1]) / 2):
        if lines and min(band[1], c[1]) - max(band[0], c[0]) > 0.5 * (c[1] - c[0]):
            lines[-1].append(c)
            band = (min(band[0], c[0]), max(band[1], c[1]))
        else:
            lines.append([c])
            band = (c[0], c[1])
    runs = []
    for line in lines:
        em = max(c[1] - c[0] for c in line)  # the line's height: ascenders to descenders
        word: list[tuple] = []
        for c in sorted(line, key=lambda c: c[2]) + [None]:
            gap = 0.0 if c is None or not word else c[2] - word[-1][3]
            # Glyph boxes are tight, so a full stop or comma sits apart from its word.
            if word and (c is None or gap > (0.45 if c[4] in ".,;:)]%" else 0.2) * em):
                boxes = [w[5] for w in word]
                runs.append(_Run(clean("".join(w[4] for w in word)), word[0][2], word[-1][3],
                                 min(w[0] for w in word), max(w[1] for w in word),
                                 (min(b[0] for b in boxes), min(b[1] for b in boxes),
                                  max(b[2] for b in boxes), max(b[3] for b in boxes))))
                word = []
            if c is not None:
                word.append(c)
    return [r for r in runs if r.text]


def _page_runs(textpage, width: float, height: float) -> list[_Run]:
    """Text runs with top-down coordinates in reading direction.

    On a page of upright text, vertical runs (margin stamps) are left out. A page whose text is
    mostly turned a quarter (a landscape table set sideways) is read in its own direction
    (_turned_runs), so rows and columns work as on an upright page; `page_box` keeps where each
    run is drawn.
    """
    import pypdfium2.raw as raw

    angle = _page_angle(textpage)
    if abs(angle - math.pi / 2) < 0.3 or abs(angle - 3 * math.pi / 2) < 0.3:
        return _turned_runs(textpage, width, height, 1 if angle < math.pi else -1)
    # FPDFText_GetBoundedText scans every char of the page, so call it once per run (pypdfium2's
    # wrapper calls it twice) with one buffer big enough for the whole page.
    size = textpage.count_chars() + 1
    buf = ctypes.create_string_buffer(2 * size)
    ptr = ctypes.cast(buf, ctypes.POINTER(ctypes.c_ushort))
    runs = []
    for i in range(textpage.count_rects()):
        left, bottom, right, top = textpage.get_rect(i)
        h = top - bottom
        if h <= 0 or right <= left:
            continue
        # pdfium selects every char whose box touches the rectangle: trim the top, where accents
        # of this line meet descenders of the line above, and the sides, where runs touch.
        n = raw.FPDFText_GetBoundedText(textpage.raw, left + 0.05 * h, top - 0.25 * h,
                                        right - 0.05 * h, bottom, ptr, size)
        text = clean(buf.raw[:2 * n].decode("utf-16-le", errors="replace").replace("\x00", ""))
        if not text or (h > 3 * (right - left) and len(text) > 2):
            continue
        box = (left / width, (height - top) / height, right / width, (height - bottom) / height)
        runs.append(_Run(text, left, right, height - top, height - bottom, box))
    return runs


def _rows(runs: list[_Run]) -> list[_Row]:
    """Group runs that overlap vertically by at least half the smaller height (one baseline);
    superscripts and words without ascenders join their line."""
    rows: list[_Row] = []
    top = bottom = 0.0
    for run in sorted(runs, key=lambda r: r.top):
        overlap = min(bottom, run.bottom) - max(top, run.top)
        if rows and overlap > 0.5 * min(bottom - top, run.height):
            rows[-1].runs.append(run)
            bottom = max(bottom, run.bottom)
        else:
            rows.append(_Row([run]))
            top, bottom = run.top, run.bottom
    return rows


def _edge_key(text: str) -> str:
    return _DIGITS.sub("#", text.lower().replace(" ", ""))


def _drop_running(pages: list[list[_Row]]) -> list[list[_Row]]:
    """Remove running headers/footers (repeated on most pages, digits ignored) and page numbers."""
    counts: dict[str, int] = {}
    for rows in pages:
        for key in {_edge_key(r.text) for r in rows[:2] + rows[-2:]}:
            counts[key] = counts.get(key, 0) + 1
    need = max(2, 0.4 * len(pages))
    out = []
    for rows in pages:
        n = len(rows)
        keep = []
        for i, row in enumerate(rows):
            edge = i < 2 or i >= n - 2
            text = row.text
            if edge and (_BARE_NUMBER.match(text) or (len(pages) > 1
                                                       and counts[_edge_key(text)] >= need)):
                continue
            keep.append(row)
        out.append(keep)
    return out


def _gutter(rows: list[_Row]) -> tuple[float, float] | None:
    """The (x0, x1) of a column gutter, or None for a one-column page.

    Coverage = how many rows have text over each x. In a two-column layout it drops, in the middle
    of the text, to the number of full-width rows (title, abstract) over a strip at least 6 pt
    wide; at least a fifth of the rows must be split by that strip.
    """
    runs = [r for row in rows for r in row.runs]
    if len(rows) < 4:
        return None
    lo = min(r.x0 for r in runs)
    width = max(r.x1 for r in runs) - lo
    if width < 150:
        return None
    cover = np.zeros(int(width) + 2)
    np.add.at(cover, np.array([int(r.x0 - lo) for r in runs]), 1)
    np.add.at(cover, np.array([int(r.x1 - lo) + 1 for r in runs]), -1)
    cover = np.cumsum(cover)[:-1]
    a, b = int(0.3 * width), int(0.7 * width)
    middle = cover[a:b]
    low = middle.min()
    if len(rows) - low < max(3, 0.2 * len(rows)):
        return None
    ok = middle <= low + max(1, 0.03 * len(rows))
    # the longest run of low coverage
    best, start = (0, 0), None
    for i, flag in enumerate(np.append(ok, False)):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            best = max(best, (i - start, start))
            start = None
    length, s = best
    if length < 6:
        return None
    g0, g1 = lo + a + s, lo + a + s + length
    # Wider than the spaces between words (pages drawn word by word have many such gaps).
    gaps = []
    for row in rows:
        xs = sorted(row.runs, key=lambda r: r.x0)
        gaps += [b.x0 - a.x1 for a, b in zip(xs, xs[1:])
                 if a.x1 < b.x0 and not (a.x1 < g1 and b.x0 > g0)]  # not the gutter itself
    # (Only where most rows have such gaps: a table's cells or side-by-side author blocks are few.)
    if len(gaps) >= len(rows) and length < 2 * statistics.median(gaps):
        return None
    # A right column has a left edge: most rows with text right of the strip start right at it
    # (code listings and tables with a blank strip do not).
    em = statistics.median(r.height for r in runs)
    starts = [min(r.x0 for r in row.runs if r.x0 >= g1 - 1) for row in rows
              if any(r.x0 >= g1 - 1 for r in row.runs)]
    if sum(abs(x - g1) < em for x in starts) < max(3, 0.5 * len(starts)):
        return None
    return g0, g1


def _document_gutter(pages: list[list[_Row]]) -> list[tuple[float, float] | None]:
    """Each page's gutter; a page too short to measure one (a last page with a few lines per
    column) takes the gutter most pages share, unless some of its text runs across it."""
    gutters = [_gutter(rows) for rows in pages]
    found = [g for g in gutters if g is not None]
    if not found or len(found) < 0.5 * sum(1 for rows in pages if rows):
        return gutters
    g0 = statistics.median(g[0] for g in found)
    g1 = statistics.median(g[1] for g in found)
    mid = (g0 + g1) / 2
    return [g if g is not None or any(r.x0 < mid < r.x1 for row in rows for r in row.runs)
            else (g0, g1) for g, rows in zip(gutters, pages)]


def _order(rows: list[_Row], gutter: tuple[float, float] | None, page: int,
           section: int) -> tuple[list[_Line], int]:
    """Lines of a page in reading order: two-column stretches column by column."""
    lines: list[_Line] = []
    stretch: tuple[list[_Line], list[_Line]] = ([], [])

    def line(runs: list[_Run], col: int) -> _Line:
        text, spans = _join_spans(runs)
        return _Line(text, min(r.x0 for r in runs), max(r.x1 for r in runs),
                     min(r.top for r in runs), max(r.height for r in runs), page, section, col, spans)

    full_open = False  # whether the last section is full-width rows still being added to

    def flush() -> None:
        nonlocal section, full_open
        for col in stretch:
            if col:
                section += 1
                full_open = False
                for ln in col:
                    ln.section = section
                lines.extend(col)
                col.clear()

    for row in rows:
        if gutter is not None:
            g0, g1 = gutter
            mid = (g0 + g1) / 2
            left = [r for r in row.runs if r.x1 <= mid]
            right = [r for r in row.runs if r.x0 >= mid]
            gap = (min(r.x0 for r in right) if right else g1) - (max(r.x1 for r in left) if left else g0)
            # The short last line of a full-width paragraph (abstract, caption) stays with it.
            last = lines[-1] if full_open and lines and not any(stretch) else None
            tail = (last is not None and left and not right
                    and abs(min(r.x0 for r in left) - last.x0) < 2
                    and 0 <= min(r.top for r in left) - last.top < 1.6 * last.height)
            if len(left) + len(right) == len(row.runs) and gap >= 0.6 * (g1 - g0) and not tail:
                if left:
                    stretch[0].append(line(left, 1))
                if right:
                    stretch[1].append(line(right, 2))
                continue
        flush()
        if not full_open:
            section += 1
            full_open = True
        lines.append(line(row.runs, 0))
    flush()
    return lines, section


def _paragraphs(lines: list[_Line]) -> list[list[_Line]]:
    """Split the reading-order lines into paragraphs.

    Run boxes are tight around the glyphs (a line without descenders is shorter), so sizes come
    from document-wide medians: the line pitch and the line height. A column's left edge is where
    most of its lines start (headings may stick out), its right edge where the longest ends.
    """
    if not lines:  # only running headers and page numbers
        return []
    groups: dict[tuple[int, int], list[_Line]] = {}
    for ln in lines:
        groups.setdefault((ln.page, ln.column), []).append(ln)
    left = {k: Counter(round(ln.x0) for ln in ls).most_common(1)[0][0] for k, ls in groups.items()}
    right = {k: max(ln.x1 for ln in ls) for k, ls in groups.items()}
    em = statistics.median(ln.height for ln in lines)
    pitches = [b.top - a.top for a, b in zip(lines, lines[1:])
               if a.section == b.section and b.top > a.top]
    pitch = statistics.median(pitches) if pitches else 1.2 * em
    paras: list[list[_Line]] = []
    prev: _Line | None = None
    for ln in lines:
        new = prev is None
        if prev is not None:
            key, prev_key = (ln.page, ln.column), (prev.page, prev.column)
            # The previous line ended on purpose if the next line's first word would have fit.
            word = ln.text.split(" ", 1)[0]
            word_width = (len(word) + 1) * (ln.x1 - ln.x0) / max(len(ln.text), 1)
            short_end = (right[prev_key] - prev.x1 > word_width + em
                         and (prev.text[-1:] in ".!?:" or ln.text[:1].isupper()))
            indented = (ln.x0 > left[key] + 0.8 * em and abs(ln.x0 - prev.x0) > 0.8 * em
                        and prev.text[:1] not in _BULLETS)  # not a bullet's hanging indent
            # A line that is a section name ("Acknowledgements", "4 References") stands alone.
            named = is_heading(ln.text, standalone=False) or is_heading(prev.text, standalone=False)
            new = named or short_end or indented or ln.text[:1] in _BULLETS or (
                bool(_ENTRY.match(ln.text)) and prev.text[-1:] in ".)0123456789")
            if ln.section != prev.section:  # column or page break: text may flow on
                new = new or (ln.column == 0) != (prev.column == 0)
            else:
                gap = ln.top - prev.top
                new = new or gap > 1.3 * pitch or gap < 0
        if new:
            paras.append([ln])
        else:
            paras[-1].append(ln)
        prev = ln
    return paras


def _is_float(para: list[_Line]) -> bool:
    """A caption, table cells or a figure's labels: what a float puts between the two halves of
    a paragraph broken by it."""
    text = " ".join(ln.text for ln in para)
    return (is_caption(text) or is_table(text)
            or (len(para) == 1 and len(text.split()) <= 4 and text[-1:] not in ".!?"))


def _floats_aside(paras: list[list[_Line]]) -> list[list[_Line]]:
    """A paragraph that stops mid-sentence at a float (a figure at the top of the next column or
    page) and goes on after it is joined up again; the float follows it."""
    out: list[list[_Line]] = []
    i = 0
    while i < len(paras):
        j = i
        while j < len(paras) and _is_float(paras[j]):
            j += 1
        if (j > i and out and j < len(paras) and out[-1][-1].text[-1:] not in ".!?:"
                and paras[j][0].text[:1].islower()):
            out[-1] = out[-1] + paras[j]
            out.extend(paras[i:j])
            i = j + 1
            continue
        out.append(paras[i])
        i += 1
    return out


def _line_boxes(lines: list[_Line], starts: list[int]) -> list[tuple[int, int, int, Box]]:
    """(start, end, page, box) of every run of the lines, offsets in their joined text."""
    return [(at + a, at + b, ln.page, box) for ln, at in zip(lines, starts) for a, b, box in ln.boxes]


def _blocks(paras: list[list[_Line]], vocab: set[str]) -> list[Block]:
    blocks = []
    for para in paras:
        first = para[0].text
        if is_heading(first, standalone=len(para) == 1):
            blocks.append(Block(clean(first), [(0, para[0].page)], heading=True))
            para = para[1:]
            if not para:
                continue
        text, starts = join_lines([ln.text for ln in para], vocab)
        pages = [(s, ln.page) for i, (s, ln) in enumerate(zip(starts, para))
                 if i == 0 or ln.page != para[i - 1].page]
        blocks.append(Block(text, pages, boxes=_line_boxes(para, starts)))
    return blocks


def _year(date: str) -> int | None:
    m = re.match(r"(?:D:)?((?:19|20)\d\d)", date or "")
    return int(m.group(1)) if m else None


def _metadata(meta: dict[str, str]) -> tuple[str | None, str | None, int | None]:
    """Title, authors and year from the PDF info dictionary.

    Placeholders that tools write (reportlab's "untitled", a file name, a publisher's PII or DOI)
    count as absent. The year is the file's creation year: a re-saved copy gives the save year.
    """
    def value(key: str) -> str | None:
        v = clean(meta.get(key) or "")
        v = re.sub(r"^Microsoft (?:Word|PowerPoint) - ", "", v)
        if (v.lower() in _PLACEHOLDERS or len(v) < 3 or re.match(r"(?:PII|doi)\b", v, re.I)
                or re.search(r"\.(?:docx?|tex|dvi|pdf)$", v, re.I)):
            return None
        return v

    return value("Title"), value("Author"), _year(meta.get("CreationDate", "") or meta.get("ModDate", ""))


def read_pdf(name: str, content: bytes) -> tuple[list[Block], dict, list[str]]:
    """Blocks in reading order, metadata (title, authors, year) and warnings for one PDF."""
    import pypdfium2 as pdfium

    if b"%PDF-" not in content[:1024]:
        raise InputError(name, "is not a PDF file (no %PDF header)")
    with PDFIUM_LOCK:
        try:
            doc = pdfium.PdfDocument(content)
        except pdfium.PdfiumError as err:
            if "password" in str(err).lower():
                raise InputError(name, "is encrypted (password protected); upload an unlocked copy") from None
            raise InputError(name, "is not a readable PDF (corrupt or truncated file)") from None
        try:
            n_pages = len(doc)
            if n_pages == 0:
                raise InputError(name, "has no pages (corrupt or truncated PDF)")
            if n_pages > MAX_PDF_PAGES:  # a page tree can repeat one small page any number of times
                raise InputError(name, f"has {n_pages} pages, over the limit of {MAX_PDF_PAGES}")
            meta = doc.get_metadata_dict()
            pages: list[list[_Row]] = []
            for i in range(n_pages):
                page = doc[i]
                textpage = page.get_textpage()
                width, height = page.get_size()
                if page.get_rotation() in (90, 270):  # pdfium's size is the page as shown, turned;
                    width, height = height, width     # the char boxes are in the unturned page
                pages.append(_rows(_page_runs(textpage, width, height)))
                textpage.close()
                page.close()
        except pdfium.PdfiumError:
            raise InputError(name, "is not a readable PDF (corrupt page content)") from None
        finally:
            doc.close()
    empty = [i + 1 for i, rows in enumerate(pages) if not rows]
    if len(empty) == n_pages:
        raise InputError(name, "has no text layer (image-only or blank PDF); run OCR on it first")
    warnings = []
    if empty:
        warnings.append(f"pages {', '.join(map(str, empty))} have no text layer (scanned images?); "
                        "their content is missing")
    lines: list[_Line] = []
    section = 0
    pages = _drop_running(pages)
    for i, (rows, gutter) in enumerate(zip(pages, _document_gutter(pages))):
        page_lines, section = _order(rows, gutter, i + 1, section)
        lines.extend(page_lines)
    blocks = _blocks(_floats_aside(_paragraphs(lines)), vocabulary([ln.text for ln in lines]))
    title, authors, year = _metadata(meta)
    return blocks, {"title": title, "authors": authors, "year": year}, warnings
