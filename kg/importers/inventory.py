"""Spreadsheet inventories (assets, devices, destinations) -> an import plan of RDF records.

Every cell is checked against the ontology and the store before anything is written; each
problem names file, sheet, row and column in both languages. The category cell may name the
state "no category yet" instead of a category (待分类 or ``unclassified``: the labels of the
ontology's ``mg:Unclassified``): the asset is imported without a category and without a level
computed by the rules, and may have no name; every other cell is checked as usual.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from typing import TypeVar

from rdflib import Literal, URIRef

from kg import clock
from kg.errors import InputError, OntologyError, Problem
from kg.grading import AssetFacts, ElementFacts, Grade, Minimums, grade
from kg.ids import Ids, check_id
from kg.importers.plan import ImportPlan, Record
from kg.importers.tabular import Row, Sheet
from kg.namespaces import MG, RDF, RDFS, XSD
from kg.ontology import Ontology
from kg.provenance import approval_triples, derivation_triples
from kg.store.base import Triple
from kg.unclassified import is_unclassified, names_unclassified
from kg.vocabulary import Level

YES = {"是", "y", "yes", "true", "1", "有", "√", "✓"}
NO = {"否", "n", "no", "false", "0", "无", "×"}
_SPLIT = re.compile(r"[;；]")
_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")

Progress = Callable[[int], None]
T = TypeVar("T")

# Terms used per row, resolved once (rdflib namespace attribute access is slow in a hot loop).
P_TYPE = RDF.type
P_LABEL = RDFS.label
P_COMMENT = RDFS.comment
P_ID = MG.identifier
P_CATEGORY = MG.hasCategory
P_LEVEL = MG.assessedLevel
P_PRODUCED_BY = MG.producedBy
P_PRODUCED_BY_TYPE = MG.producedByType
P_ELEMENT = MG.hasElement
C_ELEMENT = MG.DataElement
C_ASSET = MG.DataAsset
P_PERSONAL = MG.hasPersonalInformation
P_SUBJECTS = MG.subjectCount
P_OWNER = MG.responsibleDepartment
C_TRANSFER = MG.Transfer
P_TRANSFERS = MG.transfersAsset
P_TO = MG.toDestination
P_IMPACT = MG.hasImpact
C_IMPACT = MG.ImpactStatement
P_IMPACT_OBJECT = MG.impactObject
P_IMPACT_DEGREE = MG.impactDegree
P_CONSIDERED = MG.elementConsidered
P_REVIEWED = MG.lastReviewed


def split_list(text: str) -> list[str]:
    """Split a ``;``-separated cell (ASCII or full-width), dropping blanks, keeping order."""
    return list(dict.fromkeys(p.strip() for p in _SPLIT.split(text) if p.strip()))


def parse_bool(text: str) -> bool | None:
    t = text.strip().casefold()
    return True if t in YES else False if t in NO else None


def parse_count(text: str) -> int | None:
    t = text.replace(",", "").replace("_", "").replace(" ", "").replace("，", "")
    return int(t) if t.isdigit() else None


def parse_date(text: str) -> dt.datetime | None:
    m = _DATE.match(text.strip())
    if not m:
        return None
    y, mo, d, h, mi, s = (int(x) if x else 0 for x in m.groups())
    try:
        return dt.datetime(y, mo, d, h, mi, s)
    except ValueError:
        return None


class _RowReader:
    """Reads one row's cells into terms, recording a located problem for each bad cell."""

    def __init__(self, sheet: Sheet, row: Row, onto: Ontology, problems: list[Problem]) -> None:
        self.sheet, self.row, self.onto, self.problems = sheet, row, onto, problems

    def problem(self, key: str | None, en: str, zh: str) -> None:
        self.problems.append(Problem(en, zh, where=self.sheet.where(self.row.number, key)))

    def text(self, key: str) -> str:
        return self.row.get(key)

    def required(self, key: str) -> str:
        value = self.row.get(key)
        if not value:
            self.problem(key, "required cell is empty", "必填单元格为空")
        return value

    def ident(self, key: str, value: str | None = None) -> str | None:
        raw = self.row.get(key) if value is None else value
        if not raw:
            return None
        try:
            return check_id(raw)
        except InputError as exc:
            self.problem(key, exc.message_en, exc.message_zh)
            return None

    def term(self, key: str, find: Callable[[str], T], value: str | None = None) -> T | None:
        raw = self.row.get(key) if value is None else value
        if not raw:
            return None
        try:
            return find(raw)
        except InputError as exc:
            self.problem(key, exc.message_en, exc.message_zh)
            return None

    def count(self, key: str) -> int | None:
        raw = self.row.get(key)
        if not raw:
            return None
        value = parse_count(raw)
        if value is None:
            self.problem(key, f"'{raw}' is not a non-negative whole number", f"“{raw}”不是非负整数")
        return value

    def flag(self, key: str, default: bool) -> bool:
        raw = self.row.get(key)
        if not raw:
            return default
        value = parse_bool(raw)
        if value is None:
            self.problem(key, f"'{raw}' is not yes/no (是/否)", f"“{raw}”不是 是/否")
            return default
        return value

    def date(self, key: str) -> dt.datetime | None:
        cell = self.row.cells.get(key)
        if cell is None:
            return None
        if isinstance(cell.raw, dt.datetime):
            return cell.raw
        if isinstance(cell.raw, dt.date):
            return dt.datetime(cell.raw.year, cell.raw.month, cell.raw.day)
        value = parse_date(cell.value)
        if value is None:
            self.problem(key, f"'{cell.value}' is not a date (YYYY-MM-DD)", f"“{cell.value}”不是日期（YYYY-MM-DD）")
        return value


