"""Calibrate a scenario from field observations: :func:`calibrate` and the commented YAML.

Every estimated field is set from the observations and validated with the rest
of the base scenario; :func:`calibrated_yaml` writes the scenario with a comment
on each field: ``# calibrated: estimate, 95% CI [lo, hi], n = N (method)`` or
``# assumption (from base)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from uturn_sim.calibration import estimators as est
from uturn_sim.calibration.estimate import Estimate, TooFewError
from uturn_sim.calibration.gaps import (
    critical_gap_mle,
    critical_gap_modified_raff,
    lognormal_quantile,
)
from uturn_sim.calibration.observations import ObservationError, Observations, read_observations
from uturn_sim.scenario.loading import (
    default_scenario,
    load_scenario,
    scenario_to_yaml,
    set_path,
    validate_mapping,
)
from uturn_sim.scenario.model import Behaviour, Scenario

__all__ = ["CalibrationReport", "calibrate", "calibrated_yaml", "write_calibrated"]

DEFAULT_DECEL_RATIO = 1.0
"""Deceleration / acceleration of a move-up when the base scenario has neither field."""


@dataclass
class CalibrationReport:
    """What :func:`calibrate` estimated, from what, and what it could not set.

    Attributes
    ----------
    estimates : dict of str to Estimate
        Dotted scenario field path -> the estimate written there.
    comparisons : dict of str to Estimate
        Estimates shown for comparison only (modified Raff, move-up travel time).
    notes : list of str
        Fields skipped (not in the scenario model yet, no data) and assumptions used.
    profile_tests : pandas.DataFrame or None
        Per movement, the likelihood-ratio test of a constant rate.
    move_up_per_slot : pandas.DataFrame or None
        Mean reaction and move-up time per slot moved into.
    files : dict of str to str
        Format -> file read.
    """

    estimates: dict[str, Estimate] = field(default_factory=dict)
    comparisons: dict[str, Estimate] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    profile_tests: pd.DataFrame | None = None
    move_up_per_slot: pd.DataFrame | None = None
    files: dict[str, str] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """One row per estimate: ``field``, ``value``, ``lo``, ``hi``, ``n``, ``unit``, ``method``.

        Comparison-only estimates have ``field`` starting with ``(compare)``.
        """
        rows = [(k, e) for k, e in self.estimates.items()]
        rows += [(f"(compare) {k}", e) for k, e in self.comparisons.items()]
        return pd.DataFrame(
            [(k, e.value, e.lo, e.hi, e.n, e.unit, e.method) for k, e in rows],
            columns=["field", "value", "lo", "hi", "n", "unit", "method"],
        )

    def text(self) -> str:
        """A plain-text report: estimates, comparisons, tests and notes."""
        out = [self.to_frame().to_string(index=False, float_format=lambda x: f"{x:.4g}")]
        if self.profile_tests is not None and len(self.profile_tests):
            out += ["", "profile test (constant rate vs one rate per interval):"]
            out.append(self.profile_tests.to_string(index=False, float_format=lambda x: f"{x:.4g}"))
        if self.move_up_per_slot is not None and len(self.move_up_per_slot):
            out += ["", "move-up per slot moved into (means, s):"]
            out.append(self.move_up_per_slot.to_string(index=False, float_format="{:.3g}".format))
        out += ["", *[f"note: {n}" for n in self.notes]]
        return "\n".join(out)


def _has(path: str) -> bool:
    """True if ``behaviour.<name>`` exists in the scenario model (new fields may not yet)."""
    section, _, name = path.partition(".")
    return section != "behaviour" or name.split(".")[0] in Behaviour.model_fields


def _round(x: float) -> float:
    return float(f"{x:.4g}")


def _estimate_all(obs: Observations, base: Scenario, rep: CalibrationReport) -> dict[str, Any]:
    """Run every estimator the observations allow; return dotted path -> value."""
    values: dict[str, Any] = {}
    put = rep.estimates

    def use(path: str, e: Estimate | None) -> None:
        if e is None:
            return
        if not _has(path):
            rep.notes.append(
                f"{path} = {e.comment()} not written: field not in the scenario model yet"
            )
            return
        put[path] = e
        values[path] = _round(e.value)

    if obs.gaps is not None:
        r, a = est.gap_pairs(obs.gaps)
        fit = critical_gap_mle(r, a)
        values["behaviour.critical_gap.distribution"] = "lognormal"
        use("behaviour.critical_gap.mean_s", fit.mean)
        use("behaviour.critical_gap.sd_s", fit.sd)
        use("behaviour.critical_gap.min_s", lognormal_quantile(fit, 0.001))
        use("behaviour.critical_gap.max_s", lognormal_quantile(fit, 0.999))
        rep.comparisons["median critical gap (MLE)"] = fit.median
        rep.comparisons["median critical gap (modified Raff)"] = critical_gap_modified_raff(r, a)
    if obs.follow_up is not None:
        use("behaviour.follow_up_headway_s", est.follow_up_headway(obs.follow_up))
    if obs.slot_events is not None:
        _slot_fields(obs.slot_events, base, rep, use)
    if obs.discharge is not None:
        d = est.saturation_discharge(obs.discharge)
        use("behaviour.saturation_flow_veh_h", d["saturation_flow_veh_h"])
        use("signal.startup_lost_time_s", d["startup_lost_time_s"])
        rep.comparisons["saturation headway"] = d["saturation_headway_s"]
    if obs.counts is not None:
        fit = est.demand(obs.counts)
        for m, e in fit.flows.items():
            use(f"demand.{m}.flow_veh_h", e)
        rep.profile_tests = fit.profile_tests
        if fit.factors is None:
            values["demand.profile"] = None
            rep.notes.append("demand.profile removed: no movement's counts reject a constant rate")
        else:
            for i, e in enumerate(fit.factors):
                put[f"demand.profile.factors.{i}"] = e
            values["demand.profile"] = {
                "interval_s": fit.interval_s,
                "factors": [_round(e.value) for e in fit.factors],
                "applies_to": fit.applies_to,
            }
    return values


def _slot_fields(ev: pd.DataFrame, base: Scenario, rep: CalibrationReport, use: Any) -> None:
    b = base.behaviour
    use("behaviour.linked_start_lag_s", est.start_lag(ev))
    for name, e in est.slot_times(ev).items():
        use(f"behaviour.{name}", e)
    accel, decel = getattr(b, "accel_m_s2", None), getattr(b, "decel_m_s2", None)
    ratio = decel / accel if accel and decel else DEFAULT_DECEL_RATIO
    if not (accel and decel):
        rep.notes.append(
            f"move-up: decel / accel = {ratio:g} assumed (base scenario has no accel/decel)"
        )
    cap = b.move_up_speed_m_s
    rep.notes.append(
        f"behaviour.move_up_speed_m_s {cap:g} m/s kept from base (creep speed cap): slot events "
        "time a move-up, they do not separate acceleration, cap and braking"
    )
    try:
        mu = est.move_up(ev, base.geometry.slot_length_m, ratio, cap)
    except TooFewError as exc:
        rep.notes.append(f"move-up not estimated: {exc}")
        return
    use("behaviour.reaction_time_s", mu.reaction)
    rep.comparisons["move-up time over one slot"] = mu.travel
    rep.move_up_per_slot = mu.per_slot
    if mu.accel is None:
        rep.notes.append("move-up: no acceleration gives the observed time at this speed cap")
        return
    use("behaviour.accel_m_s2", mu.accel)
    a = mu.accel
    method = f"{ratio:g} x accel (assumed ratio)"
    use(
        "behaviour.decel_m_s2",
        Estimate(ratio * a.value, ratio * a.lo, ratio * a.hi, a.n, method, "m/s2"),
    )


def calibrate(
    paths: str | Path | list[str | Path], base: Scenario | str | Path | None = None
) -> tuple[Scenario, CalibrationReport]:
    """A scenario calibrated from observation files, and the report of its estimates.

    Parameters
    ----------
    paths
        Observation CSV files or directories holding them (formats in
        :mod:`uturn_sim.calibration.observations`).
    base
        Scenario (or scenario file) supplying every field not estimated; default:
        the embedded default scenario.

    Raises
    ------
    ObservationError
        A file is invalid, or too few observations for an estimate (file named).
    ScenarioError
        The calibrated values make an invalid scenario (field named).
    """
    if isinstance(base, str | Path):
        base = load_scenario(Path(base))
    base = default_scenario() if base is None else base
    items = [paths] if isinstance(paths, str | Path) else list(paths)
    obs = read_observations(items)
    rep = CalibrationReport(files=dict(obs.files or {}))
    try:
        values = _estimate_all(obs, base, rep)
    except (TooFewError, ValueError) as exc:
        raise ObservationError([f"{', '.join(rep.files.values())}: {exc}"]) from None
    data = base.model_dump(mode="json")
    for path, value in values.items():
        if path == "demand.profile":
            data["demand"]["profile"] = value
        else:
            set_path(data, path, value)
    data["name"] = f"{base.name}_calibrated"
    # standard errors of every written estimate, for compare --parameter-uncertainty
    data["uncertainty"] = [
        {"field": path, "sd": (e.hi - e.lo) / (2 * 1.959964)}
        for path, e in rep.estimates.items()
        if not path.startswith("(") and np.isfinite(e.hi - e.lo) and _written(path, values)
    ]
    return validate_mapping(data), rep


def _written(path: str, values: dict[str, Any]) -> bool:
    """True if ``path`` is a field the calibrated scenario took from the estimates."""
    return path in values or (
        path.startswith("demand.profile.factors.") and "demand.profile" in values
    )


_KEY = re.compile(r"^(\s*)(-\s+)?([A-Za-z_]\w*):(.*)$")


def calibrated_yaml(scn: Scenario, rep: CalibrationReport) -> str:
    """The scenario's YAML with a comment on every field (calibrated or assumed)."""
    lines = scenario_to_yaml(scn).splitlines()
    stack: list[tuple[int, str]] = []
    count: dict[str, int] = {}
    out = [
        f"# Calibrated by uturn-sim calibrate from: {', '.join(rep.files.values())}",
        "# Fields marked 'assumption (from base)' were not estimated.",
    ]
    for k, line in enumerate(lines):
        m = _KEY.match(line)
        if not m:
            out.append(line)
            continue
        indent = len(m[1])
        if m[2]:  # a list item: the list's key stands at this indent
            while stack and stack[-1][0] > indent:
                stack.pop()
            owner = ".".join(p for _, p in stack)
            count[owner] = count.get(owner, -1) + 1
            stack.append((indent + 1, str(count[owner])))
            indent += len(m[2])
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, m[3]))
        path = ".".join(p for _, p in stack)
        nxt = lines[k + 1].strip() if k + 1 < len(lines) else ""
        leaf = m[4].strip() != "" or (nxt.startswith("- ") and ":" not in nxt)
        if not leaf:
            out.append(line)
            continue
        cont = k + 1 < len(lines) and not _KEY.match(lines[k + 1]) and not nxt.startswith("-")
        if cont:  # a multi-line scalar: a trailing comment would end it, so put it above
            out.append(f"{' ' * indent}# {_comment(path, rep, scn)}")
            out.append(line)
        else:
            out.append(f"{line}  # {_comment(path, rep, scn)}")
    return "\n".join(out) + "\n"


