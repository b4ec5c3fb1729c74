"""Validation speed: a full SHACL run at 10k and 100k assets, and one incremental change at 100k.

    python -m benchmarks.bench_validate [--sizes 10000,100000] [--runs 3]

Each size: a generated inventory (benchmarks/generate.py, CSV) imported into a fresh embedded
store, then ``Service.validate()`` (full) and ``Service.change(...)`` (one asset's level
lowered below its category floor, re-checked incrementally) timed; medians of the runs.
Targets (issue #4, 2 cores): 100k full ≤ 60 s, one incremental change ≤ 0.5 s.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.generate import generate
from kg.namespaces import MG
from kg.service import Service
from kg.settings import Settings
from kg.store import Changeset, Graphs, sparql_term

HERE = Path(__file__).resolve().parent


class _Update(Changeset):
    def __init__(self, request: str) -> None:
        super().__init__(Graphs.INVENTORY)
        self.request = request

    def update_request(self) -> str:
        return self.request


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    for n in [int(x) for x in args.sizes.split(",")]:
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            svc = Service(Settings(store=f"oxigraph:{tmp / 'store'}"))
            t0 = time.perf_counter()
            svc.import_files(list(generate(n, tmp / "csv")))
            load = time.perf_counter() - t0
            full, incremental, checked, results = [], [], [], 0
            for run in range(args.runs):
                t0 = time.perf_counter()
                report = svc.validate()
                full.append(time.perf_counter() - t0)
                results = len(report.results)
                asset = svc.ids.asset("a0")  # raw patient dose records: floor General-3
                level = MG.GeneralData1 if run % 2 == 0 else MG.GeneralData4
                request = (
                    f"DELETE WHERE {{ GRAPH {sparql_term(Graphs.INVENTORY)} {{ {sparql_term(asset)} "
                    f"{sparql_term(MG.assessedLevel)} ?l }} }} ; INSERT DATA {{ GRAPH {sparql_term(Graphs.INVENTORY)} "
                    f"{{ {sparql_term(asset)} {sparql_term(MG.assessedLevel)} {sparql_term(level)} }} }}"
                )
                t0 = time.perf_counter()
                inc = svc.change(_Update(request), {asset}, derivations=False)  # a level change
                incremental.append(time.perf_counter() - t0)
                checked.append(inc.checked or 0)
            svc.close()
            print(
                f"{n:>8,} assets (import {load:.1f} s): full validation {statistics.median(full):6.2f} s "
                f"({results} results; runs {', '.join(f'{x:.2f}' for x in full)}); one incremental change "
                f"{statistics.median(incremental):5.3f} s re-checking {statistics.median(checked):.0f} nodes "
                f"(runs {', '.join(f'{x:.3f}' for x in incremental)})",
                flush=True,
            )


if __name__ == "__main__":
    main()
