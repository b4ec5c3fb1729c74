"""The lineage commands end to end: propagate, level, lineage, and importing OpenLineage events."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kg.ontology import Ontology
from kg.service import Service
from kg.settings import Settings
from kg.store import open_store
from tests.test_cli_store import SMALL, medgrade

OPENLINEAGE = Path(__file__).parent / "data" / "openlineage" / "dose_registry.jsonl"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    where = tmp_path_factory.mktemp("lineage-cli")
    descriptor = f"oxigraph:{where / 'db'}"
    proc = medgrade("--store", descriptor, "import", *map(str, sorted(SMALL.glob("*.csv"))), cwd=where)
    assert proc.returncode == 0, proc.stderr
    return descriptor


def run(store: str, *args: str) -> str:
    proc = medgrade("--store", store, *args, cwd=Path(store.split(":", 1)[1]).parent)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_propagate_after_an_import_changes_nothing(store: str) -> None:
    report = json.loads(run(store, "propagate", "--json"))
    assert report["datasets"] == 6 and report["derivations"] == 4 and report["cycles"] == 0
    assert (report["added"], report["removed"], report["changed"]) == (0, 0, 0)  # the import propagated
    assert "衍生关系 / derivations 4" in run(store, "propagate")


def test_level_json_is_the_service_answer(store: str, onto: Ontology) -> None:
    answer = json.loads(run(store, "level", "dose-package", "--json"))
    svc = Service(Settings(store=store), store=open_store(store), ontology=onto)
    try:
        assert answer == svc.level("dose-package")
    finally:
        svc.close()
    assert answer["effective"]["label_zh"] == "一般数据3级" and answer["origin"].endswith("/asset/dose-deid")
    assert [h["activity_label_zh"] for h in answer["witness"]] == ["关联融合"]


def test_level_text_shows_the_witness_path(store: str) -> None:
    text = run(store, "level", "dose-deid")
    assert "继承级别 / inherited: 一般数据3级 / General-3" in text
    assert "级别来源 / origin: dose-extract" in text
    assert "dose-extract → dose-deid  [去标识化 / de-identify，已审批 / approved]" in text


def test_lineage_tree_and_json(store: str) -> None:
    tree = run(store, "lineage", "dose-package", "--direction", "up")
    lines = tree.splitlines()
    assert lines[0].startswith("上游 / upstream: dose-package")
    assert any("去标识化 / de-identify，已审批 / approved" in line and "dose-extract" in line for line in lines)
    assert "下游 / downstream" not in tree
    graph = json.loads(run(store, "lineage", "ct-01-dose", "--direction", "down", "--depth", "2", "--json"))
    assert [(n["id"], n["distance"]) for n in graph["nodes"]] == [
        ("ct-01-dose", 0),
        ("dose-extract", 1),
        ("dose-deid", 2),
    ]
    assert [(e["source"].rsplit("/", 1)[1], e["target"].rsplit("/", 1)[1], e["approved"]) for e in graph["edges"]] == [
        ("ct-01-dose", "dose-extract", False),
        ("dose-extract", "dose-deid", True),
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("level", "no-such-asset"), "no data asset 'no-such-asset' in the inventory"),
        (("lineage", "dose-package", "--depth", "500"), "depth must be between 0 and 100"),
        (("lineage", "dose-package", "--direction", "sideways"), "direction must be upstream, downstream or both"),
    ],
)
def test_bad_requests_are_clear_errors(store: str, args: tuple[str, ...], message: str) -> None:
    proc = medgrade("--store", store, *args, cwd=Path(store.split(":", 1)[1]).parent)
    assert proc.returncode == 2 and message in proc.stderr and "错误" in proc.stderr


def test_openlineage_events_import_through_the_cli(tmp_path: Path) -> None:
    descriptor = f"oxigraph:{tmp_path / 'db'}"
    first = medgrade(
        "--store",
        descriptor,
        "import",
        *map(str, sorted(SMALL.glob("*.csv"))),
        str(OPENLINEAGE),
        "--json",
        cwd=tmp_path,
    )
    assert first.returncode == 0, first.stderr
    again = medgrade("--store", descriptor, "import", str(OPENLINEAGE), "--json", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert not any(report["added"].values()) and not any(report["changed"].values())
