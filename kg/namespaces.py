"""RDF namespaces medgrade writes and reads (rdflib ``Namespace`` objects)."""

from __future__ import annotations

from rdflib import Namespace
from rdflib.namespace import DCAT, DCTERMS, OWL, PROV, RDF, RDFS, SKOS, XSD

from kg import MG as _MG

MG = Namespace(_MG)
DPV = Namespace("https://w3id.org/dpv#")

__all__ = ["DCAT", "DCTERMS", "DPV", "MG", "OWL", "PROV", "RDF", "RDFS", "SKOS", "XSD"]
