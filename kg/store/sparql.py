"""A remote SPARQL 1.1 server (``sparql:QUERY_URL|UPDATE_URL``) through the SPARQL Protocol.

Queries and updates are form-encoded POSTs (the form every server accepts; Virtuoso hangs on a
raw ``application/sparql-query`` body). Tested against the Oxigraph server and Virtuoso 7.

* **Atomic changes.** SPARQL servers differ in what they make atomic: Oxigraph, Fuseki and
  GraphDB a whole request, Virtuoso only each operation of it (it commits after every
  statement). A changeset is therefore written as *one* ``DELETE … INSERT … WHERE`` operation,
  which every server applies all or nothing. Its data is first sent, in batches, into private
  staging graphs (``urn:medgrade:staging:…``, invisible to medgrade) that the final operation
  reads, and which are dropped afterwards.
* **Request size.** No request carries more than :data:`BATCH` triples: Virtuoso's SPARQL
  compiler runs out of memory at about 5,000 lines of one request.
* **Whose graphs.** A shared server holds graphs of its own (Virtuoso's system graphs): the
  store is the graphs under ``https://w3id.org/medgrade/`` and those its meta graph records
  (ontology modules, shapes), so listings and counts leave the others out.
* **Accounts.** ``user``/``password`` answer the server's challenge, HTTP Basic or Digest (the
  update endpoint of Virtuoso, ``/sparql-auth``, asks for Digest).
"""

from __future__ import annotations

import io
import json
import re
import time
import uuid
from collections.abc import Generator, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from kg.errors import QueryError, StoreError
from kg.store.base import (
    Capabilities,
    Changeset,
    Graphs,
    Quad,
    Row,
    Triple,
    as_int,
    nt_line,
    parts_pattern,
    replace_request,
    sparql_term,
    values_clause,
)
from kg.store.lease import Lease
from kg.store.oxigraph import to_rdflib

SELECT_TYPES = "application/sparql-results+json"
GRAPH_TYPES = "application/n-triples"
BATCH = 2_000  # triples per request (Virtuoso's compiler gives up near 5,000 lines)
BLANK_BATCH = 250  # triples per INSERT {…} WHERE {} (each template triple becomes SQL in Virtuoso)
INLINE_ROOTS = 100  # subjects named inline (VALUES) in a change; more are staged (Virtuoso plans a
# join with a staged graph badly: a whole-graph scan per change, seconds to a minute on the demo)
SCOPE = "https://w3id.org/medgrade/"  # the store's graphs on a shared server (and those meta records)
STAGING = "urn:medgrade:staging:"
GRAPHS_TTL = 10.0  # seconds a listing of the store's graphs is reused
_DCT_TYPE = "http://purl.org/dc/terms/type"
_DCT_ID = "http://purl.org/dc/terms/identifier"
# Every write also replaces one triple in a graph of its own (outside the store's graphs): an
# id of that write. A process's in-memory copy of the store is current while the id is the one
# of its own last write.
WRITTEN = URIRef("urn:medgrade:written")
WRITTEN_LAST = URIRef("urn:medgrade:written#last")


def _written_stamp() -> Quad:
    return (WRITTEN_LAST, URIRef(_DCT_ID), Literal(uuid.uuid4().hex), WRITTEN)


class ServerAuth(httpx.Auth):
    """HTTP Basic or Digest, whichever the server's 401 challenge names (then kept)."""

    def __init__(self, user: str, password: str) -> None:
        self.basic = httpx.BasicAuth(user, password)
        self.digest = httpx.DigestAuth(user, password)
        self.scheme: httpx.Auth | None = None

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self.scheme is not None:
            yield from self.scheme.auth_flow(request)
            return
        response = yield request
        if response.status_code != 401:
            return
        challenge = response.headers.get("www-authenticate", "").lower()
        self.scheme = self.digest if challenge.startswith("digest") else self.basic
        yield from self.scheme.auth_flow(request)


