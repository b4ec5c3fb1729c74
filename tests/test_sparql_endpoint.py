"""The SPARQL Protocol's work without HTTP: the network guard, content negotiation, the result
formats (checked by parsing them back with rdflib), datasets, limits and USING rewriting."""

from __future__ import annotations

import csv
import io
import json

import pytest
from rdflib import Graph, URIRef
from rdflib.query import Result

from kg.errors import LimitExceeded, NotAcceptable, QueryError
from kg.sparql_endpoint import Dataset, Limits, negotiate, query, query_form, update, with_using
from kg.sparql_guard import check
from kg.store import open_store

EX = "http://example.org/"


@pytest.fixture
def store():
    s = open_store("memory:")
    s.update(
        f"""INSERT DATA {{
        GRAPH <{EX}g1> {{ <{EX}a> <{EX}p> "一"@zh , 1 , "x,\\"y\\"" . <{EX}b> <{EX}p> <{EX}a> }}
        GRAPH <{EX}g2> {{ <{EX}c> <{EX}p> 2 }} }}"""
    )
    yield s
    s.close()


@pytest.mark.parametrize(
    "text",
    [
        "SELECT * WHERE { SERVICE <http://evil.example/sparql> { ?s ?p ?o } }",
        "select * where { service silent <http://127.0.0.1:8080/> { ?s ?p ?o } }",
        "SELECT * WHERE { SERVICE?x { ?s ?p ?o } }",
        "LOAD <http://example.org/data.ttl>",
        "LOAD <file:///etc/passwd> INTO GRAPH <urn:x>",
        "SELECT * WHERE { \\u0053ERVICE <http://evil.example/> { ?s ?p ?o } }",
        "\\u004cOAD <http://example.org/x>",
    ],
)
def test_network_and_files_refused(text: str) -> None:
    with pytest.raises(QueryError) as err:
        check(text)
    assert "SERVICE" in err.value.message_en or "LOAD" in err.value.message_en


@pytest.mark.parametrize(
    "text",
    [
        'SELECT ?service WHERE { ?service <http://ex/load> "SERVICE and LOAD" }',
        "PREFIX service: <http://ex/> SELECT * WHERE { ?s service:load ?o } # SERVICE <http://x/>",
        "SELECT * WHERE { <http://ex/SERVICE> ?p ?o }",
        "SELECT * FROM <http://example.org/g1> WHERE { ?s ?p ?o }",
    ],
)
def test_words_that_are_not_keywords_pass(text: str) -> None:
    check(text)


@pytest.mark.parametrize(
    ("accept", "offers", "expected"),
    [
        (None, ["a/json", "a/xml"], "a/json"),
        ("a/xml", ["a/json", "a/xml"], "a/xml"),
        ("a/*;q=0.5, a/xml;q=0.4", ["a/json", "a/xml"], "a/json"),
        ("a/json;q=0, */*;q=0.1", ["a/json", "a/xml"], "a/xml"),
        ("text/html", ["a/json", "a/xml"], None),
        (
            "text/csv;q=0.9, application/sparql-results+json;q=0.8",
            ["application/sparql-results+json", "text/csv"],
            "text/csv",
        ),
    ],
)
def test_negotiation(accept, offers, expected) -> None:
    assert negotiate(accept, offers) == expected


def test_query_form_skips_strings_and_prefixes() -> None:
    assert query_form('PREFIX ask: <http://x/> CONSTRUCT { ?s ?p "SELECT" } WHERE { ?s ?p ?o }') == "CONSTRUCT"
    assert query_form("ask { ?s ?p ?o }") == "ASK"


def _parse(answer, fmt: str) -> Result:
    return Result.parse(io.BytesIO(answer.body), format=fmt)


