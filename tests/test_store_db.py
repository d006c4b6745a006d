"""The annotation store on a real SQLite file and, when FUZZYMAP_TEST_PG_URL is set, a real PostgreSQL."""
from __future__ import annotations

import json
import subprocess
import sys
import threading

import pytest
from sqlalchemy import create_engine

from core.errors import InputError
from core.types import STATUSES
from core.types import Evidence, ParsedDocument, ParsedSentence, PassageRelation
from data.schema import SCHEMA_VERSION
from data.store import Store
from data.store.cli import main
from data.store.engine import DEFAULT_DB, ROOT, resolve_url

@pytest.fixture
def store(url):
    s = Store(url)
    yield s
    s.close()


def _doc(name: str, *texts: str, **kw) -> ParsedDocument:
    return ParsedDocument(filename=name, sha256=f"sha-{name}", sentences=[ParsedSentence(t) for t in texts], **kw)


def _one_doc(store: Store) -> tuple[int, list[int]]:
    doc = _doc("kelp.txt", "Warmer water reduces kelp growth.", "Kelp forests shelter young cod.",
               "Storms damage the forests.", title="Kelp", authors="Doe, Jane", year=2021)
    (doc_id,) = store.import_documents([doc])
    return doc_id, [s.id for s in store.sentences(doc_id)]


def test_import_list_and_export(store):
    rel = PassageRelation("warmer water", "kelp growth", -1, strength="H", note="clear")
    doc = _doc("kelp.txt", "Warmer water reduces kelp growth.", "Nothing here.", title="Kelp", year=2021)
    doc.sentences[0].relations.append(rel)
    doc.sentences[0].status = "labeled"
    doc.sentences[1].llm = {"sys": [{"src": "a", "tgt": "b", "direction": "increase"}]}
    doc.sentences[1].relations.append(PassageRelation("nothing", "here", 1, origin="model", model_id="m", score=0.5))
    (doc_id,) = store.import_documents([doc], annotator="ann")
    info = store.list_documents()[0]
    assert (info.id, info.title, info.year, info.n_sentences, info.n_labeled) == (doc_id, "Kelp", "2021", 2, 1)
    sents = store.sentences(doc_id)
    assert [s.index for s in sents] == [0, 1] and sents[1].llm == doc.sentences[1].llm
    (model_row,) = store.relations(origin="model")
    assert (model_row.annotator, model_row.model_id, model_row.score) == (None, "m", 0.5)
    (row,) = store.relations(document_id=doc_id, origin="human")
    assert row.source_span == (0, 12) and row.target_span == (21, 32)
    assert (row.annotator, row.origin, row.strength, row.note, row.sign) == ("ann", "human", "H", "clear", -1)
    assert store.annotators() == ["ann"]
    assert {"warmer water", "kelp growth"} <= set(store.concepts())
    (back,) = store.export_documents()
    assert back.year == 2021 and back.title == "Kelp"
    assert back.sentences[0].relations[0].src == "warmer water" and back.sentences[1].relations[0].origin == "model"
    # the same file again is not duplicated
    assert store.import_documents([doc]) == [doc_id]
    assert len(store.list_documents()) == 1


def test_import_is_all_or_nothing(store):
    bad = _doc("bad.txt", "Fine text.")
    bad.sentences[0].relations.append(PassageRelation("fine", "text", 3))
    with pytest.raises(InputError, match=r"^bad.txt: sentence 1, relation 1: sign must be \+1 or -1"):
        store.import_documents([_doc("a.txt", "One."), bad, _doc("c.txt", "Three.")])
    wrong_status = _doc("worse.txt", "Text.")
    wrong_status.sentences[0].status = "done"
    with pytest.raises(InputError, match="worse.txt: sentence 1: status 'done'"):
        store.import_documents([_doc("a.txt", "One."), wrong_status])
    assert store.list_documents() == []
    assert store.relations() == [] and store.concepts() == []


def test_restart_keeps_everything(tmp_path):
    path = tmp_path / "keep.db"
    first = Store(str(path))
    doc_id, sids = _one_doc(first)
    first.add_relation(sids[1], PassageRelation("kelp forests", "young cod", 1, annotator="ann"))
    first.close()
    again = Store(str(path))
    assert again.url == f"sqlite:///{path}"
    assert [r.source for r in again.relations()] == ["kelp forests"]
    assert again.sentence(sids[1]).status == "labeled"
    with again._engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000


def test_refuses_a_database_that_is_not_ours(tmp_path):
    path = tmp_path / "other.db"
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    engine.dispose()
    with pytest.raises(InputError, match="not a fuzzymap database"):
        Store(str(path))


