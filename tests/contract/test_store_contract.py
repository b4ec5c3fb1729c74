"""One contract, every backend: memory:, oxigraph:PATH and sparql: (a real server on loopback)."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, XSD

from kg.errors import InputError, QueryError
from kg.store import Changeset, Graphs, Store, open_store, sparql_term

EX = "https://example.org/h/"
A, B, C = URIRef(EX + "a"), URIRef(EX + "b"), URIRef(EX + "c")
P = URIRef(EX + "p")
G = Graphs.INVENTORY


def labels(store: Store, graph: URIRef = G) -> dict[str, str]:
    rows = store.select(f"SELECT ?s ?l WHERE {{ GRAPH {sparql_term(graph)} {{ ?s {sparql_term(RDFS.label)} ?l }} }}")
    return {str(r["s"]): str(r["l"]) for r in rows}


def test_empty(store: Store) -> None:
    """Empty: no graph of its own (a shared server's own graphs, e.g. Virtuoso's system graphs,
    are not the store's and stay out of listings and counts)."""
    assert store.graphs() == set()
    assert store.count() == 0
    assert (
        store.select('SELECT ?s WHERE { GRAPH ?g { ?s ?p ?o } FILTER(STRSTARTS(STR(?g), "https://w3id.org/")) }') == []
    )


def test_apply_inserts_terms_faithfully(store: Store) -> None:
    tricky = 'quote " backslash \\ newline \n tab \t 中文 emoji 🩺'
    store.apply(
        Changeset(
            G,
            triples=[
                (A, RDFS.label, Literal(tricky)),
                (A, P, Literal("设备", lang="zh")),
                (A, P, Literal(12000)),
                (A, P, Literal("2026-03-01T00:00:00", datatype=XSD.dateTime)),
                (A, P, Literal(True)),
                (A, P, B),
            ],
        )
    )
    assert store.count(G) == 6 and store.count() == 6
    assert store.graphs() == {G}
    assert labels(store) == {str(A): tricky}
    objects = {
        r["o"] for r in store.select(f"SELECT ?o WHERE {{ GRAPH {sparql_term(G)} {{ ?s {sparql_term(P)} ?o }} }}")
    }
    assert objects == {
        Literal("设备", lang="zh"),
        Literal(12000),
        B,
        Literal(True),
        Literal("2026-03-01T00:00:00", datatype=XSD.dateTime),
    }


def test_bindings_are_values_not_text(store: Store) -> None:
    store.apply(Changeset(G, triples=[(A, RDFS.label, Literal("a")), (B, RDFS.label, Literal("b"))]))
    q = f"SELECT ?l WHERE {{ GRAPH {sparql_term(G)} {{ ?s {sparql_term(RDFS.label)} ?l }} }}"
    assert [str(r["l"]) for r in store.select(q, {"s": B})] == ["b"]
    hostile = Literal('"} } ; DROP ALL ; SELECT * { {"')
    assert store.select(q, {"l": hostile}) == []
    assert store.count(G) == 2
    assert store.ask(f"ASK {{ GRAPH {sparql_term(G)} {{ ?s ?p ?o }} }}", {"s": A})
    assert not store.ask(f"ASK {{ GRAPH {sparql_term(G)} {{ ?s ?p ?o }} }}", {"s": C})


def test_unsafe_iris_are_refused() -> None:
    for bad in ["https://x/a> <b", "https://x/a b", 'https://x/"', "https://x/{a}"]:
        with pytest.raises(InputError):
            sparql_term(URIRef(bad))


def test_construct(store: Store) -> None:
    store.apply(Changeset(G, triples=[(A, P, B), (B, P, C)]))
    g = store.construct(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {sparql_term(G)} {{ ?s ?p ?o }} }}")
    assert set(g) == {(A, P, B), (B, P, C)}


