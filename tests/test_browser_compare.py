"""Real Chromium: Compare counts the judged sentences the relation model never read, and one click
runs the shipped model (models/default) on exactly those, after which they are in its score."""
from __future__ import annotations

import pytest

from workspace.agreement import score_systems
from data.model_runs import record_runs, runs_by_model
from data.store import Store
from core.types import ParsedDocument, ParsedSentence, PassageRelation
from models.bundle import read_config
from tests.app_server import ROOT, browser_page, chromium, require_chromium, running_app, wait_idle

pytestmark = pytest.mark.browser
BUNDLE = ROOT / "models" / "default"


def paper(name: str, texts: list[str]) -> ParsedDocument:
    return ParsedDocument(name, f"sha-{name}", [ParsedSentence(t, page=1) for t in texts],
                          title=name.split(".")[0].title())


def test_a_judged_document_the_model_never_read_is_covered_after_the_click(tmp_path):
    from playwright.sync_api import expect

    require_chromium()
    model_id = read_config(BUNDLE)["model_id"]
    db = tmp_path / "app.db"
    store = Store(str(db))
    seen_id, unseen_id = store.import_documents([
        paper("seen.txt", ["Heavy rainfall caused severe flooding in the valley.",
                           "The committee met on a Tuesday in March."]),
        paper("unseen.txt", [f"Passage {i}: the team counted birds near the old lighthouse." for i in range(1, 7)]
              + ["Smoking causes lung cancer in older adults."])])
    seen, unseen = store.sentences(seen_id), store.sentences(unseen_id)
    store.add_relation(seen[0].id, PassageRelation("Heavy rainfall", "severe flooding", 1, annotator="ann"))
    store.set_status(seen[1].id, "no-relation", "ann")
    store.add_relation(unseen[-1].id, PassageRelation("Smoking", "lung cancer", 1, annotator="ann"))
    for s in unseen[:-1]:
        store.set_status(s.id, "no-relation", "ann")
    record_runs(store, model_id, [s.id for s in seen])  # the Label page put the first paper to the model
    assert set(score_systems(store, "ann")[f"model:{model_id}"].groups) == {seen_id}

    expect.set_options(timeout=60_000)
    with running_app(db, FUZZYMAP_MODEL=str(BUNDLE)) as url, chromium() as browser, browser_page(browser) as page:
        page.goto(f"{url}/compare?annotator=ann")
        page.get_by_text(f"The relation model ({model_id}) has read 2 of the 9 sentences").wait_for()
        wait_idle(page)
        page.get_by_role("button", name="Run the model on the 7 judged sentence(s) it has not read").click()
        page.get_by_text(f"The relation model ({model_id}) has read 9 of the 9 sentences").wait_for(timeout=180_000)
        wait_idle(page)
        expect(page.get_by_role("button", name="Run the model on")).to_have_count(0)
        expect(page.get_by_text("No other system's output")).to_have_count(0)

    assert runs_by_model(store)[model_id] == {s.id for s in seen + unseen}
    result = score_systems(store, "ann")[f"model:{model_id}"]
    assert result.n_sentences == 9 and set(result.groups) == {seen_id, unseen_id}
    assert result.groups[unseen_id].n_gold == 1
    store.close()
