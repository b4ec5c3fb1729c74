"""OpenLineage events: runs are PROV activities, outputs derive from inputs, column lineage with
masking is a candidate reduction that lowers nothing until approved, and retries change nothing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import RDF

from kg.errors import ImportProblem
from kg.importers.openlineage import dataset_id
from kg.namespaces import MG, PROV
from kg.ontology import Ontology
from kg.service import Service
from kg.settings import Settings
from kg.store import Changeset, Graphs, open_store

DATA = Path(__file__).parent / "data"
EVENTS = DATA / "openlineage" / "dose_registry.jsonl"
RUN = "01932f5e-7d1a-7c3e-9b1e-5a0c2e6f4a10"


@pytest.fixture
def svc(onto: Ontology, tmp_path: Path) -> Service:
    s = Service(Settings(store="memory:"), store=open_store("memory:"), ontology=onto)
    shutil.copytree(DATA / "small", tmp_path / "small")
    s.import_files(sorted((tmp_path / "small").glob("*.csv")))
    return s


def inventory(svc: Service) -> set[tuple[object, object, object]]:
    return set(svc.store.triples(Graphs.INVENTORY))


def test_a_run_becomes_prov_lineage(svc: Service) -> None:
    report = svc.import_files([EVENTS])
    assert report.wrote
    ids = svc.ids
    run = URIRef(ids.base + "run/" + RUN)
    source = ids.asset("ct-01-dose")  # namespace "medgrade": the inventory's own asset
    out_id = dataset_id("postgres://dw.hospital:5432", "registry.ct_dose_daily", "medgrade")
    out = ids.asset(out_id)
    g = inventory(svc)
    assert (run, MG.transformationType, MG.Deidentification) in g
    assert (run, PROV.used, source) in g and (out, PROV.wasGeneratedBy, run) in g
    assert (out, PROV.wasDerivedFrom, source) in g
    assert (out, MG.openLineageName, Literal("registry.ct_dose_daily")) in g
    key, hospital_no = ids.element(out_id, "patient_key"), ids.element("ct-01-dose", "住院号")
    assert (key, PROV.wasDerivedFrom, hospital_no) in g
    masked = [o for s, p, o in g if s == key and p == PROV.qualifiedDerivation]
    assert len(masked) == 1 and (masked[0], MG.masking, Literal(True)) in g
    # the inventory's own description of the source asset is kept
    assert (source, MG.assessedLevel, MG.GeneralData4) in g


def test_the_same_events_again_change_nothing(svc: Service) -> None:
    svc.import_files([EVENTS])
    before, audit = inventory(svc), svc.store.count(Graphs.AUDIT)
    again = svc.import_files([EVENTS])
    assert not again.wrote and inventory(svc) == before and svc.store.count(Graphs.AUDIT) == audit


def test_masking_lowers_nothing_until_approved(svc: Service) -> None:
    svc.import_files([EVENTS])
    ids = svc.ids
    out_id = dataset_id("postgres://dw.hospital:5432", "registry.ct_dose_daily", "medgrade")
    key = ids.element(out_id, "patient_key")
    assert svc.level(out_id)["effective"]["label_zh"] == "一般数据4级"
    masked = next(o for s, p, o in inventory(svc) if s == key and p == PROV.qualifiedDerivation)
    approval = URIRef(f"{masked}/approval")
    svc.store.apply(
        Changeset(Graphs.INVENTORY, triples=[(masked, MG.approval, approval), (approval, RDF.type, MG.Approval)])
    )
    svc.propagate()
    inferred = {(str(s), str(p)): str(o) for s, p, o in svc.store.triples(Graphs.INFERRED)}
    assert inferred[(str(key), str(MG.effectiveLevel))] == str(MG.GeneralData3)  # the masked column: capped
    # the unmasked DLP column still carries the source's General-4, so the dataset stays General-4 (R5)
    assert svc.level(out_id)["effective"]["label_zh"] == "一般数据4级"


ENVELOPE = {
    "eventTime": "2026-11-27T08:00:00Z",
    "producer": "https://github.com/medgrade/tests",
    "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
}
OK_RUN = "0193a1c2-0000-7000-8000-000000000001"


def run_event(**fields: object) -> str:
    """A spec-valid COMPLETE run event of job n:j, with ``fields`` replacing its own."""
    event: dict[str, object] = {
        "eventType": "COMPLETE",
        **ENVELOPE,
        "run": {"runId": OK_RUN},
        "job": {"namespace": "n", "name": "j"},
    }
    event.update(fields)
    return json.dumps(event, ensure_ascii=False)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"eventType": "COMPLETE"', "malformed JSON"),
        (run_event(run={}), "$.run.runId: required property 'runId'"),
        (run_event(inputs=[{"name": "x"}]), "$.inputs[0].namespace: required property 'namespace'"),
        (run_event(inputs=[{"namespace": "", "name": "x"}]), "missing or empty 'namespace'"),
        (
            run_event(run={"runId": OK_RUN, "facets": {"medgrade": {"transformation": "烘焙"}}}),
            "unknown transformation type '烘焙'",
        ),
        ("[1, 2]", "$: type 'object'"),
        (run_event(eventTime="yesterday"), "$.eventTime: format 'date-time'"),
        (run_event(eventTime="2026-11-27T08:00:00"), "$.eventTime: format 'date-time'"),  # no offset
        (run_event(eventTime="2026-11-27T08:00:00+15:00"), "not a representable xsd:dateTime"),  # XSD: ±14:00
        (run_event(run={"runId": "r"}), "$.run.runId: format 'uuid'"),
        (run_event(producer="not a uri"), "$.producer: format 'uri'"),
        (run_event(schemaURL="::not a uri"), "$.schemaURL: format 'uri'"),
        (run_event(eventType="FINISHED"), "$.eventType: one of START, RUNNING, COMPLETE, ABORT, FAIL, OTHER"),
    ],
)
def test_bad_events_are_located_and_nothing_is_written(svc: Service, tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(run_event(eventType="START") + "\n" + text + "\n", encoding="utf-8")
    before = inventory(svc)
    with pytest.raises(ImportProblem) as info:
        svc.import_files([path])
    assert any(message in str(p) and "bad.jsonl, line 2" in str(p) for p in info.value.problems), [
        str(p) for p in info.value.problems
    ]
    assert inventory(svc) == before


@pytest.mark.parametrize("missing", ["producer", "schemaURL", "eventTime"])
def test_an_event_without_an_envelope_field_is_refused(svc: Service, tmp_path: Path, missing: str) -> None:
    event = json.loads(run_event())
    del event[missing]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(event), encoding="utf-8")
    with pytest.raises(ImportProblem) as info:
        svc.import_files([path])
    (problem,) = info.value.problems
    assert problem.subject == f"$.{missing}" and problem.code == "openlineage-schema"
    assert f"required property '{missing}'" in problem.message_en and f"缺少必需属性“{missing}”" in problem.message_zh
    assert problem.where == "bad.json, event 1"


def test_every_path_and_rule_of_an_event_is_named(svc: Service, tmp_path: Path) -> None:
    event = json.loads(run_event(eventTime="yesterday", run={"runId": "r"}))
    del event["producer"]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(event), encoding="utf-8")
    with pytest.raises(ImportProblem) as info:
        svc.import_files([path])
    named = {(p.subject, p.message_en.split(": ", 2)[-1].split(" (")[0]) for p in info.value.problems}
    assert named == {
        ("$.eventTime", "format 'date-time'"),
        ("$.producer", "required property 'producer'"),
        ("$.run.runId", "format 'uuid'"),
    }
    assert all("不符合 OpenLineage 2-0-2 规范" in p.message_zh for p in info.value.problems)


def test_the_format_checker_is_what_refuses_bad_formats() -> None:
    """Plain ``jsonschema.validate`` (no format checker) accepts these events: the refusal comes
    from the format checker and its extras (rfc3339-validator, rfc3986-validator)."""
    import jsonschema

    from kg.importers.schemas import SCHEMA_FILE, violations

    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    bad = {
        "$.eventTime": run_event(eventTime="yesterday"),
        "$.run.runId": run_event(run={"runId": "r"}),
        "$.producer": run_event(producer="not a uri"),
        "$.schemaURL": run_event(schemaURL="::not a uri"),
    }
    for path, text in bad.items():
        event = json.loads(text)
        jsonschema.validate(event, schema)  # no format checker: accepted
        assert [v.path for v in violations(event)] == [path]
    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    assert {"date-time", "uri", "uuid"} <= set(checker.checkers)  # the extras are installed


def test_facets_are_lenient(svc: Service, tmp_path: Path) -> None:
    """What is inside a facet is not checked: a facet without _producer/_schemaURL, an unknown
    facet, a malformed schema facet and a column-lineage input field without a name are kept or
    skipped (with a warning), and the event's lineage is written."""
    from kg.importers.schemas import validator

    output = {
        "namespace": "warehouse",
        "name": "lenient.out",
        "facets": {
            "schema": {"fields": "not a list"},
            "somethingNew": 42,
            "columnLineage": {"fields": {"a": {"inputFields": [{"namespace": "medgrade", "field": "x"}]}}},
        },
        "outputFacets": {"outputStatistics": {"rowCount": "many"}},
    }
    text = run_event(inputs=[{"namespace": "warehouse", "name": "lenient.in"}], outputs=[output])
    strict = list(validator("RunEvent", lenient_facets=False).iter_errors(json.loads(text)))
    assert strict  # the spec's own facet definitions would refuse it
    path = tmp_path / "lenient.json"
    path.write_text(text, encoding="utf-8")
    report = svc.import_files([path])
    out, source = (svc.ids.asset(dataset_id("warehouse", n, "medgrade")) for n in ("lenient.out", "lenient.in"))
    assert (out, PROV.wasDerivedFrom, source) in inventory(svc)
    assert "openlineage-facet-ignored" in [w.code for w in report.warnings]


