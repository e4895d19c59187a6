"""Kinematics of the lane: move-up times and the geometric part of control delay.

Pure functions of distances (m), speeds (m/s) and accelerations (m/s²); no SimPy.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["geometric_delay_s", "move_time_s"]


def move_time_s(distance_m: float, accel_m_s2: float, decel_m_s2: float, vmax_m_s: float) -> float:
    """Time to cover ``distance_m`` from standstill to standstill, s.

    Accelerate at ``accel_m_s2``, cruise at most at ``vmax_m_s`` (the creep speed of a
    car moving up in a queue), brake at ``decel_m_s2``: a trapezoidal speed profile, or
    a triangular one when the distance is too short to reach ``vmax_m_s``.
    """
    if distance_m <= 0.0:
        return 0.0
    a, b, v = accel_m_s2, decel_m_s2, vmax_m_s
    ramp = v * v / (2 * a) + v * v / (2 * b)  # distance to reach v and stop again, m
    if distance_m >= ramp:
        return v / a + v / b + (distance_m - ramp) / v
    peak = math.sqrt(2 * distance_m * a * b / (a + b))
    return peak / a + peak / b


def geometric_delay_s(
    turn_speed_m_s: float | np.ndarray,
    approach_speed_m_s: float,
    accel_m_s2: float,
    decel_m_s2: float,
) -> float | np.ndarray:
    """Deceleration + acceleration delay of a stop, against a free-flow pass of the turn, s.

    A free-flow vehicle slows from the approach speed ``v_a`` to the turn speed ``v_t``
    and speeds up again; a stopped one brakes to 0 and accelerates back.  Against
    cruising at ``v_a`` the stop costs ``v_a/(2b) + v_a/(2a)`` and the free-flow turn
    ``(v_a - v_t)²/(2 v_a) (1/a + 1/b)``; the difference is

        ``v_t (2 v_a - v_t) / (2 v_a) · (1/a + 1/b)``

    (about 3.4 s for a U-turn at 15 km/h from 40 km/h at 2 m/s²; HCM's two-way-stop
    control delay adds a flat 5 s for deceleration and acceleration from the stop line).
    """
    vt = np.minimum(turn_speed_m_s, approach_speed_m_s)
    va = approach_speed_m_s
    return vt * (2 * va - vt) / (2 * va) * (1 / accel_m_s2 + 1 / decel_m_s2)
