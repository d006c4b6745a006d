"""Uploaded files -> ParsedDocument: sentences with page, offsets and a reference-list mark.

Supported: PDF (text layer), plain text, Markdown, DOCX, RTF, TwoSix JSON and fuzzymap JSONL
(the last two are delegated to data.formats). Every reader first builds paragraph Blocks;
data.blocks.assemble turns them into the normalised full text and its sentences, so the offset
rule is the same for every format:

    sentence.text == document_text(name, content)[sentence.start:sentence.end]

The full text is what the file says once layout is undone: paragraphs separated by one blank
line, whitespace inside a paragraph collapsed to single spaces, end-of-line hyphenation joined,
running headers/footers and page numbers (PDF) and markup (Markdown) removed.

Anything unusable raises core.errors.InputError(name, reason) before anything is stored.
"""
from __future__ import annotations

import codecs
import hashlib
import io
import os
import re
import stat
import zipfile
import zlib
from functools import cache
from pathlib import Path
from typing import Callable

from core.errors import InputError, check_encodable
from core.types import ParsedDocument
from data.blocks import Block, assemble, clean, is_heading, join_lines, vocabulary
from data.sentences import split_sentences

__all__ = ["MAX_UPLOAD_BYTES", "SUPPORTED_SUFFIXES", "read_document", "read_path",
           "split_sentences", "document_text"]

# Limits that bound the work one file can cause (time and memory grow with each of them).
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
"""DOCX: all zip members together once uncompressed (a 743 KB file can hold gigabytes)."""
MAX_ZIP_MEMBERS = 10_000
MAX_DOCX_PARAGRAPHS = 200_000
"""python-docx needs ~0.1 ms and ~0.5 KB per paragraph object: 200,000 is ~20 s and ~100 MB."""
MAX_SENTENCES = 1_000_000
MAX_SENTENCE_CHARS = 20_000
"""No sentence of a paper is this long; a longer one is a table dump or a binary file."""
SUPPORTED_SUFFIXES = (".pdf", ".txt", ".md", ".docx", ".rtf", ".json", ".jsonl")

Meta = dict  # title, authors, year -> value or None
Parsed = tuple[list[Block], Meta, list[str]]
_NO_META: Meta = {"title": None, "authors": None, "year": None}
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f\ufffd]")
_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")


# ---------------------------------------------------------------- plain text and encodings

def _decode(name: str, content: bytes) -> tuple[str, list[str]]:
    """Bytes -> text: UTF-8 (or UTF-16 with BOM), else cp1252/latin-1 with a warning.

    Binary files are refused: NUL bytes, more than 1 % control characters once decoded, or,
    when the bytes are not UTF-8, mostly non-ASCII characters (what random bytes decode to;
    a cp1252 or latin-1 paper is mostly ASCII).
    """
    warnings: list[str] = []
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = content.decode("utf-16", errors="replace")
    elif b"\x00" in content:
        raise InputError(name, "is a binary file, not text (contains NUL bytes)")
    else:
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text, enc = content.decode("cp1252"), "cp1252 (Windows)"
            except UnicodeDecodeError:
                text, enc = content.decode("latin-1"), "latin-1"
            warnings.append(f"not valid UTF-8; decoded as {enc}, check accented characters")
            high = sum(1 for ch in text if ord(ch) > 127)
            if high > 0.3 * len(text):
                raise InputError(name, f"does not look like text ({high} of {len(text)} bytes are not ASCII "
                                       "and the file is not UTF-8; binary file?)")
    text = text.replace("\r\n", "\n").replace("\r", "\n").rstrip("\x1a")
    bad = len(_CONTROL.findall(text))
    if bad > max(2, 0.01 * len(text)):
        raise InputError(name, f"does not look like text ({bad} control characters; binary file?)")
    return text, warnings


