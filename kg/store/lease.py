"""The write lease of a shared SPARQL server: one medgrade process writes at a time.

A write is a unit of several requests (the inventory change with its audit record, then the
derived levels, then the validation report); a SPARQL server makes at most one request atomic,
and Virtuoso only one operation of it (it commits after every statement, at read-committed
isolation). Two processes writing the same store at once would each propagate levels from a
lineage that misses the other's change, and the later write of the inferred graph would leave
some derived level too low. So a process holds the store's *lease* while it writes: a triple in
a graph of its own (``urn:medgrade:lease``, outside the store's graphs), naming the holder and
until when it holds.

Taking it is *insert, then verify*: a process adds its lease unless one is held, then reads the
holders back; it holds the lease only if it is alone. Two processes that both inserted (which
Virtuoso's isolation allows) both see two holders and both step back, so at most one ever
proceeds, on any server. A process that dies holding the lease leaves it to expire
(:data:`TTL`); a live holder renews it from a background thread. A process that cannot take the
lease within :data:`WAIT` seconds gets a :class:`~kg.errors.ConflictError` (HTTP 409) naming the
holder. Once it holds the lease, a process that finds the inventory version moved (another
process wrote in between) reads the lineage again before changing it
(:meth:`kg.service.Service.lineage_state`).
"""

from __future__ import annotations

import contextlib
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from kg.errors import ConflictError, StoreError

LEASE_GRAPH = "urn:medgrade:lease"
_UNTIL = "urn:medgrade:lease#until"  # epoch seconds (xsd:decimal) until which the holder holds it
_HOLDER = "urn:medgrade:lease#holder"  # who: host, process id, since when
TTL = 120.0  # seconds a lease lasts without renewal (a process stopped longer loses it)
RENEW = 30.0  # seconds between renewals while held
WAIT = 30.0  # seconds a process tries to take the lease before giving up (409)


class Lease:
    """A process's share of a store's write lease: re-entrant (counted), so the threads of one
    process that write in turn under its own writer lock share one lease."""

    def __init__(
        self,
        send: Callable[[str], object],
        rows: Callable[[str], list[tuple[str | None, ...]]],
        *,
        wait: float | None = None,
        ttl: float = TTL,
        renew: float = RENEW,
    ) -> None:
        self._send, self._rows = send, rows
        self.wait = wait if wait is not None else float(os.environ.get("MEDGRADE_LEASE_WAIT", WAIT))
        self.ttl, self.renew = ttl, renew
        self._lock = threading.Lock()
        self._held = 0
        self._token: str | None = None
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None
        self.lost = False  # the lease expired while held (the process stood still longer than the TTL)
        self.taken = 0  # how often this process took the lease (for tests)
        self.stepped_back = 0  # how often it found another inserting at the same moment

    @contextmanager
    def held(self) -> Iterator[None]:
        """Hold the lease for the duration (taken on first entry, released on last exit)."""
        with self._lock:
            if self._held == 0:
                self._take()
            self._held += 1
        try:
            yield
        finally:
            with self._lock:
                self._held -= 1
                if self._held == 0:
                    self._release()

    def check(self) -> None:
        """Refuse a write by a process whose lease expired under it."""
        if self.lost:
            raise StoreError(
                "this process lost the store's write lease (it stood still longer than "
                f"{self.ttl:.0f} s); its write was not sent: try again",
                f"本进程失去了存储的写租约（停顿超过 {self.ttl:.0f} 秒），写入未发送：请重试",
            )

    # --- the protocol ----------------------------------------------------------------------------
    def _take(self) -> None:
        token = f"urn:medgrade:lease:{uuid.uuid4().hex}"
        who = f"{socket.gethostname()} pid {os.getpid()} since {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}"
        deadline = time.monotonic() + self.wait
        attempt = 0
        while True:
            now = time.time()
            self._send(
                f"DELETE {{ GRAPH <{LEASE_GRAPH}> {{ ?h ?p ?o }} }} WHERE {{ GRAPH <{LEASE_GRAPH}> "
                f"{{ ?h <{_UNTIL}> ?t . ?h ?p ?o FILTER(?t < {now:.3f}) }} }} ;\n"
                f"DELETE {{ GRAPH <{LEASE_GRAPH}> {{ <{token}> <{_UNTIL}> ?t }} }} "
                f"INSERT {{ GRAPH <{LEASE_GRAPH}> {{ <{token}> <{_UNTIL}> {now + self.ttl:.3f} ; "
                f'<{_HOLDER}> "{who}" }} }} '
                f"WHERE {{ FILTER NOT EXISTS {{ GRAPH <{LEASE_GRAPH}> {{ ?h <{_UNTIL}> ?u }} }} }}"
            )
            holders = self._holders()
            if set(holders) == {token}:
                break
            if token in holders:  # another inserted at the same moment: both step back
                self.stepped_back += 1
                self._drop(token)
            attempt += 1
            if time.monotonic() >= deadline:
                others = "; ".join(h for t, h in holders.items() if t != token) or "another process"
                raise ConflictError(
                    f"another medgrade process is writing this store ({others}); "
                    f"no write lease within {self.wait:.0f} s: try again",
                    f"另一个 medgrade 进程正在写入此存储（{others}），{self.wait:.0f} 秒内未取得写租约：请重试",
                )
            time.sleep(random.uniform(0.01, 0.05) * min(attempt, 8))
        self._token, self.lost = token, False
        self.taken += 1
        self._stop.clear()
        self._renewer = threading.Thread(target=self._renew_loop, args=(token,), name="medgrade-lease", daemon=True)
        self._renewer.start()

    def _holders(self) -> dict[str, str]:
        rows = self._rows(
            f"SELECT ?h ?who WHERE {{ GRAPH <{LEASE_GRAPH}> {{ ?h <{_UNTIL}> ?t OPTIONAL {{ ?h <{_HOLDER}> ?who }} }} }}"
        )
        return {h: who or h for h, who in rows if h}

    def _drop(self, token: str) -> None:
        self._send(f"DELETE WHERE {{ GRAPH <{LEASE_GRAPH}> {{ <{token}> ?p ?o }} }}")

    def _release(self) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()
            self._renewer = None
        token, self._token = self._token, None
        if token is not None:
            # the server gone: the lease expires by itself, and the write's own error stands
            with contextlib.suppress(Exception):
                self._drop(token)

    def _renew_loop(self, token: str) -> None:
        while not self._stop.wait(self.renew):
            try:
                self._send(
                    f"DELETE {{ GRAPH <{LEASE_GRAPH}> {{ <{token}> <{_UNTIL}> ?t }} }} "
                    f"INSERT {{ GRAPH <{LEASE_GRAPH}> {{ <{token}> <{_UNTIL}> {time.time() + self.ttl:.3f} }} }} "
                    f"WHERE {{ GRAPH <{LEASE_GRAPH}> {{ <{token}> <{_UNTIL}> ?t }} }}"
                )
                if token not in self._holders():
                    self.lost = True
                    return
            except Exception:  # a failed renewal is retried; expiry is what counts
                continue
