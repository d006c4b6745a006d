"""Shared test set-up: run offline, from the repo root, with seeded randomness."""
import os
import random
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(autouse=True)
def _seed():
    random.seed(0)
    try:
        import numpy as np

        np.random.seed(0)
    except ImportError:
        pass


@pytest.fixture
def db(tmp_path, monkeypatch):
    """A fresh database file for AppTest pages (app_server.app_test opens it); the app's cached
    store is forgotten after the test, so the next test gets the database it names."""
    path = tmp_path / "app.db"
    monkeypatch.setenv("FUZZYMAP_DB", str(path))  # app_test sets it too; this restores it afterwards
    yield path
    from app.state import get_store

    get_store.clear()


@pytest.fixture(scope="module")
def browser(app):
    """One Chromium per browser test module, started after the module's `app` fixture (which
    skips the module where Chromium is missing)."""
    from app_server import chromium

    with chromium() as b:
        yield b


@pytest.fixture
def page(browser):
    """A fresh page (its own browser context, so its own Streamlit session) for each test."""
    from playwright.sync_api import expect

    from app_server import browser_page

    expect.set_options(timeout=30_000)  # two shared CPU cores: a rerun can take seconds
    with browser_page(browser) as pg:
        yield pg


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    """A small real relation-model bundle, trained once per test run for every test that needs one."""
    from app_server import tiny_bundle

    return tiny_bundle(tmp_path_factory.mktemp("tiny_model"))


PG_URL = os.environ.get("FUZZYMAP_TEST_PG_URL")


@pytest.fixture(params=["sqlite", "postgres"])
def url(request, tmp_path):
    """A fresh empty database: a SQLite file, or a private schema in the test PostgreSQL
    (FUZZYMAP_TEST_PG_URL, which .ci/run sets after starting a real server)."""
    from sqlalchemy import create_engine

    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    if not PG_URL:
        pytest.skip("FUZZYMAP_TEST_PG_URL not set")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    admin.dispose()
