"""Label: one sentence at a time, relations by keyboard, model suggestions to accept or reject.

Keys (app.keys: taken in typing order, once each; ignored while typing in a text box):
1-9 pick concept chips (first = source, second = target) · Enter save · Up/Down sign + / -
Shift+Up/Down strength · S swap · Esc clear · A/X/E accept/reject/edit the top suggestion
N no relation · D discard · U undo · Right/Left next/back · G next unlabeled.
Every action is written to the store at once; this page holds only the unsaved picks.
"""
from __future__ import annotations

import uuid

import streamlit as st

from app.focus import keep_keys_on_page
from app.keys import key_hints, key_queue
from app.markup import escape_markdown, highlight, shorten
from app.state import acting, current_annotator, get_store, reviews, signed_in
from core.errors import InputError
from core.types import STRENGTHS, PassageRelation
from workspace.labeling import (
    DONE_STATUSES,
    ORDERS,
    Pick,
    advance_pick,
    apply_table_edits,
    concept_chips,
    neighbours,
    next_unlabeled,
    order_positions,
    pair_to_save,
    pick_from_span,
    pick_from_text,
    progress,
    span_from_words,
    stable_chips,
    unread_keys,
    word_chip_step,
    word_spans,
)
from workspace.pageview import sentence_page
from workspace.suggest import best_source, bundle_path, prefetch, sentence_scores, suggest_missing

ss = st.session_state
store = get_store()
annotator = current_annotator()
SIGN_LABEL = {1: "+ increase", -1: "− decrease"}
STRENGTH_KEYS = list(STRENGTHS)
KEYS = "lb_keys"  # the key listener's widget key (app.keys)
STORE_KEYS = {"Enter", "a", "x", "n", "d", "u"}  # keys that write to the store; the others change only page state
ss.setdefault("lb_keys_session", uuid.uuid4().hex)  # stamps the keys typed under this session (app.keys)


@st.cache_resource(show_spinner="Loading the relation model…")
def _source(model_path: str, db_url: str):
    """One suggestion source per bundle and database (the store's concepts are its lexicon)."""
    return best_source(model_path, lexicon=get_store().concepts())


@st.cache_resource
def _asked(model_path: str, db_url: str) -> set[int]:
    """Sentence ids already put to the source, shared by every session: a reload or a new tab must
    not ask the model again about a sentence it had nothing to say about."""
    return set()


@st.cache_data(max_entries=5000, show_spinner=False)
def _chips(text: str, lexicon: tuple[str, ...]) -> list[tuple[int, int]]:
    return concept_chips(text, lexicon)


# ------------------------------------------------------------------ state changes (callbacks)
def _form_key(name: str) -> str:
    """The key of a form field's widget, new whenever the page itself sets the form (_set_form).

    The picks, sign and strength live in plain session state and their widgets only show them.
    A key typed before the browser has drawn such a change sends the old widget's value with it;
    under the old key that value matches no widget any more, so it cannot overwrite the change.
    """
    return f"{name}_{ss.get('lb_form_ver', 0)}"


def _set_form(**values) -> None:
    """Sets form fields (src, tgt, sign, strength) and moves their widgets to new keys (_form_key)."""
    for name, value in values.items():
        ss[f"lb_{name}"] = value
    ss.lb_form_ver = ss.get("lb_form_ver", 0) + 1


def _stale(key: str) -> bool:
    """Whether a changed widget is one the page has since replaced (_form_key). Streamlit still
    runs the callback of such a widget when a late message reports its old value: ignored."""
    return not key.endswith(f"_{ss.get('lb_form_ver', 0)}")


def _copy(key: str, name: str, default) -> None:
    """A widget changed by hand: its value becomes the form's (a cleared one, the default)."""
    if not _stale(key):
        value = ss.get(key)
        _set_form(**{name: default if value is None else value})


def _reset_form() -> None:
    _set_form(src=None, tgt=None, sign=1, strength="M")
    ss.lb_anchor = None
    ss.lb_words_ver = ss.get("lb_words_ver", 0) + 1
    ss.lb_note = ""
    ss.lb_editing = None  # a suggestion loaded with E stays pending when its edit is dropped


def _go(pos: int) -> None:
    ss.pos = pos
    _reset_form()


def _choose(pick: Pick) -> None:
    src, tgt = advance_pick(ss.get("lb_src"), ss.get("lb_tgt"), pick)
    _set_form(src=src, tgt=tgt)


