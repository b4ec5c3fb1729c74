"""The Marquez-shaped reads (api/marquez.py) against Marquez's own OpenAPI (tests/data/marquez):
every answer validated with an OpenAPI 3.0 validator (discriminator included), and its content
checked on the demo hospital plus real OpenLineage events."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from kg.marquez import NodeId
from tests.helpers import demo_client

DATA = Path(__file__).parent / "data"
SPEC_URI = "urn:marquez:openapi"
DOSE = "dataset:postgres://dw.hospital:5432:registry.ct_dose_daily"
DOSE_JOB = "job:hospital-etl:dose_registry.daily"
MONTHLY_JOB = "job:hospital-etl:dose:monthly"  # a job name with a ':'
FACET = {"_producer": "https://github.com/medgrade/tests", "_schemaURL": "https://openlineage.io/spec/facets/1-0-1/"}


@pytest.fixture(scope="module")
def validator() -> OAS30Validator:
    spec = yaml.safe_load((DATA / "marquez" / "openapi.yml").read_text(encoding="utf-8"))
    registry: Registry = Registry().with_resource(SPEC_URI, Resource.from_contents(spec, default_specification=DRAFT4))
    schema = {"$ref": f"{SPEC_URI}#/components/schemas/LineageGraph"}
    return OAS30Validator(schema, registry=registry, format_checker=oas30_format_checker)


def _monthly_event() -> dict[str, Any]:
    """A spec-valid run event: registry.ct_dose_daily.patient_key -> mart.dose_monthly.patient_key."""
    field = {"namespace": "postgres://dw.hospital:5432", "name": "registry.ct_dose_daily", "field": "patient_key"}
    return {
        "eventType": "COMPLETE",
        "eventTime": "2026-12-01T03:00:00.000Z",
        "producer": "https://github.com/medgrade/tests",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": "01937a1e-2b3c-7d4e-8f50-61728394a5b6"},
        "job": {"namespace": "hospital-etl", "name": "dose:monthly"},
        "inputs": [{"namespace": "postgres://dw.hospital:5432", "name": "registry.ct_dose_daily"}],
        "outputs": [
            {
                "namespace": "postgres://dw.hospital:5432",
                "name": "mart.dose_monthly",
                "facets": {
                    "schema": {**FACET, "fields": [{"name": "patient_key", "type": "string"}]},
                    "columnLineage": {
                        **FACET,
                        "fields": {
                            "patient_key": {
                                "inputFields": [
                                    {**field, "transformations": [{"type": "DIRECT", "subtype": "IDENTITY"}]}
                                ]
                            }
                        },
                    },
                },
            }
        ],
    }


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with demo_client(tmp_path_factory.mktemp("marquez"), ["reader", "steward"], prefix="mq") as c:
        events = [
            DATA / "openlineage" / "dose_registry.jsonl",
            *sorted((DATA / "openlineage" / "spark").glob("*.json")),
        ]
        c.service.import_files(events)
        r = c.post("/api/v1/lineage", json=_monthly_event(), headers={"Authorization": f"Bearer {c.tokens['steward']}"})
        assert r.status_code == 201, r.text
        yield c


def _get(client: Any, path: str, validator: OAS30Validator, **params: Any) -> dict[str, dict[str, Any]]:
    r = client.get(path, params=params)
    assert r.status_code == 200, (params, r.text[:500])
    validator.validate(r.json())
    return {n["id"]: n for n in r.json()["graph"]}


def _edges(node: dict[str, Any], side: str) -> set[tuple[str, str]]:
    return {(e["origin"], e["destination"]) for e in node[side]}


# --- node ids --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("dataset:food_delivery:public.delivery_7_days", ("dataset", "food_delivery", "public.delivery_7_days", "")),
        (DOSE, ("dataset", "postgres://dw.hospital:5432", "registry.ct_dose_daily", "")),
        ("dataset:ns:a:b", ("dataset", "ns", "a:b", "")),  # the rest is the name
        (MONTHLY_JOB, ("job", "hospital-etl", "dose:monthly", "")),
        ("datasetField:file:/tmp/delta/events:event_id", ("datasetField", "file", "/tmp/delta/events", "event_id")),
        (
            f"{DOSE.replace('dataset', 'datasetField', 1)}:dlp",
            ("datasetField", "postgres://dw.hospital:5432", "registry.ct_dose_daily", "dlp"),
        ),
    ],
)
def test_node_ids_split_as_marquez_splits_them(value: str, expected: tuple[str, ...]) -> None:
    node = NodeId.parse(value, ("dataset", "job", "datasetField"))
    assert (node.kind, node.namespace, node.name, node.field) == expected
    assert str(node) == value


@pytest.mark.parametrize(
    "value",
    [
        "job:x",
        "dataset:",
        "dataset:ns:",
        "dataset::name",
        "run:0191d3b4-1f7e-7b1a-9c1d-2b9a0f3e4d5c",
        "ds:a:b",
        "dataset:ns:name#0191d3b4-1f7e-7b1a-9c1d-2b9a0f3e4d5c",
        "datasetField:ns:name",
        "dataset",
    ],
)
def test_malformed_node_ids_are_refused(value: str) -> None:
    from kg.errors import InputError

    with pytest.raises(InputError, match="dataset:NAMESPACE:NAME"):
        NodeId.parse(value, ("dataset", "job", "datasetField"))


# --- the validator is not vacuous ------------------------------------------------------------------
def test_the_validator_refuses_what_marquez_spec_forbids(client: Any, validator: OAS30Validator) -> None:
    good = client.get("/api/v1/lineage", params={"nodeId": DOSE, "depth": 1}).json()
    validator.validate(good)
    dataset = next(i for i, n in enumerate(good["graph"]) if n["type"] == "DATASET")
    job = next(i for i, n in enumerate(good["graph"]) if n["type"] == "JOB")
    breakages = [
        lambda g: g["graph"][dataset]["data"].__setitem__("id", "ol-8c582e43b1925470"),  # the old shape
        lambda g: g["graph"][job]["data"].__setitem__("type", "BATCH"),  # not in the discriminator's mapping
        lambda g: g["graph"][dataset].__setitem__("type", "DATASET_FIELD"),  # not a NodeType
        lambda g: g["graph"][dataset]["data"]["fields"][0].pop("type"),  # a field needs a type
        lambda g: g["graph"][job]["data"].__setitem__("inputs", ["dataset:medgrade:ct-01-dose"]),  # DatasetIds
        lambda g: g["graph"][job]["data"].__setitem__("createdAt", "yesterday"),  # date-time
        lambda g: g["graph"][dataset]["data"].__setitem__("lastModifiedAt", None),  # not nullable
    ]
    for n, breakage in enumerate(breakages):
        bad = copy.deepcopy(good)
        breakage(bad)
        assert not validator.is_valid(bad), n


# --- GET /api/v1/lineage ----------------------------------------------------------------------------
def test_dataset_lineage_has_marquez_datasets_and_jobs(client: Any, validator: OAS30Validator) -> None:
    graph = _get(client, "/api/v1/lineage", validator, nodeId=DOSE, depth=2)
    src, mart = "dataset:medgrade:ct-01-dose", "dataset:postgres://dw.hospital:5432:mart.dose_monthly"
    assert {src, DOSE, mart, DOSE_JOB, MONTHLY_JOB} <= set(graph)
    dose = graph[DOSE]
    assert dose["type"] == "DATASET" and dose["data"]["type"] == "DATASET"
    assert dose["data"]["id"] == {"namespace": "postgres://dw.hospital:5432", "name": "registry.ct_dose_daily"}
    assert [f["name"] for f in dose["data"]["fields"]] == ["dlp", "patient_key"]
    assert dose["data"]["lastModifiedAt"] == "2026-11-01T02:03:10Z"
    assert dose["data"]["medgrade"]["effective"]["rank"] == 3
    job = graph[DOSE_JOB]
    assert job["type"] == "JOB" and job["data"]["type"] == "JOB"
    assert job["data"]["id"] == {"namespace": "hospital-etl", "name": "dose_registry.daily"}
    assert job["data"]["inputs"] == [{"namespace": "medgrade", "name": "ct-01-dose"}]
    assert job["data"]["outputs"] == [{"namespace": "postgres://dw.hospital:5432", "name": "registry.ct_dose_daily"}]
    assert (job["data"]["createdAt"], job["data"]["updatedAt"]) == ("2026-11-01T02:00:00Z", "2026-11-01T02:03:10Z")
    assert [t["label_en"] for t in job["data"]["medgrade"]["transformations"]] == ["de-identify"]
    assert graph[MONTHLY_JOB]["data"]["id"] == {"namespace": "hospital-etl", "name": "dose:monthly"}
    assert _edges(job, "inEdges") == {(src, DOSE_JOB)} and _edges(job, "outEdges") == {(DOSE_JOB, DOSE)}
    assert _edges(dose, "inEdges") == {(DOSE_JOB, DOSE)} and _edges(dose, "outEdges") == {(DOSE, MONTHLY_JOB)}
    assert _edges(graph[mart], "inEdges") == {(MONTHLY_JOB, mart)}
    assert list(graph) == sorted(graph)


def test_every_node_of_an_answer_answers_itself(client: Any, validator: OAS30Validator) -> None:
    for start in (DOSE, "dataset:medgrade:rdp-icu-pseudo-2026q3"):
        graph = _get(client, "/api/v1/lineage", validator, nodeId=start, depth=1)
        assert any(n["type"] == "JOB" for n in graph.values()), start
        for node_id, node in graph.items():
            again = _get(client, "/api/v1/lineage", validator, nodeId=node_id, depth=1)
            assert again[node_id]["data"] == node["data"]


def test_demo_derivations_are_jobs_named_by_the_asset_they_make(client: Any, validator: OAS30Validator) -> None:
    job = "job:medgrade:rdp-icu-pseudo-2026q3"
    graph = _get(client, "/api/v1/lineage", validator, nodeId=job, depth=0)
    data = graph[job]["data"]
    assert data["inputs"] == [{"namespace": "medgrade", "name": "rdp-icu-fused-2026q3"}]
    assert data["outputs"] == [{"namespace": "medgrade", "name": "rdp-icu-pseudo-2026q3"}]
    assert [t["label_en"] for t in data["medgrade"]["transformations"]] == ["pseudonymise"]
    assert set(graph) == {job, "dataset:medgrade:rdp-icu-fused-2026q3", "dataset:medgrade:rdp-icu-pseudo-2026q3"}
    pseudo = graph["dataset:medgrade:rdp-icu-pseudo-2026q3"]["data"]
    assert pseudo["description"] == "ICU 生命支持研究数据集（假名化）2026Q3"
    assert pseudo["medgrade"]["category"]["label_zh"] == "测量与检验结果"
    assert "患者假名" in {f["name"] for f in pseudo["fields"]}


# --- GET /api/v1/column-lineage ---------------------------------------------------------------------
def test_column_lineage_upstream_by_default_with_masking(client: Any, validator: OAS30Validator) -> None:
    key = f"{DOSE.replace('dataset', 'datasetField', 1)}:patient_key"
    source = "datasetField:medgrade:ct-01-dose:住院号"
    graph = _get(client, "/api/v1/column-lineage", validator, nodeId=key, depth=20)
    assert set(graph) == {key, source}
    data = graph[key]["data"]
    assert graph[key]["type"] == "DATASET" and data["type"] == "DATASET"
    assert (data["namespace"], data["dataset"], data["field"]) == (
        "postgres://dw.hospital:5432",
        "registry.ct_dose_daily",
        "patient_key",
    )
    assert data["id"] == {"namespace": "postgres://dw.hospital:5432", "name": "registry.ct_dose_daily"}
    assert data["inputFields"] == [
        {
            "namespace": "medgrade",
            "dataset": "ct-01-dose",
            "field": "住院号",
            "transformationDescription": "去标识化 / de-identify",
            "transformationType": "MASKED",
        }
    ]
    assert _edges(graph[key], "inEdges") == {(key, source)}  # as Marquez draws them
    assert _edges(graph[source], "outEdges") == {(source, key)}
    assert graph[source]["data"]["inputFields"] == []


def test_column_lineage_downstream_and_depth(client: Any, validator: OAS30Validator) -> None:
    source = "datasetField:medgrade:ct-01-dose:住院号"
    dose = f"{DOSE.replace('dataset', 'datasetField', 1)}:patient_key"
    mart = "datasetField:postgres://dw.hospital:5432:mart.dose_monthly:patient_key"
    assert _get(client, "/api/v1/column-lineage", validator, nodeId=source) == {}  # nothing upstream
    graph = _get(client, "/api/v1/column-lineage", validator, nodeId=source, withDownstream="true")
    assert set(graph) == {source, dose, mart}
    assert graph[mart]["data"]["inputFields"] == [
        {"namespace": "postgres://dw.hospital:5432", "dataset": "registry.ct_dose_daily", "field": "patient_key"}
    ]  # not masked, no transformation type recorded
    graph = _get(client, "/api/v1/column-lineage", validator, nodeId=source, withDownstream="true", depth=1)
    assert set(graph) == {source, dose}


def test_column_lineage_of_a_dataset_covers_its_fields(client: Any, validator: OAS30Validator) -> None:
    graph = _get(client, "/api/v1/column-lineage", validator, nodeId="dataset:file:/tmp/delta/events")
    events = {k for k in graph if k.startswith("datasetField:file:/tmp/delta/events:")}
    assert events == {
        "datasetField:file:/tmp/delta/events:event_id",
        "datasetField:file:/tmp/delta/events:last_updated_at",
    }
    event_id = graph["datasetField:file:/tmp/delta/events:event_id"]["data"]
    # the MERGE's own column is not an input of itself; the updates table's is
    assert [(f["field"]) for f in event_id["inputFields"]] == ["event_id"]
    # a dataset known only as a column-lineage input keeps its OpenLineage name
    assert event_id["inputFields"] == [{"namespace": "file", "dataset": "/tmp/delta/updates", "field": "event_id"}]


def test_every_column_node_answers_itself(client: Any, validator: OAS30Validator) -> None:
    starts = [f"{DOSE.replace('dataset', 'datasetField', 1)}:patient_key", DOSE, "dataset:file:/tmp/delta/events"]
    seen: set[str] = set()
    for start in starts:
        for downstream in ("false", "true"):
            graph = _get(client, "/api/v1/column-lineage", validator, nodeId=start, withDownstream=downstream)
            assert graph, (start, downstream)
            seen |= set(graph)
    for node_id in sorted(seen):
        for downstream in ("false", "true"):
            graph = _get(client, "/api/v1/column-lineage", validator, nodeId=node_id, withDownstream=downstream)
            assert node_id in graph or (downstream == "false" and not graph)


# --- errors ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "node_id", "status", "says"),
    [
        ("/api/v1/lineage", "dataset:warehouse:nothing.here", 404, "no dataset warehouse:nothing.here"),
        ("/api/v1/lineage", "job:warehouse:nothing", 404, "no job warehouse:nothing"),
        ("/api/v1/lineage", "job:x", 400, "dataset:NAMESPACE:NAME | job:NAMESPACE:NAME"),
        ("/api/v1/lineage", "datasetField:medgrade:ct-01-dose:DLP", 400, "job:NAMESPACE:NAME"),
        ("/api/v1/column-lineage", "datasetField:medgrade:ct-01-dose:nothing", 404, "no field nothing"),
        ("/api/v1/column-lineage", "job:hospital-etl:dose_registry.daily", 400, "datasetField:NAMESPACE:NAME:FIELD"),
    ],
)
def test_unknown_and_malformed_nodes(client: Any, path: str, node_id: str, status: int, says: str) -> None:
    r = client.get(path, params={"nodeId": node_id})
    assert r.status_code == status and r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert says in body["detail"] and body["detail_zh"] and "/" in body["title"]
