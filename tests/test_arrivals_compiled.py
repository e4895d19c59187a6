"""The compiled arrival core gives NumPy's numbers bit for bit (traffic.pcg, kernel, compiled).

Hypothesis draws seeds, spawn keys, replication indices and scenario options; every
comparison is exact (``np.array_equal``, dtypes included), never a tolerance.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.random.bit_generator import _coerce_to_uint32_array

import uturn_sim as us
from uturn_sim.errors import ScenarioError
from uturn_sim.traffic.batch import _numpy_batch, build_arrivals_batch
from uturn_sim.traffic.compiled import compiled_draws
from uturn_sim.traffic.gating import gate_lanes
from uturn_sim.traffic.headways import gate
from uturn_sim.traffic.pcg import entropy_words, fill, pool_extend, pool_root
from uturn_sim.traffic.seeds import replication_seed
from uturn_sim.traffic.signal import GreenWindows
from uturn_sim.traffic.table import arrival_plan, build_arrivals, draw_arrivals

from .strategies import scenarios

FIELDS = ("t", "movement", "heavy", "critical_gap_s", "conflict_t")
THROUGH = ("through_t", "through_lane", "through_heavy")
SLOW = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])

words32 = st.integers(0, 2**32 - 1)
entropies = st.one_of(
    st.integers(0, 2**140),
    st.lists(st.integers(0, 2**70), min_size=1, max_size=6),
)


def _pool(entropy, spawn_key):
    """The compiled pool of ``SeedSequence(entropy, spawn_key=spawn_key)``."""
    words = entropy_words(entropy)
    words += [0] * (4 - len(words))  # padded with a key; without, NumPy hashes zeros alike
    return pool_root(np.array(words + entropy_words(spawn_key), dtype=np.uint64))


@SLOW
@given(entropy=entropies, key=st.lists(st.integers(0, 2**40), max_size=4))
def test_entropy_words_are_numpys(entropy, key):
    assert entropy_words(entropy) == _coerce_to_uint32_array(entropy).tolist()
    assert entropy_words(tuple(key)) == _coerce_to_uint32_array(tuple(key)).tolist()


@SLOW
@given(
    entropy=entropies,
    key=st.lists(st.integers(0, 2**40), max_size=4),
    kind=st.sampled_from([0, 1, 2]),
    n=st.integers(1, 3000),
)
def test_seeding_and_draws_are_numpys(entropy, key, kind, n):
    """SeedSequence hashing, PCG64 seeding, random / exponential / normal ziggurats."""
    got = np.empty(n)
    fill(_pool(entropy, tuple(key)), kind, got)
    rng = np.random.default_rng(np.random.SeedSequence(entropy, spawn_key=tuple(key)))
    want = (rng.standard_exponential, rng.standard_normal, rng.random)[kind](n)
    assert np.array_equal(got, want)


@SLOW
@given(seed=st.integers(0, 2**64), key=st.lists(words32, min_size=1, max_size=4))
def test_pool_extended_word_by_word_equals_the_whole_key(seed, key):
    pool = _pool(seed, (key[0],))
    for w in key[1:]:
        pool_extend(pool, w, pool)
    assert np.array_equal(pool, _pool(seed, tuple(key)))


def test_the_rare_ziggurat_paths_are_covered():
    """200,000 draws of each kind take the tails and the wedges (about 1 in 100 each)."""
    for kind in (0, 1):
        got = np.empty(200_000)
        fill(_pool(7, (1, 2)), kind, got)
        rng = np.random.default_rng(np.random.SeedSequence(7, spawn_key=(1, 2)))
        want = rng.standard_exponential(200_000) if kind == 0 else rng.standard_normal(200_000)
        assert np.array_equal(got, want)
        assert np.abs(got).max() > (7.7 if kind == 0 else 3.7)  # beyond the base layer


def _numpy_table(scn, seed, r):
    """``build_arrivals`` on NumPy's generators, whatever this process has loaded."""
    root = scn.simulation.seed if seed is None else seed
    return draw_arrivals(scn, arrival_plan(scn), replication_seed(root, r))


def _tables_equal(batch, scn, seed, reps):
    for k, r in enumerate(reps):
        one = _numpy_table(scn, seed, r)
        got = batch.table(k)
        for name in FIELDS + THROUGH:
            want = getattr(one, name)
            assert got[name].dtype == want.dtype, name
            assert np.array_equal(got[name], want, equal_nan=True), (name, r)
    assert np.array_equal(batch.replications, np.asarray(reps))
    assert batch.seed_entropy == int(scn.simulation.seed if seed is None else seed)


