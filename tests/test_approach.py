"""The whole approach: through lanes, the bay entrance and spillback (hand-made traces).

Signal of every trace (60 s cycle, 2 s lost, 2 s gain): through effective green
[2, 27) + 60 k, left/U-turn [32, 57) + 60 k.  Bay storage 15 m (two cars of 7.5 m),
no taper: the bay opens 15 m upstream of the stop line.
"""

from __future__ import annotations

import dataclasses
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import uturn_sim as us
from uturn_sim.model.approach import ENTRANCE_BLOCKED, FREE, SPILLBACK
from uturn_sim.scenario.loading import update_scenario

from .conftest import approach_scenario, approach_table
from .strategies import scenarios

scenario = approach_scenario
table = approach_table


def by_id(res: us.Result) -> pd.DataFrame:
    return res.vehicles.set_index("id")


def test_spilled_bay_blocks_a_through_car_until_the_queue_clears():
    """Three left-turners for a two-car bay in the through green: the third waits in lane 1
    at the opening and the through car behind it cannot pass, green or not; the first
    left turn (32 s) makes room, the third turns in, the through car is released but its
    green is over: it passes at the next through green (62 s).  Lane 2 flows."""
    scn = scenario()
    tb = table(scn, [(5.0, "left"), (5.1, "left"), (5.2, "left")], [(6.0, 1), (6.5, 2)])
    res = us.simulate(scn, "ordinary", arrivals=tb)
    v = by_id(res)
    assert v.loc[[0, 1, 2], "bay_entry_s"].tolist() == [5.0, 5.1, 32.0]
    assert v.loc[[0, 1, 2], "spilled"].tolist() == [False, False, True]
    assert v.loc[[0, 1, 2], "departure_s"].tolist() == [32.0, 34.0, 36.0]
    # through car 0 (id 3) in lane 1 behind the spilled car; through car 1 (id 4) in lane 2
    assert v.loc[3, "movement"] == "through" and v.loc[3, "lane"] == 1
    assert v.loc[3, "departure_s"] == 62.0
    assert v.loc[4, "lane"] == 2 and v.loc[4, "departure_s"] == 6.5
    t, state = res.lane_one
    assert t.tolist() == [-np.inf, 5.2, 32.0]
    assert state.tolist() == [FREE, SPILLBACK, FREE]
    res.check_conservation()


def test_through_queue_past_the_opening_keeps_a_uturner_out_of_the_bay():
    """Three through cars stop in lane 1 at the through red (22.5 m, past the 15 m opening);
    a U-turner behind them cannot reach its slot.  At 62 s the first through car goes, the
    queue ahead of the U-turner is 15 m: it turns into the bay, stops in slot 1 and, the
    opposing lanes being empty, U-turns a reaction time later (63 s), not at 32 s."""
    scn = scenario()
    tb = table(scn, [(31.0, "uturn")], [(28.0, 1), (29.0, 1), (30.0, 1)])
    res = us.simulate(scn, "linked", arrivals=tb)
    v = by_id(res)
    assert v.loc[0, "bay_entry_s"] == 62.0
    assert v.loc[0, "departure_s"] == 63.0
    assert v.loc[0, "slot"] == 1 and not v.loc[0, "spilled"]
    assert v.loc[[1, 2, 3], "departure_s"].tolist() == [62.0, 64.0, 66.0]
    t, state = res.lane_one
    assert t.tolist() == [-np.inf, 30.0, 62.0]
    assert state.tolist() == [FREE, ENTRANCE_BLOCKED, FREE]
    # the same U-turner without the through lanes turns at once
    alone = update_scenario(scn, {"approach.through_lanes": 0})
    solo = us.simulate(alone, "linked", arrivals=table(alone, [(31.0, "uturn")], []))
    assert solo.vehicles.loc[0, "departure_s"] == 32.0


def test_a_taper_moves_the_opening_upstream():
    """With a 10 m taper the opening is 25 m upstream: three through cars (22.5 m) no
    longer block it, and the U-turner turns in at once."""
    scn = scenario(taper_m=10.0)
    tb = table(scn, [(31.0, "uturn")], [(28.0, 1), (29.0, 1), (30.0, 1)])
    v = by_id(us.simulate(scn, "linked", arrivals=tb))
    assert v.loc[0, "bay_entry_s"] == 31.0
    assert v.loc[0, "departure_s"] == 32.0


