"""Random streams: one ``SeedSequence`` per replication, one generator per traffic stream.

The list of stream names is append-only: adding a new kind of draw at the end
never shifts the draws of existing streams, so results stay comparable.
"""

from __future__ import annotations

import numpy as np

__all__ = ["STREAM_NAMES", "replication_seed", "spawn_streams", "stream_seed"]

STREAM_NAMES: tuple[str, ...] = (
    "uturn.arrivals",
    "left.arrivals",
    "opposing_through.arrivals",
    "cross_right.arrivals",
    "cross_left.arrivals",
    "uturn.critical_gap",
    "uturn.vehicle_type",
    "left.vehicle_type",
    "parameters",  # draws of uncertain scenario parameters (compare --parameter-uncertainty)
    "through.arrivals",  # the studied approach's through lanes (approach.through_lanes > 0)
    "through.vehicle_type",
)


def replication_seed(
    seed: int | np.random.SeedSequence, replication: int = 0
) -> np.random.SeedSequence:
    """The SeedSequence of replication ``replication`` under root ``seed``.

    Equal to ``SeedSequence(seed).spawn(n)[replication]`` for any ``n``, so a single
    :func:`uturn_sim.simulate` with ``seed`` reproduces replication 0 of
    :func:`uturn_sim.compare` with the same seed.
    """
    if isinstance(seed, np.random.SeedSequence):
        return np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, replication))
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return np.random.SeedSequence(int(seed), spawn_key=(replication,))


def spawn_streams(ss: np.random.SeedSequence) -> dict[str, np.random.SeedSequence]:
    """One child SeedSequence per name in :data:`STREAM_NAMES` (independent streams)."""
    children = np.random.SeedSequence(ss.entropy, spawn_key=ss.spawn_key).spawn(len(STREAM_NAMES))
    return dict(zip(STREAM_NAMES, children, strict=True))


_STREAM_INDEX = {name: k for k, name in enumerate(STREAM_NAMES)}


def stream_seed(ss: np.random.SeedSequence, name: str, *lane: int) -> np.random.SeedSequence:
    """``spawn_streams(ss)[name]``, or its child ``spawn(n)[lane]``, built directly.

    A spawned child is ``SeedSequence(entropy, spawn_key=parent_key + (i,))``, so this
    equals the spawned one draw for draw without building the 11 siblings and the
    parents (the cost of a default replication's seeding falls by about two thirds).
    """
    key = (*ss.spawn_key, _STREAM_INDEX[name], *lane)
    return np.random.SeedSequence(ss.entropy, spawn_key=key)
