"""What the web pages show beyond the REST answers, read from the store in one place: the
dashboard's counts, an asset's audit trail and the destinations. The pages call these through
:class:`kg.service.Service` and never send SPARQL themselves."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from rdflib import URIRef

from kg.ids import Ids
from kg.namespaces import SPARQL_PREFIXES
from kg.ontology import Ontology
from kg.store import Graphs, Store, sparql_term
from kg.store.base import values_blocks
from kg.vocabulary import Category, EquipmentType, Level

_P = SPARQL_PREFIXES
INV, INF, AUDIT = sparql_term(Graphs.INVENTORY), sparql_term(Graphs.INFERRED), sparql_term(Graphs.AUDIT)


@dataclass(frozen=True, slots=True)
class Counts:
    """The dashboard's figures: assets by effective level and by top category, devices by type."""

    total: int
    levels: list[tuple[Level, int]]  # every level of the ontology, lowest first
    unlevelled: int
    categories: list[tuple[Category, int]]  # top categories, most assets first
    no_category: int
    equipment: list[tuple[EquipmentType, int]]  # most devices first


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One governance record about an asset (who, when, why, and what it assigned)."""

    kind: str
    who: str
    when: str
    why: str
    level: dict[str, Any] | None = None
    category: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class DestinationEntry:
    iri: str
    id: str
    name: str | None = field(default=None)


def _top_category(onto: Ontology, iri: str | None) -> Category | None:
    cat = onto.categories.get(iri or "")
    while cat is not None and cat.parent and onto.categories.get(cat.parent) is not None:
        cat = onto.categories.get(cat.parent)
    return cat


def counts(store: Store, onto: Ontology) -> Counts:
    """Aggregated in the store (one row per category and level, not per asset); the effective
    level where propagation wrote one, else the assessed level."""
    rows = store.rows(
        _P
        + f"""SELECT ?cat ?lv (COUNT(?a) AS ?n) WHERE {{ GRAPH {INV} {{ ?a a mg:DataAsset .
        OPTIONAL {{ ?a mg:hasCategory ?cat }} OPTIONAL {{ ?a mg:assessedLevel ?own }} }}
        OPTIONAL {{ GRAPH {INF} {{ ?a mg:effectiveLevel ?eff }} }} BIND(COALESCE(?eff, ?own) AS ?lv) }}
        GROUP BY ?cat ?lv"""
    )
    by_level: dict[str, int] = {}
    by_category: dict[str, int] = {}
    no_category = 0
    for cat, lv_iri, n_text in rows:
        n = int(n_text or 0)
        no_category += n if cat is None else 0
        lv = onto.levels.get(lv_iri or "")
        by_level[lv.iri if lv else ""] = by_level.get(lv.iri if lv else "", 0) + n
        top = _top_category(onto, cat)
        by_category[top.iri if top else ""] = by_category.get(top.iri if top else "", 0) + n
    devices = store.rows(
        _P
        + f"""SELECT ?type (COUNT(DISTINCT ?d) AS ?n) WHERE {{ GRAPH {INV} {{ ?d a mg:Equipment ; a ?type .
        FILTER(?type != mg:Equipment) }} }} GROUP BY ?type ORDER BY DESC(?n)"""
    )
    categories = [(onto.categories.by_iri[iri], n) for iri, n in by_category.items() if iri]
    return Counts(
        total=sum(by_level.values()),
        levels=[(lv, by_level.get(lv.iri, 0)) for lv in onto.ordered_levels()],
        unlevelled=by_level.get("", 0),
        categories=sorted(categories, key=lambda cn: -cn[1]),
        no_category=no_category,
        equipment=[(eq, int(n or 0)) for t, n in devices if (eq := onto.equipment_types.get(t or "")) is not None],
    )


def audit_trail(store: Store, onto: Ontology, asset: URIRef, limit: int = 100) -> list[AuditEntry]:
    """The governance records that concern ``asset``, newest first."""
    rows = store.rows(
        _P
        + f"""SELECT ?r ?kind ?who ?when ?why ?lv ?cat WHERE {{ GRAPH {AUDIT} {{
        ?r mg:concerns {sparql_term(asset)} ; a ?kind ; mg:actor ?who ; mg:performedAt ?when ; mg:justification ?why .
        OPTIONAL {{ ?r mg:assignedLevel ?lv }} OPTIONAL {{ ?r mg:assignedCategory ?cat }} }} }}
        ORDER BY DESC(?when) LIMIT {int(limit)}"""
    )
    out = []
    for _r, kind, who, when, why, lv, cat in rows:
        level, category = onto.levels.get(lv or ""), onto.categories.get(cat or "")
        out.append(
            AuditEntry(
                kind=str(kind).rsplit("#", 1)[-1],
                who=who or "",
                when=str(when)[:19].replace("T", " "),
                why=why or "",
                level=level.ref() if level else None,
                category=category.ref() if category else None,
            )
        )
    return out


def destinations(store: Store) -> list[DestinationEntry]:
    """Every destination of the inventory, by id."""
    rows = store.rows(
        _P
        + f"""SELECT ?d ?id ?name WHERE {{ GRAPH {INV} {{ ?d a mg:Destination ; mg:identifier ?id .
        OPTIONAL {{ ?d rdfs:label ?name }} }} }} ORDER BY ?id"""
    )
    return [DestinationEntry(d, ident, name) for d, ident, name in rows if d and ident]


def asset_names(store: Store, ids: Ids, asset_ids: Iterable[str]) -> dict[str, str]:
    """The names (rdfs:label) of the assets with these ids, by id; assets without a name are left out."""
    out: dict[str, str] = {}
    for values in values_blocks("a", map(ids.asset, set(asset_ids))):
        for a, name in store.rows(_P + f"SELECT ?a ?l WHERE {{ GRAPH {INV} {{ {values} ?a rdfs:label ?l }} }}"):
            if a and name:
                out[ids.local_id(a) or a] = name
    return out
