"""Session helpers shared by every page: the one Store, and who is annotating.

Signed in (app.auth), the annotator is the signed-in user. In single-user mode
(FUZZYMAP_AUTH=off) it is a sidebar select box bound to the `annotator` query parameter, so a
reload or a shared link keeps it. The store is created once per server process
(cache_resource), which is safe because every Store call opens its own transaction.
"""
from __future__ import annotations

import streamlit as st

from data.roles import Acting, Actor
from data.store import Store
from workspace.samples import ensure_sample

ANNOTATOR_KEY = "annotator"
USER_KEY = "auth_user"
"""Session-state key of the signed-in Actor (set by app.auth only)."""


def _leave_pages_directory_mode() -> None:
    """Make a first visit to e.g. /label after a server start go through app/main.py.

    Streamlit runs a file from app/pages/ directly (its old multipage mode, no sidebar picker,
    no page list) when that is the first URL a fresh server sees, until some run calls
    st.navigation. Switching the mode off and rerunning routes the same URL through main.py.
    """
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    if PagesManager.uses_pages_directory and get_script_run_ctx() is not None:
        PagesManager.uses_pages_directory = False
        st.rerun()


_leave_pages_directory_mode()


@st.cache_resource
def get_store() -> Store:
    """The annotation store (FUZZYMAP_DB or the default file); an empty one gets the sample paper."""
    store = Store()
    ensure_sample(store)
    return store


def open_page(title: str, caption: str | None = None) -> Store:
    """The store, after the page's title and the line that says what the page shows."""
    store = get_store()
    st.title(title)
    if caption:
        st.caption(caption)
    return store


def stop_unless(ready: bool, message: str) -> None:
    """An empty state: the message in place of the rest of the page, which is not run."""
    if not ready:
        st.info(message)
        st.stop()


def _remember_annotator() -> None:
    name = st.session_state.get(ANNOTATOR_KEY)
    if name:
        get_store().ensure_annotator(name.strip())


def annotator_picker() -> str | None:
    """The sidebar box to choose or type one's name once; the choice lives in the URL."""
    store = get_store()
    known = store.annotators()
    for name in (st.session_state.get(ANNOTATOR_KEY), st.query_params.get(ANNOTATOR_KEY)):
        if name and name.strip() and name not in known:  # a shared link may name a new annotator
            store.ensure_annotator(name.strip())
            known = [*known, name]
    return st.sidebar.selectbox(
        "Annotator", known, index=None, key=ANNOTATOR_KEY, placeholder="Type your name…",
        accept_new_options=True, bind="query-params", on_change=_remember_annotator,
        help="Every label you save carries this name; it stays in the page address.")


def signed_in() -> Actor | None:
    """The signed-in user; None in single-user mode."""
    return st.session_state.get(USER_KEY)


def current_annotator() -> str | None:
    """The signed-in user's name, or in single-user mode the annotator chosen in the sidebar
    (None before anyone has chosen)."""
    actor = signed_in()
    if actor is not None:
        return actor.name
    name = st.session_state.get(ANNOTATOR_KEY)
    return name.strip() if name else None


def acting() -> Acting:
    """Who to hand to store calls that change rows: the signed-in Actor, whose role the store
    checks, or in single-user mode the sidebar name (trusted, as on a laptop)."""
    return signed_in() or current_annotator()


def reviews() -> bool:
    """Whether this session may adjudicate, merge and fix others' labels: a reviewer or admin
    signed in, or anyone in single-user mode."""
    actor = signed_in()
    return actor is None or actor.reviews
