# ruff: noqa: ANN001, ANN201  (numba kernels: argument and return types are inferred)
"""NumPy's seeding and draws, compiled: ``default_rng(SeedSequence(...))`` without Python.

The batched arrival core (:mod:`uturn_sim.traffic.kernel`) seeds a dozen generators per
replication; building them through NumPy costs far more than the draws.  This module
redoes, in numba, exactly what NumPy 1.17+ does, so every number is the same bit for bit
(``tests/test_arrivals_compiled.py`` compares against NumPy itself, Hypothesis-driven):

* ``SeedSequence(entropy, spawn_key=key)`` with the default pool of four 32-bit words:
  the assembled entropy (the run entropy, zero-padded to the pool size when a spawn key
  is given, then the key's words) hashed into the pool, then ``generate_state(4,
  uint64)``.  The hash constants are those of NumPy's ``bit_generator.pyx`` (O'Neill's
  ``seed_seq_fe``).  The hash constant advances by one multiplication per word hashed,
  whatever the data, so a pool can be extended word by word: the root entropy is mixed
  once per batch, the replication index once per replication, a stream index once per
  stream (:func:`pool_extend`).
* ``PCG64`` (128-bit LCG, XSL-RR output) seeded as ``pcg64_set_seed``; a generator's
  state is a ``uint64[4]`` array ``(state_high, state_low, inc_high, inc_low)``.
* ``Generator.random`` (53-bit doubles), ``standard_exponential`` and
  ``standard_normal`` (NumPy's 256-level ziggurats, with the tables numba itself ships
  for its ``np.random`` support, ``numba.np.random._constants``).

Every function is ``@njit(cache=True)``; arithmetic is done on ``uint64`` (32-bit words
masked) so numba never promotes a mixed signed/unsigned expression to float.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic
from numba.np.random import _constants as zc

__all__ = [
    "entropy_words",
    "exponential",
    "fill",
    "next_double",
    "next_uint64",
    "pool_extend",
    "pool_root",
    "seed_state",
    "standard_exponential",
    "standard_normal",
    "step",
    "to_double",
]

_U = np.uint64
_M32 = _U(0xFFFFFFFF)
_INIT_A, _MULT_A = _U(0x43B0D7E5), _U(0x931E8875)
_INIT_B, _MULT_B = _U(0x8B51F9DD), _U(0x58F38DED)
_MIX_L, _MIX_R = _U(0xCA01F9DD), _U(0x4973F715)
_S16, _S11, _S32, _S58, _S63 = _U(16), _U(11), _U(32), _U(58), _U(63)
_ONE, _ZERO = _U(1), _U(0)
_MUL_HI, _MUL_LO = _U(2549297995355413924), _U(4865540595714422341)  # PCG64 multiplier
_DOUBLE = 1.0 / 9007199254740992.0  # 2**-53

# ziggurat tables (uint64 thresholds and float64 widths/heights), as numba ships them
_KE, _WE, _FE = zc.ke_double, zc.we_double, zc.fe_double
_KI, _WI, _FI = zc.ki_double, zc.wi_double, zc.fi_double
_EXP_R, _NOR_R, _NOR_INV_R = zc.ziggurat_exp_r, zc.ziggurat_nor_r, zc.ziggurat_nor_inv_r


def entropy_words(x: int | Sequence[int]) -> list[int] | None:
    """``x`` as NumPy's SeedSequence reads it: 32-bit words, lowest first (0 is ``[0]``).

    A sequence is the concatenation of its elements' words.  ``None`` for what this
    module does not handle (strings, negative numbers, arrays of other kinds): the
    caller then keeps NumPy's own path.
    """
    if isinstance(x, (bool, np.bool_)):
        return None
    if isinstance(x, (int, np.integer)):
        n = int(x)
        if n < 0:
            return None
        out = [n & 0xFFFFFFFF]
        n >>= 32
        while n:
            out.append(n & 0xFFFFFFFF)
            n >>= 32
        return out
    if isinstance(x, (list, tuple, range)) or (
        isinstance(x, np.ndarray) and x.ndim == 1 and x.dtype.kind in "iu"
    ):
        out = []
        for v in x:
            w = entropy_words(v)
            if w is None:
                return None
            out.extend(w)
        return out
    return None


@intrinsic
def _mulhi(typingctx, a, b):  # pragma: no cover - compiled
    """High 64 bits of the 128-bit product of two uint64 (one native multiplication)."""
    if a != types.uint64 or b != types.uint64:
        return None

    def codegen(context, builder, signature, args):
        wide = ir.IntType(128)
        p = builder.mul(builder.zext(args[0], wide), builder.zext(args[1], wide))
        return builder.trunc(builder.lshr(p, ir.Constant(wide, 64)), ir.IntType(64))

    return types.uint64(types.uint64, types.uint64), codegen


@njit(cache=True, inline="always")
def _hashmix(value, hc):  # pragma: no cover - compiled
    """NumPy's ``hashmix``: the hashed word and the advanced hash constant."""
    value = value ^ hc
    hc = (hc * _MULT_A) & _M32
    value = (value * hc) & _M32
    return value ^ (value >> _S16), hc


