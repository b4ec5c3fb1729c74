"""Export the 分类分级清单 (classification and grading list): xlsx, csv, Turtle, JSON-LD.

Spreadsheets carry every column the importer reads (so an export imports back to the same
graph) plus computed columns: category path and code, effective level, its origin, and the
measures it requires. An asset with no category (one that arrived by OpenLineage or RDF) is
written with the ontology's label for that state, 待分类 (``mg:Unclassified``), which the
importer reads back as no category. Text cells that a spreadsheet would run as a formula are
neutralised.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from enum import StrEnum
from pathlib import Path
from typing import Any

from rdflib import Graph, Literal

from kg.answers import grading_elements
from kg.errors import InputError
from kg.ids import Ids
from kg.importers.template import ASSETS, DESTINATIONS, DEVICES, SHEETS, SheetSpec
from kg.namespaces import DCTERMS, MG, PROV, RDFS, SPARQL_PREFIXES
from kg.ontology import Ontology
from kg.store import Graphs, Store, sparql_term
from kg.unclassified import unclassified


class ExportFormat(StrEnum):
    """The formats ``medgrade export`` and ``GET /api/export`` write."""

    xlsx = "xlsx"
    csv = "csv"
    ttl = "ttl"
    jsonld = "jsonld"


FORMATS = tuple(f.value for f in ExportFormat)
_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """Prefix ``'`` to text a spreadsheet would read as a formula (the importer strips it)."""
    if isinstance(value, str) and value.lstrip("'").startswith(_DANGEROUS):
        return "'" + value
    return value


def _q(store: Store, where: str) -> list[dict[str, Any]]:
    inv = sparql_term(Graphs.INVENTORY)
    prefixes = SPARQL_PREFIXES
    return store.select(prefixes + where.replace("$INV", inv).replace("$INF", sparql_term(Graphs.INFERRED)))


def _multi(rows: Iterable[dict[str, Any]], key: str, value: str) -> dict[Any, list[str]]:
    out: dict[Any, list[str]] = defaultdict(list)
    for r in rows:
        if value in r:
            out[r[key]].append(str(r[value]))
    return {k: sorted(set(v)) for k, v in out.items()}


