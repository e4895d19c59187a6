import numpy as np
import pandas as pd
import pytest

import uturn_sim as us
from uturn_sim.model.result import VEHICLE_COLUMNS

from .conftest import small_scenario


def test_conservation_and_nonnegative_delay(default_pair):
    for res in default_pair:
        res.check_conservation()
        v = res.vehicles
        assert list(v.columns) == list(VEHICLE_COLUMNS)
        done = v["departure_s"].notna()
        assert (v.loc[done, "departure_s"] >= v.loc[done, "arrival_s"]).all()
        reached = v["reached_s"].notna()
        early = v.loc[done & reached, "reached_s"] <= v.loc[done & reached, "departure_s"] + 1e-9
        assert early.all()
        bay = v["lane"] == 0
        assert v.loc[bay & done, "reached_s"].notna().all()
        assert (v.loc[bay, "bay_entry_s"].dropna() >= v.loc[bay, "arrival_s"] - 1e-9).all()


def test_schemes_see_identical_arrivals(default_pair):
    o, li = default_pair
    pd.testing.assert_series_equal(o.vehicles["arrival_s"], li.vehicles["arrival_s"])
    pd.testing.assert_series_equal(o.vehicles["movement"], li.vehicles["movement"])
    assert o.seed_entropy == li.seed_entropy


def test_same_seed_identical_records(default):
    a = us.simulate(default, "linked", seed=3)
    b = us.simulate(default, "linked", seed=3)
    pd.testing.assert_frame_equal(a.vehicles, b.vehicles)
    c = us.simulate(default, "linked", seed=4)
    assert not a.vehicles["arrival_s"].equals(c.vehicles["arrival_s"])


def test_simulate_equals_replication_zero_of_compare(default):
    comp = us.compare(default, replications=2, seed=9)
    one = us.simulate(default, "ordinary", seed=9).summary()
    rep0 = comp.summaries[
        (comp.summaries["replication"] == 0) & (comp.summaries["scheme"] == "ordinary")
    ]
    np.testing.assert_allclose(rep0["delay_mean_s"].to_numpy(), one["delay_mean_s"].to_numpy())


def test_ordinary_is_fifo(default_pair):
    v = default_pair[0].vehicles.dropna(subset=["departure_s"])
    for _, lane in v.groupby("lane"):  # the bay, and each through lane
        assert lane["departure_s"].is_monotonic_increasing


def test_linked_uturns_beat_ordinary_on_default(default):
    comp = us.compare(default, replications=10, seed=1)
    t = comp.table().set_index(["movement", "measure"])
    assert t.loc[("uturn", "delay_mean_s"), "ci_high"] < 0
    assert t.loc[("uturn", "queue_mean_veh"), "ci_high"] < 0
    assert t.loc[("all", "spillback_share"), "ci_high"] < 0


def test_summary_measures_are_consistent(default_pair):
    for res in default_pair:
        s = res.summary().set_index("movement")
        assert s.loc["all", "arrived"] == s.loc[["uturn", "left", "through"], "arrived"].sum()
        assert s.loc["all", "queue_max_veh"] >= s.loc["all", "queue_p95_veh"] >= 0
        assert s.loc["all", "queue_mean_m"] == pytest.approx(7.5 * s.loc["all", "queue_mean_veh"])
        total = s.loc[["uturn", "left", "through"], "total_delay_veh_h_per_h"].sum()
        assert s.loc["all", "total_delay_veh_h_per_h"] == pytest.approx(total)
        assert s.loc["uturn", "los"] in "ABCDEF"
        q = res.queue
        assert list(q.columns) == ["t_s", "queue_veh", "queue_m", "slots_occupied"]
        assert (q["queue_veh"] >= 0).all()
    assert np.isfinite(default_pair[1].summary().set_index("movement").loc["uturn", "veh_per_gap"])


def test_oversaturation_is_reported_not_a_crash():
    scn = small_scenario(
        demand={
            "uturn": {"flow_veh_h": 1500},
            "left": {"flow_veh_h": 400},
            "opposing_through": {"flow_veh_h": 600},
            "cross_right": {"flow_veh_h": 0},
            "cross_left": {"flow_veh_h": 0},
        },
        simulation={"duration_s": 1800, "warmup_s": 0, "cooldown_s": 0},
    )
    for scheme in ("ordinary", "linked"):
        res = us.simulate(scn, scheme)
        res.check_conservation()
        s = res.summary().set_index("movement")
        assert s.loc["all", "oversaturated"]
        assert s.loc["all", "unserved"] > 0
        assert s.loc["all", "spillback_share"] > 0.5


def test_zero_demand_and_one_slot():
    scn = small_scenario(
        demand={
            "uturn": {"flow_veh_h": 0},
            "left": {"flow_veh_h": 0},
            "opposing_through": {"flow_veh_h": 0},
            "cross_right": {"flow_veh_h": 0},
            "cross_left": {"flow_veh_h": 0},
        },
        geometry={"slots": 1},
    )
    res = us.simulate(scn, "linked")
    s = res.summary()
    assert (s["arrived"] == 0).all() and s["delay_mean_s"].isna().all() and (s["los"] == "-").all()


def test_bad_scheme():
    with pytest.raises(ValueError, match=r"unknown scheme .diagonal.; registered: ordinary"):
        us.simulate(us.default_scenario(), "diagonal")


def test_spillback_episodes_match_share(default_pair):
    res = default_pair[0]
    ep = res.spillback_episodes()
    assert list(ep.columns) == ["start_s", "end_s", "duration_s", "max_queue_m"]
    assert (ep["duration_s"] > 0).all() and (ep["max_queue_m"] > 60).all()
    t0, t1 = res.window
    inside = (ep["end_s"].clip(t0, t1) - ep["start_s"].clip(t0, t1)).sum() / (t1 - t0)
    share = res.summary().set_index("movement").loc["all", "spillback_share"]
    assert inside == pytest.approx(share)
    s = res.summary().set_index("movement")
    assert s.loc["all", "in_system_end"] == res.vehicles["departure_s"].isna().sum()