def test_default_location_and_env(monkeypatch, tmp_path):
    monkeypatch.delenv("FUZZYMAP_DB", raising=False)
    assert resolve_url() == f"sqlite:///{ROOT / DEFAULT_DB}"
    monkeypatch.setenv("FUZZYMAP_DB", str(tmp_path / "sub" / "env.db"))
    assert resolve_url() == f"sqlite:///{tmp_path / 'sub' / 'env.db'}"
    assert (tmp_path / "sub").is_dir()
    monkeypatch.setenv("FUZZYMAP_DB", "postgresql+psycopg://u:p@host/db")
    assert resolve_url() == "postgresql+psycopg://u:p@host/db"
    assert resolve_url("sqlite://") == "sqlite://"


def test_concurrent_writers_lose_nothing(url):
    setup = Store(url)
    _, sids = _one_doc(setup)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            mine = Store(url)  # its own connection pool, as another process would have
            for i in range(200):
                mine.add_relation(sids[i % 3], PassageRelation(f"cause {n}", f"effect {i}", 1, annotator=f"a{n}"))
            mine.close()
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    rows = setup.relations()
    assert len(rows) == 1600 and len({r.id for r in rows}) == 1600
    assert setup.annotators() == [f"a{n}" for n in range(8)]
    setup.close()


WRITER = """
import sys
from core.types import PassageRelation
from data.store import Store
store = Store(sys.argv[1])
for i in range(50):
    store.add_relation(int(sys.argv[2]), PassageRelation("cause", f"effect {i}", -1, annotator=sys.argv[3]))
"""


def test_concurrent_processes_lose_nothing(url):
    setup = Store(url)
    _, sids = _one_doc(setup)
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, url, str(sids[n]), f"p{n}"], cwd=ROOT) for n in range(2)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    assert [len(setup.relations(annotator=f"p{n}")) for n in range(2)] == [50, 50]
    setup.close()


def test_undo_reverts_each_annotators_last_action(store):
    doc_id, sids = _one_doc(store)
    rid = store.add_relation(sids[0], PassageRelation("warmer water", "kelp growth", -1, annotator="ann"))
    store.update_relation(rid, strength="VH", note="strong")
    other = store.add_relation(sids[1], PassageRelation("kelp forests", "young cod", 1, annotator="bob"))
    store.set_status(sids[2], "no-relation", annotator="ann")
    store.delete_relation(rid)

    assert store.relations(annotator="ann") == []
    assert store.undo("ann") == "delete warmer water -> kelp growth"
    (back,) = store.relations(annotator="ann")
    assert (back.id, back.strength, back.note) == (rid, "VH", "strong")
    assert store.undo("ann") == "mark sentence 3 no-relation"
    assert store.sentence(sids[2]).status == "unseen"
    assert store.undo("ann") == "edit warmer water -> kelp growth"
    assert store.relations(annotator="ann")[0].strength == "M"
    assert store.undo("ann") == "add warmer water -> kelp growth"
    assert store.relations(annotator="ann") == []
    assert store.sentence(sids[0]).status == "unseen"
    assert store.undo("ann") is None  # the import is not undoable by a keystroke
    assert [r.id for r in store.relations()] == [other]  # bob's work untouched
    log = store.history()
    assert [(a.kind, a.annotator) for a in log[:2]] == [("undo", "ann"), ("undo", "ann")]
    assert [a.description for a in store.history("ann") if a.undone][0] == "delete warmer water -> kelp growth"
    assert store.history("bob")[0].description == "add kelp forests -> young cod"
    assert log[-1].kind == "import" and not log[-1].undone


def test_undo_restores_deleted_document(store):
    doc_id, sids = _one_doc(store)
    store.add_relation(sids[0], PassageRelation("warmer water", "kelp growth", -1, annotator="ann"))
    before = store.export_documents()
    store.delete_document(doc_id, annotator="ann")
    assert store.list_documents() == [] and store.relations() == []
    assert store.undo("ann") == "delete kelp.txt"
    assert store.export_documents() == before
    assert [s.id for s in store.sentences(doc_id)] == sids


