"""Safety surrogates: PET on hand-made traces, no overlap in random scenarios, the margin.

SMALL_SIGNAL / ONE_PHASE as in ``test_model_trace``; defaults: critical gap 6.4 s,
start lag 2.0 s, conflict entry 2.0 s after the start, area cleared 5.5 s after it.
"""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import uturn_sim as us
from uturn_sim.measures.catalog import COMPARED
from uturn_sim.measures.safety import (
    CONFLICT_COLUMNS,
    TRAJECTORY_COLUMNS,
    conflicts,
    pet_by_slot,
    pet_times,
    trajectories,
)

from .conftest import ONE_PHASE, busy, hand_table, small_scenario
from .strategies import scenarios


def hand_run(arrivals, passages, streams=None, **behaviour):
    scn = small_scenario(
        signal=ONE_PHASE, linked={"uturn_when": "any_safe_gap"}, behaviour=behaviour
    )
    table = hand_table(scn, arrivals, passages)
    if streams is not None:
        table = replace(table, conflict_stream=np.asarray(streams, dtype=np.int8))
    return us.simulate(scn, "linked", arrivals=table)


# busy every second until 20 s, then a 10 s gap to 30 s, busy again, a long gap 100-140 s
PASSAGES = [*busy(0, 20), *busy(30, 100), 140.0]


def test_pet_before_and_after_on_a_hand_made_trace():
    res = hand_run([(1.0, "uturn"), (2.0, "uturn"), (3.0, "uturn")], PASSAGES)
    f = conflicts(res).set_index("uturn_id")
    # car 0 (slot 1) goes as the gap opens at 20 s; car 1 (slot 2) a start lag later;
    # car 2 would need [24, 30.4) clear: it waits for the gap opening at 100 s
    np.testing.assert_allclose(f["start_s"], [20.0, 22.0, 100.0], atol=0.005)
    # enter = start + 2, clear = start + 5.5
    np.testing.assert_allclose(f["pet_before_s"], [2.0, 4.0, 2.0], atol=0.005)
    np.testing.assert_allclose(f["pet_after_s"], [30 - 25.5, 30 - 27.5, 140 - 105.5], atol=0.005)
    np.testing.assert_allclose(f["pet_s"], [2.0, 2.5, 2.0], atol=0.005)
    np.testing.assert_allclose(f["gap_s"], [10.0, 10.0, 40.0], atol=0.005)
    np.testing.assert_allclose(f["lag_s"], [10.0, 8.0, 40.0], atol=0.005)
    assert list(f["platoon_place"]) == [1, 2, 1]
    assert list(f["slot"]) == [1, 2, 1]
    assert list(f["before_t_s"]) == [20.0, 20.0, 100.0]
    assert list(f["after_t_s"]) == [30.0, 30.0, 140.0]
    assert list(f["must_brake"]) == [False, False, False]


def test_streams_and_braking_of_the_conflicting_vehicles():
    # one U-turner; the vehicle before is cross_left, the one after opposing_through and
    # only 0.95 s after the U-turner leaves: the later vehicle must brake
    passages = [*busy(0, 20), 26.45, 27.0]
    streams = [0] * 20 + [2, 0, 1]
    res = hand_run([(1.0, "uturn")], passages, streams)
    f = conflicts(res).iloc[0]
    assert f["start_s"] == 20.0
    assert f["before_stream"] == "cross_left" and f["after_stream"] == "opposing_through"
    assert f["pet_after_s"] == pytest.approx(0.95, abs=0.005)
    assert f["must_brake"]
    assert f["distance_after_m"] == pytest.approx(0.95 * 11.1, abs=0.01)


def test_overlap_makes_pet_negative():
    # the pure function: a passage inside the occupancy (22, 25.5) is an overlap
    before, after, ib, ia = pet_times(np.array([22.0, np.nan]), np.array([25.5, np.nan]), [20, 24])
    np.testing.assert_allclose(before[:1], [2.0])
    np.testing.assert_allclose(after[:1], [-1.5])
    assert np.isnan(before[1]) and np.isnan(after[1])
    assert list(ib) == [0, -1] and list(ia) == [1, -1]