def test_event_times_are_well_typed_xsd_date_times(svc: Service, tmp_path: Path) -> None:
    """RFC 3339 allows a lower-case t and z; XSD does not: the stored literal is upper-cased."""
    path = tmp_path / "t.json"
    path.write_text(run_event(eventTime="2026-11-27t08:00:00.123456789z"), encoding="utf-8")
    svc.import_files([path])
    run = URIRef(svc.ids.base + "run/" + OK_RUN)
    (when,) = [o for s, p, o in inventory(svc) if s == run and p == PROV.endedAtTime]
    assert isinstance(when, Literal) and not when.ill_typed and str(when).startswith("2026-11-27T08:00:00.123")


def test_dataset_ids() -> None:
    assert dataset_id("medgrade", "ct-01-dose", "medgrade") == "ct-01-dose"
    assert dataset_id("medgrade", "not an id", "medgrade").startswith("ol-")
    assert dataset_id("kafka://x", "ct-01-dose", "medgrade") == dataset_id("kafka://x", "ct-01-dose", "medgrade")
    assert dataset_id("kafka://x", "a", "medgrade") != dataset_id("kafka://y", "a", "medgrade")


def test_run_events_without_columns_propagate_incrementally(svc: Service, tmp_path: Path) -> None:
    """A plain run event only adds derivations: it is propagated incrementally, with the result
    of a full run, and a later event of another run builds on it."""
    source = svc.ids.local_id(
        str(
            svc.store.rows(
                f"SELECT ?a WHERE {{ GRAPH <{Graphs.INVENTORY}> {{ ?a <{MG}assessedLevel> ?l }} }} ORDER BY ?a LIMIT 1"
            )[0][0]
        )
    )
    assert source is not None
    events = tmp_path / "run.jsonl"

    def event(run: str, inputs: list[tuple[str, str]], output: tuple[str, str]) -> str:
        return json.dumps(
            {
                "eventType": "COMPLETE",
                "eventTime": "2026-11-27T08:00:00Z",
                "run": {"runId": run},
                "job": {"namespace": "warehouse", "name": "copy"},
                "inputs": [{"namespace": ns, "name": n} for ns, n in inputs],
                "outputs": [{"namespace": output[0], "name": output[1]}],
                "producer": "https://example.org/tests",
                "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
            }
        )

    events.write_text(
        event("0193a1c2-0000-7000-8000-0000000000e1", [("medgrade", source)], ("warehouse", "stage.copy"))
        + "\n"
        + event("0193a1c2-0000-7000-8000-0000000000e2", [("warehouse", "stage.copy")], ("warehouse", "mart.copy"))
        + "\n",
        encoding="utf-8",
    )
    report = svc.import_files([events])
    assert svc._lineage is not None  # kept: the events were propagated incrementally
    assert report.propagation.changed  # the new datasets got levels
    mart = svc.level(dataset_id("warehouse", "mart.copy", "medgrade"))
    assert mart["effective"] == svc.level(source)["effective"]
    assert mart["witness"][0]["source"].rsplit("/", 1)[-1] == source
    full = svc.propagate()
    assert (full.added, full.removed) == (0, 0)


