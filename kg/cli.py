"""The ``medgrade`` command line (typer + rich). Every command prints bilingual text; commands
that print data take ``--json``. Errors are printed in both languages and exit with status 2."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from kg import __version__
from kg.errors import InputError, MedgradeError
from kg.exporters import ExportFormat
from kg.service import ImportReport, Service
from kg.settings import Settings

if TYPE_CHECKING:
    from kg.remote import RemoteService

app = typer.Typer(
    name="medgrade",
    help="medgrade：医疗装备使用数据分类分级 / classify and grade medical-equipment usage data.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
console = Console()
err_console = Console(stderr=True)


class Section(StrEnum):
    """What ``medgrade ontology`` shows."""

    summary = "summary"
    levels = "levels"
    categories = "categories"
    personal = "personal"
    matrix = "matrix"
    transformations = "transformations"
    measures = "measures"
    equipment = "equipment"
    templates = "templates"
    check = "check"
    sources = "sources"
    method = "method"


def _version(value: bool) -> None:
    if value:
        console.print(f"medgrade {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    store: Annotated[
        str | None,
        typer.Option(
            "--store",
            help="存储描述 / store descriptor: oxigraph:PATH, memory:, sparql:QUERY_URL|UPDATE_URL "
            "(默认 / default: $MEDGRADE_STORE or oxigraph:./medgrade-data)",
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="版本 / show the version")
    ] = False,
) -> None:
    """medgrade：医疗装备使用数据分类分级 / classify and grade medical-equipment usage data."""
    ctx.obj = {"store": store}


def settings_for(ctx: typer.Context) -> Settings:
    """Settings from the environment, with ``--store`` applied."""
    settings = Settings()
    store = (ctx.find_root().obj or {}).get("store")
    return settings.model_copy(update={"store": store}) if store else settings


def held_by_server(ctx: typer.Context) -> RemoteService | None:
    """The running ``medgrade serve`` that holds the configured embedded store, if any."""
    from kg.advert import find
    from kg.remote import RemoteService

    settings = settings_for(ctx)
    ad = find(settings.store)
    return RemoteService(ad, settings) if ad else None


def refuse_while_served(ctx: typer.Context, hint_en: str = "", hint_zh: str = "") -> None:
    """Refuse a command that needs the store itself while a server holds it (clear message)."""
    remote = held_by_server(ctx)
    if remote is not None:
        remote.close()
        error = remote.unsupported(ctx.command_path.removeprefix(ctx.find_root().info_name or "").strip())
        raise type(error)(error.message_en + hint_en, error.message_zh + hint_zh)


def service_for(ctx: typer.Context, remote: bool = False) -> Service:
    """The service on the configured store, after finishing or undoing what an interrupted
    process left (see :meth:`Service.recover`). While ``medgrade serve`` holds the (embedded)
    store, a command that goes through the server (``remote``) gets a
    :class:`kg.remote.RemoteService` with the same methods; any other is refused, naming the
    server."""
    server = held_by_server(ctx)
    if server is not None:
        if remote:
            return server  # type: ignore[return-value]  # the part of Service the command uses
        server.close()
        refuse_while_served(ctx)
    svc = Service(settings_for(ctx))
    try:
        for line in svc.recover():
            err_console.print(f"恢复 / recovery: {line}", highlight=False)
    except Exception:
        svc.close()
        raise
    return svc


def _progress(label: str) -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    )


def emit_json(data: Any) -> None:
    """Print ``data`` as JSON (UTF-8, not escaped) on stdout."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


@app.command()
def ontology(
    section: Annotated[Section, typer.Argument(help="要显示的部分 / what to show")] = Section.summary,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON / print JSON")] = False,
    ontology_dir: Annotated[
        Path | None,
        typer.Option("--ontology-dir", help="本体目录（默认为内置本体）/ ontology folder (default: the shipped one)"),
    ] = None,
) -> None:
    """显示本体中的级别、分类、影响矩阵、加工方式、防护措施、装备和各术语的来源状态 / show what the ontology defines, and where each term comes from."""
    from kg.ontology import load_ontology
    from kg.ontology_report import SECTIONS

    onto = load_ontology(ontology_dir)
    if section is Section.check:
        _ontology_check(onto, ontology_dir, as_json)
        return
    data, render = SECTIONS[section.value]
    if as_json:
        emit_json(data(onto))
    else:
        render(onto, console)


def _ontology_check(onto: Any, ontology_dir: Path | None, as_json: bool) -> None:
    """``ontology check``: HermiT over the ontology as edited; exit 1 when inconsistent or a
    class is unsatisfiable, 2 when Java is missing."""
    from kg.ontology import load_ontology
    from kg.reasoner import check

    baseline = None if ontology_dir is None else load_ontology(None).graph  # the shipped ontology
    with _progress("HermiT 推理 / reasoning with HermiT") as progress:
        progress.add_task("HermiT", total=None)
        result = check(onto.graph, baseline)
    if as_json:
        emit_json(result.to_dict())
    elif not result.available:
        err_console.print(result.notes[0], highlight=False)
    else:
        verdict = "一致 / consistent" if result.consistent else "不一致 / INCONSISTENT"
        console.print(f"HermiT: {verdict}; 不可满足的类 / unsatisfiable classes: {len(result.unsatisfiable)}")
        for iri in result.unsatisfiable:
            console.print(f"  ✗ {escape(iri)}", highlight=False)
        if baseline is not None:
            console.print(
                f"与内置本体相比，推理出的类层次 / inferred hierarchy against the shipped ontology:"
                f" +{len(result.added)} −{len(result.removed)}"
            )
            for sign, pairs in (("+", result.added), ("−", result.removed)):
                for sub, sup in pairs:
                    console.print(f"  {sign} {escape(sub)} ⊑ {escape(sup)}", highlight=False)
        for note in result.notes:
            console.print(note, highlight=False)
    if not result.available:
        raise typer.Exit(2)
    if not result.ok:
        raise typer.Exit(1)