def test_margin_shifts_the_start_and_keeps_pet_at_least_the_margin_on_a_trace():
    # min_pet 3 s: the window is [s - 1, s + 8.5) -> start 21 s; PET 3.0 before, 3.5 after;
    # the second car would need [22, 31.5) clear: it goes 1 s after the 100 s passage
    res = hand_run([(1.0, "uturn"), (2.0, "uturn")], PASSAGES, min_pet_s=3.0)
    f = conflicts(res)
    np.testing.assert_allclose(f["start_s"], [21.0, 101.0], atol=0.005)
    np.testing.assert_allclose(f["pet_before_s"], [3.0, 3.0], atol=0.005)
    np.testing.assert_allclose(f["pet_after_s"], [3.5, 140 - 107.5 + 1], atol=0.005)
    # the whole window is 1 + 8.5 = 9.5 s long: a 9 s gap (20 -> 29 s) is refused
    res = hand_run([(1.0, "uturn")], [*busy(0, 20), *busy(29, 100), 140.0], min_pet_s=3.0)
    np.testing.assert_allclose(conflicts(res)["start_s"], [101.0], atol=0.005)


@pytest.mark.parametrize("margin", [1.0, 2.0])
def test_margin_raises_the_minimum_pet_of_gap_uturns(default, margin):
    scn = default.model_copy(
        update={"behaviour": default.behaviour.model_copy(update={"min_pet_s": margin})}
    )
    table = us.build_arrivals(scn)
    base = conflicts(us.simulate(default, "linked", arrivals=table))
    res = us.simulate(scn, "linked", arrivals=table)
    f = conflicts(res)
    gap = f[f["served_by"] == "gap"]
    assert len(gap) > 100
    assert gap["pet_s"].min() >= margin - 1e-9
    assert base["pet_s"].min() < margin  # the margin changed something
    assert res.summary().set_index("movement").loc["uturn", "pet_min_s"] >= margin - 1e-9


def test_summary_measures_match_the_conflict_frame(default_pair):
    for res in default_pair:
        f = conflicts(res)
        t0, t1 = res.window
        pet = f.loc[(f["start_s"] >= t0) & (f["start_s"] < t1), "pet_s"].dropna()
        s = res.summary().set_index("movement")
        assert s.loc["uturn", "pet_below_1_5_s"] == pytest.approx(np.mean(pet < 1.5))
        assert s.loc["uturn", "pet_below_5_0_s"] == pytest.approx(np.mean(pet < 5.0))
        assert s.loc["uturn", "conflicts_per_h"] == pytest.approx(np.sum(pet < 1.5))
        assert s.loc["uturn", "pet_min_s"] == pytest.approx(pet.min())
        assert s.loc["uturn", "pet_p5_s"] == pytest.approx(np.percentile(pet, 5))
        assert np.isnan(s.loc["left", "pet_min_s"]) and np.isnan(s.loc["all", "pet_below_1_0_s"])
    assert {"pet_below_1_0_s", "pet_below_2_0_s", "conflicts_per_h"} <= set(COMPARED)


def test_pet_by_slot_pools_results(default_pair):
    out = pet_by_slot(default_pair)
    linked = out[out["scheme"] == "linked"]
    assert set(linked["slot"]) <= {1, 2, 3, 4} and len(linked) >= 2
    assert list(out[out["scheme"] == "ordinary"]["slot"]) == [0]
    both = pd.concat([conflicts(r) for r in default_pair])
    t0, t1 = default_pair[0].window
    both = both[(both["start_s"] >= t0) & (both["start_s"] < t1)]
    assert out["uturns"].sum() == both["pet_s"].notna().sum()
    assert out["pet_min_s"].min() == pytest.approx(both["pet_s"].min())


