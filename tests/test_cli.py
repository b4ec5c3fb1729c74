"""``medgrade ontology``: bilingual tables and JSON, read from the ontology, errors on stderr."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rdflib import Namespace

from kg import MG
from kg.ontology import Ontology
from tests.helpers import edit_module

M = Namespace(MG)


def medgrade(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kg", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "220", **(env or {})},
    )


def test_help_lists_the_commands() -> None:
    proc = medgrade("--help")
    assert proc.returncode == 0
    assert "ontology" in proc.stdout and "medgrade" in proc.stdout


def test_levels_table_shows_every_level_in_both_languages(onto: Ontology) -> None:
    proc = medgrade("ontology", "levels")
    assert proc.returncode == 0, proc.stderr
    for lv in onto.levels:
        assert lv.label_zh in proc.stdout and lv.label_en in proc.stdout
    lines = [ln for ln in proc.stdout.splitlines() if "一般数据" in ln or "数据 " in ln]
    assert lines[0].index("核心数据") >= 0  # highest level first


@pytest.mark.parametrize(
    "section",
    ["levels", "categories", "personal", "matrix", "transformations", "measures", "equipment", "templates", "summary"],
)
def test_every_section_prints_json_and_a_table(section: str) -> None:
    as_json = medgrade("ontology", section, "--json")
    assert as_json.returncode == 0, as_json.stderr
    data = json.loads(as_json.stdout)
    assert data
    table = medgrade("ontology", section)
    assert table.returncode == 0 and len(table.stdout.splitlines()) > 5


def test_levels_json_matches_the_ontology(onto: Ontology) -> None:
    data = json.loads(medgrade("ontology", "levels", "--json").stdout)
    assert [d["rank"] for d in data] == [6, 5, 4, 3, 2, 1]
    assert {d["iri"]: d["label_zh"] for d in data} == {lv.iri: lv.label_zh for lv in onto.levels}
    core = data[0]
    assert core["may_leave_institution"] is False and len(core["measures"]) == len(onto.level(6).measures)


def test_categories_json_has_floors_and_paths(onto: Ontology) -> None:
    data = json.loads(medgrade("ontology", "categories", "--json").stdout)
    assert len(data) == len(onto.categories)
    patient = next(d for d in data if d["label_zh"] == "患者信息")
    assert patient["floor"] == {
        "iri": f"{MG}GeneralData4",
        "rank": 4,
        "label_zh": "一般数据4级",
        "label_en": "General-4",
    }


def test_cli_follows_an_edited_ontology(ontology_copy: Path) -> None:
    edit_module(ontology_copy, "categories.ttl", lambda g: g.set((M.MaintenanceData, M.floorLevel, M.GeneralData4)))
    by_option = json.loads(medgrade("ontology", "categories", "--json", "--ontology-dir", str(ontology_copy)).stdout)
    by_env = json.loads(
        medgrade("ontology", "categories", "--json", env={"MEDGRADE_ONTOLOGY_DIR": str(ontology_copy)}).stdout
    )
    for data in (by_option, by_env):
        maintenance = next(d for d in data if d["label_zh"] == "运维数据")
        assert maintenance["floor"]["rank"] == 4


def test_broken_ontology_is_a_bilingual_error(ontology_copy: Path) -> None:
    edit_module(ontology_copy, "levels.ttl", lambda g: g.remove((M.GeneralData2, M.rank, None)))
    proc = medgrade("ontology", "levels", "--ontology-dir", str(ontology_copy))
    assert proc.returncode == 2
    assert "错误 / error" in proc.stderr and "mg:GeneralData2" in proc.stderr
    assert "problem" in proc.stderr and "问题" in proc.stderr
    assert proc.stdout == ""


def test_unknown_section_is_a_usage_error() -> None:
    proc = medgrade("ontology", "nonsense")
    assert proc.returncode == 2
    assert "nonsense" in proc.stderr


def test_version() -> None:
    proc = medgrade("--version")
    assert proc.returncode == 0 and proc.stdout.startswith("medgrade ")
