"""The RDF of a derivation and of the approval of a level-reducing activity, written the same
way by every path that records them (spreadsheet import, ``POST /api/derivations``).

PROV's reading of a derivation through an activity: ``target prov:wasDerivedFrom source``, and
with a transformation ``target prov:wasGeneratedBy act``, ``act prov:used source``, one activity
per derived asset. An approval (R8: who, when, why) hangs on the activity."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from rdflib import Literal, URIRef

from kg.namespaces import MG, PROV, RDF, XSD
from kg.store.base import Triple


def derivation_triples(
    target: URIRef, sources: Iterable[URIRef], activity: URIRef | None = None, kind: str | None = None
) -> list[Triple]:
    """``target`` derived from each of ``sources``; through ``activity`` of transformation type
    ``kind`` (an IRI) when given."""
    sources = list(sources)
    t: list[Triple] = [(target, PROV.wasDerivedFrom, s) for s in sources]
    if activity is not None and kind is not None:
        t += [(activity, PROV.used, s) for s in sources]
        t += [
            (target, PROV.wasGeneratedBy, activity),
            (activity, RDF.type, MG.Transformation),
            (activity, MG.transformationType, URIRef(kind)),
        ]
    return t


def approval_triples(
    activity: URIRef, approval: URIRef, who: str, when: dt.datetime | None, note: str | None = None
) -> list[Triple]:
    """The approval of ``activity`` (a level-reducing transformation): who approved it, when
    (an ``xsd:dateTime`` to the second, without a zone) and on what grounds."""
    t: list[Triple] = [
        (activity, MG.approval, approval),
        (approval, RDF.type, MG.Approval),
        (approval, MG.actor, Literal(who)),
    ]
    if when is not None:
        stamp = when.replace(microsecond=0, tzinfo=None).isoformat()
        t.append((approval, MG.performedAt, Literal(stamp, datatype=XSD.dateTime)))
    if note:
        t.append((approval, MG.justification, Literal(note)))
    return t
