"""The Store protocol, the named graphs medgrade keeps, and safe SPARQL term serialisation.

Every backend speaks SPARQL 1.1: queries with a dataset given by ``FROM`` clauses (portable
across servers, unlike a union default graph) and updates as single requests, which SPARQL
servers apply atomically. Terms at this boundary are rdflib terms.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar, runtime_checkable

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from kg.errors import InputError

Triple = tuple[Node, Node, Node]
Quad = tuple[Node, Node, Node, URIRef]
Row = dict[str, Node]

_G = "https://w3id.org/medgrade/graph/"


class Graphs:
    """The named graphs of a medgrade store."""

    INVENTORY = URIRef(_G + "inventory")  # the hospital's data inventory (imports, edits)
    INFERRED = URIRef(_G + "inferred")  # what reasoning and propagation derive
    AUDIT = URIRef(_G + "audit")  # who changed what, when and why (R13)
    META = URIRef(_G + "meta")  # what was loaded into the store, from which files
    SHAPES_PREFIX = _G + "shapes/"  # one graph per shapes file
    # Ontology modules live in graphs named by their ontology IRI (https://w3id.org/medgrade/def/...).

    @classmethod
    def shapes(cls, name: str) -> URIRef:
        return URIRef(cls.SHAPES_PREFIX + name)


_BAD_IRI = re.compile(r'[\x00-\x20<>"{}|^`\\]')


def sparql_term(term: Node, *, bnodes: bool = False) -> str:
    """A term in SPARQL/N-Triples syntax; refuses IRIs that could break out of ``<...>``.

    Blank nodes are written (as ``_:b<hex>``) only where ``bnodes`` allows: in data to insert,
    where they denote fresh nodes of that request.
    """
    if isinstance(term, URIRef):
        if _BAD_IRI.search(term):
            raise InputError(f"invalid IRI <{term!s}>", f"无效的 IRI <{term!s}>")
        return f"<{term}>"
    if isinstance(term, Literal):
        return _literal(term)
    if isinstance(term, BNode):
        if bnodes:
            return "_:b" + hashlib.sha1(str(term).encode()).hexdigest()[:20]
        raise InputError("blank nodes cannot be written by value", "空白节点无法按值写入")
    raise TypeError(f"not an RDF term: {term!r}")


_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}
_LANG = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$")


def _literal(lit: Literal) -> str:
    """``"lexical"`` with its language or datatype, always written in full (rdflib's n3() may
    shorten typed numbers to a bare ``12``, which reads back as xsd:integer)."""
    text = "".join(_ESCAPES.get(ch, ch if ch >= " " else f"\\u{ord(ch):04X}") for ch in str(lit))
    if lit.language:
        if not _LANG.match(lit.language):
            raise InputError(f"invalid language tag '{lit.language}'", f"无效的语言标签“{lit.language}”")
        return f'"{text}"@{lit.language}'
    if lit.datatype is not None and str(lit.datatype) != "http://www.w3.org/2001/XMLSchema#string":
        return f'"{text}"^^{sparql_term(URIRef(lit.datatype))}'
    return f'"{text}"'


def from_clauses(graphs: Iterable[URIRef]) -> str:
    """``FROM <g>`` for each graph: the default graph of a query becomes their merge."""
    return " ".join(f"FROM {sparql_term(g)}" for g in graphs)


def values_clause(bindings: Mapping[str, Node]) -> str:
    """A trailing ``VALUES`` block binding variables to terms (joined before aggregation)."""
    if not bindings:
        return ""
    names = " ".join(f"?{k}" for k in bindings)
    terms = " ".join(sparql_term(v) for v in bindings.values())
    return f"\nVALUES ({names}) {{ ({terms}) }}"


# The parts of a described thing: IRIs under its own IRI ("<root>/...") linked to it directly
# (either way) or through another such part. An asset's elements, the activity that made it,
# its approval and its transfers are its parts; replacing the asset replaces them too.
T = TypeVar("T")
VALUES_CHUNK = 2_000  # terms per VALUES block: a request to a SPARQL server stays well under its limits


def chunks(items: Sequence[T], size: int = VALUES_CHUNK) -> Iterator[Sequence[T]]:
    """``items`` in consecutive slices of at most ``size``: the one loop behind every query that
    names many things in a VALUES block."""
    for i in range(0, len(items), size):
        yield items[i : i + size]


def values_blocks(var: str, terms: Iterable[Node], size: int = VALUES_CHUNK) -> Iterator[str]:
    """``VALUES ?var { … }`` blocks naming ``terms`` (sorted, deduplicated), at most ``size`` each."""
    ordered = sorted(set(terms), key=str)
    for part in chunks(ordered, size):
        yield f"VALUES ?{var} {{ " + " ".join(sparql_term(t) for t in part) + " }"


def parts_pattern(roots: Iterable[URIRef], source: str | None = None) -> str:
    """A group binding ?root (one of ``roots``, or what the pattern ``source`` binds to ?root)
    and ?s (the root or one of its parts).

    The VALUES block is repeated inside every branch on purpose: SPARQL evaluates groups
    bottom-up, so a branch that did not bind ?root itself would scan the whole graph.
    """
    values = source or "VALUES ?root { " + " ".join(sparql_term(r) for r in roots) + " }"
    under = 'STRSTARTS(STR(?s), CONCAT(STR(?root), "/"))'
    return f"""
  {{ {values} BIND(?root AS ?s) }}
  UNION {{ {values} ?root ?p1 ?s . FILTER(isIRI(?s) && {under}) }}
  UNION {{ {values} ?s ?p1 ?root . FILTER(isIRI(?s) && {under}) }}
  UNION {{ {values} ?root ?p1 ?m . FILTER(isIRI(?m) && STRSTARTS(STR(?m), CONCAT(STR(?root), "/")))
          ?m ?p2 ?s . FILTER(isIRI(?s) && ?s != ?root && {under}) }}
