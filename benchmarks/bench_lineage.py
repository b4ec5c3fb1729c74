"""Lineage speed: propagation in memory, end to end on the embedded store, one incremental
change, and the naive SPARQL way for comparison.

    python -m benchmarks.bench_lineage [--sizes 100000,1000000] [--naive-sizes 10000,100000]
                                       [--runs 3] [--changes 21] [--naive-timeout 900]
                                       [--against REV]

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

``--against REV`` (a git revision, e.g. 1558e58) measures the code of REV and the working tree
side by side in one run: REV is checked out in a temporary ``git worktree`` (removed at the
end), and every run of (a), (b) with its import and (c) happens in a child Python process whose
``import kg`` is REV's or the working tree's (``PYTHONPATH``; ``--child`` is that entry point),
alternating REV, working tree, REV, … so that drift on the machine hits both alike. Both import
the same inventory (generated once by this tree's generate.py) into a base store of their own,
each run of (b) works on a fresh copy of it, and (c) follows it in the same child with the same
changes on both sides. (d) times Oxigraph rather than medgrade and is left out. Printed per
measurement: REV's median and runs, the working tree's, and the difference in percent.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.generate import generate_nt

# A --child run for --against REV imports these from REV's tree: only what exists at both.
from kg.lineage import NO_CAP, LineageGraph, LineageIndex
from kg.lineage.model import Derivation
from kg.namespaces import MG, PROV
from kg.propagation import Lineage
from kg.service import Service
from kg.settings import Settings
from kg.store import Graphs, sparql_term

HERE = Path(__file__).resolve().parent

# kind ("level", "add" or "remove"), levels set, derivations added and removed as (source, target)
Change = tuple[str, dict[str, int], list[tuple[str, str]], list[tuple[str, str]]]
KINDS = ("level", "add", "remove")


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


def measure_memory(n: int, runs: int) -> tuple[list[float], int]:
    """(a)'s times and the number of derivations."""
    graph = arrays(n)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        LineageIndex(graph).propagate()
        times.append(time.perf_counter() - t0)
    return times, len(graph.src)


def bench_memory(n: int, runs: int) -> float:
    times, derivations = measure_memory(n, runs)
    print(
        f"(a) {n:>9,} assets, {derivations:,} derivations: in-memory propagation {median(times):.3f} s "
        f"(runs {runs_text(times, 3)})",
        flush=True,
    )
    return median(times)


def import_store(path: Path, base: Path) -> float:
    """Import ``path`` without propagation into a new embedded store at ``base``, closed
    afterwards; returns the import time."""
    svc = Service(Settings(store=f"oxigraph:{base}"))
    t0 = time.perf_counter()
    svc.import_files([path], propagate=False)
    seconds = time.perf_counter() - t0
    svc.close()
    return seconds


def load_store(n: int, tmp: Path) -> tuple[Path, float]:
    """An embedded store holding the generated inventory, imported without propagation and
    closed; returns its directory and the import time."""
    base = tmp / "base"
    return base, import_store(generate_nt(n, tmp / "nt"), base)


def fresh_copy(base: Path, work: Path) -> None:
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(base, work)


def propagate_fresh(descriptor: str) -> dict[str, Any]:
    """One run of (b) on a store whose inferred graph is empty: propagate, then again."""
    svc = Service(Settings(store=descriptor))
    t0 = time.perf_counter()
    report = svc.propagate()
    full = time.perf_counter() - t0
    t0 = time.perf_counter()
    svc.propagate()
    again = time.perf_counter() - t0
    svc.close()
    return {
        "full": full,
        "again": again,
        "parts": dict(report.seconds),
        "added": report.added,
        "journaled": bool(getattr(report, "journaled", False)),
    }


