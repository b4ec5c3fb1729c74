"""Several writer processes on one SPARQL server: the write lease (kg.store.lease).

The protocol is checked with two leases over one in-memory store (two processes in effect),
including the moment both insert at once; then two real writer processes write the demo
hospital on the Oxigraph server and on Virtuoso at the same time, one raising levels and the
other adding derivations from those assets, and the derived levels they leave must be what a
full propagation computes from scratch.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from kg.errors import ConflictError, StoreError
from kg.namespaces import PROV
from kg.service import Service
from kg.settings import Settings
from kg.store import Graphs, open_store
from kg.store.lease import LEASE_GRAPH, Lease
from tests.helpers import remote_descriptor


def _lease(store, **kwargs) -> Lease:  # type: ignore[no-untyped-def]
    return Lease(store.update, store.rows, **kwargs)


def _holders(store) -> list[str]:  # type: ignore[no-untyped-def]
    return [h for (h,) in store.rows(f"SELECT DISTINCT ?h WHERE {{ GRAPH <{LEASE_GRAPH}> {{ ?h ?p ?o }} }}") if h]


def test_one_holder_at_a_time_and_the_other_is_told_who() -> None:
    store = open_store("memory:")
    first, second = _lease(store, wait=0.3), _lease(store, wait=0.3)
    with first.held():
        with first.held():  # re-entrant: the threads of one process share its lease
            assert first.taken == 1 and len(_holders(store)) == 1
        with pytest.raises(ConflictError) as refused, second.held():
            pass  # pragma: no cover - never reached
        assert refused.value.status == 409
        assert f"pid {os.getpid()}" in refused.value.message_en and "写租约" in refused.value.message_zh
    assert _holders(store) == []  # released on the last exit
    with second.held():
        assert second.taken == 1


def test_a_lease_left_by_a_dead_process_expires() -> None:
    store = open_store("memory:")
    until = time.time() - 1  # a holder that stopped renewing
    store.update(
        f"INSERT DATA {{ GRAPH <{LEASE_GRAPH}> {{ <urn:medgrade:lease:gone> <urn:medgrade:lease#until> {until:.3f} }} }}"
    )
    lease = _lease(store, wait=0.3)
    with lease.held():
        assert len(_holders(store)) == 1 and "urn:medgrade:lease:gone" not in _holders(store)


def test_two_that_insert_at_the_same_moment_both_step_back() -> None:
    """Virtuoso's isolation lets two inserts through at once: each then sees two holders."""
    store = open_store("memory:")
    rival = "urn:medgrade:lease:rival"
    sent: list[str] = []

    def send(request: str) -> None:
        store.update(request)
        sent.append(request)
        if len(sent) == 1:  # the rival inserted at the same moment as the first attempt
            store.update(
                f"INSERT DATA {{ GRAPH <{LEASE_GRAPH}> {{ <{rival}> <urn:medgrade:lease#until> {time.time() + 60:.3f} }} }}"
            )
        elif rival in _holders(store) and len(_holders(store)) == 1:  # and stepped back too
            store.update(f"DELETE WHERE {{ GRAPH <{LEASE_GRAPH}> {{ <{rival}> ?p ?o }} }}")

    lease = Lease(send, store.rows, wait=5)
    with lease.held():
        assert lease.stepped_back == 1 and len(_holders(store)) == 1 and rival not in _holders(store)


def test_a_held_lease_is_renewed_and_a_lost_one_stops_writes() -> None:
    store = open_store("memory:")
    lease, other = _lease(store, ttl=0.4, renew=0.1), _lease(store, wait=0)
    with lease.held():
        time.sleep(0.8)  # twice its time to live: renewed meanwhile
        with pytest.raises(ConflictError), other.held():
            pass  # pragma: no cover - never reached
        store.update(f"DELETE WHERE {{ GRAPH <{LEASE_GRAPH}> {{ ?h ?p ?o }} }}")  # expired and taken over
        deadline = time.monotonic() + 5
        while not lease.lost and time.monotonic() < deadline:
            time.sleep(0.05)
        with pytest.raises(StoreError) as lost:
            lease.check()
        assert "lease" in lost.value.message_en and "租约" in lost.value.message_zh


