"""The ``uturn-sim`` command: a thin layer over the library.

Exit codes: 0 success, 2 bad input (invalid scenario or arguments, with a
message naming the field), 1 any other failure.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from uturn_sim.errors import ScenarioError
from uturn_sim.scenario.loading import (
    default_scenario,
    load_scenario,
    scenario_schema,
    scenario_to_yaml,
)
from uturn_sim.scenario.model import Scenario

__all__ = ["main"]

RUN_COLUMNS = {
    "movement": "movement",
    "demand_veh_h": "demand veh/h",
    "throughput_veh_h": "served veh/h",
    "delay_mean_s": "delay s",
    "delay_p95_s": "p95 delay s",
    "los": "LOS",
    "queue_mean_veh": "queue veh",
    "queue_p95_veh": "p95 queue veh",
    "queue_max_m": "max queue m",
    "spillback_share": "spillback",
    "veh_per_gap": "veh/gap",
    "unserved": "unserved",
}
MEASURE_LABELS = {
    "throughput_veh_h": "throughput, veh/h",
    "delay_mean_s": "mean control delay, s/veh",
    "delay_p95_s": "95th pct control delay, s/veh",
    "queue_mean_veh": "mean queue, veh",
    "queue_p95_veh": "95th pct queue, veh",
    "queue_max_veh": "max queue, veh",
    "queue_p95_m": "95th pct queue, m",
    "spillback_share": "time spilled back, share",
    "unserved": "unserved at end, veh",
    "veh_per_gap": "vehicles per accepted gap",
}


class _UsageError(Exception):
    pass


def _scenario(path: str | None) -> Scenario:
    return default_scenario() if path is None else load_scenario(Path(path))


def _progress(total: int | None, unit: str = "rep", desc: str = "replications"):
    from tqdm.auto import tqdm

    bar = tqdm(total=total, unit=unit, desc=desc, disable=None, file=sys.stderr)

    def update(done: int, n: int) -> None:
        bar.total = n
        bar.update(done - bar.n)
        if done >= n:
            bar.close()

    return update


def _write_out(out: str, scn: Scenario, frames: dict[str, pd.DataFrame]) -> Path:
    d = Path(out)
    d.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        frame.to_csv(d / f"{name}.csv", index=False)
    (d / "scenario.yaml").write_text(scenario_to_yaml(scn), encoding="utf-8")
    return d


def _cmd_run(args: argparse.Namespace) -> int:
    from uturn_sim.model.run import simulate

    scn = _scenario(args.scenario)
    res = simulate(scn, args.scheme, seed=args.seed)
    summ = res.summary()
    t0, t1 = res.window
    print(
        f"{scn.name}: {args.scheme} scheme, seed {res.seed_entropy}, measured "
        f"{t0:g}-{t1:g} s ({(t1 - t0) / 3600:g} h)"
    )
    print(
        summ[list(RUN_COLUMNS)]
        .rename(columns=RUN_COLUMNS)
        .to_string(index=False, float_format=lambda x: f"{x:.2f}")
    )
    if summ["oversaturated"].any():
        print("OVERSATURATED: vehicles of the measured period were still waiting at the end.")
    if args.out:
        d = _write_out(args.out, scn, {"vehicles": res.vehicles, "summary": summ})
        print(f"wrote {d}/vehicles.csv, summary.csv, scenario.yaml")
    if args.plots:
        from uturn_sim.plots.figures import write_run_plots

        print("wrote " + ", ".join(str(p) for p in write_run_plots(res, args.plots)))
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from uturn_sim.study.compare import compare, replication_pair

    scn = _scenario(args.scenario)
    n = scn.simulation.replications if args.replications is None else args.replications
    if n < 1:
        raise _UsageError(f"--replications must be >= 1, got {n}")
    comp = compare(scn, replications=n, seed=args.seed, progress=_progress(n))
    table = comp.table()
    print(
        f"{scn.name}: linked vs ordinary, {n} paired replications (common random numbers), "
        f"seed {comp.seed}; difference = linked - ordinary, 95% CI"
    )
    for movement in ("uturn", "left", "all"):
        sub = table[table["movement"] == movement].copy()
        sub["measure"] = sub["measure"].map(MEASURE_LABELS)
        print(f"\n[{movement}]")
        print(
            sub.drop(columns=["movement", "n"]).to_string(
                index=False, float_format=lambda x: f"{x:.2f}", na_rep="-"
            )
        )
    los = comp.summaries.groupby(["scheme", "movement"])["delay_mean_s"].mean()
    print(
        "\nLOS (HCM signalized, mean delay): "
        + ", ".join(
            f"{m} {_los(los[('ordinary', m)])}->{_los(los[('linked', m)])}"
            for m in ("uturn", "left")
        )
    )
    if comp.summaries["oversaturated"].any():
        print("OVERSATURATED in some replications: see 'unserved'.")
    if args.out or args.plots:  # records and figures of replication 0, rebuilt (cheap)
        pair = replication_pair(scn, comp.seed, 0)
    if args.out:
        vehicles = pd.concat(
            [r.vehicles.assign(scheme=r.scheme, replication=0) for r in pair],
            ignore_index=True,
        )
        d = _write_out(
            args.out, scn, {"comparison": table, "summaries": comp.summaries, "vehicles": vehicles}
        )
        print(f"\nwrote {d}/comparison.csv, summaries.csv, vehicles.csv, scenario.yaml")
    if args.plots:
        from uturn_sim.plots.figures import write_compare_plots

        print("wrote " + ", ".join(str(p) for p in write_compare_plots(pair, args.plots)))
    return 0


def _los(delay: float) -> str:
    from uturn_sim.measures.summary import level_of_service

    return level_of_service(delay)


def _cmd_sweep(args: argparse.Namespace) -> int:
    from uturn_sim.sweeps.run import aggregate, load_sweep, sweep

    spec, _, _ = load_sweep(Path(args.sweep))  # validate every cell before starting workers
    if args.workers is not None and args.workers < 1:
        raise _UsageError(f"--workers must be >= 1, got {args.workers}")
    rows = sweep(
        Path(args.sweep),
        backend=args.backend,
        workers=args.workers,
        address=args.scheduler,
        out=args.out,
        progress=_progress(None, unit="task", desc="cell x replication"),
    )
    agg = aggregate(rows)
    uturn = agg[agg["movement"] == "uturn"]
    params = list(spec.parameters)
    table = uturn.pivot_table(index=params, columns="scheme", values="delay_mean_s", sort=False)
    print(
        f"{len(rows)} rows ({len(spec.cells())} cells x {len(spec.schemes)} schemes x "
        f"{spec.replications} replications x 3 movements)"
    )
    print("mean U-turn control delay, s/veh (mean over replications):")
    print(table.to_string(float_format=lambda x: f"{x:.1f}"))
    if args.out:
        agg_path = Path(args.out).with_suffix(".aggregate.csv")
        agg.to_csv(agg_path, index=False)
        print(f"wrote {args.out} (tidy rows) and {agg_path} (means with 95% CIs)")
    return 0


def _cmd_animate(args: argparse.Namespace) -> int:
    from uturn_sim.model.run import simulate
    from uturn_sim.plots.animation import animate, check_writer

    scn = _scenario(args.scenario)
    if args.duration <= 0 or args.fps < 1:
        raise _UsageError("--duration must be > 0 s and --fps >= 1")
    try:
        check_writer(args.out)
    except ValueError as exc:
        raise _UsageError(f"--out: {exc}") from None
    res = simulate(scn, args.scheme, seed=args.seed)
    path = animate(res, args.out, start_s=args.start, duration_s=args.duration, fps=args.fps)
    print(f"wrote {path}")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    scn = load_scenario(Path(args.scenario))
    print(f"{args.scenario}: valid scenario {scn.name!r}")
    return 0


def _cmd_schema(args: argparse.Namespace) -> int:
    if args.markdown:
        from uturn_sim.scenario.reference import scenario_reference

        sys.stdout.write(scenario_reference())
    else:
        sys.stdout.write(scenario_schema())
    return 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="uturn-sim",
        description="Simulate an approach with an ordinary or a multi-car linked U-turn lane. "
        "With no SCENARIO the embedded Liuyuan Rd / Longshan Middle Rd default is used.",
    )
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="one replication of one scheme")
    r.add_argument("scenario", nargs="?", help="scenario YAML (default: embedded)")
    r.add_argument("--scheme", choices=("ordinary", "linked"), default="linked")
    r.add_argument("--seed", type=int, default=None, help="root seed (default: scenario's)")
    r.add_argument("--out", help="directory for vehicles.csv, summary.csv, scenario.yaml")
    r.add_argument("--plots", help="directory for PNG figures")
    r.set_defaults(func=_cmd_run)
    c = sub.add_parser("compare", help="both schemes on common random numbers")
    c.add_argument("scenario", nargs="?", help="scenario YAML (default: embedded)")
    c.add_argument("--replications", type=int, default=None)
    c.add_argument("--seed", type=int, default=None, help="root seed (default: scenario's)")
    c.add_argument("--out", help="directory for comparison.csv, summaries.csv, vehicles.csv")
    c.add_argument("--plots", help="directory for PNG figures")
    c.set_defaults(func=_cmd_compare)
    w = sub.add_parser("sweep", help="a grid of scenarios x replications (sweep YAML)")
    w.add_argument("sweep", help="sweep YAML (see scenarios/sweep_slots_demand.yaml)")
    w.add_argument("--backend", choices=("processes", "serial", "dask"), default="processes")
    w.add_argument(
        "--workers", type=int, default=None, help="worker processes (default: all cores)"
    )
    w.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://10.0.0.5:8786")
    w.add_argument("--out", help="CSV file the rows stream to (re-run to resume)")
    w.set_defaults(func=_cmd_sweep)
    a = sub.add_parser("animate", help="animation of the approach (GIF, or MP4 with ffmpeg)")
    a.add_argument("scenario", nargs="?", help="scenario YAML (default: embedded)")
    a.add_argument("--scheme", choices=("ordinary", "linked"), default="linked")
    a.add_argument("--seed", type=int, default=None)
    a.add_argument("--start", type=float, default=None, help="first time shown, s")
    a.add_argument("--duration", type=float, default=300.0, help="simulated time shown, s")
    a.add_argument("--fps", type=int, default=5)
    a.add_argument("--out", default="uturn.gif", help="output file (.gif or .mp4)")
    a.set_defaults(func=_cmd_animate)
    k = sub.add_parser("check", help="validate a scenario file")
    k.add_argument("scenario")
    k.set_defaults(func=_cmd_check)
    s = sub.add_parser("schema", help="print the scenario JSON Schema")
    s.add_argument("--markdown", action="store_true", help="the README's reference tables instead")
    s.set_defaults(func=_cmd_schema)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``uturn-sim``; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    if getattr(args, "seed", None) is not None and args.seed < 0:
        parser.error(f"--seed must be a non-negative integer, got {args.seed}")
    try:
        return args.func(args)
    except ScenarioError as exc:
        print(f"uturn-sim: {exc}", file=sys.stderr)
        return 2
    except _UsageError as exc:
        print(f"uturn-sim: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into e.g. `head`
        sys.stderr.close()
        return 0
    except OSError as exc:  # an --out path that cannot be written, an unreachable scheduler
        if getattr(exc, "filename", None):
            msg = f"cannot read or write {exc.filename}: {exc.strerror}"
        else:
            msg = str(exc)
        print(f"uturn-sim: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
