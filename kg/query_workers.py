"""SPARQL queries of the endpoint in worker processes, so that the time limit really ends them.

Oxigraph cannot be interrupted from Python: an aggregate or a sort computes its first solution
in one call that may run for hours. Each worker process holds a read-only view of the embedded
store (RocksDB opened read-only next to the server's writable handle; it sees every committed
write as of its opening) and answers one query at a time. The server waits for the answer until
the time limit, and past it kills the worker and starts another: the CPU and the memory are
freed at once. A view is reopened when the store has been written since it was opened (the
store counts its writes). RocksDB read-only views of a store another process writes are not
protected from its compactions: a file the view needs may be gone (an I/O or "Corruption"
error). The worker then reopens its view and runs the query again, a few times; SST files are
immutable, so a view either reads a consistent version or fails, and a failure is retried. Each worker also keeps an in-memory copy of a store up to
``MEDGRADE_QUERY_SNAPSHOT_QUADS`` quads, rebuilt in the background after a write and used only
while current and built only once the store has gone :data:`SETTLE` seconds without a write. Workers start lazily, with the "spawn" method (never fork a process holding
RocksDB).
"""

from __future__ import annotations

import multiprocessing as mp
import threading
import time
from multiprocessing.connection import Connection
from typing import Any

from kg.errors import LimitExceeded, MedgradeError, QueryError
from kg.sparql_endpoint import Dataset, Limits, execute
from kg.sparql_results import time_limit
from kg.store import Store

GRACE = 2.0  # seconds past the limit before the worker is killed (it stops itself between solutions)
RETRIES = 5  # reopen the read-only view when the writer compacted a file away under it
SETTLE = 2.0  # seconds without a write before a worker copies the store into memory
FLUSH_EVERY = 5.0  # seconds: a read-only view replays the write-ahead log, so keep it short; but
# every flush adds a file that compaction must merge, and RocksDB holds a flush back while too
# many are waiting (a server that flushed on every write stalled for minutes under 16 clients)


def _vanished(exc: BaseException) -> bool:
    text = str(exc)
    return "No such file" in text or "Corruption" in text or "IO error" in text


class _Snapshot:
    """An in-memory copy of the store for one generation, built in a background thread of the
    worker. Oxigraph answers joins several times faster from memory than from RocksDB on disk;
    a query uses the copy only when it is of the current generation (read-your-writes holds),
    else the read-only view while a new copy is built. Stores over ``limit`` quads are not
    copied."""

    def __init__(self, limit: int, settle: float = 0.0) -> None:
        self.limit = limit
        self.settle = settle  # seconds a generation must last before it is copied
        self.store: Any = None
        self.generation = -1
        self.building: int | None = None
        self.seen: tuple[int, float] = (-1, 0.0)  # the newest generation asked for, and since when
        self.lock = threading.Lock()

    def current(self, generation: int) -> Any:
        with self.lock:
            return self.store if self.generation == generation else None

    def refresh(self, view: Any, generation: int) -> None:
        """Copy the store of ``generation`` in the background, once that generation has lasted
        :attr:`settle` seconds: under a steady stream of writes each copy would be out of date
        before it is used, and copying the whole store after every write took the CPU the
        writes needed (the mixed load stayed at about 30 requests/s)."""
        now = time.monotonic()
        with self.lock:
            if self.limit <= 0 or self.building == generation or self.generation == generation:
                return
            if self.seen[0] != generation:
                self.seen = (generation, now)
            if now - self.seen[1] < self.settle:
                return
            self.building = generation
        threading.Thread(target=self._build, args=(view, generation), daemon=True).start()

    def _build(self, view: Any, generation: int) -> None:
        import pyoxigraph as ox

        try:
            if len(view) > self.limit:
                return
            copy = ox.Store()
            copy.bulk_load(view.dump(format=ox.RdfFormat.N_QUADS), format=ox.RdfFormat.N_QUADS)
            with self.lock:
                if generation >= self.generation:
                    self.store, self.generation = copy, generation
        except (OSError, RuntimeError):
            # the writer changed the store under the read-only view mid-dump (a file compacted
            # away, a string not yet visible): no copy for this generation; queries use the view,
            # which retries, and the next generation's copy is tried afresh
            return
        finally:
            with self.lock:
                if self.building == generation:
                    self.building = None


