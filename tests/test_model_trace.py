"""Exact traces of the SimPy lane model on small hand-built arrival tables.

SMALL_SIGNAL: left / U-turn effective green [32, 57) + k*60 s.  Defaults:
critical gap 6.4 s, follow-up 2.5 s, start lag 2.0 s, reaction 1.0 s, move-up from
standstill to standstill at 2 m/s² (both ways) capped at 4 m/s: 7.5 m take
2·sqrt(7.5/2) = 3.873 s, 22.5 m take 2 + 2 + (22.5 - 8)/4 = 7.625 s, 30 m take 9.5 s;
slot hold 2.0 s, left headway 2.0 s, protected U-turn headway 2.5 s.
"""

import numpy as np
import pytest

import uturn_sim as us
from uturn_sim.model.engine import run_lane
from uturn_sim.model.lane import GAP, GREEN
from uturn_sim.model.schemes import get_scheme
from uturn_sim.validation.experiments import INSTANT

from .conftest import ONE_PHASE, busy, hand_table, small_scenario


def run(scheme, arrivals, conflicts=(), heavy=None, **sections):
    scn = small_scenario(**sections)
    table = hand_table(scn, arrivals, conflicts, heavy)
    sch = get_scheme(scheme)
    st = run_lane(table, sch, sch.rules(scn), 600.0)
    return st


def test_ordinary_left_turner_in_red_blocks_uturner_behind():
    st = run("ordinary", [(1.0, "left"), (2.0, "uturn")], ordinary={"uturn_when": "any_safe_gap"})
    # the left-turner waits for its effective green at 32 s; the U-turner behind it,
    # free to go in a gap, can only follow 2.5 s (follow-up) later
    np.testing.assert_allclose(st.departure, [32.0, 34.5])
    assert list(st.served_by) == [GREEN, GAP]


def test_linked_waiting_left_turner_is_skipped_not_blocking():
    st = run("linked", [(1.0, "left"), (2.0, "uturn")])
    # no conflicting traffic: the U-turner stops in slot 2 at 2 s and goes 1 s later
    np.testing.assert_allclose(st.departure, [32.0, 3.0])
    assert list(st.slot) == [0, 2]


def test_ordinary_protected_uturns_discharge_at_their_saturation_headway():
    st = run("ordinary", [(0.0, "uturn"), (0.1, "uturn"), (0.2, "left"), (0.3, "uturn")])
    np.testing.assert_allclose(st.departure, [32.0, 34.5, 36.5, 39.0])
    assert (st.served_by == GREEN).all()


def test_linked_foremost_free_slot_and_several_in_one_long_gap():
    # busy until 49 s, then a gap of 6.4 + 2*2.0 + 0.01 = 10.41 s: three standing slot
    # cars fit, a start lag apart
    conflicts = [*busy(0, 49), *busy(59.41, 200)]
    st = run(
        "linked",
        [(1.0, "uturn"), (2.0, "uturn"), (3.0, "uturn"), (4.0, "uturn")],
        conflicts,
        signal=ONE_PHASE,
        linked={"uturn_when": "any_safe_gap"},
    )
    np.testing.assert_allclose(st.departure[:3], [49.0, 51.0, 53.0])
    # the fourth would need 55 + 6.4 = 61.4 > 59.41: it does not go at the lag, so it
    # moves up to slot 1 (reacts at 54 s, 22.5 m in 7.625 s) and waits for the next gap
    assert st.departure[3] == pytest.approx(59.41 + 140.0)
    assert list(st.slot) == [1, 2, 3, 1]
    assert st.reached[3] == pytest.approx(4.0)  # first came to rest in slot 4 on arrival
    assert (st.served_by == GAP).all()


