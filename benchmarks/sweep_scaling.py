"""Wall time of the example sweep on 1 and 2 workers, processes and Dask.

Run: ``python benchmarks/sweep_scaling.py [SWEEP.yaml]``.  Checks every backend gives
the serial backend's rows exactly and prints the parallel efficiency
``T(1 worker) / (2 x T(2 workers))``.  Dask times include starting a LocalCluster.
"""

from __future__ import annotations

import sys
import time

import pandas as pd

from uturn_sim.sweeps.run import load_sweep, sweep


def main(path: str) -> None:
    spec, _, cells = load_sweep(path)
    runs = len(cells) * spec.replications * len(spec.schemes)
    t = time.perf_counter()
    ref = sweep(path, backend="serial")
    print(
        f"{path}: {len(cells)} cells x {spec.replications} replications x "
        f"{len(spec.schemes)} schemes = {runs} runs"
    )
    print("| backend | workers | wall s | runs/s | efficiency |\n|---|---|---|---|---|")
    print(
        f"| serial | 1 | {time.perf_counter() - t:.2f} | {runs / (time.perf_counter() - t):.0f} | |"
    )
    for backend in ("processes", "dask"):
        times = {}
        for w in (1, 2):
            t = time.perf_counter()
            rows = sweep(path, backend=backend, workers=w)
            times[w] = time.perf_counter() - t
            pd.testing.assert_frame_equal(rows, ref)
            eff = f"{times[1] / (2 * times[2]):.0%}" if w == 2 else ""
            print(f"| {backend} | {w} | {times[w]:.2f} | {runs / times[w]:.0f} | {eff} |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "scenarios/sweep_slots_demand.yaml")
