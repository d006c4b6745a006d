"""The annotation store: documents, sentences, relations, suggestions, concepts and the change log.

engine (opening a database), rows (what reads return), log (the change log behind undo), store
(the Store class), settings (app-wide settings: the active model), cli (`python -m data.store`).
"""
from data.store.rows import ActionRow, DocumentInfo, ExtractRunRow, RelationRow, SentenceRow, SuggestionRow
from data.store.store import Store

__all__ = ["ActionRow", "DocumentInfo", "ExtractRunRow", "RelationRow", "SentenceRow", "Store", "SuggestionRow"]
