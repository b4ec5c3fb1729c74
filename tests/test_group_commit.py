"""Group commit (issue #21): writes that queue up while one is validated are validated together,
and the store ends as if they had been applied one by one, each caller with its own answer."""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyshacl.shapes_graph import ShapesGraph
from rdflib import URIRef

from kg.errors import ConflictError, ImportProblem, NotFoundError
from kg.group_commit import Batches, GroupCommit
from kg.namespaces import MG
from kg.ontology import Ontology, load_ontology
from kg.service import Service
from kg.settings import Settings
from kg.store import Graphs, open_store
from kg.validation import Report, Result
from tests.events import run_event

SMALL = Path(__file__).parent / "data" / "small"
ASSETS = ["ct-01-dose", "ct-01-tube", "vent-01-alarm", "dose-extract", "dose-deid", "dose-package"]
ONTO: Ontology = load_ontology()
GROUPS: list[tuple[int, int]] = []  # (validations, writes) per example of the property test


def _result(focus: str) -> Result:
    return Result("R1", "Violation", focus, focus, None, None, "", "", "urn:shape")


def test_writes_queued_behind_a_validation_share_the_next_one() -> None:
    groups = GroupCommit()
    runs: list[set[URIRef]] = []
    first_validating, release = threading.Event(), threading.Event()

    def validate(focus: set[URIRef], derivations: bool) -> Report:
        runs.append(set(focus))
        if len(runs) == 1:  # hold the first validation until the others are queued behind it
            first_validating.set()
            assert release.wait(10)
        return Report([_result(str(n)) for n in focus], whole_conforms=False)

    answers: dict[str, Report] = {}

    def write(name: str) -> None:
        with groups.writer():
            answers[name] = groups.commit({URIRef(f"urn:{name}")}, False, "today", validate)

    first = threading.Thread(target=write, args=("a",))
    first.start()
    assert first_validating.wait(10)
    others = [threading.Thread(target=write, args=(n,)) for n in "bcd"]
    for t in others:
        t.start()
    deadline = time.monotonic() + 10
    while groups._arrived < 3 and time.monotonic() < deadline:  # all three wait for the lock
        time.sleep(0.01)
    release.set()
    for t in [first, *others]:
        t.join(10)
    assert runs == [{URIRef("urn:a")}, {URIRef(f"urn:{n}") for n in "bcd"}]
    assert (groups.groups, groups.grouped) == (2, 4)
    for name in "abcd":  # each caller sees its own results only, and the whole report's verdict
        assert [r.focus for r in answers[name].results] == [f"urn:{name}"]
        assert answers[name].checked == 1 and answers[name].conforms is False


def test_a_writer_that_gives_up_before_applying_does_not_hold_up_the_group() -> None:
    groups = GroupCommit()
    inside = threading.Event()
    done: list[str] = []

    def refused() -> None:
        with pytest.raises(LookupError), groups.writer():
            inside.set()
            time.sleep(0.2)  # the other writer is queued by now
            raise LookupError("unknown asset")

    def applied() -> None:
        with groups.writer():
            groups.commit({URIRef("urn:x")}, False, "today", lambda f, d: Report([], whole_conforms=True))
            done.append("x")

    t1 = threading.Thread(target=refused)
    t1.start()
    assert inside.wait(10)
    t2 = threading.Thread(target=applied)
    t2.start()
    t1.join(10)
    t2.join(10)
    assert done == ["x"] and groups._arrived == 0 and groups.groups == 1


def test_a_failed_validation_reaches_every_member_of_its_group() -> None:
    groups = GroupCommit()

    def broken(focus: set[URIRef], derivations: bool) -> Report:
        raise RuntimeError("store went away")

    with groups.writer(), pytest.raises(RuntimeError, match="store went away"):
        groups.commit({URIRef("urn:x")}, False, "today", broken)
    with groups.writer():  # the next group starts afresh
        assert groups.commit({URIRef("urn:y")}, False, "today", lambda f, d: Report([], whole_conforms=True)).conforms


# --- the service: concurrent steward writes equal the same writes one by one ---------------------

