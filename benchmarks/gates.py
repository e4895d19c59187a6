"""The benchmark gates: ratios of CPU-time minimums to floors measured in the same run.

Every gate compares a stage users pay for with a floor benchmark of the same session
(NumPy ``standard_exponential + cumsum`` at the default replication's size and at
1 M draws, a bare SimPy timeout loop, a bare ``python -c "import numpy"``), so a
slower or faster machine moves both.  Times are CPU seconds (``time.process_time``;
child CPU for the subprocess benchmarks), per replication, minimum over rounds.

Limits are the ratios measured on the development machine (2 shared cores, see
``benchmarks/stages.py`` and the README's performance section) times about 1.6 for
CI noise, so a regression of the stage by ~60% fails while a noisy run passes.
Every benchmark in ``benchmarks/test_bench.py`` is either gated, a floor, or
listed in :data:`UNGATED`; :func:`check` reports any that is missing or unknown,
so renaming a benchmark cannot silently drop its gate.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "FLOORS",
    "GATES",
    "MEMORY_LIMIT_MIB",
    "UNGATED",
    "Gate",
    "GateResult",
    "check",
    "evaluate",
]


@dataclass(frozen=True)
class Gate:
    """``stage / floor`` (CPU s per replication, minimums) must stay <= ``limit``."""

    stage: str
    floor: str
    limit: float
    why: str


@dataclass(frozen=True)
class GateResult:
    """One gate's outcome in a run: the ratio, or why it could not be computed."""

    gate: Gate
    ratio: float | None
    problem: str | None

    @property
    def ok(self) -> bool:
        """True when the gate was measured and the ratio is within its limit."""
        return self.problem is None and self.ratio is not None and self.ratio <= self.gate.limit

    def line(self) -> str:
        """One human-readable line for the session report."""
        g = self.gate
        if self.problem is not None:
            return f"  {g.stage} / {g.floor}: MISSING ({self.problem}) - {g.why}"
        verdict = "ok" if self.ok else "REGRESSED"
        return f"  {g.stage} / {g.floor} = {self.ratio:.2f} (limit {g.limit:g}: {g.why}) {verdict}"


FLOORS = (
    "test_floor_numpy_default",
    "test_floor_numpy_1m",
    "test_floor_simpy_timeouts",
    "test_floor_python_numpy",
    # not a floor of the machine but the reference of issue #16's sweep target: the
    # shipped sweep on the SimPy engine, timed in the same run as the fast one
    "test_sweep_simpy",
)

_ND, _N1M, _SP = FLOORS[:3]

#: peak resident memory allowed to a 7-day run and to a chunked study (MiB)
MEMORY_LIMIT_MIB = 1024.0

# measured ratios (min CPU, 2 shared cores) in the comments; limits ~1.6x that
# (fast engines 4.4-5.3 and 5.8-5.9, measures 4.5-4.6)
GATES: tuple[Gate, ...] = (
    Gate("test_arrivals_poisson_1m", _N1M, 2.0, "1 M-vehicle arrival core near the NumPy floor"),
    Gate("test_arrivals_time_varying_1m", _N1M, 2.0, "time-varying core near the NumPy floor"),
    # measured 23.8-24.1: the NumPy path, arrival plan included (a single simulate's table)
    Gate("test_arrivals_default_table", _ND, 38.0, "build_arrivals, one default replication"),
    # measured 1.8-2.3 per 64-replication call, plan included (#16's target is 2)
    Gate("test_arrivals_default_batch", _ND, 3.2, "build_arrivals_batch, per replication"),
    Gate("test_simpy_engine_ordinary", _SP, 4.5, "SimPy engine, ordinary lane"),  # 2.6
    Gate("test_simpy_engine_linked", _SP, 6.0, "SimPy engine, linked lane"),  # 3.9
    Gate("test_fast_engine_ordinary", _ND, 8.0, "compiled engine, ordinary, per replication"),
    Gate("test_fast_engine_linked", _ND, 9.5, "compiled engine, linked, per replication"),
    Gate("test_fast_measures", _ND, 7.5, "compiled measures, one scheme per replication"),
    Gate("test_simpy_summary", _ND, 160.0, "Result.summary() of one SimPy run"),  # 98
    # measured 20.3-20.8: about 1 ms per paired replication
    Gate("test_compare_fast", _ND, 33.0, "compare(engine='fast') end to end, per replication"),
    Gate("test_compare_simpy", _SP, 26.0, "compare(engine='simpy') end to end, per replication"),
    Gate("test_cli_check", FLOORS[3], 3.0, "CLI start-up: uturn-sim check <default>"),
    # the target itself (no 1.6x noise margin): the fast sweep at least 10x the SimPy one
    Gate("test_sweep_fast", FLOORS[4], 0.1, "sweep_slots_demand.yaml, fast against SimPy"),
)

#: benchmarks that report a rate but gate no ratio (kept for the table); the memory
#: benchmarks assert their own absolute bound (peak RSS < 1 GiB) instead
UNGATED = ("test_conflict_stream_gating", "test_memory_week_run", "test_memory_chunked_study")


def evaluate(times: Mapping[str, float]) -> list[GateResult]:
    """Every gate's outcome given CPU seconds per replication of each benchmark by name."""
    out = []
    for g in GATES:
        missing = [n for n in (g.stage, g.floor) if n not in times]
        if missing:
            out.append(GateResult(g, None, f"not run: {', '.join(missing)}"))
            continue
        ref = times[g.floor]
        if not ref > 0:
            out.append(GateResult(g, None, f"floor {g.floor} measured {ref!r} s"))
            continue
        out.append(GateResult(g, times[g.stage] / ref, None))
    return out


def check(times: Mapping[str, float]) -> tuple[list[str], list[str]]:
    """Report lines and failure messages: regressed or missing gates, unknown benchmarks."""
    results = evaluate(times)
    known = {g.stage for g in GATES} | set(FLOORS) | set(UNGATED)
    failures = [r.line().strip() for r in results if not r.ok]
    failures += [
        f"benchmark {n} is neither gated, a floor nor listed in UNGATED (benchmarks/gates.py)"
        for n in sorted(set(times) - known)
    ]
    return [r.line() for r in results], failures
