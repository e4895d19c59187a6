"""The design advisor judges on the upper confidence bound and on spillback, not the mean."""

import numpy as np
import pandas as pd
import pytest

import uturn_sim as us
from uturn_sim.advisor.design import Criteria, closed_form_slots, design, judge
from uturn_sim.measures.grading import Grading


def _summaries(uturn_delays, spill=0.0, unserved=0):
    rows = []
    for r, d in enumerate(uturn_delays):
        for mv, delay in (("uturn", d), ("left", 20.0), ("all", d)):
            rows.append(
                {
                    "replication": r,
                    "movement": mv,
                    "delay_mean_s": delay,
                    "spillback_share": spill if np.isscalar(spill) else spill[r],
                    "unserved": unserved,
                }
            )
    return pd.DataFrame(rows)


def test_mean_passes_but_upper_bound_fails_is_refused():
    delays = [40.0, 70.0, 45.0, 65.0]  # mean 55.0 -> at the LOS D line; CI up to ~76
    s = _summaries([d - 2 for d in delays])  # mean 53 < 55: the mean passes
    v = judge(s, Criteria())
    row = v.criteria.set_index("criterion").loc["uturn control delay"]
    assert row["mean"] < 55 < row["ci_high"]
    assert v.overall == "unclear" and "uturn control delay (unclear)" in v.reasons


def test_bound_inside_grade_passes_and_above_fails():
    assert judge(_summaries([30.0, 31.0, 29.0, 30.5]), Criteria()).overall == "pass"
    assert judge(_summaries([90.0, 91.0, 89.0, 92.0]), Criteria()).overall == "fail"


def test_unserved_vehicle_in_one_replication_fails():
    s = _summaries([30.0, 31.0, 29.0])
    s.loc[(s.replication == 1) & (s.movement == "uturn"), "unserved"] = 2
    assert judge(s, Criteria()).overall == "fail"


def _runner(table):
    """Hand-made 'simulation': summaries per slot count (cycled over replications)."""

    def run(scn, seed, reps):
        delays, spill = table[scn.geometry.slots]
        out = _summaries(
            [delays[r % len(delays)] for r in reps], [spill[r % len(spill)] for r in reps]
        )
        return out

    return run


def test_design_refuses_a_mean_that_passes_on_a_wide_interval():
    # 2 slots: mean 50 s (< 55) but the bound crosses 55 at every replication count;
    # 3 slots: clearly inside.  The rule must pick 3.
    table = {
        1: ([200.0, 220.0], [0.0]),
        2: ([20.0, 80.0], [0.0]),
        3: ([30.0, 32.0], [0.0]),
        4: ([25.0, 27.0], [0.0]),
    }
    scn = us.default_scenario()
    d = design(scn, max_slots=4, runner=_runner(table), max_replications=12)
    t = d.table.set_index("slots")
    assert t.loc[2, "uturn_delay_s"] < 55 < t.loc[2, "uturn_delay_hi_s"]
    assert t.loc[2, "verdict"] == "unclear" and t.loc[2, "capped"]
    assert d.choices.iloc[0]["slots"] == 3


def test_spillback_decides_when_delay_passes():
    table = {k: ([20.0, 22.0], [0.3, 0.32] if k < 4 else [0.0, 0.01]) for k in range(1, 7)}
    d = design(us.default_scenario(), max_slots=6, runner=_runner(table), full=True)
    t = d.table.set_index("slots")
    assert (t.loc[[1, 2, 3], "verdict"] == "fail").all()
    assert all("spillback share (fail)" in r for r in t.loc[[1, 2, 3], "reasons"])
    assert d.choices.iloc[0]["slots"] == 4
    # a looser spillback limit lets the first candidate through
    d2 = design(
        us.default_scenario(),
        max_slots=6,
        runner=_runner(table),
        criteria=Criteria(max_spillback_share=0.5),
    )
    assert d2.choices.iloc[0]["slots"] == 1


def test_local_grading_target_and_unknown_grade():
    g = Grading("local", ("一级", "二级", "三级"), (20.0, 40.0))
    assert (
        judge(_summaries([30.0, 31.0, 29.0]), Criteria(target="二级", grading=g)).overall == "pass"
    )
    assert (
        judge(_summaries([30.0, 31.0, 29.0]), Criteria(target="一级", grading=g)).overall == "fail"
    )
    with pytest.raises(ValueError, match="grade 'D' is not in 'local'"):
        Criteria(target="D", grading=g)


def test_closed_form_guess_grows_with_demand():
    scn = us.default_scenario()
    ks = [
        closed_form_slots(us.update_scenario(scn, {"demand.uturn.flow_veh_h": q}), 8)
        for q in (100, 220, 600)
    ]
    assert ks == sorted(ks) and ks[0] < ks[-1]


def test_design_simulated_default_is_reproducible_and_marks_choice():
    scn = us.update_scenario(us.default_scenario(), {"simulation.duration_s": 1800})
    a = design(scn, uturn_demands=[150], max_replications=10)
    b = design(scn, uturn_demands=[150], max_replications=10)
    pd.testing.assert_frame_equal(a.table, b.table)
    assert a.table["chosen"].sum() == (0 if np.isnan(a.choices.iloc[0]["slots"]) else 1)
    chosen = a.table[a.table.chosen]
    if len(chosen):
        r = chosen.iloc[0]
        assert r.verdict == "pass" and r.uturn_delay_hi_s <= 55 and r.spillback_hi <= 0.05