def test_edit_sentence_keeps_relations(store):
    _, sids = _one_doc(store)
    rid = store.add_relation(sids[0], PassageRelation("warmer water", "kelp growth", -1, annotator="ann"))
    kept = store.add_relation(sids[0], PassageRelation("Warmer water", "algae", 1, annotator="ann"))
    store.edit_sentence(sids[0], "In summer, warmer  water clearly reduces KELP GROWTH.", annotator="ann")
    by_id = {r.id: r for r in store.relations(sentence_id=sids[0])}
    text = store.sentence(sids[0]).text
    assert set(by_id) == {rid, kept}
    s, e = by_id[rid].target_span
    assert text[s:e] == "KELP GROWTH" and by_id[rid].source_span is None  # "warmer water" no longer occurs
    store.edit_sentence(sids[0], "Warmer water reduces kelp growth.")
    assert store.relations(sentence_id=sids[0])[0].source_span == (0, 12)
    assert store.undo(None) == "edit sentence 1"
    assert store.sentence(sids[0]).text == text


def test_split_and_merge_sentences(store):
    doc_id, sids = _one_doc(store)
    store.edit_sentence(sids[0], "Warmer water reduces kelp. Storms uproot kelp forests.")
    first = store.add_relation(sids[0], PassageRelation("warmer water", "kelp", -1, annotator="ann"))
    second = store.add_relation(sids[0], PassageRelation("storms", "kelp forests", -1, annotator="ann"))
    a, b = store.split_sentence(sids[0], 26, annotator="ann")
    sents = store.sentences(doc_id)
    assert [s.text for s in sents[:2]] == ["Warmer water reduces kelp.", "Storms uproot kelp forests."]
    assert [s.index for s in sents] == [0, 1, 2, 3] and (sents[0].id, sents[1].id) == (a, b)
    rels = {r.id: r for r in store.relations()}
    assert rels[first].sentence_id == a and rels[second].sentence_id == b
    assert rels[second].source_span == (0, 6) and rels[second].target_span == (14, 26)
    assert store.merge_sentences(a, b, annotator="ann") == a
    sents = store.sentences(doc_id)
    assert sents[0].text == "Warmer water reduces kelp. Storms uproot kelp forests." and len(sents) == 3
    merged = {r.id: r for r in store.relations()}[second]
    assert merged.sentence_id == a and merged.target_span == (41, 53)
    store.undo("ann")  # the merge
    store.undo("ann")  # the split
    assert [s.id for s in store.sentences(doc_id)] == sids
    assert {r.sentence_id for r in store.relations()} == {sids[0]}
    with pytest.raises(InputError):
        store.split_sentence(sids[1], 0)


def test_suggestions_accept_reject(store):
    _, sids = _one_doc(store)
    ids = store.add_suggestions(sids[1], [
        PassageRelation("kelp forests", "young cod", 1, origin="model", model_id="m1", score=0.9),
        PassageRelation("young cod", "kelp forests", 1, origin="model", model_id="m1", score=0.4),
    ])
    again = PassageRelation("kelp forests", "young cod", 1, model_id="m1", score=0.8)
    assert store.add_suggestions(sids[1], [again]) == ids[:1]
    assert [x.score for x in store.suggestions(sentence_id=sids[1])] == [0.9, 0.4]
    with pytest.raises(InputError, match="model_id"):
        store.add_suggestions(sids[1], [PassageRelation("a", "b", 1)])
    rid = store.accept_suggestion(ids[0], "ann")
    store.reject_suggestion(ids[1], "ann")
    (rel,) = store.relations()
    assert (rel.id, rel.origin, rel.model_id, rel.score, rel.annotator) == (rid, "human", "m1", 0.9, "ann")
    assert rel.source_span == (0, 12)
    assert store.suggestions(document_id=store.list_documents()[0].id) == []
    assert {x.state for x in store.suggestions(state=None)} == {"accepted", "rejected"}
    with pytest.raises(InputError, match="already accepted"):
        store.accept_suggestion(ids[0], "ann")
    store.undo("ann")
    store.undo("ann")
    assert store.relations() == [] and len(store.suggestions()) == 2


def test_concept_merges_are_reversible(store):
    store.add_concept("kelp")
    store.merge_concepts("kelp forest", "kelp", annotator="ann")
    store.merge_concepts("Kelp beds", "kelp forest", annotator="ann")  # follows to the root
    assert store.aliases() == {"kelp forest": "kelp", "Kelp beds": "kelp"}
    assert store.concepts() == ["kelp"]
    with pytest.raises(InputError, match="already merged"):
        store.merge_concepts("kelp", "Kelp beds")
    store.unmerge_concept("kelp forest")
    assert store.aliases() == {"Kelp beds": "kelp forest"}
    assert store.concepts() == ["kelp", "kelp forest"]
    assert store.undo(None) == "unmerge kelp forest"
    assert store.aliases()["kelp forest"] == "kelp"
    with pytest.raises(InputError):
        store.unmerge_concept("kelp")