def _clicked(pick: Pick) -> None:
    """A chip or word-chip click: a Save click merged into this same run may still be meant for
    the pair this pick replaces (pair_to_save)."""
    src, tgt = ss.get("lb_src"), ss.get("lb_tgt")
    if src and tgt:
        ss.lb_replaced = (src, tgt)
    _choose(pick)


def _jump(key: str) -> None:
    """The Jump box changed: go there. Its key names the position it was drawn for, and a late
    message can still report the box of a sentence the page has left since (then it counts as
    changed, its old value being gone): ignored, or it would undo the move."""
    if key == f"lb_jump_{ss.pos}" and ss.get(key):
        _go(int(ss[key]) - 1)


def _words_clicked(key: str, text: str) -> None:
    if not key.endswith(f"_{ss.get('lb_words_ver', 0)}"):  # word chips since replaced (_reset_form, a pick)
        return
    words = word_spans(text)
    anchor, pair = word_chip_step(ss.get("lb_anchor"), ss.get(key) or [])
    ss.lb_anchor = anchor
    if pair is not None:
        ss.lb_words_ver = ss.get("lb_words_ver", 0) + 1
        _clicked(pick_from_span(text, span_from_words(words, *pair)))


def _typed(which: str, text: str, key: str) -> None:
    if _stale(key):
        return
    value = ss.get(key)
    ss[f"lb_{which}"] = pick_from_text(text, value) if value and value.strip() else None


def _swap() -> None:
    _set_form(src=ss.get("lb_tgt"), tgt=ss.get("lb_src"))


def _sign(value: int) -> None:
    _set_form(sign=value)


def _strength(step: int) -> None:
    i = STRENGTH_KEYS.index(ss.get("lb_strength") or "M")
    _set_form(strength=STRENGTH_KEYS[min(max(i + step, 0), len(STRENGTH_KEYS) - 1)])


def _save(sentence_id: int) -> None:
    """Save button / Enter in the Note box: done by _save_pending once every callback of this run
    has run (pair_to_save)."""
    ss.lb_save_for = sentence_id


def _save_pending() -> None:
    """Saves what a Save click of this run asked for; called before the form's widgets are drawn."""
    sentence_id, replaced = ss.pop("lb_save_for", None), ss.pop("lb_replaced", None)
    if sentence_id is not None:
        _save_pair(sentence_id, replaced)


def _save_pair(sentence_id: int, replaced: tuple[Pick, Pick] | None) -> None:
    pair, began_next = pair_to_save(ss.get("lb_src"), ss.get("lb_tgt"), replaced)
    if pair is None:
        ss.lb_flash = "Pick a source and a target first (digit keys, word chips or typing)."
        return
    src, tgt = pair
    note = (ss.get("lb_note") or "").strip() or None
    try:
        store.add_relation(sentence_id, PassageRelation(
            src.text, tgt.text, ss.get("lb_sign") or 1, src.span, tgt.span,
            strength=ss.get("lb_strength") or "M", annotator=annotator, note=note))
    except InputError as exc:
        ss.lb_flash = str(exc)
        return
    _acted()
    if ss.get("lb_editing") is not None:  # the edited version replaces the suggestion
        _decide("reject", ss.lb_editing)
    ss.lb_toast = f"Saved {src.text} → {tgt.text}"
    next_source = ss.get("lb_src") if began_next else None
    _reset_form()
    if next_source is not None:  # the next pair's first pick, typed before this save ran, stays
        _set_form(src=next_source)


def _mark(sentence_id: int, status: str, then: int | None) -> None:
    store.set_status(sentence_id, status, annotator)
    _acted()
    ss.lb_toast = f"Marked {status}"
    if then is not None:
        _go(then)


def _acted() -> None:
    """Remembers where an undoable action happened, so Undo can bring the annotator back there."""
    ss.setdefault("lb_acted_at", []).append(ss.pos)


def _undo(of: str | None = None) -> None:
    """Undoes one's own last action, or (a reviewer or admin) `of`'s last action."""
    try:
        what = store.undo(acting(), of=of)
    except InputError as exc:
        ss.lb_flash = f"{exc} — nothing changed"
        return
    ss.lb_toast = f"Undone: {what}" if what else "Nothing to undo"
    if what and of is None and ss.get("lb_acted_at"):
        _go(ss.lb_acted_at.pop())


