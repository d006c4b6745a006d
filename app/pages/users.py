"""Users (admins only): add accounts, set roles and passwords."""
from __future__ import annotations

import streamlit as st

from app.markup import escape_markdown
from app.state import get_store, signed_in
from core.errors import InputError
from data.accounts import Accounts
from data.roles import ROLES

st.title("Users")
me = signed_in()
if me is None or not me.administers:  # the page is listed for admins only; a typed URL lands here
    st.error("Only an admin can manage accounts.")
    st.stop()
accounts = Accounts(get_store())
st.caption("annotator: labels, and changes only their own · reviewer: also adjudication, merges, model "
           "choice and anyone's labels · admin: also this page.")

users = accounts.users()
st.dataframe([{"user": u.name, "role": u.role, "signs in with": "password" if u.has_password else
               "identity provider", "since": u.created} for u in users], hide_index=True, key="users_table")


def _done(message: str) -> None:
    st.toast(escape_markdown(message))


with st.form("add_user", clear_on_submit=True):
    st.markdown("**Add a user**")
    c1, c2, c3 = st.columns(3)
    name = c1.text_input("User name", key="new_user_name")
    password = c2.text_input("Password (8 characters or more)", type="password", key="new_user_password")
    role = c3.selectbox("Role", ROLES, key="new_user_role")
    if st.form_submit_button("Add user", type="primary"):
        try:
            accounts.add_user(name, password, role, by=me)
        except InputError as exc:
            st.error(escape_markdown(str(exc)))
        else:
            _done(f"Added {name.strip()} ({role})")
            st.rerun()

with st.form("set_role"):
    st.markdown("**Change a role or password**")
    c1, c2, c3 = st.columns(3)
    who = c1.selectbox("User", [u.name for u in users], key="edit_user")
    new_role = c2.selectbox("Role", ROLES, key="edit_role")
    new_password = c3.text_input("New password (empty: keep)", type="password", key="edit_password")
    if st.form_submit_button("Save"):
        try:
            if new_password:
                accounts.set_password(who, new_password, by=me)
            accounts.set_role(who, new_role, by=me)
        except InputError as exc:
            st.error(escape_markdown(str(exc)))
        else:
            _done(f"{who} is now {new_role}")
            st.rerun()
