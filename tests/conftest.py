"""Shared fixtures. Tools that live outside the package (Java, ../shared/tools) are required
under CI (``CI`` set): a missing tool there fails the run instead of skipping quietly."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from kg.ontology import Ontology, load_ontology
from kg.resources import bundled_dir

ROOT = Path(__file__).resolve().parent.parent
SHARED_TOOLS = ROOT.parent / "shared" / "tools"
IN_CI = os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


def need(condition: bool, why: str) -> None:
    """Skip the test when ``condition`` is false, except under CI, where that is a failure."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required under CI: {why}")
    pytest.skip(why)


def shared_tool(name: str) -> Path:
    """A checker from ../shared/tools (owl-check, jena)."""
    path = SHARED_TOOLS / name
    need(path.is_file(), f"{path} not found (the workplace's shared tools)")
    return path


def java() -> str:
    """The java executable (HermiT, the OWL API and Jena need it)."""
    exe = shutil.which("java")
    need(exe is not None, "java is not installed (apt-get install default-jre-headless)")
    return exe  # type: ignore[return-value]


@pytest.fixture(scope="session")
def ontology_dir() -> Path:
    return bundled_dir("ontology")


@pytest.fixture(scope="session")
def onto(ontology_dir: Path) -> Ontology:
    return load_ontology(ontology_dir)


@pytest.fixture
def ontology_copy(tmp_path: Path, ontology_dir: Path) -> Path:
    """A private copy of the ontology folder that a test may edit."""
    target = tmp_path / "ontology"
    shutil.copytree(ontology_dir, target)
    return target


def edit_module(directory: Path, filename: str, edit) -> None:  # type: ignore[no-untyped-def]
    """Rewrite one module as a tool would: parse it, apply ``edit(graph)``, serialise Turtle."""
    from rdflib import Graph

    path = directory / filename
    g = Graph()
    g.parse(path, format="turtle")
    edit(g)
    g.serialize(path, format="turtle")
