"""One owner for writes (issue #21): every use case that changes the store runs inside the
service's unit of work — one writer at a time, refused on a read-only replica before anything
is read or written — and no route or page takes a lock of its own."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kg.errors import ReadOnlyError
from kg.ontology import Ontology
from kg.service import Service
from kg.settings import Settings
from kg.store import Graphs

API = Path(__file__).resolve().parent.parent / "api"


@pytest.fixture(scope="module")
def demo(onto: Ontology) -> Iterator[Service]:
    with Service(Settings(store="memory:"), ontology=onto) as svc:
        svc.initialize(demo=True)
        yield svc


def _snapshot(svc: Service) -> dict[str, int]:
    return {str(g): svc.store.count(g) for g in svc.store.graphs()}


WRITES: dict[str, Callable[[Service], Any]] = {
    "assess": lambda s: s.assess("ct-01-dose-sr-2026-09", actor="t", justification="x", level="L4"),
    "review": lambda s: s.review(["ct-01-dose-sr-2026-09"], actor="t", justification="x"),
    "sparql_update": lambda s: s.sparql_update(
        "INSERT DATA { GRAPH <https://w3id.org/medgrade/graph/inventory> { <urn:x> <urn:y> <urn:z> } }"
    ),
    "propagate": lambda s: s.propagate(),
    "validate": lambda s: s.validate(),
    "set_institution": lambda s: s.set_institution(actor="t", name="另一家医院"),
    "record_transfer": lambda s: s.record_transfer("ct-01-dose-sr-2026-09", "intl-research", subjects=1, actor="t"),
    "load_demo": lambda s: s.load_demo(),
}


@pytest.mark.parametrize("name", sorted(WRITES))
def test_a_read_only_service_refuses_every_write_and_changes_nothing(demo: Service, name: str) -> None:
    replica = Service(Settings(store="memory:", read_only=True), store=demo.store, ontology=demo.ontology)
    before = _snapshot(demo)
    with pytest.raises(ReadOnlyError) as refused:
        WRITES[name](replica)
    assert "MEDGRADE_READ_ONLY" in refused.value.message_en and "只读" in refused.value.message_zh
    assert _snapshot(demo) == before
    assert replica.level("ct-01-dose-sr-2026-09")["asset"].endswith("ct-01-dose-sr-2026-09")  # reads still answer


def test_concurrent_writes_are_applied_one_at_a_time_each_with_its_answer(demo: Service) -> None:
    """Eight threads assess at once; the store sees one change at a time (the apply of one write
    is never interleaved with another's), and every caller gets its own answer and audit record."""
    store = demo.store
    original = store.apply
    inside, most, lock = 0, 0, threading.Lock()

    def slow_apply(changes: Any) -> None:
        nonlocal inside, most
        with lock:
            inside += 1
            most = max(most, inside)
        try:
            time.sleep(0.01)  # widen the window an unserialised writer would overlap in
            original(changes)
        finally:
            with lock:
                inside -= 1

    assets = ["ct-01-dose-sr-2026-09", "ct-01-protocols", "ct-03-dicom-net", "mr-02-protocols"]
    audit_before = store.count(Graphs.AUDIT)
    answers: dict[int, Any] = {}
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            answers[i] = demo.assess(assets[i % 4], actor=f"t{i}", justification=f"并发 {i}", level="L4")
        except BaseException as exc:
            errors.append(exc)

    store.apply = slow_apply  # type: ignore[method-assign]
    try:
        threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        store.apply = original  # type: ignore[method-assign]
    assert not errors, errors
    assert most == 1
    assert sorted(answers) == list(range(8))
    assert all(a["level"]["id"] == assets[i % 4] and a["record"] for i, a in answers.items())
    assert len({a["record"] for a in answers.values()}) == 8
    assert store.count(Graphs.AUDIT) > audit_before
    justifications = {
        str(o)
        for (o,) in store.rows("SELECT ?j WHERE { GRAPH ?g { ?r <https://w3id.org/medgrade/def#justification> ?j } }")
    }
    assert {f"并发 {i}" for i in range(8)} <= justifications


def test_no_route_or_page_takes_a_lock() -> None:
    """Routes call the service, which owns the writes (a lock in a route is the ritual #21 removed)."""
    for module in ("rest.py", "sparql.py", "openlineage.py", "web.py", "app.py"):
        text = (API / module).read_text(encoding="utf-8")
        assert "write_lock" not in text and "Lock(" not in text, module


def test_a_requests_as_of_changes_no_other_requests_clock(demo: Service) -> None:
    """``--as-of`` through a server (``Service.dated``) is this call's clock only: a request
    answered meanwhile on another thread keeps the service's own today."""
    import datetime as dt

    own = demo.today()
    inside, seen = threading.Event(), threading.Event()
    answers: dict[str, dt.date] = {}

    def dated() -> None:
        with demo.dated(dt.date(2031, 5, 1)):
            answers["dated"] = demo.today()
            inside.set()
            seen.wait(10)

    t = threading.Thread(target=dated)
    t.start()
    assert inside.wait(10)
    answers["other"] = demo.today()
    seen.set()
    t.join(10)
    assert answers == {"dated": dt.date(2031, 5, 1), "other": own}
    assert demo.overdue(as_of=dt.date(2031, 5, 1))["as_of"] == "2031-05-01" and demo.today() == own
