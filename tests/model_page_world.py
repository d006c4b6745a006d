"""An invented gold set in a store, for the Model page tests (every sentence made up here).

A labelled paper: causal sentences (both directions, both signs) labelled by the annotator "gold",
neutral sentences marked "no relation" by them; and an unlabelled paper in the same style for
the Label page to ask the model about.
"""
from __future__ import annotations

import hashlib
import random

from core.spans import find_span
from core.types import ParsedDocument, ParsedSentence, PassageRelation
from data.store import Store

CAUSES = ["heavy rain", "air pollution", "chronic stress", "long drought", "new fertilizer", "warm water",
          "noise exposure", "overfishing", "road salt", "forest loss"]
EFFECTS = ["river floods", "lung disease", "poor sleep", "crop failure", "algae blooms", "coral bleaching",
           "hearing loss", "fish decline", "soil erosion", "bird deaths"]
INCREASE_AB = ["The {a} increases {b} in the valley.", "More {a} raises the risk of {b}."]
DECREASE_AB = ["The {a} reduces {b} across the region.", "Stronger {a} lowers the rate of {b}."]
INCREASE_BA = ["The {b} grows with {a} every year."]
NEUTRAL = ["The {a} and the {b} were both listed in the annual report.",
           "Researchers measured {a} near the station where {b} was also recorded."]
UNLABELLED = "Heavy rain increases river floods in the valley. Road salt reduces bird deaths across the region."


def _sentence(i: int, rng: random.Random) -> ParsedSentence:
    a, b = rng.choice(CAUSES), rng.choice(EFFECTS)
    kind = i % 6
    if kind == 5:
        return ParsedSentence(NEUTRAL[i % 2].format(a=a, b=b), status="no-relation")
    tpl, sign, src, tgt = [(INCREASE_AB[i % 2], 1, a, b), (DECREASE_AB[i % 2], -1, a, b),
                           (INCREASE_BA[0], 1, a, b), (DECREASE_AB[(i + 1) % 2], -1, a, b),
                           (INCREASE_AB[(i + 1) % 2], 1, a, b)][kind]
    text = tpl.format(a=a, b=b)
    rel = PassageRelation(src, tgt, sign, find_span(text, src), find_span(text, tgt))
    return ParsedSentence(text, status="labeled", relations=[rel])


def _doc(name: str, sentences: list[ParsedSentence], title: str) -> ParsedDocument:
    start = 0
    for s in sentences:
        s.start, s.end = start, start + len(s.text)
        start = s.end + 1
    digest = hashlib.sha256(" ".join(s.text for s in sentences).encode()).hexdigest()
    return ParsedDocument(name, digest, sentences, title=title, authors="Doe, Jane", year=2024, format="txt")


def gold_store(url: str, n: int = 60, seed: int = 0) -> Store:
    """A store with an invented paper of n sentences labelled by "gold" (5 in 6 causal) and an
    unlabelled paper; returns the open store."""
    rng = random.Random(seed)
    store = Store(url)
    labelled = _doc("gold-paper.txt", [_sentence(i, rng) for i in range(n)], "Invented gold paper")
    store.import_documents([labelled], annotator="gold")
    fresh = [ParsedSentence(t.strip() + ".") for t in UNLABELLED.split(".") if t.strip()]
    store.import_documents([_doc("new-paper.txt", fresh, "Invented new paper")])
    return store
