"""Peak resident memory of a long run and of a chunked study, printed as JSON (a child process).

Run: ``python benchmarks/memory_probe.py week`` (one 7-day run of both schemes, SimPy
engine and summaries) or ``python benchmarks/memory_probe.py study N`` (``N``
replications of the default, through :func:`uturn_sim.fast.study.summaries`, in
chunks).  Prints
``{"case": ..., "peak_rss_mib": ...}`` from ``resource.getrusage(RUSAGE_SELF).ru_maxrss``.
"""

from __future__ import annotations

import json
import resource
import sys

import uturn_sim as us


def week() -> int:
    """Both schemes over 7 simulated days (stationary default demand); vehicles simulated."""
    base = us.default_scenario()
    flat = base.model_copy(update={"demand": base.demand.model_copy(update={"profile": None})})
    sim = flat.simulation.model_copy(update={"duration_s": 7 * 86_400.0})
    scn = flat.model_copy(update={"simulation": sim})
    table = us.build_arrivals(scn)
    for s in ("ordinary", "linked"):
        us.simulate(scn, s, arrivals=table).summary()
    return len(table)


def study(n: int) -> int:
    """``n`` paired replications through the chunked fast study; summary rows returned."""
    from uturn_sim.fast.study import summaries

    return len(summaries(us.default_scenario(), ["ordinary", "linked"], 1, range(n)))


def _own_peak_mib() -> float:
    """This process's own peak resident set, MiB.

    Linux ``VmHWM`` (the ``ru_maxrss`` of ``getrusage`` carries the parent's high-water
    mark across exec, so a probe started from a big test process would report the
    parent's peak); ``ru_maxrss`` elsewhere.
    """
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str]) -> None:
    """Run the case named in ``argv`` and print its peak RSS (MiB)."""
    size = week() if argv[0] == "week" else study(int(argv[1]))
    peak = _own_peak_mib()
    print(json.dumps({"case": argv, "size": size, "peak_rss_mib": peak}))


if __name__ == "__main__":
    main(sys.argv[1:])
