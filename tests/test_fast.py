"""The compiled engine (``uturn_sim.fast``) against the SimPy reference: identical results.

For every registered scheme variant, both engines give the same per-vehicle records
(bay and through vehicles, times equal to 1e-9 s), the same state log of through
lane 1 and every declared measure equal: on the default scenario (two through
lanes), the bay alone (``approach.through_lanes: 0``), lane avoidance, heavy
vehicles, random valid scenarios with random approach settings (Hypothesis), and
hand-made ties where SimPy's event order decides.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import uturn_sim as us
from uturn_sim.fast import measures as fm
from uturn_sim.fast import rowstats as rs
from uturn_sim.fast.engine import run_records
from uturn_sim.fast.rules import FIELDS, pack_rules
from uturn_sim.fast.study import summaries
from uturn_sim.measures.catalog import MEASURES, ROWS
from uturn_sim.model.engine import run_lane
from uturn_sim.model.schemes import get_scheme, scheme_names
from uturn_sim.scenario.loading import update_scenario
from uturn_sim.traffic.batch import ArrivalBatch
from uturn_sim.traffic.signal import GreenWindows
from uturn_sim.traffic.table import ArrivalTable, build_arrivals

from .conftest import approach_scenario, approach_table
from .strategies import scenarios

RECORDS = ("departure", "reached", "slot", "first_slot", "served_by", "spilled")
SERVED = np.array(["", "green", "gap"], dtype=object)


def _times_equal(got, want, what):
    """Times equal to 1e-9 s, NaN where NaN."""
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=what)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-9, err_msg=what)


def _same_summary(got: pd.DataFrame, want: pd.DataFrame, what: str) -> None:
    """Every declared measure equal (floats bit for bit, NaN where NaN)."""
    assert list(got.columns) == list(want.columns), what
    for col in want.columns:
        a, b = got[col].to_numpy(), want[col].to_numpy()
        if b.dtype.kind == "f" or a.dtype.kind == "f":
            a, b = a.astype(float), b.astype(float)
            same = (a == b) | (np.isnan(a) & np.isnan(b))
        else:
            same = a == b
        assert same.all(), f"{what}: {col} {a[~same][:3]} != {b[~same][:3]}"


def _compare(scn, tables, schemes=None) -> int:
    """Both engines on ``tables``, every scheme: records, lane 1's log and measures.

    Returns the number of (vehicle, scheme) records compared.
    """
    batch = ArrivalBatch.from_tables(tables, range(len(tables)))
    n = 0
    for scheme in schemes or scheme_names():
        rec = run_records(batch, get_scheme(scheme).rules(scn), scn.simulation.end_s)
        fast = fm.summarize_batch(batch, rec, scn, scheme)
        for k, table in enumerate(tables):
            res = us.simulate(scn, scheme, arrivals=table)
            v, what = res.vehicles, f"{scheme} replication {k}"
            bay, thr = v[v["lane"] == 0], v[v["lane"] > 0]
            rows, trows = rec.rows(batch, k), rec.through_rows(batch, k)
            assert len(bay) == rows.stop - rows.start, what
            assert len(thr) == trows.stop - trows.start, what
            _times_equal(rec.departure[rows], bay["departure_s"].to_numpy(), what)
            _times_equal(rec.reached[rows], bay["reached_s"].to_numpy(), what)
            _times_equal(rec.entry[rows], bay["bay_entry_s"].to_numpy(), what)
            for col, got in (("slot", rec.slot), ("first_slot", rec.first_slot)):
                np.testing.assert_array_equal(got[rows], bay[col].to_numpy(), err_msg=what)
            np.testing.assert_array_equal(SERVED[rec.served_by[rows]], bay["served_by"])
            np.testing.assert_array_equal(rec.spilled[rows], bay["spilled"].to_numpy())
            _times_equal(rec.through_departure[trows], thr["departure_s"].to_numpy(), what)
            np.testing.assert_array_equal(rec.through_lane[trows], thr["lane"].to_numpy())
            if res.lane_one is None:
                assert rec.lane_one(k) is None, what
            else:
                for got, want in zip(rec.lane_one(k), res.lane_one, strict=True):
                    assert got.dtype == want.dtype, what
                    np.testing.assert_array_equal(got, want, err_msg=f"{what} lane 1")
            want = res.summary()
            want.insert(0, "replication", k)
            got = fast[fast["replication"] == k].reset_index(drop=True)
            _same_summary(got, want, what)
            n += len(v)
    return n


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"approach.through_lanes": 0},
        {"approach.avoid_blocked_lane": True},
        {"vehicle_mix.heavy_share": 0.2, "approach.through_lanes": 3},
        {"approach.taper_m": 15.0, "demand.through.flow_veh_h": 2500.0},
    ],
    ids=["default", "bay-alone", "avoid-blocked-lane", "heavy-3-lanes", "taper-oversaturated"],
)
def test_fast_engine_equals_simpy_on_the_default(changes):
    """Five (three) replications of the default and its variants, every scheme variant."""
    scn = update_scenario(us.default_scenario(), changes)
    reps = 5 if not changes else 3
    n = _compare(scn, [build_arrivals(scn, None, r) for r in range(reps)])
    assert n > reps * len(scheme_names()) * (
        350 if changes.get("approach.through_lanes") == 0 else 1500
    )


@st.composite
def fast_cases(draw):
    scn = draw(scenarios(max_duration_s=900.0))
    changes = {
        "linked.strict_gap_entry": draw(st.booleans()),
        "behaviour.min_pet_s": draw(st.sampled_from([0.0, 0.5, 2.0])),
        "behaviour.reaction_time_s": draw(st.floats(0.0, 2.0)),
        "behaviour.slot_hold_s": draw(st.floats(0.0, 3.0)),
        "behaviour.accel_m_s2": draw(st.floats(1.0, 3.0)),
    }
    if draw(st.integers(0, 4)) == 0:  # long slot lanes up to the limit of 30 slots
        slots = draw(st.integers(9, 30))
        changes.update(
            {
                "geometry.slots": slots,
                "geometry.storage_m": slots * scn.geometry.slot_length_m + 20.0,
                "vehicle_mix.heavy_uturn_slots": draw(st.integers(1, slots)),
            }
        )
    lanes = draw(st.integers(0, 3))
    changes["approach.through_lanes"] = lanes
    if lanes:  # the through movement moves with a conflicting phase; flow up to 1.3 x capacity
        phases = scn.signal.phases
        k = draw(st.sampled_from([k for k, p in enumerate(phases) if "left" not in p.serves]))
        capacity = lanes * 1800.0 * phases[k].green_s / scn.signal.cycle_s
        changes.update(
            {
                f"signal.phases.{k}.serves": [*phases[k].serves, "through"],
                "approach.taper_m": draw(st.sampled_from([0.0, 7.5, 30.0])),
                "approach.avoid_blocked_lane": lanes > 1 and draw(st.booleans()),
                "demand.through.flow_veh_h": min(
                    draw(st.floats(0.0, 1.3)) * capacity, 2400.0 * lanes
                ),
            }
        )
    return update_scenario(scn, changes), draw(st.integers(0, 3))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fast_cases())
def test_fast_engine_equals_simpy_on_random_scenarios(case):
    scn, rep = case
    _compare(scn, [build_arrivals(scn, None, rep)])


@pytest.mark.parametrize(
    ("avoid", "bay", "through"),
    [
        # a spilled bay car blocks lane 1 until the first left turn (32 s) makes room
        (False, [(5.0, "left"), (5.1, "left"), (5.2, "left")], [(6.0, 1), (6.5, 2)]),
        # a through queue past the opening keeps a U-turner out until 62 s
        (False, [(31.0, "uturn")], [(28.0, 1), (29.0, 1), (30.0, 1)]),
        # ties: bay and through cars arrive together, at the green's start and end
        (False, [(2.0, "left"), (27.0, "uturn"), (32.0, "left")], [(2.0, 1), (27.0, 1), (32.0, 1)]),
        # lane avoidance: the lane-1 car behind the spilled bay car takes lane 2
        (True, [(5.0, "left"), (5.1, "left"), (5.2, "left")], [(6.0, 1), (7.0, 1), (7.5, 2)]),
        (
            True,
            [(28.0, "left"), (28.1, "left"), (28.2, "uturn")],
            [(28.5, 2), (28.6, 2), (29.0, 1)],
        ),
    ],
)
def test_hand_made_approach_traces(avoid, bay, through):
    scn = approach_scenario(avoid)
    _compare(scn, [approach_table(scn, bay, through, conflicts=[33.0, 40.0, 95.0])])


def _tie_table(movement, crit):
    """Two vehicles; the second arrives exactly when the first starts (green start 30 s)."""
    green = GreenWindows(np.array([30.0, 130.0]), np.array([60.0, 160.0]))
    return ArrivalTable(
        t=np.array([1.0, 30.0]),
        movement=np.array(movement, dtype=np.int8),
        heavy=np.zeros(2, dtype=bool),
        critical_gap_s=np.array(crit),
        conflict_t=np.array([0.5, 200.0]),
        conflict_stream=np.zeros(2, dtype=np.int8),
        uturn_green=green,
        left_green=green,
        seed_entropy=0,
        spawn_key=(0,),
    )


@pytest.mark.parametrize("scheme", ["ordinary", "linked", "linked_zhengzhou"])
@pytest.mark.parametrize("movement", [[1, 1], [0, 0], [1, 0]])
def test_ties_resolve_in_simpy_event_order(scheme, movement):
    """At 30 s the arrival and the head's start are due together; SimPy admits first.

    With storage for exactly one car, the second vehicle then finds the lane full
    (``spilled``); the opposite order would not.  Both engines must agree on it.
    """
    scn = update_scenario(us.default_scenario(), {"approach.through_lanes": 0})
    table = _tie_table(movement, [np.nan if m else 6.0 for m in movement])
    sch = get_scheme(scheme)
    rules = sch.rules(scn)
    rules = dataclasses.replace(
        rules, storage_m=rules.car_length_m, uturn_when="left_green", slot_hold_s=0.0
    )
    batch = ArrivalBatch.from_tables([table], [0])
    rec = run_records(batch, rules, scn.simulation.end_s)
    ref = run_lane(table, sch, rules, scn.simulation.end_s)
    for col in RECORDS:
        want, got = getattr(ref, col), getattr(rec, col)
        assert got.dtype == want.dtype, col
        if want.dtype.kind == "f":
            _times_equal(got, want, col)
        else:
            np.testing.assert_array_equal(got, want, err_msg=col)
    assert rec.departure[0] == 30.0
    if movement == [1, 1] or scheme == "ordinary":  # the second waits behind the first
        assert rec.spilled[1]


def test_every_lane_rule_is_packed():
    """A rule added to ``LaneRules`` without a compiled counterpart is refused."""
    rules = get_scheme("linked").rules(us.default_scenario())
    names = {f.name for f in dataclasses.fields(rules)} - {"scheme"}
    assert names == set(FIELDS) and len(pack_rules(rules)) == len(FIELDS)

    @dataclasses.dataclass(frozen=True)
    class Extra(type(rules)):
        new_rule_s: float = 1.0

    with pytest.raises(NotImplementedError, match="new_rule_s"):
        pack_rules(Extra(**dataclasses.asdict(rules)))


def test_every_measure_has_a_compiled_formula_and_column():
    assert {m.name for m in MEASURES} <= set(fm.COMPILED)
    cols = {
        "arrived": rs._ARRIVED,
        "qdelay_p95": rs._QDELAY_P95,
        "qveh_mean": rs._QVEH,
        "qm_mean": rs._QM,
        "spilled": rs._SPILLED,
        "veh_per_gap": rs._PER_GAP,
        "conflicts": rs._CONFLICTS,
        "total_delay": rs._TOTAL,
        "entry_wait": rs._ENTRY_WAIT,
        "entrance_share": rs._LANE_ONE,
        "lane_cycles": rs._LANE_ONE + 3,
        "pet_below_0": rs._PET_BELOW,
    }
    assert {name: rs.STATS.index(name) for name in cols} == cols
    assert len(rs.STATS) == rs._PET_BELOW + len(rs.PET_THRESHOLDS_S)


def test_fast_study_rows_and_compare_on_the_default():
    """``summaries`` orders rows as ``compare`` does; ``compare`` runs compiled on the
    default (its through lanes) and gives SimPy's summaries."""
    scn = update_scenario(
        us.default_scenario(), {"simulation.duration_s": 900.0, "simulation.warmup_s": 300.0}
    )
    frame = summaries(scn, ["ordinary", "linked"], 7, [0, 1], chunk=1)
    assert list(frame["movement"]) == [*ROWS] * 4
    assert (
        list(frame["scheme"])
        == ["ordinary"] * 4 + ["linked"] * 4 + ["ordinary"] * 4 + ["linked"] * 4
    )
    fast = us.compare(scn, replications=2, seed=7, engine="fast").summaries
    simpy = us.compare(scn, replications=2, seed=7, engine="simpy").summaries
    _same_summary(fast, simpy, "compare")
    _same_summary(frame, simpy, "summaries")


