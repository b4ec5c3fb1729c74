"""A running ``medgrade serve`` on an embedded store advertises itself, so the command line can
go through it instead of failing on the store's lock.

The advertisement is a small JSON file beside the store (``<store>.server.json``), readable
only by the store's owner (mode 0600): the server's URL, its process id and a local admin
token the server accepts for as long as it runs. A file whose process is gone is stale and
ignored (and replaced by the next server).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from kg.errors import InputError

SUFFIX = ".server.json"


@dataclass(frozen=True)
class Advertisement:
    url: str
    pid: int
    token: str
    store: str

    @property
    def alive(self) -> bool:
        return _alive(self.pid)


def path_of(descriptor: str) -> Path | None:
    """Where a server on the store ``descriptor`` advertises itself (embedded stores only)."""
    from kg.store import embedded_path

    path = embedded_path(descriptor)
    if path is None:
        return None
    store = path.expanduser().resolve()
    return store.with_name(store.name + SUFFIX)


def find(descriptor: str) -> Advertisement | None:
    """The live server holding the store ``descriptor``, if one advertises itself."""
    path = path_of(descriptor)
    if path is None or not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        ad = Advertisement(str(data["url"]), int(data["pid"]), str(data["token"]), str(data["store"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None  # unreadable or half-written: not a server we can talk to
    return ad if ad.alive else None


@contextlib.contextmanager
def advertised(descriptor: str, host: str, port: int) -> Iterator[Advertisement | None]:
    """Advertise a server on ``host``:``port`` for the store ``descriptor`` while the block runs
    (nothing for stores that are not embedded); the advertisement is removed afterwards."""
    path = path_of(descriptor)
    if path is None:
        yield None
        return
    url_host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    if ":" in url_host and not url_host.startswith("["):
        url_host = f"[{url_host}]"
    ad = Advertisement(f"http://{url_host}:{port}", os.getpid(), secrets.token_urlsafe(32), descriptor)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump({**asdict(ad), "host": socket.gethostname()}, out, ensure_ascii=False)
        os.replace(tmp, path)
    except OSError as exc:
        raise InputError(
            f"cannot write the server's advertisement {path}: {exc}", f"无法写入服务公告文件 {path}：{exc}"
        ) from exc
    try:
        yield ad
    finally:
        with contextlib.suppress(OSError, ValueError):
            if json.loads(path.read_text(encoding="utf-8")).get("pid") == ad.pid:
                path.unlink()


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, another user's
    return True
