"""Generated two-column papers with full-width floats, for reading-order benches and tests.

Drawn with reportlab (a test/bench dependency) frame by frame, so the layout is known: a title,
author blocks side by side and a full-width abstract on page 1, then two-column bands with
full-width tables and figures (with captions) at the top, middle or bottom of pages, running
headers, page numbers and a numbered "References" section at the end.
"""
from __future__ import annotations

import io
import random

_NOUNS = ["turbine", "seabed", "sediment", "porpoise", "cod", "mussel", "plaice", "sandeel", "cable",
          "trawler", "larva", "reef", "scour", "monopile", "harbour", "seal", "plankton", "lobster",
          "estuary", "dredger", "survey", "station", "catch", "habitat", "noise", "current"]
_ADJS = ["benthic", "coastal", "offshore", "seasonal", "juvenile", "turbid", "northern", "shallow",
         "acoustic", "sandy", "tidal", "local", "annual", "pelagic", "mixed", "deep"]
_VERBS = ["increased", "reduced", "shifted", "followed", "preceded", "matched", "exceeded",
          "displaced", "attracted", "sheltered", "dominated", "limited"]


def sentence(rng: random.Random, words: tuple[list[str], list[str], list[str]] | None = None) -> str:
    """One plain sentence of 14-22 words, unique enough that 12-word runs rarely repeat."""
    nouns, adjs, verbs = words or (_NOUNS, _ADJS, _VERBS)
    out = [f"{rng.choice(adjs)} {rng.choice(nouns)}" for _ in range(2)]
    out.insert(1, rng.choice(verbs))
    while sum(len(p.split()) for p in out) < rng.randint(14, 22):
        out.append(rng.choice(["near the", "after the", "with", "and the", "at", "over"]))
        out.append(f"{rng.choice(adjs)} {rng.choice(nouns)} {rng.randint(2, 99)}")
    text = " ".join(out)
    return text[0].upper() + text[1:] + "."


def paragraph(rng: random.Random, n: int, words=None) -> str:
    return " ".join(sentence(rng, words) for _ in range(n))


def make_float_paper(pages: int = 6, seed: int = 0) -> bytes:
    """A two-column paper of about `pages` pages of sections whose floats span both columns."""
    from reportlab.lib.enums import TA_JUSTIFY
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.pdfgen import canvas
    from reportlab.platypus import Frame, Paragraph, Spacer, Table

    rng = random.Random(seed)
    styles = getSampleStyleSheet()
    body, head = styles["BodyText"], styles["Heading2"]
    body.alignment = TA_JUSTIFY
    width, height = A4
    margin, gutter = 50, 18
    col = (width - 2 * margin - gutter) / 2
    full = width - 2 * margin

    story = []
    for section in range(1, pages + 1):
        story.append(Paragraph(f"{section} Section {rng.choice(_ADJS)} {rng.choice(_NOUNS)}s", head))
        story += [Paragraph(paragraph(rng, rng.randint(3, 6)), body) for _ in range(4)]
    story.append(Paragraph(f"{pages + 1} References", head))
    for i in range(24):
        story.append(Paragraph(f"Author{i}, A. and Other, B. ({1990 + i}). {sentence(rng)} "
                               f"Marine Ecology Progress Series {100 + i}, {i + 1}-{i + 20}.", body))

    def float_block(number: int) -> list:
        if number % 2:
            rows = [["Site", "Year", "Cod", "Plaice", "Seals"]] + [
                [f"S{r}", str(2010 + r), f"{rng.uniform(0, 9):.2f}", f"{rng.uniform(0, 9):.2f}",
                 str(rng.randint(1, 300))] for r in range(5)]
            art = Table(rows, colWidths=[full / 5] * 5)
            kind = "Table"
        else:
            rows = [[f"{v}" for v in range(0, 60, 10)], ["Year", "", "", "", "", "Catch"]]
            art = Table(rows, colWidths=[full / 6] * 6, rowHeights=[60, 14])
            kind = "Figure"
        caption = Paragraph(f"{kind} {number}: {sentence(rng)} {sentence(rng)}", body)
        return [art, Spacer(1, 4), caption]

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1)
    c.setTitle("Generated float paper")
    top, bottom = height - 50, 50
    floats = 0
    number = 0
    while story and number < 4 * pages:  # `pages` or more: the whole story is set
        number += 1
        c.setFont("Helvetica", 8)
        c.drawString(margin, height - 30, "Journal of Generated Marine Studies 3 (2031)")
        c.drawCentredString(width / 2, 25, str(number))
        y = top
        bands: list[tuple[float, float]] = []  # (top, bottom) of each two-column band
        if number == 1:
            head_frame = Frame(margin, top - 60, full, 60, showBoundary=0)
            head_frame.addFromList([Paragraph("Generated Paper on Offshore Ecology", styles["Title"])], c)
            for i in range(3):  # author blocks side by side
                Frame(margin + i * full / 3, top - 110, full / 3, 50).addFromList(
                    [Paragraph(f"Author {i + 1}<br/>University {i + 1}<br/>a{i}@uni.edu", body)], c)
            abstract = [Paragraph("Abstract", head), Paragraph(paragraph(rng, 4), body)]
            Frame(margin, top - 260, full, 150).addFromList(abstract, c)
            bands.append((top - 265, bottom))
        elif story:
            where = rng.choice(["top", "middle", "bottom", "none"])
            floats += where != "none"
            block = float_block(floats) if where != "none" else []
            fh = 170
            if where == "top":
                Frame(margin, top - fh, full, fh).addFromList(block, c)
                bands.append((top - fh - 5, bottom))
            elif where == "bottom":
                Frame(margin, bottom, full, fh).addFromList(block, c)
                bands.append((top, bottom + fh + 5))
            elif where == "middle":
                mid = (top + bottom) / 2
                Frame(margin, mid - fh / 2, full, fh).addFromList(block, c)
                bands += [(top, mid + fh / 2 + 5), (mid - fh / 2 - 5, bottom)]
            else:
                bands.append((top, bottom))
        for band_top, band_bottom in bands:
            for x in (margin, margin + col + gutter):
                Frame(x, band_bottom, col, band_top - band_bottom).addFromList(story, c)
        c.showPage()
    c.save()
    return buf.getvalue()