def bench_store(n: int, base: Path, load: float, runs: int) -> str:
    """(b) on fresh copies of the imported store (emptying a large inferred graph in place would
    time Oxigraph's deletes, not propagation); returns the descriptor of the last copy."""
    work = base.with_name("work")
    results = []
    for _ in range(runs):
        fresh_copy(base, work)
        results.append(propagate_fresh(f"oxigraph:{work}"))
    full = [r["full"] for r in results]
    again = [r["again"] for r in results]
    parts: dict[str, list[float]] = {}
    for r in results:
        for key, value in r["parts"].items():
            parts.setdefault(key, []).append(value)
    last = results[-1]
    print(
        f"(b) {n:>9,} assets (import {load:.1f} s): propagate into an empty inferred graph {median(full):.1f} s "
        f"({', '.join(f'{k} {median(v):.1f} s' for k, v in parts.items())}; {last['added']:,} triples"
        f"{', journaled' if last['journaled'] else ''}; runs {runs_text(full, 1)}); "
        f"again, nothing changed {median(again):.1f} s",
        flush=True,
    )
    return f"oxigraph:{work}"


def plan_changes(svc: Service, n: int, count: int) -> list[Change]:
    """(c)'s changes in turn: a steward re-assesses a raw asset (another level, 1–4), a new
    product derived from one or two existing assets is registered, or a derivation is removed."""
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
    plan: list[Change] = []
    for k in range(count):
        kind = KINDS[k % 3]
        if kind == "level":
            x = rnd.choice(raw_assets)
            raw[x] = rnd.choice([r for r in (1, 2, 3, 4) if r != raw[x]])
            plan.append((kind, {x: raw[x]}, [], []))
        elif kind == "add":
            new = str(svc.ids.asset(f"bench-new-{k}"))
            plan.append((kind, {}, [(asset[rnd.randrange(n)], new) for _ in range(rnd.choice((1, 2)))], []))
        else:
            plan.append((kind, {}, [], [derivations.pop(rnd.randrange(len(derivations)))]))
    return plan


def build_lineage(svc: Service) -> tuple[Lineage, float]:
    t0 = time.perf_counter()
    lineage = Lineage(svc.store, svc.ontology)
    return lineage, time.perf_counter() - t0


def apply_changes(lineage: Lineage, plan: list[Change]) -> dict[str, Any]:
    """Time ``Lineage.change`` (written) for each change of ``plan``."""
    times: dict[str, list[float]] = {kind: [] for kind in KINDS}
    rewritten: list[int] = []
    moved: list[int] = []
    for kind, set_levels, add, remove in plan:
        args = (set_levels, [Derivation(s, x) for s, x in add], [(s, x) for s, x in remove])
        t1 = time.perf_counter()
        levels, report = lineage.change(*args, write=True)
        times[kind].append(time.perf_counter() - t1)
        rewritten.append(len(report.changed))
        moved.append(len(levels))
    return {"times": times, "rewritten": rewritten, "moved": moved}


def bench_changes(n: int, descriptor: str, count: int) -> None:
    """(c) on the store of (b)'s last run."""
    svc = Service(Settings(store=descriptor))
    lineage, build = build_lineage(svc)
    result = apply_changes(lineage, plan_changes(svc, n, count))
    times, rewritten, moved = result["times"], result["rewritten"], result["moved"]
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


# --- --against REV: the same measurements for two trees, each in child processes -------------


def child(args: argparse.Namespace) -> None:
    """``--child``: one measurement with whichever ``kg`` is on the path; one JSON line out."""
    import kg

    out: dict[str, Any] = {"kg": str(Path(kg.__file__).resolve().parent)}
    if args.child == "a":
        out["times"], out["derivations"] = measure_memory(int(args.sizes), args.runs)
    elif args.child == "load":
        out["seconds"] = import_store(Path(args.nt), Path(args.store))
    else:
        descriptor = f"oxigraph:{args.store}"
        out["b"] = propagate_fresh(descriptor)
        if args.plan:
            plan = json.loads(Path(args.plan).read_text(encoding="utf-8"))
            svc = Service(Settings(store=descriptor))
            lineage, out["build"] = build_lineage(svc)
            out["c"] = apply_changes(lineage, plan)
            svc.close()
    print(json.dumps(out), flush=True)


