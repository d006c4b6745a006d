"""TXT, Markdown, DOCX, RTF and JSON ingestion, bad input, and the shipped sample paper."""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from pathlib import Path

import pytest

import data.ingest as ingest
from core.errors import InputError
from data.ingest import document_text, read_document, read_path

SAMPLE = Path(__file__).resolve().parent.parent / "workspace" / "samples" / "offshore_wind_fisheries.md"


def only(name: str, content: bytes):
    (doc,) = read_document(name, content)
    full = document_text(name, content)
    for s in doc.sentences:
        assert full[s.start:s.end] == s.text
    return doc, full


def texts(doc) -> list[str]:
    return [s.text for s in doc.sentences]


# ------------------------------------------------------------------------------------- TXT

def test_txt_paragraphs_wrapped_lines_hyphens_headings_and_references():
    content = (b"Introduction\n"
               b"Dredging for sand increased the turbidity of the\n"
               b"bay. Seagrass meadows declined in response to the low light environ-\n"
               b"ment.\n\n"
               b"2. Methods\n\n"
               b"Divers counted shoots in June.\n\n"
               b"References\n"
               b"Moss, P. (2017). Light and seagrass. Aquat. Bot. 3, 1-9.\n\n"
               b"Ruiz, L. (2019). Dredging plumes. Mar. Pollut. Bull. 8, 2-4.\n\n"
               b"Appendix A: Shoot counts\n"
               b"Counts were log-transformed.\n")
    doc, full = only("notes.txt", content)
    assert texts(doc) == [
        "Dredging for sand increased the turbidity of the bay.",
        "Seagrass meadows declined in response to the low light environment.",
        "Divers counted shoots in June.",
        "Moss, P. (2017). Light and seagrass. Aquat. Bot. 3, 1-9.",
        "Ruiz, L. (2019). Dredging plumes. Mar. Pollut. Bull. 8, 2-4.",
        "Counts were log-transformed.",
    ]
    assert [s.is_reference for s in doc.sentences] == [False, False, False, True, True, False]
    assert full.startswith("Introduction\n\nDredging for sand")
    assert doc.format == "txt"
    assert all(s.page is None for s in doc.sentences)
    assert doc.sha256 == hashlib.sha256(content).hexdigest()


def test_soft_hyphens_vanish_inside_words_and_join_wrapped_words():
    content = "An op\u00adtional en\u00ad\nvironmental survey was run.\n".encode()
    doc, _ = only("soft.txt", content)
    assert texts(doc) == ["An optional environmental survey was run."]


def test_txt_form_feeds_are_pages():
    doc, _ = only("pdftotext.txt", b"Kelp grew on the piles.\n\fMussels followed.\n")
    assert [(s.text, s.page) for s in doc.sentences] == [("Kelp grew on the piles.", 1),
                                                         ("Mussels followed.", 2)]


def test_non_utf8_text_is_decoded_with_a_warning():
    content = "Caf\u00e9 owners on the na\u00efve coast saw more plaice.".encode("cp1252")
    doc, _ = only("old.txt", content)
    assert texts(doc) == ["Caf\u00e9 owners on the na\u00efve coast saw more plaice."]
    assert len(doc.warnings) == 1 and "UTF-8" in doc.warnings[0]


def test_utf16_with_bom_is_text_not_binary():
    doc, _ = only("notepad.txt", "Seals hauled out on the rocks.".encode("utf-16"))
    assert texts(doc) == ["Seals hauled out on the rocks."] and doc.warnings == []


# -------------------------------------------------------------------------------- Markdown

MD = b"""---
title: "Cables and crabs"
authors:
  - Ngata, Rua
  - Berg, Ola
year: 2022
---

# Cables and crabs

Heat from export cables **warms** the sediment. See the [data portal](https://example.org/x)
for the *raw* series<!-- hidden note -->.

Setext heading
--------------

- Warmer sediment increased crab activity.
- Burial depth reduced `heat` loss.

```
code = "Not a sentence. Never."
```

| Site | Effect |
|------|--------|
| A | crabs increased |

> Cold winters slowed the crabs.
"""


def test_markdown_front_matter_markup_and_blocks():
    doc, full = only("paper.md", MD)
    assert (doc.title, doc.authors, doc.year) == ("Cables and crabs", "Ngata, Rua; Berg, Ola", 2022)
    assert texts(doc) == [
        "Heat from export cables warms the sediment.",
        "See the data portal for the raw series.",
        "Warmer sediment increased crab activity.",
        "Burial depth reduced heat loss.",
        "Site; Effect",
        "A; crabs increased",
        "Cold winters slowed the crabs.",
    ]
    assert "Setext heading" in full and "Never" not in full and "https" not in full
    assert doc.format == "md"


def test_markdown_title_falls_back_to_first_heading():
    doc, _ = only("plain.md", b"# Tidal turbines\n\nTurbines slowed the current.\n")
    assert (doc.title, doc.authors, doc.year) == ("Tidal turbines", None, None)


# ------------------------------------------------------------------------------------ DOCX

