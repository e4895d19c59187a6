import numpy as np
import pytest

from uturn_sim.measures.summary import level_of_service, queue_steps, time_weighted_stats


@pytest.mark.parametrize(
    "d,los",
    [
        (0, "A"),
        (10, "A"),
        (10.01, "B"),
        (35, "C"),
        (55, "D"),
        (80, "E"),
        (80.1, "F"),
        (np.nan, "-"),
    ],
)
def test_hcm_signalized_los(d, los):
    assert level_of_service(d) == los


def test_queue_steps_and_time_weighting():
    a = np.array([0.0, 1.0, 2.0])
    d = np.array([3.0, 4.0, np.nan])
    t, n = queue_steps(a, d)
    # levels: 1 on [0,1), 2 on [1,2), 3 on [2,3), 2 on [3,4), 1 afterwards
    mean, p95, mx = time_weighted_stats(t, n, 0.0, 10.0)
    assert mean == pytest.approx((1 + 2 + 3 + 2 + 6 * 1) / 10)
    assert mx == 3 and p95 == 3
    mean, p95, mx = time_weighted_stats(t, n, 5.0, 10.0)
    assert (mean, p95, mx) == (1.0, 1.0, 1.0)


def test_unsignalized_los_thresholds():
    from uturn_sim.measures.summary import LOS_UNSIGNALIZED

    assert [level_of_service(d, LOS_UNSIGNALIZED) for d in (10, 15, 25, 35, 50, 50.1)] == list(
        "ABCDEF"
    )
