"""Relations as the relation writer reads and writes them: one "src -> tgt (+|-)" line each.

The prompt and the line format are shared by the writer's tuning (finetune.writer) and its
extraction (models.writer), so both sides of the model agree on one text form.
"""
from __future__ import annotations

import re
from collections.abc import Sequence

from core.types import PassageRelation

PROMPT = "Passage: {text}\nCausal relations:"
UNSIGNED = "Passage: {text}\nCausal relations, sign unknown:"
"""The prompt of examples whose relations have no sign (CNC): the model learns to find cause and
effect from them, and the sign only from the signed prompt it is asked with."""
NONE = "none"
LINE = re.compile(r"^\s*(.+?)\s*->\s*(.+?)\s*\(([+-])\)\s*$")


def prompt(text: str, unsigned: bool = False) -> str:
    return (UNSIGNED if unsigned else PROMPT).format(text=text)


def target(relations: Sequence[PassageRelation]) -> str:
    """The text the writer learns to write for a passage's relations ("none" when it has none);
    a relation of sign 0 (unknown) is written without one."""
    lines = [f"{r.src} -> {r.tgt}" + (f" ({'-' if r.sign < 0 else '+'})" if r.sign else "") for r in relations]
    return "\n" + ("\n".join(lines) if lines else NONE)


def parse_line(line: str) -> PassageRelation | None:
    """The relation one written line states, or None when it states none."""
    m = LINE.match(line)
    return PassageRelation(src=m[1], tgt=m[2], sign=-1 if m[3] == "-" else 1) if m else None


def parse(text: str) -> list[PassageRelation]:
    """The relations in a written text: one "src -> tgt (sign)" per line, anything else ignored,
    each (src, tgt, sign) once."""
    seen, out = set(), []
    for line in text.splitlines():
        rel = parse_line(line)
        if rel is not None:
            key = (rel.src.lower(), rel.tgt.lower(), rel.sign)
            if key not in seen:
                seen.add(key)
                out.append(rel)
    return out
