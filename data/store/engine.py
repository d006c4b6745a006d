"""Opening a database: the SQLAlchemy URL, the engine with SQLite's pragmas, and the writers' queue."""
from __future__ import annotations

import os
import threading
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: SQLite's own busy handler alone
    fcntl = None  # type: ignore[assignment]

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

from core.paths import DEFAULT_DB, ROOT



def resolve_url(url: str | None = None) -> str:
    """SQLAlchemy URL for `url`, else $FUZZYMAP_DB, else DEFAULT_DB under the repo root.

    A value without "://" is a file path (relative to the working directory, except the default).
    """
    url = url or os.environ.get("FUZZYMAP_DB") or str(ROOT / DEFAULT_DB)
    if "://" in url:
        return url
    path = Path(url).expanduser().resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"



def _make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    memory = parsed.database in (None, "", ":memory:")
    engine = create_engine(
        url,
        connect_args={"timeout": 60, "check_same_thread": False},
        **({"poolclass": StaticPool} if memory else {}),
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:
        # Let SQLAlchemy, not pysqlite, emit BEGIN (see _on_begin).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA busy_timeout=60000")
        cur.execute("PRAGMA foreign_keys=ON")
        if not memory:
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")  # with WAL: a program crash loses no commit
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        # A writer takes the write lock up front; a deferred BEGIN that later upgrades to a write
        # can fail with "database is locked" no matter the busy timeout.
        immediate = conn.get_execution_options().get("fuzzymap_write")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class _WriterGate:
    """Queues SQLite writers on a lock file before they ask SQLite for its write lock.

    SQLite's busy handler polls with sleeps of up to 100 ms, so under 8 writers one could lose
    the lock many times running (p99 1.5 s, max 10 s measured); a blocking flock wakes a waiter
    as soon as the lock is free. Threads of one process queue on a lock first (flock does not
    exclude them from each other). The file is `<database>.writers`; other backends need none.
    """

    def __init__(self, url: str):
        parsed = make_url(url)
        self._path = None
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:") and fcntl:
            self._path = f"{parsed.database}.writers"
        self._thread = threading.RLock()
        self._fd: int | None = None
        self._depth = 0  # held by this thread this many times (flock once, at the outermost)

    def __enter__(self) -> None:
        self._thread.acquire()
        if self._path is not None and self._depth == 0:
            try:
                if self._fd is None:
                    self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
                fcntl.flock(self._fd, fcntl.LOCK_EX)
            except BaseException:
                self._thread.release()
                raise
        self._depth += 1

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        try:
            if self._fd is not None and self._depth == 0:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._thread.release()


