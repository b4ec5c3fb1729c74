"""The API's commands end to end: serve --demo (a real process on loopback), query, apikey,
check-transfer."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import httpx
import pytest

from tests.servers import free_port, wait_until_up
from tests.test_cli_store import medgrade


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    where = tmp_path_factory.mktemp("api-cli")
    descriptor = f"oxigraph:{where / 'db'}"
    proc = medgrade("--store", descriptor, "init", "--demo", cwd=where)
    assert proc.returncode == 0, proc.stderr
    return descriptor


def run(store: str, *args: str, code: int = 0, env: dict[str, str] | None = None) -> str:
    proc = medgrade("--store", store, *args, cwd=Path(store.split(":", 1)[1]).parent, env=env)
    assert proc.returncode == code, proc.stderr
    return proc.stdout


def test_query_formats_and_refusals(demo_store: str, tmp_path: Path) -> None:
    q = "SELECT ?a WHERE { ?a a <https://w3id.org/medgrade/def#DataAsset> } ORDER BY ?a LIMIT 3"
    rows = json.loads(run(demo_store, "query", q))["results"]["bindings"]
    assert len(rows) == 3
    table = list(csv.reader(io.StringIO(run(demo_store, "query", q, "--format", "csv"))))
    assert table[0] == ["a"] and [r[0] for r in table[1:]] == [r["a"]["value"] for r in rows]
    rq = tmp_path / "count.rq"
    rq.write_text("ASK { ?s a <https://w3id.org/medgrade/def#Destination> }", encoding="utf-8")
    assert json.loads(run(demo_store, "query", f"@{rq}"))["boolean"] is True
    ttl = run(demo_store, "query", "CONSTRUCT { ?s a ?t } WHERE { ?s a ?t } LIMIT 2")
    assert "@prefix" in ttl or ttl.count(" .") >= 2
    proc = medgrade("--store", demo_store, "query", "SELECT * { SERVICE <http://x/> { ?s ?p ?o } }", cwd=tmp_path)
    assert proc.returncode == 2 and "SERVICE" in proc.stderr


def test_apikey_lifecycle(tmp_path: Path) -> None:
    keys = tmp_path / "keys.toml"
    env = {"MEDGRADE_API_KEYS": str(keys)}
    token = medgrade("apikey", "create", "ward-7", "--role", "steward", cwd=tmp_path, env=env)
    assert token.returncode == 0, token.stderr
    assert token.stdout.strip().startswith("mgk_") and token.stdout.strip() not in keys.read_text()
    data = tomllib.loads(keys.read_text())
    assert [k["name"] for k in data["key"]] == ["ward-7"] and data["key"][0]["role"] == "steward"
    assert oct(keys.stat().st_mode & 0o777) == "0o600"
    listed = json.loads(medgrade("apikey", "list", "--json", cwd=tmp_path, env=env).stdout)
    assert listed[0]["name"] == "ward-7" and "sha256" not in listed[0]
    again = medgrade("apikey", "create", "ward-7", cwd=tmp_path, env=env)
    assert again.returncode == 2 and "exists" in again.stderr
    assert medgrade("apikey", "create", "x", "--role", "root", cwd=tmp_path, env=env).returncode == 2
    assert medgrade("apikey", "revoke", "ward-7", cwd=tmp_path, env=env).returncode == 0
    assert tomllib.loads(keys.read_text()).get("key", []) == []


def test_check_transfer(demo_store: str) -> None:
    ok = json.loads(run(demo_store, "check-transfer", "pkg-nhic-dose-ct-2026-10", "--to", "nhic", "--json"))
    assert ok["allowed"] is True
    text = run(demo_store, "check-transfer", "ct-01-dicom-2026-09", "--to", "mfr-global", code=1)
    assert "不允许 / not allowed" in text and "R12" in text


def test_serve_demo_answers_on_loopback(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "kg", "--store", f"oxigraph:{tmp_path / 'db'}", "serve", "--demo", "--port", str(port)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "MEDGRADE_API_KEYS": str(tmp_path / "keys.toml")},
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(f"{base}/health", proc, 120)
        level = httpx.get(f"{base}/api/assets/pkg-nhic-dose-ct-2026-10/level").json()
        assert level["effective"]["rank"] >= 1 and level["witness"]
        assert httpx.get(f"{base}/api/validation").json()["conforms"] is False  # the demo's built-in problems
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert f"{base}/docs" in out and f"{base}/sparql" in out