def _pages(text: str) -> list[tuple[int | None, list[str]]]:
    """Lines per page; form feeds (as pdftotext writes them) are page breaks, else no pages."""
    parts = text.split("\f")
    if len(parts) == 1:
        return [(None, text.split("\n"))]
    return [(i + 1, part.split("\n")) for i, part in enumerate(parts)]


def _line_blocks(paragraphs: list[tuple[int | None, list[str]]]) -> list[Block]:
    """Wrapped-line paragraphs -> Blocks; a leading section-name line becomes a heading."""
    vocab = vocabulary([ln for _, lines in paragraphs for ln in lines])
    blocks = []
    for page, lines in paragraphs:
        lines = [ln for ln in lines if ln.strip()]
        if not lines:
            continue
        pages = [(0, page)] if page is not None else []
        if is_heading(lines[0], standalone=len(lines) == 1):
            blocks.append(Block(clean(lines[0]), pages, heading=True))
            lines = lines[1:]
            if not lines:
                continue
        blocks.append(Block(join_lines(lines, vocab)[0], pages))
    return blocks


def _read_txt(name: str, content: bytes) -> Parsed:
    text, warnings = _decode(name, content)
    paragraphs: list[tuple[int | None, list[str]]] = []
    for page, lines in _pages(text):
        current: list[str] = []
        for line in lines + [""]:
            if line.strip():
                current.append(line)
            elif current:
                paragraphs.append((page, current))
                current = []
    return _line_blocks(paragraphs), dict(_NO_META), warnings


# ---------------------------------------------------------------------------------- Markdown

_FRONT = re.compile(r"\A---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_ATX = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$")
_SETEXT = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_RULE = re.compile(r"^\s{0,3}(?:[-*_][ \t]*){3,}$")
_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+")
_QUOTE = re.compile(r"^\s{0,3}(?:>\s?)+")
# Possessive quantifiers: a line of 40,000 spaces is one try, not 40,000 squared.
_TABLE_SEP = re.compile(r"^\s*+\|?\s*+:?-{2,}+:?\s*+(?:\|\s*+:?-{2,}+:?\s*+)*+\|?\s*+$")
_MD_MARKUP = re.compile(r"[*_`\[\]<>~\\&]")
# What CommonMark leaves as text: reference-style links without a definition and footnote marks.
# Bounded runs without brackets, so each try stops at the next bracket: linear.
_MD_LEFTOVERS = [(re.compile(r"\[\^[^\[\]\s]{1,64}\]"), ""),
                 (re.compile(r"\[([^\[\]]{1,500})\]\[[^\[\]]{0,100}\]"), r"\1")]


