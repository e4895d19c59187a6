"""The compiled engine (``uturn_sim.fast``) against the SimPy reference: identical records.

Every registered scheme variant on random valid scenarios (Hypothesis), the default
scenario for five replications, and hand-made ties where SimPy's event order decides.
The compiled engine models the left-turn bay alone, so the comparisons run with
``approach.through_lanes: 0``; a scenario with through lanes is refused.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import uturn_sim as us
from uturn_sim.fast import THROUGH_LANES_REFUSAL
from uturn_sim.fast.engine import run_records
from uturn_sim.fast.rules import APPROACH_FIELDS, FIELDS, pack_rules
from uturn_sim.fast.study import summaries
from uturn_sim.model.engine import run_lane
from uturn_sim.model.schemes import get_scheme, scheme_names
from uturn_sim.scenario.loading import update_scenario
from uturn_sim.traffic.batch import ArrivalBatch
from uturn_sim.traffic.signal import GreenWindows
from uturn_sim.traffic.table import ArrivalTable, build_arrivals

from .strategies import scenarios

RECORDS = ("departure", "reached", "slot", "first_slot", "served_by", "spilled")


def _bay_alone(scn):
    """``scn`` without the approach's through lanes (what the compiled engine models)."""
    return update_scenario(scn, {"approach.through_lanes": 0})


def _assert_same(scn, tables, scheme, rules=None):
    """SimPy and the fast engine give identical records on every table."""
    sch = get_scheme(scheme)
    rules = rules or sch.rules(scn)
    batch = ArrivalBatch.from_tables(tables, range(len(tables)))
    rec = run_records(batch, rules, scn.simulation.end_s)
    for k, table in enumerate(tables):
        ref = run_lane(table, sch, rules, scn.simulation.end_s)
        rows = rec.rows(batch, k)
        for col in RECORDS:
            want, got = getattr(ref, col), getattr(rec, col)[rows]
            assert got.dtype == want.dtype, (scheme, col)
            if want.dtype.kind == "f":  # times equal to 1e-9 s, NaN where NaN
                np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=col)
                np.testing.assert_allclose(got, want, rtol=0, atol=1e-9, err_msg=f"{scheme} {col}")
            else:
                np.testing.assert_array_equal(got, want, err_msg=f"{scheme} {col}")
    return rec


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
    changes["approach.through_lanes"] = 0
    return update_scenario(scn, changes), draw(st.integers(0, 3))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fast_cases())
def test_fast_engine_equals_simpy_on_random_scenarios(case):
    scn, rep = case
    tables = [build_arrivals(scn, None, rep)]
    for scheme in scheme_names():
        _assert_same(scn, tables, scheme)


def test_fast_engine_equals_simpy_default_five_replications():
    scn = _bay_alone(us.default_scenario())
    tables = [build_arrivals(scn, None, r) for r in range(5)]
    for scheme in scheme_names():
        rec = _assert_same(scn, tables, scheme)
        assert np.isfinite(rec.departure).sum() > 1500  # the runs served traffic


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
    scn = _bay_alone(us.default_scenario())
    crit = [np.nan if m else 6.0 for m in movement]
    table = _tie_table(movement, crit)
    rules = get_scheme(scheme).rules(scn)
    rules = dataclasses.replace(
        rules, storage_m=rules.car_length_m, uturn_when="left_green", slot_hold_s=0.0
    )
    rec = _assert_same(scn, [table], scheme, rules)
    assert rec.departure[0] == 30.0
    if movement == [1, 1] or scheme == "ordinary":  # the second waits behind the first
        assert rec.spilled[1]


def test_every_lane_rule_is_packed():
    """A rule added to ``LaneRules`` without a compiled counterpart is refused."""
    rules = get_scheme("linked").rules(_bay_alone(us.default_scenario()))
    names = {f.name for f in dataclasses.fields(rules)} - {"scheme", *APPROACH_FIELDS}
    assert names == set(FIELDS) and len(pack_rules(rules)) == len(FIELDS)

    @dataclasses.dataclass(frozen=True)
    class Extra(type(rules)):
        new_rule_s: float = 1.0

    with pytest.raises(NotImplementedError, match="new_rule_s"):
        pack_rules(Extra(**dataclasses.asdict(rules)))

    if hasattr(rules, "through_lanes"):  # through lanes in the rules are refused
        with pytest.raises(NotImplementedError, match="through_lanes > 0"):
            pack_rules(dataclasses.replace(rules, through_lanes=2))


def test_through_lanes_are_refused():
    """Through lanes are not modelled by the compiled engine: it says so, naming the fix."""
    scn = us.default_scenario()
    assert scn.approach.through_lanes > 0  # the shipped default has them
    with pytest.raises(NotImplementedError, match=r"^the fast engine does not model approach\."):
        summaries(scn, ["ordinary", "linked"], 1, [0])
    assert str(NotImplementedError(THROUGH_LANES_REFUSAL)) == (
        "the fast engine does not model approach.through_lanes > 0 yet; "
        "use engine='simpy' or set approach.through_lanes: 0"
    )
    batch = ArrivalBatch.from_tables([build_arrivals(scn, None, 0)], [0])
    assert len(batch.through_t) > 0
    with pytest.raises(NotImplementedError, match="through_lanes > 0"):
        run_records(batch, get_scheme("linked").rules(scn), scn.simulation.end_s)
    # with no through demand the batch looks like the bay's alone; the scenario still refuses
    quiet = update_scenario(scn, {"demand.through.flow_veh_h": 0.0})
    with pytest.raises(NotImplementedError, match="through_lanes > 0"):
        summaries(quiet, ["linked"], 1, [0])
    assert len(summaries(_bay_alone(scn), ["linked"], 1, [0])) == 3


def test_sweeps_fall_back_to_simpy_for_through_lanes(monkeypatch):
    """A sweep on the fast engine runs cells with through lanes on SimPy, the rest compiled."""
    import pandas as pd

    from uturn_sim.sweeps import run as sweep_run

    scn = update_scenario(
        us.default_scenario(), {"simulation.duration_s": 600.0, "simulation.warmup_s": 0.0}
    )
    cells = {0: scn.model_dump(mode="json"), 1: _bay_alone(scn).model_dump(mode="json")}
    tasks = [(0, 0), (1, 0)]
    calls = []
    real = sweep_run.simulate

    def counting(s, scheme, **kw):
        calls.append(s.approach.through_lanes)
        return real(s, scheme, **kw)

    monkeypatch.setattr(sweep_run, "simulate", counting)
    fast = sweep_run.run_chunk(tasks, cells, ["ordinary", "linked"], 7, engine="fast")
    assert calls == [2, 2]  # SimPy ran the through-lane cell only, both schemes
    simpy = sweep_run.run_chunk(tasks, cells, ["ordinary", "linked"], 7, engine="simpy")
    pd.testing.assert_frame_equal(
        pd.DataFrame(fast), pd.DataFrame(simpy), check_exact=False, rtol=1e-9, atol=1e-9
    )
    monkeypatch.undo()
    spec = {
        "base": "default",
        "parameters": {"approach.through_lanes": [0, 2], "simulation.duration_s": [300.0]},
        "schemes": ["linked"],
        "replications": 1,
        "seed": 3,
    }
    rows = sweep_run.sweep(spec, backend="serial")  # one cell compiled, one on SimPy
    assert sorted(rows["approach.through_lanes"].unique()) == [0, 2]
