"""Incremental validation re-checks only what a change touches, with the verdict of a full run:
a hypothesis property test over random edits (levels, categories, derivations, cycles,
transfers, approvals, effective levels)."""

from __future__ import annotations

import shutil
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import Literal, URIRef

from kg import validation
from kg.namespaces import MG, PROV, RDF
from kg.ontology import Ontology, load_ontology
from kg.service import Service
from kg.settings import Settings
from kg.store import Changeset, Graphs, open_store

SMALL = Path(__file__).parent / "data" / "small"
ASSETS = ["ct-01-dose", "ct-01-tube", "vent-01-alarm", "dose-extract", "dose-deid", "dose-package"]
LEVELS = [MG.GeneralData1, MG.GeneralData2, MG.GeneralData3, MG.GeneralData4, MG.ImportantData, MG.CoreData]
CATEGORIES = [MG.AggregatedReports, MG.PatientDoseRecords, MG.PatientIdentifiers, MG.SensorTelemetry]

ONTO: Ontology = load_ontology()

edit = st.one_of(
    st.tuples(st.just("level"), st.sampled_from(ASSETS), st.sampled_from(LEVELS)),
    st.tuples(st.just("category"), st.sampled_from(ASSETS), st.sampled_from(CATEGORIES)),
    st.tuples(st.just("derive"), st.sampled_from(ASSETS), st.sampled_from(ASSETS)),
    st.tuples(st.just("underive"), st.sampled_from(ASSETS), st.sampled_from(ASSETS)),
    st.tuples(st.just("transfer"), st.sampled_from(ASSETS), st.just("nhic")),
    st.tuples(st.just("unapprove"), st.just("dose-deid"), st.just("")),
    st.tuples(st.just("effective"), st.sampled_from(ASSETS), st.sampled_from(LEVELS)),
    st.tuples(st.just("subjects"), st.sampled_from(ASSETS), st.sampled_from([10, 1_500_000])),
)


def fresh(tmp: Path) -> Service:
    svc = Service(Settings(store="memory:"), store=open_store("memory:"), ontology=ONTO)
    target = tmp / "small"
    if not target.exists():
        shutil.copytree(SMALL, target)
    svc.import_files(sorted(target.glob("*.csv")))
    svc.validate()
    return svc


def changeset(svc: Service, kind: str, subject: str, value: object) -> tuple[Changeset, set[URIRef]]:
    ids = svc.ids
    a = ids.asset(subject)
    if kind in ("level", "category", "subjects"):
        prop = {"level": MG.assessedLevel, "category": MG.hasCategory, "subjects": MG.subjectCount}[kind]
        obj = Literal(value) if kind == "subjects" else value
        update = (
            f"DELETE WHERE {{ GRAPH <{Graphs.INVENTORY}> {{ <{a}> <{prop}> ?o }} }} ;"
            f" INSERT DATA {{ GRAPH <{Graphs.INVENTORY}> {{ <{a}> <{prop}> {obj.n3()} }} }}"
        )  # type: ignore[union-attr]
        return _raw(update), {a}
    if kind == "derive":
        return Changeset(Graphs.INVENTORY, triples=[(a, PROV.wasDerivedFrom, ids.asset(str(value)))]), {a}
    if kind == "underive":
        return _raw(
            f"DELETE DATA {{ GRAPH <{Graphs.INVENTORY}> {{ <{a}> <{PROV.wasDerivedFrom}> <{ids.asset(str(value))}> }} }}"
        ), {a}
    if kind == "transfer":
        t = ids.transfer(subject, str(value))
        triples = [
            (t, RDF.type, MG.Transfer),
            (t, MG.transfersAsset, a),
            (t, MG.toDestination, ids.destination(str(value))),
        ]
        return Changeset(Graphs.INVENTORY, triples=triples), {a}
    if kind == "unapprove":
        return _raw(
            f"DELETE WHERE {{ GRAPH <{Graphs.INVENTORY}> {{ <{ids.activity(subject)}> <{MG.approval}> ?ap }} }}"
        ), {a}
    # effective: what propagation would write into the inferred graph
    update = (
        f"DELETE WHERE {{ GRAPH <{Graphs.INFERRED}> {{ <{a}> <{MG.effectiveLevel}> ?o }} }} ;"
        f" INSERT DATA {{ GRAPH <{Graphs.INFERRED}> {{ <{a}> <{MG.effectiveLevel}> <{value}> }} }}"
    )
    return _raw(update), {a}