@app.command("init")
def init_command(
    ctx: typer.Context,
    demo: Annotated[
        bool, typer.Option("--demo", help="存储为空时载入示范医院 / load the demo hospital into an empty store")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON / print JSON")] = False,
) -> None:
    """载入本体与 SHACL 规则（可重复执行）/ load the ontology and shapes into the store (idempotent)."""
    with service_for(ctx) as svc:
        with _progress("导入示范医院 / loading the demo hospital") as bar:
            task = bar.add_task("demo", total=None)
            report = svc.initialize(demo=demo, progress=lambda n: bar.advance(task, n))
        if as_json:
            emit_json(
                {
                    "ontology": report.ontology_graphs,
                    "shapes": report.shapes_graphs,
                    "demo": _import_json(report.demo) if report.demo else None,
                }
            )
            return
        for graph, state in {**report.ontology_graphs, **report.shapes_graphs}.items():
            console.print(f"{_STATE[state]}  {graph}", highlight=False)
        if demo:
            if report.demo:
                _print_import(report.demo)
            else:
                console.print("清单非空，未载入示范医院 / the inventory is not empty: demo not loaded")
        console.print(f"存储 / store: {svc.store.descriptor}", highlight=False)


_STATE = {"loaded": "已载入 loaded   ", "unchanged": "未变化 unchanged", "removed": "已移除 removed  "}


def _import_json(report: ImportReport) -> dict[str, Any]:
    return {
        "files": report.files,
        "added": report.added,
        "changed": report.changed,
        "unchanged": report.unchanged,
        "triples": report.triples,
        "bulk": report.bulk,
        "record": report.record,
        "warnings": [str(w) for w in report.warnings],
    }


def _print_import(report: ImportReport) -> None:
    table = Table(title=f"导入 / import: {', '.join(report.files)}", title_justify="left")
    for col in ("类型 / kind", "新增 / added", "变更 / changed", "未变 / unchanged"):
        table.add_column(col)
    for kind in sorted(set(report.added) | set(report.changed) | set(report.unchanged)):
        table.add_row(
            kind, str(report.added.get(kind, 0)), str(report.changed.get(kind, 0)), str(report.unchanged.get(kind, 0))
        )
    console.print(table)
    names = [w for w in report.warnings if w.code == "element-name-unresolved"]
    for w in report.warnings:
        if w.code != "element-name-unresolved":
            console.print(f"[yellow]警告 / warning[/]: {escape(str(w))}", highlight=False)
    if names:  # one line: a steward reads a list of names, not hundreds of warnings
        shown = "、".join(w.subject for w in names[:20]) + (" …" if len(names) > 20 else "")
        console.print(
            f"[yellow]警告 / warning[/]: {len(names)} 个数据元素名称不是本体中的个人信息用语，不据此提高级别 / "
            f"{len(names)} element name(s) denote no personal information the ontology knows and raise no level: "
            f"{escape(shown)}（--json 逐一列出及其位置 / --json lists each with where it is）",
            highlight=False,
        )
    if not report.wrote:
        console.print("无变化，未写入 / nothing changed, nothing written")


@app.command("import")
def import_command(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(help="清单文件 / inventory files: .csv .xlsx .ttl .jsonld .nq .nt")],
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON / print JSON")] = False,
) -> None:
    """导入数据资产清单（全部成功或全部不写入）/ import inventory files (all or nothing)."""
    with service_for(ctx, remote=True) as svc, _progress("检查与导入 / checking and importing") as bar:
        task = bar.add_task("import", total=None)
        report = svc.import_files(files, progress=lambda n: bar.advance(task, n))
    if as_json:
        emit_json(_import_json(report))
    else:
        _print_import(report)


@app.command("export")
def export_command(
    ctx: typer.Context,
    fmt: Annotated[ExportFormat, typer.Option("--format", "-f", help="格式 / format")],
    output: Annotated[Path, typer.Option("--output", "-o", help="输出文件 / output file")],
) -> None:
    """导出分类分级清单 / export the classification and grading list."""
    with service_for(ctx, remote=True) as svc:
        written = svc.export(fmt.value, output)
    for path in written:
        console.print(f"已写入 / written: {path}", highlight=False)


@app.command("template")
def template_command(
    output: Annotated[Path, typer.Option("--output", "-o", help="输出文件 / output file (.xlsx)")] = Path(
        "medgrade-template.xlsx"
    ),
) -> None:
    """写出空白清单模板（含说明与可选值）/ write the empty inventory template with instructions."""
    from kg.exporters import write_template
    from kg.ontology import load_ontology

    write_template(output, load_ontology())
    console.print(f"已写入 / written: {output}", highlight=False)


@app.command("propagate")
def propagate_command(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON / print JSON")] = False,
) -> None:
    """沿数据血缘传递最高级别，写入推理图 / propagate the highest level through lineage into the inferred graph."""
    with service_for(ctx, remote=True) as svc, _progress("级别传递 / propagating") as bar:
        bar.add_task("propagate", total=None)
        report = svc.propagate()
    data = report.summary()
    if as_json:
        emit_json(data)
        return
    console.print(
        f"数据集 / datasets {data['datasets']}  数据元素 / elements {data['elements']}  "
        f"衍生关系 / derivations {data['derivations']}  环路 / cycles {data['cycles']}",
        highlight=False,
    )
    console.print(
        f"推理图 / inferred graph: +{data['added']} −{data['removed']} 三元组 / triples, "
        f"{data['changed']} 项变化 / resources changed"
        + ("（分批写入 / written in batches）" if data["journaled"] else "")
        + ("；已修复中断的写入 / an interrupted write was repaired" if data["repaired"] else ""),
        highlight=False,
    )


def _level_cell(level: dict[str, Any] | None) -> str:
    return f"{level['label_zh']} / {level['label_en']}" if level else "—"


def _short(iri: str) -> str:
    """An instance IRI as the id a user typed (``asset/ID`` → ``ID``; parts keep their path)."""
    _, sep, rest = iri.partition("/asset/")
    return rest if sep else iri


def _activity_cell(hop: dict[str, Any]) -> str:
    kind = (
        f"{hop['activity_label_zh']} / {hop['activity_label_en']}"
        if hop["activity_label_zh"]
        else "未说明加工 / unspecified"
    )
    return kind + ("，已审批 / approved" if hop["approved"] else "")


SET_BY = {
    "assessed": ("评估级别", "the assessment"),
    "rules": ("定级规则（R2–R6）", "the grading rules (R2–R6)"),
    "inherited": ("数据血缘（继承）", "lineage (inherited)"),
}


