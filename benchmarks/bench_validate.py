"""Validation and the cost of one write, at several inventory sizes.

    python -m benchmarks.bench_validate [--sizes 1000,100000] [--runs 3]

Each size: a generated inventory (benchmarks/generate.py, CSV) imported into a fresh embedded
store, then, medians of ``--runs``:

- **full validation**, first run after the import and a run again (the stored report is
  rewritten only where it changed);
- **incremental change**: ``Service.change(...)`` of one asset's assessed level (below its
  category floor and back) as a raw update, the levels following incrementally, re-validated
  incrementally (no derivation added: the derivation cycle shapes keep their results);
- **assessment**: ``Service.assess`` end to end, as ``PUT /api/assets/{id}/assessment`` runs it:
  the write with its audit record, the levels following incrementally, the incremental
  validation;
- **derivation**: ``Service.add_derivation`` end to end (a derivation added: the cycle check
  reads the lineage the new edge can close a cycle through).

Targets (issue #21, 2 cores): incremental validation of one change at 100k ≤ 0.3 s; full
validation at 100k ≤ 10 s; one incremental write at 1M ≤ 50 ms.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.generate import generate
from kg.namespaces import MG
from kg.service import Service
from kg.settings import Settings
from kg.store import Changeset, Graphs, sparql_term


class _Update(Changeset):
    """A raw SPARQL Update, with what the service adds to every write (version, marker)."""

    def __init__(self, request: str) -> None:
        super().__init__(Graphs.INVENTORY)
        self.request = request

    def update_request(self) -> str:
        return f"{self.request} ;\n{super().update_request()}"


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def _level_change(svc: Service, run: int) -> Any:
    asset = svc.ids.asset("a0")  # raw patient dose records: floor General-3
    level = MG.GeneralData1 if run % 2 == 0 else MG.GeneralData4
    inv, prop = sparql_term(Graphs.INVENTORY), sparql_term(MG.assessedLevel)
    request = (
        f"DELETE WHERE {{ GRAPH {inv} {{ {sparql_term(asset)} {prop} ?l }} }} ; "
        f"INSERT DATA {{ GRAPH {inv} {{ {sparql_term(asset)} {prop} {sparql_term(level)} }} }}"
    )
    svc.lineage_state()  # as before the change; then the levels follow it, as a steward's write does
    rank = svc.ontology.level(str(level)).rank
    return svc.change(
        _Update(request), {asset}, derivations=False, levels=lambda: svc.lineage_change(set_levels={str(asset): rank})
    )


def _median(xs: list[float]) -> str:
    return f"{statistics.median(xs):.3f} s (runs {', '.join(f'{x:.3f}' for x in xs)})"


def measure(n: int, runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        svc = Service(Settings(store=f"oxigraph:{tmp / 'store'}"))
        load, _ = _timed(lambda: svc.import_files(list(generate(n, tmp / "csv"))))
        first, report = _timed(svc.validate)
        again, changes, assessments, derivations, checked = [], [], [], [], []
        for run in range(runs):
            again.append(_timed(svc.validate)[0])
            seconds, inc = _timed(lambda run=run: _level_change(svc, run))
            changes.append(seconds)
            checked.append(inc.checked or 0)
            assessments.append(
                _timed(
                    lambda run=run: svc.assess(
                        f"a{n // 2 + run}", actor="bench", justification="基准 / benchmark", level="L4"
                    )
                )[0]
            )
            derivations.append(
                _timed(
                    lambda run=run: svc.add_derivation(
                        f"a{run + 1}", f"a{n - 1 - run}", actor="bench", justification="基准 / benchmark"
                    )
                )[0]
            )
        svc.close()
    print(
        f"{n:>9,} assets (import {load:.1f} s): full validation {first:.2f} s first run, again "
        f"{_median(again)}, {len(report.results)} results\n"
        f"{'':>9}  one level change re-validated: {_median(changes)}, {statistics.median(checked):.0f} nodes\n"
        f"{'':>9}  one assessment end to end: {_median(assessments)}\n"
        f"{'':>9}  one derivation end to end: {_median(derivations)}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    for n in [int(x) for x in args.sizes.split(",")]:
        measure(n, args.runs)


if __name__ == "__main__":
    main()
