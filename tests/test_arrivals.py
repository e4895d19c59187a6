import numpy as np
import pytest
from scipy import stats

import uturn_sim as us
from uturn_sim.traffic.headways import arrival_times, gate, lindley, unit_headways
from uturn_sim.traffic.seeds import STREAM_NAMES, replication_seed, spawn_streams
from uturn_sim.traffic.signal import green_windows

from .conftest import small_scenario


def rng(seed=0):
    return np.random.default_rng(seed)


def test_time_varying_counts_within_poisson_bounds():
    """Counts per 15-min interval of a profiled Poisson stream match rate x factor."""
    factors = [0.8, 1.3, 1.1, 0.8]
    flow, reps = 600.0, 400
    counts = np.zeros((reps, 4))
    for r in range(reps):
        t = arrival_times(rng(r), flow, 3600.0, factors=factors, interval_s=900.0)
        counts[r] = np.histogram(t, bins=[0, 900, 1800, 2700, 3600])[0]
    expected = flow / 4 * np.asarray(factors)
    # mean over replications within 4 standard errors of a Poisson count
    se = np.sqrt(expected / reps)
    assert np.all(np.abs(counts.mean(axis=0) - expected) < 4 * se)
    # and the dispersion is Poisson's (variance / mean near 1)
    ratio = counts.var(axis=0, ddof=1) / counts.mean(axis=0)
    assert np.all((ratio > 0.75) & (ratio < 1.3))


def test_profile_start_offset_and_hold():
    """Warm-up uses the first factor, after the profile the last one holds."""
    t = arrival_times(rng(1), 3600.0, 5000.0, factors=[2.0, 0.0], interval_s=1000.0, start_s=1000.0)
    n = np.histogram(t, bins=[0, 1000, 2000, 3000, 5000])[0]
    assert abs(n[0] - 2000) < 5 * np.sqrt(2000)
    assert abs(n[1] - 2000) < 5 * np.sqrt(2000)
    assert n[2] == 0 and n[3] == 0


@pytest.mark.parametrize(
    "model,dmin,theta",
    [("poisson", 0.0, 0.0), ("shifted_exponential", 1.5, 0.0), ("cowan_m3", 1.0, 0.4)],
)
def test_headways_pass_ks_against_their_model(model, dmin, theta):
    flow = 720.0  # mean headway 5 s
    t = arrival_times(
        rng(7), flow, 200_000 * 5.0, model=model, min_headway_s=dmin, bunched_share=theta
    )
    h = np.diff(t)
    mean = 3600.0 / flow
    assert abs(h.mean() - mean) < 0.02 * mean
    assert h.min() >= dmin - 1e-9
    free = h[h > dmin + 1e-9] - dmin
    # free part exponential with the mean that keeps the overall mean
    free_mean = (mean - dmin) / (1.0 - theta)
    assert stats.kstest(free, "expon", args=(0, free_mean)).pvalue > 0.001
    bunched = np.mean(h <= dmin + 1e-9)
    assert abs(bunched - theta) < 4 * np.sqrt(theta * (1 - theta) / len(h)) + 1e-9


def test_ks_rejects_a_wrong_model():
    """The KS check above has power: Cowan headways are not exponential."""
    t = arrival_times(
        rng(7), 720.0, 200_000.0, model="cowan_m3", min_headway_s=1.0, bunched_share=0.4
    )
    assert stats.kstest(np.diff(t), "expon", args=(0, 5.0)).pvalue < 1e-6


def test_unit_headways_reject_bad_parameters():
    with pytest.raises(ValueError, match="unknown headway model"):
        unit_headways(rng(), 10, "gamma")
    with pytest.raises(ValueError, match="min_headway"):
        unit_headways(rng(), 10, "shifted_exponential", 1.2)


def test_lindley_closed_form_equals_loop():
    a = np.sort(rng(3).uniform(0, 100, 500))
    d, prev = [], -np.inf
    for x in a:
        prev = max(x, prev + 2.0)
        d.append(prev)
    np.testing.assert_allclose(lindley(a, 2.0), d)


def test_gated_stream_never_passes_in_red_and_discharges_at_saturation():
    scn = small_scenario()
    w = green_windows(scn.signal, "opposing_through", 4000.0)
    a = np.sort(rng(5).uniform(0, 3600, 700))  # 700 veh/h on one lane, capacity 750
    d = gate(a, w, 2.0)
    assert np.all(w.contains(d))
    assert np.all(d >= a) and np.all(np.diff(d) >= 2.0 - 1e-9)
    # a standing queue of 10 at the red discharges from the effective green start at 2 s
    queue = np.linspace(28.0, 29.0, 10)
    np.testing.assert_allclose(gate(queue, w, 2.0), 62.0 + 2.0 * np.arange(10))


def test_gate_carries_over_to_next_cycles():
    scn = small_scenario()
    w = green_windows(scn.signal, "opposing_through", 4000.0)
    d = gate(np.full(30, 0.0), w, 2.0)  # 30 at once: 13 per 25 s window
    assert np.all(w.contains(d))
    assert (d < 27).sum() == 13 and ((d >= 62) & (d < 87)).sum() == 13


