"""Design advisor: the fewest U-turn slots (and least storage) that meet every criterion.

For each U-turn (and left) demand and each storage length offered, slots are searched
from a closed-form first guess; each candidate is simulated (common random numbers:
replication ``r`` uses the same seed for every candidate) and judged on:

* control delay of each judged movement: the **upper bound** of the confidence
  interval of the mean must be within the target grade (LOS D by default: 55 s/veh);
  a mean inside the grade whose bound is not is *not* accepted;
* spillback: the upper bound of the mean share of time the queue exceeds the storage
  (through-lane blocking) must be below ``max_spillback_share``;
* no unserved vehicles: in no replication may a vehicle of the measured period still
  wait at the end;
* any further ``limits`` (e.g. a safety measure once declared), upper bound again.

A criterion is *clear* when its interval lies wholly on one side of the limit.
Replications are added in steps until every criterion of a candidate is clear or the
cap is reached; an unclear candidate at the cap is not accepted and is reported as
``unclear`` (the table says so).  The search assumes that more slots never make a
candidate worse: from the guess it steps down while candidates pass, up while they
do not (``full=True`` evaluates every slot count instead).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from uturn_sim.measures.grading import HCM_SIGNALIZED, Grading
from uturn_sim.scenario.loading import update_scenario
from uturn_sim.scenario.model import CONFLICTING, Scenario
from uturn_sim.study.compare import mean_ci
from uturn_sim.validation.theory import linked_capacity

__all__ = [
    "GUESS_DEGREE_OF_SATURATION",
    "Criteria",
    "Design",
    "Verdict",
    "closed_form_slots",
    "design",
    "judge",
]

#: degree of saturation the closed-form first guess aims below (it only seeds the search)
GUESS_DEGREE_OF_SATURATION = 0.85

Runner = Callable[[Scenario, int, Sequence[int]], pd.DataFrame]


@dataclass(frozen=True)
class Criteria:
    """What a design must meet (see the module docstring).

    Attributes
    ----------
    target : grade the control delay must reach or beat (``"D"``)
    grading : the grading table (HCM signalized; or a local one, ``load_grading``)
    movements : movements whose control delay is judged (``uturn``, ``left``)
    max_spillback_share : upper bound allowed for the share of time spilled back (0..1)
    limits : further measure -> largest allowed value, judged on the upper bound
    confidence : confidence level of the intervals (0..1)
    """

    target: str = "D"
    grading: Grading = HCM_SIGNALIZED
    movements: tuple[str, ...] = ("uturn", "left")
    max_spillback_share: float = 0.05
    limits: Mapping[str, float] = field(default_factory=dict)
    confidence: float = 0.95

    def __post_init__(self) -> None:
        self.grading.limit_s(self.target)  # raises for a grade not in the table
        if not 0 <= self.max_spillback_share <= 1:
            raise ValueError(
                f"max_spillback_share must be within 0..1, got {self.max_spillback_share}"
            )
        if not 0 < self.confidence < 1:
            raise ValueError(f"confidence must be within 0..1, got {self.confidence}")


@dataclass(frozen=True)
class Verdict:
    """Judgement of one candidate: per criterion and overall (``pass``, ``fail``, ``unclear``)."""

    overall: str
    criteria: pd.DataFrame = field(repr=False)

    @property
    def reasons(self) -> str:
        """The criteria not passed, ``name (verdict)``, comma-separated ('' when all pass)."""
        bad = self.criteria[self.criteria["verdict"] != "pass"]
        return ", ".join(f"{r.criterion} ({r.verdict})" for r in bad.itertuples())


def _bound_verdict(lo: float, hi: float, mean: float, limit: float) -> str:
    if not np.isfinite(mean):
        return "pass"  # nothing to judge (e.g. no vehicles of the movement)
    if np.isfinite(hi) and hi <= limit:
        return "pass"
    if np.isfinite(lo) and lo > limit:
        return "fail"
    return "unclear"


def judge(summaries: pd.DataFrame, criteria: Criteria) -> Verdict:
    """Judge one candidate from its per-replication summaries.

    Parameters
    ----------
    summaries
        One row per (replication, movement) with the declared measures
        (``delay_mean_s`` in s/veh, ``spillback_share``, ``unserved`` in veh, and every
        measure named in ``criteria.limits``).
    criteria
        The criteria.

    Returns
    -------
    Verdict
        ``criteria`` has one row per criterion: ``criterion, mean, ci_low, ci_high,
        limit, verdict``.

    Raises
    ------
    ValueError
        If a measure named in ``criteria.limits`` is not among the summaries' columns.
    """
    rows = []
    by = summaries.set_index("movement")
    limit = criteria.grading.limit_s(criteria.target)

    def add(name: str, values: np.ndarray, lim: float) -> None:
        mean, lo, hi = mean_ci(values, criteria.confidence)
        rows.append(
            {
                "criterion": name,
                "mean": mean,
                "ci_low": lo,
                "ci_high": hi,
                "limit": lim,
                "verdict": _bound_verdict(lo, hi, mean, lim),
            }
        )

    for m in criteria.movements:
        if m in by.index:
            add(f"{m} control delay", by.loc[[m], "delay_mean_s"].to_numpy(float), limit)
    lane = by.loc[["all"]] if "all" in by.index else by
    add("spillback share", lane["spillback_share"].to_numpy(float), criteria.max_spillback_share)
    for name, lim in criteria.limits.items():
        if name not in summaries.columns:
            raise ValueError(
                f"limits: measure {name!r} is not computed; available: "
                f"{', '.join(c for c in summaries.columns if c not in ('movement', 'replication'))}"
            )
        add(name, lane[name].to_numpy(float), float(lim))
    unserved = summaries.loc[summaries["movement"].isin(criteria.movements), "unserved"]
    worst = float(unserved.max()) if len(unserved) else 0.0
    rows.append(
        {
            "criterion": "unserved vehicles",
            "mean": float(unserved.mean()) if len(unserved) else 0.0,
            "ci_low": np.nan,
            "ci_high": worst,
            "limit": 0.0,
            "verdict": "pass" if worst <= 0 else "fail",
        }
    )
    frame = pd.DataFrame(rows)
    v = frame["verdict"]
    overall = "fail" if (v == "fail").any() else ("unclear" if (v == "unclear").any() else "pass")
    return Verdict(overall, frame)


def closed_form_slots(scenario: Scenario, max_slots: int) -> int:
    """First guess of the slots needed (closed form; it only seeds the search).

    The lane's U-turn capacity with ``k`` slots, veh/h, is taken phase by phase: in a
    phase serving the U-turn, its saturation flow (less what the left-turners use); in
    any other phase, ``linked_capacity`` (``c_k``) against the conflicting streams that
    phase releases, each discharging at ``flow x C / g`` (unsignalized streams at their
    flow), capped by the saturation flow.  The guess is the smallest ``k`` whose peak
    U-turn demand stays below :data:`GUESS_DEGREE_OF_SATURATION` of it (``max_slots``
    if none does).
    """
    sig, b, d = scenario.signal, scenario.behaviour, scenario.demand
    s_u = b.saturation_flow_veh_h * b.uturn_saturation_factor / 3600.0  # veh/s
    left_share = d.left.flow_veh_h / max(1e-9, b.saturation_flow_veh_h)  # of the hour
    unsignalized = sum(d.stream(m).flow_veh_h for m in CONFLICTING if not d.stream(m).signalized)
    peak = max(d.profile.factors) if d.profile and "uturn" in d.profile.applies_to else 1.0
    demand = d.uturn.flow_veh_h * peak

    def capacity(k: int) -> float:
        cap = 0.0
        for p in sig.phases:
            share = (p.green_s + p.amber_s + p.all_red_s) / sig.cycle_s
            if "uturn" in p.serves:
                cap += share * s_u * 3600.0
                continue
            q = unsignalized + sum(
                d.stream(m).flow_veh_h * sig.cycle_s / sig.effective_green_s(m)
                for m in CONFLICTING
                if d.stream(m).signalized and m in p.serves
            )
            q_s = q / 3600.0
            c = (
                s_u
                if q_s < 1e-6
                else min(
                    s_u, float(linked_capacity(q_s, b.critical_gap.mean_s, b.linked_start_lag_s, k))
                )
            )
            cap += share * c * 3600.0
        return cap - left_share * s_u * 3600.0

    for k in range(1, max_slots + 1):
        if demand <= GUESS_DEGREE_OF_SATURATION * capacity(k):
            return k
    return max_slots


def _default_runner(scheme: str) -> Runner:
    def run(scn: Scenario, seed: int, reps: Sequence[int]) -> pd.DataFrame:
        from uturn_sim.model.run import simulate

        frames = []
        for r in reps:
            f = simulate(scn, scheme, seed=seed, replication=r).summary()
            f.insert(0, "replication", r)
            frames.append(f)
        return pd.concat(frames, ignore_index=True)

    return run


def _evaluate(
    scn: Scenario, run: Runner, root: int, crit: Criteria, reps: tuple[int, int, int]
) -> dict:
    """Simulate one candidate, adding replications while unclear; its table row."""
    initial, step, cap = reps
    n = initial
    summ = run(scn, root, range(n))
    verdict = judge(summ, crit)
    while verdict.overall == "unclear" and n < cap:
        more = min(step, cap - n)
        summ = pd.concat([summ, run(scn, root, range(n, n + more))], ignore_index=True)
        n += more
        verdict = judge(summ, crit)
    c = verdict.criteria.set_index("criterion")

    def pick(name: str, col: str) -> float:
        return float(c.loc[name, col]) if name in c.index else np.nan

    row = {
        "uturn_veh_h": scn.demand.uturn.flow_veh_h,
        "left_veh_h": scn.demand.left.flow_veh_h,
        "storage_m": scn.geometry.storage_m,
        "slots": scn.geometry.slots,
        "guess": False,
        "verdict": verdict.overall,
        "reasons": verdict.reasons,
        "replications": n,
        "capped": verdict.overall == "unclear",
        "uturn_delay_s": pick("uturn control delay", "mean"),
        "uturn_delay_hi_s": pick("uturn control delay", "ci_high"),
        "left_delay_s": pick("left control delay", "mean"),
        "left_delay_hi_s": pick("left control delay", "ci_high"),
        "spillback": pick("spillback share", "mean"),
        "spillback_hi": pick("spillback share", "ci_high"),
        "unserved_max": pick("unserved vehicles", "ci_high"),
        "chosen": False,
    }
    for name in crit.limits:
        row[name] = pick(name, "mean")
        row[f"{name}_hi"] = pick(name, "ci_high")
    return row


@dataclass(frozen=True)
class Design:
    """Result of :func:`design`.

    ``table`` holds one row per evaluated candidate: ``uturn_veh_h, left_veh_h,
    storage_m, slots, guess`` (the closed-form first guess), ``verdict, reasons,
    replications, capped`` (the cap was reached), per judged criterion its ``mean`` and
    ``ci_high`` (``uturn_delay_s``, ``left_delay_s``, ``spillback_share``), ``unserved_max``
    and ``chosen``.  ``choices`` has one row per demand: the chosen ``storage_m`` and
    ``slots`` (NaN when none within ``max_slots`` and the storages offered qualifies),
    and ``status``.
    """

    table: pd.DataFrame
    choices: pd.DataFrame
    criteria: Criteria
    seed: int
    scheme: str

    def text(self) -> str:
        """The tables as the CLI prints them."""
        c = self.criteria
        head = (
            f"design advisor ({self.scheme}, seed {self.seed}): fewest slots with "
            f"{'/'.join(c.movements)} control delay grade {c.target} or better "
            f"({c.grading.name}, <= {c.grading.limit_s(c.target):g} s/veh) on the upper "
            f"{c.confidence:.0%} bound, spillback share <= {c.max_spillback_share:g} on the upper "
            "bound, no unserved vehicles" + "".join(f", {k} <= {v:g}" for k, v in c.limits.items())
        )
        cols = [
            "uturn_veh_h",
            "left_veh_h",
            "storage_m",
            "slots",
            "verdict",
            "replications",
            "uturn_delay_s",
            "uturn_delay_hi_s",
            "spillback_hi",
            "unserved_max",
            "chosen",
        ]
        t = self.table[cols].to_string(index=False, float_format=lambda x: f"{x:.2f}")
        ch = self.choices.to_string(index=False, float_format=lambda x: f"{x:g}", na_rep="-")
        return f"{head}\n\ncandidates:\n{t}\n\nchosen:\n{ch}\n"


def design(
    scenario: Scenario,
    *,
    uturn_demands: Sequence[float] | None = None,
    left_demands: Sequence[float] | None = None,
    storages: Sequence[float] | None = None,
    max_slots: int = 8,
    criteria: Criteria | None = None,
    scheme: str = "linked",
    seed: int | None = None,
    initial_replications: int = 5,
    step: int = 5,
    max_replications: int = 40,
    full: bool = False,
    progress: Callable[[int, int], None] | None = None,
    runner: Runner | None = None,
) -> Design:
    """Fewest slots (and least storage) meeting every criterion, per demand.

    Parameters
    ----------
    scenario
        The base scenario.
    uturn_demands
        U-turn demands to design for, veh/h (default: the scenario's).
    left_demands
        Left-turn demands, veh/h (default: the scenario's).
    storages
        Lane storage lengths to offer, m, least first (default: the scenario's).
    max_slots
        Most slots considered (also bounded by ``storage / slot_length``).
    criteria
        The criteria (default :class:`Criteria`: LOS D, spillback below 5% of the time).
    scheme
        The slotted scheme (a registered name, default ``linked``).
    seed
        Root seed (default ``scenario.simulation.seed``); the same replication seeds
        for every candidate.
    initial_replications, step, max_replications
        Replications run first, added while a decision is unclear, and the cap.
    full
        Evaluate every slot count (for the chart), not just the search path.
    progress
        Called as ``progress(done, total)`` after each demand.
    runner
        ``runner(scenario, seed, replications) -> summaries`` (default: simulate
        ``scheme``); for tests with hand-made summaries.

    Raises
    ------
    ValueError
        For replication settings or ``max_slots`` below 1.
    ScenarioError
        If a demand or storage makes the scenario invalid (the message names the field).
    """
    crit = Criteria() if criteria is None else criteria
    if min(initial_replications, step, max_replications, max_slots) < 1:
        raise ValueError("initial_replications, step, max_replications and max_slots must be >= 1")
    if initial_replications < 2:
        raise ValueError("initial_replications must be >= 2 (a confidence interval needs two)")
    root = scenario.simulation.seed if seed is None else int(seed)
    run = runner or _default_runner(scheme)
    us_ = list(uturn_demands or [scenario.demand.uturn.flow_veh_h])
    ls_ = list(left_demands or [scenario.demand.left.flow_veh_h])
    st_ = sorted(storages or [scenario.geometry.storage_m])
    plan = list(itertools.product(us_, ls_))
    reps = (initial_replications, step, max_replications)
    rows: list[dict] = []
    choices: list[dict] = []
    for done, (qu, ql) in enumerate(plan, start=1):
        chosen: tuple[float, int] | None = None
        status = "no design qualifies"
        for storage in st_:
            fit = int(np.floor(storage / scenario.geometry.slot_length_m + 1e-9))
            top = min(max_slots, fit)
            if top < 1:
                continue
            changes = {
                "demand.uturn.flow_veh_h": float(qu),
                "demand.left.flow_veh_h": float(ql),
                "geometry.storage_m": float(storage),
                "geometry.slots": 1,
            }
            base = update_scenario(scenario, changes)
            guess = closed_form_slots(base, top)
            results: dict[int, dict] = {}

            def evaluate(
                k: int, base: Scenario = base, results: dict = results, guess: int = guess
            ) -> dict:
                row = _evaluate(update_scenario(base, {"geometry.slots": k}), run, root, crit, reps)
                row["guess"] = k == guess
                results[k] = row
                return row

            if full:
                for k in range(1, top + 1):
                    evaluate(k)
                passing = [k for k in sorted(results) if results[k]["verdict"] == "pass"]
                best = passing[0] if passing else None
            else:
                best = None
                k = guess
                if evaluate(k)["verdict"] == "pass":
                    best = k
                    while k > 1 and evaluate(k - 1)["verdict"] == "pass":
                        k -= 1
                        best = k
                else:
                    while k < top:
                        k += 1
                        if evaluate(k)["verdict"] == "pass":
                            best = k
                            break
            if best is not None:
                results[best]["chosen"] = True
                chosen = (float(storage), best)
                status = "chosen"
            rows.extend(results[k] for k in sorted(results))
            if chosen is not None:
                break
        if chosen is None and any(
            r["capped"] for r in rows if r["uturn_veh_h"] == qu and r["left_veh_h"] == ql
        ):
            status = "not statistically clear at the replication cap"
        choices.append(
            {
                "uturn_veh_h": float(qu),
                "left_veh_h": float(ql),
                "storage_m": chosen[0] if chosen else np.nan,
                "slots": chosen[1] if chosen else np.nan,
                "status": status,
            }
        )
        if progress is not None:
            progress(done, len(plan))
    return Design(pd.DataFrame(rows), pd.DataFrame(choices), crit, root, scheme)
