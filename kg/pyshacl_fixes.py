"""Three fixes to pyshacl, for large reports and for many small runs (the results it finds
are unchanged).

pyshacl builds its text report by repeated string concatenation (quadratic in the number of
results), and names every node in it through rdflib's namespace manager, which files each new
IRI namespace into a trie that is scanned on every insert (quadratic in the number of distinct
namespaces; every asset IRI is its own namespace). With 20,000 results that is minutes.
:func:`install` replaces the report builder with a linear one; :class:`PlainNames` is a
namespace manager that writes IRIs as ``<...>`` without the trie, for the data graph.

Before each SPARQL-based constraint's query for each focus node, pyshacl checks the query text
with six regular expressions and writes the shape's path into it again (in a small incremental
validation, 29 % of a busy server's time): :func:`_pre_bind_variables` does it once per query
text, shape, path and kind of binding, then binds the nodes.
"""

from __future__ import annotations

from typing import Any

from rdflib import BNode, Graph, Literal, URIRef, Variable
from rdflib.namespace import NamespaceManager

_installed = False


class PlainNames(NamespaceManager):
    """Names IRIs as ``<iri>``: no prefixes, no trie (pyshacl only uses it for report text)."""

    def normalizeUri(self, rdfTerm: str) -> str:
        return f"?{rdfTerm}" if isinstance(rdfTerm, Variable) else f"<{rdfTerm}>"


def _create_validation_report(
    cls: Any, sg: Any, conforms: bool, results: list[tuple[Any, Any, Any]]
) -> tuple[Graph, str]:
    """pyshacl's Validator.create_validation_report, with the text joined once."""
    from pyshacl.rdfutil import clone_blank_node  # type: ignore[attr-defined]
    from pyshacl.validator import RDF_type, SH_conforms, SH_result, SH_ValidationReport  # type: ignore[attr-defined]

    if not conforms and not results:
        raise RuntimeError("A Non-Conformant Validation Report must have at least one result.")
    text = [f"Validation Report\nConforms: {conforms}\n"]
    if results:
        text.append(f"Results ({len(results)}):\n")
    vg = Graph(bind_namespaces="core")
    for p, n in sg.graph.namespace_manager.namespaces():
        vg.namespace_manager.bind(p, n)
    vr = BNode()
    vg.add((vr, RDF_type, SH_ValidationReport))
    vg.add((vr, SH_conforms, Literal(conforms)))
    cloned: dict[tuple[Any, str], Any] = {}
    text += [r[0] for r in sorted(results, key=lambda r: r[0])]
    for _desc, node, triples in results:
        vg.add((vr, SH_result, node))
        for s, p, o in triples:
            if isinstance(o, tuple):
                source, value = o
                if isinstance(value, Literal):
                    o = value
                elif (source, str(value)) in cloned:
                    o = cloned[(source, str(value))]
                elif isinstance(value, BNode):
                    o = cloned[(source, str(value))] = clone_blank_node(source, value, vg, keepid=True)
                else:
                    o = cloned[(source, str(value))] = URIRef(str(value))
            vg.add((s, p, o))
    return vg, "".join(text)


_BOUND: dict[tuple[Any, ...], tuple[bool, bool, bool, str]] = {}
_BOUND_LIMIT = 10_000


def _pre_bind_variables(
    self: Any, thisnode: Any, valuenode: Any = None, extravars: Any = None
) -> tuple[dict[str, Any], str]:
    """pyshacl's SPARQLQueryHelper.pre_bind_variables, its checks and text computed once per
    query, shape, path and binding (what the result depends on besides the nodes bound)."""
    path = self.shape.path()
    key = (
        self.select_text,
        self.shape.node,
        path,
        valuenode is not None,
        bool(valuenode),
        tuple(sorted(extravars)) if extravars else (),
    )
    known = _BOUND.get(key)
    if known is None:  # the original checks (raising on an invalid query, each time), binds, writes the path
        bindings, text = _ORIGINAL["pre_bind_variables"](self, thisnode, valuenode, extravars)
        if len(_BOUND) >= _BOUND_LIMIT:
            _BOUND.clear()
        known = _BOUND[key] = ("this" in bindings, "value" in bindings, "currentShape" in bindings, text)
        return bindings, text
    this, value, current, text = known
    out: dict[str, Any] = {}
    if this:
        out["this"] = thisnode
    if value:
        out["value"] = valuenode
    if current:
        out["currentShape"] = self.shape.node
    return out, text


_ORIGINAL: dict[str, Any] = {}


def install() -> None:
    """Replace pyshacl's report builder (once); leaves pyshacl alone if its shape changed."""
    global _installed
    if _installed:
        return
    from pyshacl import validator

    original = getattr(validator.Validator, "create_validation_report", None)
    needed = ("RDF_type", "SH_conforms", "SH_result", "SH_ValidationReport")
    if original is not None and all(hasattr(validator, n) for n in needed):
        validator.Validator.create_validation_report = classmethod(_create_validation_report)  # type: ignore[method-assign, assignment]
    from pyshacl.helper import sparql_query_helper

    helper = sparql_query_helper.SPARQLQueryHelper
    if callable(getattr(helper, "pre_bind_variables", None)) and "pre_bind_variables" not in _ORIGINAL:
        _ORIGINAL["pre_bind_variables"] = helper.pre_bind_variables
        helper.pre_bind_variables = _pre_bind_variables  # type: ignore[method-assign]
    _installed = True
