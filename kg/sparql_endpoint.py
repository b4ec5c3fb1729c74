"""The SPARQL 1.1 Protocol's work, independent of HTTP: run a query or an update on the store's
own engine with the request's dataset, within limits, and serialise the answer in the format
the client accepts. Used by ``/sparql`` and by ``medgrade query``.

Dataset: without ``default-graph-uri`` (and without ``FROM`` in the query) the default graph is
the union of all named graphs — the inventory, the inferred graph, the ontology, the audit
trail — so a plain ``?s ?p ?o`` pattern sees everything; ``GRAPH`` names one graph.

On the embedded store the query runs in Oxigraph; solutions are serialised as they are pulled,
so the time limit and the result-size limit stop a query between two solutions. On a remote
store (``sparql:``) the request is forwarded as is and the server's answer relayed; the time
limit is the HTTP timeout and the result limit a byte cap.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyoxigraph as ox

from kg.errors import NotAcceptable, QueryError, StoreError
from kg.sparql_guard import TOKEN, check, check_dataset, dataset_iris, keywords
from kg.sparql_results import SELECT_TYPES, guarded, time_limit, write_boolean, write_select
from kg.store import Store
from kg.store.sparql import canonical

if TYPE_CHECKING:
    from kg.query_workers import QueryWorkers

GRAPH_TYPES = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "text/plain": ox.RdfFormat.N_TRIPLES,
}
BYTES_PER_RESULT = 1024  # the byte cap of a relayed answer, per allowed result


@dataclass(frozen=True)
class Limits:
    timeout: float = 30.0  # seconds
    max_results: int = 100_000  # solutions or triples


@dataclass(frozen=True)
class Dataset:
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Answer:
    body: bytes
    media_type: str


def _ranges(accept: str | None) -> list[tuple[str, str, float, int]]:
    """The media ranges of an Accept header: (type, subtype, q, order)."""
    out = []
    for n, part in enumerate((accept or "*/*").split(",")):
        fields = [f.strip() for f in part.split(";")]
        if not fields[0]:
            continue
        kind, _, sub = fields[0].lower().partition("/")
        q = 1.0
        for f in fields[1:]:
            name, _, value = f.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = max(0.0, min(1.0, float(value)))
                except ValueError:
                    q = 0.0
        out.append((kind, sub or "*", q, n))
    return out


def negotiate(accept: str | None, offers: Sequence[str]) -> str | None:
    """The offer the Accept header prefers (q-values, wildcards; the most specific range decides
    an offer's q; ties go to the earlier offer), or None when nothing is acceptable."""
    ranges = _ranges(accept)
    best: tuple[float, int] | None = None
    chosen = None
    for i, offer in enumerate(offers):
        kind, _, sub = offer.partition("/")
        matches = [
            (2 if (k, s) == (kind, sub) else 1 if (k == kind and s == "*") else 0, q)
            for k, s, q, _ in ranges
            if (k, s) == (kind, sub) or (k == kind and s == "*") or (k, s) == ("*", "*")
        ]
        if not matches:
            continue
        q = max(matches)[1]
        if q > 0 and (best is None or (q, -i) > best):
            best, chosen = (q, -i), offer
    return chosen


_FORM = re.compile(r"\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", re.IGNORECASE)


def query_form(text: str) -> str:
    """SELECT, ASK, CONSTRUCT or DESCRIBE: the first such keyword outside strings and IRIs."""
    for m in TOKEN.finditer(text):
        word = m.group("word")
        if word and _FORM.fullmatch(word):
            return word.upper()
    raise QueryError("not a SPARQL query (no SELECT, ASK, CONSTRUCT or DESCRIBE)", "不是 SPARQL 查询")


def query(
    store: Store,
    text: str,
    dataset: Dataset = Dataset(),
    accept: str | None = None,
    limits: Limits = Limits(),
    workers: QueryWorkers | None = None,
) -> Answer:
    """Run a query; the answer in the preferred acceptable format. With ``workers`` (embedded
    store on disk) the query runs in a worker process that is killed at the time limit."""
    check(text)
    _check_graphs(store, [*dataset_iris(text), *dataset.default_graphs, *dataset.named_graphs])
    form = query_form(text)
    offers = list(SELECT_TYPES) if form in ("SELECT", "ASK") else list(GRAPH_TYPES)
    media = negotiate(accept, offers)
    if media is None:
        raise NotAcceptable(
            f"none of the formats in Accept: {accept} can carry a {form} answer; offered: {', '.join(offers)}",
            f"Accept 中没有能承载 {form} 结果的格式；可提供：{', '.join(offers)}",
        )
    if workers is not None and workers.serves(store):
        body = workers.run(store, text, dataset, media, limits)
    elif store.capabilities.native:
        body = execute(store.native, text, dataset, media, limits)
    else:
        return _relay(store, text, dataset, media, limits)
    return Answer(body, media if media != "text/plain" else "application/n-triples")


def _check_graphs(store: Store, iris: list[str]) -> None:
    if iris:
        check_dataset(iris, {str(g) for g in store.graphs()})


def execute(native: ox.Store, text: str, dataset: Dataset, media: str, limits: Limits) -> bytes:
    """Run a checked query on a pyoxigraph store and serialise it as ``media``."""
    kwargs: dict[str, object] = {}
    if dataset.default_graphs:
        kwargs["default_graph"] = [ox.NamedNode(g) for g in dataset.default_graphs]
    else:
        kwargs["use_default_graph_as_union"] = True
    if dataset.named_graphs:
        kwargs["named_graphs"] = [ox.NamedNode(g) for g in dataset.named_graphs]
    deadline = time.monotonic() + limits.timeout
    try:
        result = native.query(text, **kwargs)  # type: ignore[arg-type]
        if isinstance(result, ox.QueryBoolean):
            body = write_boolean(bool(result), SELECT_TYPES[media])
        elif isinstance(result, ox.QuerySolutions):
            names = [v.value for v in result.variables]
            body = write_select(names, guarded(result, deadline, limits.max_results), SELECT_TYPES[media])
        else:
            triples = list(guarded(result, deadline, limits.max_results))
            body = ox.serialize(triples, format=GRAPH_TYPES[media]) or b""
    except SyntaxError as exc:
        raise QueryError(f"SPARQL syntax error: {exc}", f"SPARQL 语法错误：{exc}") from exc
    except (OSError, ValueError, RuntimeError) as exc:
        raise QueryError(f"query failed: {exc}", f"查询失败：{exc}") from exc
    if time.monotonic() > deadline:
        raise time_limit(limits.timeout)
    return body


def update(store: Store, text: str, using: Dataset = Dataset()) -> None:
    """Run an update (one transaction). ``using`` (``using-graph-uri``/``using-named-graph-uri``)
    becomes ``USING``/``USING NAMED`` of every operation with a WHERE clause."""
    check(text)
    _check_graphs(store, [*dataset_iris(text), *using.default_graphs, *using.named_graphs])
    if using.default_graphs or using.named_graphs:
        text = with_using(text, using)
    store.update(text)


def with_using(text: str, using: Dataset) -> str:
    """``text`` with USING clauses added before the top-level WHERE of each DELETE/INSERT
    operation (SPARQL 1.1 Protocol §2.2.3: an error when the request names its own)."""
    if {"USING", "WITH"} & keywords(text):
        raise QueryError(
            "using-graph-uri / using-named-graph-uri cannot be combined with USING or WITH in the request",
            "请求中已有 USING 或 WITH 时不能再给出 using-graph-uri / using-named-graph-uri",
        )
    clause = " ".join(
        [f"USING <{g}>" for g in using.default_graphs] + [f"USING NAMED <{g}>" for g in using.named_graphs]
    )
    depth, out, last = 0, [], 0
    for m in TOKEN.finditer(text):
        if m.group("other") == "{":
            depth += 1
        elif m.group("other") == "}":
            depth -= 1
        elif depth == 0 and m.group("word") and m.group("word").upper() == "WHERE":
            out += [text[last : m.start()], clause, " "]
            last = m.start()
    out.append(text[last:])
    return "".join(out)


def _relay(store: Store, text: str, dataset: Dataset, media: str, limits: Limits) -> Answer:
    """Forward the query and write the server's answer again in ``media`` with medgrade's own
    writers: every backend answers alike (Virtuoso's TSV, booleans and ASK results are its own)."""
    if not store.capabilities.relays_protocol:
        raise StoreError("this store cannot answer SPARQL Protocol requests", "该存储无法响应 SPARQL 协议请求")
    form: list[tuple[str, str]] = [("query", text)]
    if not (dataset.default_graphs or dataset.named_graphs or dataset_iris(text)):
        # the same dataset as on the embedded store, whatever the server's own default graph
        # is (Oxigraph: an empty one; Virtuoso: every graph, its system graphs too)
        own = sorted(str(g) for g in store.graphs())
        dataset = Dataset(tuple(own), tuple(own))
    form += [("default-graph-uri", g) for g in dataset.default_graphs]
    form += [("named-graph-uri", g) for g in dataset.named_graphs]
    graph_answer = media in GRAPH_TYPES
    asked = "application/n-triples" if graph_answer else "application/sparql-results+json"
    deadline = time.monotonic() + limits.timeout
    body, _ = store.forward(form, asked, limits.timeout, limits.max_results * BYTES_PER_RESULT)
    try:
        if graph_answer:
            triples = list(guarded(ox.parse(body, format=ox.RdfFormat.N_TRIPLES), deadline, limits.max_results))
            out = ox.serialize(triples, format=GRAPH_TYPES[media]) or b""
            return Answer(out, media if media != "text/plain" else "application/n-triples")
        parsed = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
    except SyntaxError as exc:
        raise QueryError(
            f"unreadable answer from the SPARQL server: {exc}", f"SPARQL 服务器的结果无法解析：{exc}"
        ) from exc
    if isinstance(parsed, ox.QueryBoolean):
        return Answer(write_boolean(bool(parsed), SELECT_TYPES[media]), media)
    names = [v.value for v in parsed.variables]
    rows = [[canonical(s[n]) for n in names] for s in guarded(parsed, deadline, limits.max_results)]
    if names == ["__ASK_RETVAL"]:  # Virtuoso answers some ASK queries as a one-column SELECT
        value = any(r[0] is not None and r[0].value in ("1", "true") for r in rows)
        return Answer(write_boolean(value, SELECT_TYPES[media]), media)
    return Answer(write_select(names, rows, SELECT_TYPES[media]), media)