def plan_sheets(
    sheets: Iterable[Sheet],
    onto: Ontology,
    ids: Ids,
    known: Callable[[str, set[str]], set[str]],
    progress: Progress | None = None,
    today: dt.date | None = None,
) -> ImportPlan:
    """Turn spreadsheet rows into records.

    ``known(kind, ids)`` answers which of ``ids`` (kind "asset", "device", "destination") the
    store already holds, so references to things imported earlier are accepted. ``today``: no
    last-reviewed date may be after it (default: the clock's today, see :mod:`kg.clock`).
    """
    plan = ImportPlan()
    sheets = list(sheets)
    by_kind: dict[str, list[Sheet]] = {"assets": [], "devices": [], "destinations": []}
    for s in sheets:
        by_kind[s.spec.kind].append(s)
        if s.unknown_headers:
            plan.warnings.append(
                Problem(
                    f"columns ignored: {', '.join(s.unknown_headers)}",
                    f"已忽略的列：{'、'.join(s.unknown_headers)}",
                    where=s.where(),
                )
            )
    devices = _plan_devices(by_kind["devices"], onto, ids, plan, progress)
    destinations = _plan_destinations(by_kind["destinations"], onto, ids, plan, progress)
    _plan_assets(by_kind["assets"], onto, ids, plan, devices, destinations, known, progress, clock.today(today))
    return plan


def _plan_devices(
    sheets: list[Sheet], onto: Ontology, ids: Ids, plan: ImportPlan, progress: Progress | None
) -> dict[str, URIRef]:
    """Device records; returns device id -> its equipment type class."""
    types: dict[str, URIRef] = {}
    for sheet in sheets:
        for row in sheet.rows:
            r = _RowReader(sheet, row, onto, plan.problems)
            device_id = r.ident("id") if r.required("id") else None
            eq = r.term("type", onto.equipment_types.find) if r.required("type") else None
            if progress:
                progress(1)
            if device_id is None or eq is None:
                continue
            node = ids.device(device_id)
            t: list[Triple] = [
                (node, P_TYPE, MG.Equipment),
                (node, P_TYPE, URIRef(eq.iri)),
                (node, P_ID, Literal(device_id)),
            ]
            for key, prop in (
                ("name", P_LABEL),
                ("model", MG.model),
                ("manufacturer", MG.manufacturer),
                ("location", MG.installLocation),
            ):
                if r.text(key):
                    t.append((node, prop, Literal(r.text(key))))
            plan.add(Record("device", node, t, sheet.where(row.number)))
            types[device_id] = URIRef(eq.iri)
    return types


