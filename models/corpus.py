"""Corpus extraction: many files, one JSON line per document, resumable, failures reported.

    python -m models extract-corpus --model DIR SOURCE... --out OUT.jsonl [--engine local|ray]

Why this shape: a corpus run takes hours, so every finished file is on disk at once (one write of
whole lines, flushed), a rerun with the same --out skips files whose content hash it already holds,
and a file that cannot be read costs one line in OUT.failures.jsonl, not the run. The per-file
work (extract_file) is the same function on every engine; engines only decide where it runs.
"""
from __future__ import annotations

import glob
import json
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from core.errors import InputError
from core.hashing import sha256_file
from core.types import ParsedDocument, PassageRelation
from data.formats import write_twosix
from data.ingest import SUPPORTED_SUFFIXES, read_document
from models.extractor import Extractor, with_relations


@dataclass(frozen=True)
class Source:
    """One input file: where it is and the sha256 of its bytes (the resume key)."""

    path: str
    sha256: str


@dataclass
class FileResult:
    """What extracting one file gave: output lines (one per document) or a one-line error."""

    source: Source
    lines: list[str] = field(default_factory=list)
    documents: list[tuple[ParsedDocument, list[list[PassageRelation]]]] = field(default_factory=list)
    sentences: int = 0
    error: str | None = None


def one_line(exc: BaseException) -> str:
    """An exception as one line (what a failures report holds)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if isinstance(exc, (InputError, OSError)) else f"{type(exc).__name__}: {text}"


def expand_sources(specs: Iterable[str]) -> list[Path]:
    """Files named by SOURCE arguments: a file, a folder (recursive; supported suffixes only) or a
    glob. A SOURCE that names nothing is bad input; the same file named twice is read once."""
    out: dict[Path, None] = {}
    for spec in specs:
        path = Path(spec)
        if path.is_file():
            found = [path]
        elif path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES)
        else:
            found = sorted(Path(p) for p in glob.glob(spec, recursive=True) if Path(p).is_file())
        if not found:
            raise InputError(spec, "names no file (not a file, a folder with papers, or a glob that matches)")
        out.update(dict.fromkeys(found))
    return list(out)


def failures_path(out: str | Path) -> Path:
    """OUT.jsonl -> OUT.failures.jsonl, beside it."""
    out = Path(out)
    return out.with_name(out.name.removesuffix(".jsonl") + ".failures.jsonl")


def done_hashes(out: Path) -> set[str]:
    """Content hashes of the files OUT already holds. A last line cut short by a killed run is
    dropped from the file (its file is done again)."""
    if not out.is_file():
        return set()
    data = out.read_bytes()
    keep = data[:data.rfind(b"\n") + 1]
    if len(keep) != len(data):
        with open(out, "r+b") as handle:
            handle.truncate(len(keep))
    done = set()
    for n, line in enumerate(keep.decode("utf-8").splitlines(), 1):
        try:
            done.add(json.loads(line)["source_sha256"])
        except (json.JSONDecodeError, KeyError, TypeError):
            raise InputError(str(out), f"line {n}: not an extract-corpus output line; choose another --out") from None
    return done


def extract_file(extractor: Extractor, source: Source, content: bytes | None = None, keep_documents: bool = False
                 ) -> FileResult:
    """Read one file and extract every document in it: one output line per document. Any error
    becomes the result's one-line error (the run goes on); nothing of a failed file is written."""
    result = FileResult(source)
    try:
        start = time.perf_counter()
        content = Path(source.path).read_bytes() if content is None else content
        docs = read_document(Path(source.path).name, content)
        read_s = time.perf_counter() - start
        for index, doc in enumerate(docs):
            start = time.perf_counter()
            found = extractor.document(doc)
            result.lines.append(output_line(source, index, doc, found, extractor.model_id,
                                            {"read_s": round(read_s, 3), "extract_s": round(time.perf_counter() - start, 3)}))
            result.sentences += sum(not s.is_reference for s in doc.sentences)
            if keep_documents:
                result.documents.append((doc, found))
    except Exception as exc:  # one bad file must not end a corpus run: it is reported instead
        return FileResult(source, error=one_line(exc))
    return result