def test_exports_have_their_documented_columns(default_pair):
    res = default_pair[1]
    f = conflicts(res)
    assert list(f.columns) == list(CONFLICT_COLUMNS)
    assert (
        len(f)
        == res.vehicles["movement"].eq("uturn").sum()
        - res.vehicles.query("movement == 'uturn'")["departure_s"].isna().sum()
    )
    tr = trajectories(res)
    assert list(tr.columns) == list(TRAJECTORY_COLUMNS)
    # a U-turner is at the conflict point (station 0) conflict_entry_s after its start
    row = f.iloc[0]
    u = tr[tr["vehicle"] == f"u{row['uturn_id']}"].set_index("t_s")
    inside = u[u["in_conflict_area"]]
    assert inside.index.min() >= row["conflict_enter_s"] - 1e-9
    assert inside.index.max() < row["conflict_clear_s"]
    assert (inside["station_m"] >= -1e-9).all()
    # conflicting vehicles cross station 0 at their passage time
    c = tr[tr["vehicle"] == f"c{row['after_index']}"]
    t0 = np.interp(0.0, c["station_m"], c["t_s"])
    assert t0 == pytest.approx(row["after_t_s"], abs=1e-6)


PROPERTY = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


@PROPERTY
@given(scenarios(max_duration_s=900.0))
def test_no_uturn_overlaps_a_conflicting_vehicle(scn):
    table = us.build_arrivals(scn)
    for scheme in ("ordinary", "linked"):
        f = conflicts(us.simulate(scn, scheme, arrivals=table))
        bad = f[f["pet_s"] < 0]
        assert bad.empty, bad[["start_s", "served_by", "critical_gap_s", "pet_s"]].head()


@PROPERTY
@given(scenarios(max_duration_s=900.0), st.floats(0.05, 3.0))
def test_margin_holds_for_every_gap_uturn_in_random_scenarios(scn, margin):
    scn = scn.model_copy(
        update={"behaviour": scn.behaviour.model_copy(update={"min_pet_s": margin})}
    )
    table = us.build_arrivals(scn)
    for scheme in ("ordinary", "linked"):
        f = conflicts(us.simulate(scn, scheme, arrivals=table))
        gap = f[f["served_by"] == "gap"]
        assert (gap["pet_before_s"].fillna(np.inf) >= margin - 1e-9).all()
        assert (gap["pet_after_s"].fillna(np.inf) >= margin - 1e-9).all()
        # and the driver's own critical gap still holds: no passage in [start, start + tc)
        assert (gap["lag_s"] >= gap["critical_gap_s"] - 1e-9).all()


def test_former_overlap_cases_now_wait_for_a_clear_conflict_area():
    """The three overlaps the property test found in the first kinematic model, fixed: a
    U-turn never starts unless the conflict area stays clear until it has left it."""
    # (a) critical gap 4 s < turn_clear 5.5 s: the passage at 24.5 s forbids a start at
    # 20 s; the driver takes the gap 24.5-40 s (enters at 26.5 s: PET 2.0 s)
    scn = small_scenario(signal=ONE_PHASE, linked={"uturn_when": "any_safe_gap"})
    t = hand_table(scn, [(1.0, "uturn")], [*busy(0, 20), 24.5, 40.0], critical_gap_s=4.0)
    f = conflicts(us.simulate(scn, "linked", arrivals=t))
    assert f["start_s"].iloc[0] == pytest.approx(24.5)
    assert f["pet_s"].iloc[0] == pytest.approx(2.0)
    # (b) SMALL_SIGNAL: a protected U-turn at 56.8 s (green ends 57 s) would clear at
    # 62.3 s after the next phase's first vehicle (62.0 s): it waits for the next green
    scn = small_scenario()
    t = hand_table(scn, [(56.8, "uturn")], [62.0, 70.0])
    f = conflicts(us.simulate(scn, "ordinary", arrivals=t))
    assert f["served_by"].iloc[0] == "green" and f["start_s"].iloc[0] == pytest.approx(92.0)
    # (c) an (unsignalized) passage inside the protected green is yielded to: start at
    # 44 s, entering the conflict area 2 s later (PET 2.0 s)
    t = hand_table(scn, [(40.0, "uturn")], [44.0])
    f = conflicts(us.simulate(scn, "ordinary", arrivals=t))
    assert f["start_s"].iloc[0] == pytest.approx(44.0) and f["pet_s"].iloc[0] == pytest.approx(2.0)
