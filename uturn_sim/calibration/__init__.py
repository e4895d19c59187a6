"""Calibration from field observations: formats, estimators, observe layer, ``calibrate``.

Names are imported on first use, so that registering the ``calibrate`` command does
not load pandas and SciPy for every ``uturn-sim`` invocation.
"""

from importlib import import_module

_WHERE = {
    "CalibrationReport": "fit",
    "calibrate": "fit",
    "calibrated_yaml": "fit",
    "write_calibrated": "fit",
    "Estimate": "estimate",
    "ObservationError": "observations",
    "read_observations": "observations",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> object:
    if name in _WHERE:
        return getattr(import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
