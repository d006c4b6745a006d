"""Sign-in for the app: who is using it, checked before any page runs.

Three modes, chosen at start:
- password (the default): accounts in the database (data.accounts), a sign-in form, the
  signed-in user kept in the state of this browser session (a reload asks again);
- identity provider: when `.streamlit/secrets.toml` has an `[auth]` section, Streamlit's own
  OIDC flow (st.login / st.user); the provider's e-mail (or name) is the user name, and a
  first visit makes an annotator account that an admin can promote;
- single-user (FUZZYMAP_AUTH=off): no sign-in, the name comes from the sidebar or `?annotator=`
  as on a laptop, and every page says so.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from functools import partial

import streamlit as st

from app.markup import escape_markdown
from app.state import USER_KEY, get_store
from core.errors import InputError
from data.accounts import Accounts
from data.roles import Actor

AUTH_ENV = "FUZZYMAP_AUTH"


def auth_off() -> bool:
    return os.environ.get(AUTH_ENV, "").strip().lower() in ("off", "0", "false", "no")


def _oidc_configured() -> bool:
    """Whether secrets.toml configures an identity provider ([auth]); no secrets file means no."""
    try:
        return "auth" in st.secrets
    except Exception:  # Streamlit raises when there is no secrets file at all
        return False


@st.cache_resource
def _first_start_token(db_url: str) -> str | None:
    """Once per server and database: the admin from env, or a one-time token printed to the console."""
    token = Accounts(get_store()).bootstrap()
    if token:
        print(f"fuzzymap: no account yet. Open the app and enter this one-time token to create the "
              f"first admin: {token}", flush=True)
    return token


def _sign_out() -> None:
    st.session_state.pop(USER_KEY, None)


def _sign_in_form(accounts: Accounts) -> None:
    st.title("Sign in to fuzzymap")
    with st.form("sign_in"):
        name = st.text_input("User name", key="sign_in_name")
        password = st.text_input("Password", type="password", key="sign_in_password")
        if st.form_submit_button("Sign in", type="primary"):
            actor = accounts.sign_in(name, password)
            if actor is None:
                st.error("Unknown user name or wrong password.")
            else:
                st.session_state[USER_KEY] = actor
                st.rerun()
    st.caption("No account? Ask your fuzzymap admin to add you.")


def _first_admin_form(accounts: Accounts, token: str) -> None:
    st.title("Create the first admin")
    st.info("This fuzzymap has no account yet. The server printed a one-time token in its console "
            "(or set FUZZYMAP_ADMIN_USER and FUZZYMAP_ADMIN_PASSWORD before starting it).")
    with st.form("first_admin"):
        given = st.text_input("One-time token", type="password", key="first_token")
        name = st.text_input("Admin user name", key="first_name")
        password = st.text_input("Password (8 characters or more)", type="password", key="first_password")
        if st.form_submit_button("Create admin", type="primary"):
            try:
                st.session_state[USER_KEY] = accounts.claim(given, token, name, password)
            except InputError as exc:
                st.error(escape_markdown(str(exc)))
            else:
                st.rerun()


def _oidc_form() -> None:
    st.title("Sign in to fuzzymap")
    st.button("Sign in with your organisation's account", on_click=st.login, type="primary")


def _only(page: Callable[[], None], name: str, paths: Sequence[str] = ()) -> None:
    """Shows `page` as the app's one page and ends the run. st.navigation is still called: a run
    without it would put Streamlit in its pages-directory mode, where a URL like /label runs that
    page's file directly, past this check. Each of the app's page `paths` shows `page` too, so a
    link such as /map asks for the sign-in and, once signed in, opens that page."""
    pages = [st.Page(page, title="Sign in", url_path=name, default=True)]
    pages += [st.Page(page, title="Sign in", url_path=path) for path in paths if path != name]
    st.navigation(pages, position="hidden").run()
    st.stop()


def _signed_in_sidebar(actor: Actor, sign_out) -> None:
    st.sidebar.caption(f"Signed in as **{escape_markdown(actor.name)}** ({actor.role})")
    st.sidebar.button("Sign out", on_click=sign_out, key="sign_out", icon=":material/logout:")


def require_user(paths: Sequence[str] = ()) -> Actor | None:
    """The signed-in user, re-read from the database on every run (a new role applies at once);
    None in single-user mode. Without a user it shows the sign-in (at every one of the app's page
    `paths`) and ends the run."""
    if auth_off():
        st.sidebar.warning("Single-user mode (FUZZYMAP_AUTH=off): no sign-in, anyone who can open "
                           "this address works under any name.", icon=":material/lock_open:")
        return None
    accounts = Accounts(get_store())
    if _oidc_configured():
        if not st.user.is_logged_in:
            _only(_oidc_form, "signin", paths)
        actor = accounts.identity(str(st.user.get("email") or st.user.get("name")))
        _signed_in_sidebar(actor, st.logout)
        return actor
    token = _first_start_token(get_store().url)
    held = st.session_state.get(USER_KEY)
    actor = accounts.find(held.name) if held else None
    if actor is None:
        st.session_state.pop(USER_KEY, None)
        if accounts.count() == 0 and token:
            _only(partial(_first_admin_form, accounts, token), "setup", paths)
        _only(partial(_sign_in_form, accounts), "signin", paths)
    st.session_state[USER_KEY] = actor
    _signed_in_sidebar(actor, _sign_out)
    return actor
