"""Figures and the animation: functions that take results and return matplotlib figures."""

from uturn_sim.plots.figures import (
    SCHEME_COLORS,
    capacity_curves,
    cumulative_curves,
    delay_distributions,
    delay_vs_demand,
    queue_over_time,
    slot_occupancy,
    webster_curve,
    write_compare_plots,
    write_run_plots,
)
from uturn_sim.plots.safety import pet_by_platoon_place, pet_distribution

__all__ = [
    "SCHEME_COLORS",
    "capacity_curves",
    "cumulative_curves",
    "delay_distributions",
    "delay_vs_demand",
    "pet_by_platoon_place",
    "pet_distribution",
    "queue_over_time",
    "slot_occupancy",
    "webster_curve",
    "write_compare_plots",
    "write_run_plots",
]
