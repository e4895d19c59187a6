"""Benchmark session: ratio gates measured in the same run.

Absolute times are not stable on shared machines, so CI gates only ratios of
medians measured in this very run (``RATIO_GATES``).  Run:
``python -m pytest benchmarks --benchmark-only`` (quick mode for CI: add
``--benchmark-max-time=0.2 --benchmark-min-rounds=3``).
"""

from __future__ import annotations

import pytest

# (slow benchmark, reference benchmark, largest allowed median ratio, why)
RATIO_GATES = [
    (
        "test_arrivals_poisson",
        "test_raw_numpy_floor",
        2.0,
        "arrival core at least half the raw NumPy rate",
    ),
    (
        "test_arrivals_time_varying",
        "test_raw_numpy_floor",
        2.0,
        "time-varying arrival core at least half the raw NumPy rate",
    ),
    (
        "test_replication_linked",
        "test_replication_ordinary",
        3.0,
        "linked engine within 3x the ordinary engine per vehicle",
    ),
]


def _medians(session) -> dict[str, float]:
    bs = getattr(session.config, "_benchmarksession", None)
    if bs is None:
        return {}
    return {b.name.split("[")[0]: b.stats.median for b in bs.benchmarks if b.stats}


def pytest_sessionfinish(session, exitstatus):
    med = _medians(session)
    failures = []
    lines = []
    for slow, ref, limit, why in RATIO_GATES:
        if slow in med and ref in med:
            ratio = med[slow] / med[ref]
            ok = ratio <= limit
            lines.append(
                f"  {slow} / {ref} = {ratio:.2f} (limit {limit:g}: {why}) "
                f"{'ok' if ok else 'REGRESSED'}"
            )
            if not ok:
                failures.append(slow)
    if lines:
        print("\nbenchmark ratio gates (medians of this run):\n" + "\n".join(lines))
    if failures:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
