"""The model against closed forms (DOMAIN.md), with fixed seeds.

Tolerances come from the replications: the closed form must lie inside the
99.9% Student-t interval of the simulated mean (a 95% interval would miss one
point in twenty by chance).  Where theory is itself approximate (Webster) the
stated model tolerance is added to that interval.
"""

import itertools

import numpy as np
import pytest

import uturn_sim as us
from uturn_sim.study.compare import mean_ci
from uturn_sim.validation.experiments import (
    LAG,
    TC,
    TF,
    capacity_scenario,
    crn_variance,
    littles_law,
    run_capacity,
    run_webster,
)
from uturn_sim.validation.theory import (
    cowan_m3_capacity,
    harders_capacity,
    hcm_uniform_delay,
    linked_capacity,
    webster_delay,
)

REPS = 12


def assert_theory_inside(frame, confidence=0.999, slack=0.0):
    """Each row's theory lies in the ``confidence`` interval of its replications (+ slack)."""
    for _, row in frame.iterrows():
        half95 = (row["ci_high"] - row["ci_low"]) / 2
        # widen the stored 95% interval to `confidence` with the same t quantiles
        from scipy import stats

        n = row["n"]
        half = half95 * stats.t.ppf(0.5 + confidence / 2, n - 1) / stats.t.ppf(0.975, n - 1)
        tol = half + slack * row["theory"]
        assert abs(row["sim"] - row["theory"]) <= tol, (
            f"{row['case']} x={row['x']} k={row.get('slots')}: sim {row['sim']:.2f} vs theory "
            f"{row['theory']:.2f} (tolerance {tol:.2f})"
        )


def test_closed_forms_limits():
    q = 0.25
    # c_k -> Harders with t_f = lag as k grows; Cowan with no bunching is Harders
    assert linked_capacity(q, TC, LAG, 200) == pytest.approx(harders_capacity(q, TC, LAG))
    assert cowan_m3_capacity(q, TC, TF, 0.0, 0.0) == pytest.approx(harders_capacity(q, TC, TF))
    # c_k by direct sampling of exponential gaps (DOMAIN.md: to 0.5%)
    rng = np.random.default_rng(0)
    g = rng.exponential(1 / q, 2_000_000)
    n = np.where(g >= TC, np.minimum(4, np.floor((g - TC) / LAG) + 1), 0)
    assert n.sum() / g.sum() == pytest.approx(linked_capacity(q, TC, LAG, 4), rel=0.005)


def test_permitted_uturn_capacity_matches_harders():
    frame = run_capacity("harders", [100, 300, 600, 900, 1200, 1500], replications=REPS)
    assert_theory_inside(frame)


def test_bunched_flow_capacity_matches_cowan_m3():
    frame = run_capacity("cowan", [100, 300, 600, 900, 1200], replications=REPS)
    assert_theory_inside(frame)


def test_linked_strict_capacity_matches_c_k():
    frame = run_capacity("linked_strict", [300, 900, 1500], replications=REPS, slots=range(1, 7))
    assert_theory_inside(frame)


def test_linked_real_rules_beat_c_k_where_gaps_are_long():
    """With long gaps (light conflicting flow) followers that reach a slot inside a gap
    use it, so real rules serve more than c_k; with heavy flow the slots stand empty
    while cars move up and real capacity falls to about c_k (docs/validation.md)."""
    real = run_capacity("linked_real", [300], replications=6, slots=[1, 4])
    strict = run_capacity("linked_strict", [300], replications=6, slots=[1, 4])
    assert (real["ci_low"].to_numpy() > strict["ci_high"].to_numpy()).all()