def test_ten_uturners_in_one_long_gap_with_four_slots():
    """The review's case: 10 U-turners, one 100 s gap, 4 slots, every start by hand."""
    arrivals = [(0.01 * i, "uturn") for i in range(10)]
    res = us.simulate(
        small_scenario(signal=ONE_PHASE),
        "linked",
        arrivals=hand_table(small_scenario(signal=ONE_PHASE), arrivals, [-10.0, 200.0]),
        trace=True,
    )
    dep = res.vehicles["departure_s"].to_numpy()
    # slot cars: gap already open when they stopped -> first goes after a reaction (1 s),
    # the others a start lag (2 s) apart
    first = [1.0, 3.0, 5.0, 7.0]
    # car 4 reacts to car 3's start (8 s) and drives 30 m to slot 1 (9.5 s): at rest at
    # 17.5 s, goes 1 s later; cars 5-7 follow a reaction apart and go a lag apart
    second = [18.5, 20.5, 22.5, 24.5]
    # car 8 had moved up to place 5 (12 s + 9.5 s); it reacts to car 7 (25.5 s), drives
    # 30 m to slot 1 (35.0 s) and goes at 36 s; car 9 follows at the lag
    third = [36.0, 38.0]
    np.testing.assert_allclose(dep, first + second + third)
    ev = res.events
    moves = ev[(ev.event == "move") & (ev.vehicle == 4)]
    assert moves["t_s"].tolist() == [8.0] and moves["position"].tolist() == [0]
    reach = ev[(ev.event == "reach") & (ev.vehicle == 4)]
    assert reach["t_s"].tolist() == [17.5]
    # nobody starts before the one ahead, and slots are never shared
    assert np.all(np.diff(dep) > 0)
    assert res.vehicles["platoon_place"].tolist() == [1, 2, 3, 4, 1, 2, 3, 4, 1, 2]


def test_linked_short_gap_serves_nobody():
    conflicts = [*busy(0, 30), 36.0, *busy(36.0, 100)]  # 6 s < 6.4 s gap at 30..36
    st = run(
        "linked",
        [(1.0, "uturn"), (2.0, "uturn")],
        conflicts,
        signal=ONE_PHASE,
    )
    np.testing.assert_allclose(st.departure, [100.0, 102.0])


def test_linked_move_up_takes_time():
    # one slot: the follower reacts 1 s after the slot car starts, then drives 7.5 m from
    # standstill to standstill; the gap being open, it goes a reaction time after it stops
    st = run(
        "linked",
        [(1.0, "uturn"), (2.0, "uturn")],
        busy(0, 20),
        geometry={"slots": 1},
        signal=ONE_PHASE,
    )
    at_rest = 20.0 + 1.0 + 2 * np.sqrt(7.5 / 2)
    np.testing.assert_allclose(st.departure, [20.0, at_rest + 1.0])
    np.testing.assert_allclose(st.reached, [1.0, at_rest])
    assert list(st.slot) == [1, 1]


def test_linked_strict_entry_only_settled_vehicles_use_a_gap():
    conflicts = [*busy(0, 20), 40.0, *busy(60, 200)]
    st = run(
        "linked",
        [(1.0, "uturn"), (2.0, "uturn")],
        conflicts,
        geometry={"slots": 1},
        behaviour=INSTANT,
        linked={"strict_gap_entry": True},
        signal=ONE_PHASE,
    )
    # the follower reached the slot inside the 20-40 s gap, so it waits for the 40-60 s gap
    np.testing.assert_allclose(st.departure, [20.0, 40.0], atol=1e-3)


def test_linked_left_green_rule_waits_for_green():
    # in the protected green the slot cars discharge at the U-turn saturation headway
    st = run("linked", [(1.0, "uturn"), (2.0, "uturn")], linked={"uturn_when": "left_green"})
    np.testing.assert_allclose(st.departure, [32.0, 34.5])


def test_linked_heavy_vehicle_only_from_slot_one():
    st = run("linked", [(1.0, "left"), (2.0, "uturn")], heavy=[False, True])
    # heavy U-turner in slot 2 may not U-turn there: it goes once in slot 1 after the left-turner
    assert st.departure[0] == 32.0 and st.departure[1] == pytest.approx(32.0)
    assert st.departure[1] >= st.departure[0]


def test_spillback_flag_when_lane_full():
    arrivals = [(0.1 * i, "left") for i in range(10)]
    st = run("ordinary", arrivals, geometry={"storage_m": 60.0})
    assert list(st.spilled) == [False] * 8 + [True] * 2


def test_linked_move_up_uses_slot_length():
    st = run(
        "linked",
        [(1.0, "uturn"), (2.0, "uturn")],
        busy(0, 20),
        geometry={"slots": 1, "slot_length_m": 9.0},
        signal=ONE_PHASE,
    )
    # 9 m: accelerate to 4 m/s (4 m), 1 m at 4 m/s, brake (4 m): 4.25 s, plus reactions
    np.testing.assert_allclose(st.departure, [20.0, 21.0 + 4.25 + 1.0])
