"""Bring a store written by an earlier medgrade up to date, once, when a process starts
(:meth:`kg.service.Service.recover` runs them before anything is read).

Each migration is idempotent: it finds what is in the old form, rewrites it in one atomic
change of the inventory, and says what it did (bilingual). Nothing here lowers a level: where
the old data cannot say what the new form needs, the migration takes the stricter reading.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from rdflib import Literal, URIRef

from kg.ids import Ids
from kg.namespaces import MG, PROV, RDF, SPARQL_PREFIXES
from kg.store import Changeset, Graphs, Store, sparql_term
from kg.store.base import Triple

_P = SPARQL_PREFIXES
# medgrade before 0.2 keyed a masked column derivation by (output column, input column) only:
# <output column>/from/<12 hex digits of sha1(input column IRI)>
_OLD_KEY = re.compile(r"/from/[0-9a-f]{12}$")


def qualified_derivations(store: Store, ids: Ids) -> tuple[Changeset, str] | None:
    """Qualified derivations keyed by (output, input) only become one per run and pair
    (:meth:`kg.ids.Ids.derivation`). An approval moves with its derivation when the old node
    belonged to one run; when several runs shared it, no run keeps it (which one the steward
    approved cannot be told). Every other run that generated the output's dataset from the
    input's dataset gets an unmasked derivation of the pair: the old form did not record
    unmasked column derivations, so such a run may have copied the column in clear."""
    inv = sparql_term(Graphs.INVENTORY)
    rows = store.rows(
        _P
        + f"""SELECT ?x ?q ?s ?act ?approval WHERE {{ GRAPH {inv} {{
        ?x prov:qualifiedDerivation ?q . ?q prov:entity ?s
        OPTIONAL {{ ?q prov:hadActivity ?act }} OPTIONAL {{ ?q mg:approval ?approval }} }} }}"""
    )
    old: dict[str, dict[str, object]] = {}
    for x, q, s, act, approval in rows:
        if x is None or q is None or s is None or not _OLD_KEY.search(q):
            continue
        entry = old.setdefault(q, {"x": x, "s": s, "acts": set(), "approvals": set()})
        if act is not None:
            entry["acts"].add(act)  # type: ignore[attr-defined]
        if approval is not None:
            entry["approvals"].add(approval)  # type: ignore[attr-defined]
    if not old:
        return None
    changes = Changeset(Graphs.INVENTORY)
    dropped = 0
    for q, entry in sorted(old.items()):
        x, s = str(entry["x"]), str(entry["s"])
        acts: set[str] = entry["acts"]  # type: ignore[assignment]
        approvals: set[str] = entry["approvals"]  # type: ignore[assignment]
        node = URIRef(q)
        changes.subjects.add(node)
        changes.removals.append((URIRef(x), PROV.qualifiedDerivation, node))
        keep_approval = len(acts) <= 1
        dropped += 0 if keep_approval or not approvals else 1
        runs: list[str | None] = [*sorted(acts)] or [None]
        for act in runs:
            changes.triples += _derivation(ids, x, s, act, True, sorted(approvals) if keep_approval else [])
        for other in _other_runs(store, x, s, acts, ids):
            changes.triples += _derivation(ids, x, s, other, False, [])
    note_en = f"{len(old)} masked column derivation(s) re-keyed per run"
    note_zh = f"{len(old)} 项脱敏列级衍生已按运行重新标识"
    if dropped:
        note_en += f"; {dropped} approval(s) shared by several runs no longer apply: approve each run again"
        note_zh += f"；{dropped} 项由多次运行共用的审批不再生效：请逐次重新审批"
    return changes, f"{note_zh} / {note_en}"


def _derivation(ids: Ids, x: str, s: str, act: str | None, masked: bool, approvals: list[str]) -> list[Triple]:
    q = ids.derivation(x, act, s)
    out: list[Triple] = [
        (URIRef(x), PROV.qualifiedDerivation, q),
        (q, RDF.type, PROV.Derivation),
        (q, PROV.entity, URIRef(s)),
        (q, MG.masking, Literal(masked)),
    ]
    if act is not None:
        out.append((q, PROV.hadActivity, URIRef(act)))
    out += [(q, MG.approval, URIRef(a)) for a in approvals]
    return out


def _other_runs(store: Store, x: str, s: str, known: set[str], ids: Ids) -> list[str]:
    """Activities that generated x's dataset and used s's dataset, other than ``known``."""
    rows = store.rows(
        _P
        + f"""SELECT DISTINCT ?act WHERE {{ GRAPH {sparql_term(Graphs.INVENTORY)} {{
        ?out mg:hasElement {sparql_term(URIRef(x))} . ?in mg:hasElement {sparql_term(URIRef(s))} .
        ?out prov:wasGeneratedBy ?act . ?act prov:used ?in }} }}"""
    )
    return sorted({a for (a,) in rows if a and a not in known and not _has_derivation(store, ids, x, s, a)})


def _has_derivation(store: Store, ids: Ids, x: str, s: str, act: str) -> bool:
    q = ids.derivation(x, act, s)
    return store.ask(f"ASK {{ GRAPH {sparql_term(Graphs.INVENTORY)} {{ {sparql_term(q)} ?p ?o }} }}")


MIGRATIONS: tuple[Callable[[Store, Ids], tuple[Changeset, str] | None], ...] = (qualified_derivations,)
