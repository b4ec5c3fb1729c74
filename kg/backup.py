"""Backup and restore of a whole store as N-Quads (``.nq``, or gzip-compressed ``.nq.gz``).

``backup`` reads one consistent snapshot: on the embedded store it opens a read-only view,
which sees the store as it was at that moment even while ``medgrade serve`` keeps writing
(Oxigraph reads are snapshot-isolated), and writes the file beside its target before renaming it
into place, so a backup is never half-written. ``restore`` checks the whole file first (a
syntax error names its line and changes nothing), bulk-loads it into a fresh store beside the
old one and then swaps the two folders, so the store is the old one or the new one, never a
mix. It needs the store to be free (stop the server first). A ``sparql:`` store is backed up
graph by graph (as consistent as the server's reads are); restoring one is the triple store's
own business (its bulk loader), so ``restore`` refuses it with that advice.
"""

from __future__ import annotations

import datetime as dt
import gzip
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO, cast

import pyoxigraph as ox

from kg import __version__
from kg.errors import InputError, StoreError
from kg.store import embedded_path, open_store
from kg.store.base import Store

Progress = Callable[[int], None]


@dataclass(frozen=True)
class BackupReport:
    path: Path
    quads: int
    bytes: int


@contextmanager
def _writer(target: Path) -> Iterator[IO[bytes]]:
    """A binary file beside ``target`` that replaces it only when complete."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as raw:
            if target.name.endswith(".gz"):
                with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as z:
                    yield cast(BinaryIO, z)
            else:
                yield raw
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _open_source(path: Path) -> IO[bytes]:
    if not path.is_file():
        raise InputError(f"{path}: no such file", f"{path}：文件不存在")
    return cast(BinaryIO, gzip.open(path, "rb")) if path.name.endswith(".gz") else path.open("rb")


def _check_suffix(path: Path) -> None:
    if not (path.name.endswith(".nq") or path.name.endswith(".nq.gz")):
        raise InputError(
            f"{path}: a backup is N-Quads, name it .nq or .nq.gz",
            f"{path}：备份为 N-Quads 格式，请以 .nq 或 .nq.gz 命名",
        )


def dump_snapshot(store: Store, out: IO[bytes]) -> int:
    """Dump an open store with the ``native`` capability consistently: a RocksDB checkpoint
    (hard links, cheap) when on disk, read as its own database; the number of quads."""
    native: ox.Store = store.native
    path = store.path
    if path is None:  # in memory: one read is one snapshot
        native.dump(out, format=ox.RdfFormat.N_QUADS)
        return len(native)
    checkpoint = Path(tempfile.mkdtemp(prefix=f".{path.name}.backup-", dir=path.parent))
    checkpoint.rmdir()  # Store.backup creates it
    try:
        native.backup(str(checkpoint))
        copy = ox.Store(str(checkpoint))
        count = len(copy)
        copy.dump(out, format=ox.RdfFormat.N_QUADS)
        del copy
        return count
    finally:
        shutil.rmtree(checkpoint, ignore_errors=True)


def header(descriptor: str) -> bytes:
    return f"# medgrade {__version__} backup of {descriptor} taken {dt.datetime.now(dt.UTC).isoformat()}\n".encode()


def backup(
    descriptor: str,
    target: Path,
    progress: Progress | None = None,
    *,
    user: str | None = None,
    password: str | None = None,
) -> BackupReport:
    """Write every quad of the store ``descriptor`` names to ``target`` from one snapshot. An
    embedded store that ``medgrade serve`` holds is backed up through the server instead
    (:func:`backup_from_server`)."""
    _check_suffix(target)
    rest = embedded_path(descriptor)
    if rest is not None:
        if not rest.exists():
            raise StoreError(f"no store at {rest}", f"{rest} 处没有存储")
        from kg.store.oxigraph import OxigraphStore

        try:
            store = OxigraphStore(rest)
        except StoreError as exc:
            raise StoreError(
                f"{exc.message_en}; back up a running server with 'medgrade backup FILE --server URL' (admin key)",
                f"{exc.message_zh}；服务运行中时请用 “medgrade backup 文件 --server 地址”（需 admin 密钥）",
            ) from exc
        try:
            with _writer(target) as out:
                out.write(header(descriptor))
                count = dump_snapshot(store, out)
        finally:
            store.close()
        if progress:
            progress(count)
        return BackupReport(target, count, target.stat().st_size)
    remote = open_store(descriptor, user=user, password=password)  # an unknown descriptor: InputError
    if not remote.capabilities.relays_protocol:  # memory: nothing persists
        remote.close()
        raise InputError(
            f"cannot back up '{descriptor}': only oxigraph:PATH and sparql: stores persist",
            f"无法备份“{descriptor}”：只有 oxigraph:路径 和 sparql: 存储是持久的",
        )
    count = 0
    try:
        with _writer(target) as out:
            out.write(header(descriptor))
            for graph in sorted(remote.graphs()):
                lines = [f"{_nq(t, str(graph))}\n" for t in remote.triples(graph)]
                out.write("".join(lines).encode())
                count += len(lines)
                if progress:
                    progress(len(lines))
    finally:
        remote.close()
    return BackupReport(target, count, target.stat().st_size)


def backup_from_server(url: str, token: str | None, target: Path) -> BackupReport:
    """Ask a running server for a backup (``GET /api/admin/backup``, admin key) into ``target``."""
    import httpx

    _check_suffix(target)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with httpx.stream("GET", url.rstrip("/") + "/api/admin/backup", headers=headers, timeout=None) as r:
        if r.status_code != 200:
            r.read()
            raise InputError(
                f"the server answered {r.status_code}: {r.text[:300]}", f"服务器返回 {r.status_code}：{r.text[:300]}"
            )
        count = int(r.headers.get("x-medgrade-quads", "0"))
        with _writer(target) as out:
            for chunk in r.iter_bytes():
                out.write(chunk)
    return BackupReport(target, count, target.stat().st_size)


def _nq(triple: tuple[object, object, object], graph: str) -> str:
    from kg.store.base import nt_line

    return nt_line(triple).rstrip(" .\n") + f" <{graph}> ."  # type: ignore[arg-type]


def check(source: Path) -> int:
    """Parse all of ``source``; the number of quads, or InputError naming the bad line."""
    _check_suffix(source)
    count = 0
    with _open_source(source) as f:
        try:
            for _ in ox.parse(f, format=ox.RdfFormat.N_QUADS):
                count += 1
        except SyntaxError as exc:
            raise InputError(f"{source}: not valid N-Quads: {exc}", f"{source}：不是有效的 N-Quads：{exc}") from exc
        except (OSError, EOFError) as exc:  # a truncated or corrupt gzip file
            raise InputError(f"{source}: cannot be read: {exc}", f"{source}：无法读取：{exc}") from exc
    return count


def restore(descriptor: str, source: Path) -> int:
    """Replace the store's whole content with ``source``; the number of quads loaded."""
    path = embedded_path(descriptor)
    if path is None:
        raise InputError(
            f"restore writes an embedded store (oxigraph:PATH), not '{descriptor}': load a backup into a "
            "SPARQL server with its own bulk loader",
            f"restore 只写入内嵌存储（oxigraph:路径），而不是“{descriptor}”：请用 SPARQL 服务器自带的批量加载工具导入备份",
        )
    count = check(source)  # nothing is touched unless the whole file is valid
    old = path.with_name(f"{path.name}.replaced")
    if not path.exists() and old.exists():  # a restore stopped between its two renames: roll back
        os.replace(old, path)
    if path.exists():
        try:  # free? (a running server holds the lock)
            probe = ox.Store(str(path))
            del probe
        except OSError as exc:
            raise StoreError(
                f"the store at {path} is in use (stop 'medgrade serve' first): {exc}",
                f"位于 {path} 的存储正在使用中（请先停止 medgrade serve）：{exc}",
            ) from exc
    fresh = path.with_name(f"{path.name}.restoring")
    shutil.rmtree(fresh, ignore_errors=True)
    store = ox.Store(str(fresh))
    with _open_source(source) as f:
        store.bulk_load(f, format=ox.RdfFormat.N_QUADS)
    store.flush()
    del store
    shutil.rmtree(old, ignore_errors=True)
    if path.exists():
        os.replace(path, old)
    os.replace(fresh, path)
    shutil.rmtree(old, ignore_errors=True)
    return count