@st.composite
def approach_options(draw):
    """The default's whole approach with its stream options drawn (through lanes 0..6)."""
    model = st.sampled_from(["poisson", "shifted_exponential", "cowan_m3"])
    moves = ["uturn", "left", "through", "opposing_through", "cross_right", "cross_left"]
    ch = {
        "approach.through_lanes": draw(st.integers(0, 6)),
        "demand.through.flow_veh_h": draw(st.floats(0, 2400)),
        "vehicle_mix.heavy_share": draw(st.sampled_from([0.0, 1.0, 0.1, 0.45])),
        "demand.profile.applies_to": draw(st.lists(st.sampled_from(moves), unique=True)),
        "demand.profile.factors": draw(st.lists(st.floats(0, 2), min_size=1, max_size=8)),
        "demand.profile.interval_s": draw(st.sampled_from([300.0, 900.0, 1234.5])),
        "behaviour.critical_gap.distribution": draw(
            st.sampled_from(["constant", "normal", "lognormal", "uniform"])
        ),
        "behaviour.critical_gap.sd_s": draw(st.floats(0.3, 3.0)),
        "behaviour.critical_gap.min_s": draw(st.floats(3.0, 6.0)),
        "behaviour.critical_gap.max_s": draw(st.floats(6.5, 9.0)),
    }
    for m in moves:
        ch[f"demand.{m}.headway.model"] = draw(model)
        ch[f"demand.{m}.headway.min_headway_s"] = draw(st.floats(0.0, 2.0))
        ch[f"demand.{m}.headway.bunched_share"] = draw(st.floats(0.0, 0.8))
    for m in moves[3:]:
        ch[f"demand.{m}.signalized"] = draw(st.booleans())
        ch[f"demand.{m}.lanes"] = draw(st.integers(1, 3))
    try:
        return us.update_scenario(us.default_scenario(), ch)
    except ScenarioError:
        return us.update_scenario(us.default_scenario(), {"approach.through_lanes": ch[
            "approach.through_lanes"]})  # fmt: skip


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    scn=approach_options(),
    seed=st.one_of(st.none(), st.integers(0, 2**40)),
    reps=st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=3),
)
def test_batch_is_build_arrivals_for_every_stream_option(scn, seed, reps):
    _tables_equal(build_arrivals_batch(scn, seed, reps), scn, seed, reps)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scn=scenarios(max_duration_s=900.0), seed=st.integers(0, 2**33), r0=st.integers(0, 50))
def test_batch_is_build_arrivals_for_random_signal_plans(scn, seed, r0):
    _tables_equal(build_arrivals_batch(scn, seed, [r0, r0 + 1]), scn, seed, [r0, r0 + 1])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scn=approach_options(), seed=st.integers(0, 2**40), r=st.integers(0, 2**33))
def test_single_table_from_the_compiled_core_is_numpys(scn, seed, r):
    """With the core loaded, build_arrivals uses it (below 2**32) and gives the same table."""
    got, want = build_arrivals(scn, seed, r), _numpy_table(scn, seed, r)
    for f in dataclasses.fields(want):
        a, b = getattr(got, f.name), getattr(want, f.name)
        if isinstance(b, GreenWindows):
            assert np.array_equal(a.starts, b.starts) and np.array_equal(a.ends, b.ends)
        elif isinstance(b, np.ndarray):
            assert a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True), f.name
        else:
            assert a == b and type(a) is type(b), f.name


def test_huge_replication_index_takes_the_numpy_path():
    scn = us.update_scenario(us.default_scenario(), {"approach.through_lanes": 1})
    reps = [2**32, 2**40 + 3]
    assert compiled_draws(scn, arrival_plan(scn), 4, reps) is None
    _tables_equal(build_arrivals_batch(scn, 4, reps), scn, 4, reps)


def test_seed_sequence_root_and_bad_seeds():
    scn = us.default_scenario()
    root = np.random.SeedSequence(2**100 + 5, spawn_key=(3, 2**35))
    got = build_arrivals_batch(scn, root, [0, 7])
    want = _numpy_batch(scn, arrival_plan(scn), root, [0, 7])
    for f in dataclasses.fields(got):
        a, b = getattr(got, f.name), getattr(want, f.name)
        if isinstance(a, np.ndarray):
            assert a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True), f.name
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="seed must be a non-negative integer"):
            build_arrivals_batch(scn, bad, 2)


def test_invalid_headway_parameters_fall_back_to_numpys_error():
    """What the kernel does not cover goes to NumPy, which raises as before."""
    scn = us.default_scenario()
    plan = arrival_plan(scn)
    bad = dataclasses.replace(plan.rates["left"], model="shifted_exponential", min_unit=1.2)
    plan = dataclasses.replace(plan, rates={**plan.rates, "left": bad})
    assert compiled_draws(scn, plan, 1, [0]) is None
    with pytest.raises(ValueError, match="min_headway"):
        draw_arrivals(scn, plan, np.random.SeedSequence(1, spawn_key=(0,)))


@st.composite
def gated_lanes(draw):
    cycle = draw(st.floats(30, 150))
    green = draw(st.floats(5, cycle - 5))
    n_cyc = draw(st.integers(1, 40))
    starts = np.arange(n_cyc) * cycle + draw(st.floats(0, 20))
    wins = GreenWindows(starts, starts + green)
    flow = draw(st.floats(0, 1.5)) * 1800 * green / cycle  # up to 1.5 x capacity
    horizon = n_cyc * cycle * draw(st.floats(0.5, 1.2))
    n = int(draw(st.integers(0, 2000)) * min(1.0, flow * horizon / 3600 / 2000))
    rng = np.random.default_rng(draw(st.integers(0, 2**32)))
    lanes = [np.sort(rng.uniform(0, horizon, n)), np.round(np.sort(rng.uniform(0, horizon, n)))]
    return lanes, wins, draw(st.sampled_from([1.8, 2.0, 2.25, 1 / 3, 2.7]))


@SLOW
@given(case=gated_lanes())
def test_compiled_gate_is_numpys_gate(case):
    """Over capacity, with ties (rounded arrivals), queues past the last window."""
    lanes, wins, h = case
    want, err = [], None
    try:
        want = [gate(x, wins, h, max_iter=200) for x in lanes]
    except RuntimeError as e:
        err = e
    if err is not None:
        with pytest.raises(RuntimeError, match="did not converge"):
            gate_lanes(lanes, wins.starts, wins.ends, h, max_iter=200)
        return
    for g, w in zip(gate_lanes(lanes, wins.starts, wins.ends, h, max_iter=200), want, strict=True):
        assert g.dtype == w.dtype and np.array_equal(g, w)