def test_the_service_holds_the_lease_while_it_writes_and_threads_share_it(onto) -> None:  # type: ignore[no-untyped-def]
    """A write takes the store's lease (the embedded store needs none: its file lock); threads
    of one process writing in turn share one lease."""
    store = open_store("memory:")
    svc = Service(Settings(store="memory:"), store=store, ontology=onto)
    svc.initialize(demo=True)
    lease = _lease(store)
    store.exclusive = lease.held  # type: ignore[method-assign]  # as on a shared server
    ids = [a["id"] for a in svc.assets(limit=4)["items"]]
    seen: list[int] = []  # the lease's holders at every write the service sends
    apply = store.apply

    def watched(changes):  # type: ignore[no-untyped-def]
        seen.append(len(_holders(store)))
        apply(changes)

    store.apply = watched  # type: ignore[method-assign]
    threads = [
        threading.Thread(target=svc.assess, args=(a,), kwargs={"actor": "t", "justification": "lease", "level": "L3"})
        for a in ids
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) >= 4 and set(seen) == {1} and _holders(store) == [] and 1 <= lease.taken <= 4


_WRITER = """
import json, sys
from kg.errors import ConflictError
from kg.service import Service
from kg.settings import Settings
role, pairs = sys.argv[1], json.loads(sys.argv[2])
done = refused = 0
with Service(Settings()) as svc:
    for source, target, level in pairs:
        try:
            if role == "assess":
                svc.assess(source, actor="a", justification="并发复核 / concurrent re-assessment", level=level)
            else:
                svc.add_derivation(source, target, actor="b", justification="并发派生 / concurrent derivation")
            done += 1
        except ConflictError:
            refused += 1
    print(json.dumps({"done": done, "refused": refused, "leases": svc.store.lease.taken}))
"""


@pytest.mark.parametrize("kind", ["oxigraph-server", "virtuoso"])
def test_two_writer_processes_leave_the_levels_a_full_propagation_computes(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    descriptor, account = remote_descriptor(request, kind)
    env = {**os.environ, "MEDGRADE_STORE": descriptor, "MEDGRADE_LEASE_WAIT": "120"}
    env.update({f"MEDGRADE_SPARQL_{k.upper()}": v for k, v in account.items()})
    settings = Settings(store=descriptor, sparql_user=account.get("user"), sparql_password=account.get("password"))
    with Service(settings) as svc:
        svc.initialize(demo=True)
        items = svc.assets(limit=400)["items"]
        low = [a["id"] for a in items if svc.level(a["id"])["effective"]["rank"] <= 2]
        high = [a["id"] for a in items if a["id"] not in low]
        audit_before = svc.store.count(Graphs.AUDIT)
    assert len(low) >= 20 and len(high) >= 20
    # one process raises twenty assets to L6 while the other derives twenty low assets from them
    # (without the lease, a target was left at L4 in two runs of three on the Oxigraph server)
    pairs = [(high[i], low[i], "L6") for i in range(20)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, role, json.dumps(pairs)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for role in ("assess", "derive")
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err[-3000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert results[0]["done"] == 20 and results[0]["leases"] >= 1
    assert results[1]["done"] + results[1]["refused"] == 20 and results[1]["done"] >= 1
    with Service(settings) as svc:
        assert svc.store.count(Graphs.AUDIT) > audit_before
        landed = 0
        for source, target, _ in pairs:
            s, t = svc.ids.resolve_asset(source), svc.ids.resolve_asset(target)
            assert svc.level(source)["assessed"]["rank"] == 6
            if svc.store.ask(f"ASK {{ GRAPH <{Graphs.INVENTORY}> {{ <{t}> <{PROV.wasDerivedFrom}> <{s}> }} }}"):
                landed += 1  # derived from an L6 asset: never lower, whichever process wrote first
                assert svc.level(target)["effective"]["rank"] == 6, target
        assert landed == results[1]["done"]
        report = svc.propagate()  # from scratch: what the two processes left must already be it
        assert (report.added, report.removed) == (0, 0), report.changed[:5]
        assert _holders(svc.store) == []