class SparqlStore:
    """Any SPARQL 1.1 server; ``update_url`` defaults to ``query_url``."""

    def __init__(
        self,
        query_url: str,
        update_url: str | None = None,
        *,
        timeout: float = 60.0,
        user: str | None = None,
        password: str | None = None,
    ) -> None:
        self.query_url = query_url
        self.update_url = update_url or query_url
        self.descriptor = f"sparql:{query_url}|{self.update_url}"
        self.capabilities = Capabilities(relays_protocol=True, shared=True, max_update_triples=BATCH)
        self.path: Path | None = None
        self.generation = 0  # writes by other processes are not counted here: no caches keyed by it
        self._graphs: tuple[float, set[URIRef]] | None = None  # listed when, and what
        self._mirror: ox.Store | None = None  # a copy for pyshacl, kept while no one else writes
        self._mirror_written: str | None = None  # the write stamp the mirror is at
        self._last_written = ""
        auth = ServerAuth(user, password or "") if user else None
        self._http = httpx.Client(timeout=timeout, auth=auth, follow_redirects=False)
        # several processes may write this store: a writer holds its lease (kg.store.lease)
        self.lease = Lease(lambda request: self._post(self.update_url, {"update": request}), self.rows)

    def exclusive(self) -> AbstractContextManager[None]:
        """Hold the server's write lease (one medgrade process writes at a time; see
        :mod:`kg.store.lease`)."""
        return self.lease.held()

    def _post(self, url: str, form: dict[str, str], accept: str | None = None) -> httpx.Response:
        headers = {"Accept": accept} if accept else {}
        try:
            response = self._http.post(url, data=form, headers=headers)
        except httpx.HTTPError as exc:
            raise StoreError(f"SPARQL server {url} unreachable: {exc}", f"无法连接 SPARQL 服务器 {url}：{exc}") from exc
        self._check(response, url, "update" if "update" in form else "query")
        return response

    @staticmethod
    def _check(response: httpx.Response, url: str, kind: str) -> None:
        """A clear error for a refused request (the account, the request itself, the server)."""
        if response.status_code < 300:
            return
        detail = response.text.strip()[:500]
        if response.status_code in (401, 403):
            raise StoreError(
                f"SPARQL server {url} refused the account ({response.status_code}) for a {kind}: set "
                "MEDGRADE_SPARQL_USER and MEDGRADE_SPARQL_PASSWORD to an account allowed to do it",
                f"SPARQL 服务器 {url} 拒绝了账号执行{'更新' if kind == 'update' else '查询'}（{response.status_code}）："
                "请将 MEDGRADE_SPARQL_USER 与 MEDGRADE_SPARQL_PASSWORD 设为有相应权限的账号",
            )
        if response.status_code == 400:
            raise QueryError(f"the SPARQL server refused the request: {detail}", f"SPARQL 服务器拒绝了请求：{detail}")
        raise StoreError(
            f"SPARQL server {url} answered {response.status_code}: {detail}",
            f"SPARQL 服务器 {url} 返回 {response.status_code}：{detail}",
        )

    def forward(
        self, form: list[tuple[str, str]], accept: str, timeout: float, max_bytes: int
    ) -> tuple[bytes, str | None]:
        """Relay a SPARQL Protocol query (form fields) and return the server's answer and its
        content type; stopped past ``timeout`` seconds or ``max_bytes``."""
        from kg.errors import LimitExceeded
        from kg.sparql_results import time_limit

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
        return self._post(self.query_url, {"query": _with_values(query, bindings)}, accept)

    def _solutions(self, query: str, bindings: Mapping[str, Node] | None = None) -> Iterator[tuple[list[str], Any]]:
        """The query's variables and solutions, parsed (by Oxigraph) as the answer streams in."""
        try:
            with self._http.stream(
                "POST",
                self.query_url,
                data={"query": _with_values(query, bindings)},
                headers={"Accept": SELECT_TYPES},
            ) as response:
                if response.status_code >= 300:
                    response.read()
                    self._check(response, self.query_url, "query")
                try:
                    parsed = ox.parse_query_results(
                        io.BufferedReader(_Stream(response.iter_bytes())), format=ox.QueryResultsFormat.JSON
                    )
                except SyntaxError as exc:
                    raise QueryError(
                        f"unreadable answer from the SPARQL server: {exc}", f"SPARQL 服务器的结果无法解析：{exc}"
                    ) from exc
                if not isinstance(parsed, ox.QuerySolutions):
                    raise QueryError("not a SELECT query", "不是 SELECT 查询")
                names = [v.value for v in parsed.variables]
                yield names, parsed
        except httpx.HTTPError as exc:
            raise StoreError(
                f"SPARQL server {self.query_url} unreachable: {exc}", f"无法连接 SPARQL 服务器 {self.query_url}：{exc}"
            ) from exc

    def select(self, query: str, bindings: Mapping[str, Node] | None = None) -> list[Row]:
        out: list[Row] = []
        for names, solutions in self._solutions(query, bindings):
            for solution in solutions:
                row: Row = {}
                for n in names:
                    term = solution[n]
                    if term is not None:
                        row[n] = to_rdflib(canonical(term))
                out.append(row)
        return out

    def rows(self, query: str) -> list[tuple[str | None, ...]]:
        """Plain strings, parsed as the answer streams in (a million edges never sit in memory
        as one JSON document)."""
        out: list[tuple[str | None, ...]] = []
        for names, solutions in self._solutions(query):
            for solution in solutions:
                out.append(tuple(_plain(solution[n]) for n in names))
        return out

    def ask(self, query: str, bindings: Mapping[str, Node] | None = None) -> bool:
        data = json.loads(self._query(query, bindings, SELECT_TYPES).content)
        if "boolean" in data:
            return bool(data["boolean"])
        if data.get("head", {}).get("vars") == ["__ASK_RETVAL"]:  # Virtuoso, for some ASK queries
            return any(b["__ASK_RETVAL"]["value"] in ("1", "true") for b in data["results"]["bindings"])
        raise QueryError("not an ASK query", "不是 ASK 查询")

    def construct(self, query: str, bindings: Mapping[str, Node] | None = None) -> Graph:
        response = self._query(query, bindings, GRAPH_TYPES)
        g = Graph()
        for t in ox.parse(response.content, format=ox.RdfFormat.N_TRIPLES):
            g.add((to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object)))
        return g

    def update(self, request: str) -> None:
        """Run ``request`` with a new write stamp (its last operation), and on the mirror."""
        request = request.strip()
        while request.endswith(";"):
            request = request[:-1].rstrip()
        if request:
            written = _written_stamp()
            self._last_written = str(written[2])
            self._send(f"{request} ;\n{Changeset(WRITTEN, stamps=[written]).update_request()}")
            self._mirrored(request, self._last_written)

    def _send(self, request: str) -> None:
        self.lease.check()
        if self._graphs is not None and _adds_graph(request, self._graphs[1]):
            self._graphs = None
        self._post(self.update_url, {"update": request})

    def _mirrored(self, request: str, written: str) -> None:
        """Apply a write the server took to the mirror too (dropped if that fails)."""
        if self._mirror is None:
            return
        try:
            self._mirror.update(request)
            self._mirror_written = written
        except (SyntaxError, OSError, ValueError, RuntimeError):
            self._mirror = None

    def apply(self, changes: Changeset) -> None:
        self._swap(changes.graph, changes.subjects, changes.removals, changes.triples, changes.extra, changes.stamps)
        self._mirrored(changes.update_request(), self._last_written)

    def replace_graph(self, graph: URIRef, triples: Iterable[Triple]) -> None:
        triples = list(triples)
        self._swap(graph, set(), [], triples, [], [], clear=True)
        self._mirrored(replace_request(graph, triples), self._last_written)

    def drop_graph(self, graph: URIRef) -> None:
        self.update(f"DROP SILENT GRAPH {sparql_term(graph)}")

    def _swap(
        self,
        graph: URIRef,
        subjects: set[URIRef],
        removals: list[Triple],
        triples: list[Triple],
        extra: list[Quad],
        stamps: list[Quad],
        clear: bool = False,
    ) -> None:
        """One ``DELETE … INSERT … WHERE`` operation: remove ``subjects`` with their parts, the
        ``removals`` (or, with ``clear``, everything) from ``graph``; add ``triples`` to it and
        ``extra`` to theirs; make each stamp's object the only value of its subject's property.
        The data is staged first, in private graphs the operation reads (no ``VALUES``
        branches and no graph variables in templates: Virtuoso mishandles both). The subjects
        are named inline in the pattern that finds their parts, up to :data:`INLINE_ROOTS`
        (Virtuoso joins a staged list of them with a scan of the whole graph: up to a minute
        for one subject of the demo hospital), and staged beyond that."""
        staging = f"{STAGING}{uuid.uuid4()}/"
        written = _written_stamp()
        self._last_written = str(written[2])
        stamps = [*stamps, written]
        extra = [*extra, *stamps]
        targets = [graph, *dict.fromkeys(q for *_, q in extra if q != graph)]
        stage_of = {t: URIRef(f"{staging}{i}") for i, t in enumerate(targets)}
        roots, dropped = URIRef(staging + "roots"), URIRef(staging + "removals")
        inline = len(subjects) <= INLINE_ROOTS
        quads: list[Quad] = [] if inline else [(r, RDF_TYPE, STAGED_ROOT, roots) for r in sorted(subjects)]
        quads += [(s, p, o, dropped) for s, p, o in removals]
        quads += [(s, p, o, stage_of[graph]) for s, p, o in triples]
        quads += [(s, p, o, stage_of[q]) for s, p, o, q in extra]
        g = sparql_term(graph)
        branches, forget = [], []
        if subjects:
            source = None if inline else f"GRAPH {sparql_term(roots)} {{ ?root a {sparql_term(STAGED_ROOT)} }}"
            branches.append(f"{{ GRAPH {g} {{ {parts_pattern(sorted(subjects), source)} ?s ?p ?o }} }}")
        if removals:
            branches.append(f"{{ GRAPH {sparql_term(dropped)} {{ ?s ?p ?o }} }}")
        if clear:
            branches.append(f"{{ GRAPH {g} {{ ?s ?p ?o }} }}")
        for i, (s, p, _, q) in enumerate(stamps):  # their old values
            old = f"GRAPH {sparql_term(q)} {{ {sparql_term(s)} {sparql_term(p)} ?old{i} }}"
            branches.append(f"{{ {old} }}")
            forget.append(old)
        staged = {q for *_, q in quads}
        used = [t for t in targets if stage_of[t] in staged]
        branches += [f"{{ GRAPH {sparql_term(stage_of[t])} {{ ?s{i} ?p{i} ?o{i} }} }}" for i, t in enumerate(used)]
        template = " ".join(f"GRAPH {sparql_term(t)} {{ ?s{i} ?p{i} ?o{i} }}" for i, t in enumerate(used))
        if not branches:
            return
        delete = f"DELETE {{ GRAPH {g} {{ ?s ?p ?o }} {' '.join(forget)} }}\n"  # always: Virtuoso fails a bare INSERT
        insert = f"INSERT {{ {template} }}\n" if template else ""
        try:
            self._stage(quads)
            self._send(delete + insert + "WHERE {\n" + "\nUNION ".join(branches) + "\n}")
        finally:
            if staged:
                self._send(" ;\n".join(f"DROP SILENT GRAPH {sparql_term(sg)}" for sg in staged))

    def _stage(self, quads: list[Quad]) -> None:
        """Send ``quads`` (to staging graphs) in batches, each blank node's quads in one batch
        (a label names one node only within a request). Blank nodes go through ``INSERT {…}
        WHERE {}``: Virtuoso refuses them in ``INSERT DATA``, and compiles each template triple
        into SQL, so those batches are smaller."""
        blank = [q for q in quads if isinstance(q[0], BNode) or isinstance(q[2], BNode)]
        ground = [q for q in quads if not (isinstance(q[0], BNode) or isinstance(q[2], BNode))]
        for batches, form in (
            (_batches(ground, BATCH), "INSERT DATA {{\n{}\n}}"),
            (_batches(blank, BLANK_BATCH), "INSERT {{\n{}\n}} WHERE {{}}"),
        ):
            for batch in batches:
                by_graph: dict[URIRef, list[str]] = {}
                for s, p, o, q in batch:
                    by_graph.setdefault(q, []).append(nt_line((s, p, o)))
                body = "\n".join(
                    f"GRAPH {sparql_term(q)} {{\n" + "\n".join(lines) + "\n}" for q, lines in by_graph.items()
                )
                self._send(form.format(body))

    def bulk_load(self, path: Path, fmt: str, graph: URIRef, *, trusted: bool = False) -> None:
        """Stream the file to the server in batches of INSERT DATA (one transaction each)."""
        formats = {"nt": ox.RdfFormat.N_TRIPLES, "ttl": ox.RdfFormat.TURTLE, "nq": ox.RdfFormat.N_QUADS}
        g = sparql_term(graph)
        batch: list[str] = []
        for t in ox.parse(path=str(path), format=formats[fmt]):
            batch.append(f"{t.subject} {t.predicate} {t.object} .")
            if len(batch) >= BATCH:
                self._send(f"INSERT DATA {{ GRAPH {g} {{\n" + "\n".join(batch) + "\n} }")
                batch.clear()
        if batch:
            self._send(f"INSERT DATA {{ GRAPH {g} {{\n" + "\n".join(batch) + "\n} }")
        self._mirror = None  # copied again when next needed
        self._send(Changeset(WRITTEN, stamps=[_written_stamp()]).update_request())

    def triples(self, graph: URIRef) -> Iterator[Triple]:
        g = self.construct(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {sparql_term(graph)} {{ ?s ?p ?o }} }}")
        yield from g

    def graphs(self) -> set[URIRef]:
        """The store's graphs that hold triples: medgrade's namespace and those meta records.

        Listing them scans the server's quads, so the answer is kept for :data:`GRAPHS_TTL`
        seconds (until this store writes): the SPARQL endpoint names them in every request.
        Graphs come and go only when the ontology or the shapes are loaded or reloaded."""
        now = time.monotonic()
        if self._graphs is not None and now - self._graphs[0] < GRAPHS_TTL:
            return set(self._graphs[1])
        rows = self.rows(
            f"""SELECT DISTINCT ?g WHERE {{
  {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?g), {sparql_term(Literal(SCOPE))})) }}
  UNION {{ GRAPH {sparql_term(Graphs.META)} {{ ?g <{_DCT_TYPE}> ?role }}
          FILTER(isIRI(?g) && EXISTS {{ GRAPH ?g {{ ?s ?p ?o }} }}) }}
}}"""
        )
        found = {URIRef(g) for (g,) in rows if g and not g.startswith(STAGING)}
        self._graphs = (now, found)
        return set(found)

    def count(self, graph: URIRef | None = None) -> int:
        graphs = [graph] if graph is not None else sorted(self.graphs())
        if not graphs:
            return 0
        values = " ".join(sparql_term(g) for g in graphs)
        rows = self.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ VALUES ?g {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }}")
        return as_int(rows[0].get("n")) if rows else 0

    def edges(self, predicate: URIRef, graph: URIRef) -> list[tuple[str, str]]:
        rows = self.rows(
            f"SELECT ?s ?o WHERE {{ GRAPH {sparql_term(graph)} {{ ?s {sparql_term(predicate)} ?o "
            "FILTER(isIRI(?s) && isIRI(?o)) } }"
        )
        return [(s, o) for s, o in rows if s is not None and o is not None]

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

    @property
    def native(self) -> ox.Store:
        raise StoreError(
            "a SPARQL server's store is not an Oxigraph store in this process",
            "SPARQL 服务器上的存储不是本进程中的 Oxigraph 存储",
        )

    def oxigraph_view(self) -> ox.Store:
        """The store's graphs in an in-memory Oxigraph store (pyshacl reads it). The copy is
        kept and follows this process's own writes; it is made again when the server's write
        stamp shows a write by anyone else (another process, or a write the copy missed)."""
        written = self._written()
        if self._mirror is not None and written is not None and written == self._mirror_written:
            return self._mirror
        view = ox.Store()
        for graph in self.graphs():
            response = self._post(
                self.query_url,
                {"query": f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {sparql_term(graph)} {{ ?s ?p ?o }} }}"},
                GRAPH_TYPES,
            )
            view.load(response.content, format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(str(graph)))
        self._mirror, self._mirror_written = view, written  # the stamp read before the copy
        return view

    def _written(self) -> str | None:
        rows = self.rows(
            f"SELECT ?v WHERE {{ GRAPH {sparql_term(WRITTEN)} {{ {sparql_term(WRITTEN_LAST)} <{_DCT_ID}> ?v }} }}"
        )
        return rows[0][0] if len(rows) == 1 else None

    def flush(self) -> None:
        """Nothing to flush: the server owns durability."""

    def __enter__(self) -> SparqlStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()