op = st.one_of(
    st.tuples(
        st.just("assess"), st.sampled_from([*ASSETS, "no-such-asset"]), st.sampled_from(["L1", "L2", "L3", "L4"])
    ),
    st.tuples(
        st.just("category"), st.sampled_from(ASSETS), st.sampled_from(["汇总报表", "患者剂量记录", "传感器遥测"])
    ),
    st.tuples(st.just("derive"), st.sampled_from(ASSETS), st.sampled_from(ASSETS)),
    st.tuples(st.just("review"), st.sampled_from(ASSETS), st.just("")),
)


def _fresh(tmp: Path, name: str) -> Service:
    svc = Service(Settings(store="memory:"), store=open_store("memory:"), ontology=ONTO)
    target = tmp / name
    if not target.exists():
        shutil.copytree(SMALL, target)
    svc.import_files(sorted(target.glob("*.csv")))
    svc.validate()
    return svc


def _call(svc: Service, kind: str, subject: str, value: str) -> dict[str, Any]:
    common = {"actor": "steward", "justification": "group commit test"}
    if kind == "assess":
        return svc.assess(subject, level=value, **common)
    if kind == "category":
        return svc.assess(subject, category=value, **common)
    if kind == "derive":
        return svc.add_derivation(subject, value, **common)
    return svc.review([subject], **common)


def _outcome(svc: Service, kind: str, subject: str, value: str) -> tuple[str, Any]:
    try:
        answer = _call(svc, kind, subject, value)
    except (NotFoundError, ConflictError) as exc:
        return type(exc).__name__, None
    level = answer.get("level") or {}
    return "ok", (level.get("effective"), level.get("assessed"))