def _plan_destinations(
    sheets: list[Sheet], onto: Ontology, ids: Ids, plan: ImportPlan, progress: Progress | None
) -> set[str]:
    found: set[str] = set()
    for sheet in sheets:
        for row in sheet.rows:
            r = _RowReader(sheet, row, onto, plan.problems)
            dest_id = r.ident("id") if r.required("id") else None
            name = r.required("name")
            clearance = r.term("clearance", onto.level) if r.required("clearance") else None
            external, cross = r.flag("external", True), r.flag("cross_border", False)
            graded = r.count("graded_protection")
            measures = [r.term("measures", onto.measures.find, m) for m in split_list(r.text("measures"))]
            if progress:
                progress(1)
            if dest_id is None or clearance is None or not name:
                continue
            node = ids.destination(dest_id)
            t: list[Triple] = [
                (node, P_TYPE, MG.Destination),
                (node, P_ID, Literal(dest_id)),
                (node, P_LABEL, Literal(name)),
                (node, MG.clearedUpTo, URIRef(clearance.iri)),
                (node, MG.external, Literal(external)),
                (node, MG.crossBorder, Literal(cross)),
            ]
            if graded is not None:
                t.append((node, MG.gradedProtectionLevel, Literal(graded)))
            t += [(node, MG.providesMeasure, URIRef(m.iri)) for m in measures if m is not None]
            plan.add(Record("destination", node, t, sheet.where(row.number)))
            found.add(dest_id)
    return found


def _plan_assets(
    sheets: list[Sheet],
    onto: Ontology,
    ids: Ids,
    plan: ImportPlan,
    devices: dict[str, URIRef],
    destinations: set[str],
    known: Callable[[str, set[str]], set[str]],
    progress: Progress | None,
    today: dt.date,
) -> None:
    rows = [(s, row) for s in sheets for row in s.rows]
    in_file = {row.get("id").strip() for _, row in rows if row.get("id")}
    # references to things not in these files must already be in the store
    refs: dict[str, set[str]] = {"asset": set(), "device": set(), "destination": set()}
    for _, row in rows:
        refs["asset"].update(split_list(row.get("derived_from")))
        refs["device"].update([row.get("equipment")] if row.get("equipment") else [])
        refs["destination"].update(split_list(row.get("transfer_to")))
    stored = {
        "asset": known("asset", refs["asset"] - in_file),
        "device": known("device", refs["device"] - set(devices)),
        "destination": known("destination", refs["destination"] - destinations),
    }
    known_assets = in_file | stored["asset"]
    minimums = Minimums(onto)
    status: set[str] | None = None  # the spellings of 待分类 (the ontology's mg:Unclassified), read when needed
    for sheet, row in rows:
        r = _RowReader(sheet, row, onto, plan.problems)
        if progress:
            progress(1)
        asset_id = r.ident("id") if r.required("id") else None
        category, unclassified, raw = None, False, r.required("category")
        if raw:
            try:
                category = onto.categories.find(raw)
            except InputError as exc:
                if status is None:
                    status = _unclassified_names(onto)
                unclassified = is_unclassified(raw, status)
                if not unclassified:
                    r.problem("category", exc.message_en, exc.message_zh)
        # a dataset that arrived by OpenLineage or RDF may have no name yet either
        name = r.text("name") if unclassified else r.required("name")
        if asset_id is None:
            continue
        a = ids.asset(asset_id)
        t: list[Triple] = [(a, P_TYPE, C_ASSET), (a, P_ID, Literal(asset_id))]
        if name:
            t.append((a, P_LABEL, Literal(name)))
        if category is not None:
            t.append((a, P_CATEGORY, URIRef(category.iri)))
        impacts = _impacts(r, a, onto, t)
        personal = _personal(r, a, onto, t)
        count = r.count("subject_count")
        level = r.term("level", onto.level)
        elements = split_list(r.text("elements"))
        facts = AssetFacts(
            str(a),
            category.iri if category is not None else None,
            tuple(sorted(impacts)),
            tuple(personal),
            count,
            tuple(ElementFacts(str(ids.element(asset_id, e)), e) for e in elements),
        )
        if level is None and not r.text("level") and category is not None:
            level = grade(facts, onto).level  # an empty level cell: the rules' minimum (R2–R6 on what the row says)
        elif level is not None and minimums.asset(facts) > level.rank:
            _below_minimum(r, level, grade(facts, onto), plan)
        if level is not None:
            t.append((a, P_LEVEL, URIRef(level.iri)))
        eq_type = r.term("equipment_type", onto.equipment_types.find)
        device_id = r.ident("equipment")
        if device_id is not None:
            if device_id in devices or device_id in stored["device"]:
                t.append((a, P_PRODUCED_BY, ids.device(device_id)))
                dev_type = devices.get(device_id)
                if eq_type is not None and dev_type is not None and dev_type != URIRef(eq_type.iri):
                    r.problem(
                        "equipment_type",
                        f"device {device_id} is a <{dev_type}>, not {eq_type.label_en}",
                        f"设备 {device_id} 的类型是 <{dev_type}>，不是{eq_type.label_zh}",
                    )
            else:
                r.problem(
                    "equipment",
                    f"unknown device '{device_id}' (not in the devices sheet nor in the store)",
                    f"未知设备“{device_id}”（设备表和存储中都没有）",
                )
        if eq_type is not None:
            t.append((a, P_PRODUCED_BY_TYPE, URIRef(eq_type.iri)))
        for element in elements:
            e = ids.element(asset_id, element)
            t += [(a, P_ELEMENT, e), (e, P_TYPE, C_ELEMENT), (e, P_LABEL, Literal(element))]
        if count is not None:
            t.append((a, P_SUBJECTS, Literal(count)))  # xsd:integer: Oxigraph stores derived integer types as integer
        for key, prop in (("owner", P_OWNER), ("notes", P_COMMENT)):
            if r.text(key):
                t.append((a, prop, Literal(r.text(key))))
        _review(r, a, t, today)
        sources = [s for s in (r.ident("derived_from", v) for v in split_list(r.text("derived_from"))) if s]
        _derivation(r, ids, asset_id, a, sources, known_assets, t)
        for dest in (d for d in (r.ident("transfer_to", v) for v in split_list(r.text("transfer_to"))) if d):
            if dest not in destinations and dest not in stored["destination"]:
                r.problem("transfer_to", f"unknown destination '{dest}'", f"未知的数据去向“{dest}”")
                continue
            tr = ids.transfer(asset_id, dest)
            t += [(tr, P_TYPE, C_TRANSFER), (tr, P_TRANSFERS, a), (tr, P_TO, ids.destination(dest))]
        plan.add(Record("asset", a, t, sheet.where(row.number)))


