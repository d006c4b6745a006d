"""Extract: run the relation model over a paper, look at what it found, send it to labeling."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from app.graph import show_map
from app.state import current_annotator, get_store
from data.errors import InputError
from data.extraction import extract, preview_map, relation_rows, send_to_labeling
from data.ingest import MAX_UPLOAD_BYTES, SUPPORTED_SUFFIXES, read_document
from data.labeling import escape_markdown as md
from data.labeling import shorten
from data.suggest import bundle_path, model_source

RESULT_KEY = "extract_result"

store = get_store()
annotator = current_annotator()
st.title("Extract relations from a paper")

bundle = bundle_path()
if not Path(bundle).is_dir():
    st.warning(f"No relation model bundle at `{bundle}` yet, so nothing can be extracted. "
               "Train one with `make model` (python -m models train … --out models/default), or point "
               "FUZZYMAP_MODEL at a bundle folder, then reload.")
    st.stop()
try:
    with st.spinner("Loading the relation model…"):
        source = model_source(bundle, store.concepts())
except Exception as exc:  # a broken bundle must explain itself, not crash the page
    st.error(f"The model bundle at `{bundle}` could not be loaded: {md(str(exc))}")
    st.stop()

gen = st.session_state.setdefault("extract_gen", 0)
upload = st.file_uploader("Paper (PDF, TXT, MD, DOCX, RTF, TwoSix JSON, fuzzymap JSONL)",
                          type=[s.lstrip(".") for s in SUPPORTED_SUFFIXES], key=f"extract_upload_{gen}",
                          max_upload_size=max(1, MAX_UPLOAD_BYTES // 2**20))  # ingestion's limit, as on Home
if upload is not None:
    try:
        parsed = read_document(upload.name, upload.getvalue())
    except InputError as exc:
        st.error(md(str(exc)))  # it names the uploaded file
        st.stop()
    doc = parsed[0] if len(parsed) == 1 else parsed[st.selectbox(
        "The file holds several papers; extract from", range(len(parsed)), key="extract_pick",
        format_func=lambda i: parsed[i].title or f"paper {i + 1}")]
    if st.button(f"Extract relations from {len(doc.sentences)} sentences", type="primary", key="extract_run"):
        bar = st.progress(0.0, text="Reading sentences…")
        found = extract(source, doc, on_progress=lambda done, total: bar.progress(
            done / total if total else 1.0, text=f"{done} of {total} sentences"))
        bar.empty()
        st.session_state[RESULT_KEY] = (doc, found)
        st.session_state["extract_gen"] = gen + 1  # a fresh uploader: the same file can be sent again
        st.rerun()

result = st.session_state.get(RESULT_KEY)
if result is None:
    st.info("Upload a paper and press Extract: the model proposes source → target relations with a score; "
            "you can send them to the Label page as suggestions to accept or reject.")
    st.stop()

doc, found = result
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
    doc_id, n = send_to_labeling(store, doc, found, min_score, annotator)
    st.session_state["doc"] = doc_id
    st.session_state.pop("pos", None)  # the Label page starts at the first unlabeled sentence
    st.success(f"{n} new suggestion(s) queued for “{md(doc.title or doc.filename)}”.")
    st.page_link("pages/label.py", label="Open it on the Label page", icon=":material/edit_note:",
                 query_params={"doc": str(doc_id)})