def _serve(path: str, conn: Connection, snapshot_limit: int) -> None:  # runs in the worker process
    import pyoxigraph as ox

    view, seen = None, -1
    snapshot = _Snapshot(snapshot_limit, SETTLE)
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        generation, text, dataset, media, limits = job
        try:
            for attempt in range(RETRIES + 1):
                try:
                    if view is None or generation != seen:
                        view, seen = ox.Store.read_only(path), generation
                    store = snapshot.current(generation)
                    if store is None:
                        snapshot.refresh(view, generation)
                        store = view
                    conn.send(("ok", execute(store, text, dataset, media, limits)))
                    break
                except (QueryError, OSError, RuntimeError) as exc:
                    if attempt == RETRIES or not _vanished(exc):
                        raise
                    view = None  # compacted away under the view: reopen and run again
                    time.sleep(0.01 * (attempt + 1))
        except MedgradeError as exc:
            conn.send(("error", type(exc).__name__, exc.message_en, exc.message_zh))
        except Exception as exc:  # anything else goes back to the server as a query error
            conn.send(("error", "QueryError", f"query failed: {exc}", f"查询失败：{exc}"))


class _Worker:
    def __init__(self, path: str, snapshot_limit: int) -> None:
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(
            target=_serve, args=(path, child, snapshot_limit), daemon=True, name="medgrade-query"
        )
        self.process.start()
        child.close()

    def kill(self) -> None:
        self.process.kill()
        self.process.join(5)
        self.conn.close()


class QueryWorkers:
    """A pool of ``size`` query worker processes for one embedded store on disk."""

    def __init__(self, store: Store, size: int = 2, snapshot_limit: int = 0) -> None:
        views = store.capabilities.snapshot_views and store.path is not None
        self.store = store if views else None
        self.path = str(store.path) if views else ""
        self._idle: list[_Worker] = []
        self._slots = threading.Semaphore(size)
        self._lock = threading.Lock()
        self.killed = 0  # workers killed at the time limit (for status and tests)
        self.snapshot_limit = snapshot_limit  # quads: stores up to this size are also copied into memory
        self._flushed, self._flushed_at = -1, 0.0  # the generation last flushed for the views, and when

    def serves(self, store: Store) -> bool:
        return self.store is not None and store is self.store

    def run(self, store: Store, text: str, dataset: Dataset, media: str, limits: Limits) -> bytes:
        """The serialised answer; :class:`LimitExceeded` when the worker had to be killed."""
        with self._slots:
            with self._lock:
                worker = self._idle.pop() if self._idle else None
            if worker is None or not worker.process.is_alive():
                worker = _Worker(self.path, self.snapshot_limit)
            generation = store.generation
            self._flush(store, generation)
            try:
                worker.conn.send((generation, text, dataset, media, limits))
                ready = worker.conn.poll(limits.timeout + GRACE)
                reply: Any = worker.conn.recv() if ready else None
            except (EOFError, OSError, BrokenPipeError):
                worker.kill()
                raise QueryError("the query worker stopped unexpectedly", "查询进程意外终止") from None
            if reply is None:
                worker.kill()
                self.killed += 1
                raise time_limit(limits.timeout)
            with self._lock:
                self._idle.append(worker)
        if reply[0] == "ok":
            return bytes(reply[1])
        _, kind, en, zh = reply
        raise (LimitExceeded if kind == "LimitExceeded" else QueryError)(en, zh)

    def _flush(self, store: Store, generation: int) -> None:
        """Flush the writer's memtable (at most every :data:`FLUSH_EVERY` seconds) when it has
        been written since: opening a read-only view replays the write-ahead log, which under a
        steady stream of writes would otherwise grow without end and slow every reopen."""
        now = time.monotonic()
        with self._lock:
            if generation == self._flushed or now - self._flushed_at < FLUSH_EVERY:
                return
            self._flushed, self._flushed_at = generation, now
        store.flush()

    def close(self) -> None:
        with self._lock:
            for worker in self._idle:
                worker.kill()
            self._idle.clear()
