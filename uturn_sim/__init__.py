"""uturn_sim: ordinary vs multi-car linked U-turn lanes at a signalized approach, simulated.

Data flows one way: scenario -> arrivals (NumPy) -> model (SimPy) -> records ->
metrics -> results -> CLI / plots / sweeps.
"""

from .compare import Comparison, compare
from .errors import ScenarioError
from .loading import default_scenario, load_scenario, scenario_schema, update_scenario
from .results import Result, simulate
from .scenario import Scenario
from .sweep import SweepSpec, load_sweep, sweep
from .traffic import ArrivalTable, build_arrivals

__all__ = [
    "ArrivalTable",
    "Comparison",
    "Result",
    "Scenario",
    "ScenarioError",
    "SweepSpec",
    "build_arrivals",
    "compare",
    "default_scenario",
    "load_scenario",
    "load_sweep",
    "scenario_schema",
    "simulate",
    "sweep",
    "update_scenario",
]
__version__ = "0.1.0"