class Inventory:
    """The inventory read back from the store as spreadsheet rows (column key -> value)."""

    def __init__(self, store: Store, onto: Ontology, ids: Ids) -> None:
        self.store, self.onto, self.ids = store, onto, ids

    def _label(self, index: Any, iri: Any) -> str:
        term = index.get(str(iri)) if iri is not None else None
        return term.label_zh if term else (str(iri) if iri is not None else "")

    def _local(self, iri: Any, id_literal: Any, kind: str) -> str:
        if id_literal is not None:
            return str(id_literal)
        return self.ids.local_id(str(iri), kind) or str(iri)

    def assets(self) -> list[dict[str, Any]]:
        o = self.onto
        base = _q(
            self.store,
            """SELECT ?a ?id ?name ?cat ?level ?dev ?devid ?eqt ?n ?owner ?notes ?atype ?by ?on ?why
          ?eff ?origin WHERE {
          GRAPH $INV { ?a a mg:DataAsset .
            OPTIONAL { ?a mg:identifier ?id } OPTIONAL { ?a rdfs:label ?name } OPTIONAL { ?a mg:hasCategory ?cat }
            OPTIONAL { ?a mg:assessedLevel ?level } OPTIONAL { ?a mg:producedByType ?eqt }
            OPTIONAL { ?a mg:producedBy ?dev OPTIONAL { ?dev mg:identifier ?devid } }
            OPTIONAL { ?a mg:subjectCount ?n } OPTIONAL { ?a mg:responsibleDepartment ?owner }
            OPTIONAL { ?a rdfs:comment ?notes }
            OPTIONAL { ?a prov:wasGeneratedBy ?act . ?act mg:transformationType ?atype
              OPTIONAL { ?act mg:approval ?ap OPTIONAL { ?ap mg:actor ?by } OPTIONAL { ?ap mg:performedAt ?on }
                         OPTIONAL { ?ap mg:justification ?why } } } }
          OPTIONAL { GRAPH $INF { ?a mg:effectiveLevel ?eff OPTIONAL { ?a mg:levelOrigin ?origin } } }
        }""",
        )
        elements = _multi(
            _q(self.store, "SELECT ?a ?l WHERE { GRAPH $INV { ?a mg:hasElement ?e . ?e rdfs:label ?l } }"), "a", "l"
        )
        # A source or destination is named by its id, which an asset that arrived by OpenLineage
        # or RDF in our own namespace has in its IRI only (no mg:identifier).
        sources = _multi(
            (
                {"a": r["a"], "s": self._local(r["s"], r.get("sid"), "asset")}
                for r in _q(
                    self.store,
                    """SELECT ?a ?s ?sid WHERE { GRAPH $INV { ?a a mg:DataAsset ; prov:wasDerivedFrom ?s .
                    OPTIONAL { ?s mg:identifier ?sid } } }""",
                )
            ),
            "a",
            "s",
        )
        transfers = _multi(
            (
                {"a": r["a"], "d": self._local(r["d"], r.get("did"), "destination")}
                for r in _q(
                    self.store,
                    """SELECT ?a ?d ?did WHERE { GRAPH $INV { ?t mg:transfersAsset ?a ; mg:toDestination ?d .
                    OPTIONAL { ?d mg:identifier ?did } } }""",
                )
            ),
            "a",
            "d",
        )
        impacts = _q(
            self.store,
            """SELECT ?a ?o ?d WHERE { GRAPH $INV { ?a mg:hasImpact ?i .
            ?i mg:impactObject ?o ; mg:impactDegree ?d } }""",
        )
        impact_text: dict[Any, list[str]] = defaultdict(list)
        for r in impacts:
            obj, deg = o.impact_objects.get(str(r["o"])), o.impact_degrees.get(str(r["d"]))
            if obj and deg:
                impact_text[r["a"]].append(f"{obj.label_zh}:{deg.label_zh}")
        personal = _multi(
            _q(self.store, "SELECT ?a ?pi WHERE { GRAPH $INV { ?a mg:hasPersonalInformation ?pi } }"), "a", "pi"
        )
        considered = _multi(
            _q(self.store, "SELECT ?a ?g WHERE { GRAPH $INV { ?a mg:elementConsidered ?g } }"), "a", "g"
        )
        reviewed = _multi(_q(self.store, "SELECT ?a ?d WHERE { GRAPH $INV { ?a mg:lastReviewed ?d } }"), "a", "d")
        general_pi = o.personal_information_root().iri
        status: str | None = None  # the ontology's label for "no category" (待分类), read when needed
        rows = []
        for r in sorted(base, key=lambda r: str(r.get("id", r["a"]))):
            a = r["a"]
            cat = o.categories.get(str(r["cat"])) if "cat" in r else None
            level = o.levels.get(str(r["level"])) if "level" in r else None
            effective = o.levels.get(str(r["eff"])) if "eff" in r else level
            pis = personal.get(a, [])
            origin = r.get("origin")
            on = r.get("on")
            if "cat" not in r and status is None:
                status = unclassified(o).label_zh
            rows.append(
                {
                    "id": self._local(a, r.get("id"), "asset"),
                    "name": str(r.get("name", "")),
                    "category": cat.label_zh if cat else str(r["cat"]) if "cat" in r else status,
                    "level": level.label_zh if level else "",
                    "equipment": self._local(r["dev"], r.get("devid"), "device") if "dev" in r else "",
                    "equipment_type": self._label(o.equipment_types, r.get("eqt")),
                    "elements": ";".join(elements.get(a, [])),
                    "derived_from": ";".join(sources.get(a, [])),
                    "activity": self._label(o.transformations, r.get("atype")),
                    "personal": "是"
                    if pis == [general_pi]
                    else ";".join(self._label(o.personal_information, p) for p in pis),
                    "subject_count": int(r["n"].toPython()) if "n" in r else "",
                    "owner": str(r.get("owner", "")),
                    "notes": str(r.get("notes", "")),
                    "approved_by": str(r.get("by", "")),
                    "approved_on": _date_text(on) if on is not None else "",
                    "approval_note": str(r.get("why", "")),
                    "impacts": ";".join(sorted(impact_text.get(a, []))),
                    "transfer_to": ";".join(transfers.get(a, [])),
                    "grading_elements": ";".join(g.label_zh for g in grading_elements(o, considered.get(a, []))),
                    "last_reviewed": max(reviewed[a])[:10] if a in reviewed else "",  # the latest (R15)
                    "category_path": " / ".join(c.label_zh for c in o.category_path(cat)) if cat else "",
                    "category_code": cat.notation or "" if cat else "",
                    "effective_level": effective.label_zh if effective else "",
                    "level_origin": (self.ids.local_id(str(origin)) or str(origin)) if origin is not None else "",
                    "measures": ";".join(m.label_zh for m in o.measures_for(effective)) if effective else "",
                }
            )
        return rows

    def devices(self) -> list[dict[str, Any]]:
        rows = _q(
            self.store,
            """SELECT ?d ?id ?type ?name ?model ?maker ?loc WHERE { GRAPH $INV { ?d a mg:Equipment ; a ?type .
            OPTIONAL { ?d mg:identifier ?id } OPTIONAL { ?d rdfs:label ?name } OPTIONAL { ?d mg:model ?model }
            OPTIONAL { ?d mg:manufacturer ?maker } OPTIONAL { ?d mg:installLocation ?loc } } }""",
        )
        out = []
        for r in sorted(rows, key=lambda r: str(r.get("id", r["d"]))):
            eq = self.onto.equipment_types.get(str(r["type"]))
            if eq is None:
                continue
            out.append(
                {
                    "id": self._local(r["d"], r.get("id"), "device"),
                    "type": eq.label_zh,
                    "name": str(r.get("name", "")),
                    "model": str(r.get("model", "")),
                    "manufacturer": str(r.get("maker", "")),
                    "location": str(r.get("loc", "")),
                }
            )
        return out

    def destinations(self) -> list[dict[str, Any]]:
        rows = _q(
            self.store,
            """SELECT ?d ?id ?name ?level ?ext ?cross ?gp WHERE { GRAPH $INV { ?d a mg:Destination .
            OPTIONAL { ?d mg:identifier ?id } OPTIONAL { ?d rdfs:label ?name } OPTIONAL { ?d mg:clearedUpTo ?level }
            OPTIONAL { ?d mg:external ?ext } OPTIONAL { ?d mg:crossBorder ?cross }
            OPTIONAL { ?d mg:gradedProtectionLevel ?gp } } }""",
        )
        measures = _multi(_q(self.store, "SELECT ?d ?m WHERE { GRAPH $INV { ?d mg:providesMeasure ?m } }"), "d", "m")
        out = []
        for r in sorted(rows, key=lambda r: str(r.get("id", r["d"]))):
            out.append(
                {
                    "id": self._local(r["d"], r.get("id"), "destination"),
                    "name": str(r.get("name", "")),
                    "clearance": self._label(self.onto.levels, r.get("level")),
                    "external": _yes_no(r.get("ext")),
                    "cross_border": _yes_no(r.get("cross")),
                    "graded_protection": int(r["gp"].toPython()) if "gp" in r else "",
                    "measures": ";".join(self._label(self.onto.measures, m) for m in measures.get(r["d"], [])),
                }
            )
        return out


