"""What every stage shares and nothing else: records, errors, spans, matching and scores, sign
words, names, `FORMAT:PATH` specs, file hashes, paths. Imports nothing of the project."""
