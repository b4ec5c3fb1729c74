"""Validation: pyshacl runs the shapes of ``shapes/`` over the store, natively on Oxigraph.

pyshacl is the engine of record: every result comes from it. medgrade only chooses which focus
nodes pyshacl looks at, by giving it a copy of the shapes whose targets are explicit
``sh:targetNode`` lists:

* full run: shapes with only core constraints keep their targets; a shape with SPARQL-based
  constraints is pointed at its *candidates*, the nodes for which the constraint's SELECT,
  run once over the whole store with ``$this`` unbound, returns a row (a node the constraint
  returns nothing for cannot fail it). Shapes marked ``mgsh:candidates mgsh:DerivationCycles``
  take the members of derivation cycles, found from the derivation edges instead of a
  transitive SPARQL path.
* incremental run: every shape is pointed at the changed things that fall under its targets.

The report is kept in the store (graph ``…/graph/validation``, SHACL result vocabulary), so an
incremental run replaces only the results of the nodes it re-checked.

R15 (the annual review) needs "today": before each run the validator writes the review clock
(``mgsh:ReviewClock mgsh:asOf …; mgsh:reviewCutoff …``, dates in Asia/Shanghai) into the meta
graph, and the shape compares each asset's ``mg:lastReviewed`` with the cutoff. The stored R15
results are those of the last run's clock; the overdue lists (``Service.overdue``) are computed
live from the clock at the time of asking.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, SH, XSD
from rdflib.term import Node

from kg import pyshacl_fixes
from kg.errors import InputError
from kg.ids import Ids
from kg.namespaces import PROV
from kg.shape_reads import neighbour_reads
from kg.store import Changeset, Graphs, Store, sparql_term
from kg.store.base import chunks, parts_pattern, values_blocks

MGSH = Namespace("https://w3id.org/medgrade/shapes#")
VALIDATION = URIRef("https://w3id.org/medgrade/graph/validation")
REVIEW_CLOCK = MGSH.ReviewClock  # R15's "today" (mgsh:asOf, mgsh:reviewCutoff), in the meta graph
SEVERITY = {SH.Violation: "Violation", SH.Warning: "Warning", SH.Info: "Info"}
_THIS = re.compile(r"\$this\b")
_WHERE = re.compile(r"\bWHERE\s*\{", re.I)
_IRI = re.compile(r"(?:https?|urn):[!#-;=?-~]+")  # IRIs the shapes name are ASCII (others are %-encoded)
RDFS_SUBCLASS = "http://www.w3.org/2000/01/rdf-schema#subClassOf"
RDFS_LABEL = URIRef("http://www.w3.org/2000/01/rdf-schema#label")
_TARGETS = (SH.targetClass, SH.targetSubjectsOf, SH.targetObjectsOf, SH.targetNode)
_DESCRIPTIVE = {
    RDF.type,
    SH.path,
    SH.severity,
    SH.message,
    SH.name,
    SH.order,
    SH.group,
    SH.description,
    DCTERMS.identifier,
    URIRef("http://www.w3.org/2000/01/rdf-schema#label"),
    URIRef("http://www.w3.org/2000/01/rdf-schema#comment"),
}
_NODE_SHAPE_KEYS = _DESCRIPTIVE | set(_TARGETS) | {SH.property}
_TRANSLATABLE = {SH.minCount, SH.maxCount, SH["class"], SH.datatype, SH.minLength}
PER_NODE_LIMIT = 200  # focus nodes: up to this many, every shape is evaluated per node (see _focus_candidates)
WALK_LIMIT = 20_000  # nodes: a cycle search reads the whole lineage at once beyond this
READ_WHOLE = 2_000  # derivations: a lineage up to this size is read whole for a cycle search (one query)
_CASTABLE = {
    f"http://www.w3.org/2001/XMLSchema#{t}"
    for t in ("string", "boolean", "integer", "decimal", "double", "float", "dateTime", "date")
}


@dataclass(frozen=True, slots=True)
class Result:
    """One validation result, as the JSON report of ``medgrade validate --format json`` shows it."""

    rule: str
    severity: str
    focus: str
    focus_id: str
    path: str | None
    value: str | None
    message_zh: str
    message_en: str
    shape: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "focus": self.focus,
            "focus_id": self.focus_id,
            "path": self.path,
            "value": self.value,
            "message_zh": self.message_zh,
            "message_en": self.message_en,
            "shape": self.shape,
        }

    def key(self) -> tuple[str, str, str, str | None, str | None]:
        return (self.focus, self.shape, self.message_en, self.path, self.value)


@dataclass
class Report:
    """A validation report: conforms when no result has severity Violation."""

    results: list[Result] = field(default_factory=list)
    checked: int | None = None  # focus nodes re-checked by an incremental run
    whole_conforms: bool | None = None  # an incremental run: does the whole stored report conform

    @property
    def conforms(self) -> bool:
        if self.whole_conforms is not None:
            return self.whole_conforms
        return not any(r.severity == "Violation" for r in self.results)

    def to_dict(self) -> dict[str, Any]:
        ordered = sorted(self.results, key=lambda r: (r.focus_id, _rule_order(r.rule), r.message_en))
        return {"conforms": self.conforms, "results": [r.to_dict() for r in ordered]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Report:
        """The report :meth:`to_dict` gave (e.g. a server's answer)."""
        fields = {f.name for f in dataclasses.fields(Result)}
        results = [Result(**{k: v for k, v in r.items() if k in fields}) for r in data["results"]]
        return cls(results, whole_conforms=bool(data["conforms"]))

    def to_graph(self) -> Graph:
        """The report in the SHACL vocabulary (sh:ValidationReport with its sh:result nodes)."""
        g = Graph()
        g.bind("sh", SH)
        report = BNode()
        g.add((report, RDF.type, SH.ValidationReport))
        g.add((report, SH.conforms, Literal(self.conforms)))
        for r in self.results:
            node = BNode()
            g.add((report, SH.result, node))
            for t in _result_triples(node, r):
                g.add(t)
        return g


def _rule_order(rule: str) -> int:
    return int(rule[1:]) if rule[1:].isdigit() else 99


def _result_triples(node: Node, r: Result) -> list[tuple[Node, Node, Node]]:
    t: list[tuple[Node, Node, Node]] = [
        (node, RDF.type, SH.ValidationResult),
        (node, SH.focusNode, URIRef(r.focus)),
        (node, SH.sourceShape, URIRef(r.shape)),
        (node, DCTERMS.identifier, Literal(r.rule)),
        (node, SH.resultSeverity, SH[r.severity]),
        (node, SH.resultMessage, Literal(r.message_zh, lang="zh")),
        (node, SH.resultMessage, Literal(r.message_en, lang="en")),
    ]
    if r.path:
        t.append((node, SH.resultPath, URIRef(r.path)))
    if r.value is not None:
        t.append((node, SH.value, Literal(r.value)))
    return t


def _result_iri(r: Result) -> URIRef:
    """A result's name in the stored report, from all it says: the same result found again
    keeps its name, so a run rewrites only what changed."""
    fields = (r.focus, r.shape, r.rule, r.severity, r.path, r.value, r.message_zh, r.message_en)
    digest = hashlib.sha256(json.dumps(fields, ensure_ascii=False).encode()).hexdigest()[:32]
    return URIRef(f"urn:medgrade:result:{digest}")


def load_shapes(store: Store) -> Graph:
    """The shapes graphs loaded into the store by ``medgrade init``, merged."""
    g = Graph()
    for graph in sorted(store.graphs()):
        if str(graph).startswith(Graphs.SHAPES_PREFIX):
            for t in store.triples(graph):
                g.add(t)
    return g


class _Edited:
    """Edits of a graph that can be undone (the validator's working copy of the shapes)."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self._added: list[tuple[Node, Node, Node]] = []
        self._removed: list[tuple[Node, Node, Node]] = []

    def add(self, t: tuple[Node, Node, Node]) -> None:
        if t not in self.graph:
            self.graph.add(t)
            self._added.append(t)

    def remove(self, t: tuple[Node, Node, Node]) -> None:
        if t in self.graph:
            self.graph.remove(t)
            self._removed.append(t)

    def deactivate(self, shape: Node) -> None:
        for o in list(self.graph.objects(shape, SH.deactivated)):
            self.remove((shape, SH.deactivated, o))
        self.add((shape, SH.deactivated, Literal(True)))

    def undo(self) -> None:
        for t in reversed(self._added):
            self.graph.remove(t)
        for t in self._removed:
            self.graph.add(t)
        self._added.clear()
        self._removed.clear()


class Validator:
    """Validates a store with pyshacl; full or incremental runs, report kept in the store."""

    def __init__(self, store: Store, shapes: Graph, ids: Ids) -> None:
        self.store, self.shapes, self.ids = store, shapes, ids
        self.rule_of = {str(s): str(o) for s, o in shapes.subject_objects(DCTERMS.identifier)}
        self.view: Any = None  # the pyoxigraph store a run reads (the store itself when embedded)
        self._subclass_cache: dict[Node, list[URIRef]] = {}
        self._facts: dict[URIRef, tuple[set[URIRef], set[URIRef], set[URIRef]]] = {}  # see _node_facts
        self._facts_lock = threading.Lock()
        self._work = Graph(store="SimpleMemory")  # the shapes as a run edits them (see _focused_shapes)
        for t in shapes:
            self._work.add(t)
        self._label_cache: dict[str, dict[str, str]] = {}
        self.templates = _message_templates(shapes)
        self._parameters = {shapes.value(p, SH.path) for p in shapes.objects(None, SH.parameter)}
        self.reads = neighbour_reads(shapes)  # which links between nodes the shapes read across
        self._running = threading.RLock()
        # R15's clock: () -> (as-of date, review cutoff), written before each run (see write_clock)
        self.clock: Callable[[], tuple[dt.date, dt.date]] | None = None

    def _iris(self, query: str, var: str) -> set[URIRef]:
        """IRIs bound to ``var`` by a query over the union of every graph of the run's view."""
        import pyoxigraph as ox

        out: set[URIRef] = set()
        for solution in self.view.query(query, use_default_graph_as_union=True):
            term = solution[var]
            if isinstance(term, ox.NamedNode):
                out.add(URIRef(term.value))
        return out

    # --- targets -------------------------------------------------------------------------------
    def node_shapes(self) -> list[URIRef]:
        found = {s for p in _TARGETS for s in self.shapes.subjects(p, None)}
        return sorted(s for s in found if isinstance(s, URIRef))

    def _prefixes(self, constraint: Node) -> str:
        lines = []
        for decl_owner in self.shapes.objects(constraint, SH.prefixes):
            for decl in self.shapes.objects(decl_owner, SH.declare):
                prefix, ns = self.shapes.value(decl, SH.prefix), self.shapes.value(decl, SH.namespace)
                lines.append(f"PREFIX {prefix}: <{ns}>")
        return "\n".join(lines) + "\n"

    def _in_targets(self, shape: URIRef, nodes: Iterable[URIRef]) -> set[URIRef]:
        """Those of ``nodes`` that the shape's own targets select, judged from the nodes'
        types and predicates (:meth:`_node_facts`, read once per run for all shapes)."""
        facts = self._node_facts(set(nodes))
        classes = {c for cls in self.shapes.objects(shape, SH.targetClass) for c in self._subclasses(cls)}
        subjects_of = {URIRef(str(p)) for p in self.shapes.objects(shape, SH.targetSubjectsOf)}
        objects_of = {URIRef(str(p)) for p in self.shapes.objects(shape, SH.targetObjectsOf)}
        explicit = {n for n in self.shapes.objects(shape, SH.targetNode)}
        return {
            n
            for n, (types, outgoing, incoming) in facts.items()
            if n in explicit or types & classes or outgoing & subjects_of or incoming & objects_of
        }

    def _node_facts(self, nodes: set[URIRef]) -> dict[URIRef, tuple[set[URIRef], set[URIRef], set[URIRef]]]:
        """For each node: its types, and which of the shapes' sh:targetSubjectsOf and
        sh:targetObjectsOf predicates it has as subject and as object (in any graph of the
        run's view). Kept for the run (:meth:`_run` resets it), so that a small focus costs a
        few queries whatever the number of shapes."""
        with self._facts_lock:  # a full run's candidate threads may ask at once
            return self._read_node_facts(nodes)

    def _read_node_facts(self, nodes: set[URIRef]) -> dict[URIRef, tuple[set[URIRef], set[URIRef], set[URIRef]]]:
        import pyoxigraph as ox

        facts = self._facts
        missing = sorted(nodes - facts.keys())
        for n in missing:
            facts[n] = (set(), set(), set())
        subjects_of = sorted({URIRef(str(p)) for p in self.shapes.objects(None, SH.targetSubjectsOf)})
        objects_of = sorted({URIRef(str(p)) for p in self.shapes.objects(None, SH.targetObjectsOf)})

        def read(query: str, slot: int, var: str) -> None:
            for solution in self.view.query(query, use_default_graph_as_union=True):
                x, term = solution["x"], solution[var]
                if isinstance(x, ox.NamedNode) and isinstance(term, ox.NamedNode):
                    facts[URIRef(x.value)][slot].add(URIRef(term.value))

        for values in values_blocks("x", missing):
            read(f"SELECT DISTINCT ?x ?t WHERE {{ {values} ?x a ?t }}", 0, "t")
            for slot, preds, pattern in ((1, subjects_of, "?x ?p ?any"), (2, objects_of, "?any ?p ?x")):
                if preds:
                    listed = " ".join(sparql_term(p) for p in preds)
                    read(
                        f"SELECT ?x ?p WHERE {{ {values} VALUES ?p {{ {listed} }} FILTER EXISTS {{ {pattern} }} }}",
                        slot,
                        "p",
                    )
        return {n: facts[n] for n in nodes}

    def _subclasses(self, cls: Node) -> list[URIRef]:
        """``cls`` and its subclasses (from the ontology in the store), cached per run."""
        if cls not in self._subclass_cache:
            found = self._iris(f"SELECT DISTINCT ?c WHERE {{ ?c <{RDFS_SUBCLASS}>* {sparql_term(cls)} }}", "c")
            self._subclass_cache[cls] = sorted(found | {URIRef(str(cls))})
        return self._subclass_cache[cls]

    def _class_pattern(self, var: str, cls: Node, bound: bool = False) -> str:
        """?var is an instance of ``cls`` or a subclass. ``bound``: ?var is bound by a VALUES
        block; then one concrete pattern per class (a ``VALUES`` list of classes would make
        Oxigraph scan every rdf:type before joining ?var); else one scan of the classes."""
        if bound:
            return " UNION ".join(f"{{ ?{var} a {sparql_term(c)} }}" for c in self._subclasses(cls))
        values = " ".join(sparql_term(c) for c in self._subclasses(cls))
        return f"VALUES ?{var}Class {{ {values} }} ?{var} a ?{var}Class ."

    def _target_pattern(self, shape: URIRef, among: str = "") -> str:
        """A SPARQL group binding ?this to the shape's targets; ``among``: a ``VALUES ?this``
        block the targets are restricted to (repeated in every branch, so that no branch scans
        all its targets before the join)."""
        branches = [
            f"{{ {among} {self._class_pattern('this', c, bool(among))} }}"
            for c in self.shapes.objects(shape, SH.targetClass)
        ]
        branches += [
            f"{{ {among} ?this {sparql_term(p)} ?targetValue }}"
            for p in self.shapes.objects(shape, SH.targetSubjectsOf)
        ]
        branches += [
            f"{{ {among} ?targetValue {sparql_term(p)} ?this }}" for p in self.shapes.objects(shape, SH.targetObjectsOf)
        ]
        nodes = [sparql_term(n) for n in self.shapes.objects(shape, SH.targetNode) if isinstance(n, URIRef)]
        if nodes:
            branches.append(f"{{ {among} VALUES ?this {{ " + " ".join(nodes) + " } }")
        return "{ " + " UNION ".join(branches) + " }" if branches else "{ FILTER(false) }"

    def _candidates(self, shape: URIRef, among: set[URIRef] | None = None) -> set[URIRef] | None:
        """Nodes that could fail the shape (of its targets, or of those among ``among``); None
        when the shape uses constraints this cannot translate (pyshacl then checks every target).

        Each SPARQL constraint's SELECT runs once with its target pattern joined in front of its
        body, which is what SHACL's pre-binding of $this to each target amounts to: the nodes it
        returns are the only ones the per-node evaluation can report. Core constraints: see
        :meth:`_core_candidates`.
        """
        if among is None:
            return self._candidates_among(shape, "")
        if (shape, MGSH.candidates, MGSH.DerivationCycles) in self.shapes:
            return self._in_targets(shape, self._cycle_members_with(set(among), self.view) & set(among))
        found: set[URIRef] = set()
        for values in values_blocks("this", among):
            part = self._candidates_among(shape, values)
            if part is None:
                return None
            found |= part
        return found

    def _focus_candidates(self, shape: URIRef, focus: set[URIRef]) -> set[URIRef] | None:
        """The nodes of ``focus`` pyshacl should check for the shape: up to
        :data:`PER_NODE_LIMIT` of them, all those the shape targets. A SPARQL constraint is
        evaluated by pyshacl with ``$this`` pre-bound to a constant, which Oxigraph plans well,
        and core constraints read a few triples per node: for a few targets that costs less
        than a candidate query, whose join order Oxigraph may get wrong for a body that reads
        widely (R4's element names) or over a dense lineage. Measured: an assessment on the demo
        with 737 random derivations among 200 assets, mean 224 ms with a limit of 64, 94 ms
        with 256; a level change re-checking 259 nodes at 100k assets, about 0.6 s either way."""
        if len(focus) <= PER_NODE_LIMIT:
            return self._in_targets(shape, focus)
        return self._candidates(shape, focus)

    def _candidates_among(self, shape: URIRef, among: str) -> set[URIRef] | None:
        constraints = list(self.shapes.objects(shape, SH.sparql))
        if not constraints:
            return self._core_candidates(shape, among)
        if self._constraining(shape) - _NODE_SHAPE_KEYS - {SH.sparql}:
            return None
        if set(self.shapes.objects(shape, SH.property)):
            return None  # SPARQL and core constraints on one shape: pyshacl checks every target
        if (shape, MGSH.candidates, MGSH.DerivationCycles) in self.shapes:
            return self._in_targets(shape, self._cycle_members())
        target = self._target_pattern(shape, among)
        found: set[URIRef] = set()
        for c in constraints:
            select = _THIS.sub("?this", _strip_prefixes(str(self.shapes.value(c, SH.select))))
            where = _WHERE.search(select)
            if where is None:
                return None  # an unusual form: check every target
            body = select[: where.end()] + "\n" + target + "\n" + select[where.end() :]
            query = self._prefixes(c) + "SELECT DISTINCT ?this WHERE { {\n" + body + "\n} }"
            found |= self._iris(query, "this")
        return found

    def _core_candidates(self, shape: URIRef, among: str = "") -> set[URIRef] | None:
        """Candidates of a node shape whose only constraints are property shapes with a plain
        predicate path and sh:minCount, sh:maxCount, sh:class, sh:datatype or sh:minLength: the
        nodes with too few or too many values, or a value of another class or datatype, or too
        short. None when the shape uses anything else (pyshacl then walks all its targets)."""
        if self._constraining(shape) - _NODE_SHAPE_KEYS:
            return None
        target = self._target_pattern(shape, among)
        found: set[URIRef] = set()
        for ps in self.shapes.objects(shape, SH.property):
            path = self.shapes.value(ps, SH.path)
            constraining = self._constraining(ps)
            params = {p: o for p, o in self.shapes.predicate_objects(ps) if p in constraining}
            if not isinstance(path, URIRef) or set(params) - _TRANSLATABLE:
                return None
            if SH.datatype in params and str(params[SH.datatype]) not in _CASTABLE:
                return None  # an ill-formed value could not be told from a good one: pyshacl checks every target
            p = sparql_term(path)
            queries = []
            if SH.minCount in params and _int(params[SH.minCount]) == 1:  # no value (cheaper than counting)
                queries.append(f"SELECT DISTINCT ?this WHERE {{ {target} FILTER NOT EXISTS {{ ?this {p} ?v }} }}")
            elif SH.minCount in params:
                queries.append(
                    f"SELECT ?this WHERE {{ {target} OPTIONAL {{ ?this {p} ?v }} }} GROUP BY ?this "
                    f"HAVING (COUNT(DISTINCT ?v) < {_int(params[SH.minCount])})"
                )
            if SH.maxCount in params:
                queries.append(
                    f"SELECT ?this WHERE {{ {target} ?this {p} ?v }} GROUP BY ?this "
                    f"HAVING (COUNT(DISTINCT ?v) > {_int(params[SH.maxCount])})"
                )
            if SH["class"] in params:
                classes = ", ".join(sparql_term(c) for c in self._subclasses(params[SH["class"]]))
                queries.append(
                    f"SELECT DISTINCT ?this WHERE {{ {target} ?this {p} ?v . "
                    f"FILTER NOT EXISTS {{ ?v a ?vc FILTER(?vc IN ({classes})) }} }}"
                )
            if SH.datatype in params:
                dt = sparql_term(params[SH.datatype])
                # also catch ill-formed values ("2026-13-45"^^xsd:dateTime): they fail the cast
                cast = f" || !COALESCE({dt}(STR(?v)) = ?v, false)"
                queries.append(
                    f"SELECT DISTINCT ?this WHERE {{ {target} ?this {p} ?v . "
                    f"FILTER(!isLiteral(?v) || datatype(?v) != {dt}{cast}) }}"
                )
            if SH.minLength in params:
                queries.append(
                    f"SELECT DISTINCT ?this WHERE {{ {target} ?this {p} ?v . "
                    f"FILTER(isBlank(?v) || STRLEN(STR(?v)) < {_int(params[SH.minLength])}) }}"
                )
            for q in queries:
                found |= self._iris(q, "this")
        return found

    def _constraining(self, shape: Node) -> set[Node]:
        """The predicates of a shape that validation reads: SHACL's own (but the descriptive
        ones) and the parameters of constraint components the shapes declare. Annotations
        (labels, sources, editorial notes) change nothing a run reports."""
        return {
            p
            for p in self.shapes.predicates(shape, None)
            if (str(p).startswith(str(SH)) or p in self._parameters) and p not in _DESCRIPTIVE
        }

    def _cycle_members(self) -> set[URIRef]:
        g = nx.DiGraph(self.store.edges(PROV.wasDerivedFrom, Graphs.INVENTORY))
        members: set[URIRef] = set()
        for component in nx.strongly_connected_components(g):
            if len(component) > 1 or any(g.has_edge(n, n) for n in component):
                members |= {URIRef(n) for n in component}
        return members

    def affected(self, changed: Iterable[URIRef], derivations: bool = True) -> set[URIRef]:
        """What a change to ``changed`` can make pass or fail.

        The changed things, the assets they are part of with all their parts (elements, impact
        statements, activity, approval, transfers), their direct neighbours linked by what the
        shapes read across (:mod:`kg.shape_reads`: a transfer to a changed destination, the
        asset a changed review concerns, an asset's sources and products; not an output's
        earlier OpenLineage runs), and the members of any derivation cycle through them (R10).
        A product's own results depend on its sources only through its effective level, which
        propagation writes to the product itself, making the product a changed thing then.
        ``derivations``: whether the change may have added or removed a derivation (only then
        can cycle membership change).
        """
        changed = {URIRef(str(c)) for c in changed}
        roots = {self._root(c) for c in changed}
        out = set(changed) | roots
        members = self._cycle_members_with(roots) if derivations else set()
        out |= members
        ordered = sorted(roots | members)
        base = self.ids.base
        for chunk in chunks(ordered):
            rows = self.store.select(
                f"SELECT DISTINCT ?s WHERE {{ GRAPH {sparql_term(Graphs.INVENTORY)} {{ {parts_pattern(chunk)} }} }}"
            )
            out |= {r["s"] for r in rows if isinstance(r.get("s"), URIRef)}  # type: ignore[misc]
        # Neighbours linked by what the shapes read across (kg.shape_reads): ``x p n`` when a
        # shape follows p backwards from its focus, ``n p x`` when one follows p forwards. Not
        # the governance records that point at a changed thing: a record's only shape (R13)
        # reads the record's own triples, and every write adds one more record about its asset,
        # so taking them in would make each write re-check its asset's whole audit trail (a
        # record's own change makes it a changed thing instead).
        audit = sparql_term(Graphs.AUDIT)
        backwards, forwards = self.reads.inverse, self.reads.forward
        base_filter = f"FILTER(isIRI(?n) && STRSTARTS(STR(?n), {sparql_term(Literal(base))}))"
        found: set[URIRef] = set()
        for values in values_blocks("x", out):
            # the link predicates are compared here, not in the query: a VALUES ?p block there
            # made Oxigraph scan each predicate's triples (an assessment's neighbours: 0.4 -> 8 ms)
            linked = self.store.rows(
                f"SELECT DISTINCT ?n ?p ?d WHERE {{ {{ GRAPH ?g {{ {values} ?x ?p ?n }} BIND(1 AS ?d) }} UNION "
                f"{{ GRAPH ?g {{ {values} ?n ?p ?x }} FILTER(?g != {audit}) BIND(2 AS ?d) }} {base_filter} }}"
            )
            for n, pred, d in linked:
                links = backwards if d == "1" else forwards
                if n and (links is None or URIRef(str(pred)) in links):
                    found.add(URIRef(n))
        return out | found

    def _root(self, node: URIRef) -> URIRef:
        """The asset a part belongs to (``<base>asset/ID/...`` -> ``<base>asset/ID``), else the node."""
        owner = self.ids.owner(str(node))
        return self.ids.asset(owner) if owner is not None else node

    def _cycle_members_with(self, nodes: set[URIRef], view: Any = None) -> set[URIRef]:
        """The members of the derivation cycles through any of ``nodes`` (in the store, or in a
        run's pyoxigraph ``view``), of which only those with both a source and a product can be
        one. A lineage of up to :data:`READ_WHOLE` derivations is read whole (one query). In a larger one, a cycle through a node lies within what the node
        derives from, so that part is read (breadth-first, one query per step); when it grows
        past :data:`WALK_LIMIT` nodes, every derivation is read in one query instead."""
        inventory = sparql_term(Graphs.INVENTORY)
        wdf = sparql_term(PROV.wasDerivedFrom)
        # only a node with both a source and a product can lie on a cycle: a new product (an
        # OpenLineage run's output) has no product yet, and one query says so
        inner: set[URIRef] = set()
        for values in values_blocks("x", nodes):
            query = f"SELECT DISTINCT ?x WHERE {{ GRAPH {inventory} {{ {values} ?x {wdf} ?s . ?p {wdf} ?x }} }}"
            inner |= {URIRef(x) for (x,) in self._rows(query, view, "x")}
        nodes = inner
        if not nodes:
            return set()
        every = f"SELECT ?x ?y WHERE {{ GRAPH {inventory} {{ ?x {wdf} ?y }} FILTER(isIRI(?y)) }}"
        edges = self._pairs(f"{every} LIMIT {READ_WHOLE + 1}", view)
        seen: set[str] = {str(n) for n in nodes}
        frontier = set() if len(edges) <= READ_WHOLE else set(seen)  # a small lineage: read whole
        if frontier:
            edges = []
        while frontier:
            if len(seen) > WALK_LIMIT:  # most of the inventory: one read of it all is cheaper
                edges = self._pairs(every, view)
                break
            step: set[str] = set()
            for values in values_blocks("x", [URIRef(x) for x in frontier]):
                query = f"SELECT ?x ?y WHERE {{ GRAPH {inventory} {{ {values} ?x {wdf} ?y }} FILTER(isIRI(?y)) }}"
                for x, y in self._pairs(query, view):
                    edges.append((x, y))
                    if y not in seen:
                        seen.add(y)
                        step.add(y)
            frontier = step
        g = nx.DiGraph(edges)
        wanted = {str(n) for n in nodes}
        out: set[URIRef] = set()
        for component in nx.strongly_connected_components(g):
            if (len(component) > 1 or any(g.has_edge(n, n) for n in component)) and component & wanted:
                out |= {URIRef(n) for n in component}
        return out

    def _rows(self, query: str, view: Any, var: str) -> list[tuple[str]]:
        if view is None:
            return [(str(a),) for (a,) in self.store.rows(query)]
        return [(s[var].value,) for s in view.query(query)]

    def _pairs(self, query: str, view: Any) -> list[tuple[str, str]]:
        if view is None:
            return [(str(a), str(b)) for a, b in self.store.rows(query)]
        return [(s["x"].value, s["y"].value) for s in view.query(query)]

    def _focused_shapes(self, focus: set[URIRef] | None, keep: frozenset[URIRef] = frozenset()) -> _Edited:
        """The shapes with their node shapes targeting explicit node lists (the shapes in
        ``keep`` switched off: their stored results stand): edits of the validator's working
        copy of the shapes, undone after the run (copying the shapes for each run cost more
        than a small change's whole validation)."""
        g = _Edited(self._work)
        shapes = [s for s in self.node_shapes() if s not in keep]
        for shape in keep:
            g.deactivate(shape)
        if focus is None:  # a full run: the shapes' candidate queries side by side (Oxigraph releases the GIL)
            for cls in {*self.shapes.objects(None, SH.targetClass), *self.shapes.objects(None, SH["class"])}:
                self._subclasses(cls)  # filled before the threads share the cache
            with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
                found = dict(zip(shapes, pool.map(self._candidates, shapes), strict=True))
        else:
            found = {shape: self._focus_candidates(shape, focus) for shape in shapes}
        for shape in shapes:
            candidates = found[shape]
            if candidates is not None:
                nodes = candidates
            elif focus is None:
                continue  # untranslatable constraints: pyshacl walks the targets itself
            else:
                nodes = self._in_targets(shape, focus)
            for p in _TARGETS:
                for o in list(g.graph.objects(shape, p)):
                    g.remove((shape, p, o))
            for n in nodes:
                g.add((shape, SH.targetNode, n))
            if not nodes:  # nothing to check: switch the shape off for this run
                g.deactivate(shape)
        return g

    # --- running -------------------------------------------------------------------------------
    def run(
        self, focus: set[URIRef] | None = None, view: Any = None, keep: frozenset[URIRef] = frozenset()
    ) -> list[Result]:
        """Run pyshacl over the store (every node, or only ``focus``), or over ``view``, a
        pyoxigraph store standing for it (a what-if: the store plus a hypothetical change);
        ``keep``: node shapes not run. Runs of one validator take turns: a run keeps the store
        it reads in :attr:`view`."""
        with self._running:
            return self._run(focus, view, keep)

    def _run(self, focus: set[URIRef] | None, view: Any, keep: frozenset[URIRef] = frozenset()) -> list[Result]:
        import pyshacl
        from pyshacl.graph_abstraction import DataGraph

        pyshacl_fixes.install()
        if view is None:
            self.write_clock()
        self.view = view if view is not None else self.store.oxigraph_view()
        self._facts = {}
        data = DataGraph.from_oxigraph_store(self.view)
        data.default_union = True  # type: ignore[misc]  # pyshacl defines a setter
        data._namespace_manager = pyshacl_fixes.PlainNames(data.default_graph, bind_namespaces="none")  # type: ignore[attr-defined]
        _no_counting(data)
        shapes = self._focused_shapes(focus, keep)
        try:
            _conforms, results_graph, _text = pyshacl.validate(
                data,
                shacl_graph=shapes.graph,
                inference="none",
                advanced=False,
                allow_warnings=True,
                abort_on_first=False,
                meta_shacl=False,
                inplace=True,
            )
        finally:
            shapes.undo()
        return self._parse(results_graph)

    def write_clock(self) -> None:
        """Make "today" visible to the shapes (SHACL has no parameters): R15 compares each
        asset's mg:lastReviewed with ``mgsh:reviewCutoff`` of the clock node in the meta graph.
        Written only when it changed, so a run's results follow the clock of that run."""
        if self.clock is None:
            return
        as_of, cutoff = self.clock()
        stamps = [
            (REVIEW_CLOCK, MGSH.asOf, Literal(as_of.isoformat(), datatype=XSD.date), Graphs.META),
            (REVIEW_CLOCK, MGSH.reviewCutoff, Literal(cutoff.isoformat(), datatype=XSD.date), Graphs.META),
        ]
        have = {(p, o) for p, o in self.store.about(str(REVIEW_CLOCK), Graphs.META)}
        if have != {(str(p), str(o)) for _, p, o, _ in stamps}:
            self.store.apply(Changeset(Graphs.META, stamps=stamps))  # type: ignore[arg-type]

    def _parse(self, g: Graph, label: bool = True) -> list[Result]:
        """Results from a SHACL report graph; ``label``: write the labels of the terms the
        messages name (in the message's language) in place of their IRIs."""
        results = []
        for node in g.subjects(RDF.type, SH.ValidationResult):
            focus, shape = g.value(node, SH.focusNode), g.value(node, SH.sourceShape)
            shape_key = str(shape)
            messages: dict[str | None, str] = {}
            for m in g.objects(node, SH.resultMessage):
                if isinstance(m, Literal):
                    messages[m.language or self._language(shape_key, str(m))] = str(m)
            if label:
                messages = {lang: self._labelled(text, lang) for lang, text in messages.items()}
            path, value = g.value(node, SH.resultPath), g.value(node, SH.value)
            results.append(
                Result(
                    rule=self.rule_of.get(shape_key, "?"),
                    severity=SEVERITY.get(URIRef(str(g.value(node, SH.resultSeverity))), "Violation"),
                    focus=str(focus),
                    focus_id=self.focus_id(str(focus)),
                    path=str(path) if isinstance(path, URIRef) else None,
                    value=str(value) if value is not None else None,
                    message_zh=messages.get("zh") or messages.get(None) or "",
                    message_en=messages.get("en") or messages.get(None) or "",
                    shape=shape_key,
                )
            )
        return results

    def _labelled(self, message: str, lang: str | None) -> str:
        """The message with each IRI it names replaced by that term's label in ``lang``
        (the shapes name terms by IRI; looking labels up in SPARQL would slow every check)."""

        def label(match: re.Match[str]) -> str:
            text = match.group(0)
            iri = text.rstrip(".,;:)'")  # punctuation after an IRI in a sentence
            labels = self._labels(iri)
            name = (
                labels.get(lang or "") or labels.get("en" if lang == "en" else "zh") or next(iter(labels.values()), iri)
            )
            return name + text[len(iri) :]

        return _IRI.sub(label, message)

    def _labels(self, iri: str) -> dict[str, str]:
        """The labels of ``iri`` by language (from any graph), cached; empty if none."""
        if iri not in self._label_cache:
            labels: dict[str, str] = {}
            try:
                rows = self.store.select(
                    f"SELECT ?l WHERE {{ GRAPH ?g {{ {sparql_term(URIRef(iri))} {sparql_term(RDFS_LABEL)} ?l }} }}"
                )
                found = [r["l"] for r in rows if isinstance(r.get("l"), Literal)]
                labels = {(lit.language or ""): str(lit) for lit in found if isinstance(lit, Literal)}
            except InputError:  # not an IRI after all: leave the text as it is
                pass
            self._label_cache[iri] = labels
        return self._label_cache[iri]

    def _language(self, shape: str, message: str) -> str | None:
        """The language of a result message: pyshacl drops the tag when it fills in {?var}, so
        find the shape's message template the text was made from."""
        for lang, pattern in self.templates.get(shape, ()):
            if pattern.fullmatch(message):
                return lang
        return None

    def focus_id(self, iri: str) -> str:
        local = self.ids.local_id(iri, "asset")
        if local is not None:
            return local
        return iri[len(self.ids.base) :] if iri.startswith(self.ids.base) else iri

    # --- the stored report -----------------------------------------------------------------------
    def validate(
        self, changed: Iterable[URIRef] | None = None, before: Iterable[URIRef] = (), derivations: bool = True
    ) -> Report:
        """Full run (``changed`` None): the whole report. Incremental run over what ``changed``
        affects now and ``before`` (what it affected before the change, from :meth:`affected`:
        a removed derivation no longer leads to what it used to): the results of the nodes it
        re-checked, and whether the whole stored report conforms. Either way the stored report
        is brought up to date (:meth:`stored` reads it whole)."""
        if changed is None:
            results = self.run()
            self._store_results(results, replace_all=True, focus=set())
            return Report(results)
        focus = self.affected(changed, derivations) | set(before)
        # a change that adds or removes no derivation leaves every derivation cycle as it was:
        # the cycle shapes' stored results stand (finding cycles reads the focus's whole lineage)
        keep = frozenset() if derivations else self._cycle_shapes()
        results = self.run(focus, keep=keep)
        self._store_results(results, replace_all=False, focus=focus, keep=keep)
        return Report(results, checked=len(focus), whole_conforms=not self._stored_violations())

    def _stored_violations(self) -> bool:
        return self.store.ask(
            f"ASK {{ GRAPH {sparql_term(VALIDATION)} {{ ?r {sparql_term(SH.resultSeverity)} "
            f"{sparql_term(SH.Violation)} }} }}"
        )

    def _cycle_shapes(self) -> frozenset[URIRef]:
        """The node shapes whose results depend on derivation cycles only (``mgsh:candidates
        mgsh:DerivationCycles``)."""
        return frozenset(
            s for s in self.shapes.subjects(MGSH.candidates, MGSH.DerivationCycles) if isinstance(s, URIRef)
        )

    def _store_results(
        self, results: list[Result], replace_all: bool, focus: set[URIRef], keep: frozenset[URIRef] = frozenset()
    ) -> None:
        """Bring the stored report up to date: a result is named by its content
        (:func:`_result_iri`), so only the results that appeared or went are written."""
        new = {_result_iri(r): r for r in results}
        if replace_all:
            existing = {
                URIRef(str(r))
                for (r,) in self.store.rows(
                    f"SELECT DISTINCT ?r WHERE {{ GRAPH {sparql_term(VALIDATION)} {{ ?r ?p ?o }} }}"
                )
            }
        else:
            existing = set()
            for values in values_blocks("focus", focus):
                kept = (
                    f"FILTER NOT EXISTS {{ ?r {sparql_term(SH.sourceShape)} ?kept "
                    f"FILTER(?kept IN ({', '.join(sparql_term(k) for k in sorted(keep))})) }}"
                    if keep
                    else ""
                )
                rows = self.store.rows(
                    f"SELECT ?r WHERE {{ GRAPH {sparql_term(VALIDATION)} {{ {values} "
                    f"?r {sparql_term(SH.focusNode)} ?focus {kept} }} }}"
                )
                existing |= {URIRef(str(r)) for (r,) in rows}
        stale = existing - new.keys()
        added = [t for node, r in new.items() if node not in existing for t in _result_triples(node, r)]
        if replace_all and len(stale) > len(existing) // 2:  # most of it went: write the graph anew
            self.store.replace_graph(VALIDATION, [t for node, r in new.items() for t in _result_triples(node, r)])
        elif stale or added:
            self.store.apply(Changeset(VALIDATION, subjects=stale, triples=added))

    def stored(self) -> Report:
        """The report as last stored (empty before the first run)."""
        g = Graph()
        for t in self.store.triples(VALIDATION):
            g.add(t)
        return Report(self._parse(g, label=False))  # stored messages are labelled already


def _message_templates(shapes: Graph) -> dict[str, list[tuple[str | None, re.Pattern[str]]]]:
    """Each shape's sh:message templates (its own and its SPARQL constraints') as regexes."""
    out: dict[str, list[tuple[str | None, re.Pattern[str]]]] = {}
    for shape in set(shapes.subjects(SH.message, None)) | set(shapes.subjects(SH.sparql, None)):
        owners = [shape, *shapes.objects(shape, SH.sparql)]
        for owner in owners:
            for m in shapes.objects(owner, SH.message):
                if isinstance(m, Literal):
                    parts = re.split(r"\{[?$]\w+\}", str(m))
                    regex = re.compile(".*?".join(re.escape(p) for p in parts), re.S)
                    out.setdefault(str(shape), []).append((m.language, regex))
    return out


def _int(node: Node) -> int:
    return int(node.toPython()) if isinstance(node, Literal) else int(str(node))


def _strip_prefixes(select: str) -> str:
    """A SELECT without the PREFIX lines a shape might carry inline (they are re-added)."""
    return "\n".join(line for line in select.splitlines() if not line.strip().upper().startswith("PREFIX "))


def _no_counting(data: Any) -> None:
    """pyshacl's Oxigraph data graph answers ``len()`` (and so every truth test) by counting
    the whole store; validation never needs the size, so make the answer constant."""
    data.__class__ = type(
        "_UncountedOxigraphDataGraph",
        (data.__class__,),
        {
            "__len__": lambda self, context=None: 1,
            "__bool__": lambda self: True,
        },
    )