def _comment(path: str, rep: CalibrationReport, scn: Scenario) -> str:
    if path in rep.estimates:
        return f"calibrated: {rep.estimates[path].comment()}"
    if path == "demand.profile.factors":
        return (
            "calibrated: "
            + "; ".join(
                f"[{e.lo:.3g}, {e.hi:.3g}]" for k, e in rep.estimates.items() if "factors" in k
            )
            + " 95% CIs, n = counts per interval (rate / mean rate, Clopper-Pearson)"
        )
    if path.startswith("demand.profile") and "demand.profile.factors.0" in rep.estimates:
        return "calibrated: movements whose counts reject a constant rate (G test, 5%)"
    if path == "behaviour.critical_gap.distribution" and path.rsplit(".", 1)[0] + ".mean_s" in (
        rep.estimates
    ):
        return "calibrated: log-normal (maximum likelihood, Troutbeck 1992)"
    if path == "name":
        return "calibrated scenario"
    if path == "uncertainty" or path.startswith("uncertainty."):
        return "standard error of the estimate (95% CI / 3.92), for --parameter-uncertainty"
    return "assumption (from base)"


def write_calibrated(scn: Scenario, rep: CalibrationReport, out: str | Path) -> Path:
    """Write :func:`calibrated_yaml` to ``out``; return the path."""
    path = Path(out)
    path.write_text(calibrated_yaml(scn, rep), encoding="utf-8")
    return path