"""


def parts_of(graph: Graph, root: URIRef) -> set[URIRef]:
    """The same rule as :func:`parts_pattern`, over an rdflib graph: ``root`` and its parts."""
    prefix = str(root) + "/"

    def part(x: Node) -> bool:
        return isinstance(x, URIRef) and str(x).startswith(prefix)

    forward = {o for o in graph.objects(root, None) if part(o)}
    inverse = {s for s in graph.subjects(None, root) if part(s)}
    second = {o for m in forward for o in graph.objects(m, None) if part(o)}
    found: set[URIRef] = {root}
    found.update(x for x in forward | inverse | second if isinstance(x, URIRef))
    return found


@dataclass
class Changeset:
    """An atomic change to one graph: replace the descriptions of some things, add triples.

    ``subjects``: their existing triples in ``graph``, and those of their parts (see
    :func:`parts_pattern`), are removed first. ``extra`` adds quads to other graphs (the audit
    trail) in the same transaction.
    """

    graph: URIRef
    subjects: set[URIRef] = field(default_factory=set)
    triples: list[Triple] = field(default_factory=list)
    extra: list[Quad] = field(default_factory=list)
    removals: list[Triple] = field(default_factory=list)  # exact triples of ``graph`` to remove
    stamps: list[Quad] = field(default_factory=list)  # (s, p, o, g): o becomes the only value of s's p in g

    def update_request(self) -> str:
        """The whole change as one SPARQL Update request."""
        g = sparql_term(self.graph)
        ops: list[str] = []
        if self.removals:
            ops.append(f"DELETE DATA {{ GRAPH {g} {{\n" + "\n".join(_nt(t) for t in self.removals) + "\n} }")
        if self.subjects:
            ops.append(
                f"DELETE {{ GRAPH {g} {{ ?s ?p ?o }} }} WHERE {{ GRAPH {g} {{ {parts_pattern(sorted(self.subjects))}"
                " ?s ?p ?o } }"
            )
        for s, p, _, q in self.stamps:
            ops.append(f"DELETE WHERE {{ GRAPH {sparql_term(q)} {{ {sparql_term(s)} {sparql_term(p)} ?o }} }}")
        body = [f"GRAPH {g} {{\n" + "\n".join(_nt(t) for t in self.triples) + "\n}"] if self.triples else []
        by_graph: dict[URIRef, list[str]] = {}
        for s, p, o, q in [*self.extra, *self.stamps]:
            by_graph.setdefault(q, []).append(_nt((s, p, o)))
        body += [f"GRAPH {sparql_term(q)} {{\n" + "\n".join(lines) + "\n}" for q, lines in by_graph.items()]
        if body:
            ops.append("INSERT DATA {\n" + "\n".join(body) + "\n}")
        return " ;\n".join(ops)

    def __len__(self) -> int:
        return len(self.triples) + len(self.extra) + len(self.removals) + len(self.stamps)


def replace_request(graph: URIRef, triples: Iterable[Triple]) -> str:
    """A SPARQL Update request that makes ``graph`` hold exactly ``triples``."""
    g = sparql_term(graph)
    lines = "\n".join(_nt(t) for t in triples)
    return f"DROP SILENT GRAPH {g} ;\nINSERT DATA {{ GRAPH {g} {{\n{lines}\n}} }}"


def _nt(t: Triple) -> str:
    """One triple as a line of N-Triples (blank nodes allowed: for INSERT DATA and files)."""
    return f"{sparql_term(t[0], bnodes=True)} {sparql_term(t[1])} {sparql_term(t[2], bnodes=True)} ."


nt_line = _nt


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do beyond the part of the protocol every store has. Callers ask
    these instead of probing for attributes; the contract suite checks that each declared
    capability holds (and that an undeclared one is refused clearly)."""

    native: bool = False  # ``native`` is a pyoxigraph Store in this process: queries with their own
    # dataset options, and one consistent snapshot of everything (``medgrade backup`` online)
    snapshot_views: bool = False  # on disk (``path``): worker processes open read-only views of it
    counts_writes: bool = False  # ``generation`` moves with every write through this object
    relays_protocol: bool = False  # ``forward`` relays a SPARQL Protocol query to the server
    shared: bool = False  # other processes may write it too: a writer holds its lease (``exclusive``)
    max_update_triples: int | None = None  # the most triples one update request may carry