def test_through_drivers_avoid_a_lane_blocked_by_the_bay():
    """With ``avoid_blocked_lane`` the through car arriving behind the spilled left-turner
    takes lane 2 (shorter) and passes at once; one arriving when lane 2 is longer stays."""
    scn = scenario(avoid=True)
    tb = table(scn, [(5.0, "left"), (5.1, "left"), (5.2, "left")], [(6.0, 1)])
    v = by_id(us.simulate(scn, "ordinary", arrivals=tb))
    assert v.loc[3, "lane"] == 2 and v.loc[3, "departure_s"] == 6.0
    # lane 2 holds two standing cars (red) when the lane-1 car comes: lane 2 is longer
    tb = table(
        scn, [(28.0, "left"), (28.1, "left"), (28.2, "left")], [(28.5, 2), (28.6, 2), (29.0, 1)]
    )
    v = by_id(us.simulate(scn, "ordinary", arrivals=tb))
    assert v.loc[5, "lane"] == 1
    assert v.loc[5, "departure_s"] > v.loc[2, "bay_entry_s"]  # waited for the bay car


def test_lane_one_with_no_bay_cars_discharges_like_a_signalized_queue():
    """Lane 1 alone is the same FIFO queue as lane 2: ``gate`` with the through headway."""
    from uturn_sim.traffic.headways import gate

    scn = scenario()
    arr = [20.0, 21.0, 22.0, 25.0, 26.0, 40.0, 41.0, 70.0, 150.0]
    tb = table(scn, [], [(a, 1) for a in arr] + [(a + 1e-3, 2) for a in arr])
    v = us.simulate(scn, "ordinary", arrivals=tb).vehicles
    want = gate(np.asarray(arr), tb.through_green, 2.0)
    np.testing.assert_allclose(v.loc[v["lane"] == 1, "departure_s"], want, rtol=0, atol=1e-9)
    np.testing.assert_allclose(
        v.loc[v["lane"] == 2, "departure_s"], gate(np.asarray(arr) + 1e-3, tb.through_green, 2.0)
    )


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("scheme", ["ordinary", "linked", "ordinary_permitted"])
def test_every_vehicle_of_every_movement_is_conserved(seed, scheme):
    """Random heavy demand (oversaturated at times): every generated vehicle is once in the
    records, each movement's arrivals = departures + still waiting, nobody leaves before
    it arrives, bay cars enter the bay between arrival and departure and in order."""
    scn = scenario(avoid=bool(seed % 2))
    scn = update_scenario(
        scn,
        {
            "simulation.seed": seed,
            "demand.uturn.flow_veh_h": 250.0,
            "demand.left.flow_veh_h": 150.0,
            "demand.through.flow_veh_h": 900.0,
            "demand.opposing_through.flow_veh_h": 500.0,
            "vehicle_mix.heavy_share": 0.2,
        },
    )
    res = us.simulate(scn, scheme)
    res.check_conservation()
    v, tb = res.vehicles, res.arrivals
    for code, name in ((0, "uturn"), (1, "left")):
        assert (v["movement"] == name).sum() == (tb.movement == code).sum()
    assert (v["movement"] == "through").sum() == len(tb.through_t)
    done = v["departure_s"].notna()
    assert (v.loc[done, "departure_s"] >= v.loc[done, "arrival_s"] - 1e-9).all()
    bay = v[v["lane"] == 0]
    entered = bay["bay_entry_s"].notna()
    assert (bay.loc[entered, "bay_entry_s"] >= bay.loc[entered, "arrival_s"]).all()
    assert (bay["departure_s"].dropna() >= bay.loc[bay["departure_s"].notna(), "bay_entry_s"]).all()
    assert bay.loc[entered, "bay_entry_s"].is_monotonic_increasing  # FIFO into the bay
    assert not (bay["departure_s"].notna() & ~entered).any()
    s = res.summary().set_index("movement")
    for m in ("uturn", "left", "through"):
        assert s.loc[m, "arrived"] - s.loc[m, "departed"] == s.loc[m, "unserved"]
    assert s.loc["all", "arrived"] == s.loc[["uturn", "left", "through"], "arrived"].sum()