def _review(r: _RowReader, a: URIRef, t: list[Triple], today: dt.date) -> None:
    """The 定级要素 cell (grading elements of GB/T 43697 §6.3 the grading considered) and the
    上次复核 cell (the last-reviewed date, not after today in Asia/Shanghai)."""
    for name in split_list(r.text("grading_elements")):
        element = r.term("grading_elements", r.onto.grading_elements.find, name)
        if element is not None:
            t.append((a, P_CONSIDERED, URIRef(element.iri)))
    when = r.date("last_reviewed")
    if when is None:
        return
    day = when.date()
    if day > today:
        r.problem(
            "last_reviewed",
            f"last reviewed in the future ({day.isoformat()}, after today {today.isoformat()})",
            f"上次复核日期在未来（{day.isoformat()}，晚于今天 {today.isoformat()}）",
        )
        return
    t.append((a, P_REVIEWED, Literal(day.isoformat(), datatype=XSD.date)))


def _unclassified_names(onto: Ontology) -> set[str]:
    """How a category cell may say "no category yet"; none when an edited ontology lacks the term."""
    try:
        return names_unclassified(onto)
    except OntologyError:
        return set()


def _below_minimum(r: _RowReader, level: Level, grading: Grade, plan: ImportPlan) -> None:
    """Warn (and import: a steward's record is evidence) when a row is assessed below its rules'
    minimum: medgrade acts on the minimum, and validation reports the row until it is fixed."""
    short = grading.violated_by(level)
    if not short:
        return
    minimum = grading.level
    plan.warnings.append(
        Problem(
            f"assessed {level.label_en}, below the rules' minimum {minimum.label_en} "
            f"({'; '.join(x.text_en for x in short)}): recorded as assessed, but the effective level is at least "
            f"{minimum.label_en}; validate reports it until the assessment is corrected",
            f"评估级别{level.label_zh}低于规则要求的最低级别{minimum.label_zh}"
            f"（{'；'.join(x.text_zh for x in short)}）：评估照录，但生效级别至少为{minimum.label_zh}；"
            "修正评估前 validate 会一直报告",
            where=r.sheet.where(r.row.number, "level"),
            code="assessed-below-minimum",
        )
    )


