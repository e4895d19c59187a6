"""The compiled measures' building blocks equal the NumPy / pandas reference bit for bit.

``tests/test_fast.py`` compares whole summaries of both engines; here each faster
piece is held against the reference it replaces, on the cases where it could differ:
selection against ``np.percentile`` (ties, signed zeros, tiny samples), the bucket
order against NumPy's stable argsort (ties, clustered values), the one-pass queue
statistics against ``queue_steps`` + ``time_weighted_stats`` (heavy vehicles, whose
metre level is no function of the count; a quantile boundary exactly on the target,
which takes the reference path), and the split ``batch_stats`` / ``stats_frame``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from uturn_sim.fast import measures as fm
from uturn_sim.fast import rowstats as rs
from uturn_sim.fast.engine import run_records
from uturn_sim.fast.queues import _level_quantile, row_queues
from uturn_sim.fast.select import percentiles
from uturn_sim.fast.sorting import _bucket_order, argsort_stable
from uturn_sim.fast.stats import pairwise_sum
from uturn_sim.measures.catalog import ROWS
from uturn_sim.measures.summary import _share_above, queue_steps, time_weighted_stats
from uturn_sim.model.schemes import get_scheme
from uturn_sim.scenario.loading import default_scenario, update_scenario
from uturn_sim.traffic.batch import build_arrivals_batch

FLOATS = st.floats(-1e4, 1e4, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.one_of(FLOATS, st.sampled_from([0.0, -0.0, 1.0, 2.0])), min_size=1, max_size=400),
    st.sampled_from([(0.5, 0.95), (0.95, 0.95), (0.0, 0.05), (0.0, 1.0), (0.25, 0.26)]),
)
def test_percentiles_by_selection_equal_numpy(values, qs):
    x = np.array(values)
    got = percentiles(x.copy(), x.size, *qs)
    for g, q in zip(got, qs, strict=True):
        want = np.percentile(x, 100 * q)
        assert g == want or (np.isnan(g) and np.isnan(want)), (q, g, want)


@pytest.mark.parametrize(
    "n", [0, 1, 7, 8, 9, 128, 129, 241, 242, 243, 470, 471, 926, 927, 1838, 1839, 3662,
          3663, 7310, 7311, 30_001]
)
def test_pairwise_sum_is_numpys(n):
    """Every depth of the unrolled halving and the stack above it."""
    rng = np.random.default_rng(n)
    x = rng.standard_normal(n + 3) * 10.0 ** rng.uniform(-8, 8, n + 3)
    for lo in (0, 3):
        assert pairwise_sum(x, lo, n) == np.sum(x[lo : lo + n])


def test_percentiles_of_nothing_are_nan_and_only_the_prefix_counts():
    assert all(np.isnan(percentiles(np.empty(0), 0, 0.5, 0.95)))
    x = np.array([3.0, 1.0, 2.0, 1e9, -1e9])
    assert percentiles(x, 3, 0.5, 1.0) == (2.0, 3.0)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(FLOATS, max_size=500),
    st.integers(0, 60),
    st.lists(st.sampled_from([5.0, 5.0 + 1e-12, 7.0]), max_size=100),
)
def test_bucket_order_is_numpys_stable_order(spread, ties, cluster):
    """Spread values, runs of ties, a tight cluster (a crowded bucket: merged instead)."""
    x = np.concatenate((np.array(spread), np.full(ties, 3.0), np.array(cluster)))
    want = np.argsort(x, kind="stable")
    np.testing.assert_array_equal(argsort_stable(x), want)
    order = _bucket_order(x)
    assert order.size in (0, x.size)  # 0: gave up (the caller merges)
    if order.size:
        np.testing.assert_array_equal(order, want)


def test_bucket_order_gives_up_on_infinities_and_crowds():
    assert _bucket_order(np.array([1.0, np.inf, 2.0])).size == 0
    assert _bucket_order(np.concatenate((np.zeros(100), [1e6]))).size == 0
    np.testing.assert_array_equal(_bucket_order(np.full(5, 2.0)), np.arange(5))


def _reference_queues(a, d, row, length, t0, t1, q=0.95):
    """``summarize``'s queue statistics per row (the last: every vehicle)."""
    out = np.empty((4, 6))
    for r in range(4):
        sel = np.ones(a.size, bool) if r == 3 else row == r
        qt, qn = queue_steps(a[sel], d[sel])
        mt, mm = queue_steps(a[sel], d[sel], length[sel])
        out[r, :3] = time_weighted_stats(qt, qn, t0, t1, q)
        out[r, 3:] = time_weighted_stats(mt, mm, t0, t1, q)
    return out