@runtime_checkable
class Store(Protocol):
    """What medgrade needs from a triple store."""

    descriptor: str
    capabilities: Capabilities
    path: Path | None  # where an embedded store lives on disk (None: in memory or on a server)
    generation: int  # with ``counts_writes``: moves with every write (else always 0)

    def select(self, query: str, bindings: Mapping[str, Node] | None = None) -> list[Row]:
        """Run a SELECT; each row maps variable names to terms (unbound ones are absent)."""

    def rows(self, query: str) -> list[tuple[str | None, ...]]:
        """Run a SELECT and return plain strings (IRI, or a literal's lexical form; None when
        unbound), in the order of the projected variables: for reading much data fast."""

    def ask(self, query: str, bindings: Mapping[str, Node] | None = None) -> bool:
        """Run an ASK."""

    def construct(self, query: str, bindings: Mapping[str, Node] | None = None) -> Graph:
        """Run a CONSTRUCT or DESCRIBE."""

    def update(self, request: str) -> None:
        """Run a SPARQL Update request atomically."""

    def apply(self, changes: Changeset) -> None:
        """Apply a changeset atomically."""

    def replace_graph(self, graph: URIRef, triples: Iterable[Triple]) -> None:
        """Atomically make ``graph`` hold exactly ``triples``."""

    def drop_graph(self, graph: URIRef) -> None:
        """Remove ``graph`` and its triples."""

    def bulk_load(self, path: Path, fmt: str, graph: URIRef, *, trusted: bool = False) -> None:
        """Load a large N-Triples/N-Quads/Turtle file into ``graph`` fast (not atomic);
        ``trusted``: medgrade wrote the file from terms the store holds, so their syntax need not
        be checked again (a store may skip IRI validation)."""

    def triples(self, graph: URIRef) -> Iterator[Triple]:
        """Every triple of ``graph``."""

    def graphs(self) -> set[URIRef]:
        """The named graphs that hold triples."""

    def count(self, graph: URIRef | None = None) -> int:
        """How many triples ``graph`` holds (all named graphs when None)."""

    def edges(self, predicate: URIRef, graph: URIRef) -> list[tuple[str, str]]:
        """Every (subject, object) IRI pair of ``predicate`` in ``graph``, as strings (fast)."""

    def about(self, subject: str, graph: URIRef) -> list[tuple[str, str]]:
        """The (predicate, object) pairs of ``subject`` in ``graph`` as strings (an IRI, or a
        literal's lexical form): a point lookup, no query to parse (the level answer's path)."""

    def referring(self, predicate: str, obj: str) -> list[tuple[str, str]]:
        """The (subject, graph) pairs with ``predicate`` ``obj`` (an IRI) in any named graph."""

    def oxigraph_view(self) -> Any:
        """A pyoxigraph Store holding this store's graphs, for engines that read Oxigraph natively
        (pyshacl): the store itself when embedded, a snapshot copy when remote."""

    @property
    def native(self) -> Any:
        """With the ``native`` capability: the pyoxigraph Store itself (else StoreError)."""

    def forward(
        self, form: list[tuple[str, str]], accept: str, timeout: float, max_bytes: int
    ) -> tuple[bytes, str | None]:
        """With ``relays_protocol``: the server's answer to a SPARQL Protocol query (form fields)
        and its content type (else StoreError)."""

    def exclusive(self) -> AbstractContextManager[None]:
        """Hold the right to write for the duration: the server's write lease on a ``shared``
        store (:mod:`kg.store.lease`); nothing to take on an embedded one, whose file lock
        already makes this process its only writer."""

    def flush(self) -> None:
        """Make acknowledged writes durable."""

    def close(self) -> None:
        """Release the store."""

    def __enter__(self) -> Store:
        """``with open_store(...) as store:`` closes it at the end."""

    def __exit__(self, *exc: object) -> None: ...


def as_int(node: Node | None) -> int:
    """An integer literal's value (0 for anything else: e.g. COUNT over nothing)."""
    return int(node.toPython()) if isinstance(node, Literal) else 0


def one_column(rows: Sequence[Row], name: str) -> list[Node]:
    """The values of one variable over the rows that bind it."""
    return [r[name] for r in rows if name in r]
