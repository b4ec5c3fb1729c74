"""Helpers for the shape fixtures: load one into a memory store, and merge files for engines
that read a single data and a single shapes file (raw pyshacl, Jena)."""

from __future__ import annotations

from pathlib import Path

from rdflib import Graph

from kg.ontology import Ontology
from kg.resources import bundled_dir
from kg.service import Service
from kg.settings import Settings
from kg.store import Changeset, Graphs, open_store
from kg.validation import Report

FIXTURES = Path(__file__).parent / "data" / "shapes"
EX = "https://example.org/h/"
SHAPES = "https://w3id.org/medgrade/shapes#"


def fixture_service(onto: Ontology, fixture: Path) -> Service:
    svc = Service(Settings(store="memory:", base_iri=EX), store=open_store("memory:"), ontology=onto)
    svc.initialize()
    svc.validator().clock = None  # the fixtures carry their own review clock (R15), as other engines read it
    g = Graph()
    g.parse(fixture, format="turtle")
    svc.store.apply(Changeset(Graphs.INVENTORY, triples=list(g)))  # type: ignore[arg-type]
    return svc


def short(iri: str) -> str:
    for prefix in (EX, SHAPES, "https://w3id.org/medgrade/def#"):
        if iri.startswith(prefix):
            return iri[len(prefix) :]
    return iri


def summary(report: Report) -> list[tuple[str, str, str, str]]:
    """(shape, focus, severity, value) of every result, short names, sorted."""
    return sorted((short(r.shape), short(r.focus), r.severity, short(r.value or "")) for r in report.results)


def merged_data(fixture: Path, out: Path) -> Path:
    """The ontology modules and the fixture in one Turtle file."""
    g = Graph()
    for module in sorted(bundled_dir("ontology").glob("*.ttl")):
        g.parse(module, format="turtle")
    g.parse(fixture, format="turtle")
    g.serialize(out, format="turtle")
    return out


def merged_shapes(out: Path) -> Path:
    g = Graph()
    for f in sorted(bundled_dir("shapes").glob("*.ttl")):
        g.parse(f, format="turtle")
    g.serialize(out, format="turtle")
    return out
