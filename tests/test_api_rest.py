"""REST reads over the demo hospital: the same answers as the service (and so as the CLI's
--json), filters and paging, lineage, what-if, validation, export; errors as problem+json."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest
from fastapi.testclient import TestClient
from rdflib import Graph

from api import create_app
from kg.service import Service
from kg.settings import Settings
from tests.helpers import BACKENDS, backend_settings

PKG = "pkg-nhic-dose-ct-2026-10"


@pytest.fixture(scope="module", params=BACKENDS)
def demo(request, onto):
    service = Service(Settings(**backend_settings(request)), ontology=onto)
    service.initialize(demo=True)
    with TestClient(create_app(service=service)) as client:
        yield client, service
    service.close()


def test_level_answer_is_the_service_answer(demo) -> None:
    client, service = demo
    r = client.get(f"/api/assets/{PKG}/level")
    assert r.status_code == 200
    body = r.json()
    assert body == service.level(PKG)
    assert body["effective"]["rank"] >= body["inherited"]["rank"]
    assert body["witness"] and body["witness"][-1]["target"] == body["asset"]
    by_iri = client.get(f"/api/assets/{body['asset'].replace(':', '%3A').replace('/', '%2F')}/level")
    assert by_iri.status_code == 200 and by_iri.json() == body


def test_asset_detail(demo) -> None:
    client, _ = demo
    body = client.get(f"/api/assets/{PKG}").json()
    assert body["id"] == PKG and body["category"]["label_zh"]
    assert body["category_path"][-1] == body["category"]
    assert body["effective"]["rank"] >= 1 and body["derived_from"]


def test_asset_list_filters_and_pages(demo) -> None:
    client, _ = demo
    everything = client.get("/api/assets", params={"limit": 1000}).json()
    total = everything["total"]
    assert total == len(everything["items"]) > 40
    ids = [i["id"] for i in everything["items"]]
    assert ids == sorted(ids)
    page = client.get("/api/assets", params={"limit": 10, "offset": 10}).json()
    assert [i["id"] for i in page["items"]] == ids[10:20] and page["total"] == total
    high = client.get("/api/assets", params={"min_rank": 4, "limit": 1000}).json()
    assert high["items"] and all(i["effective"]["rank"] >= 4 for i in high["items"])
    assert high["total"] == sum(1 for i in everything["items"] if i["effective"] and i["effective"]["rank"] >= 4)
    text = client.get("/api/assets", params={"q": "DOSE-CT"}).json()
    assert text["items"] and all("dose-ct" in i["id"] for i in text["items"])
    cat = everything["items"][0]["category"]["label_zh"]
    by_cat = client.get("/api/assets", params={"category": cat, "limit": 1000}).json()
    assert by_cat["items"] and everything["items"][0]["id"] in [i["id"] for i in by_cat["items"]]
    r = client.get("/api/assets", params={"category": "没有这个分类"})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    hostile = client.get("/api/assets", params={"q": '") } } DROP ALL #'}).json()
    assert hostile["total"] == 0  # the text is a literal, not SPARQL


def test_lineage_directions(demo) -> None:
    client, service = demo
    up = client.get(f"/api/assets/{PKG}/lineage", params={"direction": "upstream", "depth": 10}).json()
    assert up == service.lineage(PKG, "upstream", 10)
    node_iris = {n["iri"] for n in up["nodes"]}
    assert len(node_iris) > 1 and up["root"] in {e["target"] for e in up["edges"]}
    assert all(e["source"] in node_iris and e["target"] in node_iris for e in up["edges"])
    down = client.get(f"/api/assets/{PKG}/lineage", params={"direction": "downstream"}).json()
    assert [n["id"] for n in down["nodes"]] == [PKG]  # an outbound package has no consumers inside
    assert client.get(f"/api/assets/{PKG}/lineage", params={"direction": "sideways"}).status_code == 422


def test_unknown_asset_is_404(demo) -> None:
    client, _ = demo
    r = client.get("/api/assets/no-such-asset/level")
    assert r.status_code == 404 and "no-such-asset" in r.json()["detail"]


def test_preview_writes_nothing(demo) -> None:
    client, service = demo
    before = service.level(PKG)
    origin_id = before["origin"].rsplit("/", 1)[-1]
    r = client.post("/api/preview", json={"set_levels": {origin_id: "L6"}})
    assert r.status_code == 200
    changes = {c["id"]: c for c in r.json()["changes"]}
    assert origin_id in changes and changes[origin_id]["new"]["rank"] == 6
    assert service.level(PKG) == before


def test_validation_is_the_cli_json(demo) -> None:
    client, service = demo
    body = client.get("/api/validation").json()
    assert body["conforms"] is False
    assert body == service.validate().to_dict()
    assert {"R8"} <= {r["rule"] for r in body["results"]}


def test_export_formats(demo) -> None:
    client, _ = demo
    xlsx = client.get("/api/export", params={"format": "xlsx"})
    assert xlsx.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    assert len(wb.sheetnames) >= 2
    ttl = client.get("/api/export", params={"format": "ttl"})
    assert len(Graph().parse(data=ttl.content, format="turtle")) > 100
    csv = client.get("/api/export", params={"format": "csv"})
    assert zipfile.ZipFile(io.BytesIO(csv.content)).namelist()
    assert client.get("/api/export", params={"format": "pdf"}).status_code == 422


def test_health(demo) -> None:
    client, service = demo
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["store"] == {
        "descriptor": service.store.descriptor,
        "initialized": True,
        "ok": True,
    }


def test_transfer_check_from_the_shapes(demo) -> None:
    client, service = demo
    ok = client.post("/api/transfers/check", json={"asset": PKG, "destination": "nhic"}).json()
    assert ok["allowed"] is True and ok["problems"] == [] and ok["effective"]["rank"] <= ok["clearance"]["rank"]
    raw = "ct-01-dicom-2026-09"
    no = client.post("/api/transfers/check", json={"asset": raw, "destination": "mfr-global"}).json()
    assert no["allowed"] is False and no["effective"]["rank"] == 4 and no["clearance"]["rank"] == 2
    assert any("cleared up to" in p["message_en"] for p in no["problems"])
    missing = {m["label_zh"] for m in no["missing_measures"]}
    assert {"对外提供审批", "双人审批"} <= missing
    declared = client.post(
        "/api/transfers/check",
        json={"asset": raw, "destination": "mfr-global", "measures": ["对外提供审批", "双人审批"]},
    ).json()
    assert {m["label_zh"] for m in declared["missing_measures"]} == missing - {"对外提供审批", "双人审批"}
    assert client.post("/api/transfers/check", json={"asset": raw, "destination": "nowhere"}).status_code == 404
    checks = service.store.rows(
        "SELECT ?t WHERE { GRAPH ?g { ?t ?p ?o FILTER(CONTAINS(STR(?t), 'transfer-check')) } } LIMIT 1"
    )
    assert checks == []  # a check writes nothing