def _personal(r: _RowReader, a: URIRef, onto: Ontology, t: list[Triple]) -> list[str]:
    """The 个人信息 cell: 是/否, or personal-information categories; returns their IRIs."""
    raw = r.text("personal")
    flag = parse_bool(raw) if raw else False
    found = [onto.personal_information_root().iri] if flag else []
    if flag is None:
        found = [
            pi.iri for pi in (r.term("personal", onto.personal_information.find, x) for x in split_list(raw)) if pi
        ]
    t += [(a, P_PERSONAL, URIRef(iri)) for iri in found]
    return found


def _impacts(r: _RowReader, a: URIRef, onto: Ontology, t: list[Triple]) -> list[tuple[str, str]]:
    """The 影响评估 cell: ``object:degree`` pairs (zh or en names); one impact statement each."""
    pairs: list[tuple[str, str]] = []
    for item in split_list(r.text("impacts")):
        obj_text, sep, deg_text = item.replace("：", ":").partition(":")
        if not sep:
            r.problem("impacts", f"'{item}' is not object:degree", f"“{item}”不是“影响对象:影响程度”")
            continue
        obj = r.term("impacts", onto.impact_objects.find, obj_text.strip())
        deg = r.term("impacts", onto.impact_degrees.find, deg_text.strip())
        if obj is None or deg is None:
            continue
        node = URIRef(f"{a}/impact/{obj.local_name}")
        t += [
            (a, P_IMPACT, node),
            (node, P_TYPE, C_IMPACT),
            (node, P_IMPACT_OBJECT, URIRef(obj.iri)),
            (node, P_IMPACT_DEGREE, URIRef(deg.iri)),
        ]
        pairs.append((obj.iri, deg.iri))
    return pairs


def _derivation(
    r: _RowReader, ids: Ids, asset_id: str, a: URIRef, sources: list[str], known_assets: set[str], t: list[Triple]
) -> None:
    activity = r.term("activity", r.onto.transformations.find)
    approval = [r.text(k) for k in ("approved_by", "approved_on", "approval_note")]
    when = r.date("approved_on")
    if not sources:
        if activity is not None:
            r.problem("activity", "a transformation needs source assets (来源资产)", "加工方式需要填写来源资产")
        if any(approval):
            r.problem(
                "approved_by",
                "an approval needs a derivation (来源资产 and 加工方式)",
                "审批需对应一项衍生加工（来源资产与加工方式）",
            )
        return
    known = []
    for source in sources:
        if source not in known_assets:
            r.problem("derived_from", f"unknown source asset '{source}'", f"未知的来源资产“{source}”")
            continue
        known.append(ids.asset(source))
    act = ids.activity(asset_id) if activity is not None else None
    t += derivation_triples(a, known, act, activity.iri if activity is not None else None)
    if act is None or activity is None:
        if any(approval):
            r.problem("activity", "an approval needs a transformation (加工方式)", "审批需要填写加工方式")
        return
    if any(approval):
        if not activity.level_reducing:
            r.problems.append(
                Problem(
                    f"{activity.label_en} does not reduce a level; an approval is not needed",
                    f"{activity.label_zh}不是降级加工，无需审批",
                    where=r.sheet.where(r.row.number, "approved_by"),
                )
            )
        who, _, note = approval
        if not who:
            r.problem("approved_by", "an approval needs who approved it", "审批须填写审批人")
        if when is None and not approval[1]:
            r.problem("approved_on", "an approval needs its date", "审批须填写审批日期")
        t += approval_triples(act, ids.approval(asset_id), who, when, note)