def _decide(verb: str, suggestion_id: int) -> bool:
    """Accepts or rejects a suggestion. A key pressed on a page that had not caught up yet can name
    one already decided: that is one line for the annotator, not a crash, and changes nothing."""
    try:
        if verb == "accept":
            store.accept_suggestion(suggestion_id, annotator)
        else:
            store.reject_suggestion(suggestion_id, annotator)
    except InputError as exc:
        ss.lb_flash = f"{exc} — nothing changed"
        return False
    _acted()
    return True


def _accept(suggestion_id: int) -> None:
    if _decide("accept", suggestion_id):
        ss.lb_toast = "Suggestion accepted"


def _reject(suggestion_id: int) -> None:
    if _decide("reject", suggestion_id):
        ss.lb_toast = "Suggestion rejected"


def _edit_suggestion(sug) -> None:
    """Loads a suggestion into the form to correct it. It stays pending until the edit is saved
    (then it counts as rejected: the saved version replaces it); Esc or moving on keeps it."""
    _set_form(src=Pick(sug.source, sug.source_span), tgt=Pick(sug.target, sug.target_span), sign=sug.sign)
    ss.lb_editing = sug.id
    ss.lb_toast = "Editing the suggestion: Enter saves your version, Esc keeps the suggestion"


def _row_chips(row) -> list[tuple[int, int]]:
    """The concept chips of a sentence, numbered as the annotator last saw them (stable_chips)."""
    chips = _chips(row.text, tuple(store.concepts()))
    memo = ss.get("lb_chip_memo")
    if memo and memo[0] == (row.id, row.text):
        chips = stable_chips(memo[1], chips)
    ss.lb_chip_memo = ((row.id, row.text), chips)
    return chips


def _press(key: str, rows, sequence: list[int]) -> None:
    """One key of the queue (app.keys), on the sentence and form as the keys before it left them."""
    row = rows[ss.pos]
    back, ahead, unlabeled = neighbours([r.status for r in rows], [r.is_reference for r in rows], sequence, ss.pos)
    moves = {"ArrowLeft": back, "ArrowRight": ahead, "g": unlabeled}
    if key in moves:
        if moves[key] is not None:
            _go(moves[key])
        return
    if not annotator:  # picking and saving need a name (the form is not shown)
        return
    if key.isdigit():
        chips = _row_chips(row)
        if int(key) <= len(chips):
            _choose(pick_from_span(row.text, chips[int(key) - 1]))
    elif key in ("a", "x", "e"):
        pending = store.suggestions(sentence_id=row.id)
        if pending:
            top = pending[0]
            if key == "a":
                _accept(top.id)
            elif key == "x":
                _reject(top.id)
            else:
                _edit_suggestion(top)
    elif key in ("n", "d"):
        _mark(row.id, "no-relation" if key == "n" else "discarded", unlabeled)
    else:
        {"Enter": lambda: _save_pair(row.id, None), "Escape": _reset_form, "s": _swap, "u": _undo,
         "ArrowUp": lambda: _sign(1), "ArrowDown": lambda: _sign(-1),
         "Shift+ArrowUp": lambda: _strength(1), "Shift+ArrowDown": lambda: _strength(-1)}[key]()


def _table_edited(key: str, relation_ids: list[int]) -> None:
    errors = apply_table_edits(store, ss.get(key) or {}, relation_ids, acting())
    if errors:
        ss.lb_flash = "; ".join(errors)
    ss.lb_table_ver = ss.get("lb_table_ver", 0) + 1


# ------------------------------------------------------------------ which document and sentence
docs = store.list_documents()
if not docs:
    st.info("No documents yet: upload one on the Home page.")
    st.stop()
by_id = {d.id: d for d in docs}
if ss.get("doc") not in by_id:
    wanted = st.query_params.get("doc", "")
    ss.doc = int(wanted) if wanted.isdigit() and int(wanted) in by_id else docs[0].id
    wanted_pos = st.query_params.get("s", "")
    ss.pos = int(wanted_pos) - 1 if wanted_pos.isdigit() else None

doc_id = st.sidebar.selectbox(
    "Document", list(by_id), index=list(by_id).index(ss.doc), key="lb_doc_box",
    format_func=lambda i: by_id[i].title or by_id[i].filename)
if doc_id != ss.doc:
    ss.doc, ss.pos = doc_id, None
    _reset_form()