def test_select_in_every_format_parses_back(store) -> None:
    text = f"SELECT ?s ?o WHERE {{ GRAPH <{EX}g1> {{ ?s <{EX}p> ?o }} }} ORDER BY ?s"
    j = query(store, text, accept="application/sparql-results+json")
    assert j.media_type == "application/sparql-results+json"
    rows = {(str(r["s"]), str(r["o"])) for r in _parse(j, "json")}
    assert rows == {(f"{EX}a", "一"), (f"{EX}a", "1"), (f"{EX}a", 'x,"y"'), (f"{EX}b", f"{EX}a")}
    langs = [b["o"].get("xml:lang") for b in json.loads(j.body)["results"]["bindings"]]
    assert "zh" in langs
    x = query(store, text, accept="application/sparql-results+xml")
    assert {(str(r["s"]), str(r["o"])) for r in _parse(x, "xml")} == rows
    c = query(store, text, accept="text/csv")
    assert c.media_type == "text/csv"
    assert {tuple(r) for r in csv.reader(io.StringIO(c.body.decode()))} == rows | {("s", "o")}
    t = query(store, text, accept="text/tab-separated-values")
    lines = t.body.decode().splitlines()
    assert lines[0] == "?s\t?o" and f'<{EX}a>\t"一"@zh' in lines


def test_ask_and_construct(store) -> None:
    ask = query(store, f"ASK {{ <{EX}c> ?p 2 }}", accept="application/sparql-results+xml")
    assert _parse(ask, "xml").askAnswer is True
    graph_text = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{EX}g1> {{ ?s ?p ?o }} }}"
    for media, fmt in [("text/turtle", "turtle"), ("application/ld+json", "json-ld"), ("application/rdf+xml", "xml")]:
        answer = query(store, graph_text, accept=media)
        assert answer.media_type == media
        g = Graph().parse(data=answer.body, format=fmt)
        assert len(g) == 4 and (URIRef(f"{EX}b"), URIRef(f"{EX}p"), URIRef(f"{EX}a")) in g
    with pytest.raises(NotAcceptable):
        query(store, graph_text, accept="application/sparql-results+json")


def test_default_graph_is_the_union_unless_named(store) -> None:
    text = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    count = lambda a: int(json.loads(a.body)["results"]["bindings"][0]["n"]["value"])  # noqa: E731
    assert count(query(store, text)) == 5
    assert count(query(store, text, Dataset(default_graphs=(f"{EX}g2",)))) == 1
    named = query(store, "SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } }", Dataset(named_graphs=(f"{EX}g2",)))
    assert {b["g"]["value"] for b in json.loads(named.body)["results"]["bindings"]} == {f"{EX}g2"}


def test_result_limit_stops_the_query(store) -> None:
    with pytest.raises(LimitExceeded) as err:
        query(store, "SELECT * WHERE { ?s ?p ?o }", limits=Limits(max_results=3))
    assert err.value.status == 503 and "LIMIT" in err.value.message_en


def test_time_limit_stops_the_query(store) -> None:
    many = " ".join(str(i) for i in range(300))
    text = f"SELECT * WHERE {{ VALUES ?a {{ {many} }} VALUES ?b {{ {many} }} VALUES ?c {{ {many} }} }}"
    with pytest.raises(LimitExceeded) as err:
        query(store, text, limits=Limits(timeout=0.2, max_results=10**9))
    assert "time limit" in err.value.message_en


def test_update_and_using(store) -> None:
    update(store, f"INSERT {{ GRAPH <{EX}g3> {{ ?s a <{EX}T> }} }} WHERE {{ ?s ?p ?o }}", Dataset((f"{EX}g2",)))
    rows = store.rows(f"SELECT ?s WHERE {{ GRAPH <{EX}g3> {{ ?s ?p ?o }} }}")
    assert rows == [(f"{EX}c",)]
    with pytest.raises(QueryError):
        with_using(f"WITH <{EX}g1> DELETE {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o }}", Dataset((f"{EX}g2",)))
    with pytest.raises(QueryError):
        update(store, "INSERT DATA { <http://x/a> <http://x/p> }")  # malformed: nothing written
    assert store.count() == 6


