"""The concept head: P(a candidate span is a concept as people label it), to drop pairs whose ends
are spans nobody would write on a map.

Granular candidates (models.candidates._granular) put the labelled ends among the candidates far
more often, but they double the spans, and the pair head alone scored too many wrong readings
("scarcity" or "water" beside "scarcity of water"). This head learns which reading is labelled:
LogisticRegression (models.heads.HeadClassifier) over the span's pooled embedding (the embedder's
"a" part of a Candidate whose a == b: the sentence's one forward pass, no pass per span) beside
text cues that need no tagger (SpanCues).

Rows: every candidate span of a training passage, 1 when its content words are exactly a gold
concept's content words (core.matching.content_words), else 0. The scorer's rule (Jaccard >= 0.5
of the words) is too loose for labels: "water" and "scarcity of water" both match the gold
"scarcity of water", and which of them is meant is what the head has to learn.
"""
from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.pipeline import FeatureUnion, Pipeline

from core.matching import content_words
from core.types import Candidate, PassageRelation, Span
from models.candidates import ATTACH_PREPS, DASHES, split_state
from models.heads import Scaled

DETERMINERS = ("the", "a", "an", "this", "that", "these", "those", "its", "their", "his", "her", "our", "some")
PREPOSITIONS = (*ATTACH_PREPS, "from", "by", "with", "at", "among", "between", "about", "into", "over", "under")
CUE_NAMES = ("n_words", "one_word", "starts_det", "starts_prep", "ends_prep", *(f"has_{p}" for p in ATTACH_PREPS),
             "has_and_or", "state_word", "dash", "capitalised", "acronym", "digit", "starts_gerund",
             "prev_prep", "next_prep", "prev_det", "share_of_text")
_WORD = re.compile(r"[\w’'-]+|[^\w\s]")


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


class SpanCues(TransformerMixin, BaseEstimator):
    """Dense cues of a span (Candidate with a == b) computed from the text alone: its length, the
    prepositions inside it, whether a preposition follows it ("scarcity" before "of water") or
    precedes it ("water" after "scarcity of"), state words, capitals. Stateless."""

    def fit(self, X, y=None) -> SpanCues:
        return self

    def transform(self, X: Sequence[Candidate]) -> np.ndarray:
        rows = []
        for c in X:
            s, e = c.a
            words = _words(c.text[s:e])
            low = [w.lower() for w in words]
            before = [w.lower() for w in _words(c.text[:s])[-1:]]
            after = [w.lower() for w in _words(c.text[e:])[:1]]
            first = low[0] if low else ""
            rows.append([
                min(len(words), 10) / 10, len(words) == 1, first in DETERMINERS, first in PREPOSITIONS,
                bool(low) and low[-1] in PREPOSITIONS, *(p in low[1:] for p in ATTACH_PREPS),
                "and" in low or "or" in low, split_state(c.text, (s, e))[0] != (s, e),
                any(d in c.text[s:e] for d in DASHES), c.text[s:s + 1].isupper(),
                any(len(w) > 1 and w.isupper() for w in words), any(ch.isdigit() for ch in c.text[s:e]),
                first.endswith("ing"), bool(before) and before[0] in PREPOSITIONS,
                bool(after) and after[0] in PREPOSITIONS, bool(before) and before[0] in DETERMINERS,
                (e - s) / max(len(c.text), 1),
            ])
        # float64: the head then fits float64 coefficients, which a bundle reloads exactly
        return np.asarray(rows, dtype=np.float64).reshape(-1, len(CUE_NAMES))

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        return np.asarray(CUE_NAMES, dtype=object)


def concept_features(embedder: BaseEstimator | None, embed_weight: float) -> FeatureUnion:
    """The span's embedding (standardised, times embed_weight; absent without an embedder) beside
    its SpanCues. The embedding block is named "embed" like the other heads' (WEIGHT_PARAM)."""
    blocks = []
    if embedder is not None:
        blocks.append(("embed", Pipeline([("encode", embedder), ("scale", Scaled(embed_weight))])))
    blocks.append(("span", SpanCues()))
    return FeatureUnion(blocks)


def span_row(text: str, span: Span) -> Candidate:
    """A span as the Candidate the embedder pools: a == b."""
    return Candidate(text, tuple(span), tuple(span))


def concept_labels(text: str, spans: Sequence[Span], gold: Sequence[PassageRelation], states: bool = False
                   ) -> list[int]:
    """1 per span whose content words are exactly those of a gold source or target of the text
    (an offset span of the gold counts as its text there), else 0 (see the module docstring).
    states: a span also counts when its name without state words matches ("scarcity of water" for
    the gold "water"), as the model then reads the state words as the concept's direction."""
    names = set()
    for rel in gold:
        for name, where in ((rel.src, rel.src_span), (rel.tgt, rel.tgt_span)):
            if where is not None and 0 <= where[0] < where[1] <= len(text):
                name = text[where[0]:where[1]]
            if name and name.strip():
                names.add(content_words(name))
    def matches(span: Span) -> bool:
        if content_words(text[span[0]:span[1]]) in names:
            return True
        (a, b), _ = split_state(text, span) if states else (span, 1)
        return (a, b) != tuple(span) and content_words(text[a:b]) in names

    return [int(matches(tuple(s))) for s in spans]