def test_evidence_filters_and_keeps_labels(store):
    doc_id, sids = _one_doc(store)
    store.add_relation(sids[0], PassageRelation("warmer water", "kelp growth", -1, strength="H", annotator="ann"))
    weak = PassageRelation("kelp forests", "young cod", 1, origin="model", model_id="m", score=0.3)
    store.add_relation(sids[1], weak)
    store.add_relation(sids[2], PassageRelation("storms", "forests", -1, origin="model", model_id="m", score=0.8))
    store.merge_concepts("forests", "kelp forests")
    ev = store.evidence()
    assert all(isinstance(e, Evidence) for e in ev) and len(ev) == 3
    assert ev[2].target == "forests"  # aliases are the map's business
    assert ev[0] == Evidence(
        relation_id=ev[0].relation_id, source="warmer water", target="kelp growth", sign=-1, strength="H",
        sentence_id=sids[0], sentence_text="Warmer water reduces kelp growth.", document_id=doc_id,
        document_title="Kelp", page=None, annotator="ann", origin="human",
    )
    assert [e.source for e in store.evidence(min_score=0.5)] == ["warmer water", "storms"]
    assert [e.source for e in store.evidence(origins=["model"], min_score=0.5)] == ["storms"]
    assert [e.source for e in store.evidence(annotators=["ann"])] == ["warmer water"]
    assert store.evidence(document_ids=[doc_id + 1]) == []


def test_bad_calls_change_nothing(store):
    _, sids = _one_doc(store)
    with pytest.raises(InputError, match="status"):
        store.set_status(sids[0], "finished")
    with pytest.raises(InputError, match="strength"):
        store.add_relation(sids[0], PassageRelation("warmer water", "kelp growth", 1, strength="XL"))
    with pytest.raises(InputError, match="span"):
        store.add_relation(sids[0], PassageRelation("warmer water", "kelp growth", 1, src_span=(5, 500)))
    rid = store.add_relation(sids[0], PassageRelation("warmer water", "kelp growth", 1))
    with pytest.raises(InputError, match="cannot update"):
        store.update_relation(rid, sentence_id=sids[1])
    with pytest.raises(KeyError):
        store.sentence(10_000)
    store.swap_relation(rid)
    (r,) = store.relations()
    assert (r.source, r.source_span, r.target_span) == ("kelp growth", (21, 32), (0, 12))
    store.update_relation(rid, source="kelp", sign=-1)
    (r,) = store.relations()
    assert (r.source, r.source_span, r.sign) == ("kelp", (21, 25), -1)
    assert [s.status for s in store.sentences(store.list_documents()[0].id)] == ["labeled", "unseen", "unseen"]
    assert set(STATUSES) == {"unseen", "labeled", "no-relation", "discarded"}


V1_TABLES = """
CREATE TABLE schema_version (version INTEGER NOT NULL PRIMARY KEY);
CREATE TABLE documents (id {pk}, filename TEXT NOT NULL, sha256 VARCHAR(200) NOT NULL UNIQUE,
  format VARCHAR(32) NOT NULL, title TEXT, authors TEXT, year VARCHAR(32), year_is_int BOOLEAN NOT NULL,
  created VARCHAR(40) NOT NULL);
CREATE TABLE sentences (id {pk},
  document_id INTEGER NOT NULL REFERENCES documents (id) ON DELETE CASCADE, position INTEGER NOT NULL,
  text TEXT NOT NULL, page INTEGER, start_char INTEGER NOT NULL, end_char INTEGER NOT NULL,
  is_reference BOOLEAN NOT NULL, status VARCHAR(16) NOT NULL);
CREATE TABLE concepts (id {pk}, name VARCHAR(255) NOT NULL UNIQUE,
  canonical_id INTEGER REFERENCES concepts (id), created VARCHAR(40) NOT NULL);
CREATE TABLE annotators (id {pk}, name VARCHAR(255) NOT NULL UNIQUE, created VARCHAR(40) NOT NULL);
CREATE TABLE relations (id {pk},
  sentence_id INTEGER NOT NULL REFERENCES sentences (id) ON DELETE CASCADE, source TEXT NOT NULL,
  target TEXT NOT NULL, src_start INTEGER, src_end INTEGER, tgt_start INTEGER, tgt_end INTEGER,
  sign INTEGER NOT NULL, strength VARCHAR(4) NOT NULL, annotator VARCHAR(255), origin VARCHAR(16) NOT NULL,
  model_id VARCHAR(255), score FLOAT, created_at VARCHAR(40) NOT NULL, updated_at VARCHAR(40) NOT NULL);
CREATE TABLE actions (id {pk}, annotator VARCHAR(255), kind VARCHAR(32) NOT NULL,
  description TEXT NOT NULL, changes TEXT NOT NULL, undoable BOOLEAN NOT NULL, undone_by INTEGER,
  created_at VARCHAR(40) NOT NULL);
INSERT INTO schema_version VALUES (1);
INSERT INTO documents (filename, sha256, format, title, authors, year, year_is_int, created)
  VALUES ('old.txt', 'abc', 'txt', 'Old paper', NULL, '1999', FALSE, '2020-01-01T00:00:00Z');
INSERT INTO sentences (document_id, position, text, page, start_char, end_char, is_reference, status)
  VALUES (1, 0, 'Grazing reduces seagrass cover.', 2, 0, 31, FALSE, 'labeled');
INSERT INTO relations (sentence_id, source, target, src_start, src_end, tgt_start, tgt_end, sign, strength,
  annotator, origin, model_id, score, created_at, updated_at) VALUES (1, 'grazing', 'seagrass cover', 0, 7, 16, 30,
  -1, 'H', 'ann', 'human', NULL, NULL, '2020-01-01T00:00:00Z', '2020-01-01T00:00:00Z');
INSERT INTO annotators (name, created) VALUES ('ann', '2020-01-01T00:00:00Z')
"""