@cache
def _markdown():
    """markdown-it-py (CommonMark, linear-time inline rules) with strike-through; HTML is parsed
    so that it can be dropped."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": True}).enable("strikethrough")


def _md_inline(text: str) -> str:
    """Inline Markdown -> plain text: markup, images and inline HTML go, link and code text stays;
    line breaks are kept as newlines."""
    if not _MD_MARKUP.search(text):
        return text  # most paragraphs of a paper: nothing to parse
    out: list[str] = []
    for token in _markdown().parseInline(text)[0].children or []:
        if token.type in ("text", "code_inline"):
            out.append(token.content)
        elif token.type in ("softbreak", "hardbreak"):
            out.append("\n")
    text = "".join(out)
    for pattern, repl in _MD_LEFTOVERS:
        text = pattern.sub(repl, text)
    return text


def _strip_comments(text: str) -> str:
    """HTML comments removed in one pass (an unclosed one runs to the end, as in HTML)."""
    out, at = [], 0
    while (start := text.find("<!--", at)) >= 0:
        out.append(text[at:start])
        end = text.find("-->", start + 4)
        at = len(text) if end < 0 else end + 3
    out.append(text[at:])
    return "".join(out)


def _front_matter(text: str) -> tuple[Meta, str]:
    """YAML-like front matter (title, author(s), year or date; lists as '- item') and the rest."""
    meta = dict(_NO_META)
    m = _FRONT.match(text)
    if not m:
        return meta, text
    fields: dict[str, list[str]] = {}
    key = None
    for line in m.group(1).split("\n"):
        kv = re.match(r"^([A-Za-z_]+)\s*:\s*(.*)$", line)
        if kv:
            key = kv.group(1).lower()
            value = kv.group(2).strip().strip("\"'")
            fields[key] = [value] if value else []
        elif key and re.match(r"^\s*-\s+", line):
            fields[key].append(re.sub(r"^\s*-\s+", "", line).strip().strip("\"'"))
    meta["title"] = "; ".join(fields.get("title", [])) or None
    authors = fields.get("authors") or fields.get("author") or []
    meta["authors"] = "; ".join(authors) or None
    year = _YEAR.search(" ".join(fields.get("year") or fields.get("date") or []))
    meta["year"] = int(year.group(1)) if year else None
    return meta, text[m.end():]


def _read_md(name: str, content: bytes) -> Parsed:
    """Markdown: headings, paragraphs, list items and table rows become blocks; code is skipped.

    Title/authors/year come from front matter; without it the first '# ' heading is the title.
    """
    text, warnings = _decode(name, content)
    meta, body = _front_matter(text)
    body = _strip_comments(body)
    raw: list[tuple[bool, list[str]]] = []  # (is heading, source lines)
    current: list[str] = []
    in_code = False

    def close() -> None:
        if current:
            raw.append((False, current.copy()))
            current.clear()

    for line in body.split("\n"):
        if _FENCE.match(line):
            close()
            in_code = not in_code
            continue
        if in_code:
            continue
        line = _QUOTE.sub("", line)
        if _SETEXT.match(line) and len(current) == 1:
            raw.append((True, current.copy()))
            current.clear()
        elif (h := _ATX.match(line)) is not None:
            close()
            raw.append((True, [h.group(1)]))
        elif not line.strip() or _RULE.match(line) or _TABLE_SEP.match(line):
            close()
        elif line.lstrip().startswith("|"):
            close()
            raw.append((False, ["; ".join(c.strip() for c in line.strip().strip("|").split("|"))]))
        elif _ITEM.match(line):
            close()
            current.append(_ITEM.sub("", line, count=1))
        else:
            current.append(line)
    close()
    vocab = vocabulary([ln for _, lines in raw for ln in lines])
    blocks = []
    for heading, lines in raw:
        text = join_lines(_md_inline("\n".join(lines)).split("\n"), vocab)[0]
        if text:
            blocks.append(Block(text, heading=heading))
    if meta["title"] is None and blocks and blocks[0].heading:
        meta["title"] = blocks[0].text
    return blocks, meta, warnings


# -------------------------------------------------------------------------------- DOCX / RTF

def _read_docx(name: str, content: bytes) -> Parsed:
    """python-docx paragraphs and table rows in body order; Heading/Title styles are headings."""
    import docx
    from docx.table import Table

    if not content.startswith(b"PK"):
        raise InputError(name, "is not a valid DOCX file (not a zip archive; an encrypted or old .doc file?)")
    _check_docx_zip(name, content)
    try:
        document = docx.Document(io.BytesIO(content))
        items = list(document.iter_inner_content())
        props = document.core_properties
    except Exception as err:  # zip, XML and package errors all mean the same to the user
        raise InputError(name, f"is not a valid DOCX file ({type(err).__name__})") from None
    meta = dict(_NO_META)
    blocks = []
    for item in items:
        if isinstance(item, Table):
            for row in item.rows:
                cells = list(dict.fromkeys(clean(c.text) for c in row.cells))
                if any(cells):
                    blocks.append(Block("; ".join(c for c in cells if c)))
            continue
        text = clean(item.text)
        if not text:
            continue
        style = (item.style.name if item.style is not None else "") or ""
        heading = style.startswith("Heading") or style == "Title" or is_heading(text, True)
        if style == "Title" and meta["title"] is None:
            meta["title"] = text
        blocks.append(Block(text, heading=heading))
    # python-docx's blank template says author "python-docx", created 2013: not this paper's.
    template = props.author == "python-docx"
    meta["title"] = clean(props.title or "") or meta["title"]
    meta["authors"] = None if template else clean(props.author or "") or None
    meta["year"] = props.created.year if props.created and not template else None
    return blocks, meta, []


def _check_docx_zip(name: str, content: bytes) -> None:
    """Refuses a DOCX whose unpacked size, member count or paragraph count is over the limits,
    from the zip directory and one bounded scan, before python-docx builds anything."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = archive.infolist()
            if len(members) > MAX_ZIP_MEMBERS:
                raise InputError(name, f"holds {len(members)} zip members, over the limit of {MAX_ZIP_MEMBERS}")
            unpacked = sum(m.file_size for m in members)
            if unpacked > MAX_UNPACKED_BYTES:
                raise InputError(name, f"unpacks to {unpacked / 2**20:.0f} MB, over the "
                                       f"{MAX_UNPACKED_BYTES / 2**20:g} MB limit for DOCX contents")
            if any(m.flag_bits & 0x1 for m in members):
                raise InputError(name, "is encrypted (password-protected zip members)")
            body = next((m for m in members if m.filename == "word/document.xml"), None)
            if body is None:
                raise InputError(name, "is not a valid DOCX file (no word/document.xml)")
            paragraphs = len(re.findall(rb"<w:p[\s/>]", archive.read(body)))
    except InputError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, ValueError, zlib.error) as err:
        detail = "corrupt compressed data" if isinstance(err, zlib.error) else type(err).__name__
        raise InputError(name, f"is not a valid DOCX file ({detail})") from None
    if paragraphs > MAX_DOCX_PARAGRAPHS:
        raise InputError(name, f"holds {paragraphs} paragraphs, over the limit of {MAX_DOCX_PARAGRAPHS}")