def _compiled_queues(a, d, row, length, t0, t1, q=0.95, spill_row=-1, limit=0.0):
    n = a.size
    ne = 2 * n + 1
    ev, ev_v, ev_s = np.empty(ne), np.empty(ne, dtype=np.int64), np.empty(ne)
    order = rs._events(n, a, d, ev, ev_v, ev_s)
    out = np.empty((4, 6))
    share = row_queues(
        ev, ev_v, ev_s, order, n, row, length, t0, t1, q, spill_row, limit,
        np.empty((4, 3, ne)), np.empty((4, ne)), np.empty((4, ne)), np.empty((4, ne)),
        np.zeros((4, n + 1)), np.empty((4, n + 1)), out,
    )  # fmt: skip
    return out, share


def _same(got, want):
    got, want = np.asarray(got, float), np.asarray(want, float)
    assert ((got == want) | (np.isnan(got) & np.isnan(want))).all(), (got, want)


@settings(max_examples=150, deadline=None)
@given(
    st.integers(0, 60),
    st.integers(0, 2**32 - 1),
    st.sampled_from([(7.5, 7.5), (7.5, 12.0), (6.1, 6.1), (0.3, 0.7)]),
    st.booleans(),
)
def test_one_pass_queues_equal_the_reference(n, seed, lengths, grid):
    """Random queues, one or two vehicle lengths, times on a coarse grid (many ties)."""
    rng = np.random.default_rng(seed)
    a = np.sort(rng.uniform(0, 100, n))
    d = a + rng.exponential(8, n)
    if grid:
        a, d = np.round(a / 5) * 5, np.round(d / 5) * 5
    d[rng.random(n) < 0.1] = np.nan  # still waiting
    d[rng.random(n) < 0.05] -= 1e-15  # a departure "before" its own arrival
    row = rng.integers(0, 3, n)
    length = np.where(rng.random(n) < 0.3, *lengths)
    t0, t1 = 20.0, 80.0
    got, share = _compiled_queues(a, d, row, length, t0, t1, spill_row=3, limit=20.0)
    _same(got, _reference_queues(a, d, row, length, t0, t1))
    mt, mm = queue_steps(a, d, length)
    assert share == _share_above(mt, mm, 20.0, t0, t1)


@pytest.mark.parametrize("q", [0.5, 0.75, 0.95, 1.0])
def test_quantile_on_a_level_boundary_takes_the_reference_path(q):
    """A level whose cumulative weight lands exactly on the target ``q - 1e-12``: too
    close to call per level, so the stable-sort reference decides, with the same bits."""
    target = q - 1e-12
    a = np.array([target, 0.2, 0.4])  # one vehicle queued from the target share on
    d = np.array([5.0, 0.2, 0.4])
    row = np.array([0, 1, 1])
    length = np.full(3, 7.5)
    hist = np.array([target, 1.0 - target])
    assert _level_quantile(hist, 1, 4, 1.0, target) == -1
    got, _ = _compiled_queues(a, d, row, length, 0.0, 1.0, q=q)
    _same(got, _reference_queues(a, d, row, length, 0.0, 1.0, q=q))


