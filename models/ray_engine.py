"""Ray as the corpus engine: the same extract_file on a pool of actors, one model load each.

Imported only for `extract-corpus --engine ray` (Ray is optional at run time). Without an address a
local Ray is started for the run and stopped after it; with one, the run joins that cluster (the
bundle path and this project must exist at the same paths on its nodes). File bytes travel with
the task, so nodes need not share the input folder. A worker that dies is restarted and its
unfinished files are retried (max_restarts / max_task_retries), so no document is lost.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import ray

from core.paths import ROOT
from models.corpus import FileResult, Source, extract_file, one_line

IN_FLIGHT = 2
"""Files queued per worker: one running, one waiting, so a worker never idles on the driver."""
OBJECT_STORE_BYTES = 256 * 2**20
"""Object store of a Ray started here: file bytes and results are small, and the default (30% of
RAM) would claim shared memory on a machine others use."""


class CorpusWorker:
    """One Ray actor: loads the bundle once, then extracts file after file."""

    def __init__(self, model: str, keep_documents: bool) -> None:
        from models.extractor import Extractor

        self.extractor = Extractor.load(model)
        self.keep_documents = keep_documents

    def extract(self, source: Source, content: bytes) -> FileResult:
        return extract_file(self.extractor, source, content, self.keep_documents)

    def pid(self) -> int:
        return os.getpid()


class RayEngine:
    """Callable engine (see models.corpus.Engine) running on Ray actors."""

    def __init__(self, model: str | Path, keep_documents: bool, workers: int | None = None,
                 address: str | None = None) -> None:
        self.model = str(Path(model).resolve())
        self.keep_documents = keep_documents
        self.workers = workers
        self.address = address
        self.actors: list = []

    def _start(self) -> bool:
        """Connect (or start a local Ray); True when this run started it and must stop it."""
        env = {"env_vars": {"PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
                            "HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE", "1"),
                            "TRANSFORMERS_OFFLINE": os.environ.get("TRANSFORMERS_OFFLINE", "1"),
                            "TOKENIZERS_PARALLELISM": "false"}}
        if ray.is_initialized():
            return False
        if self.address:
            ray.init(address=self.address, runtime_env=env, log_to_driver=False, configure_logging=False)
        else:
            ray.init(num_cpus=self.workers or os.cpu_count() or 1, include_dashboard=False, runtime_env=env,
                     object_store_memory=OBJECT_STORE_BYTES, log_to_driver=False, configure_logging=False)
        return True

    def pids(self) -> list[int]:
        """Process ids of the workers (tests kill one to prove that nothing is lost)."""
        return ray.get([a.pid.remote() for a in self.actors])

    def __call__(self, sources: list[Source]) -> Iterator[FileResult]:
        if not sources:
            return
        started = self._start()
        try:
            n = self.workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
            worker = ray.remote(num_cpus=1, max_restarts=-1, max_task_retries=-1)(CorpusWorker)
            self.actors = [worker.remote(self.model, self.keep_documents) for _ in range(min(n, len(sources)))]
            queue = iter(sources)
            pending: dict = {}
            unread: list[FileResult] = []

            def submit(actor) -> None:
                for source in queue:
                    try:
                        content = Path(source.path).read_bytes()
                    except OSError as exc:
                        unread.append(FileResult(source, error=one_line(exc)))
                        continue
                    pending[actor.extract.remote(source, content)] = (actor, source)
                    return

            for actor in self.actors:
                for _ in range(IN_FLIGHT):
                    submit(actor)
            while pending or unread:
                while unread:
                    yield unread.pop()
                if not pending:
                    break
                ready, _ = ray.wait(list(pending), num_returns=1)
                actor, source = pending.pop(ready[0])
                try:
                    result = ray.get(ready[0])
                except ray.exceptions.RayError as exc:  # retries exhausted: report, go on
                    result = FileResult(source, error=one_line(exc))
                submit(actor)
                yield result
        finally:
            for actor in self.actors:
                ray.kill(actor)
            self.actors = []
            if started:
                ray.shutdown()


def ray_engine(model: str | Path, keep_documents: bool, workers: int | None = None,
               address: str | None = None) -> RayEngine:
    print(f"ray {ray.__version__}: {'joining ' + address if address else 'starting a local Ray'}", file=sys.stderr)
    return RayEngine(model, keep_documents, workers, address)
