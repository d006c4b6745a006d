"""Bounded work and one-line refusals: size, count, depth and value limits of ingestion."""
from __future__ import annotations

import io
import json
import os
import random
import time
import zipfile

import pytest

import data.ingest as ingest
from core.errors import InputError
from data.ingest import read_document, read_path

DOCX_XML = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>')


def refused(name: str, content: bytes, reason: str) -> InputError:
    """read_document's InputError for the file, checked to be one line that names it."""
    with pytest.raises(InputError, match=reason) as err:
        read_document(name, content)
    assert err.value.name == name and "\n" not in str(err.value)
    return err.value


def docx_zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return out.getvalue()


# -------------------------------------------------------------------------------------- DOCX

def test_docx_with_millions_of_empty_paragraphs_is_refused_quickly():
    """The attack that ran > 300 s at 2.1 GB: a small zip holding 3.6 M paragraphs."""
    content = docx_zip({"[Content_Types].xml": b"<Types/>",
                        "word/document.xml": DOCX_XML + b"<w:p/>" * 3_600_000 + b"</w:body></w:document>"})
    assert len(content) < 1_000_000
    start = time.perf_counter()
    refused("bomb.docx", content, f"3600000 paragraphs, over the limit of {ingest.MAX_DOCX_PARAGRAPHS}")
    assert time.perf_counter() - start < 10


def test_docx_unpacked_size_and_member_count_are_checked_before_parsing(monkeypatch):
    monkeypatch.setattr(ingest, "MAX_UNPACKED_BYTES", 10_000)
    big = docx_zip({"word/document.xml": DOCX_XML + b" " * 20_000 + b"</w:body></w:document>"})
    refused("big.docx", big, "unpacks to 0 MB, over the 0.00953674 MB limit")
    monkeypatch.setattr(ingest, "MAX_ZIP_MEMBERS", 5)
    many = docx_zip({f"word/media/{i}.png": b"x" for i in range(6)})
    refused("many.docx", many, "holds 6 zip members, over the limit of 5")


