"""Unclassified (待分类) is a state, not a category: a data asset with no ``mg:hasCategory``.

Datasets that arrive through OpenLineage or RDF usually have no category. The inventory holds
no marker for them; the ontology names the state (``mg:Unclassified``, a
``mg:ClassificationStatus``, not a concept of the business taxonomy), and its labels are what
spreadsheets write in the category column (export) and read back as "no category" (import),
and what the pages show. R1 warns about such an asset until a steward classifies it; its
effective level still follows its sources (R7), and the transfer check refuses it meanwhile.

:func:`classification_queue` lists them with the classification assistant's suggestion,
made from each dataset's name and the names of its elements.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rdflib import Literal, URIRef

from kg.errors import InputError, OntologyError
from kg.namespaces import MG, RDF, RDFS, SKOS, SPARQL_PREFIXES
from kg.ontology import Ontology
from kg.store import Graphs, sparql_term
from kg.vocabulary import Term

if TYPE_CHECKING:
    from kg.classify import Suggestion
    from kg.service import Service

UNCLASSIFIED = URIRef(f"{MG}Unclassified")
STATUS = URIRef(f"{MG}ClassificationStatus")
MAX_ELEMENTS = 40  # element names given to the assistant per dataset (a wide table has hundreds)


def _key(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def unclassified(onto: Ontology) -> Term:
    """The ontology's term for the state (labels 待分类 / unclassified); OntologyError when an
    edited ontology lacks it."""
    g, s = onto.graph, UNCLASSIFIED
    if (s, RDF.type, STATUS) not in g:
        raise OntologyError(
            f"the ontology in {onto.directory} does not define <{s}> (a mg:ClassificationStatus): "
            "unclassified assets cannot be exported or imported",
            f"{onto.directory} 中的本体未定义 <{s}>（分类状态）：无法导出或导入待分类的数据资产",
        )

    def text(p: URIRef, lang: str) -> str:
        return next((str(o) for o in g.objects(s, p) if isinstance(o, Literal) and o.language == lang), "")

    zh, en = text(RDFS.label, "zh"), text(RDFS.label, "en")
    return Term(
        iri=str(s),
        label_zh=zh or en or "Unclassified",
        label_en=en or zh or "Unclassified",
        definition_zh=text(SKOS.definition, "zh"),
        definition_en=text(SKOS.definition, "en"),
        alt_labels=tuple(sorted(str(o) for o in g.objects(s, SKOS.altLabel) if isinstance(o, Literal))),
    )


def names_unclassified(onto: Ontology) -> set[str]:
    """The normalised spellings that name the state in a spreadsheet cell: its labels, synonyms,
    local name and IRI (matched like category names: width and case do not matter)."""
    term = unclassified(onto)
    return {_key(n) for n in (term.label_zh, term.label_en, term.local_name, term.iri, *term.alt_labels) if n}


def is_unclassified(text: str, names: set[str]) -> bool:
    return _key(text) in names


@dataclass(frozen=True, slots=True)
class QueueItem:
    """One unclassified dataset and what the assistant suggests for it."""

    asset: str
    id: str
    name: str | None
    elements: tuple[str, ...]
    effective: dict[str, Any] | None  # the level object (R7: from its sources), or None
    suggestion: Suggestion

    def to_dict(self) -> dict[str, Any]:
        return {
            "asset": self.asset,
            "id": self.id,
            "name": self.name,
            "elements": list(self.elements),
            "effective": self.effective,
            "suggestion": self.suggestion.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class Queue:
    """A page of the classification queue."""

    status: Term
    total: int
    limit: int
    offset: int
    items: tuple[QueueItem, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.ref(),
            "total": self.total,
            "limit": self.limit,
            "offset": self.offset,
            "items": [i.to_dict() for i in self.items],
        }


def classification_queue(svc: Service, limit: int = 50, offset: int = 0) -> Queue:
    """The data assets with no category, by id, each with a suggestion from its name and its
    elements' names (``limit``, ``offset``: a page of them)."""
    if not 1 <= limit <= 1000 or offset < 0:
        raise InputError("limit must be 1–1000 and offset ≥ 0", "limit 须在 1–1000 之间，offset ≥ 0")
    onto, store, ids = svc.ontology, svc.store, svc.ids
    status = unclassified(onto)
    inv, inf = sparql_term(Graphs.INVENTORY), sparql_term(Graphs.INFERRED)
    prefixes = SPARQL_PREFIXES
    where = f"GRAPH {inv} {{ ?a a mg:DataAsset FILTER NOT EXISTS {{ ?a mg:hasCategory ?c }} }}"
    total = store.rows(prefixes + f"SELECT (COUNT(DISTINCT ?a) AS ?n) WHERE {{ {where} }}")
    rows = store.rows(
        prefixes
        + f"""SELECT ?a (SAMPLE(?name) AS ?n) (SAMPLE(?eff) AS ?e) WHERE {{ {where}
        OPTIONAL {{ GRAPH {inv} {{ ?a rdfs:label ?name }} }}
        OPTIONAL {{ GRAPH {inf} {{ ?a mg:effectiveLevel ?eff }} }} }}
        GROUP BY ?a ORDER BY ?a LIMIT {int(limit)} OFFSET {int(offset)}"""
    )
    assets = [URIRef(a) for a, _, _ in rows if a]
    elements: dict[str, list[str]] = {}
    if assets:
        values = " ".join(sparql_term(a) for a in assets)
        for a, label in store.rows(
            prefixes + f"SELECT ?a ?l WHERE {{ GRAPH {inv} {{ VALUES ?a {{ {values} }} ?a mg:hasElement ?x . "
            "?x rdfs:label ?l } } ORDER BY ?a ?l"
        ):
            elements.setdefault(str(a), []).append(str(label))
    items = []
    for a, name, eff in rows:
        if not a:
            continue
        ident = ids.local_id(str(a)) or str(a)
        names = tuple(dict.fromkeys(elements.get(str(a), [])))
        description = "; ".join(names[:MAX_ELEMENTS]) or None
        level = onto.levels.get(str(eff)) if eff else None
        items.append(
            QueueItem(
                asset=str(a),
                id=ident,
                name=str(name) if name else None,
                elements=names,
                effective=level.ref() if level else None,
                suggestion=svc.classifier.classify(str(name) if name else ident, description),
            )
        )
    return Queue(status, int(total[0][0] or 0) if total else 0, limit, offset, tuple(items))