def test_replacing_a_subject_replaces_its_parts_and_nothing_else(store: Store) -> None:
    part, nested, other = URIRef(f"{A}/element/x"), URIRef(f"{A}/activity/approval"), URIRef(f"{B}/element/y")
    act = URIRef(f"{A}/activity")
    inverse = URIRef(f"{A}/transfer/t")
    store.apply(
        Changeset(
            G,
            triples=[
                (A, RDFS.label, Literal("old")),
                (A, P, part),
                (part, RDFS.label, Literal("part")),
                (A, P, act),
                (act, P, nested),
                (nested, RDFS.label, Literal("nested")),
                (inverse, P, A),
                (inverse, RDFS.label, Literal("transfer")),
                (A, P, B),  # a link to another thing: not a part
                (B, RDFS.label, Literal("b")),
                (B, P, other),
                (other, RDFS.label, Literal("b's part")),
            ],
        )
    )
    store.apply(Changeset(G, subjects={A}, triples=[(A, RDFS.label, Literal("new"))]))
    assert labels(store) == {str(A): "new", str(B): "b", str(other): "b's part"}
    assert store.count(G) == 4


def test_replace_of_a_subject_without_triples_touches_nothing(store: Store) -> None:
    store.apply(Changeset(G, triples=[(B, RDFS.label, Literal("b"))]))
    store.apply(Changeset(G, subjects={A}))
    assert labels(store) == {str(B): "b"}


def test_changeset_extra_quads_go_to_their_graphs_in_the_same_request(store: Store) -> None:
    store.apply(
        Changeset(G, triples=[(A, RDFS.label, Literal("a"))], extra=[(C, RDFS.label, Literal("audit"), Graphs.AUDIT)])
    )
    assert labels(store, Graphs.AUDIT) == {str(C): "audit"}
    assert store.graphs() == {G, Graphs.AUDIT}


def test_a_bad_request_changes_nothing(store: Store) -> None:
    store.apply(Changeset(G, triples=[(A, RDFS.label, Literal("a"))]))
    with pytest.raises(QueryError):
        store.update(
            f"INSERT DATA {{ GRAPH {sparql_term(G)} {{ {sparql_term(B)} {sparql_term(P)} 1 }} }} ;\n"
            "INSERT DATA { GRAPH <x:y> { this is not sparql } }"
        )
    assert labels(store) == {str(A): "a"} and store.count() == 1


def test_replace_graph_with_blank_nodes_and_drop(store: Store) -> None:
    g = Graph()
    b = BNode()
    g.add((A, P, b))
    g.add((b, RDF.type, URIRef(EX + "Restriction")))
    store.replace_graph(URIRef(EX + "onto"), g)
    store.replace_graph(URIRef(EX + "onto"), g)  # again: replaced, not doubled
    assert store.count(URIRef(EX + "onto")) == 2
    back = Graph()
    for t in store.triples(URIRef(EX + "onto")):
        back.add(t)
    from rdflib.compare import isomorphic

    assert isomorphic(back, g)
    store.drop_graph(URIRef(EX + "onto"))
    assert store.count() == 0