doc = by_id[ss.doc]
active_bundle = bundle_path(store)
source = _source(active_bundle, store.url)
asked = _asked(active_bundle, store.url)
order = st.sidebar.segmented_control("Order", ORDERS, default="document", key="lb_order", on_change=_go, args=(None,),
                                     bind="query-params", required=True,
                                     help="likely causal / uncertain use the suggestion scores (active learning)")
with st.sidebar:
    keep_keys_on_page()
    key_hints(KEYS)


@st.fragment
def _label_area(doc, order: str | None, source) -> None:
    """Everything about the current sentence: a key press reruns only this part of the page."""
    queue, ss.lb_keys_ready = key_queue(KEYS, ss.get("lb_keys_seen") or ("", 0), ss.lb_keys_session,
                                        ss.get("lb_keys_ready", False))
    if not ss.lb_keys_ready:  # the listener mounts and says so: then the sentence, and keys typed at it, count
        st.caption("Opening the sentence…")
        return
    _save_pending()
    rows = store.sentences(doc.id, annotator)  # statuses, progress, "next unlabeled": this annotator's
    if not rows:
        st.warning("This document has no sentences.")
        st.stop()
    for key, default in (("lb_src", None), ("lb_tgt", None), ("lb_sign", 1), ("lb_strength", "M"), ("lb_note", "")):
        ss.setdefault(key, default)
    if order in ("likely causal", "uncertain"):
        with st.spinner("Scoring the document…"):
            suggest_missing(store, rows, source, asked)
        sequence = order_positions(sentence_scores(store, rows, asked), order)
    else:
        sequence = list(range(len(rows)))
    statuses = [r.status for r in rows]
    skip = [r.is_reference for r in rows]
    if ss.get("pos") is None or not 0 <= ss.pos < len(rows):
        first = next_unlabeled(statuses, None, skip, sequence)
        _go(first if first is not None else sequence[0])
    keys, ss.lb_keys_seen = unread_keys(queue, ss.get("lb_keys_seen"), ss.lb_keys_session)
    for key in keys:
        _press(key, rows, sequence)
        if key in STORE_KEYS:  # statuses may have changed
            rows = store.sentences(doc.id, annotator)
    statuses = [r.status for r in rows]
    pos = ss.pos
    row = rows[pos]
    k = sequence.index(pos)
    prev_pos, next_pos, unlabeled_pos = neighbours(statuses, skip, sequence, pos)
    st.query_params.update(doc=str(doc.id), s=str(pos + 1))

    # ------------------------------------------------------------------ header, navigation, context
    done = sum(s in DONE_STATUSES for s in statuses)
    st.progress(progress(done, len(rows)),
                text=f"{escape_markdown(shorten(doc.title or doc.filename))} — {done} of {len(rows)} sentences done")
    if not annotator:
        st.warning("Choose or type your name in the sidebar to label.")
    for msg in [ss.pop("lb_flash", None)]:
        if msg:
            st.warning(escape_markdown(msg))
    for msg in [ss.pop("lb_toast", None)]:
        if msg:
            st.toast(escape_markdown(msg))

    with st.container(horizontal=True, vertical_alignment="center"):
        st.button("Back", on_click=_go, args=(prev_pos,), disabled=prev_pos is None,
                  icon=":material/arrow_back:", key="lb_back")
        st.button("Next", on_click=_go, args=(next_pos,), disabled=next_pos is None,
                  icon=":material/arrow_forward:", key="lb_next")
        st.button("Next unlabeled", on_click=_go, args=(unlabeled_pos,),
                  disabled=unlabeled_pos is None, key="lb_next_unlabeled")
        st.number_input("Jump to sentence", 1, len(rows), pos + 1, key=f"lb_jump_{pos}", width=160,
                        on_change=_jump, args=(f"lb_jump_{pos}",))

    page = f" · page {row.page}" if row.page is not None else ""
    status = f" · {row.status}" + (" · reference list" if row.is_reference else "")
    st.caption(f"Sentence {pos + 1} of {len(rows)}{page}{status}")
    if pos > 0:
        st.caption(escape_markdown(rows[pos - 1].text))
    src, tgt = ss.lb_src, ss.lb_tgt
    with st.container(border=True, key="lb_sentence"):
        st.markdown("#### " + highlight(row.text, src.span if src else None, tgt.span if tgt else None))
    if pos + 1 < len(rows):
        st.caption(escape_markdown(rows[pos + 1].text))
    if st.toggle("Show the PDF page", value=doc.format == "pdf", key=f"lb_page_view_{doc.id}"):
        view = sentence_page(store, doc.id, row.id)
        with st.container(key="lb_page_view"):
            if view is None:
                st.caption("No page image for this sentence (not from a PDF, or its place is not known).")
            else:
                st.image(view.png, caption=f"Page {view.page}")

    # ------------------------------------------------------------------ suggestions
    suggestion_box = st.container()  # filled last: asking the model must not hold up the rest of the page

    # ------------------------------------------------------------------ picking concepts
    if annotator:
        chips = _row_chips(row)
        with st.container(horizontal=True, key="lb_chips"):
            for i, span in enumerate(chips):
                pick = pick_from_span(row.text, span)
                st.button(escape_markdown(pick.text), key=f"lb_chip_{i}_{row.id}", on_click=_clicked, args=(pick,),
                          help="first pick = source, second = target")
        words = word_spans(row.text)
        words_key = f"lb_words_{row.id}_{ss.get('lb_words_ver', 0)}"
        anchor = ss.get("lb_anchor")
        st.pills("Any span: click its first and last word (a word twice for one word)", list(range(len(words))),
                 selection_mode="multi", default=[anchor] if anchor is not None else None,
                 format_func=lambda i: escape_markdown(row.text[words[i][0]:words[i][1]]), key=words_key,
                 on_change=_words_clicked, args=(words_key, row.text))

        lexicon = store.concepts()
        cols = st.columns([3, 3, 2, 3])
        for col, which, label in ((cols[0], "src", "Source"), (cols[1], "tgt", "Target")):
            current, key = ss.get(f"lb_{which}"), _form_key(f"lb_{which}_box")
            options = sorted(set(lexicon) | ({current.text} if current else set()))
            col.selectbox(label, options, index=options.index(current.text) if current else None, key=key,
                          accept_new_options=True, placeholder="chip, word chips, or type…", on_change=_typed,
                          args=(which, row.text, key))
        key = _form_key("lb_sign_box")
        cols[2].radio("Sign", [1, -1], index=[1, -1].index(ss.lb_sign), format_func=SIGN_LABEL.get, key=key,
                      on_change=_copy, args=(key, "sign", 1), help="Up = increase, Down = decrease")
        key = _form_key("lb_strength_box")
        cols[3].segmented_control("Strength", STRENGTH_KEYS, default=ss.lb_strength, key=key, on_change=_copy,
                                  args=(key, "strength", "M"), help="Shift+Up / Shift+Down")
        with st.form("lb_note_form", border=False):  # a form: Enter in the Note box saves, as Enter elsewhere does
            st.text_input("Note (optional)", key="lb_note")
            st.form_submit_button("Save relation", type="primary", on_click=_save, args=(row.id,),
                                  key="lb_save", icon=":material/add_link:")

        with st.container(horizontal=True, key="lb_actions"):
            st.button("Swap", on_click=_swap, key="lb_swap")
            st.button("Clear", on_click=_reset_form, key="lb_clear")
            st.button("Increase", on_click=_sign, args=(1,), key="lb_plus")
            st.button("Decrease", on_click=_sign, args=(-1,), key="lb_minus")
            st.button("Stronger", on_click=_strength, args=(1,), key="lb_stronger")
            st.button("Weaker", on_click=_strength, args=(-1,), key="lb_weaker")
            st.button("No relation", on_click=_mark, args=(row.id, "no-relation", unlabeled_pos),
                      key="lb_norel")
            st.button("Discard", on_click=_mark, args=(row.id, "discarded", unlabeled_pos),
                      key="lb_discard")
            st.button("Undo", on_click=_undo, key="lb_undo", icon=":material/undo:")

        # -------------------------------------------------------------- this sentence's relations
        whose = annotator
        if signed_in() is not None and reviews():  # reviewers and admins may fix anyone's labels here
            names = sorted({r.annotator for r in store.relations(sentence_id=row.id) if r.annotator} | {annotator})
            whose = st.selectbox("Relations of", names, index=names.index(annotator), key=f"lb_whose_{row.id}")
        mine = store.relations(sentence_id=row.id, annotator=whose)
        owner = "Your" if whose == annotator else f"{escape_markdown(whose)}'s"
        st.markdown(f"**{owner} relations in this sentence: {len(mine)}**")
        if whose != annotator:
            st.button(f"Undo {escape_markdown(whose)}'s last action", on_click=_undo, args=(whose,), key="lb_undo_other",
                      icon=":material/undo:")
        if mine:
            table_key = f"lb_rel_{row.id}_{whose}_{ss.get('lb_table_ver', 0)}"
            st.data_editor(
                [{"source": r.source, "target": r.target, "sign": "+" if r.sign > 0 else "−",
                  "strength": r.strength, "note": r.note or "", "swap": False,
                  "score": "" if r.score is None else f"{r.score:.2f}", "from": r.model_id or "you"} for r in mine],
                key=table_key, num_rows="delete", hide_index=True, on_change=_table_edited,
                args=(table_key, [r.id for r in mine]), disabled=["score", "from"],
                column_config={
                    "sign": st.column_config.SelectboxColumn("sign", options=["+", "−"], required=True),
                    "strength": st.column_config.SelectboxColumn("strength", options=STRENGTH_KEYS, required=True),
                    "swap": st.column_config.CheckboxColumn("⇄ swap", help="reverse the direction"),
                    "score": st.column_config.TextColumn("model score")})  # blank for your own labels
            st.caption(" · ".join(f"{escape_markdown(r.source)} → {escape_markdown(r.target)} "
                                  f"({'+' if r.sign > 0 else '−'}{r.strength})" for r in mine),
                       help="saved relations as text")
        others = len(store.relations(sentence_id=row.id)) - len(mine)
        if others:
            st.caption(f"{others} relation(s) by other annotators or imported")

        # -------------------------------------------------------------- fixing the sentence itself
        with st.expander("Fix this sentence (edit text, split, merge)"):
            new_text = st.text_area("Text", row.text, key=f"lb_text_{row.id}")
            if st.button("Save text", key="lb_save_text") and new_text != row.text:
                try:
                    store.edit_sentence(row.id, new_text, annotator)
                except InputError as exc:
                    st.error(escape_markdown(str(exc)))
                else:
                    asked.discard(row.id)  # new text: worth asking the model again
                    st.rerun()
            if len(words) > 1:
                at = st.selectbox("Split before word", range(1, len(words)), key=f"lb_split_at_{row.id}",
                                  format_func=lambda i: f"{i + 1}: {row.text[words[i][0]:words[i][1]]}")
                if st.button("Split", key="lb_split"):
                    store.split_sentence(row.id, words[at][0], annotator)
                    asked.discard(row.id)
                    st.rerun()
            if pos + 1 < len(rows) and st.button("Merge with the next sentence", key="lb_merge"):
                store.merge_sentences(row.id, rows[pos + 1].id, annotator)
                asked.discard(row.id)
                st.rerun()

    st.caption("Keys: 1–9 concept chips (source, then target) · Enter save · Up/Down sign · Shift+Up/Down "
               "strength · S swap · Esc clear · A/X/E accept/reject/edit suggestion · N no relation · D discard · "
               "U undo · Right/Left next/back · G next unlabeled")

    if annotator:
        with suggestion_box:
            if source.note:
                st.caption(source.note)
            suggest_missing(store, rows if source.cheap else [row], source, asked)
            pending = store.suggestions(sentence_id=row.id)
            if pending:
                st.markdown("**Suggestions** (A accept · X reject · E edit the top one)")
            for i, sug in enumerate(pending):
                with st.container(horizontal=True, vertical_alignment="center", key=f"lb_sug_{'top' if i == 0 else sug.id}"):
                    st.markdown(f"{escape_markdown(sug.source)} → {escape_markdown(sug.target)} "
                                f"({'+' if sug.sign > 0 else '−'}) · score {sug.score:.2f} · {escape_markdown(sug.model_id)}")
                    st.button("Accept", key=f"lb_acc_{sug.id}", on_click=_accept, args=(sug.id,),
                              type="primary" if i == 0 else "secondary")
                    st.button("Reject", key=f"lb_rej_{sug.id}", on_click=_reject, args=(sug.id,))
                    st.button("Edit", key=f"lb_edit_sug_{sug.id}", on_click=_edit_suggestion, args=(sug,))
        if not source.cheap:  # a slow model: have the next sentences' suggestions ready in time
            prefetch(store, [rows[i] for i in sequence[k + 1:k + 4]], source, asked)


_label_area(doc, order, source)
