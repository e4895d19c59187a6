"""Throughput benchmarks; every one also checks its output (a wrong fast answer fails).

``extra_info['veh_per_s']`` is vehicles generated or simulated per second of wall time.
"""

from __future__ import annotations

import numpy as np
import pytest

import uturn_sim as us
from uturn_sim.model.engine import run_lane
from uturn_sim.model.schemes import get_scheme
from uturn_sim.traffic.headways import arrival_times, gate
from uturn_sim.traffic.signal import green_windows

N = 1_000_000
FLOW = 3600.0  # veh/h: 1 veh/s, so N vehicles in N seconds


def _rate(benchmark, n):
    benchmark.extra_info["vehicles"] = int(n)
    benchmark.extra_info["veh_per_s"] = n / benchmark.stats.stats.median


@pytest.mark.benchmark(group="arrivals")
def test_raw_numpy_floor(benchmark):
    rng = np.random.default_rng(1)
    t = benchmark(lambda: np.cumsum(rng.exponential(1.0, N)))
    assert len(t) == N and np.all(np.diff(t[:1000]) > 0)
    _rate(benchmark, N)


@pytest.mark.benchmark(group="arrivals")
@pytest.mark.parametrize("model,dmin,theta", [("poisson", 0, 0)])
def test_arrivals_poisson(benchmark, model, dmin, theta):
    rng = np.random.default_rng(1)
    t = benchmark(lambda: arrival_times(rng, FLOW, float(N), model=model))
    assert abs(len(t) - N) < 6 * np.sqrt(N) and np.all(np.diff(t) >= 0)
    _rate(benchmark, len(t))


@pytest.mark.benchmark(group="arrivals")
def test_arrivals_shifted_exponential(benchmark):
    rng = np.random.default_rng(1)
    t = benchmark(
        lambda: arrival_times(rng, FLOW, float(N), model="shifted_exponential", min_headway_s=0.3)
    )
    assert np.diff(t).min() >= 0.3 - 1e-9 and abs(len(t) - N) < 6 * np.sqrt(N)
    _rate(benchmark, len(t))


@pytest.mark.benchmark(group="arrivals")
def test_arrivals_cowan_m3(benchmark):
    rng = np.random.default_rng(1)
    t = benchmark(
        lambda: arrival_times(
            rng, FLOW, float(N), model="cowan_m3", min_headway_s=0.3, bunched_share=0.3
        )
    )
    h = np.diff(t)
    assert h.min() >= 0.3 - 1e-9 and abs(np.mean(h <= 0.3 + 1e-9) - 0.3) < 0.01
    _rate(benchmark, len(t))


@pytest.mark.benchmark(group="arrivals")
def test_arrivals_time_varying(benchmark):
    rng = np.random.default_rng(1)
    factors = [0.8, 1.3, 1.1, 0.8] * (N // 3600 + 1)
    t = benchmark(lambda: arrival_times(rng, FLOW, float(N), factors=factors, interval_s=900.0))
    n = np.histogram(t, bins=[0, 900, 1800])[0]
    assert abs(len(t) - N) < 6 * np.sqrt(N) and n[1] > n[0]
    _rate(benchmark, len(t))


@pytest.mark.benchmark(group="gating")
def test_conflict_stream_gating(benchmark):
    scn = us.default_scenario()
    horizon = 400_000.0
    w = green_windows(scn.signal, "opposing_through", horizon)
    a = arrival_times(np.random.default_rng(2), 450.0, horizon)  # one lane of the default
    d = benchmark(lambda: gate(a, w, 2.0))
    assert np.all(w.contains(d)) and np.all(d >= a)
    _rate(benchmark, len(a))


@pytest.fixture(scope="module")
def default_table():
    scn = us.default_scenario()
    return scn, us.build_arrivals(scn)


def _replication(benchmark, scheme, default_table):
    scn, table = default_table
    sch = get_scheme(scheme)
    rules = sch.rules(scn)
    st = benchmark(lambda: run_lane(table, sch, rules, scn.simulation.end_s))
    served = ~np.isnan(st.departure)
    assert served.sum() + len(st.lane) == len(table)
    assert np.all(st.departure[served] >= table.t[served])
    _rate(benchmark, len(table))


@pytest.mark.benchmark(group="replication")
def test_replication_ordinary(benchmark, default_table):
    _replication(benchmark, "ordinary", default_table)


@pytest.mark.benchmark(group="replication")
def test_replication_linked(benchmark, default_table):
    _replication(benchmark, "linked", default_table)


@pytest.mark.benchmark(group="replication")
def test_replication_both_end_to_end(benchmark):
    """Arrivals, both schemes and their summaries: what one compare replication costs."""
    scn = us.default_scenario()

    def one():
        table = us.build_arrivals(scn)
        return [us.simulate(scn, s, arrivals=table).summary() for s in ("ordinary", "linked")]

    o, li = benchmark(one)
    assert (o["arrived"] == li["arrived"]).all()
    _rate(benchmark, 2 * o.set_index("movement").loc["all", "arrived"])


@pytest.mark.benchmark(group="compare")
def test_compare_20_replications(benchmark):
    scn = us.default_scenario()
    comp = benchmark.pedantic(
        lambda: us.compare(scn, replications=20, seed=1), rounds=3, iterations=1
    )
    t = comp.table().set_index(["movement", "measure"])
    assert t.loc[("uturn", "delay_mean_s"), "ci_high"] < 0
    n = comp.summaries.query("movement == 'all'")["arrived"].sum()
    _rate(benchmark, n)
