"""Oxigraph backends: embedded and persistent (``oxigraph:PATH``) or in memory (``memory:``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import XSD
from rdflib.term import Node

from kg.errors import QueryError, StoreError
from kg.store.base import Capabilities, Changeset, Row, Triple, as_int, replace_request, sparql_term, values_clause

_FORMATS = {"nt": ox.RdfFormat.N_TRIPLES, "nq": ox.RdfFormat.N_QUADS, "ttl": ox.RdfFormat.TURTLE}


def to_rdflib(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.DefaultGraph | None) -> Node:
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        if term.datatype.value == str(XSD.string):
            return Literal(term.value)
        return Literal(term.value, datatype=URIRef(term.datatype.value))
    raise TypeError(f"unexpected term {term!r}")


def to_ox(term: Node) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is not None:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise TypeError(f"not an RDF term: {term!r}")


class OxigraphStore:
    """Oxigraph through pyoxigraph: SPARQL runs in Rust; updates are transactions."""

    def __init__(self, path: str | Path | None) -> None:
        self.path = Path(path) if path is not None else None
        self.descriptor = f"oxigraph:{self.path}" if self.path is not None else "memory:"
        self.generation = 0  # counts writes: query workers reopen their read-only view when it moves
        self.capabilities = Capabilities(native=True, snapshot_views=self.path is not None, counts_writes=True)
        try:
            self._store = ox.Store(str(self.path)) if self.path is not None else ox.Store()
        except OSError as exc:
            hint_en = (
                " (is another medgrade process, e.g. 'medgrade serve', using it?)" if "lock" in str(exc).lower() else ""
            )
            hint_zh = "（是否有其他 medgrade 进程，如 medgrade serve，正在使用？）" if hint_en else ""
            raise StoreError(
                f"cannot open the store at {self.path}: {exc}{hint_en}",
                f"无法打开位于 {self.path} 的存储：{exc}{hint_zh}",
            ) from exc

    @property
    def native(self) -> ox.Store:
        """The pyoxigraph store, for the SPARQL Protocol (which needs its own dataset options)."""
        return self._store

    # --- queries -----------------------------------------------------------------------------
    def _run(self, query: str, bindings: Mapping[str, Node] | None) -> object:
        try:
            return self._store.query(query + values_clause(bindings or {}))
        except SyntaxError as exc:
            raise QueryError(f"SPARQL syntax error: {exc}", f"SPARQL 语法错误：{exc}") from exc
        except (OSError, ValueError, RuntimeError) as exc:
            raise QueryError(f"query failed: {exc}", f"查询失败：{exc}") from exc

    def select(self, query: str, bindings: Mapping[str, Node] | None = None) -> list[Row]:
        result = self._run(query, bindings)
        if not isinstance(result, ox.QuerySolutions):
            raise QueryError("not a SELECT query", "不是 SELECT 查询")
        names = [v.value for v in result.variables]
        rows: list[Row] = []
        for solution in result:
            row: Row = {}
            for name in names:
                value = solution[name]
                if value is not None:
                    row[name] = to_rdflib(value)
            rows.append(row)
        return rows

    def rows(self, query: str) -> list[tuple[str | None, ...]]:
        result = self._run(query, None)
        if not isinstance(result, ox.QuerySolutions):
            raise QueryError("not a SELECT query", "不是 SELECT 查询")
        width = len(result.variables)
        # unrolled for the usual widths: a generator per row costs more than decoding the row
        if width == 1:
            return [(None if a is None else a.value,) for (a,) in result]
        if width == 2:
            return [(None if a is None else a.value, None if b is None else b.value) for a, b in result]
        if width == 3:
            return [
                (None if a is None else a.value, None if b is None else b.value, None if c is None else c.value)
                for a, b, c in result
            ]
        return [tuple(None if t is None else t.value for t in s) for s in result]

    def ask(self, query: str, bindings: Mapping[str, Node] | None = None) -> bool:
        result = self._run(query, bindings)
        if not isinstance(result, ox.QueryBoolean):
            raise QueryError("not an ASK query", "不是 ASK 查询")
        return bool(result)

    def construct(self, query: str, bindings: Mapping[str, Node] | None = None) -> Graph:
        result = self._run(query, bindings)
        if not isinstance(result, ox.QueryTriples):
            raise QueryError("not a CONSTRUCT or DESCRIBE query", "不是 CONSTRUCT 或 DESCRIBE 查询")
        g = Graph()
        for t in result:
            g.add((to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object)))
        return g

    # --- writes ------------------------------------------------------------------------------
    def update(self, request: str) -> None:
        if not request.strip():
            return
        try:
            self._store.update(request)
            self.generation += 1
        except SyntaxError as exc:
            raise QueryError(f"SPARQL Update syntax error: {exc}", f"SPARQL 更新语法错误：{exc}") from exc
        except OSError as exc:
            raise StoreError(f"the store refused the update: {exc}", f"存储拒绝了更新：{exc}") from exc

    def apply(self, changes: Changeset) -> None:
        self.update(changes.update_request())

    def replace_graph(self, graph: URIRef, triples: Iterable[Triple]) -> None:
        self.update(replace_request(graph, triples))

    def drop_graph(self, graph: URIRef) -> None:
        self.update(f"DROP SILENT GRAPH {sparql_term(graph)}")

    def bulk_load(self, path: Path, fmt: str, graph: URIRef, *, trusted: bool = False) -> None:
        try:
            if fmt == "nq":  # quads name their graph
                self._store.bulk_load(path=str(path), format=_FORMATS[fmt], lenient=trusted)
            else:
                self._store.bulk_load(
                    path=str(path), format=_FORMATS[fmt], to_graph=ox.NamedNode(str(graph)), lenient=trusted
                )
            self._store.flush()
        except SyntaxError as exc:
            raise QueryError(f"{path.name}: {exc}", f"{path.name}：{exc}") from exc
        finally:
            self.generation += 1

    # --- reads -------------------------------------------------------------------------------
    def triples(self, graph: URIRef) -> Iterator[Triple]:
        for q in self._store.quads_for_pattern(None, None, None, ox.NamedNode(str(graph))):
            yield to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object)  # type: ignore[arg-type]

    def graphs(self) -> set[URIRef]:
        found = set()
        for g in self._store.named_graphs():
            if isinstance(g, ox.NamedNode) and next(iter(self._store.quads_for_pattern(None, None, None, g)), None):
                found.add(URIRef(g.value))
        return found

    def count(self, graph: URIRef | None = None) -> int:
        if graph is None:
            rows = self.select("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
        else:
            rows = self.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {sparql_term(graph)} {{ ?s ?p ?o }} }}")
        return as_int(rows[0].get("n")) if rows else 0

    def edges(self, predicate: URIRef, graph: URIRef) -> list[tuple[str, str]]:
        out = []
        for q in self._store.quads_for_pattern(None, ox.NamedNode(str(predicate)), None, ox.NamedNode(str(graph))):
            if isinstance(q.subject, ox.NamedNode) and isinstance(q.object, ox.NamedNode):
                out.append((q.subject.value, q.object.value))
        return out

    def about(self, subject: str, graph: URIRef) -> list[tuple[str, str]]:
        return [
            (q.predicate.value, q.object.value)
            for q in self._store.quads_for_pattern(ox.NamedNode(subject), None, None, ox.NamedNode(str(graph)))
            if not isinstance(q.object, ox.Triple)  # RDF-star quoted triples: not medgrade's data
        ]

    def referring(self, predicate: str, obj: str) -> list[tuple[str, str]]:
        return [
            (q.subject.value, q.graph_name.value)
            for q in self._store.quads_for_pattern(None, ox.NamedNode(predicate), ox.NamedNode(obj), None)
            if isinstance(q.graph_name, ox.NamedNode) and not isinstance(q.subject, ox.Triple)
        ]

    def oxigraph_view(self) -> ox.Store:
        return self._store

    def forward(
        self, form: list[tuple[str, str]], accept: str, timeout: float, max_bytes: int
    ) -> tuple[bytes, str | None]:
        raise StoreError(
            "an embedded store answers SPARQL queries itself; there is no server to relay them to",
            "内嵌存储自行回答 SPARQL 查询，没有可转发的服务器",
        )

    def exclusive(self) -> AbstractContextManager[None]:
        """Nothing to take: the store's file lock makes this process its only writer."""
        return nullcontext()

    def flush(self) -> None:
        if self.path is not None:
            self._store.flush()

    def __enter__(self) -> OxigraphStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.flush()
        del self._store
        if self.path is not None:  # views elsewhere may sit in reference cycles: free the lock now
            import gc

            gc.collect()
