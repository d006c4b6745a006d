"""Paragraph blocks: the common shape every reader produces before sentences are cut.

A reader (PDF, plain text, Markdown, DOCX, RTF) turns its file into an ordered list of Blocks.
`assemble` joins them into the document's full text -- blocks separated by one blank line,
whitespace inside a block collapsed to single spaces -- and cuts sentences inside each block,
so every sentence satisfies ``text == full_text[start:end]`` and never crosses a paragraph.
Headings and table-like paragraphs (mostly numbers) stay in the full text but are not
sentences; everything after a "References" heading is marked is_reference (one entry per
paragraph, not cut at full stops) so annotators can skip it and the model is not asked.
"""
from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field

from core.types import ParsedSentence
from data.sentences import split_sentences

_SPACE = re.compile(r"\s+")
_NUMBERING = re.compile(r"^(?:\d+(?:\.\d+)*\.?|[IVX]+\.|[A-H]\.)\s+")
_REFERENCE_HEADINGS = frozenset({"references", "bibliography", "literature cited", "works cited",
                                 "bibliographical references", "bibliographic references",
                                 "reference list", "references cited", "cited literature",
                                 "references and notes", "notes and references"})
# Sections that may follow the reference list and are prose again ("Appendix B: Gear types").
_AFTER_REFERENCES = re.compile(r"^(?:appendix(?: [a-z0-9]{1,3})?|appendices|supporting information"
                               r"|supplementary (?:materials?|information|data))(?:$|: )")
_SECTION_NAMES = _REFERENCE_HEADINGS | frozenset({
    "abstract", "introduction", "background", "methods", "materials and methods",
    "material and methods", "methodology", "study area", "data", "results", "discussion",
    "results and discussion", "conclusion", "conclusions", "summary", "acknowledgements",
    "acknowledgments", "acknowledgement", "acknowledgment", "funding", "author contributions",
    "declaration of competing interest", "conflict of interest", "data availability"})
_PROSE_WORD = re.compile(r"^\W*[^\W\d_]{2,}")
_CAPTION = re.compile(r"^(?:Fig(?:ure|\.)?|Table|Tab\.)\s*[A-Z]?\d+[.:]\s")
_LIGATURES = {"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl",
              "\ufb05": "st", "\ufb06": "st"}
_LIGATURE = re.compile("[\ufb00-\ufb06]")
_HYPHENS = "-\u2010\u00ad\x02\ufffe"
_HARD_HYPHENS = "-\u2010\ufffe\x02"  # pdfium reports any line-end hyphen as U+FFFE or STX
_INNER_MARK = re.compile("[\u00ad\x02\ufffe](?=.)", re.S)
_WORD = re.compile(r"[^\W\d_][\w\-\u2010]*", re.UNICODE)
# First halves of compounds that keep their hyphen at a line end ("well-" + "known").
_COMPOUND_HEADS = frozenset({"well", "self", "long", "short", "high", "low", "large", "small",
                             "full", "half", "cross", "ill", "mid", "non", "fine", "broad"})


Box = tuple[float, float, float, float]
"""x0, top, x1, bottom on a page, in fractions of its width and height (top-down)."""


@dataclass
class Block:
    """A paragraph (or heading) of normalised text.

    pages holds (offset in text, page) for every place the page changes inside the block, so a
    paragraph that runs over a page break still gives each sentence the page it starts on.
    boxes (PDF only) holds (start, end, page, box) for each text run, so a sentence can be shown
    where it is drawn.
    """

    text: str
    pages: list[tuple[int, int]] = field(default_factory=list)
    heading: bool = False
    boxes: list[tuple[int, int, int, Box]] = field(default_factory=list)


def span_boxes(block: Block, start: int, end: int) -> list[tuple[int, float, float, float, float]]:
    """(page, x0, top, x1, bottom) of the text between two offsets of a block, one per text run.

    A run only partly inside is cut in proportion to its characters (upright text only; a
    run set sideways is kept whole).
    """
    out = []
    for a, b, page, (x0, top, x1, bottom) in block.boxes:
        lo, hi = max(a, start), min(b, end)
        if hi <= lo:
            continue
        if x1 - x0 >= bottom - top and b > a:
            x0, x1 = x0 + (x1 - x0) * (lo - a) / (b - a), x0 + (x1 - x0) * (hi - a) / (b - a)
        out.append((page, *(round(v, 4) for v in (x0, top, x1, bottom))))
    return out


def clean(text: str) -> str:
    """Ligatures expanded, every run of whitespace one space, no outer whitespace.

    Hyphen marks inside the text are settled (soft hyphens vanish, pdfium's hyphen marks become
    "-"); one at the very end is left for join_lines, which knows whether a line follows.
    """
    if _LIGATURE.search(text):
        text = _LIGATURE.sub(lambda m: _LIGATURES[m.group(0)], text)
    text = _SPACE.sub(" ", text).strip()
    if _INNER_MARK.search(text):
        text = _INNER_MARK.sub(lambda m: "" if m.group(0) == "\u00ad" else "-", text)
    return text


