"""Backup while serving and restore: the snapshot is consistent (every asset's assessed level
equals its latest audited assessment, across the inventory and audit graphs), a restore is all
or nothing, and a store in use is refused."""

from __future__ import annotations

import contextlib
import gzip
import threading
from pathlib import Path

import httpx
import pytest

from kg import apikeys
from kg.backup import backup, restore
from kg.errors import InputError, StoreError
from kg.service import Service
from kg.settings import Settings
from kg.store import Graphs
from tests.servers import api_in_thread
from tests.test_cli import medgrade

MG = "https://w3id.org/medgrade/def#"


def consistent(svc: Service) -> int:
    """Assets whose latest assessment record names their current assessed level; asserts all do."""
    rows = svc.store.rows(
        f"""SELECT ?a ?lv ?when ?own WHERE {{ GRAPH <{Graphs.AUDIT}> {{ ?r a <{MG}Assessment> ;
        <{MG}concerns> ?a ; <{MG}assignedLevel> ?lv ; <{MG}performedAt> ?when }}
        GRAPH <{Graphs.INVENTORY}> {{ ?a <{MG}assessedLevel> ?own }} }}"""
    )
    latest: dict[str, tuple[str, str, str]] = {}
    for a, lv, when, own in rows:
        if a not in latest or when > latest[a][1]:
            latest[a] = (lv, when, own)
    for a, (lv, _, own) in latest.items():
        assert lv == own, f"{a}: audited {lv}, stored {own}"
    return len(latest)


def test_backup_while_serving_is_a_consistent_snapshot(tmp_path: Path) -> None:
    keys = tmp_path / "keys.toml"
    token = apikeys.create(keys, "s", "steward")
    admin = apikeys.create(keys, "a", "admin")
    svc = Service(Settings(store=f"oxigraph:{tmp_path / 'live'}", api_keys=keys))
    svc.initialize(demo=True)
    targets = [a["id"] for a in svc.assets(limit=40)["items"]]
    served = contextlib.ExitStack()
    base = served.enter_context(api_in_thread(svc))
    done = threading.Event()
    refused: list[str] = []

    def writer() -> None:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60) as c:
            for i in range(200):
                if done.is_set():
                    return
                level = f"L{4 + i % 2}"
                r = c.put(
                    f"/api/assets/{targets[i % len(targets)]}/assessment",
                    json={"level": level, "justification": f"w{i}"},
                )
                if r.status_code != 200:  # seen by the test, not only as a thread's warning
                    refused.append(r.text)
                    return

    w = threading.Thread(target=writer)
    w.start()
    try:
        backups = []
        for k in range(3):  # backups taken by another process while the writes go on
            target = tmp_path / f"b{k}.nq.gz"
            proc = medgrade("backup", str(target), "--server", base, "--json", env={"MEDGRADE_TOKEN": admin})
            assert proc.returncode == 0, proc.stderr
            backups.append(target)
        # the store itself is held by the server: a direct backup says how to do it instead
        proc = medgrade("--store", f"oxigraph:{tmp_path / 'live'}", "backup", str(tmp_path / "x.nq"))
        assert proc.returncode == 2 and "--server" in proc.stderr
        assert httpx.get(f"{base}/api/admin/backup", headers={"Authorization": f"Bearer {token}"}).status_code == 403
    finally:
        done.set()
        w.join(120)
        served.close()
        svc.close()
    assert refused == []
    for k, target in enumerate(backups):
        restored = tmp_path / f"r{k}"
        restore(f"oxigraph:{restored}", target)
        r = Service(Settings(store=f"oxigraph:{restored}"))
        try:
            assert r.initialized()
            assert consistent(r) >= 0
            assert r.level(targets[0])["assessed"] is not None
        finally:
            r.close()


def test_restore_is_all_or_nothing(tmp_path: Path) -> None:
    svc = Service(Settings(store=f"oxigraph:{tmp_path / 's'}"))
    svc.initialize(demo=True)
    before = svc.store.count()
    svc.close()
    good = tmp_path / "good.nq"
    assert backup(f"oxigraph:{tmp_path / 's'}", good).quads == before
    bad = tmp_path / "bad.nq"
    lines = good.read_text(encoding="utf-8").splitlines()
    lines.insert(len(lines) // 2, "<http://x/a> <http://x/b> broken .")
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        restore(f"oxigraph:{tmp_path / 's'}", bad)
    assert "line" in err.value.message_en.lower() or "position" in err.value.message_en.lower()
    truncated = tmp_path / "cut.nq.gz"
    truncated.write_bytes(gzip.compress(good.read_bytes())[:5000])
    with pytest.raises(InputError):
        restore(f"oxigraph:{tmp_path / 's'}", truncated)
    check = Service(Settings(store=f"oxigraph:{tmp_path / 's'}"))
    assert check.store.count() == before  # nothing changed
    with pytest.raises(StoreError):  # in use: refused
        restore(f"oxigraph:{tmp_path / 's'}", good)
    check.close()
    proc = medgrade("--store", f"oxigraph:{tmp_path / 'n'}", "restore", str(good), "--yes")
    assert proc.returncode == 0, proc.stderr
    fresh = Service(Settings(store=f"oxigraph:{tmp_path / 'n'}"))
    assert fresh.store.count() == before
    fresh.close()


def test_backup_refuses_what_it_cannot_do(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        backup("memory:", tmp_path / "x.nq")
    with pytest.raises(InputError):
        backup(f"oxigraph:{tmp_path}", tmp_path / "x.ttl")
    with pytest.raises(InputError):
        restore("sparql:http://127.0.0.1:1/q", tmp_path / "x.nq")