def output_line(source: Source, index: int, doc: ParsedDocument, found: list[list[PassageRelation]],
                model_id: str | None, timings: dict) -> str:
    """One document as a JSON line: metadata, model id, timings and its TwoSix passages."""
    passages = json.loads(write_twosix([replace(doc, sentences=with_relations(doc, found))]))
    record = {
        "source": source.path, "source_sha256": source.sha256, "document": index, "sha256": doc.sha256,
        "filename": doc.filename, "title": doc.title, "authors": doc.authors, "year": doc.year,
        "format": doc.format, "model_id": model_id,
        "sentences": sum(not s.is_reference for s in doc.sentences),
        "relations": sum(len(r) for r in found), "timings": timings, "twosix": passages,
    }
    return json.dumps(record, ensure_ascii=False) + "\n"


class Progress:
    """Documents/s, sentences/s and ETA on stderr, at most once a second (and at the end)."""

    def __init__(self, total: int, stream=sys.stderr, every: float = 1.0) -> None:
        self.total, self.stream, self.every = total, stream, every
        self.files = self.docs = self.sentences = self.failed = 0
        self.start = self.last = time.perf_counter()

    def update(self, result: FileResult, final: bool = False) -> None:
        self.files += 1
        self.docs += len(result.lines)
        self.sentences += result.sentences
        self.failed += result.error is not None
        now = time.perf_counter()
        if final or now - self.last >= self.every or self.files == self.total:
            self.last = now
            print(self.line(now), file=self.stream, flush=True)

    def line(self, now: float | None = None) -> str:
        elapsed = max((now or time.perf_counter()) - self.start, 1e-9)
        rate = self.files / elapsed
        eta = (self.total - self.files) / rate if rate else float("inf")
        return (f"[{self.files}/{self.total} files] {self.docs} documents, {self.failed} failed; "
                f"{self.docs / elapsed:.2f} documents/s, {self.sentences / elapsed:.1f} sentences/s, ETA {eta:.0f} s")


Engine = Callable[[list[Source]], Iterator[FileResult]]
"""Runs extract_file over sources and yields each result as it finishes (any order)."""


def local_engine(model: str | Path, keep_documents: bool) -> Engine:
    """This process: one model load, files one after another."""
    extractor = Extractor.load(model)

    def run(sources: list[Source]) -> Iterator[FileResult]:
        for source in sources:
            yield extract_file(extractor, source, keep_documents=keep_documents)

    return run


@dataclass
class CorpusSummary:
    """What a run did (the CLI prints it as JSON)."""

    files: int
    skipped: int
    documents: int
    sentences: int
    failures: list[dict]
    seconds: float


def run_corpus(sources: list[Path], out: str | Path, engine: Engine, db_url: str | None = None,
               stream=sys.stderr, model_id: str | None = None) -> CorpusSummary:
    """Run engine over the sources OUT does not hold yet, appending each finished file's lines.

    Failures of this run go to OUT.failures.jsonl (rewritten each run: a failed file is tried
    again on the next). With db_url every document is imported with its relations as pending
    suggestions, one transaction per document, and its sentences are recorded as read by
    `model_id` (data.model_runs), so Compare scores the model there."""
    out = Path(out)
    done = done_hashes(out)
    todo: list[Source] = []
    skipped = 0
    seen: set[str] = set()
    for path in sources:
        digest = sha256_file(path)  # a paper is read whole by ingestion anyway
        if digest in done or digest in seen:
            skipped += 1
            continue
        seen.add(digest)
        todo.append(Source(str(path), digest))
    store = None
    if db_url is not None:
        from data.model_runs import record_runs
        from data.store import Store

        store = Store(db_url)
    progress = Progress(len(todo), stream)
    failures: list[dict] = []
    start = time.perf_counter()
    fail_path = failures_path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(out, "a", encoding="utf-8") as handle, open(fail_path, "w", encoding="utf-8") as fails:
            for result in engine(todo):
                if result.error is None:
                    if store is not None:
                        for doc, found in result.documents:
                            doc_id, _ = store.import_suggested(doc, found)
                            if model_id:
                                read = {ps.text for ps in doc.sentences}
                                record_runs(store, model_id, [r.id for r in store.sentences(doc_id) if r.text in read])
                    handle.write("".join(result.lines))
                    handle.flush()
                else:
                    failures.append({"source": result.source.path, "source_sha256": result.source.sha256,
                                     "error": result.error})
                    fails.write(json.dumps(failures[-1], ensure_ascii=False) + "\n")
                    fails.flush()
                    print(f"failed: {result.source.path}: {result.error}", file=stream, flush=True)
                progress.update(result)
    finally:
        if store is not None:
            store.close()
    return CorpusSummary(len(todo), skipped, progress.docs, progress.sentences, failures,
                         round(time.perf_counter() - start, 2))
