"""Inputs of the compiled arrival core, and its output as arrival tables.

:func:`compiled_draws` turns a scenario's :class:`~uturn_sim.traffic.table.ArrivalPlan`
and a root seed into the arrays :func:`uturn_sim.traffic.kernel.draw_batch` reads, and
runs it.  It answers ``None`` for what the kernel does not cover, and the caller keeps
the NumPy path (which also raises NumPy's errors for invalid input):

* a seed, or a ``SeedSequence`` root, whose entropy or spawn key is not made of
  non-negative integers; a replication index outside ``0 .. 2**32 - 1``;
* a headway model or parameter :func:`~uturn_sim.traffic.headways.unit_headways`
  rejects, or a critical-gap distribution :func:`~uturn_sim.traffic.table.
  _critical_gaps` does not know.

Importing this module imports numba (and loads or compiles the kernels, once per
process; numba caches them on disk).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from uturn_sim.numba_cache import ensure_fresh
from uturn_sim.scenario.model import CONFLICTING, Scenario
from uturn_sim.traffic.kernel import GAP_KINDS, HEADWAY_CODES, draw_batch
from uturn_sim.traffic.pcg import entropy_words, pool_root
from uturn_sim.traffic.seeds import STREAM_NAMES, replication_seed
from uturn_sim.traffic.table import ArrivalPlan

__all__ = ["CompiledDraws", "compiled_draws"]

_STREAMS = ("uturn", "left", *CONFLICTING, "through")  # the kernel's stream order
_KEYS = np.array(
    [STREAM_NAMES.index(f"{s}.arrivals") for s in _STREAMS]
    + [STREAM_NAMES.index(n) for n in ("uturn.critical_gap", "uturn.vehicle_type")]
    + [STREAM_NAMES.index(n) for n in ("left.vehicle_type", "through.vehicle_type")],
    dtype=np.int64,
)
MAX_ITER = 100_000  # as headways.gate


@dataclass(frozen=True)
class CompiledDraws:
    """Every replication's arrival arrays, concatenated (times in s from the run start).

    Replication ``k``'s bay vehicles are rows ``vehicle_offsets[k]:vehicle_offsets[k+1]``
    of ``t, movement, heavy, critical_gap_s``, its conflict passages rows
    ``conflict_offsets[k]:...`` of ``conflict_t, conflict_stream``, its through vehicles
    rows ``through_offsets[k]:...`` of ``through_t, through_lane, through_heavy``; each
    as in :class:`~uturn_sim.traffic.table.ArrivalTable`.  ``entropy`` and
    ``spawn_key`` are the root's (a replication appends its index to the key).
    """

    vehicle_offsets: np.ndarray
    t: np.ndarray
    movement: np.ndarray
    heavy: np.ndarray
    critical_gap_s: np.ndarray
    conflict_offsets: np.ndarray
    conflict_t: np.ndarray
    conflict_stream: np.ndarray
    through_offsets: np.ndarray
    through_t: np.ndarray
    through_lane: np.ndarray
    through_heavy: np.ndarray
    entropy: object
    spawn_key: tuple[int, ...]


def _root_words(root: int | np.random.SeedSequence) -> tuple[np.ndarray, object, tuple] | None:
    """The root's assembled entropy words before the replication index, or None."""
    ss = replication_seed(root, 0)  # validates the seed as build_arrivals does
    words, key = entropy_words(ss.entropy), ss.spawn_key[:-1]
    key_words = entropy_words(key)
    if words is None or key_words is None:
        return None
    words = words + [0] * (4 - len(words))  # zero-padded to the pool: a spawn key follows
    return pool_root(np.array(words + key_words, dtype=np.uint64)), ss.entropy, key


def _stream_inputs(plan: ArrivalPlan) -> tuple | None:
    """Lanes, headway codes, block sizes, parameters and rate knots of every stream."""
    lanes, models, ns, pf, knots = [], [], [], [], []
    for name in _STREAMS:
        rate = plan.rates.get(name)
        if rate is None:  # no through lanes
            lanes.append(0), models.append(0), ns.append(0), pf.append([0.0] * 5)
            knots.append((np.zeros(2), np.zeros(2)))
            continue
        mh, bs = rate.min_unit, rate.bunched_share
        if rate.model not in HEADWAY_CODES:
            return None
        if rate.total > 1e-9 and rate.model != "poisson" and not 0 <= mh < 1:
            return None
        if rate.total > 1e-9 and rate.model == "cowan_m3" and not 0 <= bs < 1:
            return None
        free = (1.0 - mh) / (1.0 - bs) if rate.model == "cowan_m3" else 0.0
        lanes.append(plan.lanes[name])
        models.append(HEADWAY_CODES[rate.model])
        ns.append(rate.n)
        pf.append([rate.total, mh, 1.0 - mh, free, bs])
        knots.append((rate.knots_lam, rate.knots_t))
    kof = np.zeros(len(knots) + 1, dtype=np.int64)
    kof[1:] = np.cumsum([len(lam) for lam, _ in knots])
    return (
        np.array(lanes, dtype=np.int64),
        np.array(models, dtype=np.int64),
        np.array(ns, dtype=np.int64),
        np.array(pf, dtype=np.float64),
        kof,
        np.concatenate([lam for lam, _ in knots]).astype(np.float64),
        np.concatenate([t for _, t in knots]).astype(np.float64),
    )


