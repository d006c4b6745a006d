"""Home page (AppTest): sample at first start, upload, duplicates, bad files, metadata, open."""
from __future__ import annotations

from app_server import app_test
from core.types import ParsedDocument, ParsedSentence
from data.store import Store

PAPER = b"Warm water lowers cod recruitment. Heavy fishing pressure raises adult mortality."


def _plain(markdown: str) -> str:
    """The text a reader sees: user text is shown backslash-escaped so Markdown cannot act on it."""
    return markdown.replace("\\", "")


def test_empty_database_gets_the_sample_paper(db):
    at = app_test(db)
    assert not at.exception
    docs = Store(str(db)).list_documents()
    assert len(docs) == 1 and docs[0].filename == "offshore_wind_fisheries.md"
    table = at.dataframe[0].value
    assert list(table["sentences"]) == [docs[0].n_sentences] and table["progress"][0] == 0.0


def test_upload_duplicate_and_bad_file(db):
    store = Store(str(db))
    store.import_documents([ParsedDocument("seed.txt", "seed", [ParsedSentence("Seed sentence.")])])  # no sample
    at = app_test(db)
    at.file_uploader[0].set_value([("cod.txt", PAPER, "text/plain"), ("bad.pdf", b"not a pdf", "application/pdf")])
    at.run()
    assert not at.exception
    assert [_plain(s.value) for s in at.success] == ["cod.txt: imported 1 document(s), 2 sentences"]
    assert [_plain(e.value).split(":")[0] for e in at.error] == ["bad.pdf"]
    before = store.list_documents()
    assert [d.filename for d in before] == ["seed.txt", "cod.txt"]  # the bad file changed nothing
    at.file_uploader[0].set_value(("cod.txt", PAPER, "text/plain"))  # a fresh uploader takes it again
    at.run()
    assert [_plain(s.value) for s in at.success] == ["cod.txt: already imported (document 2), nothing added"]
    assert store.list_documents() == before
    assert list(at.dataframe[0].value["title"]) == ["seed.txt", "cod.txt"]


def test_metadata_edit_and_open_on_label_page(db):
    Store(str(db)).import_documents([ParsedDocument("cod.txt", "cod", [ParsedSentence("Cod eat sprat.")])])
    at = app_test(db)
    doc = Store(str(db)).list_documents()[0]
    at.text_input[0].set_value("Wind and fish")
    at.text_input[1].set_value("Doe, Jane; Roe, Rick")
    at.text_input[2].set_value("2021")
    at.button(key="FormSubmitter:meta_%d-Save metadata" % doc.id).click().run()
    assert not at.exception
    doc = Store(str(db)).list_documents()[0]
    assert (doc.title, doc.authors, doc.year) == ("Wind and fish", "Doe, Jane; Roe, Rick", "2021")
    at.button(key="open_label").click().run()
    assert not at.exception
    assert any(b.key == "lb_save" for b in at.button)  # we are on the Label page
    assert at.session_state["doc"] == doc.id