@njit(cache=True, inline="always")
def _mix(x, y):  # pragma: no cover - compiled
    r = (_MIX_L * x - _MIX_R * y) & _M32
    return r ^ (r >> _S16)


@njit(cache=True)
def pool_root(words):  # pragma: no cover - compiled
    """SeedSequence pool (``uint64[5]``: four words, then the hash constant) of ``words``.

    ``words`` is the assembled entropy (uint64 holding 32-bit words, at least four: the
    run entropy zero-padded to the pool size when a spawn key follows).
    """
    pool = np.zeros(5, dtype=np.uint64)
    hc = _INIT_A
    for i in range(4):
        pool[i], hc = _hashmix(words[i], hc)
    for src in range(4):
        for dst in range(4):
            if src != dst:
                h, hc = _hashmix(pool[src], hc)
                pool[dst] = _mix(pool[dst], h)
    pool[4] = hc
    for k in range(4, len(words)):
        _extend(pool, words[k], pool)
    return pool


@njit(cache=True, inline="always")
def _extend(pool, word, out):  # pragma: no cover - compiled
    hc = pool[4]
    for dst in range(4):
        h, hc = _hashmix(word, hc)
        out[dst] = _mix(pool[dst], h)
    out[4] = hc


@njit(cache=True)
def pool_extend(pool, word, out):  # pragma: no cover - compiled
    """``out`` = ``pool`` with one more 32-bit entropy word mixed in (a spawn-key entry)."""
    _extend(pool, np.uint64(word), out)


@njit(cache=True)
def seed_state(pool, st):  # pragma: no cover - compiled
    """Seed PCG64 state ``st`` (``uint64[4]``) as ``PCG64(seed_sequence)`` with this pool."""
    hc = _INIT_B
    w = np.empty(8, dtype=np.uint64)
    for i in range(8):
        v = pool[i % 4] ^ hc
        hc = (hc * _MULT_B) & _M32
        v = (v * hc) & _M32
        w[i] = v ^ (v >> _S16)
    s_hi, s_lo = w[0] | (w[1] << _S32), w[2] | (w[3] << _S32)
    q_hi, q_lo = w[4] | (w[5] << _S32), w[6] | (w[7] << _S32)
    st[2] = (q_hi << _ONE) | (q_lo >> _S63)
    st[3] = (q_lo << _ONE) | _ONE
    lo = st[3] + s_lo  # state 0 stepped is inc; plus the seed
    hi = st[2] + s_hi + (_ONE if lo < s_lo else _ZERO)
    _, st[0], st[1] = step(hi, lo, st[2], st[3])


@njit(cache=True, inline="always")
def step(hi, lo, inc_hi, inc_lo):  # pragma: no cover - compiled
    """One PCG64 step on a state held in scalars: ``(output, state_high, state_low)``.

    The draw loops keep the state in registers with this (twice as fast as going
    through the ``uint64[4]`` array at every draw) and store it back for the rare paths.
    """
    p_lo = lo * _MUL_LO
    p_hi = _mulhi(lo, _MUL_LO) + hi * _MUL_LO + lo * _MUL_HI
    n_lo = p_lo + inc_lo
    n_hi = p_hi + inc_hi + (_ONE if n_lo < p_lo else _ZERO)
    x = n_hi ^ n_lo  # XSL-RR output of the new state
    r = n_hi >> _S58
    return (x >> r) | (x << ((_U(64) - r) & _S63)), n_hi, n_lo


