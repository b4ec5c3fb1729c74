"""The command line while ``medgrade serve`` holds the embedded store (issue #21): the server
advertises itself beside the store (mode 0600); the commands that go through it answer as they
do without it; the others, and backup/restore/init/serve, are refused with a message that names
the server — never the store's lock error. A stale advertisement is ignored."""

from __future__ import annotations

import contextlib
import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kg.advert import SUFFIX, find, path_of
from tests.servers import free_port, wait_until_up
from tests.test_cli_store import SMALL, medgrade

HEADER = (SMALL / "assets.csv").read_text(encoding="utf-8").splitlines()[0]


class Served:
    def __init__(self, root: Path, env: dict[str, str], base: str, proc: subprocess.Popen[bytes]) -> None:
        self.root, self.env, self.base, self.proc = root, env, base, proc

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return medgrade(*args, cwd=self.root, env=self.env)

    def api(self, path: str) -> Any:
        r = httpx.get(f"{self.base}{path}", timeout=60)
        assert r.status_code == 200, r.text
        return r.json()


@contextlib.contextmanager
def serving(root: Path, env: dict[str, str]) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``medgrade serve`` in a subprocess on a free port (its base URL and process), stopped with SIGTERM."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "kg", "serve", "--port", str(port)],
        env={**os.environ, **env},
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base}/health", proc, 180)
        yield base, proc
    finally:
        proc.terminate()
        proc.wait(30)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("served")
    env = {
        "MEDGRADE_STORE": f"oxigraph:{root / 'db'}",
        "MEDGRADE_API_KEYS": str(root / "keys.toml"),
        "MEDGRADE_USER": "王敏",
    }
    loaded = medgrade("import", *[str(p) for p in sorted(SMALL.glob("*.csv"))], "--json", cwd=root, env=env)
    assert loaded.returncode == 0, loaded.stderr
    with serving(root, env) as (base, proc):
        yield Served(root, env, base, proc)


def test_the_server_advertises_itself_beside_the_store_for_its_owner_only(served: Served) -> None:
    path = path_of(served.env["MEDGRADE_STORE"])
    assert path == served.root / f"db{SUFFIX}" and path.is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    ad = find(served.env["MEDGRADE_STORE"])
    assert ad is not None and ad.pid == served.proc.pid and ad.url == served.base and len(ad.token) >= 32


