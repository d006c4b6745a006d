"""Export: documents with every relation, as TwoSix JSON, lossless JSONL or a relations CSV."""
from __future__ import annotations

import streamlit as st

from app.state import open_page, stop_unless
from workspace.agreement import GOLD
from workspace.exporting import EXPORT_FORMATS, counts, export_text, file_name, stored_relation_count

store = open_page("Export")

docs = {d.id: d for d in store.list_documents()}
stop_unless(bool(docs), "No documents yet: upload a paper on the Home page.")
titles = {i: d.title or d.filename for i, d in docs.items()}

scope = st.radio("Documents", ["One document", "A selection", "All documents"], horizontal=True,
                 key="export_scope")
if scope == "One document":
    ids = [st.selectbox("Document", list(docs), format_func=titles.get, key="export_one")]
elif scope == "A selection":
    ids = st.multiselect("Documents", list(docs), format_func=titles.get, key="export_some")
else:
    ids = list(docs)
whose = st.radio("Relations", ["Everyone's", "Gold only", "Chosen annotators"], horizontal=True,
                 key="export_whose", help=f"Gold: the adjudicated set (annotator “{GOLD}”, see Agreement), "
                 "each relation once: the set a model trains on.")
annotators: list[str] | None = None
if whose == "Gold only":
    annotators = [GOLD]
elif whose == "Chosen annotators":
    annotators = st.multiselect("Annotators", store.annotators(), key="export_annotators")
fmt = st.radio("Format", list(EXPORT_FORMATS), horizontal=True, key="export_format",
               format_func=lambda f: EXPORT_FORMATS[f].label)
stop_unless(bool(ids), "Choose at least one document.")
stop_unless(annotators != [GOLD] or GOLD in store.annotators(),
            f"No gold set yet: adjudicate on the Agreement page first (annotator “{GOLD}”).")
stop_unless(annotators is None or bool(annotators), "Choose at least one annotator.")

exported = store.export_documents(ids, annotators)
carried = counts(exported)
stored = stored_relation_count(store, ids, annotators)
c = st.columns(3)
c[0].metric("Documents", carried.documents)
c[1].metric("Sentences", carried.sentences)
c[2].metric("Relations", carried.relations, help=f"{stored} in the database for these documents")
if carried.relations == stored:
    st.caption(f"All {stored} relations the database holds for these documents"
               f"{'' if annotators is None else ' and annotators'} are in the file.")
else:
    st.error(f"The export carries {carried.relations} relations but the database holds {stored}: "
             "please report this.")
if fmt == "twosix":
    st.caption("TwoSix JSON holds texts, concepts and signs only (no offsets, strength, annotator, score or "
               "note); the JSONL export keeps everything and imports back losslessly.")
st.download_button(f"Download {EXPORT_FORMATS[fmt].label}", data=lambda: export_text(exported, fmt),
                   file_name=file_name(exported, fmt, annotators), mime=EXPORT_FORMATS[fmt].mime, type="primary",
                   icon=":material/download:", on_click="ignore", key="export_download")
