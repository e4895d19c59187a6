# ruff: noqa: ANN001, ANN201  (numba kernels: argument and return types are inferred)
"""The arrival core of many replications in one compiled call (numba, imported lazily).

:func:`draw_batch` does for every replication what :func:`uturn_sim.traffic.table.
draw_arrivals` does with NumPy, draw for draw and operation for operation, so every
array is identical bit for bit:

* each lane's generator is ``default_rng(SeedSequence(entropy, spawn_key=(*root_key,
  r, stream, lane)))``, seeded by :mod:`uturn_sim.traffic.pcg` without building it;
* headways as :func:`~uturn_sim.traffic.headways.unit_headways` (blocks of ``n`` draws;
  Cowan M3 draws its ``n`` exponentials, then its ``n`` uniforms), summed as
  ``np.cumsum`` does (in order; a further block adds the last sum after its own
  cumulative sum), cut at the first sum ``>= total``.  A lane has its own generator,
  so the draws of a block past that cut are never used and are not made;
* operational time mapped back by the scale factor, or by ``np.interp``'s arithmetic
  (``slope * (x - xp[j]) + fp[j]``, ``j`` the last knot ``<= x``, its NaN fall-backs);
* conflicting lanes gated by :func:`uturn_sim.traffic.gating._gate_padded` (the
  iterations of :func:`~uturn_sim.traffic.headways.gate`);
* ``argsort(kind="stable")`` of concatenated sorted lanes done as the stable merge it
  is (ties keep the earlier lane); ``np.clip`` as ``min(max(x, lo), hi)``.

Vehicle-type draws are skipped when the heavy share is ``<= 0`` or ``>= 1``: a double in
``[0, 1)`` compared with it gives all False or all True whatever was drawn, and each kind
of draw has its own generator.  The kernel knows arrays, not scenarios:
:mod:`uturn_sim.traffic.compiled` builds its inputs.

numba's on-disk cache keys a function on its own file only: after editing
:mod:`~uturn_sim.traffic.pcg` or :mod:`~uturn_sim.traffic.gating`, delete this module's
cache (``__pycache__/kernel.*.nbi``/``.nbc``) or it keeps the old code.  First compile
about 20 s, then about 0.5 s to load (numba's import included).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from uturn_sim.traffic.gating import _gate_padded, padded_windows
from uturn_sim.traffic.pcg import (
    exponential,
    next_double,
    pool_extend,
    seed_state,
    standard_normal,
    step,
    to_double,
)

__all__ = ["GAP_KINDS", "HEADWAY_CODES", "draw_batch"]

HEADWAY_CODES = {"poisson": 0, "shifted_exponential": 1, "cowan_m3": 2}
GAP_KINDS = {"constant": 0, "normal": 1, "lognormal": 2, "uniform": 3}
# rows of the per-stream parameter table ``pf``
TOTAL, MIN_UNIT, ONE_MINUS_MIN, FREE_MEAN, BUNCHED = range(5)


@njit(cache=True)
def _ensure(a, need):  # pragma: no cover - compiled
    """``a``, or a copy at least twice as long when ``need`` exceeds its length."""
    if need <= len(a):
        return a
    b = np.empty(max(need, 2 * len(a)), dtype=a.dtype)
    b[: len(a)] = a
    return b


@njit(cache=True)
def _capacity(expected):  # pragma: no cover - compiled
    """Rows to allocate for ``expected`` Poisson-like vehicles: rarely grown."""
    return int(expected + 6.0 * np.sqrt(expected) + 64.0)


@njit(cache=True)
def _lane(st, model, n, pf, buf, pos):  # pragma: no cover - compiled
    """Operational arrival times of one lane into ``buf[pos:]``; ``(buf, end)``.

    The generator's state stays in scalars during the loops (see :func:`pcg.step`).
    """
    total, mh, om, fm, bs = pf[TOTAL], pf[MIN_UNIT], pf[ONE_MINUS_MIN], pf[FREE_MEAN], pf[BUNCHED]
    if total <= 1e-9:
        return buf, pos
    hi, lo, ihi, ilo = st[0], st[1], st[2], st[3]
    offset, first = 0.0, True
    while True:
        buf = _ensure(buf, pos + n)
        if model == 2:  # Cowan M3: all n exponentials of the block first
            for i in range(n):
                buf[pos + i], hi, lo = exponential(hi, lo, ihi, ilo)
        acc = 0.0
        for _ in range(n):
            if model == 0:
                h, hi, lo = exponential(hi, lo, ihi, ilo)
            elif model == 1:
                e, hi, lo = exponential(hi, lo, ihi, ilo)
                h = mh + om * e
            else:
                h = buf[pos] * fm
                r, hi, lo = step(hi, lo, ihi, ilo)
                if to_double(r) < bs:
                    h = 0.0
                h = mh + h
            acc += h
            v = acc if first else acc + offset
            if v >= total:
                return buf, pos
            buf[pos] = v
            pos += 1
        offset, first = buf[pos - 1], False


@njit(cache=True)
def _to_time(buf, a, b, lam, t):  # pragma: no cover - compiled
    """Map ``buf[a:b]`` from operational time back to s (scale, or ``np.interp``)."""
    if b == a:
        return
    if len(t) == 2:
        scale = t[1] / lam[1]
        for i in range(a, b):
            buf[i] *= scale
        return
    n, j = len(lam), 0
    for i in range(a, b):  # x increases along the lane: its knot by a forward pointer
        x = buf[i]
        if x > lam[n - 1]:
            buf[i] = t[n - 1]
            continue
        if x < lam[0]:
            buf[i] = t[0]
            continue
        while j + 1 < n and lam[j + 1] <= x:  # j: the last knot <= x
            j += 1
        if j == n - 1 or lam[j] == x:
            buf[i] = t[j]
            continue
        slope = (t[j + 1] - t[j]) / (lam[j + 1] - lam[j])
        y = slope * (x - lam[j]) + t[j]
        if np.isnan(y):
            y = slope * (x - lam[j + 1]) + t[j + 1]
            if np.isnan(y) and t[j] == t[j + 1]:
                y = t[j]
        buf[i] = y


@njit(cache=True)
def _merge2(at, a0, na, asrc, ac, bt, b0, nb, bsrc, bc, ot, o0, osrc, s0, wl):  # pragma: no cover
    """Stable merge of runs ``at[a0:a0+na]`` and ``bt[b0:b0+nb]`` into ``ot[o0:]``.

    Both runs end with an ``inf`` sentinel; ties take ``a`` first.  Unless ``wl`` is
    False, the label of each output goes to ``osrc[s0:]``: ``ac`` (``bc``) for every
    element of ``a`` (``b``), or ``asrc[i]`` (``bsrc[j]``) when that is negative.
    """
    i, j = a0, b0
    va, vb = at[i], bt[j]
    for k in range(na + nb):
        if vb < va:
            ot[o0 + k] = vb
            if wl:
                osrc[s0 + k] = bc if bc >= 0 else bsrc[j]
            j += 1
            vb = bt[j]
        else:
            ot[o0 + k] = va
            if wl:
                osrc[s0 + k] = ac if ac >= 0 else asrc[i]
            i += 1
            va = at[i]
    return na + nb


@njit(cache=True)
def _merge(buf, beg, fin, j0, j1, lab, out_t, pos, out_src, s_pos, ta, sa, tb, sb):  # pragma: no cover  # noqa: E501
    """Stable merge of sorted lanes ``buf[beg[j]:fin[j]]``, ``j0 <= j < j1``; the new end.

    Writes times to ``out_t[pos:]`` and the label ``lab[j] >= 0`` of each to
    ``out_src[s_pos:]``; on equal times the earlier lane goes first
    (``argsort(kind="stable")`` of their concatenation).  Every lane is followed by an
    ``inf`` sentinel in ``buf``.  Runs of neighbouring lanes are merged pairwise, round
    by round (a merge of adjacent runs with ties to the left one keeps the lane order),
    through the scratch times and labels ``ta, sa`` and ``tb, sb``, each at least the
    lanes' total plus their count long.  A run keeps one label while its lanes share it
    (the lanes of one conflicting stream): no label is written for it until the end.
    """
    m = j1 - j0
    starts = beg[j0:j1].copy()
    lens = fin[j0:j1] - starts
    total = np.sum(lens)
    if m <= 1:
        out_t[pos : pos + total] = buf[starts[0] : starts[0] + total] if m else buf[:0]
        if m:
            out_src[s_pos : s_pos + total] = lab[j0]
        return pos + total
    src_t, src_s, dst_t, dst_s, into_a = buf, sb, ta, sa, True
    consts = lab[j0:j1].copy()  # the label of each run, -1 once its lanes differ
    while m > 2:
        o, mm = 0, 0
        for q in range(0, m - 1, 2):
            same = consts[q] >= 0 and consts[q] == consts[q + 1]
            n = _merge2(
                src_t, starts[q], lens[q], src_s, consts[q],
                src_t, starts[q + 1], lens[q + 1], src_s, consts[q + 1],
                dst_t, o, dst_s, o, not same,
            )  # fmt: skip
            dst_t[o + n] = np.inf
            starts[mm], lens[mm], consts[mm] = o, n, consts[q] if same else -1
            mm, o = mm + 1, o + n + 1
        if m % 2:  # the odd run out is carried over
            a, n = starts[m - 1], lens[m - 1]
            dst_t[o : o + n + 1] = src_t[a : a + n + 1]
            if consts[m - 1] < 0:
                dst_s[o : o + n] = src_s[a : a + n]
            starts[mm], lens[mm], consts[mm] = o, n, consts[m - 1]
            mm += 1
        m = mm
        if into_a:
            src_t, src_s, dst_t, dst_s, into_a = ta, sa, tb, sb, False
        else:
            src_t, src_s, dst_t, dst_s, into_a = tb, sb, ta, sa, True
    return pos + _merge2(
        src_t, starts[0], lens[0], src_s, consts[0],
        src_t, starts[1], lens[1], src_s, consts[1],
        out_t, pos, out_src, s_pos, True,
    )  # fmt: skip


@njit(cache=True)
def _seeded(pool_r, key, lane, tmp, st):  # pragma: no cover - compiled
    """Seed ``st`` as ``default_rng`` of the replication's stream ``key`` (lane, if >= 0)."""
    pool_extend(pool_r, key, tmp)
    if lane >= 0:
        pool_extend(tmp, lane, tmp)
    seed_state(tmp, st)


