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


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"eventType": "COMPLETE"', "malformed JSON"),
        ('{"eventType": "COMPLETE", "run": {}, "job": {"namespace": "n", "name": "j"}}', "missing or empty 'runId'"),
        (
            '{"eventType": "COMPLETE", "run": {"runId": "r"}, "job": {"namespace": "n", "name": "j"}, "inputs": [{"name": "x"}]}',
            "missing or empty 'namespace'",
        ),
        (
            '{"eventType": "COMPLETE", "run": {"runId": "r", "facets": {"medgrade": {"transformation": "烘焙"}}}, '
            '"job": {"namespace": "n", "name": "j"}}',
            "unknown transformation type '烘焙'",
        ),
        ("[1, 2]", "an event is a JSON object"),
    ],
)
def test_bad_events_are_located_and_nothing_is_written(svc: Service, tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(
        json.dumps({"eventType": "START", "run": {"runId": "ok"}, "job": {"namespace": "n", "name": "j"}})
        + "\n"
        + text
        + "\n",
        encoding="utf-8",
    )
    before = inventory(svc)
    with pytest.raises(ImportProblem) as info:
        svc.import_files([path])
    assert any(message in str(p) and "bad.jsonl, line 2" in str(p) for p in info.value.problems), [
        str(p) for p in info.value.problems
    ]
    assert inventory(svc) == before


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
        event("r1", [("medgrade", source)], ("warehouse", "stage.copy"))
        + "\n"
        + event("r2", [("warehouse", "stage.copy")], ("warehouse", "mart.copy"))
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