MAX_RTF_FONT_TABLE = 16_384
MAX_RTF_FIELD_WORK = 20_000_000
"""striprtf's font-table and hyperlink regexes rescan the rest of the group / line from every
font or field they try: their work is (tries) x (length), bounded here before it starts."""


def _check_rtf_work(name: str, source: str) -> None:
    from striprtf.striprtf import font_table_group

    table = len(font_table_group(source))
    if table > MAX_RTF_FONT_TABLE:
        raise InputError(name, f"has a {table}-character font table, over the RTF limit of {MAX_RTF_FONT_TABLE}")
    fields = source.count("\\fldinst")
    if fields:
        longest = max(map(len, source.split("\n")))
        if fields * longest > MAX_RTF_FIELD_WORK:
            raise InputError(name, f"holds {fields} fields on lines of up to {longest} characters, over the RTF "
                                   f"limit of {MAX_RTF_FIELD_WORK} (fields x line length)")


def _read_rtf(name: str, content: bytes) -> Parsed:
    """striprtf plain text; each RTF paragraph (\\par) is a block."""
    from striprtf.striprtf import rtf_to_text

    if not content.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{\\rtf"):
        raise InputError(name, "is not an RTF file (no {\\rtf header)")
    source, warnings = _decode(name, content)
    _check_rtf_work(name, source)
    try:
        text = rtf_to_text(source, errors="replace")
    except Exception as err:  # striprtf raises plain exceptions on broken control words
        raise InputError(name, f"is not readable RTF ({type(err).__name__})") from None
    if len(_CONTROL.findall(text)) > max(2, 0.01 * len(text)):
        raise InputError(name, "is not readable RTF (garbled content)")
    return _line_blocks([(None, [ln]) for ln in text.split("\n")]), dict(_NO_META), warnings


def _read_pdf(name: str, content: bytes) -> Parsed:
    from data.pdf import read_pdf

    return read_pdf(name, content)


_READERS: dict[str, Callable[[str, bytes], Parsed]] = {
    ".pdf": _read_pdf, ".txt": _read_txt, ".md": _read_md, ".docx": _read_docx, ".rtf": _read_rtf}


# -------------------------------------------------------------------------------- public API

def _check_size(name: str, size: int) -> None:
    if size > MAX_UPLOAD_BYTES:
        raise InputError(name, f"is {size / 2**20:.1f} MB, over the "
                               f"{MAX_UPLOAD_BYTES / 2**20:g} MB upload limit")


def _check(name: str, content: bytes) -> str:
    """The lower-cased suffix, after refusing unsupported, oversized and empty files."""
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise InputError(name, f"unsupported file type '{suffix or 'no extension'}' "
                               f"(supported: {', '.join(SUPPORTED_SUFFIXES)})")
    _check_size(name, len(content))
    if not content.strip():
        raise InputError(name, "is empty")
    return suffix


def _parse(name: str, content: bytes, suffix: str) -> tuple[str, ParsedDocument]:
    blocks, meta, warnings = _READERS[suffix](name, content)
    full_text, sentences = assemble(blocks)
    if not sentences:
        raise InputError(name, "contains no text to annotate")
    check_encodable(name, full_text)
    doc = ParsedDocument(filename=Path(name).name, sha256=hashlib.sha256(content).hexdigest(),
                         sentences=sentences, title=meta["title"], authors=meta["authors"],
                         year=meta["year"], format=suffix[1:], warnings=warnings,
                         pdf=content if suffix == ".pdf" else None)
    return full_text, doc


def read_document(name: str, content: bytes) -> list[ParsedDocument]:
    """Parse one uploaded file by its suffix; pure (touches no database).

    One document, except TwoSix JSON (one per paper) and JSONL (data.formats). Raises
    InputError(name, reason) for anything unusable.
    """
    suffix = _check(name, content)
    if suffix not in _READERS:
        from data.formats import read_jsonl, read_twosix
        from data.validate import check_document

        docs = (read_twosix if suffix == ".json" else read_jsonl)(name, content)
        if not docs:
            raise InputError(name, "contains no documents")
        for doc in docs:
            check_document(doc, name)  # what the store would refuse, named at upload
    else:
        docs = [_parse(name, content, suffix)[1]]
    for doc in docs:
        check_limits(name, doc)
    return docs


def check_limits(name: str, doc: ParsedDocument) -> None:
    """Refuses a document over MAX_SENTENCES sentences or with a sentence over MAX_SENTENCE_CHARS."""
    if len(doc.sentences) > MAX_SENTENCES:
        raise InputError(name, f"holds {len(doc.sentences)} sentences, over the limit of {MAX_SENTENCES}")
    for i, sent in enumerate(doc.sentences, 1):
        if len(sent.text) > MAX_SENTENCE_CHARS:
            raise InputError(name, f"sentence {i} is {len(sent.text)} characters long, over the limit of "
                                   f"{MAX_SENTENCE_CHARS} (a table or binary data?)")


def document_text(name: str, content: bytes) -> str:
    """The normalised full text that sentence offsets index into (not for .json/.jsonl)."""
    suffix = _check(name, content)
    if suffix not in _READERS:
        raise InputError(name, f"{suffix} files carry sentences, not one full text")
    return _parse(name, content, suffix)[0]


def read_path(path: str | Path) -> list[ParsedDocument]:
    """read_document for a file on disk: symbolic links and anything but a regular file are
    refused (a link named paper.txt could point at any file the server can read), and the size
    is checked on the opened file before it is read."""
    p = Path(path)
    if p.is_symlink():
        raise InputError(p.name, "is a symbolic link; give the file it points to instead")
    try:
        fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        raise InputError(p.name, "file not found") from None
    except OSError as err:
        raise InputError(p.name, f"cannot be opened ({err.strerror or type(err).__name__})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InputError(p.name, "is not a regular file")
        _check_size(p.name, info.st_size)
        with os.fdopen(os.dup(fd), "rb") as f:
            content = f.read(MAX_UPLOAD_BYTES + 1)
    finally:
        os.close(fd)
    return read_document(p.name, content)
