"""uturn_sim: ordinary vs multi-car linked U-turn lanes at a signalized approach, simulated.

Data flows one way: scenario -> arrivals (NumPy) -> model (SimPy) -> records ->
metrics -> results -> CLI / plots / sweeps.
"""

from .compare import Comparison, compare
from .errors import ScenarioError
from .loading import default_scenario, load_scenario, scenario_schema
from .results import Result, simulate
from .scenario import Scenario
from .traffic import ArrivalTable, build_arrivals

__all__ = [
    "ArrivalTable",
    "Comparison",
    "Result",
    "Scenario",
    "ScenarioError",
    "build_arrivals",
    "compare",
    "default_scenario",
    "load_scenario",
    "scenario_schema",
    "simulate",
]
__version__ = "0.1.0"
