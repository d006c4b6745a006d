"""Reading order of two-column pages with full-width blocks, drawn with reportlab.

Each column gets its own vocabulary, so a sentence that mixes words of two columns (the failure
of reading a page row by row) is visible word by word.
"""
from __future__ import annotations

import io
import random
import re

from bench.papers import _ADJS, _NOUNS, _VERBS, make_float_paper, paragraph
from data.ingest import read_document

LEFT = (["walrus", "narwhal", "beluga", "orca"], ["arctic", "frozen", "polar", "icy"],
        ["chased", "followed", "avoided"])
RIGHT = (["tulip", "orchid", "lily", "daisy"], ["sunny", "fragrant", "floral", "green"],
         ["bloomed", "wilted", "sprouted"])
WIDE = (["granite", "basalt", "quartz", "shale"], ["volcanic", "layered", "rocky", "mineral"],
        ["eroded", "cracked", "formed"])


def vocab(words) -> set[str]:
    return {w for group in words for w in group}


def label(text: str) -> str:
    """Which vocabularies a sentence's words come from: "L", "R", "W" or a mix like "LR"."""
    words = set(re.findall(r"[a-z]+", text.lower()))
    return "".join(k for k, v in (("L", LEFT), ("R", RIGHT), ("W", WIDE)) if words & vocab(v))


def two_column_page_with_middle_float() -> bytes:
    """Page 1: full-width title and abstract, columns, a full-width table and caption in the
    middle, columns again. Page 2: columns, then a numbered "Bibliographical References"."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.pdfgen import canvas
    from reportlab.platypus import Frame, Paragraph, Table

    rng = random.Random(3)
    st = getSampleStyleSheet()
    body, head = st["BodyText"], st["Heading2"]
    width, height = A4
    margin, gutter = 50, 18
    full, col = width - 2 * margin, (width - 2 * margin - 18) / 2
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1)

    def columns(top: float, bottom: float, n: int) -> None:
        for x, words in ((margin, LEFT), (margin + col + gutter, RIGHT)):
            paras = [Paragraph(paragraph(rng, 3, words), body) for _ in range(n)]
            Frame(x, bottom, col, top - bottom).addFromList(paras, c)

    Frame(margin, 700, full, 100).addFromList([
        Paragraph("Layered Basalt Formed Granite", st["Title"]),
        Paragraph(paragraph(rng, 3, WIDE), body)], c)
    columns(700, 480, 2)
    Frame(margin, 330, full, 145).addFromList([
        Table([["Site", "Depth", "Count"], ["A", "12", "3"], ["B", "40", "7"]],
              colWidths=[full / 3] * 3),
        Paragraph("Table 1: " + paragraph(rng, 2, WIDE), body)], c)
    columns(325, 60, 2)
    c.showPage()
    Frame(margin, 60, col, 730).addFromList(
        [Paragraph(paragraph(rng, 3, LEFT), body) for _ in range(2)], c)
    refs = [Paragraph(paragraph(rng, 3, RIGHT), body), Paragraph("5 Bibliographical References", head)]
    refs += [Paragraph(f"[{i}] Author{i}, A. ({2000 + i}). Layered basalt. Geology {i}, 1-9.", body)
             for i in range(1, 6)]
    Frame(margin + col + gutter, 60, col, 730).addFromList(refs, c)
    c.showPage()
    c.save()
    return buf.getvalue()


def test_no_sentence_of_a_two_column_page_mixes_both_columns_and_floats_stay_whole():
    (doc,) = read_document("layout.pdf", two_column_page_with_middle_float())
    body = [s for s in doc.sentences if not s.is_reference]
    labels = [label(s.text) for s in body if label(s.text)]
    assert all(len(x) == 1 for x in labels), [s.text for s in body if len(label(s.text)) > 1]
    # Column by column, band by band: title block, left, right, table caption, left, right.
    runs = [x for i, x in enumerate(labels) if i == 0 or labels[i - 1] != x]
    assert runs == ["W", "L", "R", "W", "L", "R", "L", "R"]
    caption = [s.text for s in body if s.text.startswith("Table 1:")]
    assert len(caption) == 1


def test_reference_list_after_a_numbered_bibliographical_references_heading_is_marked():
    (doc,) = read_document("layout.pdf", two_column_page_with_middle_float())
    refs = [s for s in doc.sentences if s.is_reference]
    assert [s.text[:11] for s in refs] == [f"[{i}] Author{i}" for i in range(1, 6)]
    assert all(not s.is_reference for s in doc.sentences[:doc.sentences.index(refs[0])])


def test_generated_float_papers_keep_columns_apart():
    """bench.papers draws floats at the top, middle or bottom of pages; every body sentence of
    the generated text must come out as it was set, with the reference list marked."""
    (doc,) = read_document("paper.pdf", make_float_paper(4, seed=1))
    refs = [s for s in doc.sentences if s.is_reference]
    starts = [s.text.split(",")[0] for s in refs if s.text.startswith("Author")]
    assert starts == [f"Author{i}" for i in range(24)]
    captions = [s for s in doc.sentences if s.text.startswith(("Figure", "Table"))]
    assert captions and not any(s.is_reference for s in captions)
    # Every body sentence is "<adj> <noun> <verb> <adj> <noun> (<link> <adj> <noun> <n>)*.";
    # one glued from the ends of lines of two columns breaks that grammar.
    adj, noun, verb = ("(?:%s)" % "|".join(w) for w in (_ADJS, _NOUNS, _VERBS))
    grammar = re.compile(rf"{adj} {noun} {verb} {adj} {noun}"
                         rf"(?: (?:near the|after the|with|and the|at|over) {adj} {noun} \d+)*\.")
    body = [s.text for s in doc.sentences if not s.is_reference and s.text.split()[0] in
            {a.capitalize() for a in _ADJS}]
    assert len(body) > 60
    assert [t for t in body if not grammar.fullmatch(t[0].lower() + t[1:])] == []


def sideways_table_page(angle: int) -> bytes:
    """A landscape table set sideways on a portrait page (turned by `angle` degrees), with a
    caption whose maths is drawn glyph by glyph in reverse order, as TeX output can be."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1)
    c.translate(*((A4[0], 0) if angle == 90 else (0, A4[1])))
    c.rotate(angle)
    c.setFont("Helvetica", 10)
    for i, row in enumerate([["Site", "Cod", "Plaice"], ["S1", "13.52", "0.07"], ["S2", "97.13", "1.28"]]):
        for j, cell in enumerate(row):
            c.drawString(100 + 120 * j, -100 - 14 * i, cell)
    c.drawString(100, -160, "Table 2: Catch of cod and plaice near the turbines, with significance at")
    x = c.stringWidth("Table 2: Catch of cod and plaice near the turbines, with significance at ",
                      "Helvetica", 10) + 100
    glyphs = list("p < 0.001.")
    offsets = [c.stringWidth("".join(glyphs[:k]), "Helvetica", 10) for k in range(len(glyphs))]
    for g, dx in reversed(list(zip(glyphs, offsets))):
        c.drawString(x + dx, -160, g)
    c.drawString(100, -174, "Seals were counted from the air on the same days as the catch.")
    c.showPage()
    c.save()
    return buf.getvalue()