def _yes_no(value: Any) -> str:
    if value is None:
        return ""
    return "是" if bool(Literal(value).toPython()) else "否"


def _date_text(value: Any) -> str:
    parsed = value.toPython() if isinstance(value, Literal) else value
    if isinstance(parsed, dt.datetime) and parsed.time() == dt.time():
        return parsed.date().isoformat()
    return str(value)


def _rows_for(spec: SheetSpec, rows: list[dict[str, Any]]) -> Iterable[list[object]]:
    yield [c.zh for c in spec.columns]
    for row in rows:
        yield [neutralise(row.get(c.key, "")) for c in spec.columns]


def write_xlsx(path: Path, sheets: dict[str, list[dict[str, Any]]], onto: Ontology | None = None) -> None:
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    for spec in SHEETS:
        ws = wb.create_sheet(spec.zh)
        for values in _rows_for(spec, sheets.get(spec.kind, [])):
            ws.append(values)
    _instructions(wb.create_sheet("说明"), onto)
    wb.save(path)


def _instructions(ws: Any, onto: Ontology | None) -> None:
    ws.append(["表 / sheet", "列 / column", "column", "必填 / required", "说明", "notes"])
    for spec in SHEETS:
        for c in spec.columns:
            ws.append(
                [
                    f"{spec.zh} / {spec.en}",
                    c.zh,
                    c.en,
                    "是" if c.required else ("导出计算列" if c.computed else ""),
                    c.help_zh,
                    c.help_en,
                ]
            )
    if onto is None:
        return
    ws.append([])
    ws.append(["数据分类 / categories", "代码 / code", "最低级别 / floor"])
    for cat in sorted(onto.categories, key=lambda c: c.notation or ""):
        ws.append([cat.label_zh, cat.notation, cat.floor.label_zh if cat.floor else ""])
    ws.append([])
    ws.append(["数据级别 / levels", "秩 / rank"])
    for lv in onto.ordered_levels():
        ws.append([lv.label_zh, lv.rank])
    ws.append([])
    ws.append(["加工方式 / transformations", "降级 / reducing"])
    for t in sorted(onto.transformations, key=lambda t: t.notation or ""):
        ws.append([t.label_zh, "是" if t.level_reducing else "否"])
    ws.append([])
    ws.append(["定级要素 / grading elements (GB/T 43697-2024 §6.3)", "name"])
    for g in grading_elements(onto, [g.iri for g in onto.grading_elements]):
        ws.append([g.label_zh, g.label_en])