def test_level_quantile_decides_only_clear_of_rounding():
    hist = np.array([0.5, 0.0, 0.25, 0.25])  # levels 0, 2 and 3
    assert _level_quantile(hist, 3, 3, 1.0, 0.6) == 2
    assert _level_quantile(hist, 3, 3, 1.0, 0.95 - 1e-12) == 3
    assert _level_quantile(hist, 3, 3, 1.0, 0.5 - 1e-12) == 0
    assert _level_quantile(hist, 3, 3, 1.0, 0.5) == -1  # exactly on a boundary
    assert _level_quantile(hist, 3, 3, 1.0, 0.75 + 1e-15) == -1  # within rounding
    assert _level_quantile(hist, 3, 3, 1.0, 1.0 + 1e-9) == -1  # never reached


@pytest.fixture(scope="module")
def default_batch():
    scn = default_scenario()
    batch = build_arrivals_batch(scn, 3, 3)
    rec = run_records(batch, get_scheme("linked").rules(scn), scn.simulation.end_s)
    return scn, batch, rec


def test_stats_frame_builds_the_summary_from_the_array(default_batch):
    scn, batch, rec = default_batch
    stats = fm.batch_stats(batch, rec, scn)
    assert stats.shape == (len(batch), len(ROWS), len(rs.STATS))
    frame = fm.stats_frame(stats, batch.replications, "linked", scn)
    pd.testing.assert_frame_equal(frame, fm.summarize_batch(batch, rec, scn, "linked"))
    # stacked batches: one frame for the study
    both = fm.stats_frame(np.concatenate((stats, stats)), np.arange(2 * len(batch)), "x", scn)
    assert len(both) == 2 * len(batch) * len(ROWS)
    assert list(both["replication"].unique()) == list(range(2 * len(batch)))


def test_stats_frame_refuses_a_wrong_shape(default_batch):
    scn = default_batch[0]
    with pytest.raises(ValueError, match=r"stats must have shape \(replications, 4, "):
        fm.stats_frame(np.zeros((2, 3, len(rs.STATS))), np.arange(2), "x", scn)
    with pytest.raises(ValueError, match="replications has 1 entries for 2 replications"):
        fm.stats_frame(np.zeros((2, len(ROWS), len(rs.STATS))), np.arange(1), "x", scn)


def test_batch_stats_takes_records_of_other_dtypes(default_batch):
    """Records built elsewhere (other integer / float widths) give the same statistics."""
    import dataclasses

    scn, batch, rec = default_batch
    other = dataclasses.replace(
        rec,
        served_by=rec.served_by.astype(np.int64),
        spilled=rec.spilled.astype(np.int8),
        lane_one_state=rec.lane_one_state.astype(np.int32),
        lane_one_offsets=rec.lane_one_offsets.astype(np.int32),
    )
    _same(fm.batch_stats(batch, other, scn), fm.batch_stats(batch, rec, scn))


def test_heavy_vehicles_take_the_general_metre_path():
    """With heavy vehicles the metre level is no function of the count."""
    scn = update_scenario(default_scenario(), {"vehicle_mix.heavy_share": 0.3})
    batch = build_arrivals_batch(scn, 5, 1)
    rec = run_records(batch, get_scheme("ordinary").rules(scn), scn.simulation.end_s)
    stats = fm.batch_stats(batch, rec, scn)
    k = rec.rows(batch, 0)
    tk = rec.through_rows(batch, 0)
    rules = rec.rules
    a = np.concatenate((batch.t[k], batch.through_t[tk]))
    d = np.concatenate((rec.departure[k], rec.through_departure[tk]))
    heavy = np.concatenate((batch.heavy[k], batch.through_heavy[tk]))
    row = np.concatenate((batch.movement[k].astype(np.int64), np.full(tk.stop - tk.start, 2)))
    length = np.where(heavy, rules.heavy_length_m, rules.car_length_m)
    t0, t1 = scn.simulation.warmup_s, scn.simulation.warmup_s + scn.simulation.duration_s
    want = _reference_queues(a, d, row, length, t0, t1)
    _same(stats[0][:, rs._QVEH : rs._QVEH + 3], want[:, :3])
    _same(stats[0][:, rs._QM : rs._QM + 3], want[:, 3:])
