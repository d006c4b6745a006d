"""Sign-in in the app (AppTest): the form, the first admin, the Users page, single-user mode.
Signing out, and who may change whose labels, are driven in a real browser (test_browser_auth.py)."""
from __future__ import annotations

import pytest

from app_server import app_test
from data.accounts import Accounts
from data.store import Store


def _sign_in(at, name: str, password: str):
    at.text_input(key="sign_in_name").set_value(name)
    at.text_input(key="sign_in_password").set_value(password)
    at.button(key="FormSubmitter:sign_in-Sign in").click().run()
    return at


@pytest.fixture
def accounts(db):
    store = Store(str(db))
    acc = Accounts(store)
    acc.add_user("root", "rootpass1", "admin")
    acc.add_user("bob", "bobpass12")
    yield acc
    store.close()


def test_nothing_but_the_sign_in_form_before_signing_in(db, accounts):
    at = app_test(db, auth="password", annotator=None, query={"annotator": "root"})  # a name in the URL is no sign-in
    assert not at.exception
    assert [t.value for t in at.title] == ["Sign in to fuzzymap"] and not at.dataframe
    _sign_in(at, "root", "wrong-password")
    assert [e.value for e in at.error] == ["Unknown user name or wrong password."]
    assert [t.value for t in at.title] == ["Sign in to fuzzymap"]


def test_annotator_signs_in_and_is_the_annotator(db, accounts):
    at = _sign_in(app_test(db, auth="password", annotator=None), "bob", "bobpass12")
    assert not at.exception
    assert [t.value for t in at.title] == ["Documents"]
    assert "Signed in as **bob** (annotator)" in [c.value for c in at.sidebar.caption]
    assert not at.sidebar.selectbox  # no annotator picker: the name is the account's
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/users.py")  # the Users page is not even listed for an annotator


def test_admin_adds_a_user_and_sets_a_role(db, accounts):
    at = _sign_in(app_test(db, auth="password", annotator=None), "root", "rootpass1")
    at.switch_page("pages/users.py").run()
    assert not at.exception and [t.value for t in at.title] == ["Users"]
    at.text_input(key="new_user_name").set_value("cara")
    at.text_input(key="new_user_password").set_value("short")
    at.button(key="FormSubmitter:add_user-Add user").click().run()
    assert [e.value.replace("\\", "") for e in at.error] == ["password: needs at least 8 characters"]
    at.text_input(key="new_user_name").set_value("cara")
    at.text_input(key="new_user_password").set_value("carapass1")
    at.selectbox(key="new_user_role").set_value("reviewer")
    at.button(key="FormSubmitter:add_user-Add user").click().run()
    assert accounts.sign_in("cara", "carapass1").role == "reviewer"
    at.selectbox(key="edit_user").set_value("bob")
    at.selectbox(key="edit_role").set_value("reviewer")
    at.button(key="FormSubmitter:set_role-Save").click().run()
    assert not at.exception and accounts.find("bob").role == "reviewer"


def test_first_start_without_env_asks_for_the_printed_token(db, capsys):
    at = app_test(db, auth="password", annotator=None)
    assert [t.value for t in at.title] == ["Create the first admin"]
    token = capsys.readouterr().out.split("first admin: ")[1].split()[0]
    at.text_input(key="first_token").set_value("not-the-token")
    at.text_input(key="first_name").set_value("root")
    at.text_input(key="first_password").set_value("rootpass1")
    at.button(key="FormSubmitter:first_admin-Create admin").click().run()
    assert [e.value.replace("\\", "") for e in at.error] == ["token: does not match the one printed in the server console"]
    at.text_input(key="first_token").set_value(token)
    at.button(key="FormSubmitter:first_admin-Create admin").click().run()
    assert not at.exception and [t.value for t in at.title] == ["Documents"]
    assert Accounts(Store(str(db))).find("root").administers


def test_single_user_mode_says_so(db):
    """(Every page says so: app/main.py draws it before any page; the hostile-corpus browser test
    sees it on each page.)"""
    at = app_test(db)
    assert not at.exception
    assert any("Single-user mode (FUZZYMAP_AUTH=off)" in w.value for w in at.sidebar.warning)
    assert at.sidebar.selectbox(key="annotator").value == "ann"
