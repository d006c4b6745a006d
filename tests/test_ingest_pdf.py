"""PDF ingestion on PDFs the tests draw themselves with reportlab (exact line positions)."""
from __future__ import annotations

import io

import pytest

from core.errors import InputError
from data.ingest import document_text, read_document

A4_HEIGHT = 842.0
Line = tuple[float, float, str]  # x, distance from the top of the page, text


def make_pdf(pages: list[list[Line]], *, title: str | None = None, author: str | None = None,
             encrypt: str | None = None, size: float = 10, header: str | None = None) -> bytes:
    """A PDF with the given lines on each page; header adds a running header and page number."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1, encrypt=encrypt)
    if title:
        c.setTitle(title)
    if author:
        c.setAuthor(author)
    for number, lines in enumerate(pages, start=1):
        if header:
            c.setFont("Helvetica", 8)
            c.drawString(72, A4_HEIGHT - 40, header)
            c.drawCentredString(297, 30, str(number))
        for x, top, text in lines:
            c.setFont("Helvetica-Bold" if text.isupper() else "Helvetica", size)
            c.drawString(x, A4_HEIGHT - top, text)
        c.showPage()
    c.save()
    return buf.getvalue()


def column(x: float, top: float, lines: list[str], pitch: float = 12) -> list[Line]:
    return [(x, top + i * pitch, text) for i, text in enumerate(lines)]


def parse(pdf: bytes, name: str = "paper.pdf"):
    (doc,) = read_document(name, pdf)
    return doc, document_text(name, pdf)


def test_running_header_footer_and_page_numbers_are_dropped_and_paragraph_flows_over_pages():
    filler = ["Seabed surveys were repeated every spring at fixed stations near", "the turbines."]
    page1 = column(72, 100, filler + [
        "Sandeel density increased after the piles were installed in the",
        "eastern part of the array, and the rise lasted for two"])
    page2 = column(72, 100, [
        "seasons before it faded. Porpoise clicks were recorded with",
        "moored detectors."])
    page3 = column(72, 100, ["Catch per unit effort of plaice did not change in the area."])
    header = "Marine Energy Letters 7 (2031) 1-20"
    doc, full = parse(make_pdf([page1, page2, page3], header=header))
    texts = [s.text for s in doc.sentences]
    assert texts == [
        "Seabed surveys were repeated every spring at fixed stations near the turbines.",
        "Sandeel density increased after the piles were installed in the eastern part of the "
        "array, and the rise lasted for two seasons before it faded.",
        "Porpoise clicks were recorded with moored detectors.",
        "Catch per unit effort of plaice did not change in the area.",
    ]
    assert [s.page for s in doc.sentences] == [1, 1, 2, 3]
    assert "Marine Energy Letters" not in full
    for s in doc.sentences:
        assert full[s.start:s.end] == s.text
    assert doc.format == "pdf" and doc.warnings == []


def test_two_column_pages_are_read_column_by_column_after_a_full_width_title():
    title = [(72, 60, "Turbine foundations as artificial reefs: a two year survey of the North Sea")]
    left = column(72, 120, [
        "Mussels colonised the monopiles within",
        "the first year. Cod aggregated around the",
        "scour protection at high tide.",
        "Left column ends with this short line."])
    right = column(310, 120, [
        "Right column starts a new paragraph",
        "about crabs. Edible crab landings rose",
        "in the harbours next to the array.",
        "Lobster landings were unchanged."])
    doc, full = parse(make_pdf([title + left + right]))
    texts = [s.text for s in doc.sentences]
    assert texts == [
        "Turbine foundations as artificial reefs: a two year survey of the North Sea",
        "Mussels colonised the monopiles within the first year.",
        "Cod aggregated around the scour protection at high tide.",
        "Left column ends with this short line.",
        "Right column starts a new paragraph about crabs.",
        "Edible crab landings rose in the harbours next to the array.",
        "Lobster landings were unchanged.",
    ]
    assert all(full[s.start:s.end] == s.text for s in doc.sentences)
    assert all(s.start < t.start for s, t in zip(doc.sentences, doc.sentences[1:]))


def test_column_text_flows_from_left_to_right_column_and_to_the_next_page():
    left = [f"Station {i} was sampled with a box corer." for i in range(6)] + [
        "The array reduced trawling effort in the", "zone, which allowed the benthos"]
    right = ["to recover within four years. Scallop", "beds expanded towards the cable"] + [
        f"route. Grab {i} was sieved over a fine" for i in range(5)] + ["mesh. Dredging restarted"]
    page1 = column(72, 100, left) + column(310, 100, right)
    # the last page is too short to measure a gutter: it takes the one of page 1
    page2 = column(72, 100, ["when the closure ended.", "Whelk pots were set."]) + column(
        310, 100, ["Whiting catches were similar", "everywhere."])
    doc, full = parse(make_pdf([page1, page2]))
    texts = [s.text for s in doc.sentences]
    assert texts[6] == ("The array reduced trawling effort in the zone, which allowed the benthos to "
                        "recover within four years.")
    assert texts[7] == "Scallop beds expanded towards the cable route."
    assert texts[-3:] == ["Dredging restarted when the closure ended.", "Whelk pots were set.",
                          "Whiting catches were similar everywhere."]
    assert [s.page for s in doc.sentences[-3:]] == [1, 2, 2]
    assert all(full[s.start:s.end] == s.text for s in doc.sentences)


def test_end_of_line_hyphens_are_joined_and_real_compounds_kept():
    lines = column(72, 100, [
        "Construction noise had strong environ-",
        "mental effects on harbour seals, and the long-",
        "term trend in seal counts was negative. A long-term",
        "monitoring programme is under way."])
    doc, full = parse(make_pdf([lines]))
    assert doc.sentences[0].text == ("Construction noise had strong environmental effects on "
                                     "harbour seals, and the long-term trend in seal counts was "
                                     "negative.")
    assert "environ-" not in full


def test_reference_list_is_marked_and_kept_one_entry_per_paragraph():
    body = column(72, 100, ["Noise from pile driving displaced porpoises (Brandt et al. 2011).",
                            "Displacement lasted about one day after each event."])
    refs = [(72, 160, "REFERENCES")] + column(72, 180, [
        "Brandt, M. J., Diederichs, A. (2011). Responses of harbour porpoises to pile",
        "    driving. Mar. Ecol. Prog. Ser. 421, 205-216."]) + column(72, 216, [
        "Carter, A. (2015). Wind farm reefs. J. Appl. Ecol. 12, 1-9."])
    doc, _ = parse(make_pdf([body + refs]))
    flags = [(s.text[:20], s.is_reference) for s in doc.sentences]
    assert flags == [("Noise from pile driv", False), ("Displacement lasted ", False),
                     ("Brandt, M. J., Diede", True), ("Carter, A. (2015). W", True)]
    assert doc.sentences[2].text.endswith("Mar. Ecol. Prog. Ser. 421, 205-216.")


def test_metadata_title_author_and_year():
    lines = column(72, 100, ["Fish avoided the turbines during construction."])
    doc, _ = parse(make_pdf([lines], title="Fish and turbines", author="Hansen, K.; Ortiz, L."))
    assert (doc.title, doc.authors, doc.year) == ("Fish and turbines", "Hansen, K.; Ortiz, L.", 2000)
    bare, _ = parse(make_pdf([lines]))  # reportlab writes "untitled" / "anonymous"
    assert (bare.title, bare.authors) == (None, None)


def test_same_bytes_same_content_key():
    pdf = make_pdf([column(72, 100, ["Scour protection attracted juvenile cod."])])
    (a,), (b,) = read_document("a.pdf", pdf), read_document("copy.pdf", pdf)
    assert a.sha256 == b.sha256 and len(a.sha256) == 64


def test_encrypted_pdf_is_refused():
    pdf = make_pdf([column(72, 100, ["Secret sentence about seals."])], encrypt="secret")
    with pytest.raises(InputError, match="encrypted") as err:
        read_document("locked.pdf", pdf)
    assert err.value.name == "locked.pdf"


def test_image_only_pdf_is_refused_with_a_clear_reason():
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.rect(100, 100, 300, 400, fill=1)
    c.showPage()
    c.save()
    with pytest.raises(InputError, match="no text layer"):
        read_document("scan.pdf", buf.getvalue())


def test_page_without_text_gives_a_warning():
    pdf = make_pdf([column(72, 100, ["Herring spawned on the gravel beds."]), []])
    doc, _ = parse(pdf)
    assert doc.warnings and "2" in doc.warnings[0] and "no text layer" in doc.warnings[0]


@pytest.mark.parametrize("content, reason", [
    (b"this is not a pdf at all", "not a PDF"),
    (b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage", "not a readable PDF|no pages"),
])
def test_corrupt_pdf_is_refused(content, reason):
    with pytest.raises(InputError, match=reason):
        read_document("broken.pdf", content)


def test_truncated_pdf_is_refused_or_read_without_crashing():
    pdf = make_pdf([column(72, 100, ["Gannets avoided the wind farm in summer."])])
    with pytest.raises(InputError):
        read_document("cut.pdf", pdf[: len(pdf) // 3])


def test_indented_paragraphs_outdented_headings_and_bullets_with_hanging_indent():
    lines = [(72, 100, "2.1 Study area")] + column(90, 118, [
        "    The bank lies twenty kilometres offshore and is",
        "swept by strong tides. Sand waves migrate across it",
        "every winter.",
        "    Kelp is absent from the bank. Divers found only",
        "scattered hydroids on the boulders.",
        "\u2022 Tidal currents reached two metres per second at",
        "   spring tide on the northern edge.",
        "\u2022 Waves exceeded four metres twice."])
    doc, full = parse(make_pdf([lines]))
    assert texts_of(doc) == [
        "The bank lies twenty kilometres offshore and is swept by strong tides.",
        "Sand waves migrate across it every winter.",
        "Kelp is absent from the bank.",
        "Divers found only scattered hydroids on the boulders.",
        "\u2022 Tidal currents reached two metres per second at spring tide on the northern edge.",
        "\u2022 Waves exceeded four metres twice.",
    ]
    assert full.startswith("2.1 Study area\n\nThe bank lies")
    paragraphs = full.split("\n\n")
    assert len(paragraphs) == 5  # heading, two indented paragraphs, two bullets


def texts_of(doc) -> list[str]:
    return [s.text for s in doc.sentences]


def draw_justified(c, x0: float, top: float, lines: list[str], width: float) -> float:
    """Draw each word as its own text object, lines justified to width (not a paragraph's last
    line, which ends with a full stop); returns the x after the last word of the second line."""
    after_second = x0
    for i, text in enumerate(lines):
        words = text.split()
        widths = [c.stringWidth(w, "Helvetica", 10) for w in words]
        last = text.endswith(".") or len(words) == 1
        gap = 2.8 if last else (width - sum(widths)) / (len(words) - 1)
        x = x0
        for w, w_width in zip(words, widths):
            c.setFont("Helvetica", 10)
            c.drawString(x, A4_HEIGHT - top - 13 * i, w)
            x += w_width + gap
        if i == 1:
            after_second = x - gap
    return after_second


def test_word_by_word_text_objects_with_superscripts_and_justified_columns():
    """Word processors often write one text object per word; citations as raised small digits."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    left = ["Offshore turbines reduced the", "wind speed behind the array", "by several per cent.",
            "Wake effects lowered the yield", "of neighbouring farms."]
    right = ["Seabirds such as gannets", "avoided the turbines in", "daylight. Divers were",
             "displaced up to ten kilometres", "from the array."]
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    x = draw_justified(c, 72, 100, left, 200)
    draw_justified(c, 320, 100, right, 200)
    c.setFont("Helvetica", 6)
    c.drawString(x + 0.5, A4_HEIGHT - 113 + 4, "12")  # a citation superscript after "array"
    c.showPage()
    c.save()
    doc, full = parse(buf.getvalue())
    assert texts_of(doc) == [
        "Offshore turbines reduced the wind speed behind the array 12 by several per cent.",
        "Wake effects lowered the yield of neighbouring farms.",
        "Seabirds such as gannets avoided the turbines in daylight.",
        "Divers were displaced up to ten kilometres from the array.",
    ]


