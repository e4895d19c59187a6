"""uturn_sim: ordinary vs multi-car linked U-turn lanes at a signalized approach, simulated.

Data flows one way: scenario -> arrivals (NumPy) -> model (SimPy) -> records ->
metrics -> results -> CLI / plots / sweeps.
"""

from importlib import import_module
from typing import TYPE_CHECKING

from .errors import ScenarioError

# Names are imported on first use (PEP 562) so that `uturn-sim check` and `schema`
# start without loading pandas, SciPy and SimPy.
_WHERE = {
    "ArrivalTable": "traffic.table",
    "Comparison": "study.compare",
    "Result": "model.result",
    "Scenario": "scenario.model",
    "SweepSpec": "sweeps.spec",
    "build_arrivals": "traffic.table",
    "calibrate": "calibration.fit",
    "compare": "study.compare",
    "Criteria": "advisor.design",
    "Design": "advisor.design",
    "design": "advisor.design",
    "report": "reports.bureau",
    "ladder": "study.ladder",
    "sensitivity": "study.sensitivity",
    "default_scenario": "scenario.loading",
    "load_scenario": "scenario.loading",
    "load_sweep": "sweeps.spec",
    "scenario_schema": "scenario.loading",
    "simulate": "model.run",
    "sweep": "sweeps.run",
    "update_scenario": "scenario.loading",
}

if TYPE_CHECKING:  # pragma: no cover
    from .advisor.design import Criteria, Design, design
    from .calibration.fit import calibrate
    from .model.result import Result
    from .model.run import simulate
    from .reports.bureau import report
    from .scenario.loading import default_scenario, load_scenario, scenario_schema, update_scenario
    from .scenario.model import Scenario
    from .study.compare import Comparison, compare
    from .study.ladder import ladder
    from .study.sensitivity import sensitivity
    from .sweeps.run import sweep
    from .sweeps.spec import SweepSpec, load_sweep
    from .traffic.table import ArrivalTable, build_arrivals


def __getattr__(name: str) -> object:
    if name in _WHERE:
        value = getattr(import_module(f".{_WHERE[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'uturn_sim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "ArrivalTable",
    "Comparison",
    "Criteria",
    "Design",
    "Result",
    "Scenario",
    "ScenarioError",
    "SweepSpec",
    "build_arrivals",
    "calibrate",
    "compare",
    "default_scenario",
    "design",
    "ladder",
    "load_scenario",
    "load_sweep",
    "report",
    "scenario_schema",
    "sensitivity",
    "simulate",
    "sweep",
    "update_scenario",
]
__version__ = "0.1.0"