def _signal_inputs(plan: ArrivalPlan) -> tuple:
    """Gated flags, saturation headways (s) and green windows (s) of the conflicting."""
    wins = [plan.conflict_windows[c] for c in CONFLICTING]
    wof = np.zeros(len(wins) + 1, dtype=np.int64)
    wof[1:] = np.cumsum([0 if w is None else len(w.starts) for w in wins])
    empty = np.empty(0)
    return (
        np.array([w is not None for w in wins], dtype=np.bool_),
        np.array([plan.conflict_headway_s[c] for c in CONFLICTING], dtype=np.float64),
        wof,
        np.concatenate([empty] + [w.starts for w in wins if w is not None]).astype(float),
        np.concatenate([empty] + [w.ends for w in wins if w is not None]).astype(float),
    )


def _gap_inputs(scn: Scenario) -> tuple[int, np.ndarray] | None:
    """Critical-gap kind and ``(loc, scale, min, max)`` as ``table._critical_gaps`` draws."""
    cg = scn.behaviour.critical_gap
    if cg.distribution not in GAP_KINDS:
        return None
    loc, scale = cg.mean_s, 0.0
    if cg.distribution == "normal":
        scale = cg.sd_s
    elif cg.distribution == "lognormal":
        s2 = np.log1p((cg.sd_s / cg.mean_s) ** 2)
        loc, scale = np.log(cg.mean_s) - s2 / 2, np.sqrt(s2)
    elif cg.distribution == "uniform":  # Generator.uniform: low + (high - low) * U
        half = np.sqrt(3.0) * cg.sd_s
        low, high = float(cg.mean_s - half), float(cg.mean_s + half)
        loc, scale = low, high - low
    gp = np.array([loc, scale, cg.min_s, cg.max_s], dtype=np.float64)
    return GAP_KINDS[cg.distribution], gp


def compiled_draws(
    scn: Scenario,
    plan: ArrivalPlan,
    root: int | np.random.SeedSequence,
    replications: Sequence[int],
) -> CompiledDraws | None:
    """The arrivals of ``replications`` under root seed ``root``, or None (not covered).

    Replication ``r`` holds exactly the arrays of ``draw_arrivals(scn, plan,
    replication_seed(root, r))``.

    Raises
    ------
    RuntimeError
        As :func:`~uturn_sim.traffic.headways.gate`, if a signal gating does not converge.
    """
    ensure_fresh()
    reps = np.asarray(list(replications), dtype=object)
    if not all(isinstance(r, (int, np.integer)) and 0 <= r < 2**32 for r in reps):
        return None
    rooted, streams, gaps = _root_words(root), _stream_inputs(plan), _gap_inputs(scn)
    if rooted is None or streams is None or gaps is None:
        return None
    pool, entropy, key = rooted
    out = draw_batch(
        pool,
        reps.astype(np.int64),
        _KEYS,
        *streams,
        *_signal_inputs(plan),
        float(scn.vehicle_mix.heavy_share),
        gaps[0],
        gaps[1],
        MAX_ITER,
    )
    if out[-1]:
        raise RuntimeError("signal gating did not converge (stream far above its capacity)")
    voff, vt, vm, vh, vc, coff, ct, cs, toff, tt, tl, th = out[:-1]
    nv, nc, nt = voff[-1], coff[-1], toff[-1]
    return CompiledDraws(
        voff, vt[:nv], vm[:nv], vh[:nv], vc[:nv], coff, ct[:nc], cs[:nc],
        toff, tt[:nt], tl[:nt], th[:nt], entropy, key,
    )  # fmt: skip

#: set last: ``build_arrivals`` uses this module only once it is wholly loaded (a thread
#: may be importing it meanwhile)
LOADED = True
