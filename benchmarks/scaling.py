"""How cost grows with simulated duration and demand (README "Performance").

Run: ``python benchmarks/scaling.py``.  Prints wall time and simulated approach
vehicles per second for each scheme at 1x, 10x, 100x the default duration (a
stationary hour repeated) and at 1x, 2x, 4x the default demand.
"""

from __future__ import annotations

import time

import uturn_sim as us
from uturn_sim.model.engine import run_lane
from uturn_sim.model.schemes import get_scheme


def timed(scn, scheme, table) -> float:
    sch = get_scheme(scheme)
    rules = sch.rules(scn)
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        run_lane(table, sch, rules, scn.simulation.end_s)
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    base = us.default_scenario()
    flat = base.model_copy(update={"demand": base.demand.model_copy(update={"profile": None})})
    print("| case | vehicles | ordinary s | ordinary veh/s | linked s | linked veh/s |")
    print("|---|---|---|---|---|---|")
    for mult in (1, 10, 100):
        sim = flat.simulation.model_copy(update={"duration_s": 3600.0 * mult})
        scn = flat.model_copy(update={"simulation": sim})
        table = us.build_arrivals(scn)
        o, li = timed(scn, "ordinary", table), timed(scn, "linked", table)
        print(
            f"| {mult}x duration ({mult} h) | {len(table)} | {o:.4f} | {len(table) / o:,.0f} | "
            f"{li:.4f} | {len(table) / li:,.0f} |"
        )
    for mult in (1, 2, 4):
        d = flat.demand
        demand = d.model_copy(
            update={
                "uturn": d.uturn.model_copy(update={"flow_veh_h": d.uturn.flow_veh_h * mult}),
                "left": d.left.model_copy(update={"flow_veh_h": d.left.flow_veh_h * mult}),
            }
        )
        sim = flat.simulation.model_copy(update={"duration_s": 36000.0})
        scn = flat.model_copy(update={"demand": demand, "simulation": sim})
        table = us.build_arrivals(scn)
        o, li = timed(scn, "ordinary", table), timed(scn, "linked", table)
        print(
            f"| {mult}x demand (10 h) | {len(table)} | {o:.4f} | {len(table) / o:,.0f} | "
            f"{li:.4f} | {len(table) / li:,.0f} |"
        )


if __name__ == "__main__":
    main()