def test_docx_without_a_document_part_and_truncated_zip():
    refused("nobody.docx", docx_zip({"[Content_Types].xml": b"<Types/>"}), "no word/document.xml")
    whole = docx_zip({"word/document.xml": DOCX_XML + b"</w:body></w:document>"})
    refused("cut.docx", whole[: len(whole) // 2], "not a valid DOCX file")


# -------------------------------------------------------------------------- sentences, text

def test_sentence_count_and_length_limits(monkeypatch):
    refused("table.txt", b"x" * (ingest.MAX_SENTENCE_CHARS + 1),
            f"sentence 1 is {ingest.MAX_SENTENCE_CHARS + 1} characters long, over the limit")
    monkeypatch.setattr(ingest, "MAX_SENTENCES", 3)
    refused("long.txt", b"Cod ate. Seals swam. Kelp grew. Terns dove.", "holds 4 sentences, over the limit of 3")
    assert len(read_document("ok.txt", b"Cod ate. Seals swam. Kelp grew.")[0].sentences) == 3


def test_markdown_emphasis_is_linear_not_quadratic():
    """'*ab ' * 60000 as .md took > 60 s with the old emphasis regexes; now about as long as .txt
    (a cap loose enough for a loaded 2-core machine, far under the quadratic time)."""
    content = b"*Cod ate. " * 2000 + b"*ab " * 60000  # words, so the paragraph is prose, not a table
    start = time.perf_counter()
    refused("emph.md", content, "over the limit")
    as_md = time.perf_counter() - start
    start = time.perf_counter()
    refused("emph.txt", content, "over the limit")
    as_txt = time.perf_counter() - start
    assert as_md < 10 and as_md < 40 * as_txt + 1


def test_markdown_inline_text_keeps_words_drops_markup():
    (doc,) = read_document("m.md", b"Heat **warms** the [portal](https://x.org) and `code` "
                                   b"![img](a.png)<b>tags</b> ~~old~~ [cited][r1] [^2] a\\*b.\n")
    assert [s.text for s in doc.sentences] == ["Heat warms the portal and code tags old cited a*b."]


@pytest.mark.parametrize("content", [
    b"a" + b"." * 40_000 + b" Cod.",          # sentence splitter: a run of full stops
    b" " * 40_000 + b"x",                      # table separator regex on a long blank line
    b"<!--" * 20_000 + b"Cod ate.",            # unclosed HTML comments
    b"[" * 60_000,                             # link brackets without an end
])
def test_pathological_markdown_finishes_quickly(content):
    start = time.perf_counter()
    try:
        read_document("p.md", content)
    except InputError as err:
        assert "\n" not in str(err)
    assert time.perf_counter() - start < 10


# ------------------------------------------------------------------------------- binary, paths

def test_random_bytes_without_nul_are_refused():
    rng = random.Random(7)
    high = bytes(rng.randrange(0xA0, 0x100) for _ in range(20_000))  # decodes as latin-1 letters
    refused("noise.txt", high, "does not look like text")
    anything = bytes(rng.randrange(1, 256) for _ in range(20_000))
    refused("noise.md", anything, "does not look like text")


def test_symlinks_directories_and_fifos_are_refused(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("The server's private notes. Never imported.")
    link = tmp_path / "paper.txt"
    link.symlink_to(secret)
    with pytest.raises(InputError, match="symbolic link") as err:
        read_path(link)
    assert str(tmp_path) not in str(err.value)  # names the file, not the server's folders
    folder = tmp_path / "folder.txt"
    folder.mkdir()
    with pytest.raises(InputError, match="not a regular file"):
        read_path(folder)
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="not a regular file"):
        read_path(fifo)  # would block forever if opened for reading without O_NONBLOCK


# -------------------------------------------------------------------------------- JSON values

def twosix(meta: dict, text: str = "Turbines attracted cod.") -> bytes:
    return json.dumps([{"text": text, "causal relations": [], "meta_data": meta}]).encode()


def jsonl(sentence: dict) -> bytes:
    return json.dumps({"fuzzymap": 1, "filename": "a.txt", "sha256": "abc", "sentences": [sentence]}).encode()


REL = {"src": "Turbines", "tgt": "cod", "sign": 1}


@pytest.mark.parametrize("name, content, reason", [
    ("deep.json", b"[" * 100_000 + b"]" * 100_000, "nested deeper than the limit of 32"),
    ("deep.jsonl", b"[" * 100_000 + b"]" * 100_000, "line 1: JSON nested deeper"),
    ("year.json", twosix({"year": 1}).replace(b'"year": 1', b'"year": ' + b"9" * 5000), "value has 5000 digits"),
    ("year4000.json", twosix({"year": int("9" * 4000)}), "year must be an integer from -9999 to 9999"),
    ("surrogate.json", twosix({}).replace(b"Turbines", b"Turb\\ud800ines"), "invalid character '\\\\ud800'"),
    ("surrogate.rtf", b"{\\rtf1 Kelp \\u-10240? grew.}", "invalid character '\\\\ud800'"),
    ("fields.rtf", b"{\\rtf1 " + b"{\\field{\\*\\fldinst{ x" * 5000 + b"}", "holds 5000 fields on lines of up to"),
    ("fonts.rtf", b"{\\rtf1{\\fonttbl" + b"{\\f0 Arial" * 5000 + b"}", "font table, over the RTF limit of 16384"),
    ("nan.jsonl", jsonl({"text": "Turbines attracted cod.", "relations": [{**REL, "score": 0.5}]}).replace(
        b"0.5", b"NaN"), "NaN is not a number JSON allows"),
    ("inf.jsonl", jsonl({"text": "Turbines attracted cod.", "relations": [{**REL, "score": 0.5}]}).replace(
        b"0.5", b"-Infinity"), "-Infinity is not a number"),
    ("score.jsonl", jsonl({"text": "Turbines attracted cod.", "relations": [{**REL, "score": 7.5}]}),
     "score must be a number from 0 to 1, not 7.5"),
    ("neg.jsonl", jsonl({"text": "Turbines attracted cod.", "start": -4, "end": 3}), "0 <= start <= end"),
    ("page.jsonl", jsonl({"text": "Turbines attracted cod.", "page": 2**40}), "page must be a positive integer"),
    ("span.jsonl", jsonl({"text": "Turbines attracted cod.", "relations": [{**REL, "src_span": [-3, 2]}]}),
     "not inside the sentence"),
    ("beyond.jsonl", jsonl({"text": "Turbines attracted cod.", "relations": [{**REL, "tgt_span": [20, 90]}]}),
     "not inside the sentence"),
    ("note.jsonl", jsonl({"text": "Turbines attracted cod.", "relations": [{**REL, "note": {"a": 1}}]}),
     "note must be a string"),
])
def test_bad_json_values_are_one_line_errors(name, content, reason):
    refused(name, content, reason)


def test_jsonl_keeps_line_separator_characters_inside_text():
    text = "Turbines\u2028attracted\u0085cod."
    (doc,) = read_document("sep.jsonl", json.dumps(
        {"fuzzymap": 1, "filename": "a.txt", "sha256": "abc", "sentences": [{"text": text}]},
        ensure_ascii=False).encode())
    assert doc.sentences[0].text == text


def test_pdf_page_limit(monkeypatch):
    import io

    from reportlab.pdfgen import canvas

    import data.pdf as pdf

    out = io.BytesIO()
    c = canvas.Canvas(out)
    for i in range(3):
        c.drawString(60, 700, f"Kelp grew on page {i + 1}.")
        c.showPage()
    c.save()
    monkeypatch.setattr(pdf, "MAX_PDF_PAGES", 2)
    refused("long.pdf", out.getvalue(), "has 3 pages, over the limit of 2")
