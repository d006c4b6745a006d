"""Agreement: two annotators on their shared sentences, and adjudication into a gold set."""
from __future__ import annotations

import streamlit as st

from app.markup import escape_markdown as md
from app.markup import shorten
from app.state import acting, open_page, reviews, stop_unless
from core.matching import relations_match
from core.metrics import fmt_measure
from data.assignments import overlap_sentences
from workspace.agreement import GOLD, adjudicate, adopt_agreed, describe, shared_documents, store_agreement

PAGE_SIZE = 20

store = open_page(
    "Agreement",
    "Relation-level precision / recall / F1 of annotator A against annotator B (F1 is symmetric), "
    "with exact spans or overlapping concepts, and Cohen's kappa on “the sentence has a relation”, "
    "over the sentences both have judged.")

names = store.annotators()
stop_unless(len(names) >= 2, "Agreement needs two annotators who labelled the same document. "
                             "Label a document under two names (sidebar) first.")

c1, c2 = st.columns(2)
a = c1.selectbox("Annotator A", names, index=0, key="agree_a")
b = c2.selectbox("Annotator B", [n for n in names if n != a], index=0, key="agree_b")
docs = {d.id: d for d in store.list_documents()}
shared = shared_documents(store, a, b)
chosen = st.multiselect("Documents", list(docs), default=shared, key=f"agree_docs_{a}_{b}",
                        format_func=lambda i: docs[i].title or docs[i].filename,
                        help="By default the documents in which both have judged a sentence.")
stop_unless(bool(chosen), f"{md(a)} and {md(b)} have no document in common yet.")

assigned_both = overlap_sentences(store, a, b, chosen)
only_overlap = st.toggle(f"Only the {len(assigned_both)} sentences assigned to both", value=bool(assigned_both),
                         disabled=not assigned_both, key=f"agree_overlap_{a}_{b}",
                         help="The shared part of an assignment (Assign page): where both were meant to label.")
ag, sentences = store_agreement(store, a, b, chosen, within=assigned_both if only_overlap else None)
by_id = {s.id: s for s in sentences}


m = st.columns(4)
m[0].metric("Shared sentences", ag.n_sentences, help="Sentences of the chosen documents both annotators "
            "judged (labelled, or marked “no relation”); one either has not read yet, or discarded, is left out.")
m[1].metric("Cohen's kappa", fmt_measure(ag.kappa), help="On 'the sentence has at least one relation'; "
            "– when undefined (both always or never say yes).")
m[2].metric("F1, exact spans", fmt_measure(ag.exact.f1))
m[3].metric("F1, overlapping concepts", fmt_measure(ag.partial.f1))
st.dataframe(
    [{"match": name, "agreed": prf.tp, f"{a}'s relations": prf.n_pred, f"{b}'s relations": prf.n_gold,
      "precision": prf.precision, "recall": prf.recall, "F1": prf.f1}
     for name, prf in (("exact", ag.exact), ("partial", ag.partial))],
    hide_index=True, key="agree_prf")
st.dataframe([{"sentences": k.replace("_a", f" {a}").replace("_b", f" {b}"), "count": v}
              for k, v in ag.table.items()], hide_index=True, key="agree_table")

st.subheader("Adjudication")
st.caption(f"Choose the right version of each relation for the gold set (annotator “{GOLD}”): choosing "
           "one replaces a conflicting one already chosen. The Compare page can score systems against it.")
may_adjudicate = reviews()
if not may_adjudicate:
    st.caption("Adjudication needs the reviewer or admin role.")
if st.button("Copy everything both agree on (exact relations, “no relation”) into gold", key="agree_adopt",
             disabled=not may_adjudicate):
    n = adopt_agreed(store, a, b, chosen, by=acting())
    st.toast(f"{n} agreed relation(s) and “no relation” mark(s) added to gold")

if not ag.disagreements:
    st.success("No disagreement on these documents.")
    st.stop()
pages = (len(ag.disagreements) - 1) // PAGE_SIZE + 1
page = st.number_input(f"Disagreements: {len(ag.disagreements)} sentences, page", 1, pages, 1,
                       key="agree_page") if pages > 1 else 1
for d in ag.disagreements[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]:
    s = by_id[d.sentence]
    gold_rels = store.relations(sentence_id=s.id, annotator=GOLD)
    with st.container(border=True):
        st.markdown(f"**{md(shorten(docs[s.document_id].title or docs[s.document_id].filename))}**, sentence {s.index + 1}"
                    + (f", page {s.page}" if s.page else ""))
        st.markdown(md(s.text))
        items = ([(a, r) for r in d.only_a] + [(b, r) for r in d.only_b]
                 + [(who, r) for pair in d.partial for who, r in zip((a, b), pair)])
        for who, rel in items:
            left, right = st.columns([5, 1])
            in_gold = any(relations_match(rel, g, "exact") for g in gold_rels)
            left.markdown(md(f"{who}: {describe(rel)}") + (" — in gold ✓" if in_gold else ""))
            if right.button("Choose for gold", key=f"gold_{rel.id}", disabled=in_gold or not may_adjudicate,
                            help="Gold keeps one version: a conflicting one already there is replaced"):
                adjudicate(store, rel, by=acting())
                st.rerun()
