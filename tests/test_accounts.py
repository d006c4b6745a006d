"""Accounts and roles: argon2 hashes, the first admin, and ownership enforced by the store itself
(SQLite, and PostgreSQL when FUZZYMAP_TEST_PG_URL is set)."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from core.errors import InputError
from core.types import ParsedDocument, ParsedSentence, PassageRelation
from data.accounts import Accounts, hash_password, verify_password
from data.roles import Actor, NotAllowed
from data.store import Store


@pytest.fixture
def store(url):
    s = Store(url)
    yield s
    s.close()


def _labelled(store: Store) -> tuple[int, int]:
    """A one-sentence document with one relation by annotator "ann"; (sentence id, relation id)."""
    (doc_id,) = store.import_documents([ParsedDocument(
        filename="kelp.txt", sha256="sha-kelp", sentences=[ParsedSentence("Warmer water reduces kelp growth.")])])
    (sent,) = store.sentences(doc_id)
    rid = store.add_relation(sent.id, PassageRelation("warmer water", "kelp growth", -1, annotator="ann"))
    return sent.id, rid


def test_password_hash_is_argon2_and_salted():
    a, b = hash_password("correct horse"), hash_password("correct horse")
    assert a.startswith("$argon2id$") and a != b and "correct horse" not in a
    assert verify_password(a, "correct horse") and not verify_password(a, "correct hors")
    assert not verify_password(None, "correct horse") and not verify_password("not a hash", "x")
    with pytest.raises(InputError, match="at least 8"):
        hash_password("short")


def test_sign_in_roles_and_the_last_admin(store):
    acc = Accounts(store)
    root = acc.add_user("root", "rootpass1", "admin")
    acc.add_user("bob", "bobpass12", by=root)
    assert acc.sign_in("bob", "bobpass12") == Actor("bob", "annotator")
    assert acc.sign_in("bob", "wrong-pass") is None and acc.sign_in("nobody", "bobpass12") is None
    assert "bob" in store.annotators()  # an account is an annotator name too
    with pytest.raises(InputError, match="already has an account"):
        acc.add_user("bob", "another1")
    with pytest.raises(NotAllowed, match="admin role"):
        acc.add_user("eve", "evepass12", "admin", by=Actor("bob", "annotator"))
    with pytest.raises(NotAllowed):
        acc.set_role("bob", "admin", by=Actor("bob", "reviewer"))
    acc.set_role("bob", "reviewer", by=root)
    assert acc.sign_in("bob", "bobpass12").role == "reviewer"
    with pytest.raises(InputError, match="only admin"):
        acc.set_role("root", "annotator", by=root)
    with pytest.raises(InputError, match="unknown role"):
        acc.set_role("bob", "owner", by=root)
    acc.set_password("bob", "newpass123", by=Actor("bob", "reviewer"))  # one's own
    assert acc.sign_in("bob", "newpass123") and not acc.sign_in("bob", "bobpass12")
    with pytest.raises(NotAllowed):
        acc.set_password("root", "takeover1", by=Actor("bob", "reviewer"))
    assert [(u.name, u.role) for u in acc.users()] == [("bob", "reviewer"), ("root", "admin")]


def test_hashes_never_reach_the_action_log(store, url):
    acc = Accounts(store)
    acc.add_user("root", "rootpass1", "admin")
    _labelled(store)
    with create_engine(url).connect() as c:
        log = " ".join(c.execute(text("SELECT changes FROM actions")).scalars())
        stored = c.execute(text("SELECT password FROM users")).scalar()
    assert stored.startswith("$argon2") and "argon2" not in log and "rootpass1" not in log


def test_first_admin_from_env_or_a_one_time_token(store):
    acc = Accounts(store)
    assert acc.bootstrap({"FUZZYMAP_ADMIN_USER": "root", "FUZZYMAP_ADMIN_PASSWORD": "rootpass1"}) is None
    assert acc.sign_in("root", "rootpass1").administers
    assert acc.bootstrap({}) is None  # accounts exist: nothing printed, nothing made


def test_one_time_token_claims_the_first_admin_once(url):
    store = Store(url)
    acc = Accounts(store)
    token = acc.bootstrap({})
    assert token and len(token) >= 20
    with pytest.raises(NotAllowed, match="does not match"):
        acc.claim("guess", token, "eve", "evepass12")
    assert acc.count() == 0
    assert acc.claim(token, token, "root", "rootpass1") == Actor("root", "admin")
    with pytest.raises(NotAllowed, match="already exists"):
        acc.claim(token, token, "eve", "evepass12")
    store.close()


def test_identity_provider_users_start_as_annotators_without_password(store):
    acc = Accounts(store)
    assert acc.identity("ann@example.org") == Actor("ann@example.org", "annotator")
    assert acc.sign_in("ann@example.org", "") is None  # no password sign-in for them
    acc.set_role("ann@example.org", "reviewer")
    assert acc.identity("ann@example.org").role == "reviewer" and acc.count() == 1


def test_annotator_cannot_edit_swap_delete_or_undo_anothers_relation(store):
    sid, rid = _labelled(store)
    bob = Actor("bob")
    for attempt in (lambda: store.update_relation(rid, sign=1, annotator=bob),
                    lambda: store.swap_relation(rid, bob),
                    lambda: store.delete_relation(rid, bob),
                    lambda: store.undo(bob, of="ann")):
        with pytest.raises(NotAllowed, match="bob"):
            attempt()
    assert store.undo(bob) is None  # bob's own Undo finds nothing of his
    (row,) = store.relations()
    assert (row.id, row.sign, row.source) == (rid, -1, "warmer water")
    assert [a.kind for a in store.history()] == ["add_relation", "import"]  # refusals wrote nothing


def test_owner_and_reviewer_may_change_and_the_log_names_who_did(store):
    sid, rid = _labelled(store)
    store.update_relation(rid, sign=1, annotator=Actor("ann"))
    store.swap_relation(rid, Actor("rev", "reviewer"))
    assert store.history(limit=1)[0].annotator == "rev"
    store.delete_relation(rid, Actor("root", "admin"))
    assert store.relations() == [] and store.history(limit=1)[0].annotator == "root"
    assert store.undo(Actor("root", "admin")) == "delete kelp growth -> warmer water"
    (row,) = store.relations()
    assert row.annotator == "ann"  # the relation is back, still ann's
    last = store.history(limit=1)[0]
    assert (last.kind, last.annotator) == ("undo", "root")


def test_admin_undoes_anothers_action_logged_as_the_admin(store):
    sid, rid = _labelled(store)
    assert store.undo(Actor("root", "admin"), of="ann") == "add warmer water -> kelp growth"
    assert store.relations() == []
    last = store.history(limit=1)[0]
    assert (last.kind, last.annotator, last.description) == ("undo", "root", "undo: add warmer water -> kelp growth")


def test_undo_of_own_action_touching_anothers_row_needs_the_role(store):
    """A reviewer's edit of ann's relation cannot be undone by the reviewer once demoted."""
    sid, rid = _labelled(store)
    store.update_relation(rid, note="checked", annotator=Actor("rev", "reviewer"))
    with pytest.raises(NotAllowed):
        store.undo(Actor("rev", "annotator"))
    assert store.relations()[0].note == "checked"
    assert store.undo(Actor("rev", "reviewer")) == "edit warmer water -> kelp growth"
    assert store.relations()[0].note is None


def test_merges_need_a_reviewer_when_signed_in(store):
    _labelled(store)
    with pytest.raises(NotAllowed, match="reviewer"):
        store.merge_concepts("kelp growth", "warmer water", Actor("ann"))
    store.merge_concepts("kelp growth", "warmer water", Actor("rev", "reviewer"))
    with pytest.raises(NotAllowed):
        store.unmerge_concept("kelp growth", Actor("ann"))
    store.unmerge_concept("kelp growth", Actor("root", "admin"))
    assert store.aliases() == {}


def test_plain_names_stay_trusted_for_the_command_line_and_single_user_mode(store):
    sid, rid = _labelled(store)
    store.update_relation(rid, sign=1, annotator="bob")  # FUZZYMAP_AUTH=off: today's behaviour
    assert store.history(limit=1)[0].annotator == "bob"
    store.delete_relation(rid, "bob")
    assert store.relations() == []


def test_roles_are_checked():
    with pytest.raises(InputError, match="unknown role"):
        Actor("x", "superuser")
    assert Actor("a").may_change("a") and not Actor("a").may_change("b") and not Actor("a").may_change(None)
    assert Actor("r", "reviewer").may_change(None) and Actor("r", "reviewer").reviews
    assert not Actor("r", "reviewer").administers and Actor("x", "admin").administers