@njit(cache=True)
def _uniform_below(pool_r, key, share, out, a, b, tmp, st):  # pragma: no cover - compiled
    """``out[a:b] = rng.random(b - a) < share`` from stream ``key``."""
    if share <= 0.0 or share >= 1.0:
        out[a:b] = share >= 1.0
        return
    _seeded(pool_r, key, -1, tmp, st)
    hi, lo, ihi, ilo = st[0], st[1], st[2], st[3]  # in scalars, as in _lane
    for i in range(a, b):
        r, hi, lo = step(hi, lo, ihi, ilo)
        out[i] = to_double(r) < share


@njit(cache=True)
def _gaps(pool_r, key, kind, gp, out, n, tmp, st):  # pragma: no cover - compiled
    """Critical gaps of ``n`` U-turners (s) into ``out[:n]``, as ``table._critical_gaps``."""
    loc, scale, lo, hi = gp[0], gp[1], gp[2], gp[3]
    if kind == 0:
        out[:n] = loc
        return
    _seeded(pool_r, key, -1, tmp, st)
    for i in range(n):
        if kind == 1:
            x = loc + scale * standard_normal(st)
        elif kind == 2:
            x = np.exp(loc + scale * standard_normal(st))
        else:
            x = loc + scale * next_double(st)
        m = x if x > lo else lo
        out[i] = m if m < hi else hi


