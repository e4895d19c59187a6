"""Exact traces of the SimPy lane model on small hand-built arrival tables.

SMALL_SIGNAL: left / U-turn effective green [32, 57) + k*60 s.  Defaults:
critical gap 6.4 s, follow-up 2.5 s, start lag 1.5 s, move-up 3 m/s over 7.5 m
(2.5 s), left headway 2.0 s, protected U-turn headway 2.5 s.
"""

import numpy as np
import pytest

from uturn_sim.model.engine import run_lane
from uturn_sim.model.lane import GAP, GREEN
from uturn_sim.model.schemes import get_scheme

from .conftest import hand_table, small_scenario


def run(scheme, arrivals, conflicts=(), heavy=None, **sections):
    scn = small_scenario(**sections)
    table = hand_table(scn, arrivals, conflicts, heavy)
    sch = get_scheme(scheme)
    st = run_lane(table, sch, sch.rules(scn), 600.0)
    return st


# one phase serving everything: signals play no part, only the conflict passages given
ONE_PHASE = {
    "cycle_s": 60,
    "phases": [
        {
            "name": "a",
            "green_s": 55,
            "serves": ["left", "uturn", "opposing_through", "cross_right", "cross_left"],
        }
    ],
}


def busy(t0, t1, step=1.0):
    """Conflicting passages every ``step`` s on [t0, t1]: no acceptable gap."""
    return list(np.arange(t0, t1 + 1e-9, step))


def test_ordinary_left_turner_in_red_blocks_uturner_behind():
    st = run("ordinary", [(1.0, "left"), (2.0, "uturn")], ordinary={"uturn_when": "any_safe_gap"})
    # the left-turner waits for its effective green at 32 s; the U-turner behind it,
    # free to go in a gap, can only follow 2.5 s (follow-up) later
    np.testing.assert_allclose(st.departure, [32.0, 34.5])
    assert list(st.served_by) == [GREEN, GAP]


def test_linked_waiting_left_turner_is_skipped_not_blocking():
    st = run("linked", [(1.0, "left"), (2.0, "uturn")])
    np.testing.assert_allclose(st.departure, [32.0, 2.0])
    assert list(st.slot) == [0, 2]  # the U-turner stopped in slot 2 behind the left-turner


def test_ordinary_protected_uturns_discharge_at_their_saturation_headway():
    st = run("ordinary", [(0.0, "uturn"), (0.1, "uturn"), (0.2, "left"), (0.3, "uturn")])
    np.testing.assert_allclose(st.departure, [32.0, 34.5, 36.5, 39.0])
    assert (st.served_by == GREEN).all()


def test_linked_foremost_free_slot_and_several_in_one_long_gap():
    # busy until 49 s, then a gap of 6.4 + 2*1.5 + 0.01 = 9.41 s: three slot vehicles fit
    conflicts = [*busy(0, 49), *busy(58.41, 200)]
    st = run(
        "linked",
        [(1.0, "uturn"), (2.0, "uturn"), (3.0, "uturn"), (4.0, "uturn")],
        conflicts,
        signal=ONE_PHASE,
        linked={"uturn_when": "any_safe_gap"},
    )
    assert list(st.slot) == [1, 2, 3, 4]
    np.testing.assert_allclose(st.departure[:3], [49.0, 50.5, 52.0])
    # the fourth would need 49 + 4.5 + 6.4 = 59.9 > 58.41: it waits for the end of the busy period
    assert st.departure[3] == pytest.approx(58.41 + 141.0)
    assert (st.served_by == GAP).all()


def test_linked_short_gap_serves_nobody():
    conflicts = [*busy(0, 30), 36.0, *busy(36.0, 100)]  # 6 s < 6.4 s gap at 30..36
    st = run(
        "linked",
        [(1.0, "uturn"), (2.0, "uturn")],
        conflicts,
        signal=ONE_PHASE,
    )
    np.testing.assert_allclose(st.departure, [100.0, 101.5])


def test_linked_move_up_takes_time():
    # one slot: the follower queued behind drives up 7.5 m at 3 m/s after the slot clears
    st = run(
        "linked",
        [(1.0, "uturn"), (2.0, "uturn")],
        busy(0, 20),
        geometry={"slots": 1},
        signal=ONE_PHASE,
    )
    np.testing.assert_allclose(st.departure, [20.0, 22.5])
    np.testing.assert_allclose(st.reached, [1.0, 22.5])
    assert list(st.slot) == [1, 1]


def test_linked_strict_entry_only_settled_vehicles_use_a_gap():
    conflicts = [*busy(0, 20), 40.0, *busy(60, 200)]
    st = run(
        "linked",
        [(1.0, "uturn"), (2.0, "uturn")],
        conflicts,
        geometry={"slots": 1},
        behaviour={"move_up_speed_m_s": 1e9},
        linked={"strict_gap_entry": True},
        signal=ONE_PHASE,
    )
    # the follower reached the slot inside the 20-40 s gap, so it waits for the 40-60 s gap
    np.testing.assert_allclose(st.departure, [20.0, 40.0])


def test_linked_left_green_rule_waits_for_green():
    st = run("linked", [(1.0, "uturn"), (2.0, "uturn")], linked={"uturn_when": "left_green"})
    np.testing.assert_allclose(st.departure, [32.0, 33.5])


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
    np.testing.assert_allclose(st.departure, [20.0, 23.0])  # 9 m at 3 m/s
