"""README.md stays true: every CLI command, ontology section, setting and route is documented."""

from __future__ import annotations

import re
from pathlib import Path

import typer.main

from api import create_app
from kg.cli import Section, app
from kg.ontology import Ontology
from kg.settings import Settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_every_command_is_documented() -> None:
    group = typer.main.get_command(app)
    commands = list(group.commands)  # type: ignore[attr-defined]
    assert commands
    for name in commands:
        assert f"`medgrade {name}" in README, f"README does not document `medgrade {name}`"


def test_every_section_is_documented() -> None:
    for section in Section:
        assert f"`{section.value}`" in README, section.value


def test_every_setting_is_documented() -> None:
    for name in Settings.model_fields:
        assert f"`MEDGRADE_{name.upper()}`" in README, name


def test_every_route_is_documented(onto: Ontology) -> None:
    schema = create_app(Settings(store="memory:"), ontology=onto).openapi()
    for path, methods in schema["paths"].items():
        for method in methods:
            assert f"`{method.upper()} {path}`" in README, f"{method.upper()} {path}"


def test_readme_opens_with_the_two_commands() -> None:
    blocks = re.findall(r"```bash\n(.*?)```", README, flags=re.S)
    assert blocks[0].strip() == "pip install . && medgrade serve --demo"
    assert blocks[1].strip() == "pip install -e '.[test]' && pytest"
    ci = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text()
    assert blocks[1].strip() in ci


def test_readme_counts_match_the_ontology(onto: Ontology) -> None:
    assert f"{len(onto.categories)} business categories" in README
    assert f"{len(onto.equipment_types)} equipment types" in README
    assert f"{len(onto.templates)} data templates" in README
    assert f"{len(onto.measures)} protection measures" in README
