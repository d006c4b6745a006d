"""What the Map page shows, computed from the store: the filtered map, merges, tables, downloads.

Why a module: the page only lays these out, so everything a reviewer can change (filters, merges,
scenarios) is exercised by unit tests without a browser.
"""
from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.types import Evidence
from fcm.build import EvidenceFilter, FuzzyMap, build_map
from fcm.exports import draw_map, write_fcmpy_json, write_graphml, write_json, write_mental_modeler_csv
from fcm.metrics import map_metrics
from fcm.normalize import suggest_merges
from fcm.simulate import CLAMP_PRESETS, ScenarioResult
from fcm.view import SIGN_COLOURS, evidence_for_concept

if TYPE_CHECKING:
    from data.store import Store

ORIGINS: dict[str, str | None] = {"human and model": None, "human only": "human", "model only": "model"}
CLAMP_CHOICES = [*(f"-{k}" for k in CLAMP_PRESETS), *reversed(CLAMP_PRESETS)]
"""Preset names from lowest to highest level: -high, -medium, -low, low, medium, high."""


METRIC_LABELS = {
    "n_concepts": "concepts", "n_edges": "edges", "density": "density (edges / N(N-1))",
    "connections_per_concept": "connections per concept", "n_drivers": "drivers (transmitters)",
    "n_receivers": "receivers", "n_ordinary": "ordinary", "complexity": "complexity (receivers / drivers)",
    "hierarchy": "hierarchy index (MacDonald)"}
"""Whole-map indices as a reviewer reads them (Özesmi & Özesmi 2004)."""


@dataclass(frozen=True)
class MapQuery:
    """The Map page's filters. None means 'all'; origin is 'human', 'model' or None."""

    documents: tuple[int, ...] | None = None
    who: tuple[str, ...] | None = None
    origin: str | None = None
    min_score: float | None = None
    min_evidence: int = 1


def load_map(store: Store, query: MapQuery, evidence: list[Evidence] | None = None) -> FuzzyMap:
    """The map of the stored relations that pass the filters, aliases resolved. `evidence` is the
    store's evidence for query.documents when the caller has already read it (one read per rerun)."""
    if evidence is None:
        evidence = store.evidence(document_ids=None if query.documents is None else list(query.documents))
    flt = EvidenceFilter(
        annotators=None if query.who is None else frozenset(query.who), origin=query.origin,
        min_score=query.min_score, min_evidence=query.min_evidence)
    return build_map(evidence, store.aliases(), flt)


def who_said(evidence: Iterable[Evidence]) -> list[str]:
    """Annotators and model ids that stand behind at least one relation (filter options)."""
    names = {n for e in evidence for n in (e.annotator, e.model_id) if n}
    return sorted(names, key=str.casefold)


def merge_suggestions(fmap: FuzzyMap) -> list[tuple[str, str]]:
    """(alias, canonical) pairs among the map's concepts, weighted by how much evidence uses each."""
    uses = dict.fromkeys(fmap.concepts, 0)
    for edge in fmap.edges.values():
        uses[edge.source] += edge.n_evidence
        uses[edge.target] += edge.n_evidence
    return suggest_merges(uses)


def evidence_rows(fmap: FuzzyMap, concept: str) -> list[dict[str, Any]]:
    """One row per sentence behind the concept's edges, strongest edge first."""
    return [
        {"edge": f"{edge.source} → {edge.target}", "weight": round(edge.weight, 3),
         "sign": "+" if ev.sign > 0 else "−", "document": ev.document_title,
         "page": "" if ev.page is None else ev.page,  # blank, not "None", for text without pages
         "sentence": ev.sentence_text, "who": ev.annotator or ev.model_id or ev.origin,
         "origin": ev.origin, "score": "" if ev.score is None else round(ev.score, 3), "document_id": ev.document_id, "sentence_id": ev.sentence_id}
        for edge, ev in evidence_for_concept(fmap, concept)
    ]


def metrics_tables(fmap: FuzzyMap) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(whole-map indices, per-concept rows sorted by centrality) for display."""
    m = map_metrics(fmap.concepts, fmap.W)
    whole = {METRIC_LABELS.get(k, k): v for k, v in m.to_dict().items() if k != "concepts"}
    rows = [{"concept": c, "type": cm.type, "indegree": round(cm.indegree, 3),
             "outdegree": round(cm.outdegree, 3), "centrality": round(cm.centrality, 3)}
            for c, cm in m.concepts.items()]
    rows.sort(key=lambda r: (-r["centrality"], r["concept"]))
    return whole, rows


def delta_rows(result: ScenarioResult, limit: int | None = None) -> list[dict[str, Any]]:
    """Scenario deltas, largest change first (the bar chart's data)."""
    rows = sorted(({"concept": c, "delta": d, "effect": "rises" if d > 0 else "falls" if d < 0 else "unchanged"}
                   for c, d in result.delta.items()),
                  key=lambda r: (-abs(r["delta"]), r["concept"]))
    return rows[:limit] if limit else rows


SCENARIO_SERIES = {"rises": SIGN_COLOURS[1], "falls": SIGN_COLOURS[-1]}
"""The scenario chart's two series, in the map's sign colours (blue up, red down)."""


def scenario_bars(result: ScenarioResult, limit: int | None = None) -> list[dict[str, Any]]:
    """delta_rows in the wide form the bar chart colours by series: a rise in "rises", a fall
    in "falls" (None in the other)."""
    return [{"concept": r["concept"], **{k: (r["delta"] if r["effect"] == k else None) for k in SCENARIO_SERIES}}
            for r in delta_rows(result, limit)]


@dataclass(frozen=True)
class Download:
    label: str
    suffix: str
    mime: str


DOWNLOADS: dict[str, Download] = {
    "mental_modeler": Download("Mental Modeler CSV", ".csv", "text/csv"),
    "graphml": Download("GraphML", ".graphml", "application/graphml+xml"),
    "json": Download("JSON", ".json", "application/json"),
    "fcmpy": Download("FCMpy expert JSON", ".fcmpy.json", "application/json"),
    "png": Download("PNG picture", ".png", "image/png"),
    "svg": Download("SVG picture", ".svg", "image/svg+xml"),
}


def map_file(fmap: FuzzyMap, kind: str) -> bytes:
    """The map in one of DOWNLOADS' formats, as bytes (the fcm writers take paths)."""
    writers: dict[str, Callable[[FuzzyMap, Path], None]] = {
        "mental_modeler": write_mental_modeler_csv, "graphml": write_graphml, "json": write_json,
        "fcmpy": write_fcmpy_json, "png": draw_map, "svg": draw_map}
    if kind not in writers:
        raise ValueError(f"unknown map format {kind!r}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"map{DOWNLOADS[kind].suffix}"
        writers[kind](fmap, path)
        return path.read_bytes()



def label_position(store: Store, document_id: int, sentence_id: int) -> int:
    """0-based position of a sentence in its document, as the Label page counts (?doc=ID&s=POS+1)."""
    return next(i for i, s in enumerate(store.sentences(document_id)) if s.id == sentence_id)
