"""What ``medgrade ontology SECTION`` prints: JSON data and bilingual rich tables per section."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rdflib import URIRef
from rdflib.namespace import SKOS
from rich.console import Console
from rich.table import Table
from rich.tree import Tree

from kg.ontology import Ontology
from kg.ontology_sources import KIND_LABELS, STATUS_LABELS, SourceEntry, counts, source_entries
from kg.vocabulary import Concept, Level, Sourced

DataFn = Callable[[Ontology], Any]
RenderFn = Callable[[Ontology, Console], None]


def _level_cell(level: Level | None) -> str:
    return f"{level.label_zh} / {level.label_en}" if level else "—"


def _table(title: str, *columns: str) -> Table:
    table = Table(title=title, title_justify="left", show_lines=False)
    for c in columns:
        table.add_column(c)
    return table


# --- summary ---------------------------------------------------------------------------------
def summary_data(o: Ontology) -> dict[str, Any]:
    return {
        "directory": str(o.directory),
        "modules": {iri: str(path) for iri, path in o.files.items()},
        "triples": len(o.graph),
        "counts": {
            "levels": len(o.levels),
            "categories": len(o.categories),
            "personal_information": len(o.personal_information),
            "health_data_types": len(o.health_data_types),
            "processing_degrees": len(o.processing_degrees),
            "impact_objects": len(o.impact_objects),
            "impact_degrees": len(o.impact_degrees),
            "matrix_cells": len(o.matrix),
            "transformations": len(o.transformations),
            "measures": len(o.measures),
            "equipment_groups": len(o.equipment_groups),
            "equipment_types": len(o.equipment_types),
            "templates": len(o.templates),
        },
        "important_data_threshold": o.policy.important_data_threshold,
    }


def summary_render(o: Ontology, console: Console) -> None:
    d = summary_data(o)
    console.print(f"本体目录 / ontology folder: {d['directory']}  ({d['triples']} triples)")
    table = _table("本体内容 / what the ontology defines", "内容 / content", "数量 / count")
    names = {
        "levels": "数据级别 / security levels",
        "categories": "业务分类 / business categories",
        "personal_information": "个人信息类别 / personal-information categories",
        "health_data_types": "健康医疗数据类别 / health data types",
        "processing_degrees": "加工程度 / processing degrees",
        "impact_objects": "影响对象 / impact objects",
        "impact_degrees": "影响程度 / impact degrees",
        "matrix_cells": "影响矩阵单元 / impact matrix cells",
        "transformations": "加工方式 / transformation types",
        "measures": "防护措施 / protection measures",
        "equipment_groups": "装备分组 / equipment groups",
        "equipment_types": "装备类型 / equipment types",
        "templates": "数据模板 / data templates",
    }
    for key, label in names.items():
        table.add_row(label, str(d["counts"][key]))
    console.print(table)
    console.print(f"重要数据规模阈值 / important-data threshold: {d['important_data_threshold']:,}")


# --- levels ----------------------------------------------------------------------------------
def levels_data(o: Ontology) -> list[dict[str, Any]]:
    return [lv.to_dict() for lv in reversed(o.ordered_levels())]


def levels_render(o: Ontology, console: Console) -> None:
    table = _table(
        "数据级别 / security levels",
        "秩 / rank",
        "级别",
        "level",
        "代码 / code",
        "可出院 / may leave",
        "防护措施 / measures",
    )
    for lv in reversed(o.ordered_levels()):
        table.add_row(
            str(lv.rank),
            lv.label_zh,
            lv.label_en,
            lv.notation or "",
            "是 yes" if lv.may_leave_institution else "否 no",
            str(len(lv.measures)),
        )
    console.print(table)


# --- categories and the other classification axes ---------------------------------------------
def categories_data(o: Ontology) -> list[dict[str, Any]]:
    return [c.to_dict() for c in sorted(o.categories, key=lambda c: (c.notation or "", c.iri))]


def _concept_tree(title: str, concepts: list[Concept], console: Console) -> None:
    tree = Tree(title)
    known = {c.iri for c in concepts}
    children: dict[str | None, list[Concept]] = {}
    for c in sorted(concepts, key=lambda c: (c.notation or "", c.label_en)):
        children.setdefault(c.parent if c.parent in known else None, []).append(c)

    def add(node: Tree, parent: str | None) -> None:
        for c in children.get(parent, []):
            floor = f"  ≥ {_level_cell(c.floor)}" if c.floor else ""
            inherited = "（继承 / inherited）" if c.floor_inherited else ""
            code = f"{c.notation} " if c.notation else ""
            add(node.add(f"{code}{c.label_zh} / {c.label_en}{floor}{inherited}"), c.iri)

    add(tree, None)
    console.print(tree)


def categories_render(o: Ontology, console: Console) -> None:
    table = _table(
        "业务分类 / business categories",
        "代码 / code",
        "分类",
        "category",
        "最低级别 / floor",
        "GB/T 39725 类别 / health data type",
    )
    by_iri = {c.iri: c for c in o.categories}
    for c in sorted(o.categories, key=lambda c: (c.notation or "", c.iri)):
        depth, cursor = 0, c.parent
        while cursor in by_iri and depth < 50:
            depth, cursor = depth + 1, by_iri[cursor].parent
        floor = _level_cell(c.floor) + ("（继承 / inherited）" if c.floor_inherited else "")
        hdt = o.health_data_types.get(c.health_data_type or "")
        table.add_row(
            c.notation or "",
            "  " * depth + c.label_zh,
            c.label_en,
            floor,
            f"{hdt.notation} {hdt.label_zh} / {hdt.label_en}" if hdt else "—",
        )
    console.print(table)


def personal_data(o: Ontology) -> dict[str, Any]:
    return {
        "personal_information": [c.to_dict() for c in o.personal_information],
        "health_data_types": [c.to_dict() for c in o.health_data_types],
        "processing_degrees": [c.to_dict() for c in o.processing_degrees],
    }


def personal_render(o: Ontology, console: Console) -> None:
    _concept_tree("个人信息类别 / personal-information categories", list(o.personal_information), console)
    _concept_tree("健康医疗数据类别（GB/T 39725）/ health data types", list(o.health_data_types), console)
    _concept_tree("加工程度 / processing degrees", list(o.processing_degrees), console)


# --- impact matrix ---------------------------------------------------------------------------
def matrix_data(o: Ontology) -> list[dict[str, Any]]:
    return [cell.to_dict() for cell in o.matrix.values()]


def matrix_render(o: Ontology, console: Console) -> None:
    degrees = sorted(o.impact_degrees, key=lambda d: -d.severity)
    table = _table("影响矩阵 / impact matrix", "影响对象 / object", *(f"{d.label_zh} / {d.label_en}" for d in degrees))
    for obj in sorted(o.impact_objects, key=lambda t: t.notation or t.iri):
        cells = [o.matrix.get((obj.iri, d.iri)) for d in degrees]
        table.add_row(f"{obj.label_zh} / {obj.label_en}", *(c.level.label_zh if c else "—" for c in cells))
    console.print(table)


# --- transformations and measures ------------------------------------------------------------
def transformations_data(o: Ontology) -> list[dict[str, Any]]:
    return [t.to_dict() for t in sorted(o.transformations, key=lambda t: t.notation or t.iri)]


def transformations_render(o: Ontology, console: Console) -> None:
    table = _table(
        "加工方式 / transformation types",
        "代码 / code",
        "加工方式",
        "transformation",
        "降级 / reducing",
        "上限 / cap",
        "消除个人信息 / removes PI",
    )
    for t in sorted(o.transformations, key=lambda t: t.notation or t.iri):
        table.add_row(
            t.notation or "",
            t.label_zh,
            t.label_en,
            "是 yes" if t.level_reducing else "否 no",
            _level_cell(t.cap),
            "是 yes" if t.removes_personal_information else "否 no",
        )
    console.print(table)


def measures_data(o: Ontology) -> dict[str, Any]:
    return {
        "measures": [m.to_dict() for m in sorted(o.measures, key=lambda m: m.notation or m.iri)],
        "by_level": {lv.iri: [m.iri for m in o.measures_for(lv)] for lv in o.ordered_levels()},
    }


def measures_render(o: Ontology, console: Console) -> None:
    levels = o.ordered_levels()
    table = _table(
        "各级别防护措施 / protection measures by level",
        "代码 / code",
        "措施",
        "measure",
        *(lv.label_zh for lv in levels),
    )
    required = {lv.iri: set(lv.measures) for lv in levels}
    for m in sorted(o.measures, key=lambda m: m.notation or m.iri):
        marks = ["✓" if m.iri in required[lv.iri] else "" for lv in levels]
        table.add_row(m.notation or "", m.label_zh, m.label_en, *marks)
    console.print(table)


# --- sources: cited, project default or unconfirmed --------------------------------------------
def _sources(o: Ontology) -> list[SourceEntry]:
    from kg.settings import Settings

    return source_entries(o.directory, Settings().resolved_shapes_dir())


def sources_data(o: Ontology) -> dict[str, Any]:
    entries = _sources(o)
    return {
        "statuses": {k: {"label_zh": zh, "label_en": en} for k, (zh, en) in STATUS_LABELS.items()},
        "counts": counts(entries),
        "terms": [e.to_dict() for e in entries],
    }


def sources_render(o: Ontology, console: Console) -> None:
    entries = _sources(o)
    c = counts(entries)
    statuses = list(STATUS_LABELS)
    heads = [f"{zh} / {en}" for zh, en in STATUS_LABELS.values()]
    table = _table("来源状态（按文件）/ source status by file", "文件 / file", *heads)
    for module, row in c["by_module"].items():
        table.add_row(module, *(str(row[s]) for s in statuses))
    table.add_row("合计 / total", *(str(c["total"][s]) for s in statuses))
    console.print(table)
    terms = _table(
        "术语及其来源 / terms and their sources",
        "文件 / file",
        "类型 / kind",
        "术语 / term",
        "状态 / status",
        "来源或待确认说明 / source, or what would confirm it",
    )
    for e in entries:
        zh, en = STATUS_LABELS[e.status or "missing"]
        where = "；".join(e.sources) if e.status == "cited" else e.note_zh
        problems = " ".join(f"⚠ {p_zh} / {p_en}" for p_zh, p_en in e.problems)
        terms.add_row(
            e.module,
            KIND_LABELS.get(e.kind, (e.kind, e.kind))[0],
            f"{e.rule + ' ' if e.rule else ''}{e.label_zh} / {e.label_en}",
            f"{zh} / {en}",
            f"{where} {problems}".strip(),
        )
    console.print(terms)


# --- method: principles, grading elements, methods and steps, handling by level ---------------
def _status(t: Sourced) -> dict[str, Any]:
    zh, en = STATUS_LABELS[t.status or "missing"]
    return {"status": t.status, "status_zh": zh, "status_en": en}


def method_data(o: Ontology) -> dict[str, Any]:
    def sourced(t: Sourced) -> dict[str, Any]:
        return {**t.to_dict(), **_status(t)}

    return {
        "principles": [sourced(p) for p in o.principles],
        "grading_elements": [sourced(e) for e in o.grading_elements],
        "methods": [{**sourced(m), "steps": [sourced(st) for st in m.steps]} for m in o.methods],
        "handling": [
            {"level": lv.ref(), "handling": [h.to_dict() for h in lv.handling]} for lv in reversed(o.ordered_levels())
        ],
        "handling_status": _handling_status(o),
    }


def _handling_status(o: Ontology) -> dict[str, Any]:
    """The status of the handling text: one for all of it, on ``mg:handling`` (an annotation
    value cannot carry its own)."""
    from kg.ontology_sources import MG, STATUSES

    g = o.graph
    status = next(
        (STATUSES[x] for x in g.objects(MG.handling, MG.sourceStatus) if isinstance(x, URIRef) and x in STATUSES), None
    )
    zh, en = STATUS_LABELS[status or "missing"]

    def note(lang: str) -> str:
        return next(
            (str(n) for n in g.objects(MG.handling, SKOS.editorialNote) if getattr(n, "language", None) == lang), ""
        )

    return {"status": status, "status_zh": zh, "status_en": en, "note_zh": note("zh"), "note_en": note("en")}


def _where(t: Sourced) -> str:
    """The source (cited) or the note saying what would confirm it, in both languages."""
    zh, en = STATUS_LABELS[t.status or "missing"]
    parts = [f"{zh} / {en}"]
    if t.sources:
        parts.append("；".join(t.sources))
    if t.status != "cited" and (t.note_zh or t.note_en):
        parts.append(f"{t.note_zh} / {t.note_en}")
    return "\n".join(parts)


def _folded(title: str, *columns: str) -> Table:
    """A table whose long (Chinese) texts wrap instead of being cut off."""
    table = Table(title=title, title_justify="left", show_lines=True)
    for c in columns:
        table.add_column(c, overflow="fold")
    return table


def method_render(o: Ontology, console: Console) -> None:
    table = _folded("分类分级原则 / principles", "#", "原则", "principle", "释义 / definition", "来源 / source")
    for p in o.principles:
        table.add_row(str(p.order or ""), p.label_zh, p.label_en, f"{p.definition_zh}\n{p.definition_en}", _where(p))
    console.print(table)
    table = _folded("定级要素 / grading elements", "#", "要素", "element", "释义 / definition", "来源 / source")
    for e in o.grading_elements:
        table.add_row(str(e.order or ""), e.label_zh, e.label_en, f"{e.definition_zh}\n{e.definition_en}", _where(e))
    console.print(table)
    for m in o.methods:
        console.print(f"[bold]{m.label_zh} / {m.label_en}[/bold]  {_where(m)}")
        console.print(f"{m.definition_zh}\n{m.definition_en}")
        table = _folded(f"{m.label_zh}的步骤 / steps of the {m.label_en}", "#", "步骤", "step", "做法 / what is done")
        for st in m.steps:
            table.add_row(str(st.order), st.label_zh, st.label_en, f"{st.definition_zh}\n{st.definition_en}")
        console.print(table)
        if m.steps:
            console.print(f"步骤来源 / source of the steps: {_where(m.steps[0])}")
    hs = _handling_status(o)
    levels = list(reversed(o.ordered_levels()))
    aspects: dict[str, tuple[str, str]] = {}
    for lv in levels:
        for h in lv.handling:
            aspects.setdefault(h.key, (h.label_zh, h.label_en))
    table = _folded(
        "各级别处理原则 / handling by level", "级别 / level", *(f"{zh} / {en}" for zh, en in aspects.values())
    )
    for lv in levels:
        by_key = {h.key: h for h in lv.handling}
        table.add_row(
            _level_cell(lv),
            *(f"{by_key[k].text_zh}\n{by_key[k].text_en}" if k in by_key else "—" for k in aspects),
        )
    console.print(table)
    console.print(
        f"处理原则来源 / source of the handling: {hs['status_zh']} / {hs['status_en']}  {hs['note_zh']} / {hs['note_en']}"
    )


# --- equipment -------------------------------------------------------------------------------
def equipment_data(o: Ontology) -> dict[str, Any]:
    return {
        "schemes": [s.to_dict() for s in o.schemes.values()],
        "groups": [g.to_dict() for g in sorted(o.equipment_groups, key=lambda g: (g.scheme, g.notation or ""))],
        "types": [t.to_dict() for t in sorted(o.equipment_types, key=lambda t: t.notation or t.iri)],
    }


def equipment_render(o: Ontology, console: Console) -> None:
    schemes = list(o.schemes.values())
    table = _table(
        "装备类型 / equipment types", "代码 / code", "装备类型", "equipment type", *(f"{s.label_zh}" for s in schemes)
    )
    for t in sorted(o.equipment_types, key=lambda t: t.notation or t.iri):
        groups = o.groups_of(t)
        cols = []
        for s in schemes:
            g = groups.get(s.iri)
            cols.append(f"{g.notation} {g.label_zh}" if g else "—")
        table.add_row(t.notation or "", t.label_zh, t.label_en, *cols)
    console.print(table)


def templates_data(o: Ontology) -> list[dict[str, Any]]:
    return [t.to_dict() for t in sorted(o.templates, key=lambda t: t.iri)]


def templates_render(o: Ontology, console: Console) -> None:
    for tpl in sorted(o.templates, key=lambda t: t.iri):
        eq = o.equipment_types.get(tpl.equipment_type or "")
        title = f"{tpl.label_zh} / {tpl.label_en}" + (f"  ({eq.label_zh} / {eq.label_en})" if eq else "")
        table = _table(title, "数据项", "data item", "分类 / category", "最低级别 / floor", "格式 / format")
        for item in tpl.items:
            cat = o.categories.get(item.category or "")
            pi_floors = [
                p.floor for p in (o.personal_information.get(x) for x in item.personal_information) if p and p.floor
            ]
            floor = o.highest([f for f in [cat.floor if cat else None, *pi_floors] if f])
            table.add_row(
                item.label_zh, item.label_en, cat.label_zh if cat else "—", floor.label_zh, item.data_format or ""
            )
        console.print(table)


SECTIONS: dict[str, tuple[DataFn, RenderFn]] = {
    "summary": (summary_data, summary_render),
    "levels": (levels_data, levels_render),
    "categories": (categories_data, categories_render),
    "personal": (personal_data, personal_render),
    "matrix": (matrix_data, matrix_render),
    "transformations": (transformations_data, transformations_render),
    "measures": (measures_data, measures_render),
    "equipment": (equipment_data, equipment_render),
    "templates": (templates_data, templates_render),
    "sources": (sources_data, sources_render),
    "method": (method_data, method_render),
}
