"""Test helpers (not fixtures): skip-or-fail for outside tools, ontology edits as a tool makes
them, SPARQL servers for the backends, and an API client on the demo hospital. Fixtures live in
``conftest.py``; tests import these from here."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_TOOLS = ROOT.parent / "shared" / "tools"
IN_CI = os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


def need(condition: bool, why: str) -> None:
    """Skip the test when ``condition`` is false, except under CI, where that is a failure."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required under CI: {why}")
    pytest.skip(why)


def shared_tool(name: str) -> Path:
    """A checker from ../shared/tools (owl-check, jena)."""
    path = SHARED_TOOLS / name
    need(path.is_file(), f"{path} not found (the workplace's shared tools)")
    return path


def java() -> str:
    """The java executable (HermiT, the OWL API and Jena need it)."""
    exe = shutil.which("java")
    need(exe is not None, "java is not installed (apt-get install default-jre-headless)")
    return exe  # type: ignore[return-value]


def edit_module(directory: Path, filename: str, edit) -> None:  # type: ignore[no-untyped-def]
    """Rewrite one module as a tool would: parse it, apply ``edit(graph)``, serialise Turtle."""
    from rdflib import Graph

    path = directory / filename
    g = Graph()
    g.parse(path, format="turtle")
    edit(g)
    g.serialize(path, format="turtle")


REMOTE = {"oxigraph-server": "the Oxigraph SPARQL server", "virtuoso": "Virtuoso 7"}


def remote_descriptor(request: pytest.FixtureRequest, kind: str) -> tuple[str, dict[str, str]]:
    """A ``sparql:`` descriptor for an emptied server of ``kind`` and its account (if any)."""
    from kg.store import open_store

    if kind == "oxigraph-server":  # a fresh one for each use: it starts at once, and a reused
        # one slows down as the dropped data of earlier tests piles up in its RocksDB
        import contextlib
        import tempfile

        from tests.servers import oxigraph_server

        stack = contextlib.ExitStack()
        try:
            base = stack.enter_context(oxigraph_server(Path(stack.enter_context(tempfile.TemporaryDirectory()))))
        except RuntimeError as exc:
            stack.close()
            need(False, f"{REMOTE[kind]}: {exc}")
        request.addfinalizer(stack.close)
        return f"sparql:{base}/query|{base}/update", {}
    base, system = request.getfixturevalue("virtuoso_url")  # shared: emptied of what earlier tests left
    need(not base.startswith("unavailable"), f"{REMOTE[kind]}: {base}")
    descriptor, account = f"sparql:{base}/sparql|{base}/sparql-auth", {"user": "dba", "password": "dba"}
    s = open_store(descriptor, **account)
    try:  # drop every graph but Virtuoso's own (a DROP is much faster than a DELETE of the quads)
        left = s.rows("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
        drops = [f"DROP SILENT GRAPH <{g}>" for (g,) in left if g and g not in system]
        if drops:
            s.update(" ;\n".join(drops))
    finally:
        s.close()
    return descriptor, account


def remote_store(request: pytest.FixtureRequest, kind: str):  # type: ignore[no-untyped-def]
    """An emptied ``sparql:`` store on a server of ``kind`` (``oxigraph-server``, ``virtuoso``)."""
    from kg.store import open_store

    descriptor, account = remote_descriptor(request, kind)
    return open_store(descriptor, **account)


BACKENDS = ["memory", "oxigraph-server", "virtuoso"]


def backend_settings(request: pytest.FixtureRequest) -> dict[str, object]:
    """Settings for the store of a test parametrised over :data:`BACKENDS` (``request.param``):
    an in-process store, or an emptied SPARQL server with its account."""
    if request.param == "memory":
        return {"store": "memory:"}
    descriptor, account = remote_descriptor(request, request.param)
    return {"store": descriptor, "sparql_user": account.get("user"), "sparql_password": account.get("password")}


@contextmanager
def demo_client(tmp_path: Path, roles: Sequence[str], prefix: str = "t") -> Iterator[object]:
    """A test client of the API over an in-memory store holding the demo hospital, with one
    API key per role in ``client.tokens`` and the service in ``client.service``."""
    from fastapi.testclient import TestClient

    from api import create_app
    from kg import apikeys
    from kg.service import Service
    from kg.settings import Settings

    keys = tmp_path / "keys.toml"
    tokens = {role: apikeys.create(keys, f"{prefix}-{role}", role) for role in roles}
    service = Service(Settings(store="memory:", api_keys=keys))
    service.initialize(demo=True)
    try:
        with TestClient(create_app(service=service)) as client:
            client.tokens = tokens  # type: ignore[attr-defined]
            client.service = service  # type: ignore[attr-defined]
            yield client
    finally:
        service.close()