def _state(svc: Service) -> tuple[set[Any], set[Any], set[Any]]:
    inventory = set(svc.store.triples(Graphs.INVENTORY))
    inferred = set(svc.store.triples(Graphs.INFERRED))
    stored = {r.key() for r in svc.validator().stored().results}
    return inventory, inferred, stored


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(op, min_size=2, max_size=6))
def test_concurrent_writes_equal_the_same_writes_one_by_one(tmp_path: Path, ops: list[tuple[str, str, str]]) -> None:
    svc = _fresh(tmp_path, "small")
    validated, groups = svc._commit.grouped, svc._commit.groups  # the import's own validation
    order: list[int] = []
    applied = svc._write_inventory

    def recording(changes: Any) -> None:  # the order the writer lock let them in
        order.append(int(threading.current_thread().name.split("-")[-1]))
        applied(changes)

    svc._write_inventory = recording  # type: ignore[method-assign]
    outcomes: dict[int, tuple[str, Any]] = {}
    start = threading.Barrier(len(ops))

    def worker(i: int) -> None:
        start.wait(10)
        outcomes[i] = _outcome(svc, *ops[i])

    threads = [threading.Thread(target=worker, args=(i,), name=f"writer-{i}") for i in range(len(ops))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(outcomes) == len(ops)
    assert svc._commit.grouped - validated == len(order)  # every applied write was validated, once
    GROUPS.append((svc._commit.groups - groups, len(order)))
    concurrent = _state(svc)
    stored = svc.validator().stored()
    full = svc.validate()  # what a full run makes of the final state
    assert {r.key() for r in stored.results} == {r.key() for r in full.results}
    validator = svc.validator()  # the runs' edits of the working copy of the shapes were undone
    system = set(ShapesGraph.system_triples)  # what pyshacl adds to any shapes graph it is given
    assert set(validator._work) - system == set(validator.shapes) - system

    # the same writes one by one, in the order they were applied (refused ones anywhere)
    one_by_one = _fresh(tmp_path, "small")
    refused = [i for i in range(len(ops)) if i not in order]
    for i in [*order, *refused]:
        assert _outcome(one_by_one, *ops[i]) == outcomes[i], ops[i]
    assert _state(one_by_one) == concurrent
    svc.close()
    one_by_one.close()


def test_the_property_test_saw_writes_share_a_validation() -> None:
    """Runs after the property test (file order): some of its examples grouped writes."""
    if not GROUPS:
        pytest.skip("the property test did not run")
    assert any(groups < writes for groups, writes in GROUPS), GROUPS


# --- imports are re-validated incrementally ------------------------------------------------------

OPENLINEAGE = Path(__file__).parent / "data" / "openlineage" / "dose_registry.jsonl"


def test_an_openlineage_import_leaves_the_stored_report_as_a_full_run_would(tmp_path: Path) -> None:
    """The dose registry's run events (Spark integration's shape) add a product of the CT dose
    report; the stored report takes in its results without `medgrade validate`."""
    svc = _fresh(tmp_path, "small")
    before = {r.key() for r in svc.validator().stored().results}
    report = svc.import_files([OPENLINEAGE])
    assert report.wrote
    stored = {r.key() for r in svc.validator().stored().results}
    assert stored != before  # the new products' results are in
    assert stored == {r.key() for r in svc.validate().results}
    svc.close()


def test_a_spreadsheet_import_is_revalidated_and_a_large_one_left_to_a_full_run(tmp_path: Path) -> None:
    svc = _fresh(tmp_path, "small")
    header = (SMALL / "assets.csv").read_text(encoding="utf-8").splitlines()[0]
    sheet = tmp_path / "more.csv"  # raw patient dose records assessed below their category's floor
    sheet.write_text(
        header
        + "\nct-01-dose-2,1号CT 剂量报告（二）,患者剂量记录,一般数据1级,ct-01,,姓名;CTDIvol,,,是,50,影像科,,,,,\n",
        encoding="utf-8",
    )
    svc.import_files([sheet])
    stored = svc.validator().stored()
    new = str(svc.ids.asset("ct-01-dose-2"))
    assert any(r.focus == new and r.severity == "Violation" for r in stored.results)
    assert {r.key() for r in stored.results} == {r.key() for r in svc.validate().results}

    import kg.service as service_module

    limit = service_module.INCREMENTAL_IMPORT_LIMIT
    service_module.INCREMENTAL_IMPORT_LIMIT = 0  # every import counts as large now
    try:
        sheet.write_text(
            header + "\nct-01-dose-3,1号CT 剂量报告（三）,患者剂量记录,一般数据1级,ct-01,,,,,是,50,影像科,,,,,\n",
            encoding="utf-8",
        )
        svc.import_files([sheet])
    finally:
        service_module.INCREMENTAL_IMPORT_LIMIT = limit
    third = str(svc.ids.asset("ct-01-dose-3"))
    assert not any(r.focus == third for r in svc.validator().stored().results)  # left to `medgrade validate`
    assert any(r.focus == third for r in svc.validate().results)
    svc.close()


# --- OpenLineage events applied in groups: one transaction, one propagation, one validation ------


def test_items_queued_behind_a_batch_are_applied_together_each_with_its_own_answer() -> None:
    calls: list[list[str]] = []
    first_applying, release = threading.Event(), threading.Event()

    def apply(items: list[str]) -> list[str | BaseException]:
        calls.append(list(items))
        if len(calls) == 1:  # hold the first batch until the others are queued behind it
            first_applying.set()
            assert release.wait(10)
        if "boom" in items:
            raise RuntimeError("store went away")
        return [LookupError(f"unknown {i}") if i.startswith("bad") else i.upper() for i in items]

    batches: Batches[str, str] = Batches(apply)
    answers: dict[str, Any] = {}

    def submit(item: str) -> None:
        try:
            answers[item] = batches.submit(item)
        except Exception as exc:
            answers[item] = exc

    first = threading.Thread(target=submit, args=("a",))
    first.start()
    assert first_applying.wait(10)
    others = [threading.Thread(target=submit, args=(i,)) for i in ("b", "bad-c", "d")]
    for t in others:
        t.start()
    deadline = time.monotonic() + 10
    while len(batches._queue) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    release.set()
    for t in [first, *others]:
        t.join(10)
    assert calls[0] == ["a"] and sorted(calls[1]) == ["b", "bad-c", "d"] and len(calls) == 2
    assert (answers["a"], answers["b"], answers["d"]) == ("A", "B", "D")
    assert isinstance(answers["bad-c"], LookupError)  # its part refused, the others stand
    with pytest.raises(RuntimeError, match="store went away"):  # a failed batch: every member hears
        batches.submit("boom")
    assert batches.submit("e") == "E" and (batches.batches, batches.items) == (4, 6)


OUTPUTS = ["reg-1", "reg-2", "reg-3"]
event = st.fixed_dictionaries(
    {
        "inputs": st.lists(st.sampled_from([*ASSETS[:3], *OUTPUTS]), min_size=1, max_size=2, unique=True),
        "outputs": st.lists(st.sampled_from(OUTPUTS), min_size=0, max_size=2, unique=True),
        "job": st.sampled_from(["dose.daily", "alarms.hourly"]),
    }
)
INTAKES: list[tuple[int, int]] = []  # (batches, events) per example of the property test


def _event_text(e: dict[str, Any], k: int) -> str:
    body = run_event(
        f"01932f5e-7d1a-7c3e-9b1e-5a0c2e6f{k:04x}",
        ("hospital-etl", e["job"]),
        [("medgrade", n) for n in e["inputs"]],
        [("registry", n) for n in e["outputs"]],
    )
    if k % 5 == 4:  # now and then a client sends an event that breaks the schema
        del body["run"]["runId"]
    return json.dumps(body)


def _intake_state(svc: Service) -> tuple[set[Any], set[Any], set[Any], list[str]]:
    rows = svc.store.rows(f"SELECT ?a WHERE {{ GRAPH <{Graphs.AUDIT}> {{ ?r <{MG.actor}> ?a }} }}")
    return (*_state(svc), sorted(str(a) for (a,) in rows if str(a).startswith("client-")))


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=st.lists(event, min_size=2, max_size=7))
def test_concurrent_openlineage_events_equal_the_same_events_one_by_one(
    tmp_path: Path, events: list[dict[str, Any]]
) -> None:
    svc = _fresh(tmp_path, "small")
    texts = [_event_text(e, k) for k, e in enumerate(events)]
    order: list[int] = []
    applied = svc._import_group

    def recording(group: Any, *args: Any) -> Any:  # the order the events were applied in
        order.extend(int(str(g.actor).split("-")[1]) for g in group)
        return applied(group, *args)

    svc._import_group = recording  # type: ignore[method-assign]
    answers: dict[int, Any] = {}
    start = threading.Barrier(len(texts))

    def client(k: int) -> None:
        start.wait(10)
        try:
            report = svc.receive_events(texts[k], "event.json", actor=f"client-{k}")
            answers[k] = ("ok", report.added, report.changed, report.unchanged, report.record is not None)
        except ImportProblem as exc:
            answers[k] = ("refused", [p.code for p in exc.problems])

    threads = [threading.Thread(target=client, args=(k,)) for k in range(len(texts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(answers) == len(texts)
    INTAKES.append((svc._intake.batches, svc._intake.items))
    assert all(answers[k][0] == "refused" for k in range(len(texts)) if k % 5 == 4)
    assert sorted(order) == [k for k in range(len(texts)) if k % 5 != 4]
    concurrent = _intake_state(svc)
    assert concurrent[2] == {r.key() for r in svc.validate().results}  # the stored report is a full run's

    one_by_one = _fresh(tmp_path, "small")  # the same events one by one, in the order applied
    for k in [*order, *(k for k in range(len(texts)) if k % 5 == 4)]:
        try:
            report = one_by_one.receive_events(texts[k], "event.json", actor=f"client-{k}")
            alone: Any = ("ok", report.added, report.changed, report.unchanged, report.record is not None)
        except ImportProblem as exc:
            alone = ("refused", [p.code for p in exc.problems])
        assert alone == answers[k], texts[k]
    assert _intake_state(one_by_one) == concurrent  # one audit record per caller that wrote, too
    svc.close()
    one_by_one.close()


def test_the_intake_property_test_saw_events_applied_together() -> None:
    """Runs after the property test (file order): some of its examples applied several events at once."""
    if not INTAKES:
        pytest.skip("the property test did not run")
    assert any(batches < items for batches, items in INTAKES), INTAKES
