"""Retraining as a background job: one at a time, in its own process, its state in a file.

Why a file under VAR/jobs/ (VAR: $FUZZYMAP_VAR or var/): the Model page is rerun on every click,
reloaded, and opened in several tabs; each run reads the one state file, so all of them see the
same progress, stage and loss curve, and a second start is refused while a job runs. The worker
(`python -m workspace.training_jobs STATE`) calls models.training.train_model, the same function as
`python -m models train`, and writes the bundle to VAR/models/NAME/ (never models/default).
"""
from __future__ import annotations

import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from core.errors import InputError
from core.paths import var_root
from core.specs import spec_path
from workspace.model_catalog import trained_root

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
STAGES = (  # (start of a progress message, stage shown, share of the job done when it starts)
    ("reading", "reading the training data", 0.02),
    ("LoRA seed", "LoRA-tuning the backbone", 0.10),
    ("pair features", "embedding the candidate pairs", 0.35),
    ("pair head", "pair head: cross-validating C", 0.60),
    ("sign head", "sign head", 0.75),
    ("sentence head", "sentence head", 0.80),
    ("relation writer: tuning", "tuning the relation writer", 0.05),
    ("scoring the held-out", "scoring the held-out validation splits", 0.88),
    ("saving the bundle", "saving the bundle", 0.97),
)
WRITER_EPOCH = re.compile(r"^writer epoch (\d+)/(\d+):")
"""finetune.writer's message at the end of each epoch: the job's share done moves with it."""
RUNNING, DONE, FAILED, CANCELLED = "running", "done", "failed", "cancelled"
KINDS = ("pair scorer", "relation writer")
"""What a job trains: models.training.train_model's bundle, or train_writer's (opt-in, slower)."""
LOG_LINES = 40
STALE_LOCK_S = 60
"""A lock file this old while no job is running was left by a start that never finished."""


@dataclass
class TrainJob:
    """What to train (the page's form) and, once started, how far it got."""

    name: str
    data: list[str]
    backbone: str = "minilm"
    lora: bool = False
    seed: int = 0
    kind: str = KINDS[0]
    """One of KINDS. For a relation writer, backbone is the causal LM it tunes (smollm2-135m or a
    local folder) and lora is ignored (the writer is always LoRA-tuned)."""
    id: str = ""
    status: str = RUNNING
    pid: int | None = None
    started: str = ""
    finished: str | None = None
    stage: str = "starting"
    progress: float = 0.0
    log: list[str] = field(default_factory=list)
    loss: list[dict] = field(default_factory=list)
    """LoRA validation loss by step (finetune.lora's checks), as the worker sees them."""
    cv: dict = field(default_factory=dict)
    """The heads' cross-validated log loss per setting tried, once the heads are fitted."""
    model_id: str | None = None
    error: str | None = None

    @property
    def out(self) -> Path:
        return trained_root() / self.name

    def command(self) -> str:
        """The `python -m models train` (or `train-writer`) command this job mirrors."""
        data = " ".join(f"--data '{spec}'" for spec in self.data)
        if self.kind == "relation writer":
            return f"python -m models train-writer {data} --base {self.backbone} --seed {self.seed} --out {self.out}"
        return (f"python -m models train {data} --backbone {self.backbone} "
                f"{'--lora' if self.lora else '--no-lora'} --seed {self.seed} --out {self.out}")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def jobs_dir() -> Path:
    return var_root() / "jobs"


def state_path() -> Path:
    return jobs_dir() / "train.json"


def _lock_path() -> Path:
    return jobs_dir() / "train.lock"


def _write(job: TrainJob, path: Path | None = None) -> None:
    """Replace the state file in one step (readers never see half a file)."""
    path = path or state_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(asdict(job)))
    os.replace(tmp, path)


def _read(path: Path) -> TrainJob | None:
    try:
        return TrainJob(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None


def _alive(pid: int | None) -> bool:
    """Whether the worker still runs (a finished child of this process is reaped, not a zombie)."""
    if not pid:
        return False
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    except ChildProcessError:  # not this process's child: another server process started it
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][:1] != "Z"
    except OSError:
        return True


def current_job() -> TrainJob | None:
    """The last job's state; a "running" job whose worker is gone is marked failed (and saved)."""
    job = _read(state_path())
    if job is not None and job.status == RUNNING and job.pid is not None and not _alive(job.pid):
        job = _read(state_path()) or job  # the worker may have written its end just now
        if job.status == RUNNING:
            job.status, job.error, job.finished = FAILED, "the training process ended without finishing", _now()
            _write(job)
            _release()
    return job


def _release() -> None:
    _lock_path().unlink(missing_ok=True)


def check_request(job: TrainJob) -> None:
    """Refuse a job that cannot run, before anything starts (InputError naming the reason)."""
    from data.readers import read_dataset
    from models.training import check_store_size

    if not NAME.match(job.name):
        raise InputError(job.name or "name", "a model name is 1-64 letters, digits, '.', '_' or '-'")
    if job.out.exists():
        raise InputError(str(job.out), "a model of that name exists already: choose another name")
    if job.kind not in KINDS:
        raise InputError(job.kind or "kind", f"a job trains one of {', '.join(KINDS)}")
    if not job.data:
        raise InputError("training data", "choose the store's labels and/or a dataset")
    for spec in job.data:
        if spec.startswith("store:"):
            check_store_size(spec, read_dataset(spec))
        elif not Path(spec_path(spec)).is_file():
            raise InputError(spec, "no such file")


