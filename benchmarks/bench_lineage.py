"""Lineage speed: propagation in memory, end to end on the embedded store, one incremental
change, and the naive SPARQL way for comparison.

    python benchmarks/bench_lineage.py [--sizes 100000,1000000] [--naive-sizes 10000,100000]
                                       [--runs 3] [--changes 21] [--naive-timeout 900]

(a) full propagation from in-memory arrays (index build + propagation), on a graph shaped like
    the generated inventories: 5 % raw assets with levels, the rest derived from 1–3 of the
    5,000 assets before them, a fifth of the derivations capped by an approved reduction;
(b) ``Service.propagate()`` on the embedded store holding the generated N-Triples inventory
    (benchmarks/generate.py, imported without propagation, a fresh copy per run): read,
    compute, write the inferred graph from empty; and again with nothing changed;
(c) one incremental change on the largest store: ``Lineage.change`` (recompute what the change
    reaches and write the inferred triples that changed), cycling through a raw asset
    re-assessed, a new product derived from existing assets, and a derivation removed;
(d) the naive way: one SPARQL query, ``prov:wasDerivedFrom*`` and MAX over the ranks, on the
    same store (run in a child process, stopped after --naive-timeout seconds); its answers are
    checked against (b)'s effective levels (the generated inventory has no caps).

Medians of the runs. Targets (issue #5, 2 cores): (a) ≤ 2 s at 1M, (b) ≤ 60 s at 1M,
(c) ≤ 50 ms, (d)/(a) ≥ 100× at 100k.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import generate_nt  # noqa: E402

from kg.lineage import NO_CAP, LineageGraph, LineageIndex  # noqa: E402
from kg.lineage.model import Derivation  # noqa: E402
from kg.namespaces import MG, PROV  # noqa: E402
from kg.propagation import Lineage  # noqa: E402
from kg.service import Service  # noqa: E402
from kg.settings import Settings  # noqa: E402
from kg.store import Graphs, sparql_term  # noqa: E402


def arrays(n: int, seed: int = 20261127) -> LineageGraph:
    """A lineage graph of ``n`` assets as arrays (see (a) above)."""
    rng = np.random.default_rng(seed)
    raw = rng.random(n) < 0.05
    raw[:20] = True
    own = np.where(raw, rng.choice(np.array([4, 4, 3, 2, 2], dtype=np.int8), n), 0).astype(np.int8)
    derived = np.flatnonzero(~raw)
    k = rng.choice(np.array([1, 2, 2, 3]), derived.size)
    dst = np.repeat(derived, k)
    low = np.maximum(0, dst - 5000)
    src = (low + (rng.random(dst.size) * (dst - low)).astype(np.int64)).astype(np.int32)
    cap = np.where(rng.random(dst.size) < 0.2, 3, NO_CAP).astype(np.int8)
    return LineageGraph(own=own, src=src, dst=dst.astype(np.int32), cap=cap)


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def runs_text(xs: list[float], digits: int = 2) -> str:
    return ", ".join(f"{x:.{digits}f}" for x in xs)


def bench_memory(n: int, runs: int) -> float:
    graph = arrays(n)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        LineageIndex(graph).propagate()
        times.append(time.perf_counter() - t0)
    print(
        f"(a) {n:>9,} assets, {len(graph.src):,} derivations: in-memory propagation {median(times):.3f} s "
        f"(runs {runs_text(times, 3)})",
        flush=True,
    )
    return median(times)


def load_store(n: int, tmp: Path) -> tuple[Path, float]:
    """An embedded store holding the generated inventory, imported without propagation and
    closed; returns its directory and the import time."""
    base = tmp / "base"
    path = generate_nt(n, tmp / "nt")
    svc = Service(Settings(store=f"oxigraph:{base}"))
    t0 = time.perf_counter()
    svc.import_files([path], propagate=False)
    seconds = time.perf_counter() - t0
    svc.close()
    return base, seconds


def bench_store(n: int, base: Path, load: float, runs: int) -> str:
    """(b) on fresh copies of the imported store (emptying a large inferred graph in place would
    time Oxigraph's deletes, not propagation); returns the descriptor of the last copy."""
    full, again = [], []
    parts: dict[str, list[float]] = {}
    report = None
    work = base.with_name("work")
    for _ in range(runs):
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(base, work)
        svc = Service(Settings(store=f"oxigraph:{work}"))
        t0 = time.perf_counter()
        report = svc.propagate()
        full.append(time.perf_counter() - t0)
        for key, value in report.seconds.items():
            parts.setdefault(key, []).append(value)
        t0 = time.perf_counter()
        svc.propagate()
        again.append(time.perf_counter() - t0)
        svc.close()
    assert report is not None
    print(
        f"(b) {n:>9,} assets (import {load:.1f} s): propagate into an empty inferred graph {median(full):.1f} s "
        f"({', '.join(f'{k} {median(v):.1f} s' for k, v in parts.items())}; {report.added:,} triples"
        f"{', journaled' if report.journaled else ''}; runs {runs_text(full, 1)}); "
        f"again, nothing changed {median(again):.1f} s",
        flush=True,
    )
    return f"oxigraph:{work}"


def bench_changes(n: int, descriptor: str, count: int) -> None:
    """(c): a steward re-assesses a raw asset (another level, 1–4), a new product derived from
    one or two existing assets is registered, or a derivation is removed, in turn."""
    svc = Service(Settings(store=descriptor))
    t0 = time.perf_counter()
    lineage = Lineage(svc.store, svc.ontology)
    build = time.perf_counter() - t0
    rnd = random.Random(7)
    rank = {lv.iri: lv.rank for lv in svc.ontology.levels}
    inv = sparql_term(Graphs.INVENTORY)
    raw = {
        x: rank[lv]
        for x, lv in svc.store.rows(f"SELECT ?x ?l WHERE {{ GRAPH {inv} {{ ?x {sparql_term(MG.assessedLevel)} ?l }} }}")
        if x and lv
    }
    raw_assets = sorted(raw)
    asset = [str(svc.ids.asset(f"a{i}")) for i in range(n)]
    derivations = [
        (s, x)
        for x, s in svc.store.rows(
            f"SELECT ?x ?s WHERE {{ GRAPH {inv} {{ ?x {sparql_term(PROV.wasDerivedFrom)} ?s }} }} LIMIT 10000"
        )
        if x and s
    ]
    times: dict[str, list[float]] = {"level": [], "add": [], "remove": []}
    rewritten: list[int] = []
    moved: list[int] = []
    for k in range(count):
        kind = ("level", "add", "remove")[k % 3]
        if kind == "level":
            x = rnd.choice(raw_assets)
            raw[x] = rnd.choice([r for r in (1, 2, 3, 4) if r != raw[x]])
            args: tuple = ({x: raw[x]}, [], [])
        elif kind == "add":
            new = str(svc.ids.asset(f"bench-new-{k}"))
            args = ({}, [Derivation(asset[rnd.randrange(n)], new) for _ in range(rnd.choice((1, 2)))], [])
        else:
            args = ({}, [], [derivations.pop(rnd.randrange(len(derivations)))])
        t1 = time.perf_counter()
        levels, report = lineage.change(*args, write=True)
        times[kind].append(time.perf_counter() - t1)
        rewritten.append(len(report.changed))
        moved.append(len(levels))
    every = [x for v in times.values() for x in v]
    print(
        f"(c) {n:>9,} assets: one incremental change, written, {median(every) * 1000:.1f} ms median "
        f"({', '.join(f'{k} {median(v) * 1000:.1f} ms' for k, v in times.items())}; max {max(every) * 1000:.0f} ms; "
        f"resources rewritten median {statistics.median(rewritten):.0f}, max {max(rewritten)}; effective levels "
        f"changed median {statistics.median(moved):.0f}, max {max(moved)}; {count} changes; building the lineage "
        f"from the store first took {build:.1f} s)",
        flush=True,
    )
    svc.close()


NAIVE = f"""PREFIX mg: <{MG}> PREFIX prov: <{PROV}>
SELECT ?x (MAX(?r) AS ?rank) WHERE {{
  GRAPH {sparql_term(Graphs.INVENTORY)} {{ ?x a mg:DataAsset . ?x prov:wasDerivedFrom* ?s . ?s mg:assessedLevel ?l }}
  GRAPH ?levels {{ ?l mg:rank ?r }}
}} GROUP BY ?x"""


def _naive_child(descriptor: str, out: mp.Queue) -> None:  # type: ignore[type-arg]
    svc = Service(Settings(store=descriptor))
    t0 = time.perf_counter()
    rows = svc.store.rows(NAIVE)
    out.put((time.perf_counter() - t0, {x: int(r) for x, r in rows if x and r}))
    svc.close()


def bench_naive(n: int, descriptor: str, memory: float, timeout: float) -> None:
    queue: mp.Queue = mp.get_context("spawn").Queue()  # type: ignore[type-arg]
    child = mp.get_context("spawn").Process(target=_naive_child, args=(descriptor, queue))
    child.start()
    try:
        seconds, levels = queue.get(timeout=timeout)
    except Exception:
        child.kill()
        child.join()
        print(
            f"(d) {n:>9,} assets: naive SPARQL wasDerivedFrom* + MAX did not finish in {timeout:.0f} s "
            f"(> {timeout / memory:,.0f}× the in-memory propagation)",
            flush=True,
        )
        return
    child.join()
    svc = Service(Settings(store=descriptor))
    ours = {
        x: int(r)
        for x, r in svc.store.rows(
            f"PREFIX mg: <{MG}> SELECT ?x ?r WHERE {{ GRAPH {sparql_term(Graphs.INFERRED)} {{ ?x mg:effectiveLevel ?l }} "
            "GRAPH ?levels { ?l mg:rank ?r } }"
        )
        if x and r
    }
    svc.close()
    agree = sum(1 for x, r in levels.items() if ours.get(x) == r)
    print(
        f"(d) {n:>9,} assets: naive SPARQL wasDerivedFrom* + MAX {seconds:.1f} s = {seconds / memory:,.0f}× the "
        f"in-memory propagation ({agree:,} of {len(levels):,} answers agree with propagate)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="sizes for (a), (b) and (c) (the largest)")
    parser.add_argument("--naive-sizes", default="10000,100000", help="sizes for (d)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--changes", type=int, default=21, help="incremental changes timed in (c)")
    parser.add_argument("--naive-timeout", type=float, default=900)
    args = parser.parse_args()
    sizes = [int(x) for x in args.sizes.split(",") if x]
    naive = [int(x) for x in args.naive_sizes.split(",") if x]
    memory = {n: bench_memory(n, args.runs) for n in sorted(set(sizes) | set(naive))}
    for n in sorted(set(sizes) | set(naive)):
        with tempfile.TemporaryDirectory() as tmp:
            base, load = load_store(n, Path(tmp))
            descriptor = bench_store(n, base, load, args.runs if n in sizes else 1)
            if n in naive:  # before (c), which changes the inferred graph without the inventory
                bench_naive(n, descriptor, memory[n], args.naive_timeout)
            if n in sizes and n == max(sizes) and args.changes:
                bench_changes(n, descriptor, args.changes)


if __name__ == "__main__":
    main()