RDF_TYPE = URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
STAGED_ROOT = URIRef("urn:medgrade:staging#Root")


def _batches(quads: list[Quad], size: int) -> Iterator[list[Quad]]:
    """``quads`` in batches of about ``size``, the quads sharing a blank node in one batch."""
    parent: dict[BNode, BNode] = {}

    def find(b: BNode) -> BNode:
        while parent.get(b, b) != b:
            b = parent[b]
        return b

    for q in quads:
        blanks = [x for x in (q[0], q[2]) if isinstance(x, BNode)]
        for b in blanks:
            parent.setdefault(b, b)
        if len(blanks) == 2 and find(blanks[0]) != find(blanks[1]):
            parent[find(blanks[0])] = find(blanks[1])
    groups: dict[BNode, list[Quad]] = {}
    batch: list[Quad] = []
    for q in quads:
        blank = next((x for x in (q[0], q[2]) if isinstance(x, BNode)), None)
        if blank is not None:
            groups.setdefault(find(blank), []).append(q)
            continue
        batch.append(q)
        if len(batch) >= size:
            yield batch
            batch = []
    for group in groups.values():
        if batch and len(batch) + len(group) > size:
            yield batch
            batch = []
        batch.extend(group)
    if batch:
        yield batch


_WHERE = re.compile(r"\bWHERE\s*\{|\bASK\s*\{", re.I)
_BOOLEAN = "http://www.w3.org/2001/XMLSchema#boolean"


