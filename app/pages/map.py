"""Map: the fuzzy cognitive map of the stored relations, its evidence, merges, scenarios, exports."""
from __future__ import annotations

import streamlit as st

from app.graph import show_map
from app.markup import escape_markdown as md
from app.state import acting, get_store, reviews
from core.errors import InputError
from fcm.simulate import RULES, TRANSFERS, SimulationConfig, parse_clamp_value
from fcm.view import run_scenario, top_by_centrality
from workspace.mapview import (
    CLAMP_CHOICES, DOWNLOADS, ORIGINS, SCENARIO_SERIES, MapQuery, delta_rows, evidence_rows, label_position,
    load_map, map_file, merge_suggestions, metrics_tables, scenario_bars, who_said,
)

TOP_N_DEFAULT = 60
CONCEPT_KEY = "map_concept"

store = get_store()
annotator = acting()
may_merge = reviews()  # merges change everyone's map: reviewers and admins when signed in
st.title("Map")

docs = {d.id: d for d in store.list_documents()}
with st.expander("Filters", expanded=False, icon=":material/filter_alt:"):
    c1, c2 = st.columns(2)
    chosen_docs = c1.multiselect("Documents (none = all)", list(docs), key="map_docs",
                                 format_func=lambda i: docs[i].title or docs[i].filename)
    evidence = store.evidence(document_ids=chosen_docs or None)
    who = c2.multiselect("Annotators or models (none = all)", who_said(evidence), key="map_who")
    c3, c4, c5 = st.columns(3)
    origin = c3.radio("Labels", list(ORIGINS), horizontal=True, key="map_origin")
    min_score = c4.slider("Minimum model score", 0.0, 1.0, 0.0, 0.05, key="map_min_score",
                          help="Model relations scored below this are left out; human labels always count.")
    min_evidence = c5.number_input("Minimum evidence per edge", 1, 100, 1, key="map_min_evidence")

query = MapQuery(documents=tuple(chosen_docs) or None, who=tuple(who) or None, origin=ORIGINS[origin],
                 min_score=min_score or None, min_evidence=int(min_evidence))
fmap = load_map(store, query, evidence)
if not fmap.concepts:
    st.info("No relation passes these filters yet: label sentences on the Label page, accept model "
            "suggestions, or loosen the filters.")
    st.stop()

n_conflicts = sum(e.conflict for e in fmap.edges.values())
m1, m2, m3 = st.columns(3)
m1.metric("Concepts", len(fmap.concepts))
m2.metric("Edges", len(fmap.edges))
m3.metric("Edges with disagreeing signs", n_conflicts)

view = fmap
if len(fmap.concepts) > 30:
    top_n = st.slider("Show the top N concepts by centrality", 10, len(fmap.concepts),
                      min(TOP_N_DEFAULT, len(fmap.concepts)), key="map_top_n")
    view = top_by_centrality(fmap, top_n)
clicked = show_map(view, keep_key="map_positions")  # a merge moves no other concept
if clicked and clicked != st.session_state.get("map_last_click") and clicked in fmap.concepts:
    st.session_state["map_last_click"] = clicked  # a node click reruns the page: select it once
    st.session_state[CONCEPT_KEY] = clicked
st.caption("Blue edges increase, red decrease, grey ones have weight 0 (their evidence cancels), dashed ones have "
           "evidence of both signs; width is |weight|, node size is centrality, colour is the concept type "
           "(green driver, orange receiver, light blue ordinary, light grey isolated).")

concept = st.selectbox("Concept", fmap.concepts, index=None, key=CONCEPT_KEY,
                       placeholder="Click a node or choose a concept…")

evidence_tab, merge_tab, scenario_tab, metrics_tab, download_tab = st.tabs(
    ["Evidence", "Merge concepts", "Scenario", "Metrics", "Download"])

with evidence_tab:
    if concept is None:
        st.info("Choose a concept to see its edges and the sentences behind them.")
    else:
        rows = evidence_rows(fmap, concept)
        edges = [e for (s, t), e in fmap.edges.items() if concept in (s, t)]
        st.dataframe([{"edge": f"{e.source} → {e.target}", "weight": round(e.weight, 3),
                       "sentences": e.n_evidence, "documents": e.n_documents,
                       "signs disagree": e.conflict} for e in edges], hide_index=True, key="map_edges")
        st.dataframe(rows, hide_index=True, key="map_evidence",
                     column_config={"document_id": None, "sentence_id": None})
        pick = st.selectbox("Open a sentence on the Label page", range(len(rows)), key="map_open_pick",
                            format_func=lambda i: f"{rows[i]['document']} p.{rows[i]['page'] or '–'}: "
                                                  f"{rows[i]['sentence'][:90]}")
        if st.button("Open on Label page", icon=":material/edit_note:", key="map_open"):
            row = rows[pick]
            pos = label_position(store, row["document_id"], row["sentence_id"])
            st.session_state["doc"], st.session_state["pos"] = row["document_id"], pos
            st.switch_page("pages/label.py", query_params={"doc": str(row["document_id"]), "s": str(pos + 1)})

