import numpy as np

from uturn_sim.traffic.signal import green_windows, phase_intervals

from .conftest import small_scenario


def test_effective_green_windows(default):
    w = green_windows(default.signal, "left", 400.0)
    # NS left green starts at 50 s (after 45 + 3 + 2); effective [52, 77)
    assert np.any(np.isclose(w.starts, 52.0)) and np.any(np.isclose(w.ends, 77.0))
    assert np.allclose(np.diff(w.starts), 130.0)
    assert w.contains(60.0) and not w.contains(77.0) and not w.contains(51.9)
    assert w.next_start(10.0) == 52.0 and w.next_start(60.0) == 60.0
    assert w.next_start_scalar(100.0) == 182.0
    np.testing.assert_allclose(w.total(0, 130), 25.0)


def test_adjacent_phases_merge_and_unserved_movement_is_empty():
    scn = small_scenario(
        signal={
            "cycle_s": 60,
            "phases": [
                {
                    "name": "a",
                    "green_s": 20,
                    "amber_s": 3,
                    "all_red_s": 2,
                    "serves": ["left", "uturn", "opposing_through", "cross_right", "cross_left"],
                },
                {"name": "b", "green_s": 30, "amber_s": 3, "all_red_s": 2, "serves": ["left"]},
            ],
        }
    )
    w = green_windows(scn.signal, "left", 200.0)
    assert w.contains(24.0) and w.contains(26.5)  # a's gain and b's lost time do not split it
    e = green_windows(scn.signal, "nothing", 200.0)
    assert np.isinf(e.next_start_scalar(5.0))
    ph = phase_intervals(scn.signal)
    assert [p.end_s for p in ph] == [25.0, 60.0]


def test_effective_green_matches_windows_for_every_plan():
    from uturn_sim.scenario.model import MOVEMENTS

    plans = [
        small_scenario().signal,
        small_scenario(
            signal={
                "cycle_s": 60,
                "phases": [
                    {
                        "name": "a",
                        "green_s": 20,
                        "serves": [
                            "left",
                            "uturn",
                            "opposing_through",
                            "cross_right",
                            "cross_left",
                        ],
                    },
                    {"name": "b", "green_s": 30, "serves": ["left"]},
                ],
            }
        ).signal,
    ]
    from uturn_sim import default_scenario

    plans.append(default_scenario().signal)
    for sig in plans:
        for m in MOVEMENTS:
            w = green_windows(sig, m, 10 * sig.cycle_s)
            np.testing.assert_allclose(
                w.total(3 * sig.cycle_s, 4 * sig.cycle_s), sig.effective_green_s(m)
            )
