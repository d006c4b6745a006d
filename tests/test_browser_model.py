"""Real Chromium through Playwright: retrain on an invented gold set from the Model page, reload and
open a second tab mid-run, compare with the shipped model, activate, and see Label use it."""
from __future__ import annotations

import re

import pytest

from app_server import browser_page, chromium, require_chromium, running_app, wait_idle
from model_page_world import gold_store

pytestmark = pytest.mark.browser


def test_retrain_compare_activate_and_label_uses_it(tmp_path):
    from playwright.sync_api import expect

    require_chromium()
    db = tmp_path / "app.db"
    store = gold_store(str(db))
    new_paper = next(d.id for d in store.list_documents() if d.title == "Invented new paper")
    var = tmp_path / "var"
    expect.set_options(timeout=30_000)
    with running_app(db, FUZZYMAP_VAR=str(var), FUZZYMAP_MODEL="") as url, chromium() as browser, \
            browser_page(browser) as page, browser_page(browser) as second:
        page.goto(f"{url}/model?annotator=tester")
        page.get_by_text("Retrain from labels").wait_for()
        wait_idle(page)
        name = page.get_by_role("textbox", name="New model name")
        name.fill("fixture-model")
        page.get_by_role("button", name="Start training").click()
        running = page.get_by_text("Job fixture-model: running")
        running.wait_for()

        page.reload()  # the job lives on in its own process; the page finds it again
        running.wait_for()
        expect(page.get_by_role("progressbar")).to_be_visible()

        second.goto(f"{url}/model?annotator=other")  # a second tab sees the same job and cannot start another
        second.get_by_text("Job fixture-model: running").wait_for()
        wait_idle(second)
        second.get_by_role("button", name="Start training").click()
        second.get_by_text("job 'fixture-model' is already running").wait_for()

        done = page.get_by_text(re.compile(r"Training finished: fuzzymap-rel-[0-9a-f]{12}"))
        done.wait_for(timeout=180_000)
        model_id = re.search(r"fuzzymap-rel-[0-9a-f]{12}", done.inner_text()).group(0)
        assert (var / "models" / "fixture-model" / "config.json").is_file()
        wait_idle(page)

        page.get_by_role("button", name="Compare").click()
        page.get_by_text(re.compile(f"against tuned fixture-model \\({model_id}\\)")).wait_for(timeout=180_000)
        page.get_by_text("Per document").wait_for()
        wait_idle(page)
        expect(page.locator("[data-testid=stImage] img")).to_have_count(5)  # the job's loss plot and 4 of the comparison
        with page.expect_download() as download:
            page.get_by_role("button", name="Precision–recall as PNG").click()
        assert download.value.suggested_filename == "model-pr.png"
        assert open(download.value.path(), "rb").read(8) == b"\x89PNG\r\n\x1a\n"

        page.get_by_role("button", name="Use this model").last.click()  # var/models/ is listed after models/
        page.get_by_text(f"{model_id} · active").wait_for()
        wait_idle(page)

        page.goto(f"{url}/label?annotator=tester&doc={new_paper}")
        page.get_by_text("Keys: 1–9").wait_for()
        page.get_by_text(re.compile(f"score [0-9.]+ · {model_id}")).first.wait_for(timeout=120_000)
    assert {s.model_id for s in store.suggestions(document_id=new_paper, state=None)} == {model_id}
