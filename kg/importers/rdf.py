"""RDF inventories (.ttl, .jsonld, .nq, .nt) -> an import plan.

Blank nodes are given stable IRIs from the canonical form of the graph (re-importing the same
file names them the same). JSON-LD must carry its context inline: remote contexts would make
the server fetch URLs, so they are refused. Terms of the ontology cannot be redefined by an
import, and N-Quads may only address the inventory graph.
"""

from __future__ import annotations

import json
from pathlib import Path

from rdflib import BNode, Graph, URIRef
from rdflib.compare import to_canonical_graph

from kg import MG as MG_IRI
from kg import ONTOLOGY_IRI
from kg.errors import Problem
from kg.ids import Ids
from kg.importers.plan import ImportPlan, Record
from kg.store.base import Graphs, parts_of

FORMATS = {".ttl": "turtle", ".jsonld": "json-ld", ".json-ld": "json-ld", ".nq": "nquads", ".nt": "nt"}
MAX_JSON_DEPTH = 64


def _depth(value: object, limit: int) -> int:
    """Nesting depth of a JSON value, iteratively (no recursion for hostile input)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, d = stack.pop()
        deepest = max(deepest, d)
        if deepest > limit:
            return deepest
        if isinstance(node, dict):
            stack += [(v, d + 1) for v in node.values()]
        elif isinstance(node, list):
            stack += [(v, d + 1) for v in node]
    return deepest


def _remote_contexts(value: object) -> list[str]:
    found, stack = [], [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for k, v in node.items():
                if k in ("@context", "@import"):
                    ctx = v if isinstance(v, list) else [v]
                    found += [c for c in ctx if isinstance(c, str)]
                stack.append(v)
        elif isinstance(node, list):
            stack += node
    return found


def parse_rdf(path: Path, plan: ImportPlan) -> Graph | None:
    """Parse one RDF file into a graph, or record why not."""
    fmt = FORMATS[path.suffix.lower()]
    where = path.name
    try:
        if fmt == "json-ld":
            text = path.read_text(encoding="utf-8")
            try:
                data = json.loads(text)
            except RecursionError:
                plan.problems.append(Problem("JSON nested too deeply", "JSON 嵌套过深", where=where))
                return None
            if _depth(data, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
                plan.problems.append(
                    Problem(
                        f"JSON-LD nested deeper than {MAX_JSON_DEPTH} levels",
                        f"JSON-LD 嵌套超过 {MAX_JSON_DEPTH} 层",
                        where=where,
                    )
                )
                return None
            remote = _remote_contexts(data)
            if remote:
                plan.problems.append(
                    Problem(
                        f"remote JSON-LD contexts are not fetched ({', '.join(remote[:3])}); put the context inline",
                        f"不获取远程 JSON-LD 上下文（{', '.join(remote[:3])}），请内联上下文",
                        where=where,
                    )
                )
                return None
            g = Graph()
            g.parse(data=text, format="json-ld")
            return g
        if fmt in ("nquads", "nt"):
            return _parse_lines(path, fmt, plan)
        g = Graph()
        g.parse(path, format=fmt)
        return g
    except UnicodeDecodeError:
        plan.problems.append(Problem("not UTF-8 text", "不是 UTF-8 编码的文本", where=where))
    except json.JSONDecodeError as exc:
        plan.problems.append(Problem(f"malformed JSON: {exc}", f"JSON 格式错误：{exc}", where=where))
    except Exception as exc:  # rdflib's parsers raise many types; all mean "bad syntax"
        detail = " ".join(str(exc).split())[:300] or type(exc).__name__
        plan.problems.append(Problem(f"cannot parse as {fmt}: {detail}", f"无法按 {fmt} 解析：{detail}", where=where))
    return None


def _parse_lines(path: Path, fmt: str, plan: ImportPlan) -> Graph | None:
    """N-Triples / N-Quads with Oxigraph's streaming parser (fast; errors carry line and column)."""
    import pyoxigraph as ox

    from kg.store.oxigraph import to_rdflib

    g = Graph()
    oxfmt = ox.RdfFormat.N_QUADS if fmt == "nquads" else ox.RdfFormat.N_TRIPLES
    try:
        for q in ox.parse(path=str(path), format=oxfmt):
            graph = q.graph_name
            if not isinstance(graph, ox.DefaultGraph) and graph.value != str(Graphs.INVENTORY):
                plan.problems.append(
                    Problem(
                        f"quad in graph <{graph.value}>: imports may only write the inventory graph <{Graphs.INVENTORY}>",
                        f"四元组位于图 <{graph.value}>：导入只能写入清单图 <{Graphs.INVENTORY}>",
                        where=path.name,
                    )
                )
                return None
            g.add((to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object)))
    except SyntaxError as exc:
        plan.problems.append(Problem(f"cannot parse as {fmt}: {exc}", f"无法按 {fmt} 解析：{exc}", where=path.name))
        return None
    return g


def plan_rdf(path: Path, ids: Ids) -> ImportPlan:
    """Records from an RDF file: each subject with its parts (see ``parts_of``)."""
    plan = ImportPlan(files=[path.name])
    g = parse_rdf(path, plan)
    if g is None:
        return plan
    if any(isinstance(t, BNode) for triple in g for t in triple):
        canonical = to_canonical_graph(g)
        g = Graph()
        for triple in canonical:
            g.add(tuple(URIRef(f"{ids.base}bnode/{t}") if isinstance(t, BNode) else t for t in triple))  # type: ignore[arg-type]
    subjects = {s for s in g.subjects() if isinstance(s, URIRef)}
    for term in sorted(subjects):
        if str(term).startswith((MG_IRI, ONTOLOGY_IRI)):
            plan.problems.append(
                Problem(
                    f"<{term}> is an ontology term; edit the ontology instead of importing it",
                    f"<{term}> 是本体术语，请编辑本体而不是导入",
                    where=path.name,
                )
            )
    if plan.problems:
        return plan
    owner: dict[URIRef, URIRef] = {}
    for subject in sorted(subjects, key=len):  # shortest first: roots before their parts
        if subject not in owner:
            for part in parts_of(g, subject):
                owner.setdefault(part, subject)
    records: dict[URIRef, Record] = {}
    for s, p, o in g:  # every subject is an IRI here: blank nodes were named above
        root = owner.get(URIRef(str(s)), URIRef(str(s)))
        records.setdefault(root, Record("resource", root, [], f"{path.name} <{root}>")).triples.append((s, p, o))
    for record in records.values():
        plan.add(record)
    return plan
