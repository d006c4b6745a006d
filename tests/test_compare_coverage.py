"""Compare covers every sentence the reference judged: runs are recorded, the unseen ones are counted
and the real shipped model (models/default) is run on exactly them."""
from __future__ import annotations

import pytest

from core.paths import DEFAULT_BUNDLE
from core.types import ParsedDocument, ParsedSentence, PassageRelation
from data.model_runs import record_runs, runs_by_model
from data.store import Store
from workspace.agreement import judged_sentences, score_systems
from workspace.coverage import Coverage, model_coverage, run_on_missing, scored_on
from workspace.extraction import send_to_labeling
from workspace.suggest import model_source, suggest_missing

SEEN = ["Heavy rainfall caused severe flooding in the valley.",
        "The committee met on a Tuesday in March.",
        "Warmer water reduced the growth of young cod."]
UNSEEN = [f"Passage {i}: the survey team counted birds near the old lighthouse." for i in range(1, 19)] + [
    "Overfishing reduced cod stocks along the coast.",
    "Smoking causes lung cancer in older adults.",
    "Smith J. (2020) Rain and fish. Journal of Fish 3: 1-9."]


def paper(name: str, texts: list[str], reference_last: bool = False) -> ParsedDocument:
    return ParsedDocument(name, f"sha-{name}", [
        ParsedSentence(t, page=1, is_reference=reference_last and i == len(texts) - 1) for i, t in enumerate(texts)],
        title=name.split(".")[0].title())


def label(src: str, tgt: str, sign: int) -> PassageRelation:
    return PassageRelation(src, tgt, sign, annotator="ann")


@pytest.fixture(scope="module")
def source():
    """The shipped bundle, real weights, loaded once (offline)."""
    return model_source(DEFAULT_BUNDLE)


@pytest.fixture
def world(url):
    """Two papers judged by ann: 'seen' was put to the model on the Label page, 'unseen' (21 judged
    passages, the last a reference-list entry) never was."""
    store = Store(url)
    seen_id, unseen_id = store.import_documents([paper("seen.txt", SEEN), paper("unseen.txt", UNSEEN, True)])
    seen, unseen = store.sentences(seen_id), store.sentences(unseen_id)
    store.add_relation(seen[0].id, label("heavy rainfall", "severe flooding", 1))
    store.set_status(seen[1].id, "no-relation", "ann")
    store.add_relation(unseen[-3].id, label("Overfishing", "cod stocks", -1))
    store.add_relation(unseen[-2].id, label("Smoking", "lung cancer", 1))
    for s in unseen[:-3] + [unseen[-1]]:
        store.set_status(s.id, "no-relation", "ann")
    yield store, seen, unseen
    store.close()


@pytest.mark.slow
def test_the_model_is_run_on_exactly_the_judged_sentences_it_never_read(world, source):
    store, seen, unseen = world
    model_id = source.extractor.model_id
    assert model_id
    # The Label page asks the model about the first two sentences only; both count as read, also
    # the one it proposed nothing for (the committee meeting).
    suggest_missing(store, seen[:2], source, set())
    assert runs_by_model(store)[model_id] == {seen[0].id, seen[1].id}
    judged = judged_sentences(store, "ann")
    assert len(judged) == 2 + 21

    before = score_systems(store, "ann")[f"model:{model_id}"]
    assert before.n_sentences == 2 and scored_on(before, len(judged)) == "scored on 2 of 23 judged sentences"
    cover = model_coverage(store, "ann", None, model_id)
    assert (cover.judged, cover.covered) == (23, 2)
    assert [s.id for s in cover.missing] == [s.id for s in unseen]  # seen[2] was never judged: not asked

    steps: list[tuple[int, int]] = []
    added = run_on_missing(store, source, cover, lambda done, total: steps.append((done, total)), batch_size=8)
    assert steps[-1] == (20, 20) and len(steps) == 3  # the reference-list entry is not put to the model
    assert added >= 1
    proposed = {s.sentence_id for s in store.suggestions(state=None) if s.model_id == model_id}
    assert unseen[-2].id in proposed  # "Smoking causes lung cancer": the real model finds it
    assert seen[2].id not in runs_by_model(store)[model_id]

    after = model_coverage(store, "ann", None, model_id)
    assert (after.judged, after.covered, after.missing) == (23, 23, ())
    result = score_systems(store, "ann")[f"model:{model_id}"]
    assert scored_on(result, len(judged)) == "scored on 23 of 23 judged sentences"
    assert result.total.n_gold == 3  # every reference relation is now in the score
    assert set(result.groups) == {seen[0].document_id, unseen[0].document_id}
    # Nothing is left to run, and running again adds nothing.
    assert run_on_missing(store, source, after) == 0


