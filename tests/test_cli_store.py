"""The store commands end to end: init, import, export, status, --store and MEDGRADE_STORE."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from rdflib import Namespace

from kg import MG
from tests.helpers import edit_module

SMALL = Path(__file__).parent / "data" / "small"
M = Namespace(MG)


def medgrade(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kg", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
    )


def test_default_store_is_embedded_and_persistent(tmp_path: Path) -> None:
    files = [str(p) for p in sorted(SMALL.glob("*.csv"))]
    first = medgrade("import", *files, "--json", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["added"] == {"asset": 6, "device": 2, "destination": 1}
    assert (tmp_path / "medgrade-data").is_dir()
    status = json.loads(medgrade("status", "--json", cwd=tmp_path).stdout)
    assert status["store"] == "oxigraph:medgrade-data" and status["assets"] == 6 and status["initialized"]


def test_init_is_idempotent_and_an_ontology_edit_keeps_the_data(tmp_path: Path, ontology_copy: Path) -> None:
    env = {"MEDGRADE_ONTOLOGY_DIR": str(ontology_copy), "MEDGRADE_STORE": f"oxigraph:{tmp_path / 'db'}"}
    first = json.loads(medgrade("init", "--json", cwd=tmp_path, env=env).stdout)
    modules = (ontology_copy / "catalog-v001.xml").read_text(encoding="utf-8").count("<uri ")
    assert set(first["ontology"].values()) == {"loaded"} and len(first["ontology"]) == modules >= 9
    again = json.loads(medgrade("init", "--json", cwd=tmp_path, env=env).stdout)
    assert set(again["ontology"].values()) == {"unchanged"}
    medgrade("import", *map(str, sorted(SMALL.glob("*.csv"))), cwd=tmp_path, env=env)
    before = json.loads(medgrade("status", "--json", cwd=tmp_path, env=env).stdout)["graphs"]

    edit_module(ontology_copy, "categories.ttl", lambda g: g.set((M.MaintenanceData, M.floorLevel, M.GeneralData3)))
    edited = json.loads(medgrade("init", "--json", cwd=tmp_path, env=env).stdout)
    assert edited["ontology"]["https://w3id.org/medgrade/def/categories"] == "loaded"
    assert {v for k, v in edited["ontology"].items() if not k.endswith("/categories")} == {"unchanged"}
    after = json.loads(medgrade("status", "--json", cwd=tmp_path, env=env).stdout)["graphs"]
    inventory = "https://w3id.org/medgrade/graph/inventory"
    assert after[inventory] == before[inventory]


def test_store_option_and_bad_import_exit_status(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("资产标识,资产名称,数据分类\nx1,名称,不存在\n", encoding="utf-8")
    proc = medgrade("--store", "memory:", "import", str(bad), cwd=tmp_path)
    assert proc.returncode == 2
    assert "bad.csv, row 2, column 数据分类/category: unknown data category '不存在'" in proc.stderr
    assert "导入被拒绝" in proc.stderr and "nothing was written" in proc.stderr
    assert not (tmp_path / "medgrade-data").exists()


def test_export_writes_files(tmp_path: Path) -> None:
    store = f"oxigraph:{tmp_path / 'db'}"
    medgrade("--store", store, "import", *map(str, sorted(SMALL.glob("*.csv"))), cwd=tmp_path)
    for fmt in ("xlsx", "csv", "ttl", "jsonld"):
        proc = medgrade("--store", store, "export", "--format", fmt, "-o", str(tmp_path / f"out.{fmt}"), cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert (tmp_path / f"out.{fmt}").stat().st_size > 500
    bad = medgrade("--store", store, "export", "--format", "pdf", "-o", "x.pdf", cwd=tmp_path)
    assert bad.returncode == 2 and "pdf" in bad.stderr


def test_template_command(tmp_path: Path) -> None:
    proc = medgrade("template", "-o", str(tmp_path / "t.xlsx"), cwd=tmp_path)
    assert proc.returncode == 0 and (tmp_path / "t.xlsx").is_file()


def test_a_locked_store_is_a_clear_error(tmp_path: Path) -> None:
    from kg.store import open_store

    held = open_store(f"oxigraph:{tmp_path / 'db'}")
    try:
        proc = medgrade("--store", f"oxigraph:{tmp_path / 'db'}", "status", cwd=tmp_path)
        assert proc.returncode == 2
        assert "cannot open the store" in proc.stderr and "无法打开" in proc.stderr
    finally:
        held.close()
    shutil.rmtree(tmp_path / "db")