@njit(cache=True)
def draw_batch(
    root,
    reps,
    keys,
    lanes,
    models,
    ns,
    pf,
    kof,
    klam,
    kt,
    gated,
    heads,
    wof,
    wst,
    wen,
    share,
    gap_kind,
    gp,
    max_iter,
):  # pragma: no cover - compiled
    """Every replication's arrival arrays, concatenated (see :mod:`uturn_sim.traffic.compiled`).

    Streams ``s`` are 0 U-turn, 1 left, ``2 .. S-2`` the conflicting ones (code
    ``s - 2``), ``S-1`` through; stream ``s`` has ``lanes[s]`` lanes, arrival stream key
    ``keys[s]``, headway model ``models[s]``, block size ``ns[s]``, parameters
    ``pf[s]`` and rate knots ``klam/kt[kof[s]:kof[s+1]]``.  ``keys[S:S+4]`` are the
    critical-gap and the U-turn, left and through vehicle-type streams.  Conflicting
    stream ``c`` is gated when ``gated[c]``, at headway ``heads[c]`` (s) through windows
    ``wst/wen[wof[c]:wof[c+1]]`` (s).  Returns the offsets and arrays of the vehicles,
    the conflict passages and the through vehicles, and a status (1: a gating did not
    converge).
    """
    n_rep, n_s, n_lanes = len(reps), len(lanes), int(np.sum(lanes))
    lane_s = np.empty(n_lanes, dtype=np.int64)
    lane_k = np.empty(n_lanes, dtype=np.int64)
    first = np.zeros(n_s + 1, dtype=np.int64)  # lanes first[s]:first[s+1] are stream s's
    for s in range(n_s):
        first[s + 1] = first[s] + lanes[s]
        lane_s[first[s] : first[s + 1]] = s
        lane_k[first[s] : first[s + 1]] = np.arange(lanes[s])
    lab_c, lab_t = lane_s - 2, lane_k + 1  # labels: conflicting stream, through lane
    # padded green windows of each conflicting stream (gating.padded_windows)
    n_c = len(gated)
    pof = np.zeros(n_c + 1, dtype=np.int64)
    for c in range(n_c):
        pof[c + 1] = pof[c] + wof[c + 1] - wof[c] + 2
    psp, pep = np.empty(pof[n_c]), np.empty(pof[n_c])
    for c in range(n_c):
        sp, ep = padded_windows(wst[wof[c] : wof[c + 1]], wen[wof[c] : wof[c + 1]])
        psp[pof[c] : pof[c + 1]] = sp
        pep[pof[c] : pof[c + 1] - 1] = ep
    buf = np.empty(np.sum(lanes * (ns + 1)) + 64)  # one replication's lanes (more if extended)
    beg = np.zeros(n_lanes, dtype=np.int64)
    fin = np.zeros(n_lanes, dtype=np.int64)
    expect = n_rep * lanes * pf[:, TOTAL]
    cap_v = _capacity(expect[0] + expect[1])
    cap_c = _capacity(np.sum(expect[2 : n_s - 1]))
    cap_t = _capacity(expect[n_s - 1])
    voff = np.zeros(n_rep + 1, dtype=np.int64)
    coff = np.zeros(n_rep + 1, dtype=np.int64)
    toff = np.zeros(n_rep + 1, dtype=np.int64)
    vt, vm = np.empty(cap_v), np.empty(cap_v, dtype=np.int8)
    vh, vc = np.empty(cap_v, dtype=np.bool_), np.empty(cap_v)
    ct, cs = np.empty(cap_c), np.empty(cap_c, dtype=np.int8)
    tt, tl, th = np.empty(cap_t), np.empty(cap_t, dtype=np.int8), np.empty(cap_t, dtype=np.bool_)
    mt, ms = np.empty(64), np.empty(64, dtype=np.int64)
    hv, gv, lower = np.empty(64, dtype=np.bool_), np.empty(64), np.empty(64)
    ta, sa = np.empty(len(buf)), np.empty(len(buf), dtype=np.int64)  # merge scratch
    tb, sb = np.empty(len(buf)), np.empty(len(buf), dtype=np.int64)
    pool_r, tmp = np.empty(5, dtype=np.uint64), np.empty(5, dtype=np.uint64)
    st = np.empty(4, dtype=np.uint64)
    ju, jl, jc, jt, je = first[0], first[1], first[2], first[n_s - 1], first[n_s]
    for r in range(n_rep):
        pool_extend(root, reps[r], pool_r)
        pos = 0
        for j in range(n_lanes):
            s = lane_s[j]
            _seeded(pool_r, keys[s], lane_k[j], tmp, st)
            buf, end = _lane(st, models[s], ns[s], pf[s], buf, pos)
            _to_time(buf, pos, end, klam[kof[s] : kof[s + 1]], kt[kof[s] : kof[s + 1]])
            buf = _ensure(buf, end + 1)
            buf[end] = np.inf  # the lane's sentinel for _merge
            beg[j], fin[j], pos = pos, end, end + 1
        # conflicting lanes pass their signals, in place (a gated lane only shortens)
        for j in range(jc, jt):
            c = lane_s[j] - 2
            a, b = beg[j], fin[j]
            if gated[c] and b > a:
                lower = _ensure(lower, b - a)
                lower[: b - a] = buf[a:b]
                w0, w1 = pof[c], pof[c + 1]
                got = _gate_padded(
                    lower[: b - a], psp[w0:w1], pep[w0 : w1 - 1], heads[c], max_iter, buf[a:b]
                )
                if got < 0:
                    return voff, vt, vm, vh, vc, coff, ct, cs, toff, tt, tl, th, 1
                fin[j] = a + got  # vehicles queued past the last window are left out
                buf[a + got] = np.inf
        ta, sa, tb, sb = _ensure(ta, pos), _ensure(sa, pos), _ensure(tb, pos), _ensure(sb, pos)
        # the bay: U-turners and left-turners, each sorted, then merged (U-turn first)
        n_u = np.sum(fin[ju:jl] - beg[ju:jl])
        n_v = n_u + np.sum(fin[jl:jc] - beg[jl:jc])
        mt, ms, hv, gv = _ensure(mt, n_v), _ensure(ms, n_v), _ensure(hv, n_v), _ensure(gv, n_u)
        _merge(buf, beg, fin, ju, jl, lane_k, mt, 0, ms, 0, ta, sa, tb, sb)  # labels unused
        _merge(buf, beg, fin, jl, jc, lane_k, mt, n_u, ms, 0, ta, sa, tb, sb)
        _uniform_below(pool_r, keys[n_s + 1], share, hv, 0, n_u, tmp, st)
        _uniform_below(pool_r, keys[n_s + 2], share, hv, n_u, n_v, tmp, st)
        _gaps(pool_r, keys[n_s], gap_kind, gp, gv, n_u, tmp, st)
        k = voff[r]
        vt, vm = _ensure(vt, k + n_v), _ensure(vm, k + n_v)
        vh, vc = _ensure(vh, k + n_v), _ensure(vc, k + n_v)
        iu, il = 0, n_u
        while iu < n_u or il < n_v:
            if il >= n_v or (iu < n_u and mt[iu] <= mt[il]):
                vt[k], vm[k], vh[k], vc[k] = mt[iu], 0, hv[iu], gv[iu]
                iu += 1
            else:
                vt[k], vm[k], vh[k], vc[k] = mt[il], 1, hv[il], np.nan
                il += 1
            k += 1
        voff[r + 1] = k
        # conflict passages: every lane of every stream merged (stream order on ties)
        k = coff[r]
        n_cf = np.sum(fin[jc:jt] - beg[jc:jt])
        ct, cs = _ensure(ct, k + n_cf), _ensure(cs, k + n_cf)
        coff[r + 1] = _merge(buf, beg, fin, jc, jt, lab_c, ct, k, cs, k, ta, sa, tb, sb)
        # through vehicles: lanes merged (lane order on ties), then their vehicle types
        k = toff[r]
        n_t = np.sum(fin[jt:je] - beg[jt:je])
        tt, tl, th = _ensure(tt, k + n_t), _ensure(tl, k + n_t), _ensure(th, k + n_t)
        toff[r + 1] = _merge(buf, beg, fin, jt, je, lab_t, tt, k, tl, k, ta, sa, tb, sb)
        _uniform_below(pool_r, keys[n_s + 3], share, th, k, toff[r + 1], tmp, st)
    return voff, vt, vm, vh, vc, coff, ct, cs, toff, tt, tl, th, 0