@njit(cache=True, inline="always")
def next_uint64(st):  # pragma: no cover - compiled
    """PCG64's next output from state array ``st``."""
    out, st[0], st[1] = step(st[0], st[1], st[2], st[3])
    return out


@njit(cache=True, inline="always")
def to_double(r):  # pragma: no cover - compiled
    """The double in [0, 1) NumPy makes of one 64-bit output (its top 53 bits)."""
    return np.float64(r >> _S11) * _DOUBLE


@njit(cache=True, inline="always")
def next_double(st):  # pragma: no cover - compiled
    """``Generator.random()``: a 53-bit double in [0, 1)."""
    return to_double(next_uint64(st))


@njit(cache=True)
def _exp_tail(hi, lo, inc_hi, inc_lo, idx, x):  # pragma: no cover - compiled
    """The ziggurat's rare case (about 1 draw in 90): ``(value, accepted, hi, lo)``."""
    r, hi, lo = step(hi, lo, inc_hi, inc_lo)
    u = to_double(r)
    if idx == 0:
        return _EXP_R - math.log1p(-u), True, hi, lo
    return x, (_FE[idx - _ONE] - _FE[idx]) * u + _FE[idx] < math.exp(-x), hi, lo


@njit(cache=True, inline="always")
def exponential(hi, lo, inc_hi, inc_lo):  # pragma: no cover - compiled
    """``standard_exponential()`` on a scalar state: ``(value, state_high, state_low)``.

    Scalars only: an array argument of a function inlined in a draw loop costs numba a
    reference-count increment and decrement (two calls) per draw, which made a draw
    about 70% dearer.
    """
    while True:
        r, hi, lo = step(hi, lo, inc_hi, inc_lo)
        ri = r >> _U(3)
        idx = ri & _U(0xFF)
        ri >>= _U(8)
        x = np.float64(ri) * _WE[idx]
        if ri < _KE[idx]:
            return x, hi, lo
        x, ok, hi, lo = _exp_tail(hi, lo, inc_hi, inc_lo, idx, x)
        if ok:
            return x, hi, lo


@njit(cache=True)
def standard_exponential(st):  # pragma: no cover - compiled
    """``Generator.standard_exponential()`` (NumPy's ziggurat, same draws consumed)."""
    x, st[0], st[1] = exponential(st[0], st[1], st[2], st[3])
    return x


@njit(cache=True)
def standard_normal(st):  # pragma: no cover - compiled
    """``Generator.standard_normal()`` (NumPy's ziggurat, same draws consumed)."""
    while True:
        r = next_uint64(st)
        idx = r & _U(0xFF)
        r >>= _U(8)
        rabs = (r >> _ONE) & _U(0x000FFFFFFFFFFFFF)
        x = np.float64(rabs) * _WI[idx]
        if r & _ONE:
            x = -x
        if rabs < _KI[idx]:
            return x
        if idx == 0:
            while True:
                xx = -_NOR_INV_R * math.log1p(-next_double(st))
                yy = -math.log1p(-next_double(st))
                if yy + yy > xx * xx:
                    return -(_NOR_R + xx) if (rabs >> _U(8)) & _ONE else _NOR_R + xx
        elif (_FI[idx - _ONE] - _FI[idx]) * next_double(st) + _FI[idx] < math.exp(-0.5 * x * x):
            return x


@njit(cache=True)
def fill(pool, kind, out):  # pragma: no cover - compiled
    """Draws of a generator seeded from ``pool`` into ``out``, to check against NumPy.

    ``kind`` 0: ``standard_exponential``, 1: ``standard_normal``, 2: ``random``.
    """
    st = np.empty(4, dtype=np.uint64)
    seed_state(pool, st)
    for i in range(len(out)):
        if kind == 0:
            out[i] = standard_exponential(st)
        elif kind == 1:
            out[i] = standard_normal(st)
        else:
            out[i] = next_double(st)
