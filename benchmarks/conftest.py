"""Benchmark session: CPU-time gates, ratios to floors measured in the same run.

Absolute times are not stable on shared machines, so CI gates only ratios of CPU-
time minimums measured in this very run (``benchmarks/gates.py``).  The timer is
forced to ``time.process_time``.  A gated benchmark that did not run fails the
session, as does a benchmark the gate registry does not know.  Run:
``python -m pytest benchmarks --benchmark-only`` (quick mode for CI: add
``--benchmark-max-time=0.2 --benchmark-min-rounds=3``).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import gates


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    config.option.benchmark_timer = "time.process_time"


def cpu_per_replication(session) -> dict[str, float] | None:
    """CPU s per replication (minimum over rounds) of each benchmark that ran, by name."""
    bs = getattr(session.config, "_benchmarksession", None)
    if bs is None or bs.disabled:
        return None
    timer = bs.options.get("timer")
    if getattr(timer, "target", timer) is not time.process_time:
        raise pytest.UsageError(f"benchmark timer must be time.process_time: {bs.options}")
    out = {}
    for b in bs.benchmarks:
        if not b.stats or b.has_error:
            continue
        info = b.extra_info
        cpu = info.get("child_cpu_s", b.stats.min / info.get("replications", 1))
        out[b.name.split("[")[0]] = cpu
    return out


def pytest_sessionfinish(session, exitstatus):
    times = cpu_per_replication(session)
    if times is None:
        return
    lines, failures = gates.check(times)
    print("\nbenchmark gates (CPU s per replication, min of rounds, ratio to floor):")
    print("\n".join(lines))
    if failures:
        print("benchmark gates FAILED:\n  " + "\n  ".join(failures))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
