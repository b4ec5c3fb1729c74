"""The ``medgrade`` command line (typer + rich). Every command prints bilingual text; commands
that print data take ``--json``. Errors are printed in both languages and exit with status 2."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from kg import __version__
from kg.errors import MedgradeError

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


def _version(value: bool) -> None:
    if value:
        console.print(f"medgrade {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="版本 / show the version")
    ] = False,
) -> None:
    """medgrade：医疗装备使用数据分类分级 / classify and grade medical-equipment usage data."""


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
    """显示本体中的级别、分类、影响矩阵、加工方式、防护措施和装备 / show what the ontology defines."""
    from kg.ontology import load_ontology
    from kg.ontology_report import SECTIONS

    onto = load_ontology(ontology_dir)
    data, render = SECTIONS[section.value]
    if as_json:
        emit_json(data(onto))
    else:
        render(onto, console)


def main() -> None:
    """Entry point of the ``medgrade`` console script."""
    try:
        app()  # standalone: usage errors exit 2 with click's message
    except MedgradeError as exc:
        err_console.print(f"[bold red]错误 / error[/]: {exc.message_zh}\n  {exc.message_en}", highlight=False)
        for p in exc.problems:
            err_console.print(f"  - {p}", highlight=False, markup=False)
        raise SystemExit(2) from None
