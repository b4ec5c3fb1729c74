"""OpenLineage conformance: real events from the OpenLineage repository (the spec's and the Python
client's examples, the fluentd proxy's test events, the Flink, Hive, Spark and dbt integrations'
expected events) and spec-invalid envelopes derived from them, each imported into a fresh
in-memory store and compared with ``openlineage/expected.json``, a manifest written from the spec:
accepted or refused (with the JSON paths refused), the dataset edges and the run ids. No
ill-typed ``xsd:dateTime`` literal may reach the store. Sources and licence: openlineage/README.md."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from rdflib import Literal, URIRef

from kg.errors import ImportProblem
from kg.importers.openlineage import dataset_id
from kg.namespaces import MG, XSD
from kg.ontology import Ontology
from kg.service import Service
from kg.settings import Settings
from kg.store import Changeset, Graphs, open_store, sparql_term

SUITE = Path(__file__).parent / "openlineage"
MANIFEST: dict[str, Any] = json.loads((SUITE / "expected.json").read_text(encoding="utf-8"))
FILES: dict[str, dict[str, Any]] = MANIFEST["files"]
ACCEPTED = sorted(f for f, e in FILES.items() if e["accepted"])
REFUSED = sorted(f for f, e in FILES.items() if not e["accepted"])

PREFIXES = f"PREFIX xsd: <{XSD}> PREFIX mg: <{MG}> PREFIX prov: <http://www.w3.org/ns/prov#>\n"
# an ill-typed literal: an xsd:dateTime whose lexical form does not cast to xsd:dateTime
ILL_TYPED = (
    PREFIXES + "SELECT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } FILTER(isLiteral(?o) && datatype(?o) = xsd:dateTime)"
    " BIND(xsd:dateTime(STR(?o)) AS ?v) FILTER(!BOUND(?v)) }"
)
EDGES = (
    PREFIXES + f"SELECT ?out ?in WHERE {{ GRAPH {sparql_term(Graphs.INVENTORY)} "
    "{ ?out prov:wasDerivedFrom ?in . ?out a mg:DataAsset . ?in a mg:DataAsset } }"
)
NAMES = (
    PREFIXES + f"SELECT ?a ?ns ?name WHERE {{ GRAPH {sparql_term(Graphs.INVENTORY)} "
    "{ ?a mg:openLineageNamespace ?ns ; mg:openLineageName ?name } }"
)
RUNS = PREFIXES + f"SELECT ?r WHERE {{ GRAPH {sparql_term(Graphs.INVENTORY)} {{ ?r a mg:Transformation }} }}"


def fresh(onto: Ontology) -> Service:
    return Service(Settings(store="memory:"), store=open_store("memory:"), ontology=onto)


def edges(svc: Service) -> set[tuple[str, str]]:
    """Asset-level derivations as (input, output) ``namespace/name`` pairs; each asset's id is
    checked against :func:`dataset_id`."""
    own = svc.settings.openlineage_namespace
    names: dict[str, str] = {}
    for iri, ns, name in svc.store.rows(NAMES):
        assert str(iri) == str(svc.ids.asset(dataset_id(str(ns), str(name), own)))
        names[str(iri)] = f"{ns}/{name}"
    found = set()
    for out, source in svc.store.rows(EDGES):
        assert str(out) in names and str(source) in names, (out, source)
        found.add((names[str(source)], names[str(out)]))
    return found


def runs(svc: Service) -> set[str]:
    prefix = svc.ids.base + "run/"
    return {str(r).removeprefix(prefix) for (r,) in svc.store.rows(RUNS) if str(r).startswith(prefix)}


def ill_typed(svc: Service) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in svc.store.rows(ILL_TYPED)]


def test_the_suite_is_complete() -> None:
    on_disk = {str(p.relative_to(SUITE)) for p in SUITE.rglob("*.json") if p.name != "expected.json"}
    assert on_disk == set(FILES)
    assert len(ACCEPTED) >= 30 and len(REFUSED) >= 10
    readme = (SUITE / "README.md").read_text(encoding="utf-8")
    assert MANIFEST["commit"] in readme and "Apache" in readme
    assert all(f"`{f}`" in readme for f in FILES), [f for f in FILES if f"`{f}`" not in readme]


@pytest.mark.parametrize("name", ACCEPTED)
def test_a_conforming_file_is_accepted_with_its_edges_and_runs(onto: Ontology, name: str) -> None:
    svc = fresh(onto)
    expected = FILES[name]
    svc.import_files([SUITE / name])
    assert edges(svc) == {tuple(e) for e in expected["edges"]}
    assert runs(svc) == {quote(r, safe="") for r in expected["runs"]}
    assert ill_typed(svc) == []


@pytest.mark.parametrize("name", REFUSED)
def test_a_non_conforming_file_is_refused_naming_each_path(onto: Ontology, name: str) -> None:
    svc = fresh(onto)
    path = SUITE / name
    with pytest.raises(ImportProblem) as info:
        svc.import_files([path])
    named: dict[str, set[str]] = {}
    for p in info.value.problems:
        assert p.code == "openlineage-schema", str(p)
        assert p.where.startswith(f"{path.name}, event ")
        assert p.subject in p.message_en and p.subject in p.message_zh
        named.setdefault(p.where.rsplit(" ", 1)[-1], set()).add(p.subject)
    assert named == {n: set(paths) for n, paths in FILES[name]["refused"].items()}
    assert svc.store.count(Graphs.INVENTORY) == 0


def test_every_accepted_file_together_leaves_no_ill_typed_literal(onto: Ontology) -> None:
    svc = fresh(onto)
    svc.import_files([SUITE / name for name in ACCEPTED])
    assert set().union(*({tuple(e) for e in FILES[n]["edges"]} for n in ACCEPTED)) <= edges(svc)
    timed = svc.store.rows(PREFIXES + "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?r prov:endedAtTime ?t } }")
    assert int(timed[0][0]) > 0  # the query has times to look at
    assert ill_typed(svc) == []


def test_the_ill_typed_query_finds_an_ill_typed_literal(onto: Ontology) -> None:
    """The check above is not vacuous: an ill-typed xsd:dateTime put into the store directly is found."""
    svc = fresh(onto)
    run = URIRef(svc.ids.base + "run/planted")
    good = Literal("2026-11-27T08:00:00Z", datatype=XSD.dateTime)
    svc.store.apply(Changeset(Graphs.INVENTORY, triples=[(run, MG.openLineageJob, Literal("x:y"))]))
    svc.store.apply(
        Changeset(Graphs.INVENTORY, triples=[(run, URIRef("http://www.w3.org/ns/prov#startedAtTime"), good)])
    )
    assert ill_typed(svc) == []
    bad = Literal("yesterday", datatype=XSD.dateTime)
    svc.store.apply(Changeset(Graphs.INVENTORY, triples=[(run, URIRef("http://www.w3.org/ns/prov#endedAtTime"), bad)]))
    assert [(str(s), str(o)) for s, _, o in ill_typed(svc)] == [(str(run), "yesterday")]
