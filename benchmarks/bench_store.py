"""Load time, disk size and peak memory of imports into the embedded store (``oxigraph:PATH``).

    python -m benchmarks.bench_store [--sizes 100000,1000000] [--runs 3] [--csv-sizes 100000]

Each run imports a freshly generated inventory into a new store in its own process, through
``Service.import_files`` (what ``medgrade import`` does), and reports the median of the runs.
N-Triples (about 4 triples per asset) go through the streaming bulk path; CSV through the
spreadsheet importer (row checks against the ontology, about 13 triples per asset).
Target (issue #3): 1M assets into the embedded store in ≤ 60 s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.generate import generate, generate_nt

HERE = Path(__file__).resolve().parent

CHILD = """
import json, resource, sys, time
from pathlib import Path
from kg.service import Service
from kg.settings import Settings
svc = Service(Settings(store="oxigraph:" + sys.argv[1]))
svc.ensure_initialized()
files = [Path(p) for p in sys.argv[2:]]
t0 = time.perf_counter()
report = svc.import_files(files)
seconds = time.perf_counter() - t0
svc.close()
print(json.dumps({"seconds": seconds, "triples": report.triples, "bulk": report.bulk,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def disk_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def run_once(files: list[Path], tmp: Path) -> dict[str, float]:
    store = tmp / f"store-{os.urandom(4).hex()}"
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(store), *map(str, files)], capture_output=True, text=True, check=True
    )
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["disk_mb"] = disk_mb(store)
    subprocess.run(["rm", "-rf", str(store)], check=True)
    return result


def bench(label: str, n: int, files: list[Path], runs: int, tmp: Path) -> None:
    results = [run_once(files, tmp) for _ in range(runs)]
    med = {k: statistics.median(r[k] for r in results) for k in ("seconds", "triples", "peak_rss_mb", "disk_mb")}
    each = ", ".join(f"{r['seconds']:.1f}" for r in results)
    print(
        f"{label:<5} {n:>10,} assets  {int(med['triples']):>11,} triples  load {med['seconds']:7.1f} s  "
        f"disk {med['disk_mb']:8.0f} MB  peak RSS {med['peak_rss_mb']:7.0f} MB  "
        f"(median of {runs}: {each} s)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="N-Triples sizes (assets), comma-separated")
    parser.add_argument("--csv-sizes", default="100000", help="CSV sizes (assets), comma-separated; '' for none")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; each figure: a fresh store, its own process")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for n in [int(x) for x in args.sizes.split(",") if x]:
            bench("nt", n, [generate_nt(n, tmp / f"nt{n}")], args.runs, tmp)
        for n in [int(x) for x in args.csv_sizes.split(",") if x]:
            bench("csv", n, list(generate(n, tmp / f"csv{n}")), args.runs, tmp)


if __name__ == "__main__":
    main()
