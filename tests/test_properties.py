"""Model invariants over random valid scenarios (Hypothesis)."""

import numpy as np
from hypothesis import HealthCheck, given, settings

import uturn_sim as us

from .strategies import scenarios

SETTINGS = settings(
    max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


def check_invariants(res: us.Result) -> None:
    v = res.vehicles
    table = res.arrivals
    res.check_conservation()
    d, a = v["departure_s"].to_numpy(), v["arrival_s"].to_numpy()
    done = ~np.isnan(d)
    assert np.all(d[done] >= a[done] - 1e-9), "departure before arrival"
    uturn = (v["movement"] == "uturn").to_numpy()
    by = v["served_by"].to_numpy()
    # no U-turn in a gap without an acceptable window under the model's own rule
    gap = done & uturn & (by == "gap")
    p = table.conflict_t
    # a start at a passage (a gap opening) may be recorded 1 ulp before it (SimPy's
    # now + (t - now)): look for the next passage from 1e-9 s after the start
    nxt = np.append(p, np.inf)[np.searchsorted(p, d[gap] + 1e-9, side="right")]
    assert np.all(nxt - d[gap] >= v["critical_gap_s"].to_numpy()[gap] - 1e-9), (
        "U-turn in a short gap"
    )
    # protected service only inside the movement's effective green
    green = done & (by == "green")
    assert np.all(table.uturn_green.contains(d[green & uturn]))
    assert np.all(table.left_green.contains(d[done & ~uturn]))
    assert np.all(by[done & ~uturn] == "green")
    # left-turners keep their order; U-turners keep theirs
    for sel in (~uturn, uturn):
        dd = d[sel]
        served = ~np.isnan(dd)
        assert served.sum() == 0 or not np.any(np.isnan(dd[: served.sum()])), "overtaking"
        assert np.all(np.diff(dd[served]) >= -1e-9)
    if res.scheme == "ordinary":
        dd = d[done]
        assert np.all(np.diff(dd) >= -1e-9) and not np.isnan(d[: done.sum()]).any(), "not FIFO"
        assert (v["slot"] == 0).all()
    else:
        k = res.scenario.geometry.slots
        slot = v["slot"].to_numpy()
        assert np.all((slot >= 0) & (slot <= k))
        assert np.all(slot[~uturn] == 0)
        first = v["first_slot"].to_numpy()
        # a U-turner that stopped directly in a slot stopped right behind the file: the
        # foremost free slot it can reach (a slot left empty by a car that is turning
        # from the slot behind it is filled by compaction, never by passing that car)
        direct = uturn & (first > 0) & np.isclose(v["reached_s"].to_numpy(), a)
        for i in np.flatnonzero(direct):
            ahead = np.sum((np.arange(len(a)) < i) & ~(d <= a[i]))
            assert first[i] >= ahead + 1, f"vehicle {i} in slot {first[i]} with {ahead} ahead"
            if ahead == 0:
                assert first[i] == 1, f"vehicle {i} alone in the lane stopped in {first[i]}"
        # compaction: a U-turner never starts from a slot behind the one it first stopped in
        assert np.all(slot[slot > 0] <= first[slot > 0])


@SETTINGS
@given(scenarios())
def test_invariants_hold_for_both_schemes(scn):
    table = us.build_arrivals(scn)
    results = [us.simulate(scn, s, arrivals=table) for s in ("ordinary", "linked")]
    for res in results:
        check_invariants(res)
    np.testing.assert_array_equal(
        results[0].vehicles["arrival_s"], results[1].vehicles["arrival_s"]
    )
    again = us.simulate(scn, "linked", arrivals=us.build_arrivals(scn))
    np.testing.assert_array_equal(again.vehicles["departure_s"], results[1].vehicles["departure_s"])
    for res in results:
        s = res.summary()
        assert (s["delay_mean_s"].fillna(0) >= 0).all()
        assert (s["spillback_share"].between(0, 1)).all()


def test_waiting_left_turners_do_not_block_linked_uturners(default_pair):
    """On the default, many U-turners leave while a left-turner that arrived earlier waits."""
    v = default_pair[1].vehicles
    left = v[v["movement"] == "left"]
    uturn = v[(v["movement"] == "uturn") & (v["slot"] > 1)]
    passed = 0
    for _, u in uturn.iterrows():
        ahead = left[
            (left["arrival_s"] < u["arrival_s"]) & (left["departure_s"] > u["departure_s"])
        ]
        passed += len(ahead) > 0
    assert passed > 20