def make_docx() -> bytes:
    import docx

    d = docx.Document()
    d.add_heading("Scour and sandeels", 0)
    d.add_heading("Results", 1)
    d.add_paragraph("Scour protection removed sandeel habitat. Sandeel density fell, cf. Fig. 3.")
    table = d.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "Kittiwake"
    table.rows[0].cells[1].text = "declined"
    d.add_paragraph("Kittiwakes fed less often near the array.")
    d.core_properties.author = "Ngata, R."
    d.core_properties.created = dt.datetime(2021, 5, 4)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def test_docx_paragraphs_tables_headings_and_properties():
    doc, full = only("report.docx", make_docx())
    assert texts(doc) == ["Scour protection removed sandeel habitat.",
                          "Sandeel density fell, cf. Fig. 3.", "Kittiwake; declined",
                          "Kittiwakes fed less often near the array."]
    assert (doc.title, doc.authors, doc.year) == ("Scour and sandeels", "Ngata, R.", 2021)
    assert full.startswith("Scour and sandeels\n\nResults\n\n")


def test_docx_from_blank_template_has_no_fake_author_or_year():
    import docx

    d = docx.Document()
    d.add_paragraph("Gulls followed the vessels.")
    buf = io.BytesIO()
    d.save(buf)
    doc, _ = only("blank.docx", buf.getvalue())
    assert (doc.authors, doc.year) == (None, None)


# ------------------------------------------------------------------------------------- RTF

RTF = rb"""{\rtf1\ansi\deff0{\fonttbl{\f0 Times New Roman;}}
{\b Results}\par
Trawling closure increased plaice biomass (Hale et al. 2020). Caf\'e9 owners noticed.\par
\par
Turbine noise reduced cod calls.\par
}"""


def test_rtf_paragraphs_and_escapes():
    doc, full = only("labels.rtf", RTF)
    assert texts(doc) == ["Trawling closure increased plaice biomass (Hale et al. 2020).",
                          "Caf\u00e9 owners noticed.", "Turbine noise reduced cod calls."]
    assert full.startswith("Results\n\n") and doc.format == "rtf"


# ------------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("name, content, reason", [
    ("paper.xlsx", b"anything", "unsupported file type '.xlsx'"),
    ("README", b"anything", "unsupported file type 'no extension'"),
    ("empty.txt", b"", "is empty"),
    ("blank.md", b"  \n\n ", "is empty"),
    ("junk.txt", bytes(range(256)) * 8, "binary file"),
    ("junk.md", bytes([1, 2, 3, 4, 5, 6, 7, 8, 14, 15, 16, 65]) * 50, "does not look like text"),
    ("not-zip.docx", b"Dear reviewer, thanks.", "not a valid DOCX file .not a zip archive"),
    ("broken.docx", b"PK\x03\x04" + b"\x00" * 200, "not a valid DOCX file"),
    ("plain.rtf", b"Just text, no RTF header.", "not an RTF file"),
    ("garbled.rtf", b"{\\rtf1 " + bytes([1, 2, 3, 4, 5, 6, 7, 8, 14, 15]) * 40 + b"}",
     "does not look like text|not readable RTF"),
    ("styles-only.rtf", b"{\\rtf1\\ansi{\\fonttbl{\\f0 Arial;}}}", "contains no text"),
    ("only-headings.md", b"# Title\n\n## Methods\n", "contains no text"),
    ("labels.json", b"[]", "contains no documents|JSON list"),
    ("labels.json", b"{not json", "not valid JSON"),
    ("labels.jsonl", b"[1, 2", "not valid JSON"),
])
def test_bad_input_raises_input_error_naming_the_file(name, content, reason):
    with pytest.raises(InputError, match=reason) as err:
        read_document(name, content)
    assert err.value.name == name
    assert "\n" not in str(err.value)


def test_oversized_upload_is_refused_before_parsing(monkeypatch, tmp_path):
    monkeypatch.setattr(ingest, "MAX_UPLOAD_BYTES", 100)
    with pytest.raises(InputError, match="over the"):
        read_document("big.txt", b"Cod. " * 40)
    path = tmp_path / "big.txt"
    path.write_bytes(b"Cod. " * 40)
    with pytest.raises(InputError, match="over the"):
        read_path(path)


def test_read_path_missing_file(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        read_path(tmp_path / "nope.pdf")


# ------------------------------------------------------------------------------- JSON, sample

def test_twosix_json_is_delegated_one_document_per_paper():
    passages = [
        {"text": "Turbines attracted cod.", "causal relations": [
            {"src": "Turbines", "tgt": "cod", "direction": "increase"}],
         "meta_data": {"title": "Paper A", "authors": "Ngata, R.", "year": 2020}},
        {"text": "Noise reduced porpoise presence.", "causal relations": [],
         "meta_data": {"title": "Paper B", "authors": "Berg, O.", "year": "2021"}},
    ]
    content = json.dumps(passages).encode()
    docs = read_document("labels.json", content)
    assert [d.title for d in docs] == ["Paper A", "Paper B"]
    assert [s.text for s in docs[0].sentences] == ["Turbines attracted cod."]
    digest = hashlib.sha256(content).hexdigest()
    assert [d.sha256 for d in docs] == [f"{digest}:0", f"{digest}:1"]


def test_sample_paper_reads_as_about_forty_sentences_plus_references():
    (doc,) = read_path(SAMPLE)
    body = [s for s in doc.sentences if not s.is_reference]
    refs = [s for s in doc.sentences if s.is_reference]
    assert 35 <= len(body) <= 45 and len(refs) == 3
    assert doc.title.startswith("Offshore wind farms") and doc.year == 2024
    assert doc.authors == "Marlow, Ines; Okafor, Daniel; Lindqvist, Sara"
    assert ("As shown in Fig. 2, cod biomass inside the array doubled relative to the reference "
            "sites.") in [s.text for s in body]
    assert any("Petrov et al. (2021)" in s.text for s in body)
    assert all(s.start < t.start for s, t in zip(doc.sentences, doc.sentences[1:]))
