"""fuzzymap: scientific papers into fuzzy cognitive maps (data: ingestion, store, formats)."""