def test_one_slot_without_conflicting_traffic_discharges_at_the_kinematic_rate():
    """k = 1, no conflicting traffic: each car reacts to the one ahead starting (1 s), moves
    7.5 m from standstill to standstill (triangular profile at 2 m/s²: 2·sqrt(7.5/2) s),
    and, the road being clear when it stops, starts a reaction time later."""
    scn = capacity_scenario(0.0, slots=1, duration_s=3600)
    b = scn.behaviour
    cycle = b.reaction_time_s + 2 * np.sqrt(7.5 / 2.0) + b.reaction_time_s
    got = [
        us.simulate(scn, "linked", replication=r).summary().set_index("movement") for r in range(2)
    ]
    for s in got:
        assert s.loc["uturn", "throughput_veh_h"] == pytest.approx(3600 / cycle, abs=1.5)


def test_sustained_uturn_discharge_never_exceeds_saturation_flow():
    """No conflicting traffic, saturated demand: a lane never serves more than its
    saturation flow, whatever the number of slots; capacity rises with the slots."""
    caps = []
    for k in range(1, 7):
        scn = capacity_scenario(0.0, slots=k, duration_s=3600)
        s = us.simulate(scn, "linked").summary().set_index("movement")
        caps.append(s.loc["uturn", "throughput_veh_h"])
    assert max(caps) <= scn.behaviour.saturation_flow_veh_h
    assert all(b > a for a, b in itertools.pairwise(caps))


def test_signalized_delay_webster_and_hcm():
    frame = run_webster([0.3, 0.5, 0.7, 0.9], replications=REPS)
    # Webster's third term is an empirical correction (5-15% of the first two): 10% slack
    assert_theory_inside(frame, slack=0.10)
    # and the random arrivals only add to the uniform delay
    assert (frame["ci_high"] >= frame["hcm_d1"]).all()
    assert webster_delay(0.1, 0.5, 60, 24) > hcm_uniform_delay(0.1, 0.5, 60, 24)


def test_through_delay_without_bay_interaction_is_webster_and_hcm():
    """The approach's through lanes, empty bay: each lane is Webster's signalized queue."""
    frame = run_webster([0.3, 0.5, 0.7, 0.9], replications=REPS, movement="through")
    assert_theory_inside(frame, slack=0.10)
    assert (frame["ci_high"] >= frame["hcm_d1"]).all()


def test_littles_law_on_records():
    scn = us.load_scenario("scenarios/liuyuan_longshan_offpeak.yaml")
    scn = scn.model_copy(
        update={"simulation": scn.simulation.model_copy(update={"duration_s": 4 * 3600.0})}
    )
    frame = littles_law(scn, replications=8)
    assert_theory_inside(frame)


def test_littles_law_sample_path_identity(default_pair):
    """Over the whole run, area under N(t) equals the summed time in the system, exactly:
    for the bay's demand (``Result.queue``) and for the whole approach, lane by lane
    (``Result.lane_queues``: the bay, and each through lane with lane 1's waiting bay cars).
    """
    for res in default_pair:
        T = res.scenario.simulation.end_s
        v = res.vehicles

        def area(t, n, T=T):
            t = np.append(t, T)
            return np.sum(np.diff(np.clip(t, 0, T)) * n)

        def time_in(sel, v=v, T=T):
            dep = np.minimum(v.loc[sel, "departure_s"].fillna(T), T)
            return np.sum(dep - v.loc[sel, "arrival_s"])

        q = res.queue
        bay = v["lane"] == 0
        assert area(q["t_s"].to_numpy(), q["queue_veh"].to_numpy()) == pytest.approx(
            time_in(bay), rel=1e-9
        )
        lq = res.lane_queues()
        cols = [c for c in lq.columns if c.endswith("_veh")]
        assert len(cols) == 1 + res.scenario.approach.through_lanes
        total = area(lq["t_s"].to_numpy(), lq[cols].sum(axis=1).to_numpy())
        assert total == pytest.approx(time_in(np.ones(len(v), bool)), rel=1e-9)


def test_common_random_numbers_reduce_variance(default):
    out = crn_variance(default, replications=20, measure="throughput_veh_h")
    assert out["var_crn"] < 0.75 * out["var_independent"]


def test_mean_ci_helper():
    m, lo, hi = mean_ci(np.array([1.0, 2.0, 3.0]))
    assert m == 2 and lo < 2 < hi
