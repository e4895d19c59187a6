"""The whole approach: through lanes, the bay entrance and spillback (hand-made traces).

Signal of every trace (60 s cycle, 2 s lost, 2 s gain): through effective green
[2, 27) + 60 k, left/U-turn [32, 57) + 60 k.  Bay storage 15 m (two cars of 7.5 m),
no taper: the bay opens 15 m upstream of the stop line.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import uturn_sim as us
from uturn_sim.model.approach import ENTRANCE_BLOCKED, FREE, SPILLBACK
from uturn_sim.scenario.loading import update_scenario
from uturn_sim.traffic.signal import green_windows
from uturn_sim.traffic.table import ArrivalTable

from .conftest import small_scenario

SIGNAL = {
    "cycle_s": 60,
    "phases": [
        {"name": "through", "green_s": 25, "serves": ["opposing_through", "through"]},
        {"name": "left", "green_s": 25, "serves": ["left", "uturn"]},
    ],
}


def scenario(avoid: bool = False, **approach) -> us.Scenario:
    return small_scenario(
        signal=SIGNAL,
        simulation={"duration_s": 300, "warmup_s": 0, "cooldown_s": 0, "seed": 1},
        geometry={"storage_m": 15.0, "slots": 2},
        approach={"through_lanes": 2, "avoid_blocked_lane": avoid, **approach},
        demand={
            "uturn": {"flow_veh_h": 100},
            "left": {"flow_veh_h": 100},
            "through": {"flow_veh_h": 400},
            "opposing_through": {"flow_veh_h": 0},
            "cross_right": {"flow_veh_h": 0},
            "cross_left": {"flow_veh_h": 0},
        },
    )


def table(scn: us.Scenario, bay: list[tuple[float, str]], through: list[tuple[float, int]]):
    """An ArrivalTable with explicit bay arrivals and (time, lane) through arrivals."""
    t = np.array([a for a, _ in bay], dtype=float)
    mv = np.array([0 if m == "uturn" else 1 for _, m in bay], dtype=np.int8)
    horizon = scn.simulation.end_s
    return ArrivalTable(
        t=t,
        movement=mv,
        heavy=np.zeros(len(t), bool),
        critical_gap_s=np.where(mv == 0, scn.behaviour.critical_gap.mean_s, np.nan),
        conflict_t=np.empty(0),
        conflict_stream=np.empty(0, dtype=np.int8),
        uturn_green=green_windows(scn.signal, "uturn", horizon),
        left_green=green_windows(scn.signal, "left", horizon),
        seed_entropy=0,
        spawn_key=(),
        through_t=np.array([a for a, _ in through], dtype=float),
        through_lane=np.array([k for _, k in through], dtype=np.int8),
        through_heavy=np.zeros(len(through), bool),
        through_green=green_windows(scn.signal, "through", horizon),
    )


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
