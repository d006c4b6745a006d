"""The sample paper imported into an empty database, so a first start shows something to label."""
from __future__ import annotations

from pathlib import Path

SAMPLE = Path(__file__).resolve().parent / "samples" / "offshore_wind_fisheries.md"


def ensure_sample(store, path: Path = SAMPLE) -> list[int]:
    """Import the sample paper when the store holds no document; returns the new document ids.

    Only an empty database gets it, so deleting the sample later is respected as long as
    another document exists. A missing sample file is not an error (nothing to show).
    """
    if store.list_documents() or not path.is_file():
        return []
    from data.ingest import read_document

    return store.import_documents(read_document(path.name, path.read_bytes()))