def test_same_seed_same_arrays_and_different_streams_independent():
    scn = us.default_scenario()
    a, b = us.build_arrivals(scn, 5, 0), us.build_arrivals(scn, 5, 0)
    for field in ("t", "movement", "conflict_t", "critical_gap_s"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    c = us.build_arrivals(scn, 5, 1)
    assert not np.array_equal(a.t[:50], c.t[:50])
    # U-turn and left arrival counts per minute are uncorrelated (independent streams)
    corr = []
    for r in range(30):
        tab = us.build_arrivals(scn, 11, r)
        bins = np.arange(0, scn.simulation.end_s + 60, 60)
        nu = np.histogram(tab.t[tab.movement == 0], bins)[0]
        nl = np.histogram(tab.t[tab.movement == 1], bins)[0]
        corr.append(np.corrcoef(nu - nu.mean(), nl - nl.mean())[0, 1])
    # profile-induced common trend is removed by comparing to the mean correlation bound
    assert abs(np.mean(corr)) < 0.15


def test_streams_are_named_and_seed_recorded():
    ss = replication_seed(42, 3)
    streams = spawn_streams(ss)
    assert list(streams) == list(STREAM_NAMES)
    assert ss.entropy == 42 and ss.spawn_key == (3,)
    assert (
        replication_seed(42, 3).generate_state(4).tolist()
        == np.random.SeedSequence(42).spawn(5)[3].generate_state(4).tolist()
    )
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        replication_seed(-1)


def test_critical_gap_distribution_is_drawn_and_truncated():
    scn = small_scenario(
        behaviour={
            "critical_gap": {
                "distribution": "normal",
                "mean_s": 6.4,
                "sd_s": 1.0,
                "min_s": 4.0,
                "max_s": 9.0,
            }
        },
        simulation={"duration_s": 36000, "warmup_s": 0, "cooldown_s": 0},
    )
    tab = us.build_arrivals(scn)
    g = tab.critical_gap_s[tab.movement == 0]
    assert g.min() >= 4.0 and g.max() <= 9.0
    assert abs(g.mean() - 6.4) < 0.05 and 0.85 < g.std() < 1.05
    assert np.isnan(tab.critical_gap_s[tab.movement == 1]).all()


def test_vehicle_mix_share():
    scn = small_scenario(
        vehicle_mix={"heavy_share": 0.2},
        simulation={"duration_s": 36000, "warmup_s": 0, "cooldown_s": 0},
    )
    tab = us.build_arrivals(scn)
    assert abs(tab.heavy.mean() - 0.2) < 4 * np.sqrt(0.16 / len(tab))


def test_conflicting_traffic_runs_past_the_end_of_the_run():
    """Found by validation: a stream cut at the horizon made the last seconds one endless
    gap, letting U-turners leave freely (+1-3% capacity at high conflicting flow)."""
    scn = us.default_scenario()
    tab = us.build_arrivals(scn)
    assert tab.conflict_t.max() > scn.simulation.end_s + 300
    assert tab.t.max() < scn.simulation.end_s


def test_gate_leaves_out_vehicles_queued_past_the_last_window():
    """A queue not cleared before the last green window passes after the run (no hang)."""
    from uturn_sim.traffic.headways import gate
    from uturn_sim.traffic.signal import GreenWindows

    wins = GreenWindows(starts=np.array([0.0, 10.0]), ends=np.array([2.0, 12.0]))
    d = gate(np.zeros(5), wins, 1.0)
    np.testing.assert_allclose(d, [0.0, 1.0, 10.0, 11.0])


def test_stream_seed_equals_the_spawned_child():
    """Streams built directly are the spawned ones (what keeps every draw unchanged)."""
    from uturn_sim.traffic.seeds import stream_seed

    ss = replication_seed(20250901, 7)
    streams = spawn_streams(ss)
    for name in STREAM_NAMES:
        want = streams[name]
        assert np.array_equal(stream_seed(ss, name).generate_state(4), want.generate_state(4))
        for k, child in enumerate(want.spawn(3)):
            got = stream_seed(ss, name, k).generate_state(4)
            assert np.array_equal(got, child.generate_state(4)), (name, k)


def test_compiled_gate_equals_numpy_gate_bit_for_bit():
    from uturn_sim.traffic.gating import gate_lanes

    scn = small_scenario()
    w = green_windows(scn.signal, "opposing_through", 4000.0)
    lanes = [arrival_times(rng(s), f, 4000.0) for s, f in enumerate((300.0, 700.0, 900.0, 0.0))]
    lanes.append(arrival_times(rng(9), 900.0, 6000.0))  # queued past the last window
    for h in (1.8, 2.0, 2.7):
        got = gate_lanes(lanes, w.starts, w.ends, h)
        for lane, g in zip(lanes, got, strict=True):
            want = gate(lane, w, h)
            assert g.dtype == want.dtype and np.array_equal(g, want)


def test_batch_equals_single_tables_with_through_lanes_and_profiles():
    """Replication r of a batch is build_arrivals(scn, seed, r), every array, bit for bit."""
    from uturn_sim.scenario.loading import update_scenario
    from uturn_sim.traffic.batch import build_arrivals_batch

    base = us.default_scenario()
    cases = [
        base,
        update_scenario(
            base,
            {
                "approach.through_lanes": 0,
                "demand.opposing_through.headway.model": "cowan_m3",
                "demand.opposing_through.headway.min_headway_s": 1.0,
                "demand.opposing_through.headway.bunched_share": 0.3,
                "demand.cross_left.lanes": 2,
                "behaviour.critical_gap.distribution": "lognormal",
                "behaviour.critical_gap.sd_s": 1.0,
            },
        ),
        small_scenario(),
    ]
    for scn in cases:
        b = build_arrivals_batch(scn, 5, [0, 3, 4])
        for k, r in enumerate((0, 3, 4)):
            one = us.build_arrivals(scn, 5, r)
            for col, got in b.table(k).items():
                want = getattr(one, col)
                assert got.dtype == want.dtype, col
                assert np.array_equal(got, want, equal_nan=True), (col, r)
