"""The store fixture: every contract test runs on each backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kg.store import Store, open_store
from tests.helpers import remote_store


@pytest.fixture(params=["memory", "oxigraph", "oxigraph-server", "virtuoso"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "memory":
        s = open_store("memory:")
    elif request.param == "oxigraph":
        s = open_store(f"oxigraph:{tmp_path / 'store'}")
    else:
        s = remote_store(request, request.param)
    yield s
    s.close()
