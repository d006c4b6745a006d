"""Compare: other systems' relations (TwoSix LLM blocks, model bundles) scored against labels."""
from __future__ import annotations

import streamlit as st

from app.state import get_store, open_page, stop_unless
from core.metrics import fmt_measure
from workspace.agreement import GOLD, judged_sentences, mismatch_rows, score_systems, system_outputs
from workspace.coverage import bundle_model_id, model_coverage, run_on_missing, scored_on
from workspace.suggest import bundle_path, model_source


@st.cache_resource(show_spinner="Loading the relation model…")
def _model(path: str, db_url: str):
    """The relation model of a bundle, loaded once per bundle and database."""
    return model_source(path, get_store().concepts())


store = open_page(
    "Compare systems",
    "Each system's relations against a reference annotator on the sentences the reference judged "
    "(labelled, or marked “no relation”). A relation matches when source and target share a "
    "word (or, strictly, read the same) and the sign agrees; each reference relation matches once.")

annotators = store.annotators()
docs = {d.id: d for d in store.list_documents()}
stop_unless(bool(annotators and docs),
            "Nothing to compare yet: import a document and label it (or import a TwoSix file with labels).")
titles = {i: d.title or d.filename for i, d in docs.items()}

c1, c2 = st.columns([1, 2])
reference = c1.selectbox("Reference labels", annotators,
                         index=annotators.index(GOLD) if GOLD in annotators else 0, key="compare_ref")
mode = c1.radio("Match", ["overlap", "exact"], horizontal=True, key="compare_mode",
                format_func=lambda m: {"overlap": "shared word", "exact": "same text"}[m])
chosen = c2.multiselect("Documents (none = all)", list(docs), key="compare_docs", format_func=titles.get)
doc_ids = chosen or list(docs)

bundle = bundle_path(store)
model_id = bundle_model_id(bundle)
outputs = system_outputs(store, doc_ids)  # read once: coverage and the scores below use the same systems
if model_id:
    cover = model_coverage(store, reference, doc_ids, model_id, outputs)
    st.caption(f"The relation model ({model_id}) has read {cover.covered} of the {cover.judged} sentences "
               f"“{reference}” judged here; it is scored on those only.")
    if cover.missing and st.button(f"Run the model on the {len(cover.missing)} judged sentence(s) it has not read",
                                   icon=":material/play_arrow:", key="compare_run_missing"):
        bar = st.progress(0.0, text="Running the relation model…")
        run_on_missing(store, _model(bundle, store.url), cover,
                       lambda done, total: bar.progress(done / total if total else 1.0,
                                                        text=f"{done} of {total} sentences"))
        st.rerun()

results = score_systems(store, reference, doc_ids, mode, outputs)
stop_unless(bool(results), "No other system's output in these documents. Import a TwoSix file with an “LLM” "
                          "block, or run the relation model (Extract page, or suggestions on the Label page).")


n_judged = len(judged_sentences(store, reference, doc_ids))
st.dataframe(
    [{"system": name, "coverage": scored_on(r, n_judged), "precision": fmt_measure(r.total.precision),
      "recall": fmt_measure(r.total.recall), "F1": fmt_measure(r.total.f1), "matched": r.total.tp,
      "system relations": r.total.n_pred, "reference relations": r.total.n_gold}
     for name, r in results.items()],
    hide_index=True, key="compare_systems")

system = st.selectbox("System", list(results), key="compare_system")
result = results[system]
st.markdown("**Per document**")
st.dataframe([{"document": titles[d], "precision": fmt_measure(p.precision), "recall": fmt_measure(p.recall),
               "F1": fmt_measure(p.f1), "matched": p.tp, "system relations": p.n_pred, "reference relations": p.n_gold}
              for d, p in result.groups.items()], hide_index=True, key="compare_docs_table")
st.markdown(f"**Mismatches** ({len(result.mismatches)})")
sentences = {s.id: s for d in {d for d in result.groups} for s in store.sentences(d)}
st.dataframe(mismatch_rows(result, sentences, titles), hide_index=True, key="compare_mismatches")
