"""May this asset go to that destination, and what is missing? (``check-transfer``,
``POST /api/transfers/check``)

The answer comes from the shapes themselves, not from a second copy of the rules: a
hypothetical transfer (asset → destination, with the measures the provider declares) is added
to a small in-memory view holding the ontology, the asset, the destination and the records
about the asset, and the validator runs the shapes that target transfers on it (R12: clearance,
data that may not leave, required measures, the risk assessment of important data). Nothing is
written.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox
from rdflib import URIRef

from kg.answers import resolve
from kg.errors import NotFoundError
from kg.ids import check_id
from kg.namespaces import MG, RDF
from kg.store import Graphs, sparql_term

if TYPE_CHECKING:
    from kg.service import Service

_SCRATCH = ox.NamedNode("https://w3id.org/medgrade/graph/what-if")


def _destination(svc: Service, ref: str) -> URIRef:
    text = ref.strip()
    iri = URIRef(text) if text.startswith(("http://", "https://", "urn:")) else svc.ids.destination(check_id(text))
    if not svc.store.ask(
        f"ASK {{ GRAPH {sparql_term(Graphs.INVENTORY)} {{ {sparql_term(iri)} a <{MG}Destination> }} }}"
    ):
        raise NotFoundError(f"no destination '{ref}' in the inventory", f"清单中没有去向“{ref}”")
    return iri


def check_transfer(svc: Service, asset_ref: str, destination_ref: str, measures: Iterable[str] = ()) -> dict[str, Any]:
    onto = svc.ontology
    asset = resolve(svc.store, svc.ids, asset_ref)
    dest = _destination(svc, destination_ref)
    declared = [onto.measures.find(m) for m in measures]
    view = ox.Store()
    view.load(onto.graph.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES, to_graph=_SCRATCH)
    a, d = sparql_term(asset), sparql_term(dest)
    facts = svc.store.construct(
        f"""CONSTRUCT {{ ?s ?p ?o }} WHERE {{
        {{ GRAPH ?g {{ VALUES ?s {{ {a} {d} }} ?s ?p ?o }} }}
        UNION {{ GRAPH ?g {{ ?s <{MG}concerns> {a} ; ?p ?o }} }} }}"""
    )
    view.load(facts.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES, to_graph=_SCRATCH)
    t = ox.NamedNode(f"{svc.ids.base}transfer-check/{uuid.uuid4().hex}")
    quads = [
        ox.Quad(t, ox.NamedNode(str(RDF.type)), ox.NamedNode(f"{MG}Transfer"), _SCRATCH),
        ox.Quad(t, ox.NamedNode(f"{MG}transfersAsset"), ox.NamedNode(str(asset)), _SCRATCH),
        ox.Quad(t, ox.NamedNode(f"{MG}toDestination"), ox.NamedNode(str(dest)), _SCRATCH),
    ]
    quads += [ox.Quad(t, ox.NamedNode(f"{MG}declaresMeasure"), ox.NamedNode(m.iri), _SCRATCH) for m in declared]
    view.extend(quads)
    results = svc.validator().run({URIRef(t.value)}, view=view)
    level = svc.level(str(asset))
    missing = sorted(
        {r.value for r in results if r.value and r.value in onto.measures},
        key=lambda iri: onto.measures.by_iri[iri].notation or iri,
    )
    clearance = facts.value(dest, URIRef(f"{MG}clearedUpTo"))
    cleared = onto.levels.get(str(clearance)) if clearance is not None else None
    return {
        "asset": str(asset),
        "destination": str(dest),
        "allowed": not any(r.severity == "Violation" for r in results),
        "effective": level["effective"],
        "clearance": cleared.ref() if cleared else None,
        "declared_measures": [m.ref() for m in declared],
        "missing_measures": [onto.measures.by_iri[m].ref() for m in missing],
        "problems": [{k: v for k, v in r.to_dict().items() if k not in ("focus", "focus_id")} for r in results],
    }
