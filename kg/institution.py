"""The institution record (数据处理者): the one healthcare institution a store belongs to, its
name and whether it is a critical information infrastructure operator (CIIO), which the
cross-border decision reads (issue #20). One per store, at ``<base>institution``; setting it is
audited (R13). Until it exists, the cross-border decision takes the institution to be a CIIO
(the stricter reading)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rdflib import Literal, URIRef
from rdflib.namespace import RDF, RDFS, XSD

from kg.errors import InputError
from kg.namespaces import MG, PROV
from kg.store import Changeset, Graphs
from kg.store.base import Triple

if TYPE_CHECKING:
    from kg.service import Service

MAX_NAME = 500


@dataclass(frozen=True, slots=True)
class Institution:
    iri: str
    name: str | None
    ciio: bool | None  # None: not recorded (the cross-border decision takes it as a CIIO)

    def to_dict(self) -> dict[str, Any]:
        return {"iri": self.iri, "name": self.name, "ciio": self.ciio}


def iri_of(svc: Service) -> URIRef:
    return URIRef(f"{svc.ids.base}institution")


def institution(svc: Service) -> Institution | None:
    """The store's institution record, or None when none is set."""
    node = iri_of(svc)
    facts = svc.store.about(str(node), Graphs.INVENTORY)
    if not any(p == str(RDF.type) and o == str(MG.Institution) for p, o in facts):
        return None
    name = next((o for p, o in facts if p == str(RDFS.label)), None)
    flag = next((o for p, o in facts if p == str(MG.criticalInfrastructureOperator)), None)
    return Institution(str(node), name, None if flag is None else flag in ("true", "1"))


def set_institution(
    svc: Service, *, actor: str, name: str | None = None, ciio: bool | None = None, justification: str = ""
) -> dict[str, Any]:
    """Create or change the institution record: ``name`` and ``ciio`` replace what they give (a
    first record needs a name), in one audited transaction. Nothing else changes: transfer
    records keep the mechanism they were judged by until a record of their year is written."""
    from kg.stewardship import governance_record

    current = institution(svc)
    text = (name or "").strip() or None
    if name is not None and text is None:
        raise InputError("the institution's name is empty", "机构名称为空")
    if text is not None and len(text) > MAX_NAME:
        raise InputError(f"the institution's name is longer than {MAX_NAME} characters", "机构名称过长")
    if current is None and text is None:
        raise InputError("a new institution record needs a name (--name)", "新建机构记录须给出名称（--name）")
    if text is None and ciio is None:
        raise InputError("give --name or --ciio/--not-ciio to change", "请给出要修改的 --name 或 --ciio/--not-ciio")
    node = iri_of(svc)
    new = Institution(
        str(node),
        text if text is not None else current.name if current else None,
        ciio if ciio is not None else current.ciio if current else None,
    )
    triples: list[Triple] = [(node, RDF.type, MG.Institution), (node, RDF.type, PROV.Organization)]
    if new.name:
        triples.append((node, RDFS.label, Literal(new.name)))
    if new.ciio is not None:
        triples.append((node, MG.criticalInfrastructureOperator, Literal(new.ciio, datatype=XSD.boolean)))
    why = justification.strip() or "设置本机构记录 / institution record set"
    _, audit = governance_record(svc, MG.ChangeRecord, actor, why, node)
    svc.store.apply(Changeset(Graphs.INVENTORY, subjects={node}, triples=triples, extra=audit))
    return {"institution": new.to_dict(), "previous": current.to_dict() if current else None}