def test_linked_bay_room_counts_where_the_cars_stand():
    """Three 10 m slots in a 30 m bay hold three cars, not four (queue space alone would say
    four fit: 4 x 7.5 m): the fourth left-turner waits in lane 1 until the first leaves."""
    scn = scenario(**{})
    scn = update_scenario(
        scn, {"geometry.storage_m": 30.0, "geometry.slots": 3, "geometry.slot_length_m": 10.0}
    )
    bay = [(5.0, "left"), (5.1, "left"), (5.2, "left"), (5.3, "left")]
    v = by_id(us.simulate(scn, "linked", arrivals=table(scn, bay, [])))
    assert v.loc[[0, 1, 2, 3], "bay_entry_s"].tolist() == [5.0, 5.1, 5.2, 32.0]
    assert v.loc[3, "spilled"]


def test_a_hole_left_by_a_slot_uturn_is_not_room():
    """Linked, two slots: the slot-1 U-turner goes at 6 s, the slot-2 one turns from its slot
    at the start lag (8 s) without moving up; the third cannot stop in the hole behind it
    (place 2 is beyond the 15 m storage): it waits in lane 1, blocking the through cars
    behind it, until 8 s; lane 2 flows."""
    scn = scenario()
    tb = table(
        scn,
        [(5.0, "uturn"), (5.1, "uturn"), (5.2, "uturn")],
        [(5.3, 1), (5.4, 1), (5.5, 1), (5.35, 2)],
    )
    res = us.simulate(scn, "linked", arrivals=tb)
    v = by_id(res)
    assert v.loc[[0, 1, 2], "departure_s"].tolist() == [6.0, 8.0, 10.0]
    assert v.loc[2, "bay_entry_s"] == 8.0 and v.loc[2, "spilled"]
    assert v.loc[[3, 4, 5], "departure_s"].tolist() == [8.0, 10.0, 12.0]
    assert v.loc[6, "departure_s"] == 5.35
    t, state = res.lane_one
    assert t.tolist() == [-np.inf, 5.2, 8.0] and state.tolist() == [FREE, SPILLBACK, FREE]


def test_avoiding_a_blocked_lane_needs_a_second_lane():
    with pytest.raises(us.ScenarioError, match=r"needs approach\.through_lanes >= 2"):
        update_scenario(
            scenario(), {"approach.through_lanes": 1, "approach.avoid_blocked_lane": True}
        )


@pytest.mark.parametrize("seed", range(4))
def test_ordinary_with_no_through_demand_is_the_bay_alone(seed):
    """No through car: bay cars beyond storage wait in lane 1 instead of in the bay's file,
    which changes nothing at a stop line served FIFO: every departure is the bay alone's."""
    base = update_scenario(
        scenario(),
        {
            "demand.through.flow_veh_h": 0.0,
            "simulation.seed": seed,
            "demand.uturn.flow_veh_h": 300.0,
            "demand.left.flow_veh_h": 150.0,
        },
    )
    alone = update_scenario(base, {"approach.through_lanes": 0})
    for scheme in ("ordinary", "ordinary_permitted"):
        a = us.simulate(base, scheme).vehicles
        b = us.simulate(alone, scheme).vehicles
        assert (a["movement"] != "through").all()
        pd.testing.assert_series_equal(a["departure_s"], b["departure_s"])


def _lane_one_oracle(res: us.Result, times: np.ndarray) -> np.ndarray:
    """Lane 1's state at ``times`` rebuilt from the vehicle records alone (its file in order
    of arrival, bay cars first at ties; a car is in it from arrival to bay entry or stop
    line)."""
    v = res.vehicles
    opening = res.scenario.geometry.storage_m + res.scenario.approach.taper_m
    bay, thr = v[v["lane"] == 0], v[v["lane"] == 1]
    a = np.concatenate([bay["arrival_s"], thr["arrival_s"]])
    e = np.concatenate([bay["bay_entry_s"].fillna(np.inf), thr["departure_s"].fillna(np.inf)])
    length = np.concatenate([bay["length_m"], thr["length_m"]])
    is_bay = np.concatenate([np.ones(len(bay), bool), np.zeros(len(thr), bool)])
    o = np.lexsort((~is_bay, a))
    a, e, length, is_bay = a[o], e[o], length[o], is_bay[o]
    out = np.zeros(len(times), dtype=int)
    for n, t in enumerate(times):
        inside = (a <= t) & (e > t)
        ahead, state = 0.0, None
        for ln, b in zip(length[inside], is_bay[inside], strict=True):
            if b:
                state = SPILLBACK if ahead <= opening + 1e-9 else ENTRANCE_BLOCKED
                break
            ahead += ln
        if state is None:
            state = ENTRANCE_BLOCKED if ahead > opening + 1e-9 else FREE
        out[n] = state
    return out


