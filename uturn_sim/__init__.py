"""uturn_sim: ordinary vs multi-car linked U-turn lanes, simulated."""

from .errors import ScenarioError
from .loading import default_scenario, load_scenario
from .scenario import Scenario

__all__ = ["Scenario", "ScenarioError", "default_scenario", "load_scenario"]
