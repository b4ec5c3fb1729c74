"""Real servers the tests start on loopback (and stop): the Oxigraph SPARQL server from PyPI and
OpenLink Virtuoso 7 (Debian ``virtuoso-opensource-7-bin``)."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(url: str, proc: subprocess.Popen | None = None, seconds: float = 60) -> None:  # type: ignore[type-arg]
    """Poll ``url`` until it answers 200; RuntimeError when ``proc`` exits or time runs out."""
    deadline = time.monotonic() + seconds
    while True:
        if proc is not None and proc.poll() is not None:
            out = proc.stdout.read() if proc.stdout else ""
            out = out.decode(errors="replace") if isinstance(out, bytes) else out
            raise RuntimeError(f"the server exited with {proc.returncode}: {out[-500:]}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer within {seconds:.0f} s")
        time.sleep(0.1)


def oxigraph_executable() -> str | None:
    beside = Path(sys.executable).with_name("oxigraph")
    return str(beside) if beside.exists() else shutil.which("oxigraph")


@contextlib.contextmanager
def oxigraph_server(location: Path) -> Iterator[str]:
    """Run ``oxigraph serve`` on a free loopback port; yields its base URL."""
    exe = oxigraph_executable()
    if exe is None:
        raise RuntimeError("the 'oxigraph' server executable is not installed (pip install oxigraph)")
    port = free_port()
    proc = subprocess.Popen(
        [exe, "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base}/query?query=ASK%7B%7D", proc, 30)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


VIRTUOSO_INI = """\
[Database]
DatabaseFile = {d}/virtuoso.db
ErrorLogFile = {d}/virtuoso.log
LockFile = {d}/virtuoso.lck
TransactionFile = {d}/virtuoso.trx
xa_persistent_file = {d}/virtuoso.pxa
MaxCheckpointRemap = 2000
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {d}/virtuoso-temp.db
TransactionFile = {d}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
DirsAllowed = ., {d}
NumberOfBuffers = 20000
MaxDirtyBuffers = 15000
CheckpointInterval = 60
ServerThreads = 20

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerThreads = 10
MaxClientConnections = 10

[SPARQL]
ResultSetMaxRows = 10000000
MaxQueryExecutionTime = 120
MaxQueryCostEstimationTime = 0
"""


def virtuoso_executable() -> str | None:
    return shutil.which("virtuoso-t")


def start_virtuoso(location: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Start Virtuoso 7 on free loopback ports with the database in ``location`` (created when
    new, kept when there: a restart replays its transaction log); returns the process and the
    base URL of its HTTP server (``/sparql`` reads; ``/sparql-auth`` updates, Digest, dba:dba)."""
    exe = virtuoso_executable()
    if exe is None:
        raise RuntimeError("Virtuoso is not installed (apt-get install virtuoso-opensource-7-bin)")
    location.mkdir(parents=True, exist_ok=True)
    http_port, sql_port = free_port(), free_port()
    ini = location / "virtuoso.ini"
    ini.write_text(VIRTUOSO_INI.format(d=location, sql_port=sql_port, http_port=http_port))
    proc = subprocess.Popen(
        [exe, "+foreground", "+configfile", str(ini)], cwd=location, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{http_port}"
    try:
        wait_until_up(f"{base}/sparql?query=ASK%7B%7D", proc, 120)
    except RuntimeError:
        proc.kill()
        raise
    return proc, base


@contextlib.contextmanager
def virtuoso_server(location: Path) -> Iterator[str]:
    """Virtuoso 7 with a database in ``location`` (see :func:`start_virtuoso`); yields its base URL."""
    proc, base = start_virtuoso(location)
    try:
        yield base
    finally:
        proc.terminate()  # Virtuoso checkpoints and stops on SIGTERM
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextlib.contextmanager
def api_in_thread(service: object) -> Iterator[str]:
    """``create_app(service=service)`` under uvicorn in a thread on a free loopback port; yields
    its base URL once it answers, and stops it afterwards (the caller closes the service)."""
    import threading

    import uvicorn

    from api import create_app

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(service=service), host="127.0.0.1", port=port, log_level="warning")  # type: ignore[arg-type]
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base}/health")
        yield base
    finally:
        server.should_exit = True
        thread.join(10)


def fan_out_nt(path: Path, hub: str, fan_out: int) -> Path:
    """N-Triples of one asset ``hub`` with ``fan_out`` products derived from it (the web pages'
    and the UI benchmark's large lineage graph), in the default base IRI."""
    base, mg = "https://w3id.org/medgrade/id/asset/", "https://w3id.org/medgrade/def#"
    rdf_type = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
    lines = [
        f"<{base}{hub}> {rdf_type} <{mg}DataAsset> .",
        f"<{base}{hub}> <{mg}hasCategory> <{mg}SensorTelemetry> .",
        f"<{base}{hub}> <{mg}assessedLevel> <{mg}GeneralData2> .",
    ]
    for i in range(fan_out):
        a = f"<{base}web-product-{i:05d}>"
        lines += [
            f"{a} {rdf_type} <{mg}DataAsset> .",
            f"{a} <{mg}hasCategory> <{mg}AggregatedReports> .",
            f"{a} <http://www.w3.org/ns/prov#wasDerivedFrom> <{base}{hub}> .",
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
