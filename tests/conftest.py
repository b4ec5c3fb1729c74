"""Shared fixtures; helpers that are not fixtures are in ``tests/helpers.py``. Tools that live
outside the package (Java, ../shared/tools) are required under CI (``CI`` set): a missing tool
there fails the run instead of skipping quietly."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kg.ontology import Ontology, load_ontology
from kg.resources import bundled_dir


@pytest.fixture(scope="session")
def ontology_dir() -> Path:
    return bundled_dir("ontology")


@pytest.fixture(scope="session")
def onto(ontology_dir: Path) -> Ontology:
    return load_ontology(ontology_dir)


@pytest.fixture
def ontology_copy(tmp_path: Path, ontology_dir: Path) -> Path:
    """A private copy of the ontology folder that a test may edit."""
    target = tmp_path / "ontology"
    shutil.copytree(ontology_dir, target)
    return target


# --- remote stores: real SPARQL servers on loopback ---------------------------------------------
@pytest.fixture(scope="session")
def virtuoso_url(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Virtuoso's base URL (started once: it takes seconds) and the graphs it holds of its own
    (never cleared between tests)."""
    from tests.servers import virtuoso_server

    try:
        with virtuoso_server(tmp_path_factory.mktemp("virtuoso")) as base:
            import httpx

            r = httpx.post(
                f"{base}/sparql",
                data={"query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"},
                headers={"Accept": "application/sparql-results+json"},
            )
            system = {b["g"]["value"] for b in r.json()["results"]["bindings"]}
            yield base, system
    except RuntimeError as exc:
        yield f"unavailable: {exc}", set()