def test_sweeps_run_through_lane_cells_compiled(monkeypatch):
    """A sweep on the fast engine runs every cell compiled, through lanes or not, with
    SimPy's rows."""
    from uturn_sim.sweeps import run as sweep_run

    scn = update_scenario(
        us.default_scenario(), {"simulation.duration_s": 600.0, "simulation.warmup_s": 0.0}
    )
    bay_alone = update_scenario(scn, {"approach.through_lanes": 0})
    cells = {0: scn.model_dump(mode="json"), 1: bay_alone.model_dump(mode="json")}
    tasks = [(0, 0), (1, 0), (0, 1)]
    calls = []
    real = sweep_run.simulate

    def counting(s, scheme, **kw):
        calls.append(s.approach.through_lanes)
        return real(s, scheme, **kw)

    monkeypatch.setattr(sweep_run, "simulate", counting)
    fast = sweep_run.run_chunk(tasks, cells, ["ordinary", "linked"], 7, engine="fast")
    assert calls == []  # nothing fell back to SimPy
    simpy = sweep_run.run_chunk(tasks, cells, ["ordinary", "linked"], 7, engine="simpy")
    assert len(calls) == 6
    assert len(fast) == len(simpy) == 3 * 2 * len(ROWS)
    _same_summary(pd.DataFrame(fast), pd.DataFrame(simpy), "sweep rows")


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from([-0.0, 0.0, 1.0, 2.5, 7.5, -3.0]), max_size=300),
    st.lists(st.floats(-1e4, 1e4), max_size=300),
)
def test_compiled_orderings_equal_numpy(few, many):
    """Few distinct values (counting by rank), many (merged runs), nearly sorted runs."""
    from uturn_sim.fast.sorting import argsort_stable, percentile

    runs = np.concatenate((np.sort(many), np.sort(many[::-1]) + 0.5, many))
    for x in (np.array(few), np.array(many), runs):
        np.testing.assert_array_equal(argsort_stable(x), np.argsort(x, kind="stable"))
        for q in (0.0, 0.05, 0.5, 0.95, 1.0) if x.size else ():
            assert percentile(x.copy(), q) == np.percentile(x, 100 * q)
