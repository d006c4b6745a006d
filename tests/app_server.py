"""Start the real app (`streamlit run app/main.py`) on a free port for browser tests and benches."""
from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_app(db: str | Path, timeout: float = 60.0, **env_vars: str) -> Iterator[str]:
    """Run the app against database `db` (path or URL); yields its base URL, stops it after.

    `env_vars` go to the server's environment (e.g. FUZZYMAP_MODEL=... to choose the bundle). The app
    runs in single-user mode (FUZZYMAP_AUTH=off) unless `env_vars` say otherwise: sign-in has its
    own tests (test_browser_auth.py), the others drive labeling as one named annotator.
    """
    port = free_port()
    env = {**os.environ, "FUZZYMAP_DB": str(db), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "FUZZYMAP_AUTH": "off", **env_vars}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app/main.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true",
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited: {proc.stdout.read().decode(errors='replace')[-2000:]}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"streamlit did not answer on {url} within {timeout:.0f} s")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def served_store(tmp_path_factory, name: str, fill: Callable[[Any], Any] = lambda store: None,
                 **env_vars: str) -> Iterator[tuple[str, Any, Any]]:
    """A browser test module's app: skipped without Chromium; a fresh Store in its own folder
    `name`, filled by `fill(store)`, with the app serving it. Yields (url, store, what fill
    returned). No relation model unless `env_vars` name one (FUZZYMAP_MODEL), so a test sees
    suggestions only where it asks for them."""
    from data.store import Store

    require_chromium()
    db = tmp_path_factory.mktemp(name) / "app.db"
    store = Store(str(db))
    try:
        filled = fill(store)
        with running_app(db, **{"FUZZYMAP_MODEL": str(db.parent / "no-model"), **env_vars}) as url:
            yield url, store, filled
    finally:
        store.close()


def app_test(db: str | Path, page: str | None = None, annotator: str | None = "ann", timeout: float = 120,
             query: dict[str, str] | None = None, auth: str = "off"):
    """An AppTest of app/main.py on database `db`, already run once (and switched to `page`);
    `query` is the page address's query (e.g. {"doc": "1", "s": "2"} for a Label page link);
    `auth` is FUZZYMAP_AUTH (single-user mode by default, as in running_app).

    The store is a process-wide cache_resource, so it is cleared first: every test gets the
    database it names.
    """
    from streamlit.testing.v1 import AppTest

    from app.state import get_store

    os.environ["FUZZYMAP_DB"] = str(db)
    os.environ["FUZZYMAP_AUTH"] = auth
    get_store.clear()
    at = AppTest.from_file(str(ROOT / "app" / "main.py"), default_timeout=timeout)
    if annotator:
        at.session_state["annotator"] = annotator
    at.session_state["lb_keys_ready"] = True  # no component runs here: the key listener never says it is ready
    at.query_params.update(query or {})
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    return at


def table(at, column: str):
    """The first data frame on an AppTest page that has this column (display tables carry no key)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def graph(at) -> dict:
    """The nodes and edges an AppTest page hands to the agraph component (it shows as UnknownElement)."""
    (el,) = [e for e in at.get("component_instance") if "agraph" in e.proto.component_name]
    return json.loads(json.loads(el.proto.json_args)["data"])


def wait_idle(page, timeout: float = 60.0) -> None:
    """Wait until the app's current script run has finished (call after seeing its first effect)."""
    page.locator("[data-testid=stApp][data-test-script-state=notRunning]").wait_for(timeout=timeout * 1000)


def wait_interactive(page, timeout: float = 30.0) -> float:
    """Seconds until the Label page's key shortcuts answer, probed with "1" then cleared with Esc:
    the "interactive" figure of bench/label_flow.py. The page shows its sentence only once its key
    listener is mounted (app.keys.key_queue), so this should answer at the first probe. The probe
    picks the first concept chip and clears it again: no data changes.
    """
    from playwright.sync_api import expect

    source = page.get_by_role("combobox", name="Source")
    start = time.monotonic()
    while not source.input_value():
        if time.monotonic() - start > timeout:
            raise TimeoutError("the Label page's shortcuts never answered")
        page.keyboard.press("1")
        with contextlib.suppress(AssertionError):
            expect(source).not_to_have_value("", timeout=1000)
    took = time.monotonic() - start
    wait_idle(page)
    page.keyboard.press("Escape")
    expect(source).to_have_value("")
    expect(page.get_by_role("combobox", name="Target")).to_have_value("")
    wait_idle(page)
    return took


def require_chromium() -> None:
    """Skip the calling test when Debian's chromium is missing; fail instead where CI demands a
    browser (FUZZYMAP_REQUIRE_BROWSER=1)."""
    import pytest

    if not Path(CHROMIUM).exists():
        if os.environ.get("FUZZYMAP_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} is missing and FUZZYMAP_REQUIRE_BROWSER=1")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")


@contextlib.contextmanager
def chromium() -> Iterator:
    """A Playwright Chromium browser (Debian's binary, sandbox off for containers)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def browser_page(browser, timeout_ms: int = 60_000) -> Iterator:
    """A page in a fresh browser context (its own Streamlit session), downloads allowed."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(timeout_ms)
    try:
        yield page
    finally:
        context.close()


def tiny_bundle(folder: Path) -> Path:
    """A small real relation-model bundle (MiniLM features, no LoRA) trained in `folder` on
    invented TwoSix passages: enough for the app's model-in-the-loop paths, in about a minute."""
    from models.classifier import HeadSettings
    from models.training import TrainSettings, train_model
    from models_fixtures import twosix_file

    data = twosix_file(folder / "train.json", n=40)
    settings = TrainSettings(lora=False, cache_dir=str(folder / "cache"), heads=HeadSettings(c_grid=(1.0,), cv_folds=2))
    train_model([f"twosix:{data}"], settings, folder / "bundle", progress=lambda *a: None)
    return folder / "bundle"
