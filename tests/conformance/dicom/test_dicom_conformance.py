"""Whole DICOM files as they come (pydicom's test files, see README.md): each attribute's
PS3.15 action and whether it is personal, against the table written from the standard in
README.md; and the round trip classify -o -> import -> validate with no R14 violation."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest
from pydicom.data import get_testdata_file

from kg.classify import Classifier
from kg.classify.dicom_file import AttributeSuggestion, classify_file
from kg.ontology import load_ontology
from tests.test_cli import medgrade

HERE = Path(__file__).parent


def expected() -> list[tuple[str, str, str | None, bool]]:
    """(file, keyword, ps315 action or None, personal) from the README's table."""
    out = []
    for line in (HERE / "README.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0].endswith(".dcm"):
            out.append((cells[0], cells[1], None if cells[2] == "—" else cells[2], cells[3] == "yes"))
    return out


@cache
def classified(name: str) -> dict[str, AttributeSuggestion]:
    results, _ = classify_file(Path(get_testdata_file(name)), Classifier(load_ontology()))  # type: ignore[arg-type]
    return {r.keyword: r for r in results}


def test_the_table_covers_forty_attributes() -> None:
    assert len(expected()) >= 40


@pytest.mark.parametrize(("name", "keyword", "action", "personal"), expected())
def test_attribute_flags(name: str, keyword: str, action: str | None, personal: bool) -> None:
    got = classified(name).get(keyword)
    assert got is not None, f"{keyword} not listed for {name}"
    assert (got.ps315.basic_profile if got.ps315 else None) == action
    assert got.personal is personal, got.suggestion.reasons
    assert got.suggestion.category is not None, keyword


@pytest.mark.parametrize("name", ["CT_small.dcm", "examples_overlay.dcm"])
def test_round_trip_has_no_r14_and_every_attribute(tmp_path: Path, name: str) -> None:
    store = f"oxigraph:{tmp_path / 'store'}"
    rows = tmp_path / "rows.xlsx"
    assert medgrade("--store", store, "init", "--json").returncode == 0
    proc = medgrade("classify", "--dicom", str(get_testdata_file(name)), "-o", str(rows), "--json")
    assert proc.returncode == 0, proc.stderr
    reported = json.loads(proc.stdout)
    assert f"({len(reported)} attributes)" in proc.stderr
    proc = medgrade("--store", store, "import", str(rows), "--json")
    assert proc.returncode == 0, proc.stderr + proc.stdout
    added = json.loads(proc.stdout)["added"]
    assert added["asset"] == len(reported) and added["device"] == 1
    proc = medgrade("--store", store, "validate", "--format", "json")
    report = json.loads(proc.stdout)
    assert not [r for r in report["results"] if r["rule"] == "R14"], report["results"][:3]