@app.command("level")
def level_command(
    ctx: typer.Context,
    asset: Annotated[str, typer.Argument(help="资产标识或 IRI / asset id or IRI")],
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON / print JSON")] = False,
) -> None:
    """资产的级别：评估、规则最低、继承与生效级别及其决定者，来源与见证路径，防护措施与理由 / an asset's levels (assessed, rules' minimum, inherited, effective and what sets it), origin, witness, measures, reasons."""
    with service_for(ctx, remote=True) as svc:
        answer = svc.level(asset)
    if as_json:
        emit_json(answer)
        return
    console.print(f"[bold]{answer['id']}[/]  {answer['asset']}", highlight=False)
    for key, zh, en in (
        ("assessed", "评估级别", "assessed"),
        ("minimum", "规则最低级别", "rules' minimum"),
        ("inherited", "继承级别", "inherited"),
        ("effective", "生效级别", "effective"),
    ):
        console.print(f"  {zh} / {en}: {_level_cell(answer[key])}", highlight=False)
    if answer["set_by"]:
        zh, en = SET_BY[answer["set_by"]]
        console.print(f"  生效级别由{zh}决定 / set by: {en} ({answer['set_by']})", highlight=False)
    if answer["origin"]:
        console.print(f"  级别来源 / origin: {_short(answer['origin'])}", highlight=False)
    if answer["witness"]:
        console.print("  见证路径 / witness path:", highlight=False)
    for hop in answer["witness"]:
        line = f"    {_short(hop['source'])} → {_short(hop['target'])}  [{_activity_cell(hop)}]"
        console.print(escape(line), highlight=False)
    if answer["measures"]:
        console.print("  防护措施 / measures: " + "；".join(m["label_zh"] for m in answer["measures"]), highlight=False)
    if answer.get("elements_considered"):
        names = "；".join(f"{g['label_zh']} ({g['label_en']})" for g in answer["elements_considered"])
        console.print(escape(f"  所考虑的定级要素 / grading elements considered: {names}"), highlight=False)
    review = answer["review"]
    if review["last_reviewed"]:
        due = f"；应于 {review['due']} 前复核 / next review due {review['due']}"
        late = "（已逾期，R15 / overdue, R15）" if review["overdue"] else ""
        console.print(f"  上次复核 / last reviewed: {review['last_reviewed']}{due}{late}", highlight=False)
    for reason in answer["reasons"]:
        console.print(f"  · {escape(reason)}", highlight=False)


