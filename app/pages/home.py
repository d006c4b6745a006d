"""Home: the documents with their labeling progress, upload, metadata, and a way into labeling."""
from __future__ import annotations

import streamlit as st

from app.markup import escape_markdown
from app.state import current_annotator, get_store
from data.assignments import describe_ranges
from data.assignments import queue as assigned_queue
from data.ingest import MAX_UPLOAD_BYTES, SUPPORTED_SUFFIXES
from data.owners import default_owner
from workspace.labeling import progress
from workspace.uploads import UploadOutcome, import_parsed, parse_uploads

store = get_store()
annotator = current_annotator()


def _finish_upload(outcomes: list[UploadOutcome]) -> None:
    """Show the outcomes after a rerun, open the document just added, and offer a fresh uploader."""
    st.session_state["upload_outcomes"] = outcomes
    latest = [i for o in outcomes for i in o.document_ids]
    if latest:
        st.session_state["home_doc_next"] = latest[-1]  # the document just added is the one to open
    st.session_state["upload_gen"] = st.session_state.get("upload_gen", 0) + 1  # the same file can be added again
    st.rerun()


st.title("Documents")
if not annotator:
    st.info("Choose or type your name in the sidebar once; it stays in the page address.")

gen = st.session_state.setdefault("upload_gen", 0)
files = st.file_uploader(
    "Add papers (PDF, TXT, MD, DOCX, RTF, TwoSix JSON, fuzzymap JSONL)",
    type=[s.lstrip(".") for s in SUPPORTED_SUFFIXES], accept_multiple_files=True, key=f"upload_{gen}",
    max_upload_size=max(1, MAX_UPLOAD_BYTES // 2**20))
if files:
    parsed = parse_uploads([(f.name, f.getvalue()) for f in files])
    st.session_state["upload_pending"] = [p for p in parsed if p.carries_labels]  # asked for below
    _finish_upload(import_parsed(store, [p for p in parsed if not p.carries_labels]))
for outcome in st.session_state.pop("upload_outcomes", []):
    (st.success if outcome.ok else st.error)(escape_markdown(outcome.message))  # file names are user text
pending = st.session_state.get("upload_pending") or []
if pending:
    with st.form("upload_owner"):
        st.markdown("**Whose labels are these?** The relations and “no relation” marks these files carry are "
                    "stored under the annotator named here, not under you.")
        owners = [st.text_input(
            f"{up.name}: {up.unowned_relations} relation(s), {up.unowned_marks} mark(s) — annotator",
            default_owner(up.name), key=f"upload_owner_{gen}_{k}") for k, up in enumerate(pending)]
        go, cancel = st.columns(2)
        if go.form_submit_button("Import", type="primary"):
            st.session_state.pop("upload_pending")
            _finish_upload(import_parsed(store, pending, owners=owners))
        if cancel.form_submit_button("Cancel"):
            st.session_state.pop("upload_pending")
            st.rerun()

queue = assigned_queue(store, annotator) if annotator else []
if queue:
    st.subheader("Your queue")
    for item in queue:
        left, mid, right = st.columns([4, 2, 1], vertical_alignment="center")
        left.markdown(escape_markdown(f"{item.title} — {describe_ranges(item.ranges)}"))
        mid.progress(progress(item.done, item.total), text=f"{item.done} of {item.total} done")
        if right.button("Open", key=f"queue_open_{item.document_id}", disabled=item.next_position is None):
            st.session_state["doc"] = item.document_id
            st.session_state["pos"] = item.next_position
            st.switch_page("pages/label.py", query_params={"doc": str(item.document_id),
                                                            "s": str(item.next_position + 1)})

docs = store.list_documents(annotator)  # progress is the chosen annotator's own (everyone's before one is chosen)
if not docs:
    st.info("No documents yet: upload a paper above.")
    st.stop()

st.dataframe(
    [{"id": d.id, "title": d.title or d.filename,
      "progress": progress(d.n_labeled + d.n_no_relation + d.n_discarded, d.n_sentences),
      "sentences": d.n_sentences, "labeled": d.n_labeled, "no relation": d.n_no_relation,
      "discarded": d.n_discarded, "authors": d.authors or "", "year": d.year or "", "format": d.format}
     for d in docs],
    hide_index=True, key="documents_table",  # progress next to the title: visible at 1366 px wide too
    column_config={"id": None, "progress": st.column_config.ProgressColumn(
        "progress", help="your labeled + no relation + discarded, of all sentences", min_value=0.0,
        max_value=1.0, format="percent")})

by_id = {d.id: d for d in docs}
if st.session_state.get("home_doc_next") in by_id:  # (a widget key set before st.rerun would be dropped)
    st.session_state["home_doc"] = st.session_state.pop("home_doc_next")
if st.session_state.get("home_doc") not in by_id:
    st.session_state["home_doc"] = st.session_state.get("doc") if st.session_state.get("doc") in by_id else docs[0].id
chosen = st.selectbox(
    "Document", list(by_id),
    format_func=lambda i: f"{by_id[i].title or by_id[i].filename} ({by_id[i].filename})", key="home_doc")
doc = by_id[chosen]

if st.button("Label this document", type="primary", icon=":material/edit_note:", key="open_label"):
    st.session_state["doc"] = doc.id
    st.session_state.pop("pos", None)
    st.switch_page("pages/label.py", query_params={"doc": str(doc.id)})

def _save_metadata(doc_id: int, title: str, authors: str, year: str) -> None:
    store.update_document(doc_id, title=title, authors=authors, year=int(year) if year.isdigit() else year,
                          annotator=annotator)
    st.session_state.pop("meta_confirm", None)
    st.toast("Metadata saved")
    st.rerun()


with st.form(f"meta_{doc.id}"):
    st.markdown("**Metadata**")
    title = st.text_input("Title", doc.title or "")
    authors = st.text_input("Authors", doc.authors or "", help="Last, First; Last, First")
    year = st.text_input("Year", doc.year or "")
    if st.form_submit_button("Save metadata"):
        values = (doc.id, title.strip(), authors.strip(), year.strip())
        if values[3] and not values[3].isdigit() and values[3] != (doc.year or ""):
            st.session_state["meta_confirm"] = values  # a year that is not a number: ask first
        else:
            _save_metadata(*values)
ask = st.session_state.get("meta_confirm")
if ask and ask[0] == doc.id:
    st.warning(escape_markdown(f"Year “{ask[3]}” is not a number. Save it as written?"))
    yes, no = st.columns(2)
    if yes.button("Save anyway", key="meta_year_yes"):
        _save_metadata(*ask)
    if no.button("Cancel", key="meta_year_no"):
        st.session_state.pop("meta_confirm")
        st.rerun()
