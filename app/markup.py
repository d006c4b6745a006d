"""Document text, names and notes shown as text on the pages: Markdown made inert, long titles
cut to one line, the picked source and target coloured."""
from __future__ import annotations

import re

from core.types import Span

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=^&])")
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
_AUTOLINK = re.compile(r"(?<=:)(?=//)|(?<=www)(?=\.)|(?=@)", re.IGNORECASE)
"""Where GitHub-flavoured Markdown would start a bare link (http://, www., an e-mail @): an
invisible word joiner there keeps the text a text, as backslashes cannot."""


def escape_markdown(text: str) -> str:
    """Document text made inert for st.markdown: every markup character is backslash-escaped.

    Papers contain `*`, `_`, `$`, `<`, `[`... which Markdown would otherwise turn into
    formatting, math, links or entities; escaped, the reader sees exactly the sentence's characters.
    Bidirectional overrides (U+202A-E, U+2066-9) are dropped: shown, they would reverse the text
    around them (a name could make the line after it read backwards); bare URLs and e-mail
    addresses get an invisible word joiner so that they are not made into links.
    """
    text = _AUTOLINK.sub("\u2060", _BIDI_CONTROLS.sub("", text))
    return _MD_SPECIAL.sub(r"\\\1", text).replace("\n", " ")


def shorten(text: str, limit: int = 160) -> str:
    """A title for one line of the page: a 10,000-character name must not push the controls away."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def highlight(text: str, source: Span | None, target: Span | None) -> str:
    """The sentence as escaped Markdown with the source and target spans coloured.

    Overlapping spans are not coloured twice: the target is dropped when it overlaps the source.
    """
    marks = [(s, "blue") for s in [source] if s] + [
        (t, "orange") for t in [target] if t and not (source and t[0] < source[1] and source[0] < t[1])
    ]
    out, pos = [], 0
    for (start, end), colour in sorted(marks):
        out.append(escape_markdown(text[pos:start]))
        out.append(f":{colour}-background[{escape_markdown(text[start:end])}]")
        pos = end
    out.append(escape_markdown(text[pos:]))
    return "".join(out)
