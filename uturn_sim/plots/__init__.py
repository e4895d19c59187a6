"""Figures and the animation: functions that take results and return matplotlib figures."""

from uturn_sim.plots.approach import (
    approach_figures,
    approach_queues,
    approach_time_space,
    lane_one_intervals,
    peak_window,
)
from uturn_sim.plots.common import save_figure
from uturn_sim.plots.figures import (
    SCHEME_COLORS,
    capacity_curves,
    cumulative_curves,
    delay_distributions,
    delay_vs_demand,
    queue_comparison,
    queue_over_time,
    slot_occupancy,
    webster_curve,
    write_compare_plots,
    write_run_plots,
    write_sweep_plots,
)
from uturn_sim.plots.lane import slot_intervals
from uturn_sim.plots.safety import pet_by_platoon_place, pet_distribution

__all__ = [
    "SCHEME_COLORS",
    "approach_figures",
    "approach_queues",
    "approach_time_space",
    "capacity_curves",
    "cumulative_curves",
    "delay_distributions",
    "delay_vs_demand",
    "lane_one_intervals",
    "peak_window",
    "pet_by_platoon_place",
    "pet_distribution",
    "queue_comparison",
    "queue_over_time",
    "save_figure",
    "slot_intervals",
    "slot_occupancy",
    "webster_curve",
    "write_compare_plots",
    "write_run_plots",
    "write_sweep_plots",
]