def start_job(job: TrainJob) -> TrainJob:
    """Start the worker for `job`; refused (InputError) while another job runs or for bad input."""
    running = current_job()
    if running is not None and running.status == RUNNING:
        raise InputError("training", f"job {running.name!r} is already running (started {running.started}, "
                                     f"{running.stage}): wait for it or cancel it")
    check_request(job)
    jobs_dir().mkdir(parents=True, exist_ok=True)
    lock = _lock_path()
    if lock.exists() and time.time() - lock.stat().st_mtime > STALE_LOCK_S:
        lock.unlink(missing_ok=True)  # left by a server that died while starting: no job runs (checked above)
    try:  # the one-job rule across tabs and server processes: whoever creates the lock file starts
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        raise InputError("training", "another training job is starting or running: wait for it or cancel it") from None
    os.close(fd)
    job.id, job.status, job.started, job.stage, job.progress = uuid.uuid4().hex, RUNNING, _now(), "starting", 0.0
    _write(job)
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    with open(jobs_dir() / "train.log", "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "workspace.training_jobs", str(state_path().resolve())],
                                stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    job.pid = proc.pid
    current = _read(state_path())
    if current is not None and current.id == job.id and current.pid is None:
        _write(job)  # the worker writes its own pid too; whichever is first, the file ends with it
    return job


def cancel_job() -> TrainJob | None:
    """Stop the running job (its whole process group), drop its half-written bundle, mark it cancelled."""
    job = current_job()
    if job is None or job.status != RUNNING:
        return job
    if job.pid:
        try:
            os.killpg(job.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + 10
        while _alive(job.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
    for partial in trained_root().glob(".bundle-*"):
        shutil.rmtree(partial, ignore_errors=True)
    job = _read(state_path()) or job
    if job.status == RUNNING:
        job.status, job.finished, job.stage = CANCELLED, _now(), "cancelled"
        _write(job)
    _release()
    return job


def stage_of(message: str) -> tuple[str, float] | None:
    """(stage, share done) for a training progress message that starts a stage."""
    epoch = WRITER_EPOCH.match(message)
    if epoch:  # the writer's tuning: 5 % to 85 % of the job, by epoch
        return "tuning the relation writer", 0.05 + 0.8 * int(epoch[1]) / max(1, int(epoch[2]))
    for start, stage, share in STAGES:
        if message.startswith(start) or (start == "reading" and ": " in message and " training pairs " in message):
            return stage, share
    return None


class _LossHandler(logging.Handler):
    """Collects finetune.lora's validation checks ("step N: valid loss X ...") into the job."""

    def __init__(self, on_point) -> None:
        super().__init__(logging.INFO)
        self.on_point = on_point

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg.startswith("before tuning: valid loss"):
            self.on_point({"step": 0, "valid_loss": float(record.args[0])})
        elif record.msg.startswith("step %d: valid loss"):
            self.on_point({"step": int(record.args[0]), "valid_loss": float(record.args[1])})


def run_worker(path: Path) -> int:
    """The job process: train, keeping the state file up to date; exit status 0 when the bundle is saved."""
    from finetune.writer import WriterTuning
    from models.training import TrainSettings, train_model, train_writer

    job = _read(path)
    if job is None:
        print(f"error: {path}: no job state to run", file=sys.stderr)
        return 2
    job.pid = os.getpid()

    def save() -> None:
        current = _read(path)
        if current is None or current.id != job.id or current.status != RUNNING:
            raise SystemExit(1)  # cancelled or replaced: stop writing
        _write(job, path)

    def progress(message: str) -> None:
        print(message, file=sys.stderr, flush=True)
        job.log = [*job.log, message][-LOG_LINES:]
        found = stage_of(message)
        if found:
            job.stage, job.progress = found[0], max(job.progress, found[1])
        save()

    def on_point(point: dict) -> None:
        job.loss.append(point)
        save()

    handler = _LossHandler(on_point)
    lora_log = logging.getLogger("finetune.lora")
    lora_log.addHandler(handler)
    lora_log.setLevel(logging.INFO)
    save()
    job.out.parent.mkdir(parents=True, exist_ok=True)  # the bundle is written beside it, then renamed
    try:
        if job.kind == "relation writer":
            model = train_writer(job.data, job.out, job.backbone, WriterTuning(seed=job.seed), progress=progress)
        else:
            model = train_model(job.data, TrainSettings(backbone=job.backbone, lora=job.lora, seed=job.seed),
                                job.out, progress)
    except Exception as exc:  # the page shows why; the traceback is in VAR/jobs/train.log
        logging.getLogger(__name__).exception("training failed")
        job.status, job.error, job.finished = FAILED, f"{type(exc).__name__}: {exc}".splitlines()[0], _now()
        _write(job, path)
        _release()
        return 1
    job.cv, job.model_id = model.info.get("cv", {}), model.model_id
    job.status, job.stage, job.progress, job.finished = DONE, "done", 1.0, _now()
    _write(job, path)
    _release()
    return 0


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    sys.exit(run_worker(Path(sys.argv[1])))
