"""Calibration from field observations: formats, estimators, observe layer, ``calibrate``."""

from uturn_sim.calibration.calibrate import (
    CalibrationReport,
    calibrate,
    calibrated_yaml,
    write_calibrated,
)
from uturn_sim.calibration.estimate import Estimate
from uturn_sim.calibration.observations import ObservationError, read_observations

__all__ = [
    "CalibrationReport",
    "Estimate",
    "ObservationError",
    "calibrate",
    "calibrated_yaml",
    "read_observations",
    "write_calibrated",
]