class _Raw(Changeset):
    def __init__(self, request: str) -> None:
        super().__init__(Graphs.INVENTORY)
        self.request = request

    def update_request(self) -> str:
        return self.request


def _raw(request: str) -> Changeset:
    return _Raw(request)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(edit, min_size=1, max_size=4))
def test_incremental_equals_full(tmp_path: Path, edits: list[tuple[str, str, object]]) -> None:
    _incremental_equals_full(tmp_path, edits)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(edit, min_size=1, max_size=4))
def test_incremental_equals_full_with_candidate_queries(tmp_path: Path, edits: list[tuple[str, str, object]]) -> None:
    """The same with every SPARQL shape's focus found by its candidate query (as for a change
    that touches more than ``PER_NODE_LIMIT`` nodes), not by pyshacl node by node."""
    limit = validation.PER_NODE_LIMIT
    validation.PER_NODE_LIMIT = 0
    try:
        _incremental_equals_full(tmp_path, edits)
    finally:
        validation.PER_NODE_LIMIT = limit


def _incremental_equals_full(tmp_path: Path, edits: list[tuple[str, str, object]]) -> None:
    svc = fresh(tmp_path)
    incremental = None
    for kind, subject, value in edits:
        changes, changed = changeset(svc, kind, subject, value)
        # as the writers say it: only a derivation edit may add or remove a derivation cycle
        # (the others keep the cycle shapes' stored results, R10)
        incremental = svc.change(changes, changed, derivations=kind in ("derive", "underive"))
    assert incremental is not None and incremental.checked is not None
    kept = svc.validator().stored()  # the report as the incremental runs left it
    full = svc.validate()
    assert {r.key() for r in kept.results} == {r.key() for r in full.results}
    assert incremental.conforms == full.conforms


def test_an_incremental_run_checks_only_what_a_change_touches(tmp_path: Path) -> None:
    svc = fresh(tmp_path)
    changes, changed = changeset(svc, "level", "ct-01-tube", MG.GeneralData1)
    report = svc.change(changes, changed)
    assert report.checked is not None and report.checked < 12  # the tube log, its parts and its descendant
    assert any(r.rule == "R3" and r.focus_id == "ct-01-tube" for r in report.results)


def test_steward_writes_are_validated_after_the_levels_follow(onto) -> None:
    """An assessment or a derivation changes effective levels (here and downstream), which R11
    and R12 read: the stored report after each write is that of a full run."""
    svc = Service(Settings(store="memory:"), store=open_store("memory:"), ontology=onto)
    svc.initialize(demo=True)
    ids = [a["id"] for a in svc.assets(limit=60)["items"]]

    def results() -> list[tuple[str, str, str]]:
        return sorted((r.focus, r.rule, r.message_en) for r in svc.validator().stored().results)

    for k, asset in enumerate(ids[:6]):
        svc.assess(asset, actor="t", justification="t", level=f"L{2 + k % 4}")
        incremental = results()
        svc.validate()
        assert incremental == results(), asset
    svc.add_derivation(ids[0], ids[7], actor="t", justification="t")
    incremental = results()
    svc.validate()
    assert incremental == results()


def test_an_ill_formed_review_date_is_reported_by_full_and_incremental_runs(tmp_path: Path) -> None:
    """R15_Date's sh:datatype xsd:date: a value typed xsd:date but not a date ("2026-13-45")
    fails it. The generated candidate query must catch it (a cast that fails) — or leave the
    shape to pyshacl — never skip it: the asset would then look never reviewed, not judged."""
    svc = fresh(tmp_path)
    a = svc.ids.asset("dose-package")
    bad = Literal("2026-13-45", datatype=URIRef("http://www.w3.org/2001/XMLSchema#date"))
    update = (
        f"DELETE WHERE {{ GRAPH <{Graphs.INVENTORY}> {{ <{a}> <{MG.lastReviewed}> ?d }} }} ;"
        f" INSERT DATA {{ GRAPH <{Graphs.INVENTORY}> {{ <{a}> <{MG.lastReviewed}> {bad.n3()} }} }}"
    )
    incremental = svc.change(_raw(update), {a}, derivations=False)
    found = {(r.rule, r.focus_id, r.severity) for r in incremental.results}
    assert ("R15", "dose-package", "Violation") in found and not incremental.conforms
    full = svc.validate()
    assert ("R15", "dose-package", "Violation") in {(r.rule, r.focus_id, r.severity) for r in full.results}