def test_widely_spaced_one_column_text_is_not_taken_for_two_columns():
    """Word-by-word justified lines with wide spaces can leave a blank vertical strip by chance;
    it is narrower than twice the word spacing, so it is no gutter."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    lines = ["of biomass biomass reduced array biomass the fishing environmental seal in noise",
             "effort monitoring habitat of seal an in environmental of noise",
             "a array at noise noise of noise cod",
             "fishing fishing reduced turbine array at seal increased",
             "biomass cod at an array biomass",
             "habitat seal biomass turbine on environmental a monitoring effort of environmental "
             "monitoring"]
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    draw_justified(c, 72, 62, lines, 450)
    c.showPage()
    c.save()
    _, full = parse(buf.getvalue())
    assert full == " ".join(lines)


def test_owner_password_only_pdf_is_readable_and_suffix_case_is_ignored():
    from reportlab.lib.pdfencrypt import StandardEncryption

    lock = StandardEncryption("", ownerPassword="owner", canModify=0)
    pdf = make_pdf([column(72, 100, ["Terns nested on the substation platform."])], encrypt=lock)
    doc, _ = parse(pdf, name="PRINT-ONLY.PDF")
    assert texts_of(doc) == ["Terns nested on the substation platform."]


def test_placeholder_metadata_is_ignored():
    lines = column(72, 100, ["Mackerel shoals passed the array in autumn."])
    doc, _ = parse(make_pdf([lines], title="Microsoft Word - draft_v3.docx", author="unknown"))
    assert (doc.title, doc.authors) == (None, None)


def test_pdf_with_only_running_headers_and_page_numbers_has_no_text():
    with pytest.raises(InputError, match="contains no text"):
        read_document("covers.pdf", make_pdf([[], [], []], header="Annual report 2030"))


def test_first_page_with_long_full_width_abstract_above_two_short_columns():
    abstract = column(72, 80, [f"Abstract line {i} says that dredging spoil buried the mussel beds "
                               f"near the cable corridor." for i in range(14)])
    left = column(72, 270, [f"Left {i} trawl haul caught mostly dab." for i in range(6)])
    right = column(310, 270, [f"Right {i} grab held many worms." for i in range(6)])
    doc, _ = parse(make_pdf([abstract + left + right]))
    texts = texts_of(doc)
    assert texts.index("Left 5 trawl haul caught mostly dab.") < texts.index(
        "Right 0 grab held many worms.")
    assert texts[-1] == "Right 5 grab held many worms."
