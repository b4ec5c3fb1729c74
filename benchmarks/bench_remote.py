"""Lineage on a remote SPARQL server: the generated inventory bulk-loaded into Virtuoso 7 and the
Oxigraph server (each started on loopback with a fresh database), then full propagation (the
derivation edges streamed from the server, the inferred graph written back in batches of
2,000 triples under its journal) and one incremental change.

    python -m benchmarks.bench_remote [--sizes 10000,100000] [--servers virtuoso,oxigraph-server]
                                      [--runs 3] [--changes 11]

Per server and size: the import (bulk, batches of INSERT DATA), a full propagation into an
empty inferred graph (read / compute / write), a full propagation with nothing to change, and
incremental re-assessments of raw assets through ``Service.assess`` (the whole write: staging,
the one DELETE/INSERT operation, incremental propagation, incremental validation with the
store copied into memory for pyshacl). Medians of the runs; peak memory of this process.
Needs Debian ``virtuoso-opensource-7-bin`` and ``pip install oxigraph``.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import resource
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from benchmarks.generate import generate_nt
from kg.service import Service
from kg.settings import Settings
from kg.store import Graphs
from tests.servers import oxigraph_server, virtuoso_server

ROOT = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def server(kind: str, where: Path) -> Iterator[Settings]:
    if kind == "virtuoso":
        with virtuoso_server(where) as base:
            yield Settings(store=f"sparql:{base}/sparql|{base}/sparql-auth", sparql_user="dba", sparql_password="dba")
    else:
        with oxigraph_server(where) as base:
            yield Settings(store=f"sparql:{base}/query|{base}/update")


def bench(kind: str, n: int, runs: int, changes: int, tmp: Path) -> None:
    source = generate_nt(n, tmp / f"nt-{n}")
    full: list[float] = []
    again: list[float] = []
    parts: dict[str, list[float]] = {}
    writes: list[float] = []
    load = 0.0
    added = 0
    for run in range(runs):
        with server(kind, tmp / f"{kind}-{n}-{run}") as settings:
            svc = Service(settings)
            svc.initialize()
            t0 = time.perf_counter()
            svc.import_files([source], propagate=False)
            load = time.perf_counter() - t0
            t0 = time.perf_counter()
            report = svc.propagate()
            full.append(time.perf_counter() - t0)
            added = report.added
            for key, value in report.seconds.items():
                parts.setdefault(key, []).append(value)
            t0 = time.perf_counter()
            svc.propagate()
            again.append(time.perf_counter() - t0)
            if run == runs - 1:
                raw = [
                    r[0]
                    for r in svc.store.rows(
                        f"SELECT ?a WHERE {{ GRAPH <{Graphs.INVENTORY}> {{ ?a <https://w3id.org/medgrade/def#assessedLevel> ?l }} }} LIMIT 200"
                    )
                    if r[0]
                ]
                rnd = random.Random(n)
                for k in range(changes):
                    t0 = time.perf_counter()
                    svc.assess(rnd.choice(raw), actor="bench", justification="bench", level=str(1 + k % 4))
                    writes.append(time.perf_counter() - t0)
                check = svc.propagate()
                assert (check.added, check.removed) == (0, 0), "incremental writes left the inferred graph behind"
            svc.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{kind:>15} {n:>9,} assets: import {load:.1f} s; propagate into an empty inferred graph "
        f"{statistics.median(full):.1f} s ({', '.join(f'{k} {statistics.median(v):.1f} s' for k, v in parts.items())};"
        f" {added:,} triples written); again, nothing changed {statistics.median(again):.1f} s; "
        f"assessment (whole write) p50 {1000 * statistics.median(writes):.0f} ms over {len(writes)}; "
        f"peak memory {peak:,.0f} MiB",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--servers", default="virtuoso,oxigraph-server")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--changes", type=int, default=11)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(x) for x in args.sizes.split(",")):
            for kind in args.servers.split(","):
                bench(kind, n, args.runs, args.changes, Path(tmp))


if __name__ == "__main__":
    main()
