"""The store fixture: every contract test runs on each backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kg.store import Store, open_store
from tests.conftest import need
from tests.servers import oxigraph_server


@pytest.fixture(scope="session")
def sparql_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str | None]:
    try:
        with oxigraph_server(tmp_path_factory.mktemp("oxigraph-server")) as base:
            yield base
    except RuntimeError as exc:
        yield f"unavailable: {exc}"


@pytest.fixture(params=["memory", "oxigraph", "sparql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "memory":
        s = open_store("memory:")
    elif request.param == "oxigraph":
        s = open_store(f"oxigraph:{tmp_path / 'store'}")
    else:
        base = request.getfixturevalue("sparql_server")
        need(base is not None and not base.startswith("unavailable"), f"Oxigraph SPARQL server: {base}")
        s = open_store(f"sparql:{base}/query|{base}/update")
        s.update("DROP ALL")
    yield s
    s.close()