def write_csv(path: Path, sheets: dict[str, list[dict[str, Any]]]) -> list[Path]:
    """The asset sheet to ``path``; devices and destinations, when there are any, beside it."""
    written = []
    for spec in SHEETS:
        rows = sheets.get(spec.kind, [])
        target = path if spec is ASSETS else path.with_name(f"{path.stem}-{spec.kind}{path.suffix}")
        if spec is not ASSETS and not rows:
            continue
        with target.open("w", encoding="utf-8-sig", newline="") as f:
            csv.writer(f).writerows(_rows_for(spec, rows))
        written.append(target)
    return written


def inventory_graph(store: Store) -> Graph:
    g = Graph()
    for t in store.triples(Graphs.INVENTORY):
        g.add(t)
    g.bind("mg", MG)
    g.bind("prov", PROV)
    g.bind("dcterms", DCTERMS)
    return g


def export(store: Store, onto: Ontology, ids: Ids, fmt: str, path: Path) -> list[Path]:
    """Write the inventory to ``path`` in ``fmt``; returns the files written."""
    if fmt not in FORMATS:
        raise InputError(
            f"unknown export format '{fmt}': one of {', '.join(FORMATS)}",
            f"未知的导出格式“{fmt}”，可选：{'、'.join(FORMATS)}",
        )
    if fmt in ("ttl", "jsonld"):
        g = inventory_graph(store)
        g.bind("id", ids.base)
        if fmt == "ttl":
            g.serialize(path, format="turtle")
        else:
            g.serialize(
                path, format="json-ld", context={"mg": str(MG), "prov": str(PROV), "rdfs": str(RDFS)}, auto_compact=True
            )
        return [path]
    inv = Inventory(store, onto, ids)
    sheets = {ASSETS.kind: inv.assets(), DEVICES.kind: inv.devices(), DESTINATIONS.kind: inv.destinations()}
    if fmt == "xlsx":
        write_xlsx(path, sheets, onto)
        return [path]
    return write_csv(path, sheets)


def write_template(path: Path, onto: Ontology) -> None:
    """The empty inventory workbook with instructions and the allowed values."""
    write_xlsx(path, {}, onto)
