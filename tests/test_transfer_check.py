"""The transfer check fails closed (issue #15, "a level is never silently too low"): an asset
whose own grading breaks R1–R6, whose level came down an unapproved level-reducing activity
(R8), or that has no category or effective level is never allowed to leave, even where R12
(clearance, measures) would let it; ``fix_first`` says what to fix. Through the service, the
REST API, the CLI and the transfer page; a check writes nothing, and an error while checking is
an error, never "allowed"."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api import create_app
from kg.namespaces import MG
from kg.ontology import Ontology
from kg.service import Service
from kg.settings import Settings
from kg.validation import Validator
from tests.helpers import BACKENDS, backend_settings
from tests.test_cli_store import medgrade

SMALL = Path(__file__).resolve().parent / "data" / "small"
PKG = "pkg-nhic-dose-ct-2026-10"  # the demo's CT dose package to the information centre: allowed
VENT_PKG = "pkg-mfr-vent-alarm-2026q3"  # the demo's ventilator alarm package (General-4)
VENT_DEID = "vent-alarm-deid-2026q3"  # made by the demo's unapproved de-identification (its R8)
VENT_ACTIVITY = f"asset/{VENT_DEID}/activity"
LOW = "low-dose"  # patient dose records assessed at General-1, below the category's floor
GOOD = "ct-01-tube"  # tube telemetry at General-2, as its category requires
UNCLASSIFIED = "raw-feed"  # arrived as RDF with neither category nor level
LAB = "research-lab"  # cleared up to General-4 with every measure General-4 requires
SERVICE_CENTRE = "mfr-svc"  # cleared up to General-1 only
FIX_KEYS = {"rule", "severity", "focus", "focus_id", "message_zh", "message_en"}


def write_inventory(where: Path, onto: Ontology, low_level: str = "1") -> list[Path]:
    """A small inventory: an asset graded below its category's floor, a well-graded one, an
    unclassified one; a destination that R12 lets both graded ones go to, and one it does not."""
    where.mkdir(parents=True, exist_ok=True)
    g4 = onto.level("一般数据4级")
    measures = ";".join(m.label_zh for m in onto.measures_for(g4))
    (where / "assets.csv").write_text(
        "资产标识,资产名称,数据分类,数据级别,所属设备,设备类型,数据元素,来源资产,加工方式,个人信息,数据主体数量,责任部门\n"
        f"{LOW},1号CT 剂量记录,患者剂量记录,{low_level},ct-01,,姓名;住院号;CTDIvol;DLP,,,是,12000,影像科\n"
        f"{GOOD},1号CT 球管日志,传感器遥测,一般数据2级,ct-01,,球管热容量;曝光次数,,,否,,医学工程处\n",
        encoding="utf-8",
    )
    (where / "destinations.csv").write_text(
        f"去向标识,去向名称,准入级别,院外,境外,等保级别,具备措施\n{LAB},科研合作平台,{g4.label_zh},是,否,3,{measures}\n"
        f"{SERVICE_CENTRE},厂商售后服务中心,一般数据1级,是,否,,\n",
        encoding="utf-8",
    )
    (where / "devices.csv").write_text((SMALL / "devices.csv").read_text(encoding="utf-8"), encoding="utf-8")
    (where / "raw.ttl").write_text(
        f"<https://w3id.org/medgrade/id/asset/{UNCLASSIFIED}> a <https://w3id.org/medgrade/def#DataAsset> ;\n"
        '    <http://www.w3.org/2000/01/rdf-schema#label> "未分类的设备数据流"@zh .\n',
        encoding="utf-8",
    )
    return [where / n for n in ("devices.csv", "destinations.csv", "assets.csv", "raw.ttl")]


@pytest.fixture(scope="module", params=BACKENDS)
def demo(request, onto) -> Iterator[tuple[TestClient, Service]]:  # type: ignore[no-untyped-def]
    service = Service(Settings(**backend_settings(request)), ontology=onto)
    service.initialize(demo=True)
    with TestClient(create_app(service=service)) as client:
        yield client, service
    service.close()


@pytest.fixture(scope="module")
def small(tmp_path_factory, onto) -> Iterator[tuple[TestClient, Service]]:  # type: ignore[no-untyped-def]
    service = Service(Settings(store="memory:"), ontology=onto)
    service.initialize()
    service.import_files(write_inventory(tmp_path_factory.mktemp("transfer-check"), onto))
    with TestClient(create_app(service=service)) as client:
        yield client, service
    service.close()


def _rules(answer: dict) -> set[tuple[str, str]]:  # type: ignore[type-arg]
    return {(f["rule"], f["focus_id"]) for f in answer["fix_first"]}


def _quads(service: Service) -> int:
    return service.store.count()


# --- 1. assessed below what the rules require (R3/R4) -----------------------------------------
def test_an_asset_graded_below_its_category_floor_may_not_leave(small, onto) -> None:
    _, service = small
    floor = onto.categories.find("患者剂量记录").floor
    assert floor is not None and floor.rank > 1  # the CSV's level 1 is below it
    answer = service.check_transfer(LOW, LAB)
    # R12 alone would let it go (the destination is cleared for General-4 with every measure) ...
    assert answer["problems"] == [] and answer["missing_measures"] == []
    # ... but its assessed level is below what R3 (and R4: personal information) require
    assert answer["allowed"] is False
    assert ("R3", LOW) in _rules(answer)
    assert {r for r, _ in _rules(answer)} <= {"R1", "R2", "R3", "R4", "R5", "R6"}
    assert all(set(f) == FIX_KEYS and f["severity"] == "Violation" for f in answer["fix_first"])
    r3 = next(f for f in answer["fix_first"] if f["rule"] == "R3")
    assert r3["focus"] == str(service.ids.asset(LOW)) and floor.label_en in r3["message_en"]
    assert floor.label_zh in r3["message_zh"]


def test_fix_first_is_ordered_and_has_no_duplicates(small) -> None:
    _, service = small
    items = service.check_transfer(LOW, LAB)["fix_first"]
    keys = [(int(f["rule"][1:]), f["focus_id"], f["message_en"]) for f in items]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert service.check_transfer(LOW, LAB)["fix_first"] == items  # stable from one check to the next


def test_once_graded_correctly_the_same_asset_may_leave(tmp_path: Path, onto) -> None:
    service = Service(Settings(store="memory:"), ontology=onto)
    try:
        service.initialize()
        service.import_files(write_inventory(tmp_path, onto, low_level="一般数据4级"))
        answer = service.check_transfer(LOW, LAB)
        assert answer["fix_first"] == [] and answer["allowed"] is True
    finally:
        service.close()


# --- no category, no level ---------------------------------------------------------------------
def test_an_unclassified_asset_without_a_level_may_not_leave(small) -> None:
    _, service = small
    answer = service.check_transfer(UNCLASSIFIED, LAB)
    assert answer["allowed"] is False and answer["effective"] is None
    assert [(f["rule"], f["focus_id"]) for f in answer["fix_first"]] == [("R1", UNCLASSIFIED), ("R7", UNCLASSIFIED)]
    no_category, no_level = answer["fix_first"]
    assert "category" in no_category["message_en"] and "分类" in no_category["message_zh"]
    assert "effective level" in no_level["message_en"] and "生效级别" in no_level["message_zh"]
    # the R1 shape reports the missing category too: the defect is listed once all the same
    stored = {(r.rule, r.path) for r in service.validator().run({service.ids.asset(UNCLASSIFIED)})}
    assert ("R1", str(MG.hasCategory)) in stored


def test_an_unclassified_asset_that_inherits_a_level_still_may_not_leave(tmp_path: Path, onto) -> None:
    """R1 reports a dataset without a category as a Warning (待分类, not a Violation), and its
    effective level follows its sources (R7); the transfer check still refuses it until a steward
    classifies it, then lets it go."""
    service = Service(Settings(store="memory:"), ontology=onto)
    try:
        service.initialize()
        files = write_inventory(tmp_path, onto, low_level="一般数据4级")
        derived = tmp_path / "derived.ttl"
        derived.write_text(
            f"<{service.ids.asset('tube-extract')}> a <{MG}DataAsset> ;\n"
            f"    <http://www.w3.org/ns/prov#wasDerivedFrom> <{service.ids.asset(GOOD)}> .\n",
            encoding="utf-8",
        )
        service.import_files([*files, derived])
        level = service.level("tube-extract")
        assert level["assessed"] is None and level["set_by"] == "inherited"
        assert level["effective"] == service.level(GOOD)["effective"]
        assert level["origin"] == str(service.ids.asset(GOOD))
        results = [r for r in service.validate().results if r.focus_id == "tube-extract"]
        assert [(r.rule, r.severity, r.path) for r in results] == [("R1", "Warning", str(MG.hasCategory))]
        answer = service.check_transfer("tube-extract", LAB)  # R12 alone would let General-2 go there
        assert answer["problems"] == [] and answer["allowed"] is False
        assert [(f["rule"], f["focus_id"], f["severity"]) for f in answer["fix_first"]] == [
            ("R1", "tube-extract", "Violation")
        ]
        service.assess("tube-extract", actor="王敏", justification="归类", category="传感器遥测", level="一般数据2级")
        assert service.check_transfer("tube-extract", LAB)["allowed"] is True
    finally:
        service.close()


# --- 2. an unapproved level reduction on the witness path (R8) ---------------------------------
def test_an_unapproved_reduction_on_the_witness_path_blocks_the_transfer(demo) -> None:
    _, service = demo
    activity = str(service.ids.activity(VENT_DEID))
    assert activity in {hop["activity"] for hop in service.level(VENT_PKG)["witness"]}
    answer = service.check_transfer(VENT_PKG, "research")  # R12 lets General-4 go there
    assert answer["problems"] == [] and answer["effective"]["rank"] <= answer["clearance"]["rank"]
    assert answer["allowed"] is False
    assert answer["fix_first"] == [
        {
            "rule": "R8",
            "severity": "Violation",
            "focus": activity,
            "focus_id": VENT_ACTIVITY,
            "message_zh": answer["fix_first"][0]["message_zh"],
            "message_en": answer["fix_first"][0]["message_en"],
        }
    ]
    assert "approv" in answer["fix_first"][0]["message_en"] and "审批" in answer["fix_first"][0]["message_zh"]
    # the product made by that activity is blocked for the same reason
    assert _rules(service.check_transfer(VENT_DEID, "research")) == {("R8", VENT_ACTIVITY)}


# --- 3. a well-graded asset to a suitable destination ------------------------------------------
def test_a_well_graded_asset_is_still_allowed(demo, small) -> None:
    _, service = demo
    # the package's witness path runs through a plain conversion (no level reduction), so the
    # demo's R8 violation is not on it and the answer is unchanged
    answer = service.check_transfer(PKG, "nhic")
    assert answer["allowed"] is True and answer["fix_first"] == [] and answer["problems"] == []
    _, other = small
    good = other.check_transfer(GOOD, LAB)
    assert good["allowed"] is True and good["fix_first"] == []


def test_r12_and_fix_first_are_reported_side_by_side(demo, small) -> None:
    _, service = demo
    both = service.check_transfer(VENT_PKG, "mfr-vent-svc")  # cleared up to General-2 only
    assert both["allowed"] is False and both["fix_first"] and both["problems"]
    assert {p["rule"] for p in both["problems"]} == {"R12"}
    assert "R12" not in {f["rule"] for f in both["fix_first"]}  # R12 stays in problems
    _, other = small
    r12_only = other.check_transfer(GOOD, SERVICE_CENTRE)
    assert r12_only["allowed"] is False and r12_only["problems"] and r12_only["fix_first"] == []


# --- 4. through the API, the CLI and the page ---------------------------------------------------
def test_the_api_lists_what_to_fix_first(demo) -> None:
    client, service = demo
    r = client.post("/api/transfers/check", json={"asset": VENT_PKG, "destination": "research"})
    assert r.status_code == 200
    body = r.json()
    assert body["allowed"] is False and _rules(body) == {("R8", VENT_ACTIVITY)}
    assert body == service.check_transfer(VENT_PKG, "research")  # the CLI's --json answer
    ok = client.post("/api/transfers/check", json={"asset": PKG, "destination": "nhic"}).json()
    assert ok["allowed"] is True and ok["fix_first"] == []


def test_the_api_documents_fix_first(demo) -> None:
    client, _ = demo
    schema = client.get("/openapi.json").json()
    op = schema["paths"]["/api/transfers/check"]["post"]
    assert "fix_first" in op["description"] and "须先修正" in op["description"]
    ref = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    answer = schema["components"]["schemas"][ref]
    assert "fix_first" in answer["required"] and "fix_first" in answer["properties"]


def test_the_api_on_a_small_inventory(small) -> None:
    client, _ = small
    body = client.post("/api/transfers/check", json={"asset": LOW, "destination": LAB}).json()
    assert body["allowed"] is False and ("R3", LOW) in _rules(body)


def test_the_cli_lists_what_to_fix_first(tmp_path: Path, onto) -> None:
    files = [str(p) for p in write_inventory(tmp_path / "in", onto)]
    store = f"oxigraph:{tmp_path / 'db'}"
    proc = medgrade("--store", store, "import", *files, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    proc = medgrade("--store", store, "check-transfer", LOW, "--to", LAB, "--json", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    answer = json.loads(proc.stdout)
    assert answer["allowed"] is False and ("R3", LOW) in _rules(answer)
    proc = medgrade("--store", store, "check-transfer", LOW, "--to", LAB, cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    text = proc.stdout
    assert "不允许 / not allowed" in text and "须先修正 / fix first:" in text
    assert f"[R3] {LOW}" in text
    r3 = next(f for f in answer["fix_first"] if f["rule"] == "R3")
    assert r3["message_zh"] in text and r3["message_en"] in text
    proc = medgrade("--store", store, "check-transfer", GOOD, "--to", LAB, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "允许 / allowed" in proc.stdout and "fix first" not in proc.stdout


def test_the_page_lists_what_to_fix_first_with_links(demo, small) -> None:
    client, _ = demo
    html = client.get("/ui/transfer", params={"asset": VENT_PKG, "destination": "research", "lang": "en"}).text
    assert 'data-testid="fix-first"' in html and "Fix first" in html
    assert 'data-rule="R8"' in html and f'data-focus="{VENT_ACTIVITY}"' in html
    assert f'href="/ui/assets/{VENT_DEID}"' in html  # the asset the unapproved activity made
    assert 'data-allowed="false"' in html
    zh = client.get("/ui/transfer", params={"asset": VENT_PKG, "destination": "research", "lang": "zh"}).text
    assert "须先修正" in zh
    ok = client.get("/ui/transfer", params={"asset": PKG, "destination": "nhic"}).text
    assert 'data-allowed="true"' in ok and 'data-testid="fix-first"' not in ok
    small_client, _ = small
    low = small_client.get("/ui/transfer", params={"asset": LOW, "destination": LAB}).text
    assert 'data-rule="R3"' in low and f'href="/ui/assets/{LOW}"' in low


# --- 5. nothing written; errors fail closed -----------------------------------------------------
def test_a_check_writes_nothing(demo, small) -> None:
    for client, service, asset, dest, allowed in (
        (*demo, VENT_PKG, "research", False),  # blocked by the validation run on the store
        (*demo, PKG, "nhic", True),
        (*small, LOW, LAB, False),
        (*small, UNCLASSIFIED, LAB, False),
    ):
        before = _quads(service)
        report = service.validator().stored().to_dict()
        answer = service.check_transfer(asset, dest)
        assert answer["allowed"] is allowed and (answer["fix_first"] == []) is allowed
        r = client.post("/api/transfers/check", json={"asset": asset, "destination": dest})
        assert r.status_code == 200 and r.json()["allowed"] is allowed
        assert _quads(service) == before
        assert service.validator().stored().to_dict() == report  # the stored report is untouched


def test_a_failing_validation_is_an_error_never_allowed(small, monkeypatch: pytest.MonkeyPatch) -> None:
    _, service = small
    run = Validator.run

    def broken(self, focus=None, view=None):  # type: ignore[no-untyped-def]
        if view is None:  # the run on the store (the R12 what-if runs on a view of its own)
            raise RuntimeError("the validator fell over")
        return run(self, focus, view)

    monkeypatch.setattr(Validator, "run", broken)
    with pytest.raises(RuntimeError):
        service.check_transfer(GOOD, LAB)
    with TestClient(create_app(service=service), raise_server_exceptions=False) as client:
        r = client.post("/api/transfers/check", json={"asset": GOOD, "destination": LAB})
        assert r.status_code == 500 and "allowed" not in r.text
        page = client.get("/ui/transfer", params={"asset": GOOD, "destination": LAB})
        assert 'data-allowed="true"' not in page.text


def test_missing_shapes_are_an_error_never_allowed(small, monkeypatch: pytest.MonkeyPatch) -> None:
    client, service = small
    validator = service.validator()
    monkeypatch.setattr(validator, "rule_of", {k: v for k, v in validator.rule_of.items() if v != "R3"})
    r = client.post("/api/transfers/check", json={"asset": GOOD, "destination": LAB})
    assert r.status_code == 500 and "R3" in r.json()["detail"]
