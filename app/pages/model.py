"""Model: what relation model is in use, retrain it from labels, compare two bundles, choose one."""
from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

import streamlit as st

from app.markup import escape_markdown as md
from app.state import acting, current_annotator, get_store, reviews
from core.errors import InputError
from core.paths import DEFAULT_BUNDLE
from data.readers import store_spec
from data.store.settings import ACTIVE_MODEL, set_setting
from models.training import MIN_STORE_RELATIONS
from workspace.agreement import GOLD
from workspace.model_catalog import card, check_bundle, display_rows, list_bundles, shared_datasets
from workspace.model_comparison import (
    calibration_plot, compare, confusion_plot, loss_plot, metric_bars, png_bytes, pr_curves,
)
from workspace.suggest import bundle_path
from workspace.training_jobs import (
    CANCELLED, DONE, FAILED, KINDS, RUNNING, TrainJob, cancel_job, current_job, start_job,
)

store = get_store()
annotator = current_annotator()
may_choose = reviews()  # choosing, retraining and cancelling are a reviewer's
ss = st.session_state
st.title("Relation model")

# ------------------------------------------------------------------ what is in use
active = bundle_path(store)
bundles = list_bundles(active)
st.header("In use")
if os.environ.get("FUZZYMAP_MODEL"):
    st.info("FUZZYMAP_MODEL is set for this server, so it decides the model; a choice made here is stored "
            "and applies once it is unset.")
in_use = check_bundle(active)
if not in_use.ok:
    st.error(f"The active model {md(active)} cannot be used: {md(in_use.reason or '')}. "
             "Suggestions fall back to the imported files' LLM predictions.")
else:
    c = card(in_use.config)
    st.markdown(f"**{md(c.model_id)}** · {md(active)} · backbone {md(c.backbone or 'none')}"
                + (f" · adapter: {md(c.adapter)}" if c.adapter else " · no adapter"))
    st.markdown("Thresholds: " + " · ".join(f"{md(k)} {v:.3f}" for k, v in c.thresholds.items()))
    st.markdown("**Training data and licences**")
    st.dataframe(c.data, hide_index=True, key="model_card_data")
    st.markdown("**Validation** (each training file's held-out split)")
    st.dataframe(display_rows(c.validation), hide_index=True, key="model_card_validation")
    if c.leave_one_source_out:
        st.markdown("**Leave one source out** (trained without that source, scored on it)")
        st.dataframe(display_rows(c.leave_one_source_out), hide_index=True, key="model_card_loso")

st.subheader("Bundles")
st.caption("In models/ and var/models/. Every file is checked against the bundle's recorded sha256; a "
           "modified or foreign bundle is refused.")
for entry in bundles:
    c1, c2, c3 = st.columns([3, 4, 2], vertical_alignment="center")
    c1.markdown(md(str(entry.path)))
    if entry.ok:
        c2.markdown(f"{md(entry.model_id or '')}" + (" · **active**" if entry.active else ""))
        if not entry.active and c3.button("Use this model", key=f"model_use_{entry.path}", disabled=not may_choose):
            set_setting(store, ACTIVE_MODEL, str(entry.path), acting())
            st.rerun()
    else:
        c2.markdown(f"refused: {md(entry.reason or '')}")

# ------------------------------------------------------------------ retrain
st.header("Retrain from labels")
documents = {d.id: d.title or d.filename for d in store.list_documents()}
annotators = store.annotators()
with st.form("model_train"):
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M")
    name = st.text_input("New model name", value=f"retrained-{stamp}", key="model_name",
                         help="The bundle is written to var/models/NAME/.")
    labels = st.radio("Labels", ["gold set", "chosen annotators", "no store labels"], horizontal=True,
                      key="model_labels", help=f"The gold set is the annotator “{GOLD}” (Agreement page).")
    chosen = st.multiselect("Annotators", annotators, key="model_annotators")
    docs = st.multiselect("Documents (none = all)", list(documents), format_func=documents.get, key="model_docs")
    shared = shared_datasets(in_use.config) if in_use.ok else []
    extra = st.multiselect("Shared datasets the active model was built from", shared, key="model_shared",
                           help="Only those present on this machine are offered.")
    kind = st.radio("Kind", KINDS, horizontal=True, key="model_kind",
                    help="The pair scorer picks source and target among the text's noun phrases (fast). The "
                         "relation writer is SmolLM2-135M tuned to write the relations, naming concepts as "
                         "your labels do: opt-in and much slower (a few sentences a second on 2 CPU cores, "
                         "tens of minutes to train); backbone and LoRA below do not apply to it.")
    c1, c2, c3 = st.columns(3)
    backbone = c1.selectbox("Backbone", ["minilm", "smollm2-135m"], key="model_backbone")
    lora = c2.toggle("LoRA", value=False, key="model_lora",
                     help="Tune the backbone first (tens of CPU minutes); store labels weigh in it as in the heads.")
    seed = c3.number_input("Seed", min_value=0, value=0, step=1, key="model_seed")
    start = st.form_submit_button("Start training", disabled=not may_choose)