@app.command("lineage")
def lineage_command(
    ctx: typer.Context,
    asset: Annotated[str, typer.Argument(help="资产标识或 IRI / asset id or IRI")],
    direction: Annotated[str, typer.Option("--direction", help="up | down | both")] = "both",
    depth: Annotated[int, typer.Option("--depth", help="深度 / depth")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON / print JSON")] = False,
) -> None:
    """资产的数据血缘（上游、下游）/ an asset's lineage, upstream and downstream."""
    names = {"up": "upstream", "down": "downstream", "both": "both", "upstream": "upstream", "downstream": "downstream"}
    with service_for(ctx, remote=True) as svc:
        graph = svc.lineage(asset, names.get(direction, direction), depth)
    if as_json:
        emit_json(graph)
        return
    from rich.tree import Tree

    nodes = {n["iri"]: n for n in graph["nodes"]}

    def label(iri: str) -> str:
        n = nodes[iri]
        return escape(f"{n['id']}  {n['name'] or ''}  [{_level_cell(n['effective'])}]")

    root = graph["root"]
    for title, key, other in (("上游 / upstream", "target", "source"), ("下游 / downstream", "source", "target")):
        if graph["direction"] not in ("both", "upstream" if key == "target" else "downstream"):
            continue
        tree = Tree(f"{title}: {label(root)}")
        seen = {root}

        def grow(branch: Tree, iri: str, level: int, key: str = key, other: str = other, seen: set[str] = seen) -> None:
            for e in graph["edges"]:
                if e[key] == iri and e[other] not in seen and level < depth:
                    seen.add(e[other])
                    arrow = "←" if key == "target" else "→"
                    grow(
                        branch.add(f"{arrow} {escape(f'[{_activity_cell(e)}]')} {arrow} {label(e[other])}"),
                        e[other],
                        level + 1,
                    )

        grow(tree, root, 0)
        console.print(tree)


class ReportFormat(StrEnum):
    text = "text"
    json = "json"
    ttl = "ttl"


@app.command("validate")
def validate_command(
    ctx: typer.Context,
    fmt: Annotated[ReportFormat, typer.Option("--format", "-f", help="报告格式 / report format")] = ReportFormat.text,
    as_of: Annotated[str | None, typer.Option("--as-of", help=AS_OF_HELP)] = None,
) -> None:
    """按 SHACL 规则校验（符合时退出码 0，不符合时 1）/ validate with the SHACL rules (exit 0 conforms, 1 not)."""
    day = _as_of(as_of)
    with service_for(ctx, remote=True) as svc:
        svc.as_of = day
        with _progress("校验 / validating") as bar:
            bar.add_task("validate", total=None)
            report = svc.validate()
        labels = svc.report_names(report)
    if fmt is ReportFormat.json:
        emit_json(report.to_dict())
    elif fmt is ReportFormat.ttl:
        sys.stdout.write(report.to_graph().serialize(format="turtle"))
    else:
        _print_report(report, labels)
    raise typer.Exit(0 if report.conforms else 1)


AS_OF_HELP = "按此日期判断复核是否到期（YYYY-MM-DD，默认 MEDGRADE_TODAY 或北京时间今天）/ judge reviews as of this date (default MEDGRADE_TODAY, else today in Asia/Shanghai)"


def _as_of(text: str | None) -> Any:
    from kg.clock import parse_day

    return parse_day(text, "--as-of") if text is not None else None


@app.command("review")
def review_command(
    ctx: typer.Context,
    assets: Annotated[
        list[str] | None, typer.Argument(help="要复核的资产标识或 IRI / assets reviewed (id or IRI)")
    ] = None,
    justification: Annotated[
        str | None,
        typer.Option("--justification", "-j", help="复核说明（必填）/ why: what the review found (required)"),
    ] = None,
    overdue: Annotated[
        bool, typer.Option("--overdue", help="列出复核已到期的资产（R15）/ list the assets due for review (R15)")
    ] = False,
    as_of: Annotated[str | None, typer.Option("--as-of", help=AS_OF_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON / print JSON")] = False,
) -> None:
    """定期复核（R15，默认每年）：记录对资产的复核，或用 --overdue 列出到期未复核的资产 / the periodic (by default yearly) review, R15: record reviews of assets, or list those due with --overdue."""
    day = _as_of(as_of)
    if overdue == bool(assets):
        raise InputError(
            "name the assets reviewed, or give --overdue to list those due (not both)",
            "请指定已复核的资产，或用 --overdue 列出到期资产（二者择一）",
        )
    with service_for(ctx, remote=True) as svc:
        svc.as_of = day
        if overdue:
            answer = svc.overdue()
        else:
            answer = svc.review(assets or [], actor=svc.settings.user, justification=justification or "")
    if as_json:
        emit_json(answer)
        return
    if overdue:
        console.print(
            f"复核周期 / review interval: {answer['interval_months']} 个月 months；"
            f"截至 / as of {answer['as_of']}，上次复核早于 / last reviewed before {answer['cutoff']} 即到期 / is due",
            highlight=False,
        )
        table = Table("资产 / asset", "名称 / name", "上次复核 / last reviewed", "应复核 / due")
        for item in answer["items"]:
            table.add_row(item["id"], escape(item["name"] or ""), item["last_reviewed"], item["due"])
        console.print(table)
        console.print(
            f"到期 / due: {answer['total']}；从未复核（不判断）/ never reviewed (not judged): {answer['never_reviewed']}",
            highlight=False,
        )
        return
    ids = ", ".join(r["id"] for r in answer["reviewed"])
    console.print(f"已记录复核 / review recorded ({answer['reviewed_on']}): {ids}", highlight=False)


_SEVERITY = {
    "Violation": "[red]✗ 违规 Violation[/]",
    "Warning": "[yellow]! 警告 Warning[/]",
    "Info": "[blue]i 提示 Info[/]",
}


def _print_report(report: Any, labels: dict[str, str]) -> None:
    from collections import defaultdict

    groups: dict[str, list[Any]] = defaultdict(list)
    for r in report.results:
        groups[r.focus_id.split("/")[1] if r.focus_id.startswith("asset/") else r.focus_id.split("/")[0]].append(r)
    for key in sorted(groups):
        name = labels.get(key)
        console.print(f"[bold]{key}[/]" + (f"  {name}" if name else ""), highlight=False)
        for r in sorted(groups[key], key=lambda r: (r.rule, r.message_en)):
            where = f"  ({r.focus_id})" if r.focus_id != key else ""
            console.print(f"  {_SEVERITY[r.severity]} {r.rule}{where}", highlight=False)
            console.print(f"      {r.message_zh}", highlight=False, markup=False)
            console.print(f"      {r.message_en}", highlight=False, markup=False)
    violations = sum(r.severity == "Violation" for r in report.results)
    warnings = len(report.results) - violations
    verdict = "符合 / conforms" if report.conforms else "不符合 / does not conform"
    console.print(f"{verdict}: {violations} 项违规 violation(s), {warnings} 项警告或提示 warning(s)/info")


@app.command("status")
def status_command(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON / print JSON")] = False,
) -> None:
    """显示存储中的图与数量 / show the store's graphs and counts."""
    with service_for(ctx, remote=True) as svc:
        data = svc.status()
    if as_json:
        emit_json(data)
        return
    console.print(
        f"存储 / store: {data['store']}   已初始化 / initialized: {data['initialized']}   "
        f"数据资产 / assets: {data['assets']}",
        highlight=False,
    )
    table = Table(title="命名图 / named graphs", title_justify="left")
    table.add_column("图 / graph")
    table.add_column("三元组 / triples", justify="right")
    for graph, n in data["graphs"].items():  # type: ignore[attr-defined]
        table.add_row(graph, f"{n:,}")
    console.print(table)


@app.command("unclassified")
def unclassified_command(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="最多条数 / at most this many")] = 50,
    offset: Annotated[int, typer.Option(min=0, help="跳过条数 / skip this many")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON / print JSON")] = False,
) -> None:
    """待分类队列：没有分类的数据资产及分类建议 / the classification queue: assets with no category, with suggestions."""
    with service_for(ctx, remote=True) as svc:
        queue = svc.classification_queue(limit=limit, offset=offset).to_dict()
    if as_json:
        emit_json(queue)
        return
    status = queue["status"]
    table = Table(title=f"{status['label_zh']} / {status['label_en']}: {queue['total']:,}", title_justify="left")
    for col in (
        "资产 / asset",
        "生效级别 / effective",
        "建议分类 / suggested",
        "最低级别 / min level",
        "置信度 / conf.",
    ):
        table.add_column(col)
    for item in queue["items"]:
        s, cat = item["suggestion"], item["suggestion"]["category"]
        table.add_row(
            escape(item["id"] + (f" ({item['name']})" if item["name"] and item["name"] != item["id"] else "")),
            _level_cell(item["effective"]),
            escape(f"{cat['label_zh']} / {cat['label_en']}") if cat else "—",
            _level_cell(s["min_level"]),
            f"{s['confidence']:.2f}",
        )
    console.print(table)


class QueryFormat(StrEnum):
    json = "json"
    xml = "xml"
    csv = "csv"
    tsv = "tsv"
    ttl = "ttl"
    nt = "nt"


_QUERY_MEDIA = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "ttl": "text/turtle",
    "nt": "application/n-triples",
}


def _print_suggestions(rows: list[dict[str, Any]], title: str) -> None:
    table = Table(title=title, show_lines=False)
    for col in ("输入 / input", "分类 / category", "个人信息 / personal", "最低级别 / min level", "置信度 / conf."):
        table.add_column(col)
    for r in rows:
        cat = r["category"]
        personal = ("敏感 / sensitive" if r["sensitive"] else "是 / yes") if r["personal"] else "否 / no"
        table.add_row(
            escape(r["element"]["ref"] if r["element"] and r["element"]["standard"] == "DICOM" else r["input"]),
            escape(f"{cat['label_zh']} / {cat['label_en']}") if cat else "—",
            personal,
            _level_cell(r["min_level"]),
            f"{r['confidence']:.2f}",
        )
    console.print(table)


@app.command("classify")
def classify_command(
    ctx: typer.Context,
    texts: Annotated[
        list[str] | None,
        typer.Argument(
            help="数据元素：名称（中文或英文）、DICOM 标签或关键字、HL7 v2 字段、FHIR 路径、BICEPS 成员 / "
            "elements: names (zh or en), DICOM tags or keywords, HL7 v2 fields, FHIR paths, BICEPS members"
        ),
    ] = None,
    dicom_file: Annotated[
        Path | None,
        typer.Option(
            "--dicom",
            help="对 DICOM 文件的每个属性（含像素数据）给出建议，标注 PS3.15 处理与是否个人信息 / classify every "
            "attribute of a DICOM file (pixel data included), with its PS3.15 action and whether it is personal",
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="与 --dicom 一起：写出可导入的清单 (.xlsx/.csv)，每个属性一行，另附设备表 / with --dicom: write "
            "rows to import, one per attribute, with a devices sheet (FILE-devices.csv beside a .csv)",
        ),
    ] = None,
    hl7_file: Annotated[
        Path | None,
        typer.Option(
            "--hl7", help="逐字段分类 HL7 v2 消息文件（含上下文）/ classify every field of an HL7 v2 message file"
        ),
    ] = None,
    fhir_file: Annotated[
        Path | None,
        typer.Option(
            "--fhir", help="逐元素分类 FHIR 资源或 Bundle（JSON/XML）/ classify every element of a FHIR resource"
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON / print JSON")] = False,
) -> None:
    """分类建议：分类、个人信息、最低级别、置信度与理由（仅为建议）/ suggest category, personal flags, minimum level."""
    from kg.classify import Classifier
    from kg.ontology import load_ontology

    if hl7_file is not None or fhir_file is not None:
        if output is not None or dicom_file is not None or texts:
            raise InputError(
                "--hl7/--fhir FILE classify a file alone (no names, --dicom or --output)",
                "--hl7/--fhir 文件须单独分类（不与名称、--dicom 或 --output 同用）",
            )
        _classify_message(ctx, hl7_file, fhir_file, as_json)
        return
    if not texts and dicom_file is None:
        raise InputError("give element names or --dicom FILE", "请给出数据元素名称或 --dicom 文件")
    if output is not None and dicom_file is None:
        raise InputError("--output needs --dicom FILE", "--output 须与 --dicom 一起使用")
    classifier = Classifier(load_ontology(settings_for(ctx).resolved_ontology_dir()))
    rows = [s.to_dict() for s in classifier.classify_many(texts or [])]
    if dicom_file is not None:
        from kg.classify.dicom_file import classify_file, device_row, inventory_rows

        results, private = classify_file(dicom_file, classifier)
        rows += [{**r.suggestion.to_dict(), "personal": r.personal, "ps315": r.ps315_dict()} for r in results]
        if output is not None:
            device = device_row(dicom_file, classifier.onto)
            _write_rows(output, {"assets": inventory_rows(dicom_file, results, device["id"]), "devices": [device]})
            err_console.print(f"已写入 / written: {output} ({len(results)} attributes)", highlight=False)
        if private and not as_json:
            err_console.print(
                f"私有属性 {len(private)} 个未分类（PS3.15 基本规则删除）/ {len(private)} private attributes not "
                "classified (the PS3.15 basic profile removes them)",
                highlight=False,
            )
    if as_json:
        emit_json(rows)
    else:
        _print_suggestions(rows, "分类建议 / classification suggestions")
        if len(rows) == 1:
            for reason in rows[0]["reasons"]:
                console.print(f"  · {escape(reason)}", highlight=False)


def _write_rows(path: Path, sheets: dict[str, list[dict[str, Any]]]) -> None:
    from kg.exporters import write_csv, write_xlsx
    from kg.ontology import load_ontology

    if path.suffix.lower() == ".xlsx":
        write_xlsx(path, sheets, load_ontology())
    elif path.suffix.lower() == ".csv":
        write_csv(path, sheets)
    else:
        raise InputError(f"{path}: write .xlsx or .csv", f"{path}：请写出 .xlsx 或 .csv 文件")


def _classify_message(ctx: typer.Context, hl7_file: Path | None, fhir_file: Path | None, as_json: bool) -> None:
    """``classify --hl7 FILE`` / ``--fhir FILE``: one row per field or element present, in context."""
    from kg.classify import Classifier
    from kg.classify.messages import classify_fhir, classify_hl7
    from kg.ontology import load_ontology

    if hl7_file is not None and fhir_file is not None:
        raise InputError("give --hl7 or --fhir, not both", "--hl7 与 --fhir 只能给一个")
    classifier = Classifier(load_ontology(settings_for(ctx).resolved_ontology_dir()))
    if hl7_file is not None:
        found = classify_hl7(hl7_file, classifier)
    else:
        assert fhir_file is not None
        found = classify_fhir(fhir_file, classifier)
    rows = [r.to_dict() for r in found]
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        row["input"] = row["ref"]  # the table names the occurrence (OBX[2]-5); values are never shown
    _print_suggestions(rows, f"分类建议 / classification suggestions: {hl7_file or fhir_file}")


@app.command("backup")
def backup_command(
    ctx: typer.Context,
    target: Annotated[Path, typer.Argument(help="备份文件 (.nq 或 .nq.gz) / backup file (.nq or .nq.gz)")],
    server: Annotated[
        str | None,
        typer.Option(
            "--server",
            help="从运行中的服务备份（admin 密钥取自 $MEDGRADE_TOKEN）/ back up a running server "
            "(admin key from $MEDGRADE_TOKEN)",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON / print JSON")] = False,
) -> None:
    """备份整个存储为一致快照（服务运行时用 --server）/ back up the whole store as a consistent snapshot (--server while serving)."""
    import os

    from kg.backup import backup, backup_from_server

    if server:
        report = backup_from_server(server, os.environ.get("MEDGRADE_TOKEN"), target)
    else:
        refuse_while_served(
            ctx,
            " (medgrade backup --server URL takes a snapshot from it)",
            "（可用 medgrade backup --server URL 从服务备份）",
        )
        settings = settings_for(ctx)
        report = backup(settings.store, target, **settings.sparql_account())
    if as_json:
        emit_json({"path": str(report.path), "quads": report.quads, "bytes": report.bytes})
    else:
        console.print(
            f"已备份 / backed up: {report.quads:,} quads → {report.path} ({report.bytes:,} bytes)", highlight=False
        )


@app.command("restore")
def restore_command(
    ctx: typer.Context,
    source: Annotated[Path, typer.Argument(help="备份文件 (.nq 或 .nq.gz) / backup file (.nq or .nq.gz)")],
    yes: Annotated[bool, typer.Option("--yes", help="不再确认 / do not ask")] = False,
) -> None:
    """用备份替换存储的全部内容（须先停止服务）/ replace the whole store with a backup (stop the server first)."""
    from kg.backup import restore

    refuse_while_served(ctx)
    store = settings_for(ctx).store
    if not yes and not typer.confirm(
        f"用 {source} 替换 {store} 的全部内容？/ replace everything in {store} with {source}?"
    ):
        raise typer.Exit(1)
    count = restore(store, source)
    console.print(f"已恢复 / restored: {count:,} quads → {store}", highlight=False)


PURPOSE_HELP = (
    "申报的出境目的（可免予申报）：contract | hr | emergency / the declared purpose that may exempt the "
    "provision: contract | hr | emergency (crossborder.ttl)"
)
EVIDENCE_HELP = (
    "已具备的证明材料 种类=编号（可重复），种类如 security_assessment_approval、standard_contract_filing、"
    "pi_protection_certification、separate_consent、pi_impact_assessment、hgr_filing_and_backup / evidence in hand as "
    "KIND=REFERENCE (repeatable)"
)


@app.command("check-transfer")
def check_transfer_command(
    ctx: typer.Context,
    asset: Annotated[str, typer.Argument(help="资产标识或 IRI / asset id or IRI")],
    to: Annotated[str, typer.Option("--to", help="去向标识 / destination id")],
    measure: Annotated[
        list[str] | None, typer.Option("--measure", help="提供方声明的措施（可重复）/ a measure the provider declares")
    ] = None,
    purpose: Annotated[str | None, typer.Option("--purpose", help=PURPOSE_HELP)] = None,
    evidence: Annotated[list[str] | None, typer.Option("--evidence", help=EVIDENCE_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON / print JSON")] = False,
) -> None:
    """检查数据能否提供给某去向及所缺措施；境外去向并给出出境机制与所缺证明材料 / may this asset go to that destination, and what is missing (abroad: the cross-border mechanism and the evidence still missing)."""
    from kg.crossborder import mechanism_named

    with service_for(ctx, remote=True) as svc:
        answer = svc.check_transfer(asset, to, measure or [], purpose, evidence or [])
        named = mechanism_named(svc.ontology, answer["mechanism"]) if answer.get("mechanism") else None
    if as_json:
        emit_json(answer)
    else:
        verdict = "允许 / allowed" if answer["allowed"] else "不允许 / not allowed"
        console.print(
            f"{_short(answer['asset'])} → {_short(answer['destination'])}: {verdict}\n"
            f"  有效级别 / effective: {_level_cell(answer['effective'])}   "
            f"去向准入 / clearance: {_level_cell(answer['clearance'])}",
            highlight=False,
        )
        if answer["fix_first"]:
            console.print("须先修正 / fix first:", highlight=False)
        for f in answer["fix_first"]:
            console.print(
                f"  [{f['rule']}] {escape(f['focus_id'])}\n         {escape(f['message_zh'])}\n"
                f"         {escape(f['message_en'])}",
                highlight=False,
            )
        for p in answer["problems"]:
            console.print(
                f"  [{p['rule']}] {escape(p['message_zh'])}\n         {escape(p['message_en'])}", highlight=False
            )
        if answer.get("mechanism"):
            _print_cross_border(answer, named)
    raise typer.Exit(0 if answer["allowed"] else 1)


def _print_cross_border(answer: dict[str, Any], named: Any) -> None:
    """The leaving-the-country part of a transfer check, in both languages."""
    label = f"{named.label_zh} / {named.label_en}" if named is not None else answer["mechanism"]
    counts = answer["counts"]
    people = "未记录 / not recorded" if counts.get("subjects") is None else f"{counts['subjects']:,}"
    console.print(
        f"数据出境 / leaving the country: {escape(label)} ({answer['mechanism']})\n"
        f"  数据主体 / subjects: {people}   敏感 / sensitive: {counts.get('sensitive_subjects')}",
        highlight=False,
    )
    for p in answer["prohibitions"]:
        console.print(
            f"  禁止 / prohibited [{p['rule']}] {escape(p['label_zh'])} / {escape(p['label_en'])}\n"
            f"         {escape('; '.join(p['sources']))}",
            highlight=False,
        )
    if answer["basis"]:
        console.print("  依据 / basis:", highlight=False)
    for b in answer["basis"]:
        source = f"\n         {escape('; '.join(b['sources']))}" if b["sources"] else ""
        console.print(
            f"    [{b['rule'] or '-'}] {escape(b['text_zh'])}\n         {escape(b['text_en'])}{source}", highlight=False
        )
    if answer["missing_evidence"]:
        console.print("  缺少证明材料 / missing evidence:", highlight=False)
    for m in answer["missing_evidence"]:
        console.print(
            f"    [{m['required_by']}] {escape(m['message_zh'])}\n         {escape(m['message_en'])}", highlight=False
        )


@app.command("query")
def query_command(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="SPARQL 查询，或 @文件.rq / a SPARQL query, or @file.rq")],
    fmt: Annotated[
        QueryFormat | None,
        typer.Option(
            "--format", help="结果格式 / result format (SELECT/ASK: json csv tsv xml; CONSTRUCT: ttl nt json)"
        ),
    ] = None,
) -> None:
    """运行 SPARQL 查询（与 /sparql 相同的引擎与限制）/ run a SPARQL query (same engine and limits as /sparql)."""
    from kg.sparql_endpoint import Limits, query, query_form

    if text.startswith("@"):
        path = Path(text[1:])
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise MedgradeError(f"cannot read {path}: {exc}", f"无法读取 {path}：{exc}") from exc
    form = query_form(text)
    chosen = fmt.value if fmt else ("json" if form in ("SELECT", "ASK") else "ttl")
    if form in ("CONSTRUCT", "DESCRIBE") and chosen == "json":
        chosen = "jsonld"
    media = {"jsonld": "application/ld+json"}.get(chosen) or _QUERY_MEDIA[chosen]
    settings = settings_for(ctx)
    server = held_by_server(ctx)
    if server is not None:  # the server's /sparql: the same engine and limits
        with server:
            body = server.query(text, media)
    else:
        with Service(settings) as svc:
            limits = Limits(settings.query_timeout, settings.query_max_results)
            body = query(svc.store, text, accept=media, limits=limits).body
    sys.stdout.buffer.write(body)
    if not body.endswith(b"\n"):
        sys.stdout.buffer.write(b"\n")


@app.command("serve")
def serve_command(
    ctx: typer.Context,
    demo: Annotated[
        bool, typer.Option("--demo", help="库为空时载入示范医院 / load the demo hospital into an empty store")
    ] = False,
    host: Annotated[str, typer.Option("--host", help="监听地址 / address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="端口 / port")] = 8000,
) -> None:
    """启动 HTTP API（SPARQL 端点与 REST）/ start the HTTP API (SPARQL endpoint and REST)."""
    import faulthandler
    import signal

    import uvicorn

    from api import create_app
    from kg.advert import advertised

    if hasattr(signal, "SIGUSR1"):  # `kill -USR1 PID` prints every thread's stack to stderr (a stall)
        faulthandler.register(signal.SIGUSR1, all_threads=True)
    settings = settings_for(ctx)
    refuse_while_served(ctx)  # one server per embedded store
    with Service(settings) as svc:
        if settings.read_only:  # a replica: the writer initialises and recovers the shared store
            if not svc.initialized():
                raise InputError(
                    f"{settings.store} is not initialised: start the writer (without MEDGRADE_READ_ONLY) first",
                    f"{settings.store} 尚未初始化：请先启动负责写入的服务（不设 MEDGRADE_READ_ONLY）",
                )
        else:
            with _progress("初始化 / initialising") as progress:
                task = progress.add_task("init", total=None)
                svc.initialize(demo=demo, progress=lambda n: progress.advance(task, n))  # the demo arrives validated
        levels = svc.status()
        base = f"http://{host}:{port}"
        console.print(
            f"medgrade {__version__}: {levels['assets']} 项数据资产 / assets in {settings.store}\n"
            f"  网页界面 / web interface: {base}/ui/\n"
            f"  API 文档 / API docs:   {base}/docs\n"
            f"  SPARQL 端点 / endpoint: {base}/sparql\n"
            f"  健康 / health:          {base}/health\n"
            + (
                "  只读副本，写操作请发往写入服务 / read-only replica: send writes to the writer"
                if settings.read_only
                else "  写操作需 API 密钥 / writes need an API key: medgrade apikey create NAME --role steward"
            ),
            highlight=False,
        )
        # uvicorn raises a SIGTERM again once it has shut down: as SystemExit, so the advertisement goes
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        with advertised(settings.store, host, port) as ad:  # the command line then goes through this server
            uvicorn.run(
                create_app(service=svc, local_token=ad.token if ad else None), host=host, port=port, log_level="info"
            )


institution_app = typer.Typer(
    help="本机构（数据处理者）记录：名称、是否关键信息基础设施运营者 / the institution record (the data handler): "
    "name and whether it is a critical information infrastructure operator",
    no_args_is_help=True,
)
app.add_typer(institution_app, name="institution")


def _print_institution(inst: dict[str, Any] | None) -> None:
    if inst is None:
        console.print(
            "尚无本机构记录；出境判断按关键信息基础设施运营者处理 / no institution record yet; the cross-border "
            "decision takes the institution to be a CIIO (medgrade institution set --name ...)",
            highlight=False,
        )
        return
    ciio = {True: "是 / yes", False: "否 / no", None: "未记录，按是处理 / not recorded, taken as yes"}[inst["ciio"]]
    console.print(
        f"本机构 / institution: {escape(inst['name'] or '')}\n  关键信息基础设施运营者 / CIIO: {ciio}", highlight=False
    )


@institution_app.command("set")
def institution_set(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Option("--name", help="机构名称 / the institution's name")] = None,
    ciio: Annotated[
        bool | None,
        typer.Option(
            "--ciio/--not-ciio",
            help="是否为关键信息基础设施运营者 / whether it is a critical information infrastructure operator",
        ),
    ] = None,
    justification: Annotated[str, typer.Option("--justification", "-j", help="说明（R13）/ why")] = "",
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON / print JSON")] = False,
) -> None:
    """设置本机构记录（审计，R13）/ set the institution record (audited, R13)."""
    with service_for(ctx, remote=True) as svc:
        answer = svc.set_institution(actor=svc.settings.user, name=name, ciio=ciio, justification=justification)
    if as_json:
        emit_json(answer)
        return
    _print_institution(answer["institution"])


@institution_app.command("show")
def institution_show(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json", help="输出 JSON / print JSON")] = False
) -> None:
    """显示本机构记录 / show the institution record."""
    with service_for(ctx, remote=True) as svc:
        inst = svc.institution()
    if as_json:
        emit_json(inst)
        return
    _print_institution(inst)


@app.command("important-data")
def important_data_command(
    ctx: typer.Context,
    asset: Annotated[str, typer.Argument(help="资产标识或 IRI / asset id or IRI")],
    identified: Annotated[
        bool,
        typer.Option(
            "--identified/--not-identified",
            help="有关部门已告知或公开发布其为重要数据 / the authorities have (not) notified or published it as "
            "important data",
        ),
    ],
    by: Annotated[
        str,
        typer.Option("--by", help="依据：部门、文号或目录 / what the finding rests on: authority, notice or catalogue"),
    ],
    justification: Annotated[
        str, typer.Option("--justification", "-j", help="说明（必填，R13）/ why (required, R13)")
    ] = "",
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON / print JSON")] = False,
) -> None:
    """记录资产的重要数据识别结论（审计）；出境判断据此申报或不作为重要数据申报 / record whether the authorities identified an asset as important data (audited); the cross-border decision reads it."""
    with service_for(ctx, remote=True) as svc:
        answer = svc.identify_important(
            asset, identified=identified, by=by, actor=svc.settings.user, justification=justification
        )
    if as_json:
        emit_json(answer)
        return
    said = "已识别为重要数据 / identified as important data" if identified else "未被告知为重要数据 / not notified"
    console.print(f"{answer['id']}: {said} ({escape(answer['by'])})", highlight=False)


transfer_app = typer.Typer(
    help="数据提供记录（出境判断、R16）/ transfer records: provisions that happened, their cross-border mechanism, R16",
    no_args_is_help=True,
)
app.add_typer(transfer_app, name="transfer")


@transfer_app.command("record")
def transfer_record(
    ctx: typer.Context,
    asset: Annotated[str, typer.Argument(help="所提供的资产标识或 IRI / the asset provided (id or IRI)")],
    to: Annotated[str, typer.Option("--to", help="去向标识 / destination id")],
    subjects: Annotated[
        int, typer.Option("--subjects", min=0, help="所涉人数（含敏感）/ people whose information it carried")
    ],
    sensitive_subjects: Annotated[
        int | None,
        typer.Option(
            "--sensitive-subjects",
            min=0,
            help="其中敏感个人信息人数（默认：资产含敏感个人信息时为全部，否则 0）/ of whom with sensitive personal "
            "information (default: all when the asset carries sensitive personal information, else 0)",
        ),
    ] = None,
    on: Annotated[
        str | None, typer.Option("--on", help="提供日期 YYYY-MM-DD（默认今天，北京时间）/ the day (default today)")
    ] = None,
    purpose: Annotated[str | None, typer.Option("--purpose", help=PURPOSE_HELP)] = None,
    evidence: Annotated[list[str] | None, typer.Option("--evidence", help=EVIDENCE_HELP)] = None,
    justification: Annotated[str, typer.Option("--justification", "-j", help="说明（R13）/ why")] = "",
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON / print JSON")] = False,
) -> None:
    """登记一次已发生的数据提供（审计）；境外去向按当年累计人数判定出境机制，补登较早日期时重新判定当年其后的记录（R16）/ record a provision that happened (audited); abroad, judge its mechanism by the year's cumulative people, and judge later records again when back-dated (R16)."""
    from kg.clock import parse_day

    day = parse_day(on, "--on") if on is not None else None
    with service_for(ctx, remote=True) as svc:
        answer = svc.record_transfer(
            asset,
            to,
            subjects=subjects,
            sensitive=sensitive_subjects,
            on=day,
            purpose=purpose,
            evidence=evidence or [],
            actor=svc.settings.user,
            justification=justification,
        )
    if as_json:
        emit_json(answer)
    else:
        _print_record(answer)
        for later in answer["rechecked"]:
            console.print("重新判定 / judged again:", highlight=False)
            _print_record(later)
    raise typer.Exit(0 if answer["compliant"] else 1)


def _print_record(r: dict[str, Any]) -> None:
    verdict = "符合 / compliant" if r["compliant"] else "[red]R16 不符合 / not compliant[/]"
    console.print(
        f"{r['id']}: {escape(r['asset_id'])} → {escape(r['destination_id'])} {r['provided_on']}  "
        f"{r['subjects']:,} 人 people (敏感 sensitive {r['sensitive_subjects']:,})  {verdict}",
        highlight=False,
    )
    if r["mechanism"]:
        year = r["counts"].get("with_this") or {}
        console.print(
            f"  出境机制 / mechanism: {r['mechanism']}   当年累计 / this year: {year.get('subjects', 0):,} "
            f"(敏感 sensitive {year.get('sensitive_subjects', 0):,})",
            highlight=False,
        )
    for p in r["prohibitions"]:
        console.print(f"  禁止 / prohibited [{p['rule']}] {escape(p['label_zh'])} / {escape(p['label_en'])}")
    for m in r["missing_evidence"]:
        console.print(f"  [{m['required_by']}] {escape(m['message_zh'])}\n      {escape(m['message_en'])}")


@transfer_app.command("evidence")
def transfer_evidence(
    ctx: typer.Context,
    record: Annotated[str, typer.Argument(help="提供记录标识或 IRI / the transfer record (id or IRI)")],
    evidence: Annotated[list[str], typer.Option("--evidence", help=EVIDENCE_HELP)],
    justification: Annotated[str, typer.Option("--justification", "-j", help="说明（R13）/ why")] = "",
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON / print JSON")] = False,
) -> None:
    """为提供记录补充证明材料（审计），并重新校验 R16 / add evidence obtained later to a transfer record (audited) and validate R16 again."""
    with service_for(ctx, remote=True) as svc:
        answer = svc.add_transfer_evidence(record, evidence, actor=svc.settings.user, justification=justification)
    if as_json:
        emit_json(answer)
    else:
        _print_record(answer)
    raise typer.Exit(0 if answer["compliant"] else 1)


@transfer_app.command("list")
def transfer_list(
    ctx: typer.Context,
    year: Annotated[int | None, typer.Option("--year", help="年份（默认今年）/ the year (default this year)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON / print JSON")] = False,
) -> None:
    """列出某年的数据提供记录、出境机制与累计人数 / list a year's transfer records, their mechanisms and the year's totals."""
    with service_for(ctx, remote=True) as svc:
        answer = svc.transfer_records(year)
    if as_json:
        emit_json(answer)
        return
    for r in answer["items"]:
        _print_record(r)
    t = answer["totals"]
    console.print(
        f"{answer['year']} 年累计出境 / provided abroad in {answer['year']}: {t['subjects']:,} 人 people, "
        f"敏感 sensitive {t['sensitive_subjects']:,}",
        highlight=False,
    )
    for th in answer["thresholds"]:
        console.print(
            f"  {th['rule']}: {th['count']} ≥ {th['at_least']:,} → {th['mechanism']}  "
            f"{escape(th['label_zh'])} / {escape(th['label_en'])}",
            highlight=False,
        )


apikey_app = typer.Typer(
    help="管理 API 密钥 / manage API keys (stored hashed in $MEDGRADE_API_KEYS)", no_args_is_help=True
)
app.add_typer(apikey_app, name="apikey")


@apikey_app.command("create")
def apikey_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="密钥名 / key name")],
    role: Annotated[str, typer.Option("--role", help="reader | steward | admin")] = "reader",
) -> None:
    """新建密钥，令牌只显示一次 / create a key; the token is shown once."""
    from kg import apikeys

    path = settings_for(ctx).api_keys
    token = apikeys.create(path, name, role)
    err_console.print(
        f"已在 {path} 中新建密钥 “{name}”（{role}）；令牌只显示这一次 / key '{name}' ({role}) added to {path}; the token is shown only now:"
    )
    sys.stdout.write(token + "\n")


@apikey_app.command("list")
def apikey_list(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json", help="输出 JSON / print JSON")] = False
) -> None:
    """列出密钥（不含令牌）/ list the keys (never the tokens)."""
    from kg import apikeys

    keys = apikeys.load(settings_for(ctx).api_keys)
    if as_json:
        emit_json([{"name": k.name, "role": k.role, "created": k.created} for k in keys])
        return
    table = Table(title="API 密钥 / API keys", title_justify="left")
    for column in ("名称 / name", "角色 / role", "创建 / created"):
        table.add_column(column)
    for k in keys:
        table.add_row(k.name, k.role, k.created)
    console.print(table)


@apikey_app.command("revoke")
def apikey_revoke(ctx: typer.Context, name: Annotated[str, typer.Argument(help="密钥名 / key name")]) -> None:
    """吊销密钥 / revoke a key."""
    from kg import apikeys

    apikeys.revoke(settings_for(ctx).api_keys, name)
    console.print(f"已吊销 / revoked: {name}")


def main() -> None:
    """Entry point of the ``medgrade`` console script."""
    try:
        app()  # standalone: usage errors exit 2 with click's message
    except MedgradeError as exc:
        err_console.print(f"[bold red]错误 / error[/]: {exc.message_zh}\n  {exc.message_en}", highlight=False)
        for p in exc.problems:
            err_console.print(f"  - {p}", highlight=False, markup=False)
        raise SystemExit(2) from None
