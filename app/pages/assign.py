"""Assign: a reviewer gives documents, or ranges of their sentences, to annotators, optionally
with a shared part for agreement; each annotator then finds their queue on Home."""
from __future__ import annotations

import streamlit as st

from app.markup import escape_markdown as md
from app.state import acting, get_store, reviews, stop_unless
from core.errors import InputError
from data.assignments import assign, assignments, describe_ranges, split_plan, unassign

store = get_store()
reviewer = acting()
st.title("Assign")
stop_unless(reviews(), "Assigning documents needs the reviewer or admin role.")
st.caption("Give documents to annotators. A shared part is labelled by everyone, so the Agreement page can "
           "measure agreement on it; the rest is split so that no one labels the same sentence twice.")

docs = {d.id: d for d in store.list_documents()}
stop_unless(bool(docs), "No documents yet: upload a paper on the Home page.")
doc_id = st.selectbox("Document", list(docs), key="assign_doc",
                      format_func=lambda i: f"{docs[i].title or docs[i].filename} ({docs[i].n_sentences} sentences)")
doc = docs[doc_id]
names = st.multiselect("Annotators", store.annotators(), key="assign_who", accept_new_options=True,
                       placeholder="Choose or type names")
how = st.radio("Sentences", ["Whole document to each", "Split among them", "A range"], horizontal=True,
               key="assign_how")
overlap, first, last = 0.0, 1, doc.n_sentences
if how == "Split among them":
    overlap = st.slider("Shared by everyone (for agreement)", 0, 100, 20, step=5, format="%d%%",
                        key="assign_overlap") / 100
elif how == "A range":
    c1, c2 = st.columns(2)
    first = c1.number_input("From sentence", 1, max(1, doc.n_sentences), 1, key="assign_first")
    last = c2.number_input("To sentence", 1, max(1, doc.n_sentences), max(1, doc.n_sentences), key="assign_last")

if names and doc.n_sentences:
    try:
        if how == "Split among them":
            plan = split_plan(doc.n_sentences, names, overlap)
        else:
            plan = [(who, int(first) - 1, int(last) - 1) for who in names]
    except InputError as exc:
        st.error(md(str(exc)))
        st.stop()
    st.dataframe([{"annotator": who, "sentences": f"{f + 1}–{l + 1}", "count": l - f + 1} for who, f, l in plan],
                 hide_index=True, key="assign_plan")
    if st.button("Assign", type="primary", key="assign_go"):
        try:
            assign(store, doc.id, plan, by=reviewer)
            st.toast(f"Assigned {len(plan)} range(s)")
        except InputError as exc:
            st.error(md(str(exc)))

current = assignments(store, document_id=doc.id)
st.subheader("Assigned")
if not current:
    st.info("Nothing assigned in this document yet.")
for a in current:
    left, right = st.columns([5, 1])
    left.markdown(md(f"{a.annotator}: {describe_ranges([a])}" + (f" (by {a.assigned_by})" if a.assigned_by else "")))
    if right.button("Remove", key=f"unassign_{a.id}"):
        unassign(store, a.id, by=reviewer)
        st.rerun()
