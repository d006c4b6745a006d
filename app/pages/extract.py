"""Extract: run the relation model over papers, look at what it found (kept as runs), send it to labeling."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from app.graph import show_map
from app.markup import escape_markdown as md
from app.markup import shorten
from app.state import current_annotator, get_store
from core.errors import without_paths
from data.ingest import MAX_UPLOAD_BYTES, SUPPORTED_SUFFIXES
from workspace.extraction import preview_map, read_uploads, relation_rows, run_label, run_uploads, runs_by_batch, send_to_labeling
from workspace.suggest import bundle_path, model_source

RUN_KEY = "extract_batch_id"

store = get_store()
annotator = current_annotator()
st.title("Extract relations from papers")

bundle = bundle_path(store)
if not Path(bundle).is_dir():
    st.warning(f"No relation model bundle `{Path(bundle).name}` yet, so nothing can be extracted. "
               "Train one with `make model` (python -m models train … --out models/default), or point "
               "FUZZYMAP_MODEL at a bundle folder, then reload.")
    st.stop()
try:
    with st.spinner("Loading the relation model…"):
        source = model_source(bundle, store.concepts())
except Exception as exc:  # a broken bundle must explain itself, not crash the page
    st.error(f"The model bundle `{Path(bundle).name}` could not be loaded: {md(without_paths(str(exc)))}")
    st.stop()

gen = st.session_state.setdefault("extract_gen", 0)
uploads = st.file_uploader("Papers (PDF, TXT, MD, DOCX, RTF, TwoSix JSON, fuzzymap JSONL), one or several",
                           type=[s.lstrip(".") for s in SUPPORTED_SUFFIXES], key=f"extract_upload_{gen}",
                           accept_multiple_files=True,
                           max_upload_size=max(1, MAX_UPLOAD_BYTES // 2**20))  # ingestion's limit, as on Home
if uploads:
    read = read_uploads([(u.name, u.getvalue()) for u in uploads])
    for bad in (u for u in read if u.error):
        st.error(md(bad.error))
    docs = [d for u in read for d in u.documents]
    n_sentences = sum(len(d.sentences) for d in docs)
    if docs and st.button(f"Extract relations from {n_sentences} sentences in {len(docs)} document(s)",
                          type="primary", key="extract_run"):
        bars: dict[str, object] = {}

        def progress(name: str, done: int, total: int) -> None:
            if name not in bars:
                bars[name] = st.progress(0.0, text=md(name))
            bars[name].progress(done / total if total else 1.0, text=f"{md(name)}: {done} of {total} sentences")

        batch = run_uploads(store, source, read, annotator, progress)
        st.session_state[RUN_KEY] = batch
        st.session_state["extract_gen"] = gen + 1  # a fresh uploader: the same files can be sent again
        st.rerun()

runs = runs_by_batch(store, annotator)
if not runs:
    st.info("Upload one or several papers and press Extract: the model proposes source → target relations "
            "with a score; you can send them to the Label page as suggestions to accept or reject. Every "
            "extraction is kept and listed here.")
    st.stop()

batches = list(runs)
chosen = st.session_state.get(RUN_KEY)
batch = st.selectbox("Extraction run", batches, index=batches.index(chosen) if chosen in batches else 0,
                     format_func=lambda b: run_label(runs[b]), key="extract_batch")
files = runs[batch]
st.dataframe([{"file": r.filename, "sentences": r.sentences, "relations": r.relations,
               "result": "failed: " + r.error if r.error else "extracted"} for r in files],
             hide_index=True, key="extract_files")
done = [r for r in files if r.error is None]
if not done:
    st.warning("No file of this run could be extracted: see the reasons above.")
    st.stop()
run = done[0] if len(done) == 1 else done[st.selectbox("Look at", range(len(done)), key="extract_pick",
                                                         format_func=lambda i: done[i].filename)]
doc, found = store.extract_run(run.id)
st.subheader(md(shorten(doc.title or doc.filename)))
min_score = st.slider("Minimum score", 0.0, 1.0, 0.5, 0.05, key="extract_min_score")
rows = relation_rows(doc, found, min_score)
st.metric("Relations at or above the minimum score", len(rows))
if rows:
    st.dataframe(rows, hide_index=True, key="extract_rows",
                 column_order=["score", "source", "sign", "target", "evidence", "sentence #", "page", "model"],
                 column_config={"score": st.column_config.ProgressColumn("score", min_value=0.0, max_value=1.0,
                                                                         format="%.2f"),
                                "evidence": st.column_config.TextColumn("evidence", width="large")})
    show_map(preview_map(doc, found, min_score), height=480)
if st.button("Send to labeling as suggestions", icon=":material/edit_note:", key="extract_send"):
    doc_id, n = send_to_labeling(store, doc, found, min_score, annotator, run.model_id)
    st.session_state["doc"] = doc_id
    st.session_state.pop("pos", None)  # the Label page starts at the first unlabeled sentence
    st.success(f"{n} new suggestion(s) queued for “{md(doc.title or doc.filename)}”.")
    st.page_link("pages/label.py", label="Open it on the Label page", icon=":material/edit_note:",
                 query_params={"doc": str(doc_id)})
