"""Suggesting concept merges (case, simple plural, leading article) for a reviewer to accept.

Only suggestions: the reviewer picks, the store records the chosen ones as aliases (so they can
be undone), and build_map consumes the alias dict. Two names are suggested together only when
both occur, so crude plural rules cannot invent a concept.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from core.names import normalize

ARTICLES = ("the", "a", "an")


def _key(name: str) -> str:
    """Lower case, single spaces, no leading article."""
    words = normalize(name).split()
    if len(words) > 1 and words[0] in ARTICLES:
        words = words[1:]
    return " ".join(words)


def _singulars(word: str) -> set[str]:
    """Possible singulars of an English word under the s / es / ies rules."""
    out: set[str] = set()
    if len(word) > 3 and word.endswith("ies"):
        out.add(word[:-3] + "y")
    if len(word) > 2 and word.endswith("es"):
        out.add(word[:-2])
    if len(word) > 1 and word.endswith("s") and not word.endswith("ss"):
        out.add(word[:-1])
    return out


def _has_article(name: str) -> bool:
    words = normalize(name).split()
    return len(words) > 1 and words[0] in ARTICLES


def suggest_merges(names: Iterable[str] | Mapping[str, int]) -> list[tuple[str, str]]:
    """Suggested (alias, canonical) pairs among the given concept names.

    names may be a mapping name -> number of uses; the canonical name of a group is the most
    used, then one without a leading article, then the group's singular form, then the shortest, then
    alphabetical. Returned pairs are sorted by (canonical, alias).
    """
    counts = dict(names) if isinstance(names, Mapping) else {n: 1 for n in names}
    by_key: dict[str, list[str]] = {}
    for name in counts:
        by_key.setdefault(_key(name), []).append(name)

    parent = {k: k for k in by_key}

    def find(k: str) -> str:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for key in by_key:
        head, _, last = key.rpartition(" ")
        for singular in _singulars(last):
            other = f"{head} {singular}" if head else singular
            if other in by_key:
                parent[find(key)] = find(other)

    groups: dict[str, list[str]] = {}
    for key, members in by_key.items():
        groups.setdefault(find(key), []).extend(members)

    pairs: list[tuple[str, str]] = []
    for root, members in groups.items():
        if len(members) < 2:
            continue
        canonical = min(members, key=lambda n: (
            -counts[n], _has_article(n), _key(n) != root, len(n), n))
        pairs.extend((m, canonical) for m in members if m != canonical)
    return sorted(pairs, key=lambda p: (p[1], p[0]))