@pytest.mark.parametrize("scheme", ["ordinary", "linked"])
def test_lane_one_log_matches_the_records(scheme):
    """The logged state of lane 1 equals the state rebuilt from the records, at the middle
    of every interval between events, over the whole measured hour of the default."""
    scn = update_scenario(us.default_scenario(), {"vehicle_mix.heavy_share": 0.2})
    res = us.simulate(scn, scheme, seed=2)
    t0, t1 = res.window
    v = res.vehicles
    ev = np.unique(
        np.concatenate(
            [v["arrival_s"], v["bay_entry_s"].dropna(), v["departure_s"].dropna(), [t0, t1]]
        )
    )
    ev = ev[(ev >= t0) & (ev <= t1)]
    mids = (ev[:-1] + ev[1:]) / 2
    lt, state = res.lane_one
    logged = state[np.searchsorted(lt, mids, side="right") - 1]
    np.testing.assert_array_equal(logged, _lane_one_oracle(res, mids))
    assert set(np.unique(logged)) == {FREE, ENTRANCE_BLOCKED, SPILLBACK}


def test_blocking_shares_and_cycle_shares_by_hand():
    """A step function by hand: cycles of 100 s start at the through green's end (30 s)."""
    from uturn_sim.measures.summary import lane_one_records

    t = np.array([-np.inf, 40.0, 60.0, 110.0, 128.0, 250.0, 290.0])
    E, S = ENTRANCE_BLOCKED, SPILLBACK
    s = np.array([FREE, E, FREE, E, S, FREE, E])
    rec = lane_one_records((t, s), 0.0, 330.0, 100.0, 30.0)
    # whole cycles inside [0, 330): [30, 130), [130, 230), [230, 330)
    assert rec.entrance_share == pytest.approx((20 + 18 + 40) / 330)
    assert rec.spillback_share == pytest.approx(122 / 330)
    assert rec.entrance_cycles == pytest.approx(2 / 3)  # two episodes in the first cycle
    assert rec.spillback_cycles == pytest.approx(1.0)  # one episode over three cycles
    # the part before the first whole cycle ([0, 30)) counts in the shares, not the cycles
    early = lane_one_records((np.array([-np.inf, 5.0, 20.0]), np.array([FREE, E, FREE])),
                             0.0, 330.0, 100.0, 30.0)
    assert early.entrance_share == pytest.approx(15 / 330) and early.entrance_cycles == 0.0


def test_total_delay_charges_the_vehicles_still_waiting():
    """Oversaturated heavy peak: the total delay counts departed vehicles' control delay
    and, for those still waiting at the run's end, their delay up to it."""
    scn = us.load_scenario("scenarios/liuyuan_longshan_heavy.yaml")
    res = us.simulate(scn, "ordinary", seed=1)
    v, (t0, t1) = res.vehicles, res.window
    s = res.summary().set_index("movement")
    win = (v["arrival_s"] >= t0) & (v["arrival_s"] < t1)
    done = v["departure_s"].notna()
    waiting = win & ~done
    assert waiting.sum() > 0  # the case this test is about
    end = scn.simulation.end_s
    want = v.loc[win & done, "control_delay_s"].sum() + (end - v.loc[waiting, "arrival_s"]).sum()
    hours = (t1 - t0) / 3600
    assert s.loc["all", "total_delay_veh_h_per_h"] == pytest.approx(want / 3600 / hours)
    persons = (v.loc[win & done, "control_delay_s"] * v.loc[win & done, "occupancy"]).sum() + (
        (end - v.loc[waiting, "arrival_s"]) * v.loc[waiting, "occupancy"]
    ).sum()
    assert s.loc["all", "person_delay_h_per_h"] == pytest.approx(persons / 3600 / hours)
    bay = win & done & (v["lane"] == 0)
    wait = (v.loc[bay, "bay_entry_s"] - v.loc[bay, "arrival_s"]).mean()
    assert s.loc["all", "bay_entry_wait_s"] == pytest.approx(wait)