def test_runs_are_recorded_once_and_cover_sentences_without_proposals(url):
    store = Store(url)
    (doc_id,) = store.import_documents([paper("p.txt", SEEN)])
    rows = store.sentences(doc_id)
    for r in rows:
        store.set_status(r.id, "no-relation", "ann")
    assert record_runs(store, "m2", [rows[0].id, rows[1].id, rows[1].id]) == 2
    assert record_runs(store, "m2", [rows[1].id, rows[2].id, 10_000]) == 1  # unknown ids are ignored
    assert record_runs(store, "", [rows[0].id]) == 0
    assert runs_by_model(store, [doc_id]) == {"m2": {r.id for r in rows}}
    assert runs_by_model(store, [doc_id + 1]) == {}
    # A model that read every judged sentence and proposed nothing is a system, scored on all of them.
    (m2,) = score_systems(store, "ann").values()
    assert (m2.n_sentences, m2.total.n_pred, m2.total.n_gold) == (3, 0, 0)
    assert model_coverage(store, "ann", [doc_id], "m2").missing == ()
    store.delete_document(doc_id)
    assert runs_by_model(store) == {}
    store.close()


def test_sending_an_extract_run_to_labeling_records_the_model_as_run(url):
    store = Store(url)
    doc = paper("x.txt", SEEN)
    found = [[PassageRelation("Heavy rainfall", "severe flooding", 1, origin="model", model_id="m3", score=.9)],
             [], []]
    doc_id, queued = send_to_labeling(store, doc, found, 0.5, model_id="m3")
    assert queued == 1
    assert runs_by_model(store) == {"m3": {r.id for r in store.sentences(doc_id)}}
    store.close()


def test_a_coverage_is_only_run_with_its_own_model(url):
    store = Store(url)

    class Other:
        extractor = type("E", (), {"model_id": "other"})()

    with pytest.raises(ValueError, match="other"):
        run_on_missing(store, Other(), Coverage("m1", 0, ()))
    store.close()


def test_an_older_database_learns_the_runs_its_suggestions_show(tmp_path):
    from sqlalchemy import create_engine, inspect

    from data.schema import MIGRATIONS, _add_model_runs

    url = f"sqlite:///{tmp_path / 'old.db'}"
    store = Store(url)
    (doc_id,) = store.import_documents([paper("p.txt", SEEN)])
    rows = store.sentences(doc_id)
    store.add_suggestions(rows[0].id, [PassageRelation("Heavy rainfall", "severe flooding", 1, origin="model",
                                                       model_id="m1", score=.8)])
    store.add_suggestions(rows[1].id, [PassageRelation("committee", "Tuesday", 1, origin="model",
                                                       model_id="llm:GPT", score=1.0)])
    store.add_relation(rows[2].id, PassageRelation("Warmer water", "growth", -1, origin="model", model_id="m2",
                                                   score=.7, annotator="ann"))
    store.close()
    engine = create_engine(url)
    with engine.begin() as c:  # back to the version before model_runs
        c.exec_driver_sql("DROP TABLE model_runs")
        c.exec_driver_sql(f"UPDATE schema_version SET version = {MIGRATIONS.index(_add_model_runs) + 1}")
    store = Store(url)
    assert "model_runs" in inspect(engine).get_table_names()
    assert runs_by_model(store) == {"m1": {rows[0].id}, "m2": {rows[2].id}}  # the LLM block is no model
    store.close()
    engine.dispose()


def test_coverage_and_scores_reuse_the_systems_read_once(url, monkeypatch):
    """The Compare page reads every system's output once and hands it to both: the same results
    as reading it in each, and no second read."""
    import workspace.agreement as agreement
    import workspace.coverage as coverage

    store = Store(url)
    (doc_id,) = store.import_documents([paper("p.txt", SEEN)])
    rows = store.sentences(doc_id)
    for r in rows:
        store.set_status(r.id, "no-relation", "ann")
    record_runs(store, "m3", [rows[0].id])
    outputs = agreement.system_outputs(store, [doc_id])
    expected = (model_coverage(store, "ann", [doc_id], "m3"), score_systems(store, "ann", [doc_id]))

    def no_second_read(*args, **kwargs):
        raise AssertionError("system_outputs read again")

    monkeypatch.setattr(agreement, "system_outputs", no_second_read)
    monkeypatch.setattr(coverage, "system_outputs", no_second_read)
    got = (model_coverage(store, "ann", [doc_id], "m3", outputs), score_systems(store, "ann", [doc_id], outputs=outputs))
    assert got == expected
    assert (got[0].judged, got[0].covered) == (len(rows), 1)
