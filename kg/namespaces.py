"""RDF namespaces medgrade writes and reads (rdflib ``Namespace`` objects)."""

from __future__ import annotations

from rdflib import Namespace
from rdflib.namespace import DCAT, DCTERMS, OWL, PROV, RDF, RDFS, SKOS, XSD

from kg import MG as _MG

MG = Namespace(_MG)
DPV = Namespace("https://w3id.org/dpv#")

# The one PREFIX header medgrade's own queries start with (a prefix a query does not use costs nothing).
SPARQL_PREFIXES = (
    f"PREFIX mg: <{MG}> PREFIX prov: <{PROV}> PREFIX rdf: <{RDF}> PREFIX rdfs: <{RDFS}> "
    f"PREFIX skos: <{SKOS}> PREFIX xsd: <{XSD}>\n"
)

__all__ = ["DCAT", "DCTERMS", "DPV", "MG", "OWL", "PROV", "RDF", "RDFS", "SKOS", "SPARQL_PREFIXES", "XSD"]
