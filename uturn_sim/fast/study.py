"""Summary rows of many replications with the compiled engine, in bounded chunks.

:func:`summaries` gives the frame :func:`uturn_sim.compare` builds from
``Result.summary()`` rows (columns ``replication, scheme, movement`` and every
declared measure; rows by replication, then scheme, then movement), computing
``chunk`` replications at a time so memory stays bounded however many are asked.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from uturn_sim.fast.engine import run_records
from uturn_sim.fast.measures import batch_stats, stats_columns
from uturn_sim.measures.catalog import ROWS
from uturn_sim.measures.summary import SUMMARY_COLUMNS
from uturn_sim.model.schemes import Linked, Ordinary, Scheme, get_scheme
from uturn_sim.scenario.model import Scenario
from uturn_sim.traffic.batch import build_arrivals_batch
from uturn_sim.traffic.table import ArrivalPlan, arrival_plan

__all__ = ["summaries", "summary_records", "supports"]
#: replications simulated per chunk (arrays of about 10 MB for the default scenario)
CHUNK = 256


def supports(scheme: Scheme) -> bool:
    """True if the compiled engine implements ``scheme`` (the built-in lane disciplines)."""
    cls = type(scheme)
    for family in (Linked, Ordinary):
        if isinstance(scheme, family):
            return all(
                getattr(cls, f) is getattr(family, f) for f in ("make_lane", "start", "on_admit")
            )
    return False


def _resolve(schemes: Sequence[str | Scheme]) -> list[Scheme]:
    objs = [get_scheme(s) for s in schemes]
    for o in objs:
        if not supports(o):
            raise NotImplementedError(
                f"scheme {o.name!r} is not implemented by the fast engine; use engine='simpy'"
            )
    return objs


def _columns(
    scenario: Scenario,
    objs: list[Scheme],
    rules: list,
    seed: int,
    reps: list[int],
    plan: ArrivalPlan | None = None,
) -> dict[str, np.ndarray]:
    """:func:`~uturn_sim.fast.measures.stats_columns` of ``reps``, every scheme on one batch.

    Rows by replication, then scheme (as compare's loop makes them), then movement;
    ``plan`` is ``arrival_plan(scenario)`` if the caller made it already.
    """
    batch = build_arrivals_batch(scenario, seed, reps, plan=plan)
    end = scenario.simulation.end_s
    stats = np.stack(
        [batch_stats(batch, run_records(batch, ru, end), scenario) for ru in rules], axis=1
    )  # (replication, scheme, row, statistic)
    n, k = stats.shape[:2]
    names = np.array([o.name for o in objs], dtype=object)
    return stats_columns(
        stats.reshape(n * k, *stats.shape[2:]),
        np.repeat(batch.replications, k),
        np.repeat(np.tile(names, n), len(ROWS)),
        scenario,
    )


def summaries(
    scenario: Scenario,
    schemes: Sequence[str | Scheme],
    seed: int,
    replications: Sequence[int],
    *,
    chunk: int = CHUNK,
    progress: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """Every declared measure per replication, scheme and movement (fast engine).

    Parameters
    ----------
    scenario
        The scenario.
    schemes
        Scheme names or objects; all on identical arrivals per replication.
    seed
        Root seed (replication ``r`` uses ``SeedSequence(seed, spawn_key=(r,))``).
    replications
        Replication indices.
    chunk
        Replications simulated at a time (bounds memory).
    progress
        Called with the number of replications finished after each chunk.

    Raises
    ------
    NotImplementedError
        For a scheme the compiled engine does not implement (use ``engine="simpy"``).
    """
    objs = _resolve(schemes)
    rules = [o.rules(scenario) for o in objs]
    reps = list(replications)
    plan = arrival_plan(scenario)  # once for every chunk
    frames = []
    for k in range(0, len(reps), chunk):
        part = reps[k : k + chunk]
        cols = _columns(scenario, objs, rules, seed, part, plan)
        frames.append(pd.DataFrame(cols, columns=["replication", "scheme", *SUMMARY_COLUMNS]))
        if progress is not None:
            progress(k + len(part))
    if not frames:
        cols = _columns(scenario, objs, rules, seed, [])
        frames.append(pd.DataFrame(cols, columns=["replication", "scheme", *SUMMARY_COLUMNS]))
    return pd.concat(frames, ignore_index=True)


def summary_records(
    scenario: Scenario, schemes: Sequence[str | Scheme], seed: int, replications: Sequence[int]
) -> list[dict[str, object]]:
    """:func:`summaries` as row records of Python scalars, without the DataFrame.

    What ``DataFrame.to_dict("records")`` of the frame gives (column order included),
    for sweeps, which ship plain rows between processes.
    """
    objs = _resolve(schemes)
    cols = _columns(scenario, objs, [o.rules(scenario) for o in objs], seed, list(replications))
    names = ["replication", "scheme", *SUMMARY_COLUMNS]
    values = [cols[c].tolist() for c in names]
    return [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)]