def test_reads_go_through_the_server_with_the_same_answers(served: Served) -> None:
    level = served.cli("level", "dose-package", "--json")
    assert level.returncode == 0, level.stderr
    assert json.loads(level.stdout) == served.api("/api/assets/dose-package/level")
    lineage = served.cli("lineage", "dose-package", "--direction", "up", "--json")
    assert lineage.returncode == 0, lineage.stderr
    assert json.loads(lineage.stdout) == served.api("/api/assets/dose-package/lineage?direction=upstream&depth=5")
    status = served.cli("status", "--json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["assets"] == served.api("/api/status")["assets"] >= 6
    counted = served.cli("query", "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", "--format", "csv")
    assert counted.returncode == 0, counted.stderr
    assert counted.stdout.splitlines()[0] == "n" and int(counted.stdout.splitlines()[1]) > 0
    queue = served.cli("unclassified", "--json")
    assert queue.returncode == 0, queue.stderr
    assert json.loads(queue.stdout) == served.api("/api/unclassified")
    missing = served.cli("level", "no-such-asset")
    assert missing.returncode == 2 and "no-such-asset" in missing.stderr and "LOCK" not in missing.stderr


def test_transfer_check_exit_code_follows_the_servers_answer(served: Served) -> None:
    r = httpx.post(f"{served.base}/api/transfers/check", json={"asset": "dose-package", "destination": "nhic"})
    checked = served.cli("check-transfer", "dose-package", "--to", "nhic", "--json")
    assert json.loads(checked.stdout) == r.json()
    assert checked.returncode == (0 if r.json()["allowed"] else 1)


def test_an_import_while_serving_goes_through_the_server_and_a_bad_one_changes_nothing(served: Served) -> None:
    extra = served.root / "extra.csv"
    extra.write_text(f"{HEADER}\nus-09-log,超声 9 号日志,报警记录,一般数据2级,,,,,,否,,医学工程处,,,,,\n", "utf-8")
    done = served.cli("import", str(extra), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["added"] == {"asset": 1}
    assert served.api("/api/assets/us-09-log")["id"] == "us-09-log"  # the server sees it at once
    before = served.api("/api/status")["graphs"]
    broken = served.root / "broken.csv"
    broken.write_text(f"{HEADER}\nus-10-log,超声 10 号日志,报警记录,一般数据9级,,,,,,否,,医学工程处,,,,,\n", "utf-8")
    refused = served.cli("import", str(broken))
    assert refused.returncode == 2
    assert "broken.csv" in refused.stderr and "一般数据9级" in refused.stderr
    assert served.api("/api/status")["graphs"] == before


def test_record_keeping_goes_through_the_server_in_the_users_name(served: Served) -> None:
    set_ = served.cli(
        "institution", "set", "--name", "测试医院", "--not-ciio", "-j", "经由服务 / via the server", "--json"
    )
    assert set_.returncode == 0, set_.stderr
    assert json.loads(set_.stdout)["institution"]["name"] == "测试医院"
    shown = served.cli("institution", "show", "--json")
    assert json.loads(shown.stdout) == served.api("/api/institution")["institution"]
    assert served.api("/api/institution")["institution"]["ciio"] is False
    listed = served.cli("transfer", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == served.api("/api/transfers")
    actors = served.cli(
        "query", "SELECT DISTINCT ?a WHERE { GRAPH ?g { ?r <https://w3id.org/medgrade/def#actor> ?a } }"
    )
    assert "王敏 (medgrade-cli)" in actors.stdout


def test_propagate_goes_through_the_server(served: Served) -> None:
    done = served.cli("propagate", "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["datasets"] >= 7 and summary["changed"] == 0 and summary["derivations"] >= 4


def test_validate_goes_through_the_server_with_its_exit_code_and_names(served: Served) -> None:
    as_json = served.cli("validate", "--format", "json", "--as-of", "2026-06-01")
    report = json.loads(as_json.stdout)
    assert as_json.returncode == (0 if report["conforms"] else 1), as_json.stderr
    assert report == {k: v for k, v in served.api("/api/validation").items() if k != "names"}
    text = served.cli("validate")
    assert text.returncode == as_json.returncode
    for result in report["results"]:
        assert result["message_zh"] in text.stdout
    names = {r["focus_id"].split("/")[1] for r in report["results"] if r["focus_id"].startswith("asset/")}
    for asset in names:  # the text report names each asset it lists, as it does without a server
        assert served.api(f"/api/assets/{asset}")["name"] in text.stdout
    ttl = served.cli("validate", "--format", "ttl")
    assert "sh:ValidationReport" in ttl.stdout


def test_review_goes_through_the_server_all_or_nothing(served: Served) -> None:
    audit = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH <https://w3id.org/medgrade/graph/audit> { ?s ?p ?o } }"
    before = served.cli("query", audit, "--format", "csv").stdout
    refused = served.cli("review", "dose-package", "no-such-asset", "-j", "年度复核 / yearly review")
    assert refused.returncode == 2 and "no-such-asset" in refused.stderr
    assert served.cli("query", audit, "--format", "csv").stdout == before
    done = served.cli("review", "dose-package", "ct-01-dose", "-j", "年度复核 / yearly review", "--json")
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert sorted(r["id"] for r in answer["reviewed"]) == ["ct-01-dose", "dose-package"]
    level = served.api("/api/assets/dose-package/level")
    assert level["review"]["last_reviewed"] == answer["reviewed_on"]
    due = served.cli("review", "--overdue", "--as-of", "2030-01-01", "--json")
    assert due.returncode == 0, due.stderr
    assert json.loads(due.stdout) == served.api("/api/reviews/overdue?as_of=2030-01-01")
    assert "dose-package" in {i["id"] for i in json.loads(due.stdout)["items"]}


def test_export_goes_through_the_server(served: Served) -> None:
    xlsx = served.cli("export", "-f", "xlsx", "-o", "list.xlsx")
    assert xlsx.returncode == 0, xlsx.stderr
    r = httpx.get(f"{served.base}/api/export?format=xlsx", timeout=60)
    assert (served.root / "list.xlsx").read_bytes()[:2] == b"PK" and len(r.content) > 1000
    csv = served.cli("export", "-f", "csv", "-o", "list.csv")
    assert csv.returncode == 0, csv.stderr
    rows = (served.root / "list.csv").read_text("utf-8-sig").splitlines()
    assert len(rows) == 1 + served.api("/api/status")["assets"]
    assert "dose-package" in (served.root / "list.csv").read_text("utf-8-sig")
    assert (served.root / "list-destinations.csv").is_file()


@pytest.mark.parametrize(
    "args",
    [
        ("init", "--demo"),
        ("restore", "x.nq", "--yes"),
        ("backup", "x.nq"),
        ("serve", "--port", "1"),
    ],
)
def test_commands_that_need_the_store_itself_are_refused_naming_the_server(served: Served, args: tuple[str]) -> None:
    refused = served.cli(*args)
    assert refused.returncode == 2, (refused.stdout, refused.stderr)
    text = " ".join(refused.stderr.split())
    assert f"process {served.proc.pid}" in text and served.base in text and "medgrade serve" in text
    assert "LOCK" not in text and "请先停止服务" in text
    if args[0] == "backup":
        assert "backup --server" in text
    assert not (served.root / "x.nq").exists()


def test_a_stale_advertisement_is_ignored(tmp_path: Path) -> None:
    env = {"MEDGRADE_STORE": f"oxigraph:{tmp_path / 'db'}"}
    assert medgrade("import", str(SMALL / "destinations.csv"), cwd=tmp_path, env=env).returncode == 0
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    advert = tmp_path / f"db{SUFFIX}"
    advert.write_text(json.dumps({"url": "http://127.0.0.1:9", "pid": gone.pid, "token": "x", "store": "s"}), "utf-8")
    assert find(env["MEDGRADE_STORE"]) is None
    status = medgrade("status", "--json", cwd=tmp_path, env=env)
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["store"] == env["MEDGRADE_STORE"]


def test_the_advertisement_goes_when_the_server_stops(tmp_path: Path) -> None:
    env = {"MEDGRADE_STORE": f"oxigraph:{tmp_path / 'db'}", "MEDGRADE_API_KEYS": str(tmp_path / "keys.toml")}
    with serving(tmp_path, env):
        assert find(env["MEDGRADE_STORE"]) is not None
    assert not (tmp_path / f"db{SUFFIX}").exists()
    status = medgrade("status", "--json", cwd=tmp_path, env=env)  # the store is the command line's again
    assert status.returncode == 0 and json.loads(status.stdout)["initialized"] is True