class Tree:
    """One side of the comparison: a label and the folder whose ``kg`` its children import."""

    def __init__(self, label: str, root: Path, cwd: Path) -> None:
        self.label, self.root, self.cwd = label, root, cwd

    def run(self, mode: str, *options: str) -> dict[str, Any]:
        """``bench_lineage.py --child MODE OPTIONS`` with this tree's ``kg``; its JSON answer."""
        env = {**os.environ, "PYTHONPATH": str(self.root)}
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", mode, *options]
        proc = subprocess.run(cmd, env=env, cwd=self.cwd, capture_output=True, text=True)
        lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
        if proc.returncode or not lines:
            raise SystemExit(
                f"{self.label}: --child {mode} failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}{proc.stdout[-2000:]}"
            )
        answer: dict[str, Any] = json.loads(lines[-1])
        if Path(answer["kg"]) != (self.root / "kg").resolve():
            raise SystemExit(f"{self.label}: the child imported kg from {answer['kg']}, not from {self.root}")
        return answer


def git(cwd: Path, *words: str) -> str:
    return subprocess.run(["git", *words], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def digits_for(value: float) -> int:
    return 1 if value >= 10 else 2 if value >= 1 else 3


Answers = dict[str, list[dict[str, Any]]]  # tree label -> its children's answers, one per run


def side_by_side(
    head: str, answers: Answers, samples: Callable[[dict[str, Any]], list[float]], unit: str = "s"
) -> None:
    """``HEAD: REV median (runs …) | working tree median (runs …) | ±x %``: the median of all the
    ``samples`` (seconds) of a tree's runs, each run's median, the difference; in ``unit``."""
    scale = 1000 if unit == "ms" else 1
    runs = {label: [[x * scale for x in samples(a)] for a in xs] for label, xs in answers.items()}
    pooled = {label: median([x for run in rs for x in run]) for label, rs in runs.items()}
    digits = digits_for(max(pooled.values()))

    def one(label: str) -> str:
        each = [median(run) for run in runs[label]]
        return f"{label} {pooled[label]:.{digits}f} {unit}" + (
            f" (runs {runs_text(each, digits)})" if len(each) > 1 else ""
        )

    old, new = pooled
    diff = f"{(pooled[new] / pooled[old] - 1) * 100:+.1f} %" if pooled[old] else "n/a"
    print(f"{head}: {one(old)} | {one(new)} | {diff}", flush=True)


def compare_size(trees: list[Tree], n: int, runs: int, count: int, tmp: Path) -> None:
    """(a), the import, (b) and, with ``count``, (c) at ``n`` assets for both trees, alternating."""
    memory: Answers = {t.label: [] for t in trees}
    for _ in range(runs):
        for t in trees:
            memory[t.label].append(t.run("a", "--sizes", str(n), "--runs", "1"))
    derivations = memory[trees[0].label][0]["derivations"]
    side_by_side(
        f"(a) {n:>9,} assets, {derivations:,} derivations: in-memory propagation", memory, lambda a: a["times"]
    )

    nt = generate_nt(n, tmp / f"nt-{n}")
    bases = {t.label: tmp / f"base-{n}-{i}" for i, t in enumerate(trees)}
    load = {t.label: [t.run("load", "--nt", str(nt), "--store", str(bases[t.label]))] for t in trees}
    side_by_side(f"(b) {n:>9,} assets: import without propagation", load, lambda a: [a["seconds"]])
    plan: list[str] = []
    if count:  # the same changes for both, drawn as in the default mode, from the working tree's store
        svc = Service(Settings(store=f"oxigraph:{bases[trees[-1].label]}"))
        path = tmp / f"plan-{n}.json"
        path.write_text(json.dumps(plan_changes(svc, n, count)), encoding="utf-8")
        svc.close()
        plan = ["--plan", str(path)]

    work = tmp / f"work-{n}"
    answers: Answers = {t.label: [] for t in trees}
    for _ in range(runs):
        for t in trees:
            fresh_copy(bases[t.label], work)
            answers[t.label].append(t.run("b", "--store", str(work), *plan))
    shutil.rmtree(work, ignore_errors=True)

    head = f"(b) {n:>9,} assets: propagate into an empty inferred graph"
    side_by_side(head, answers, lambda a: [a["b"]["full"]])
    parts = [
        k
        for k in answers[trees[0].label][0]["b"]["parts"]
        if all(k in a["b"]["parts"] for xs in answers.values() for a in xs)
    ]
    for key in parts:
        side_by_side(f"(b) {n:>9,} assets:   of which {key}", answers, lambda a, key=key: [a["b"]["parts"][key]])
    side_by_side(f"(b) {n:>9,} assets: again, nothing changed", answers, lambda a: [a["b"]["again"]])
    written = [
        f"{k} {v[-1]['b']['added']:,}{' (journaled)' if v[-1]['b']['journaled'] else ''}" for k, v in answers.items()
    ]
    print(f"(b) {n:>9,} assets: inferred triples written: {' | '.join(written)}", flush=True)
    if not count:
        return
    for kind in ("all", *KINDS):
        side_by_side(
            f"(c) {n:>9,} assets: one incremental change, written, {kind}",
            answers,
            lambda a, kind=kind: [x for k, xs in a["c"]["times"].items() if kind in ("all", k) for x in xs],
            "ms",
        )
    side_by_side(f"(c) {n:>9,} assets: building the lineage from the store first", answers, lambda a: [a["build"]])
    moved = " | ".join(f"{k} {sum(v[-1]['c']['moved']):,}" for k, v in answers.items())
    rewritten = " | ".join(f"{k} {sum(v[-1]['c']['rewritten']):,}" for k, v in answers.items())
    print(
        f"(c) {n:>9,} assets: {count} changes a run, the same for both; in all, effective levels changed: {moved}; "
        f"resources rewritten: {rewritten}",
        flush=True,
    )


def compare(rev: str, sizes: list[int], runs: int, count: int) -> None:
    """``--against REV``: REV's code in a temporary worktree against the working tree's."""
    root = Path(git(HERE, "rev-parse", "--show-toplevel"))
    label = git(root, "rev-parse", "--short", f"{rev}^{{commit}}")
    tmp = Path(tempfile.mkdtemp(prefix="bench-lineage-"))
    tree = tmp / "rev"
    stop = signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))  # so finally runs
    try:
        git(root, "worktree", "add", "--detach", str(tree), rev)
        (tmp / "cwd").mkdir()
        trees = [Tree(label, tree, tmp / "cwd"), Tree("working tree", root, tmp / "cwd")]
        print(
            f"{label} (worktree {tree}) against the working tree {root}; medians of {runs} runs, alternating",
            flush=True,
        )
        for n in sorted(sizes):
            compare_size(trees, n, runs, count if n == max(sizes) else 0, tmp)
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=root, capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)
        subprocess.run(["git", "worktree", "prune"], cwd=root, capture_output=True)
        signal.signal(signal.SIGTERM, stop)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="sizes for (a), (b) and (c) (the largest)")
    parser.add_argument("--naive-sizes", default="10000,100000", help="sizes for (d)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--changes", type=int, default=21, help="incremental changes timed in (c)")
    parser.add_argument("--naive-timeout", type=float, default=900)
    parser.add_argument(
        "--against", metavar="REV", help="measure (a)-(c) side by side with the code of git revision REV"
    )
    parser.add_argument("--child", choices=["a", "load", "b"], help=argparse.SUPPRESS)
    parser.add_argument("--store", help=argparse.SUPPRESS)
    parser.add_argument("--nt", help=argparse.SUPPRESS)
    parser.add_argument("--plan", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    sizes = [int(x) for x in args.sizes.split(",") if x]
    if args.against:
        compare(args.against, sizes, args.runs, args.changes)
        return
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
