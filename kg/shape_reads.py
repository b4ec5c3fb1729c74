"""Which links between two nodes the shapes read across: what an incremental validation must
re-check around a change.

A change to a node ``x`` can change the result of a shape at another node ``n`` only if the
shape, evaluated at ``n``, reads ``x``'s triples or the triple linking them. With one link
``n p x`` (``n`` points at ``x``), that needs a shape that follows ``p`` forward from its focus
node; with ``x p n``, one that follows ``p`` backwards from it (an inverse path, a SPARQL
pattern ``?y p $this``, or a target ``sh:targetObjectsOf p``). Reading the shapes once tells
which predicates matter in each direction, so a write does not re-check the neighbours linked
by anything else: every earlier run of an OpenLineage job is linked to the job's output
(``prov:wasGeneratedBy``), but no shape reads that link backwards from a run, so a new run
does not re-check all the earlier ones.

The reading is conservative: a path other than a plain or inverse predicate counts every
predicate in it both ways, a variable predicate or a SPARQL query that cannot be read means
any predicate, and so does a SPARQL-based target.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from rdflib import Graph, URIRef, Variable
from rdflib.collection import Collection
from rdflib.namespace import RDF, SH
from rdflib.paths import Path
from rdflib.term import Node

_THIS = Variable("this")
_PATH_PLACEHOLDER = "<urn:medgrade:path>"  # $PATH in a constraint component's query (its path is read as a path)


@dataclass(frozen=True)
class NeighbourReads:
    """The predicates shapes follow from their focus node to another node (``forward``) and
    from another node to it (``inverse``); None: any predicate."""

    forward: frozenset[URIRef] | None
    inverse: frozenset[URIRef] | None


class _Reads:
    def __init__(self) -> None:
        self.forward: set[URIRef] | None = set()
        self.inverse: set[URIRef] | None = set()

    def add(self, predicates: Iterator[URIRef] | set[URIRef] | None, forward: bool, inverse: bool) -> None:
        if predicates is None:  # any predicate
            if forward:
                self.forward = None
            if inverse:
                self.inverse = None
            return
        found = set(predicates)
        if forward and self.forward is not None:
            self.forward |= found
        if inverse and self.inverse is not None:
            self.inverse |= found


def neighbour_reads(shapes: Graph) -> NeighbourReads:
    """What the shapes in ``shapes`` read across links, in each direction."""
    reads = _Reads()
    for path in set(shapes.objects(None, SH.path)):
        if isinstance(path, URIRef):
            reads.add({path}, forward=True, inverse=False)
        elif (inverse := shapes.value(path, SH.inversePath)) is not None and isinstance(inverse, URIRef):
            reads.add({inverse}, forward=False, inverse=True)
        else:
            reads.add(_path_predicates(shapes, path), forward=True, inverse=True)
    for p in shapes.objects(None, SH.targetObjectsOf):
        if isinstance(p, URIRef):  # a node is a target through another node's triple
            reads.add({p}, forward=False, inverse=True)
    if any(True for _ in shapes.objects(None, SH.target)):  # SPARQL-based targets: anything
        reads.add(None, forward=True, inverse=True)
    for holder in set(shapes.subjects(SH.select, None)) | set(shapes.subjects(SH.ask, None)):
        text = shapes.value(holder, SH.select) or shapes.value(holder, SH.ask)
        _query_reads(reads, _prefixes(shapes, holder) + str(text).replace("$PATH", _PATH_PLACEHOLDER))
    return NeighbourReads(
        frozenset(reads.forward) if reads.forward is not None else None,
        frozenset(reads.inverse) if reads.inverse is not None else None,
    )


def _path_predicates(shapes: Graph, path: Node, depth: int = 0) -> set[URIRef] | None:
    """Every predicate in a SHACL path (None when it cannot be read)."""
    if isinstance(path, URIRef):
        return {path}
    if depth > 20:
        return None
    parts: list[Node] = []
    if (alternatives := shapes.value(path, SH.alternativePath)) is not None:
        parts += list(Collection(shapes, alternatives))
    elif shapes.value(path, RDF.first) is not None:
        parts += list(Collection(shapes, path))
    else:
        for p in (SH.inversePath, SH.zeroOrMorePath, SH.oneOrMorePath, SH.zeroOrOnePath):
            inner = shapes.value(path, p)
            if inner is not None:
                parts.append(inner)
    if not parts:
        return None
    out: set[URIRef] = set()
    for part in parts:
        found = _path_predicates(shapes, part, depth + 1)
        if found is None:
            return None
        out |= found
    return out


def _prefixes(shapes: Graph, holder: Node) -> str:
    """The PREFIX lines a SPARQL constraint declares (``sh:prefixes``)."""
    lines = []
    for owner in shapes.objects(holder, SH.prefixes):
        for decl in shapes.objects(owner, SH.declare):
            lines.append(f"PREFIX {shapes.value(decl, SH.prefix)}: <{shapes.value(decl, SH.namespace)}>")
    return "\n".join(lines) + "\n"


def _query_reads(reads: _Reads, text: str) -> None:
    """The predicates of the triple patterns at ``$this`` in a SPARQL query (any, when the
    query cannot be read or names its predicate by a variable there)."""
    from rdflib.plugins.sparql import prepareQuery

    try:
        algebra = prepareQuery(text).algebra
    except Exception:  # unreadable: assume it reads anything
        reads.add(None, forward=True, inverse=True)
        return
    for s, p, o in _triples(algebra):
        for at_this, forward in ((s == _THIS, True), (o == _THIS, False)):
            if not at_this:
                continue
            if isinstance(p, URIRef):
                reads.add({p}, forward=forward, inverse=not forward)
            elif isinstance(p, Path):
                reads.add(_rdflib_path_predicates(p), forward=True, inverse=True)
            elif isinstance(p, dict):  # a path in parse form (inside FILTER EXISTS)
                found = _parsed_path_predicates(p)
                reads.add(found or None, forward=True, inverse=True)
            else:  # a variable predicate
                reads.add(None, forward=forward, inverse=not forward)


def _triples(node: object) -> Iterator[tuple[Any, Any, Any]]:
    """Every triple pattern in a query's algebra, FILTER EXISTS and sub-queries included (whose
    patterns rdflib leaves in parse form: flat lists, paths as parse nodes)."""
    if isinstance(node, dict):
        for block in node.get("triples") or []:
            if isinstance(block, tuple | list) and block and not isinstance(block[0], tuple | list):
                flat = list(block)
                yield from ((flat[i], flat[i + 1], flat[i + 2]) for i in range(0, len(flat) - 2, 3))
        for key, value in node.items():
            if key != "triples":
                yield from _triples(value)
    elif isinstance(node, list | tuple):
        for item in node:
            yield from _triples(item)


def _parsed_path_predicates(node: object) -> set[URIRef] | None:
    """Every IRI in a property path still in parse form (None: a negated path reads any)."""
    if isinstance(node, URIRef):
        return {node}
    if isinstance(node, dict):
        if "Negated" in str(getattr(node, "name", "")):
            return None
        out: set[URIRef] = set()
        for value in node.values():
            found = _parsed_path_predicates(value)
            if found is None:
                return None
            out |= found
        return out
    if isinstance(node, list | tuple):
        out = set()
        for item in node:
            found = _parsed_path_predicates(item)
            if found is None:
                return None
            out |= found
        return out
    return set()


def _rdflib_path_predicates(path: Path | URIRef) -> set[URIRef] | None:
    """Every predicate in an rdflib property path (None: a negated path reads any)."""
    from rdflib.paths import AlternativePath, InvPath, MulPath, NegatedPath, SequencePath

    if isinstance(path, URIRef):
        return {path}
    if isinstance(path, NegatedPath):
        return None
    inner: list[object]
    if isinstance(path, SequencePath | AlternativePath):
        inner = list(path.args)
    elif isinstance(path, InvPath | MulPath):
        inner = [path.arg if isinstance(path, InvPath) else path.path]
    else:
        return None
    out: set[URIRef] = set()
    for part in inner:
        found = _rdflib_path_predicates(part) if isinstance(part, Path | URIRef) else None
        if found is None:
            return None
        out |= found
    return out