@pytest.mark.parametrize(
    "update",
    [
        {"approach.through_lanes": 3},
        {"approach.through_lanes": 3, "approach.avoid_blocked_lane": True},
        {"demand.through.flow_veh_h": 1900, "simulation.duration_s": 1200},  # oversaturated
    ],
)
def test_lanes_served_after_the_run_equal_their_servers_in_simpy(monkeypatch, update):
    """The lanes nothing touches, served after the run, pass exactly as SimPy servers would.

    The same runs with every lane's server in SimPy (``first_alone`` = lanes) give the same
    records, bit for bit, and lane 1's log."""
    from uturn_sim.model.approach import ThroughLanes

    scn = update_scenario(us.default_scenario(), update)
    runs = {}
    for mode in ("after", "servers"):
        if mode == "servers":
            init = ThroughLanes.__init__

            def every_lane_served(self, *a, _init=init, **k):
                _init(self, *a, **k)
                self.first_alone = self.lanes

            monkeypatch.setattr(ThroughLanes, "__init__", every_lane_served)
        runs[mode] = [us.simulate(scn, s, seed=5) for s in ("ordinary", "linked")]
    for a, b in zip(runs["after"], runs["servers"], strict=True):
        assert a.vehicles["lane"].max() >= 2
        pd.testing.assert_frame_equal(a.vehicles, b.vehicles, check_exact=True)
        assert np.array_equal(a.lane_one[0], b.lane_one[0])
        assert np.array_equal(a.lane_one[1], b.lane_one[1])


@st.composite
def _alone_cases(draw):
    """Random scenarios with 2-4 through lanes; arrivals on a 0.5 s grid so events tie."""
    scn = draw(scenarios(max_duration_s=900.0))
    phases = scn.signal.phases
    k = draw(st.sampled_from([k for k, p in enumerate(phases) if "left" not in p.serves]))
    lanes = draw(st.integers(2, 4))
    capacity = lanes * 1800.0 * phases[k].green_s / scn.signal.cycle_s
    scn = update_scenario(
        scn,
        {
            f"signal.phases.{k}.serves": [*phases[k].serves, "through"],
            "approach.through_lanes": lanes,
            "approach.avoid_blocked_lane": draw(st.booleans()),
            "approach.taper_m": draw(st.sampled_from([0.0, 30.0])),
            "demand.through.flow_veh_h": min(draw(st.floats(0.1, 1.3)) * capacity, 2400.0 * lanes),
        },
    )
    tb = us.build_arrivals(scn, 1, draw(st.integers(0, 3)))
    if draw(st.booleans()):  # on the grid: ties with each other and with green starts
        grid = lambda x: np.sort(np.round(x * 2.0) / 2.0)  # noqa: E731
        tb = dataclasses.replace(tb, t=grid(tb.t), through_t=grid(tb.through_t))
    return scn, tb


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_alone_cases())
def test_lanes_served_after_the_run_equal_servers_on_random_scenarios(case):
    """Hypothesis: the replayed lanes equal SimPy servers, ties and green edges included."""
    from uturn_sim.model.approach import ThroughLanes

    scn, tb = case
    init = ThroughLanes.__init__

    def every_lane_served(self, *a, **k):
        init(self, *a, **k)
        self.first_alone = self.lanes

    for scheme in ("ordinary", "linked"):
        a = us.simulate(scn, scheme, arrivals=tb)
        with mock.patch.object(ThroughLanes, "__init__", every_lane_served):
            b = us.simulate(scn, scheme, arrivals=tb)
        pd.testing.assert_frame_equal(a.vehicles, b.vehicles, check_exact=True)
        assert np.array_equal(a.lane_one[0], b.lane_one[0])
        assert np.array_equal(a.lane_one[1], b.lane_one[1])