def _with_values(query: str, bindings: Mapping[str, Node] | None) -> str:
    """``query`` with the bindings as a ``VALUES`` block at the start of its WHERE group (the
    same join as a trailing VALUES clause, which Virtuoso refuses after ASK and for variables
    not projected)."""
    if not bindings:
        return query
    block = values_clause(bindings).strip()
    m = _WHERE.search(query)
    return query[: m.end()] + " " + block + " " + query[m.end() :] if m else query + "\n" + block


_NAMED_GRAPH = re.compile(r"\bGRAPH\s*<([^>]*)>", re.I)
_COPYING = re.compile(r"\b(ADD|COPY|MOVE)\b", re.I)


def _adds_graph(request: str, known: set[URIRef]) -> bool:
    """Whether an update may add a graph to ``known`` (so that a listing must be made again)."""
    named = {g for g in _NAMED_GRAPH.findall(request) if not g.startswith(STAGING)}
    return bool(named - {str(g) for g in known}) or _COPYING.search(request) is not None


def canonical(term: Any) -> Any:
    """Booleans in their canonical form (Virtuoso answers ``"1"^^xsd:boolean``)."""
    if isinstance(term, ox.Literal) and term.datatype.value == _BOOLEAN and term.value in ("1", "0"):
        return ox.Literal("true" if term.value == "1" else "false", datatype=term.datatype)
    return term


def _plain(term: Any) -> str | None:
    return None if term is None else str(canonical(term).value)


class _Stream(io.RawIOBase):
    """A readable file over an iterator of byte chunks (an HTTP response as it arrives)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks, self._rest = chunks, b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._rest:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._rest = chunk
        n = min(len(buffer), len(self._rest))
        buffer[:n] = self._rest[:n]
        self._rest = self._rest[n:]
        return n
