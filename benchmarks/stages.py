"""Per-stage cost of a paired default replication, in CPU seconds (minimum of N).

Run: ``python benchmarks/stages.py [--repeat 7] [--batch 64]``.  Prints one
Markdown row per stage: CPU time per call (``time.process_time``, the minimum of
``--repeat`` timings, each timing enough calls to last about 0.2 s), the per-
replication figure and the ratio to the NumPy floor of the same size.  The
floors are measured in the same run: NumPy ``standard_exponential + cumsum`` of
as many draws as one default replication makes, and of 1 M draws.  CLI start-up
is the child's CPU time (``resource.getrusage(RUSAGE_CHILDREN)``).

Every stage runs :func:`bench_scenario`: the shipped default, the whole approach (the
bay and two through lanes), which both engines model.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

import uturn_sim as us
import uturn_sim.traffic.signal
from uturn_sim.model.schemes import get_scheme

DEFAULT_YAML = Path(us.__file__).parent / "data" / "liuyuan_longshan.yaml"
#: the shipped design sweep (42 cells x 5 replications x 2 schemes), issue #16's sweep target
SWEEP_YAML = Path(__file__).resolve().parent.parent / "scenarios" / "sweep_slots_demand.yaml"


def cpu_min(fn: Callable[[], object], repeat: int = 7, budget_s: float = 0.2) -> float:
    """Minimum over ``repeat`` timings of the CPU seconds of one call of ``fn``."""
    fn()
    t0 = time.process_time()
    fn()
    one = max(time.process_time() - t0, 1e-7)
    loops = max(1, int(budget_s / one))
    best = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()
        for _ in range(loops):
            fn()
        best = min(best, (time.process_time() - t0) / loops)
    return best


def bench_scenario() -> us.Scenario:
    """The scenario every stage runs: the shipped default (its through lanes included)."""
    return us.default_scenario()


def bay_scenario() -> us.Scenario:
    """The SimPy gates' scenario: the default with the bay alone (``through_lanes: 0``).

    Their limits were measured on that workload (about 420 vehicles a replication); the
    whole approach simulates about four times as many, which ``python benchmarks/stages.py``
    reports (``simpy_*_approach``) without a gate, so the limits are not moved.
    """
    return us.update_scenario(us.default_scenario(), {"approach.through_lanes": 0})


def default_draws(scn: us.Scenario) -> int:
    """Random draws one default replication makes (vehicles, conflict passages, attributes).

    Per bay vehicle its arrival and vehicle type, per U-turner its critical gap, per
    conflicting passage its arrival, per through vehicle its arrival and vehicle type.
    """
    tb = us.build_arrivals(scn)
    n_u = int(np.sum(tb.movement == 0))
    return 2 * len(tb) + n_u + len(tb.conflict_t) + 2 * len(tb.through_t)


def _child_cpu(args: list[str]) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, *args], check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def python_numpy_cpu() -> float:
    """CPU seconds of a bare ``python -c "import numpy"`` (the start-up floor)."""
    return _child_cpu(["-c", "import numpy"])


def cli_check_cpu(path: Path = DEFAULT_YAML) -> float:
    """CPU seconds (user + system) of ``python -m uturn_sim.cli check <default>``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(
        [sys.executable, "-m", "uturn_sim.cli", "check", str(path)],
        check=True,
        capture_output=True,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


BATCH = 64  # replications per compiled-engine call in the benchmarks
N_1M = 1_000_000
FLOW = 3600.0  # veh/h: 1 veh/s, so N vehicles in N seconds
SIMPY_TIMEOUTS = 2_000  # events of the bare SimPy floor


def _simpy_floor() -> float:
    import simpy

    env = simpy.Environment()

    def proc(env: simpy.Environment):
        for _ in range(SIMPY_TIMEOUTS):
            yield env.timeout(1.0)

    env.process(proc(env))
    env.run()
    return env.now


Stage = tuple[Callable[[], object], int]


def stages(
    batch_size: int = BATCH, sweep_spec: Path | dict = SWEEP_YAML
) -> dict[str, Callable[[], Stage]]:
    """Benchmark name -> factory of ``(callable, replications per call)``.

    The names are those of ``benchmarks/test_bench.py`` and :mod:`gates`.  Stages are
    looked up through their modules at call time, so a test can patch them.  The sweep
    stages run ``sweep_spec`` serially (one call = the whole sweep, counted as one).
    """
    import uturn_sim.fast.engine as fe
    import uturn_sim.fast.measures as fm
    import uturn_sim.model.engine as me
    import uturn_sim.sweeps.run as sr
    from uturn_sim.traffic import batch as tb
    from uturn_sim.traffic import headways as hw
    from uturn_sim.traffic import table as tt
    from uturn_sim.traffic.seeds import replication_seed

    scn = bench_scenario()
    end = scn.simulation.end_s
    rng = np.random.default_rng(1)

    def floor_default() -> Stage:
        n = default_draws(scn)
        return (lambda: np.cumsum(rng.standard_exponential(n)), 1)

    def floor_1m() -> Stage:
        return (lambda: np.cumsum(rng.standard_exponential(N_1M)), 1)

    def arrivals_1m(**kw: object) -> Callable[[], Stage]:
        return lambda: (lambda: hw.arrival_times(rng, FLOW, float(N_1M), **kw), 1)

    def table() -> Stage:
        # build_arrivals in a process that has not loaded the compiled core (a single
        # simulate): the NumPy path, plan included, whatever ran before in this process
        return (lambda: tt.draw_arrivals(scn, tt.arrival_plan(scn), replication_seed(1, 3)), 1)

    def batch() -> Stage:
        return (lambda: tb.build_arrivals_batch(scn, 1, batch_size), batch_size)

    bay = bay_scenario()

    def simpy_engine(name: str, on: us.Scenario = bay) -> Callable[[], Stage]:
        def make() -> Stage:
            sch = get_scheme(name)
            rules = sch.rules(on)
            t = us.build_arrivals(on)
            return (lambda: me.run_lane(t, sch, rules, end), 1)

        return make

    def fast_engine(name: str) -> Callable[[], Stage]:
        def make() -> Stage:
            rules = get_scheme(name).rules(scn)
            b = tb.build_arrivals_batch(scn, 1, batch_size)
            return (lambda: fe.run_records(b, rules, end), batch_size)

        return make

    def fast_measures() -> Stage:
        b = tb.build_arrivals_batch(scn, 1, batch_size)
        rec = fe.run_records(b, get_scheme("linked").rules(scn), end)
        return (lambda: fm.summarize_batch(b, rec, scn, "linked"), batch_size)

    def simpy_summary() -> Stage:
        res = us.simulate(scn, "linked")
        return (res.summary, 1)

    def compare(engine: str, n: int, on: us.Scenario = scn) -> Callable[[], Stage]:
        return lambda: (lambda: us.compare(on, replications=n, seed=1, engine=engine), n)

    def gating() -> Stage:
        w = uturn_sim.traffic.signal.green_windows(scn.signal, "opposing_through", 400_000.0)
        a = hw.arrival_times(np.random.default_rng(2), 450.0, 400_000.0)
        return (lambda: hw.gate(a, w, 2.0), 1)

    def sweep(engine: str) -> Callable[[], Stage]:
        return lambda: (lambda: sr.sweep(sweep_spec, backend="serial", engine=engine), 1)

    return {
        "test_floor_numpy_default": floor_default,
        "test_floor_numpy_1m": floor_1m,
        "test_floor_simpy_timeouts": lambda: (_simpy_floor, 1),
        "test_arrivals_poisson_1m": arrivals_1m(),
        "test_arrivals_time_varying_1m": arrivals_1m(
            factors=[0.8, 1.3, 1.1, 0.8] * (N_1M // 3600 + 1), interval_s=900.0
        ),
        "test_arrivals_default_table": table,
        "test_arrivals_default_batch": batch,
        "test_simpy_engine_ordinary": simpy_engine("ordinary"),
        "test_simpy_engine_linked": simpy_engine("linked"),
        "test_fast_engine_ordinary": fast_engine("ordinary"),
        "test_fast_engine_linked": fast_engine("linked"),
        "test_fast_measures": fast_measures,
        "test_simpy_summary": simpy_summary,
        "test_compare_fast": compare("fast", batch_size),
        "test_compare_simpy": compare("simpy", 4, bay),
        "test_conflict_stream_gating": gating,
        "test_sweep_simpy": sweep("simpy"),
        "test_sweep_fast": sweep("fast"),
    }


def main(argv: list[str] | None = None) -> None:
    """Print the per-stage table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--batch", type=int, default=BATCH)
    ap.add_argument("--only", default="", help="substring filter on stage names")
    a = ap.parse_args(argv)
    from uturn_sim.fast import warmup

    warmup()
    st = stages(a.batch)
    floor = cpu_min(st["test_floor_numpy_default"]()[0], a.repeat)
    print("| stage | CPU per call | per replication | replications/s | / NumPy floor (default) |")
    print("|---|---|---|---|---|")
    for name, make in st.items():
        if a.only and a.only not in name:
            continue
        fn, reps = make()
        t = cpu_min(fn, a.repeat)
        print(
            f"| {name} | {t * 1e3:.3f} ms | {t / reps * 1e3:.3f} ms | {reps / t:,.0f} "
            f"| {t / reps / floor:.1f} |"
        )
    # not gated: the SimPy engine on the whole approach (the gates keep the bay alone)
    import uturn_sim.model.engine as me

    scn = bench_scenario()
    t_arr = us.build_arrivals(scn)
    for sch_name in ("ordinary", "linked"):
        sch = get_scheme(sch_name)
        rules = sch.rules(scn)
        t = cpu_min(
            lambda sch=sch, rules=rules: me.run_lane(t_arr, sch, rules, scn.simulation.end_s),
            a.repeat,
        )
        print(
            f"| simpy_engine_{sch_name}_approach (no gate) | {t * 1e3:.3f} ms | {t * 1e3:.3f} ms "
            f"| {1 / t:,.0f} | {t / floor:.1f} |"
        )
    t = cpu_min(lambda: us.compare(scn, replications=4, seed=1, engine="simpy"), a.repeat)
    print(
        f"| compare_simpy_approach (no gate) | {t * 1e3:.3f} ms | {t / 4 * 1e3:.3f} ms "
        f"| {4 / t:,.0f} | {t / 4 / floor:.1f} |"
    )
    for name, fn in (
        ("test_floor_python_numpy", python_numpy_cpu),
        ("test_cli_check", cli_check_cpu),
    ):
        t = min(fn() for _ in range(max(3, a.repeat // 2)))
        print(f"| {name} (child CPU) | {t * 1e3:.0f} ms | | | |")


if __name__ == "__main__":
    main()
