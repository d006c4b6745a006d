"""Tiny invented datasets in every training format, for the relation-model tests.

All sentences are made up here from templates (no text from the shared datasets).
"""
from __future__ import annotations

import csv
import json
import random
from pathlib import Path

CAUSES = ["heavy rain", "air pollution", "chronic stress", "long drought", "new fertilizer", "warm water",
          "noise exposure", "overfishing"]
EFFECTS = ["river floods", "lung disease", "poor sleep", "crop failure", "algae blooms", "coral bleaching",
           "hearing loss", "fish decline"]
CAUSAL_AB = ["The {a} caused {b} in the valley.", "Scientists found that {a} leads to {b} over time.",
             "The {a} triggered severe {b} last year."]
CAUSAL_BA = ["The {b} was caused by {a} in the valley.", "Severe {b} resulted from {a} last year."]
NEUTRAL = ["The {a} and the {b} were both listed in the annual report.",
           "Researchers measured {a} near the station where {b} was also recorded."]
DECREASE = ["The {a} reduced {b} across the region.", "The {a} lowered the rate of {b} in town."]


def _pairs(n: int, seed: int):
    rng = random.Random(seed)
    return [(rng.choice(CAUSES), rng.choice(EFFECTS), rng.random()) for _ in range(n)]


def semeval_file(path: Path, n: int = 60, seed: int = 0) -> Path:
    """SemEval-2010 Task 8 layout (CRLF, four-line blocks)."""
    blocks = []
    for i, (a, b, r) in enumerate(_pairs(n, seed), 1):
        causal = r < 0.55
        tpl = (CAUSAL_AB + CAUSAL_BA)[i % 5] if causal else NEUTRAL[i % len(NEUTRAL)]
        text = tpl.format(a=f"\x00{a}\x01", b=f"\x02{b}\x03")
        a_first = text.index("\x00") < text.index("\x02")  # e1 is always the first nominal
        tags = ("<e1>", "</e1>", "<e2>", "</e2>") if a_first else ("<e2>", "</e2>", "<e1>", "</e1>")
        for mark, tag in zip("\x00\x01\x02\x03", tags):
            text = text.replace(mark, tag)
        label = ("Cause-Effect(e1,e2)" if a_first else "Cause-Effect(e2,e1)") if causal else "Other"
        blocks.append(f'{i}\t"{text}"\r\n{label}\r\nComment:\r\n\r\n')
    path.write_text("".join(blocks), newline="")
    return path


def twosix_file(path: Path, n: int = 40, seed: int = 1) -> Path:
    """TwoSix JSON passages with signed relations (and some without any)."""
    passages = []
    for i, (a, b, r) in enumerate(_pairs(n, seed)):
        if r < 0.4:
            text, rels = CAUSAL_AB[i % len(CAUSAL_AB)].format(a=a, b=b), [{"src": a, "tgt": b, "direction": "increase"}]
        elif r < 0.7:
            text, rels = DECREASE[i % len(DECREASE)].format(a=a, b=b), [{"src": a, "tgt": b, "direction": "decrease"}]
        else:
            text, rels = NEUTRAL[i % len(NEUTRAL)].format(a=a, b=b), []
        passages.append({"text": text, "causal relations": rels,
                         "meta_data": {"title": "Invented study", "authors": "Doe, Jane", "year": 2024}})
    path.write_text(json.dumps(passages, indent=1))
    return path


def cnc_file(path: Path, n: int = 40, seed: int = 2) -> Path:
    """Causal News Corpus subtask-1 CSV (UTF-8 with BOM)."""
    with open(path, "w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow(["index", "text", "label"])
        for i, (a, b, r) in enumerate(_pairs(n, seed)):
            causal = r < 0.5
            tpl = (CAUSAL_AB if causal else NEUTRAL)[i % 2]
            writer.writerow([f"fx_{i}", tpl.format(a=a, b=b), int(causal)])
    return path