def test_a_table_set_sideways_is_read_in_its_own_direction_and_gives_no_number_sentences():
    for angle in (90, -90):
        (doc,) = read_document("sideways.pdf", sideways_table_page(angle))
        texts = [s.text for s in doc.sentences]
        assert "Table 2: Catch of cod and plaice near the turbines, with significance at p < 0.001." in texts
        assert "Seals were counted from the air on the same days as the catch." in texts
        assert not any("13.52" in t or "97.13" in t for t in texts), texts


def test_a_paragraph_broken_by_a_figure_at_the_top_of_the_next_column_is_joined_again():
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1)
    c.setFont("Helvetica", 10)
    left = ["Landings were compared across the ports. We", "check the transferability of exist-"]
    right = ["ing event data between the two regions.", "Seals were counted from the air."]
    for i, line in enumerate(["Cod landings fell in every port after the closure."] * 50 + left):
        c.drawString(60, 780 - 12 * i, line)
    c.rect(320, 640, 200, 130)
    c.drawString(330, 650, "Year")
    c.drawString(320, 620, "Figure 1: Cod catch per year in the")
    c.drawString(320, 608, "three ports.")
    for i, line in enumerate(right):
        c.drawString(320, 580 - 12 * i, line)
    for i in range(40):
        c.drawString(320, 556 - 12 * i, "Plaice landings rose in the north.")
    c.showPage()
    c.save()
    (doc,) = read_document("figure.pdf", buf.getvalue())
    texts = [s.text for s in doc.sentences]
    assert "We check the transferability of existing event data between the two regions." in texts
    assert "Figure 1: Cod catch per year in the three ports." in texts
    assert texts.index("Figure 1: Cod catch per year in the three ports.") > texts.index(
        "We check the transferability of existing event data between the two regions.")


def test_an_empty_section_heading_at_the_top_of_a_column_is_no_part_of_the_paragraph_before():
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1)
    c.setFont("Helvetica", 10)
    left = ["Seals were counted from the air on the same"] * 59 + ["days as the catch of the trawlers."]
    right = ["Acknowledgements", "References", "Smith, A. (2001). Seals. Mar. Biol. 3, 1-9."]
    for x, lines in ((60, left), (320, right)):
        for i, line in enumerate(lines):
            c.drawString(x, 780 - 12 * i, line)
    c.showPage()
    c.save()
    (doc,) = read_document("ack.pdf", buf.getvalue())
    assert doc.sentences[-2].text.endswith("days as the catch of the trawlers.")
    assert [(s.text, s.is_reference) for s in doc.sentences[-1:]] == [
        ("Smith, A. (2001). Seals. Mar. Biol. 3, 1-9.", True)]