def test_version_1_database_is_upgraded(url):
    """A database written by version 1 (made here by hand, in that version's SQL) opens upgraded, data intact."""
    engine = create_engine(url)
    pk = "SERIAL PRIMARY KEY" if engine.dialect.name == "postgresql" else "INTEGER NOT NULL PRIMARY KEY"
    with engine.begin() as conn:
        for statement in V1_TABLES.format(pk=pk).split(";"):
            conn.exec_driver_sql(statement)
    engine.dispose()
    store = Store(url)
    with store._engine.connect() as c:
        assert c.exec_driver_sql("SELECT version FROM schema_version").scalars().all() == [SCHEMA_VERSION]
    (row,) = store.relations()
    assert (row.source, row.target, row.source_span, row.sign, row.strength, row.note) == (
        "grazing", "seagrass cover", (0, 7), -1, "H", None)
    assert store.sentence(1).page == 2 and store.sentence(1).llm is None
    store.update_relation(1, note="added after the upgrade")
    store.add_suggestions(1, [PassageRelation("grazing", "seagrass cover", -1, model_id="m", score=0.7)])
    store.add_relation(1, PassageRelation("grazing", "seagrass", -1, annotator="ann"))
    assert store.relations()[0].note == "added after the upgrade" and len(store.suggestions()) == 1
    assert store.list_documents()[0].year == "1999" and len(store.relations()) == 2
    store.close()
    again = Store(url)  # reopening an up-to-date database changes nothing
    assert again.relations()[0].note == "added after the upgrade"
    again.close()


def test_command_line(tmp_path, capsys):
    paper = tmp_path / "kelp.txt"
    paper.write_text("Warm water reduces kelp growth. Storms damage kelp forests.\n", encoding="utf-8")
    labels = tmp_path / "r.json"
    labels.write_text(json.dumps([{"text": "Rain raises river flow.", "meta_data": {"title": "R", "year": 2001},
                                   "causal relations": [{"src": "rain", "tgt": "river flow", "direction": "up"}]}]))
    db = str(tmp_path / "cli.db")
    assert main(["--db", db, "import", str(paper), str(labels)]) == 2
    assert "r.json: passage 1, relation 1: 'direction' must be increase or decrease" in capsys.readouterr().err
    assert Store(db).list_documents() == []  # nothing of the good file either
    labels.write_text(labels.read_text().replace('"up"', '"Increase"'))
    assert main(["--db", db, "import", str(paper), str(labels), "--annotator", "seed"]) == 0
    assert main(["--db", db, "info"]) == 0
    out = capsys.readouterr().out
    assert "imported 2 document(s): ids 1, 2" in out and f"schema version {SCHEMA_VERSION}" in out
    assert main(["--db", db, "export", "--format", "twosix", "--documents", "2", "--out", str(tmp_path / "o.json")]) == 0
    assert json.loads((tmp_path / "o.json").read_text())[0]["causal relations"][0]["direction"] == "Increase"
    assert main(["--db", db, "export", "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines()[1].startswith("R,1,Rain raises river flow.,,rain,river flow,1,M,seed,")
