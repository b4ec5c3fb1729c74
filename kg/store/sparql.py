"""A remote SPARQL 1.1 server (``sparql:QUERY_URL|UPDATE_URL``) through the SPARQL Protocol.

Queries and updates are form-encoded POSTs (the form every server accepts; Virtuoso hangs on a
raw ``application/sparql-query`` body). An update request is one transaction on the server.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from kg.errors import QueryError, StoreError
from kg.store.base import Changeset, Row, Triple, as_int, nt_line, sparql_term, values_clause
from kg.store.oxigraph import to_rdflib

SELECT_TYPES = "application/sparql-results+json"
GRAPH_TYPES = "application/n-triples"
_BATCH = 20_000  # triples per INSERT DATA request when bulk loading


def _term(binding: dict[str, Any]) -> Node:
    kind, value = binding["type"], binding["value"]
    if kind == "uri":
        return URIRef(value)
    if kind == "bnode":
        return BNode(value)
    if "xml:lang" in binding:
        return Literal(value, lang=binding["xml:lang"])
    datatype = binding.get("datatype")
    if datatype and datatype != "http://www.w3.org/2001/XMLSchema#string":
        return Literal(value, datatype=URIRef(datatype))
    return Literal(value)  # "literal" and Virtuoso's "typed-literal" without a datatype


class SparqlStore:
    """Any SPARQL 1.1 server; ``update_url`` defaults to ``query_url``."""

    def __init__(
        self, query_url: str, update_url: str | None = None, *, timeout: float = 60.0, auth: httpx.Auth | None = None
    ) -> None:
        self.query_url = query_url
        self.update_url = update_url or query_url
        self.descriptor = f"sparql:{query_url}|{self.update_url}"
        self._http = httpx.Client(timeout=timeout, auth=auth, follow_redirects=False)

    def _post(self, url: str, form: dict[str, str], accept: str | None = None) -> httpx.Response:
        headers = {"Accept": accept} if accept else {}
        try:
            response = self._http.post(url, data=form, headers=headers)
        except httpx.HTTPError as exc:
            raise StoreError(f"SPARQL server {url} unreachable: {exc}", f"无法连接 SPARQL 服务器 {url}：{exc}") from exc
        if response.status_code == 400:
            detail = response.text.strip()[:500]
            raise QueryError(f"the SPARQL server refused the request: {detail}", f"SPARQL 服务器拒绝了请求：{detail}")
        if response.status_code >= 300:
            detail = response.text.strip()[:300]
            raise StoreError(
                f"SPARQL server {url} answered {response.status_code}: {detail}",
                f"SPARQL 服务器 {url} 返回 {response.status_code}：{detail}",
            )
        return response

    def forward(
        self, form: list[tuple[str, str]], accept: str, timeout: float, max_bytes: int
    ) -> tuple[bytes, str | None]:
        """Relay a SPARQL Protocol query (form fields) and return the server's answer and its
        content type; stopped past ``timeout`` seconds or ``max_bytes``."""
        from kg.sparql_results import LimitExceeded, time_limit

        chunks, size = [], 0
        try:
            with self._http.stream(
                "POST",
                self.query_url,
                content=urlencode(form).encode(),  # repeated keys (default-graph-uri) kept
                headers={"Accept": accept, "Content-Type": "application/x-www-form-urlencoded"},
                timeout=timeout,
            ) as response:
                if response.status_code >= 300:
                    detail = response.read().decode(errors="replace").strip()[:500]
                    raise QueryError(
                        f"the SPARQL server refused the request ({response.status_code}): {detail}",
                        f"SPARQL 服务器拒绝了请求（{response.status_code}）：{detail}",
                    )
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise LimitExceeded(
                            f"the answer is larger than {max_bytes:,} bytes (the result-size limit); add a LIMIT",
                            f"查询结果超过 {max_bytes:,} 字节（结果大小上限）；请加 LIMIT",
                        )
                    chunks.append(chunk)
                return b"".join(chunks), response.headers.get("content-type")
        except httpx.TimeoutException as exc:
            raise time_limit(timeout) from exc
        except httpx.HTTPError as exc:
            raise StoreError(
                f"SPARQL server {self.query_url} unreachable: {exc}", f"无法连接 SPARQL 服务器 {self.query_url}：{exc}"
            ) from exc

    def _query(self, query: str, bindings: Mapping[str, Node] | None, accept: str) -> httpx.Response:
        return self._post(self.query_url, {"query": query + values_clause(bindings or {})}, accept)

    def select(self, query: str, bindings: Mapping[str, Node] | None = None) -> list[Row]:
        data = json.loads(self._query(query, bindings, SELECT_TYPES).content)
        if "results" not in data:
            raise QueryError("not a SELECT query", "不是 SELECT 查询")
        return [{k: _term(v) for k, v in b.items()} for b in data["results"]["bindings"]]

    def rows(self, query: str) -> list[tuple[str | None, ...]]:
        data = json.loads(self._query(query, None, SELECT_TYPES).content)
        if "results" not in data:
            raise QueryError("not a SELECT query", "不是 SELECT 查询")
        names = data["head"]["vars"]
        return [tuple(b[n]["value"] if n in b else None for n in names) for b in data["results"]["bindings"]]

    def ask(self, query: str, bindings: Mapping[str, Node] | None = None) -> bool:
        data = json.loads(self._query(query, bindings, SELECT_TYPES).content)
        if "boolean" not in data:
            raise QueryError("not an ASK query", "不是 ASK 查询")
        return bool(data["boolean"])

    def construct(self, query: str, bindings: Mapping[str, Node] | None = None) -> Graph:
        response = self._query(query, bindings, GRAPH_TYPES)
        g = Graph()
        for t in ox.parse(response.content, format=ox.RdfFormat.N_TRIPLES):
            g.add((to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object)))
        return g

    def update(self, request: str) -> None:
        if request.strip():
            self._post(self.update_url, {"update": request})

    def apply(self, changes: Changeset) -> None:
        self.update(changes.update_request())

    def replace_graph(self, graph: URIRef, triples: Iterable[Triple]) -> None:
        lines = "\n".join(nt_line(t) for t in triples)
        g = sparql_term(graph)
        self.update(f"DROP SILENT GRAPH {g} ;\nINSERT DATA {{ GRAPH {g} {{\n{lines}\n}} }}")

    def drop_graph(self, graph: URIRef) -> None:
        self.update(f"DROP SILENT GRAPH {sparql_term(graph)}")

    def bulk_load(self, path: Path, fmt: str, graph: URIRef) -> None:
        """Stream the file to the server in batches of INSERT DATA (one transaction each)."""
        formats = {"nt": ox.RdfFormat.N_TRIPLES, "ttl": ox.RdfFormat.TURTLE, "nq": ox.RdfFormat.N_QUADS}
        g = sparql_term(graph)
        batch: list[str] = []
        for t in ox.parse(path=str(path), format=formats[fmt]):
            batch.append(f"{t.subject} {t.predicate} {t.object} .")
            if len(batch) >= _BATCH:
                self.update(f"INSERT DATA {{ GRAPH {g} {{\n" + "\n".join(batch) + "\n} }")
                batch.clear()
        if batch:
            self.update(f"INSERT DATA {{ GRAPH {g} {{\n" + "\n".join(batch) + "\n} }")

    def triples(self, graph: URIRef) -> Iterator[Triple]:
        g = self.construct(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {sparql_term(graph)} {{ ?s ?p ?o }} }}")
        yield from g

    def graphs(self) -> set[URIRef]:
        rows = self.select("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
        return {r["g"] for r in rows if isinstance(r.get("g"), URIRef)}  # type: ignore[misc]

    def count(self, graph: URIRef | None = None) -> int:
        where = f"GRAPH {sparql_term(graph)} {{ ?s ?p ?o }}" if graph is not None else "GRAPH ?g { ?s ?p ?o }"
        rows = self.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ {where} }}")
        return as_int(rows[0].get("n")) if rows else 0

    def edges(self, predicate: URIRef, graph: URIRef) -> list[tuple[str, str]]:
        rows = self.select(
            f"SELECT ?s ?o WHERE {{ GRAPH {sparql_term(graph)} {{ ?s {sparql_term(predicate)} ?o "
            "FILTER(isIRI(?s) && isIRI(?o)) } }"
        )
        return [(str(r["s"]), str(r["o"])) for r in rows]

    def about(self, subject: str, graph: URIRef) -> list[tuple[str, str]]:
        rows = self.rows(
            f"SELECT ?p ?o WHERE {{ GRAPH {sparql_term(graph)} {{ {sparql_term(URIRef(subject))} ?p ?o }} }}"
        )
        return [(p, o) for p, o in rows if p is not None and o is not None]

    def referring(self, predicate: str, obj: str) -> list[tuple[str, str]]:
        rows = self.rows(
            f"SELECT DISTINCT ?s ?g WHERE {{ GRAPH ?g {{ ?s {sparql_term(URIRef(predicate))} {sparql_term(URIRef(obj))} }} }}"
        )
        return [(s, g) for s, g in rows if s is not None and g is not None]

    def oxigraph_view(self) -> ox.Store:
        """A snapshot of every named graph in an in-memory Oxigraph store."""
        view = ox.Store()
        for graph in self.graphs():
            response = self._post(
                self.query_url,
                {"query": f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {sparql_term(graph)} {{ ?s ?p ?o }} }}"},
                GRAPH_TYPES,
            )
            view.load(response.content, format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(str(graph)))
        return view

    def flush(self) -> None:
        """Nothing to flush: the server owns durability."""

    def close(self) -> None:
        self._http.close()