def test_bulk_load(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "data.nt"
    path.write_text("".join(f'<{EX}n{i}> <{RDFS.label}> "节点 {i}" .\n' for i in range(2500)), encoding="utf-8")
    store.bulk_load(path, "nt", G)
    assert store.count(G) == 2500
    assert labels(store)[f"{EX}n7"] == "节点 7"
    store.drop_graph(G)
    store.bulk_load(path, "nt", G, trusted=True)  # what medgrade wrote itself: the same result
    assert store.count(G) == 2500 and labels(store)[f"{EX}n2499"] == "节点 2499"


def test_syntax_errors_are_query_errors(store: Store) -> None:
    with pytest.raises(QueryError):
        store.select("SELECT WHERE {")
    with pytest.raises(QueryError):
        store.update("INSERT DATA { nonsense")


def test_from_clauses_merge_graphs(store: Store) -> None:
    store.apply(Changeset(G, triples=[(A, P, B)]))
    store.apply(Changeset(Graphs.INFERRED, triples=[(B, P, C)]))
    q = (
        f"SELECT ?x ?z FROM {sparql_term(G)} FROM {sparql_term(Graphs.INFERRED)} "
        f"WHERE {{ ?x {sparql_term(P)} ?y . ?y {sparql_term(P)} ?z }}"
    )
    assert store.select(q) == [{"x": A, "z": C}]


def test_point_lookups(store: Store) -> None:
    store.apply(
        Changeset(
            G,
            triples=[(A, P, B), (A, RDFS.label, Literal("甲", lang="zh")), (A, P, Literal(True))],
            extra=[(C, P, B, Graphs.AUDIT)],
        )
    )
    assert sorted(store.about(str(A), G)) == sorted([(str(P), str(B)), (str(RDFS.label), "甲"), (str(P), "true")])
    assert store.about(str(A), Graphs.AUDIT) == [] and store.about(str(B), G) == []
    assert sorted(store.referring(str(P), str(B))) == sorted([(str(A), str(G)), (str(C), str(Graphs.AUDIT))])
    assert store.referring(str(P), str(C)) == []


def test_oxigraph_store_persists(tmp_path: Path) -> None:
    s = open_store(f"oxigraph:{tmp_path / 'db'}")
    s.apply(Changeset(G, triples=[(A, RDFS.label, Literal("persisted"))]))
    s.close()
    again = open_store(f"oxigraph:{tmp_path / 'db'}")
    assert labels(again) == {str(A): "persisted"}
    again.close()


def test_unknown_descriptor() -> None:
    with pytest.raises(InputError, match="oxigraph:PATH"):
        open_store("postgres://x")


def test_a_large_change_with_blank_nodes_is_one_change(store: Store) -> None:
    """5,000 triples with blank nodes (more than one request to a server carries) replace a
    subject's description in one change; nothing is left in staging graphs."""
    store.apply(Changeset(G, triples=[(A, RDFS.label, Literal("old")), (URIRef(f"{A}/part"), P, A)]))
    big = [(A, P, Literal(i)) for i in range(4000)]
    for i in range(500):
        b = BNode()
        big += [(A, RDFS.seeAlso, b), (b, RDFS.label, Literal(f"节点 {i}"))]
    store.apply(Changeset(G, subjects={A}, triples=big, extra=[(C, RDFS.label, Literal("audit"), Graphs.AUDIT)]))
    assert store.count(G) == 5000 and labels(store, Graphs.AUDIT) == {str(C): "audit"}
    blank_labels = store.rows(
        f"SELECT ?l WHERE {{ GRAPH {sparql_term(G)} {{ {sparql_term(A)} {sparql_term(RDFS.seeAlso)} ?b . "
        f"?b {sparql_term(RDFS.label)} ?l }} }}"
    )
    assert len(blank_labels) == 500  # each blank node kept its label (staged in one batch)
    assert not store.ask(f"ASK {{ GRAPH {sparql_term(G)} {{ {sparql_term(A)} {sparql_term(RDFS.label)} ?l }} }}")
    assert (
        store.rows('SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } FILTER(STRSTARTS(STR(?g), "urn:medgrade:staging")) }') == []
    )


def test_declared_capabilities_hold_and_the_others_are_refused(store: Store) -> None:
    """Callers ask ``store.capabilities`` instead of probing attributes: each declared one
    works, an undeclared one is refused with a StoreError, not an AttributeError."""
    import pyoxigraph as ox

    from kg.errors import StoreError
    from kg.store.lease import LEASE_GRAPH

    caps = store.capabilities
    generation = store.generation
    store.apply(Changeset(G, triples=[(A, RDFS.label, Literal("a"))]))
    if caps.native:
        assert isinstance(store.native, ox.Store) and len(store.native) == 1
    else:
        with pytest.raises(StoreError):
            store.native  # noqa: B018
    assert store.generation > generation if caps.counts_writes else store.generation == 0
    assert (store.path is not None and store.path.exists()) if caps.snapshot_views else True
    ask = [("query", f"ASK {{ GRAPH {sparql_term(G)} {{ {sparql_term(A)} ?p ?o }} }}")]
    if caps.relays_protocol:
        body, media = store.forward(ask, "application/sparql-results+json", 30, 10_000)
        assert b"true" in body and media is not None and "json" in media
    else:
        with pytest.raises(StoreError):
            store.forward(ask, "application/sparql-results+json", 30, 10_000)
    holders = f"SELECT ?h WHERE {{ GRAPH <{LEASE_GRAPH}> {{ ?h ?p ?o }} }}"
    with store.exclusive():  # a shared store's lease is taken (and is not one of the store's graphs)
        assert len({h for (h,) in store.rows(holders)}) == (1 if caps.shared else 0)
        assert store.graphs() == {G}
        store.apply(Changeset(G, subjects={A}, triples=[(A, RDFS.label, Literal("b"))]))
    assert store.rows(holders) == [] and labels(store) == {str(A): "b"}
    if caps.max_update_triples is not None:
        assert caps.shared and caps.max_update_triples >= 1_000