st.caption(f"Store labels need at least {MIN_STORE_RELATIONS} relations. One job runs at a time."
           + ("" if may_choose else " Choosing and retraining the model need the reviewer or admin role."))
if start:
    who = {"gold set": [GOLD], "chosen annotators": chosen}.get(labels)
    try:
        if labels == "chosen annotators" and not chosen:
            raise InputError("Annotators", "choose at least one annotator")
        data = ([store_spec(store.url, who, docs or None)] if who else []) + extra
        start_job(TrainJob(name=name.strip(), data=data, backbone=backbone if kind == KINDS[0] else "smollm2-135m",
                           lora=lora, seed=int(seed), kind=kind))
        ss.model_job_seen = RUNNING
    except InputError as exc:
        st.error(str(exc))


shown = current_job()


@st.fragment(run_every=2 if shown is not None and shown.status == RUNNING else None)
def _job_area() -> None:
    """The job's progress, stage, log and loss curve, read from its state file on every run."""
    job = current_job()
    if job is None:
        return
    if job.status == RUNNING:
        ss.model_job_seen = RUNNING
    elif ss.get("model_job_seen") == RUNNING:
        ss.model_job_seen = job.status
        if job.status == DONE:
            ss.model_tuned = str(job.out)  # compare the new bundle next
        st.rerun()  # the whole page: the new bundle joins the lists
    st.markdown(f"**Job {md(job.name)}**: {job.status} · started {job.started}"
                + (f" · ended {job.finished}" if job.finished else ""))
    st.progress(job.progress, text=f"{job.stage} ({job.progress:.0%})")
    if job.status == RUNNING and st.button("Cancel training", key="model_cancel", disabled=not may_choose):
        cancel_job()
        st.rerun()
    if job.status == DONE:
        st.success(f"Training finished: {job.model_id} in {job.out}")
    elif job.status == FAILED:
        st.error(f"Training failed: {job.error}")
    elif job.status == CANCELLED:
        st.warning("Training was cancelled; nothing was saved.")
    if job.loss or job.cv:
        fig = loss_plot(job.loss, job.cv)
        st.pyplot(fig, clear_figure=False)
        st.download_button("Loss curve as PNG", png_bytes(fig), f"{job.name}-loss.png", "image/png",
                           key="model_loss_png")
    st.caption("Mirrors: " + md(job.command()))
    with st.expander("Log"):
        st.text("\n".join(job.log))


_job_area()

# ------------------------------------------------------------------ evaluate and compare
st.header("Evaluate and compare")
usable = [str(e.path) for e in list_bundles(active) if e.ok]
if len(usable) < 1:
    st.info("No usable bundle to evaluate.")
    st.stop()
trained = sorted((p for p in usable if Path(p).resolve() != Path(DEFAULT_BUNDLE).resolve()),
                 key=lambda p: (Path(p) / "config.json").stat().st_mtime)  # the newest last
with st.form("model_compare"):
    c1, c2 = st.columns(2)
    base = c1.selectbox("Base", usable, index=usable.index(DEFAULT_BUNDLE) if DEFAULT_BUNDLE in usable else 0,
                        key="model_base")
    tuned = c2.selectbox("Tuned", usable, index=usable.index(trained[-1]) if trained else 0, key="model_tuned")
    held = st.radio("Held-out data", ["gold set", "chosen annotators", "dataset file"], horizontal=True,
                    key="model_eval_data")
    eval_annotators = st.multiselect("Annotators", annotators, key="model_eval_annotators")
    dataset = st.text_input("Dataset (FORMAT:PATH)", key="model_eval_file",
                            help="semeval2010, cnc, twosix or sift, e.g. twosix:../shared/data/twosix/file.json")
    run = st.form_submit_button("Compare")
if run:
    try:
        if held == "dataset file":
            specs = [dataset.strip()]
        else:
            specs = [store_spec(store.url, [GOLD] if held == "gold set" else eval_annotators)]
        with st.spinner("Scoring both bundles…"):
            ss.model_comparison = compare((base, tuned), specs)
    except (InputError, OSError) as exc:
        st.error(str(exc))
result = ss.get("model_comparison")
if result is not None:
    st.markdown(f"Base **{md(result.labels[0])}** ({md(result.model_ids[0])}) against tuned "
                f"**{md(result.labels[1])}** ({md(result.model_ids[1])}); the same numbers as "
                "`python -m models evaluate --model DIR --data SPEC`.")
    st.markdown("**Per source**")
    st.dataframe(display_rows(result.per_source), hide_index=True, key="model_per_source")
    if result.per_document:
        st.markdown("**Per document**")
        st.dataframe(display_rows(result.per_document), hide_index=True, key="model_per_document")
    for title, make, file in (("Base vs tuned", metric_bars, "bars"), ("Precision–recall", pr_curves, "pr"),
                              ("Calibration", calibration_plot, "calibration"),
                              ("Confusion: none / A→B / B→A", confusion_plot, "confusion")):
        st.markdown(f"**{title}**")
        fig = make(result)
        st.pyplot(fig, clear_figure=False)
        st.download_button(f"{title} as PNG", png_bytes(fig), f"model-{file}.png", "image/png",
                           key=f"model_png_{file}")
