"""Hypothesis strategies: random valid scenarios within documented ranges."""

from __future__ import annotations

from hypothesis import strategies as st

import uturn_sim as us


@st.composite
def scenarios(draw, max_duration_s: float = 1200.0) -> us.Scenario:
    n_other = draw(st.integers(1, 3))
    left_green = draw(st.integers(8, 40))
    others = [draw(st.integers(8, 50)) for _ in range(n_other)]
    phases = [{"name": "left", "green_s": left_green, "serves": ["left", "uturn"]}]
    conflict = ["opposing_through", "cross_right", "cross_left"]
    for i, g in enumerate(others):
        serves = [m for j, m in enumerate(conflict) if j % n_other == i]
        phases.append({"name": f"p{i}", "green_s": g, "serves": serves})
    order = draw(st.permutations(phases))
    cycle = sum(p["green_s"] + 5 for p in phases)
    slots = draw(st.integers(1, 8))
    demand = {
        "uturn": {"flow_veh_h": draw(st.floats(0, 900))},
        "left": {"flow_veh_h": draw(st.floats(0, 300))},
    }
    for m in conflict:
        g = sum(p["green_s"] for p in phases if m in p["serves"])
        lanes = draw(st.integers(1, 3))
        cap = lanes * 1800 * g / cycle
        hw = draw(
            st.sampled_from(
                [
                    {"model": "poisson"},
                    {"model": "shifted_exponential", "min_headway_s": 1.0},
                    {"model": "cowan_m3", "min_headway_s": 1.0, "bunched_share": 0.3},
                ]
            )
        )
        flow = draw(st.floats(0, 0.9)) * min(cap, lanes * 1800)
        demand[m] = {
            "flow_veh_h": flow,
            "lanes": lanes,
            "headway": hw,
            "signalized": draw(st.booleans()),
        }
    if draw(st.booleans()):
        demand["profile"] = {
            "interval_s": 300,
            "factors": draw(st.lists(st.floats(0, 2), min_size=1, max_size=6)),
        }
    dist = draw(st.sampled_from(["constant", "normal", "lognormal", "uniform"]))
    data = {
        "name": "hypothesis",
        "simulation": {
            "duration_s": draw(st.floats(300, max_duration_s)),
            "warmup_s": draw(st.floats(0, 300)),
            "cooldown_s": draw(st.floats(0, 300)),
            "seed": draw(st.integers(0, 2**32)),
        },
        "geometry": {"slots": slots, "storage_m": draw(st.floats(slots * 7.5, 200))},
        "signal": {"cycle_s": cycle, "phases": list(order)},
        "demand": demand,
        "behaviour": {
            "critical_gap": {
                "distribution": dist,
                "mean_s": draw(st.floats(4.0, 8.0)),
                "sd_s": 0.0 if dist == "constant" else draw(st.floats(0.2, 1.5)),
            },
            "follow_up_headway_s": draw(st.floats(1.8, 3.5)),
            "linked_start_lag_s": draw(st.floats(0.5, 3.0)),
            "move_up_speed_m_s": draw(st.floats(1.0, 8.0)),
        },
        "vehicle_mix": {
            "heavy_share": draw(st.floats(0, 0.3)),
            "heavy_uturn_slots": draw(st.integers(1, slots)),
        },
        "ordinary": {
            "uturn_when": draw(
                st.sampled_from(["left_green", "any_safe_gap", "left_green_or_safe_gap"])
            )
        },
        "linked": {
            "uturn_when": draw(
                st.sampled_from(["left_green", "any_safe_gap", "left_green_or_safe_gap"])
            )
        },
    }
    return us.load_scenario(data)
