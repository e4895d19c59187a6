"""Per-stage benchmarks; every one also checks its output (a wrong fast answer fails).

The stages are built by :func:`stages.stages` (shared with ``benchmarks/stages.py``,
which prints the same figures as a table); the gates on them are in
``benchmarks/gates.py`` and checked at session end by ``conftest.py``.
``extra_info['replications']`` is the number of replications one call simulates,
so gates compare CPU time per replication.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import stages as st

import uturn_sim as us
from uturn_sim.measures.catalog import ROWS

STAGES = st.stages()


def _run(benchmark, name: str):
    fn, reps = STAGES[name]()
    benchmark.extra_info["replications"] = reps
    return benchmark(fn)


def _child(benchmark, fn) -> None:
    """Subprocess stages: the gate reads the child's minimum CPU time, not the parent's."""
    cpu = []
    benchmark.pedantic(lambda: cpu.append(fn()), rounds=3, iterations=1)
    benchmark.extra_info["child_cpu_s"] = min(cpu)


@pytest.mark.benchmark(group="floors")
def test_floor_numpy_default(benchmark):
    t = _run(benchmark, "test_floor_numpy_default")
    assert len(t) == st.default_draws(st.bench_scenario()) and np.all(np.diff(t) > 0)


@pytest.mark.benchmark(group="floors")
def test_floor_numpy_1m(benchmark):
    t = _run(benchmark, "test_floor_numpy_1m")
    assert len(t) == st.N_1M


@pytest.mark.benchmark(group="floors")
def test_floor_simpy_timeouts(benchmark):
    assert _run(benchmark, "test_floor_simpy_timeouts") == st.SIMPY_TIMEOUTS


@pytest.mark.benchmark(group="floors")
def test_floor_python_numpy(benchmark):
    _child(benchmark, st.python_numpy_cpu)


@pytest.mark.benchmark(group="arrivals")
def test_arrivals_poisson_1m(benchmark):
    t = _run(benchmark, "test_arrivals_poisson_1m")
    assert abs(len(t) - st.N_1M) < 6 * np.sqrt(st.N_1M) and np.all(np.diff(t) >= 0)


@pytest.mark.benchmark(group="arrivals")
def test_arrivals_time_varying_1m(benchmark):
    t = _run(benchmark, "test_arrivals_time_varying_1m")
    n = np.histogram(t, bins=[0, 900, 1800])[0]
    assert abs(len(t) - st.N_1M) < 6 * np.sqrt(st.N_1M) and n[1] > n[0]


@pytest.mark.benchmark(group="arrivals")
def test_arrivals_default_table(benchmark):
    tb = _run(benchmark, "test_arrivals_default_table")
    assert np.array_equal(tb.t, us.build_arrivals(st.bench_scenario(), 1, 3).t)


@pytest.mark.benchmark(group="arrivals")
def test_arrivals_default_batch(benchmark):
    b = _run(benchmark, "test_arrivals_default_batch")
    one = us.build_arrivals(st.bench_scenario(), 1, 5)
    assert np.array_equal(b.table(5)["t"], one.t)
    assert np.array_equal(b.table(5)["conflict_t"], one.conflict_t)


@pytest.mark.benchmark(group="gating")
def test_conflict_stream_gating(benchmark):
    d = _run(benchmark, "test_conflict_stream_gating")
    assert np.all(np.diff(d) >= 2.0 - 1e-9)


def _simpy_engine(benchmark, name):
    st_ = _run(benchmark, name)  # the bay alone (stages.bay_scenario): the gate's workload
    tb = us.build_arrivals(st.bay_scenario())
    assert st_.approach is None
    assert (~np.isnan(st_.departure)).sum() + len(st_.lane) == len(tb)


@pytest.mark.benchmark(group="engine")
def test_simpy_engine_ordinary(benchmark):
    _simpy_engine(benchmark, "test_simpy_engine_ordinary")


@pytest.mark.benchmark(group="engine")
def test_simpy_engine_linked(benchmark):
    _simpy_engine(benchmark, "test_simpy_engine_linked")


def _fast_engine(benchmark, name, scheme):
    rec = _run(benchmark, name)
    v = us.simulate(st.bench_scenario(), scheme, seed=1, replication=0).vehicles
    bay = v.loc[v["lane"] == 0, "departure_s"].to_numpy()
    thr = v.loc[v["lane"] > 0, "departure_s"].to_numpy()
    for got, ref in ((rec.departure[: len(bay)], bay), (rec.through_departure[: len(thr)], thr)):
        assert len(ref) and np.array_equal(np.isnan(got), np.isnan(ref))
        assert np.allclose(got[~np.isnan(got)], ref[~np.isnan(ref)], rtol=0, atol=1e-9)


@pytest.mark.benchmark(group="engine")
def test_fast_engine_ordinary(benchmark):
    _fast_engine(benchmark, "test_fast_engine_ordinary", "ordinary")


@pytest.mark.benchmark(group="engine")
def test_fast_engine_linked(benchmark):
    _fast_engine(benchmark, "test_fast_engine_linked", "linked")


@pytest.mark.benchmark(group="measures")
def test_fast_measures(benchmark):
    f = _run(benchmark, "test_fast_measures")
    assert len(f) == len(ROWS) * st.BATCH and (f["arrived"] >= 0).all()


@pytest.mark.benchmark(group="measures")
def test_simpy_summary(benchmark):
    f = _run(benchmark, "test_simpy_summary")
    assert list(f["movement"]) == list(ROWS)


def _compare(benchmark, name):
    comp = _run(benchmark, name)
    t = comp.table().set_index(["movement", "measure"])
    assert np.isfinite(t.loc[("uturn", "delay_mean_s"), "ci_high"])


@pytest.mark.benchmark(group="compare")
def test_compare_fast(benchmark):
    _compare(benchmark, "test_compare_fast")


@pytest.mark.benchmark(group="compare")
def test_compare_simpy(benchmark):
    _compare(benchmark, "test_compare_simpy")


_SWEEP_ROWS = {}  # engine -> rows of the shipped sweep, so the two runs are compared


def _sweep(benchmark, engine):
    rows = _run(benchmark, f"test_sweep_{engine}")
    cells = 6 * 7  # geometry.slots x demand.uturn.flow_veh_h of sweep_slots_demand.yaml
    assert len(rows) == cells * 5 * 2 * len(ROWS)
    _SWEEP_ROWS[engine] = rows
    if len(_SWEEP_ROWS) == 2:  # identical rows from both engines
        pd.testing.assert_frame_equal(_SWEEP_ROWS["fast"], _SWEEP_ROWS["simpy"], check_exact=True)


@pytest.mark.benchmark(group="sweep")
def test_sweep_simpy(benchmark):
    _sweep(benchmark, "simpy")


@pytest.mark.benchmark(group="sweep")
def test_sweep_fast(benchmark):
    _sweep(benchmark, "fast")


@pytest.mark.benchmark(group="cli")
def test_cli_check(benchmark):
    _child(benchmark, st.cli_check_cpu)


def _peak_rss(benchmark, *args: str) -> float:
    """Peak RSS (MiB) of ``benchmarks/memory_probe.py args`` in a fresh child process."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    probe = Path(__file__).with_name("memory_probe.py")
    out = []
    benchmark.pedantic(
        lambda: out.append(
            subprocess.run(
                [sys.executable, str(probe), *args], check=True, capture_output=True, text=True
            ).stdout
        ),
        rounds=1,
        iterations=1,
    )
    peak = json.loads(out[-1])["peak_rss_mib"]
    benchmark.extra_info["peak_rss_mib"] = peak
    return peak


@pytest.mark.benchmark(group="memory")
def test_memory_week_run(benchmark):
    """A 7-day run of both schemes (SimPy engine, summaries) stays under 1 GiB."""
    from gates import MEMORY_LIMIT_MIB

    assert _peak_rss(benchmark, "week") < MEMORY_LIMIT_MIB


@pytest.mark.benchmark(group="memory")
def test_memory_chunked_study(benchmark):
    """A chunked fast study stays under 1 GiB: 100,000 replications with
    ``UTURN_BENCH_FULL=1``, else 4,000 (16 chunks; memory is per chunk plus the rows)."""
    import os

    from gates import MEMORY_LIMIT_MIB

    n = 100_000 if os.environ.get("UTURN_BENCH_FULL") else 4_000
    assert _peak_rss(benchmark, "study", str(n)) < MEMORY_LIMIT_MIB