with merge_tab:
    st.markdown("**Suggested merges** (same words up to case, plural or a leading article)")
    suggestions = merge_suggestions(fmap)
    if not suggestions:
        st.caption("None among the concepts shown.")
    for i, (alias, canonical) in enumerate(suggestions[:30]):
        a, b = st.columns([4, 1])
        a.markdown(f"“{md(alias)}” → “{md(canonical)}”")
        if b.button("Merge", key=f"merge_sugg_{i}", disabled=not may_merge):
            store.merge_concepts(alias, canonical, annotator=annotator)
            st.rerun()
    st.markdown("**Merge by hand**")
    a, b, c = st.columns([2, 2, 1])
    alias = a.selectbox("Concept to merge", fmap.concepts, index=None, key="merge_alias")
    canonical = b.selectbox("into", [x for x in fmap.concepts if x != alias], index=None, key="merge_canonical")
    if c.button("Merge", key="merge_manual", disabled=not (alias and canonical and may_merge)):
        try:
            store.merge_concepts(alias, canonical, annotator=annotator)
            st.rerun()
        except InputError as exc:
            st.error(md(str(exc)))
    aliases = store.aliases()
    if aliases:
        st.markdown("**Merged names** (unmerge to split them again)")
        for i, (alias, canonical) in enumerate(sorted(aliases.items())):
            a, b = st.columns([4, 1])
            a.markdown(f"“{md(alias)}” is shown as “{md(canonical)}”")
            if b.button("Unmerge", key=f"unmerge_{i}", disabled=not may_merge):
                store.unmerge_concept(alias, annotator=annotator)
                st.rerun()

with scenario_tab:
    clamped = st.multiselect("Concepts to clamp", fmap.concepts, key="scenario_concepts")
    clamps = {}
    for name in clamped:
        choice = st.select_slider(md(name), CLAMP_CHOICES, value="high", key=f"clamp_{name}")
        clamps[name] = parse_clamp_value(choice)
    r1, r2, r3 = st.columns(3)
    rule = r1.selectbox("Rule", RULES, index=RULES.index("mkosko"), key="scenario_rule",
                        help="kosko, modified Kosko (Mental Modeler), rescaled")
    transfer = r2.selectbox("Transfer", TRANSFERS, key="scenario_transfer")
    lam = r3.number_input("Lambda", 0.1, 10.0, 1.0, 0.1, key="scenario_lambda")
    if st.button("Run scenario", type="primary", disabled=not clamps, key="scenario_run"):
        result = run_scenario(fmap, clamps, SimulationConfig(rule=rule, transfer=transfer, lam=lam))
        st.session_state["scenario_result"] = result
    result = st.session_state.get("scenario_result")
    if result is not None and set(result.concepts) == set(fmap.concepts):
        if not result.converged:
            cycle = result.scenario.cycle_length or result.baseline.cycle_length
            st.warning("The map did not settle to a steady state"
                       + (f" (it cycles with period {cycle})" if cycle else "") + ": the deltas are from the last step.")
        st.markdown(f"**Change against the baseline** (clamped: "
                    f"{', '.join(f'{md(k)} {v:+.2f}' for k, v in result.clamped.items())})")
        st.bar_chart(scenario_bars(result, limit=30), x="concept", y=list(SCENARIO_SERIES), horizontal=True,
                     color=list(SCENARIO_SERIES.values()), sort=False, y_label="change")  # the map's sign colours
        st.dataframe(delta_rows(result), hide_index=True, key="scenario_table")

with metrics_tab:
    whole, per_concept = metrics_tables(fmap)
    st.dataframe([{"index": k, "value": v} for k, v in whole.items()], hide_index=True, key="metrics_whole")
    st.dataframe(per_concept, hide_index=True, key="metrics_concepts")

with download_tab:
    for kind, spec in DOWNLOADS.items():
        st.download_button(spec.label, data=lambda k=kind: map_file(fmap, k), file_name=f"fuzzymap{spec.suffix}",
                           mime=spec.mime, on_click="ignore", key=f"map_dl_{kind}")