def test_medgrade_import_refuses_a_non_conforming_event_with_exit_2(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    path = tmp_path / "events.jsonl"
    path.write_text(run_event() + "\n" + run_event(run={"runId": "placeholder"}) + "\n", encoding="utf-8")
    env = {**os.environ, "MEDGRADE_STORE": f"oxigraph:{tmp_path / 'store'}", "COLUMNS": "220"}
    proc = subprocess.run(
        [sys.executable, "-m", "kg", "import", str(path)], capture_output=True, text=True, timeout=300, env=env
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    out = proc.stdout + proc.stderr
    assert (
        "events.jsonl, line 2" in out and "$.run.runId" in out and "format 'uuid'" in out and "不符合格式“uuid”" in out
    )
    check = Service(Settings(store=f"oxigraph:{tmp_path / 'store'}"))
    try:
        assert check.store.count(Graphs.INVENTORY) == 0
    finally:
        check.close()


def test_our_own_events_conform_even_with_strict_facets() -> None:
    """The events we write ourselves (data files and tests) satisfy the spec whole, facets included;
    the Spark files are the integration's templates with the envelope completed (see their README)."""
    from kg.importers.schemas import event_kind, validator, violations
    from tests.test_never_too_low import copy, event

    ours = [json.loads(line) for line in EVENTS.read_text(encoding="utf-8").splitlines() if line.strip()]
    ours += [event(OK_RUN, "j", True, 1), copy(OK_RUN, "a", "b"), json.loads(run_event())]
    for e in ours:
        assert [x.message for x in validator(event_kind(e), lenient_facets=False).iter_errors(e)] == []
    for path in sorted((DATA / "openlineage" / "spark").glob("*.json")):
        assert violations(json.loads(path.read_text(encoding="utf-8"))) == [], path.name
