"""Summary rows of many replications with the compiled engine, in bounded chunks.

:func:`summaries` gives the frame :func:`uturn_sim.compare` builds from
``Result.summary()`` rows (columns ``replication, scheme, movement`` and every
declared measure; rows by replication, then scheme, then movement), computing
``chunk`` replications at a time so memory stays bounded however many are asked.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd

from uturn_sim.fast.engine import run_records
from uturn_sim.fast.measures import summarize_batch
from uturn_sim.measures.catalog import ROWS
from uturn_sim.model.schemes import Linked, Ordinary, Scheme, get_scheme
from uturn_sim.scenario.model import Scenario
from uturn_sim.traffic.batch import build_arrivals_batch

__all__ = ["summaries", "supports"]
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
    objs = [get_scheme(s) for s in schemes]
    for o in objs:
        if not supports(o):
            raise NotImplementedError(
                f"scheme {o.name!r} is not implemented by the fast engine; use engine='simpy'"
            )
    rules = [o.rules(scenario) for o in objs]
    reps = list(replications)
    frames = []
    for k in range(0, len(reps), chunk):
        batch = build_arrivals_batch(scenario, seed, reps[k : k + chunk])
        parts = [
            summarize_batch(
                batch, run_records(batch, ru, scenario.simulation.end_s), scenario, o.name
            )
            for o, ru in zip(objs, rules, strict=True)
        ]
        # rows by replication, then scheme (as compare's loop makes them), then movement
        both = pd.concat(parts, ignore_index=True)
        n, rows = len(batch), len(ROWS)
        order = [
            (s * n + r) * rows + m for r in range(n) for s in range(len(parts)) for m in range(rows)
        ]
        frames.append(both.iloc[order])
        if progress is not None:
            progress(k + n)
    return pd.concat(frames, ignore_index=True)