def section_name(line: str) -> str:
    """A heading's name without numbering or trailing colon, lowercased ("2. Methods:" -> methods)."""
    return _NUMBERING.sub("", clean(line)).rstrip(":. ").lower()


def is_heading(line: str, standalone: bool) -> bool:
    """Whether a line is a section heading, for formats that carry no heading markup.

    A known section name ("Results", "4 References") always is; a short numbered line with no
    final stop ("2.1 Study area") only when it stands alone, since a wrapped body line can start
    with a number too.
    """
    text = clean(line)
    name = section_name(text)
    if name in _SECTION_NAMES or (_AFTER_REFERENCES.match(name) and len(text.split()) <= 10):
        return True
    return (standalone and bool(_NUMBERING.match(text)) and len(text.split()) <= 10
            and text[-1:] not in ".!?;," and any(c.isupper() for c in text[:12]))


def vocabulary(lines: list[str]) -> set[str]:
    """Lower-cased words of a document, used to decide whether a line-end hyphen is real."""
    return {w.lower() for line in lines for w in _WORD.findall(line)}


def join_lines(lines: list[str], vocab: set[str] = frozenset()) -> tuple[str, list[int]]:
    """Join wrapped lines into one paragraph, undoing end-of-line hyphenation.

    "environ-" + "mental" -> "environmental"; the hyphen is kept when the document uses the
    hyphenated form elsewhere and never the joined one ("long-" + "term" -> "long-term").
    Returns the text and where each line starts in it (readers map pages with these).
    """
    parts: list[str] = []  # pieces joined once at the end: a long paragraph stays linear
    starts: list[int] = []
    length = 0
    for raw in lines:
        line = clean(raw)
        if not line:
            starts.append(length)
            continue
        last = parts[-1] if parts else ""
        if last[-1:] in _HYPHENS and last[-2:-1].isalpha() and line[0].islower():
            head = _WORD.findall(last[-40:])
            tail = _WORD.match(line)
            stem = head[-1].rstrip(_HYPHENS).lower() if head else ""
            rest = tail.group(0).lower() if tail else ""
            keep = last[-1] in _HARD_HYPHENS and f"{stem}{rest}" not in vocab and (
                f"{stem}-{rest}" in vocab or (stem in _COMPOUND_HEADS and len(rest) > 2))
            parts[-1] = last[:-1] + "-" if keep else last[:-1]
            length += len(parts[-1]) - len(last)
        elif parts:
            parts.append(" ")
            length += 1
        starts.append(length)
        parts.append(line)
        length += len(line)
    text = "".join(parts)
    if text and text[-1] in _HYPHENS:  # a paragraph that ends on a hyphen mark keeps a plain hyphen
        text = text[:-1] + "-"
    return text, starts


def is_caption(text: str) -> bool:
    """Whether a paragraph is a figure or table caption ("Figure 2: ...", "Tab. 1. ...")."""
    return bool(_CAPTION.match(text))


def is_table(text: str) -> bool:
    """Whether a paragraph is table cells or figure labels rather than prose: under 40 % of its
    tokens are words of two letters or more ("13.52 97.13 ±1.28**", "A 12"). It stays in the
    full text but gives no sentences."""
    tokens = text.split()
    return sum(bool(_PROSE_WORD.match(t)) for t in tokens) < 0.4 * len(tokens)


def assemble(blocks: list[Block]) -> tuple[str, list[ParsedSentence]]:
    """The document's full text and its sentences, with pages and reference marks."""
    parts: list[str] = []
    sentences: list[ParsedSentence] = []
    offset = 0
    in_references = False
    for block in blocks:
        if not block.text:
            continue
        if block.heading:
            name = section_name(block.text)
            if name in _REFERENCE_HEADINGS:
                in_references = True
            elif _AFTER_REFERENCES.match(name):
                in_references = False
        elif not is_table(block.text):
            starts = [p[0] for p in block.pages]
            # A float's caption set among the references is no entry.
            entry = in_references and not is_caption(block.text)
            # A reference entry stays whole: journal abbreviations would shred it otherwise.
            spans = [(0, len(block.text))] if entry else split_sentences(block.text)
            for s, e in spans:
                i = bisect_right(starts, s) - 1
                page = block.pages[i][1] if i >= 0 else None
                sentences.append(ParsedSentence(text=block.text[s:e], page=page, start=offset + s,
                                                end=offset + e, is_reference=entry,
                                                boxes=span_boxes(block, s, e)))
        parts.append(block.text)
        offset += len(block.text) + 2
    return "\n\n".join(parts), sentences