def test_workers_kill_a_query_that_blocks_and_see_new_writes(tmp_path) -> None:
    """An aggregate over a huge cross product computes for minutes before its first solution:
    the worker is killed at the limit, and the next query gets a fresh worker that sees the
    writes made meanwhile."""
    from kg.query_workers import QueryWorkers

    s = open_store(f"oxigraph:{tmp_path / 'store'}")
    s.update(f"INSERT DATA {{ GRAPH <{EX}g> {{ <{EX}a> <{EX}p> 1 }} }}")
    workers = QueryWorkers(s, size=1, snapshot_limit=1000)
    try:
        many = " ".join(str(i) for i in range(400))
        slow = (
            f"SELECT (COUNT(*) AS ?n) WHERE {{ VALUES ?a {{ {many} }} VALUES ?b {{ {many} }} VALUES ?c {{ {many} }} }}"
        )
        with pytest.raises(LimitExceeded):
            query(s, slow, limits=Limits(timeout=0.5), workers=workers)
        assert workers.killed == 1
        s.update(f"INSERT DATA {{ GRAPH <{EX}g> {{ <{EX}b> <{EX}p> 2 }} }}")
        answer = query(s, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", workers=workers)
        assert json.loads(answer.body)["results"]["bindings"][0]["n"]["value"] == "2"
        with pytest.raises(QueryError):
            query(s, "SELECT ?x WHERE { ?x ", workers=workers)  # the worker's syntax error comes back
    finally:
        workers.close()
        s.close()


def test_saved_governance_queries_run_on_the_demo(onto) -> None:
    from kg.saved_queries import saved_queries
    from kg.service import Service
    from kg.settings import Settings

    svc = Service(Settings(store="memory:"), ontology=onto)
    svc.initialize(demo=True)  # imports, propagates and validates: the audit and validation graphs are filled
    try:
        queries = saved_queries()
        assert len(queries) >= 12 and all(q.title_zh and q.title_en != q.name for q in queries)
        assert len({q.title_zh for q in queries}) == len({q.title_en for q in queries}) == len(queries)
        for q in queries:
            rows = json.loads(query(svc.store, q.text).body)["results"]["bindings"]
            assert rows, f"{q.name} returns nothing on the demo hospital"
    finally:
        svc.close()


def test_worker_snapshot_is_used_only_while_current(tmp_path) -> None:
    import time

    import pyoxigraph as ox

    from kg.query_workers import _Snapshot

    disk = ox.Store(str(tmp_path / "s"))
    disk.add(
        ox.Quad(ox.NamedNode("http://x/a"), ox.NamedNode("http://x/p"), ox.Literal("1"), ox.NamedNode("http://x/g"))
    )
    snap = _Snapshot(limit=10)
    assert snap.current(1) is None
    snap.refresh(disk, 1)
    for _ in range(100):
        if snap.current(1) is not None:
            break
        time.sleep(0.02)
    copy = snap.current(1)
    assert copy is not None and len(copy) == 1
    assert snap.current(2) is None  # a write happened since: the caller reads the disk view
    tiny = _Snapshot(limit=0)
    tiny.refresh(disk, 1)
    assert tiny.current(1) is None  # copying disabled


def test_a_worker_copies_the_store_only_once_writes_have_settled(tmp_path) -> None:
    import time

    import pyoxigraph as ox

    from kg.query_workers import _Snapshot

    disk = ox.Store(str(tmp_path / "s"))
    snap = _Snapshot(limit=10, settle=0.3)
    snap.refresh(disk, 1)
    time.sleep(0.1)
    snap.refresh(disk, 1)
    assert snap.building is None and snap.current(1) is None  # generation 1 is too young to copy
    snap.refresh(disk, 2)  # a write: the clock starts again
    time.sleep(0.35)
    snap.refresh(disk, 2)
    for _ in range(100):
        if snap.current(2) is not None:
            break
        time.sleep(0.02)
    assert snap.current(2) is not None and snap.current(1) is None
