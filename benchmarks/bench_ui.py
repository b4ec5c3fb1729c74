"""Web interface speed on a large lineage: one asset with --fan-out products (default 10,000).

    python -m benchmarks.bench_ui [--fan-out 10000] [--runs 3]

Starts the API (uvicorn, one worker) on an embedded store with the demo hospital plus the
fan-out, then times, as medians of --runs: the lineage API answer for the whole neighbourhood
(``GET /api/assets/{id}/lineage?max_nodes=12000``), the asset page's HTML, and, when Debian's
``chromium`` is installed, the browser from navigation until the graph is drawn (Playwright).
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from kg.service import Service
from kg.settings import Settings
from tests.servers import api_in_thread, fan_out_nt

ROOT = Path(__file__).resolve().parents[1]

HUB = "web-hub"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fan-out", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        svc = Service(Settings(store=f"oxigraph:{tmp}/store"))
        svc.initialize(demo=True)
        svc.import_files([fan_out_nt(Path(tmp) / "big.nt", HUB, args.fan_out)])
        served = contextlib.ExitStack()
        base = served.enter_context(api_in_thread(svc))
        timings: dict[str, list[float]] = {"lineage API": [], "asset page HTML": [], "browser until drawn": []}
        for _ in range(args.runs):
            t0 = time.perf_counter()
            r = httpx.get(f"{base}/api/assets/{HUB}/lineage?direction=both&depth=3&max_nodes=12000", timeout=300)
            timings["lineage API"].append(time.perf_counter() - t0)
            assert len(r.json()["nodes"]) == args.fan_out + 1
            t0 = time.perf_counter()
            httpx.get(f"{base}/ui/assets/{HUB}", timeout=300).raise_for_status()
            timings["asset page HTML"].append(time.perf_counter() - t0)
        chromium = shutil.which("chromium")
        if chromium:
            from playwright.sync_api import sync_playwright

            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
                for _ in range(args.runs):
                    page = browser.new_page(viewport={"width": 1400, "height": 1000})
                    t0 = time.perf_counter()
                    page.goto(f"{base}/ui/assets/{HUB}")
                    page.wait_for_selector("[data-testid=lineage-graph][data-ready=true]", timeout=300_000)
                    timings["browser until drawn"].append(time.perf_counter() - t0)
                    page.close()
                browser.close()
        served.close()
        svc.close()
    print(f"lineage of {args.fan_out + 1:,} nodes (medians of {args.runs}):")
    for name, values in timings.items():
        if values:
            print(f"  {name:22} {statistics.median(values):.2f} s  (runs: {', '.join(f'{v:.2f}' for v in values)})")


if __name__ == "__main__":
    main()
