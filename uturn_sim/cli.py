"""The ``uturn-sim`` command: a thin layer over the library.

Exit codes: 0 success, 2 bad input (invalid scenario or arguments, with a
message naming the field), 1 any other failure.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from uturn_sim.errors import ScenarioError
from uturn_sim.scenario.loading import (
    default_scenario,
    load_scenario,
    scenario_schema,
    scenario_to_yaml,
)
from uturn_sim.scenario.model import Scenario
from uturn_sim.sweeps.backends import DEFAULT_CONNECT_TIMEOUT_S
from uturn_sim.sweeps.spec import MAX_TASKS, LoadedSweep

__all__ = ["main"]


class _UsageError(Exception):
    pass


# Bounded work: limits named in the messages; raise them deliberately with the flags.
MAX_REPLICATIONS = 10_000  # compare --replications (raise with --max-replications)
MAX_FPS = 60  # animate --fps
MAX_FRAMES = 5_000  # animate --duration x --fps (raise with --max-frames)
_MAX_INT_CHARS = 40  # longer integer arguments are refused before conversion


def _int_arg(text: str) -> int:
    """An argparse integer: decimal digits only, at most 40 characters (no huge numbers)."""
    t = text.strip()
    if len(t) > _MAX_INT_CHARS:
        raise argparse.ArgumentTypeError(
            f"integer of {len(t)} characters; at most {_MAX_INT_CHARS}"
        )
    try:
        return int(t)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{t!r} is not an integer") from None


def _float_arg(text: str) -> float:
    """An argparse number: finite (no nan, inf), at most 40 characters."""
    t = text.strip()
    try:
        value = float(t) if len(t) <= _MAX_INT_CHARS else float("nan")
    except ValueError:
        raise argparse.ArgumentTypeError(f"{t[:40]!r} is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"{t[:40]!r} is not a finite number")
    return value


class _Help(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each option's default unless its help already says it or it has none."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "default" in text or action.default in (None, False, argparse.SUPPRESS):
            return text
        return super()._get_help_string(action) or text


def _names(text: str | None) -> list[str] | None:
    """A comma-separated option as a list of names (``None`` when not given)."""
    return None if text is None else [name.strip() for name in text.split(",")]


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


def _plot_formats(args: argparse.Namespace) -> tuple[str, ...]:
    """The ``--plot-format`` list (png, svg, pdf), checked."""
    from uturn_sim.plots.common import parse_formats

    try:
        return parse_formats(getattr(args, "plot_format", "png"))
    except ValueError as exc:
        raise _UsageError(f"--plot-format: {exc}") from None


def _say(args: argparse.Namespace, text: str, level: int = 0) -> None:
    """A message to stderr (results go to stdout); ``-q`` hides level 0, ``-v`` shows 1."""
    if getattr(args, "verbosity", 0) >= level:
        print(text, file=sys.stderr)


def _write_table(frame: object, path: Path, fmt: str) -> Path:
    """Write a DataFrame as ``fmt`` (csv, parquet, json) at ``path`` with that suffix."""
    path = path.with_suffix(f".{fmt}")
    if fmt == "csv":
        frame.to_csv(path, index=False)  # type: ignore[attr-defined]
    elif fmt == "parquet":
        try:
            frame.to_parquet(path, index=False)  # type: ignore[attr-defined]
        except ImportError as exc:
            raise _UsageError(f"--format parquet needs pyarrow: {exc}") from None
    else:
        frame.to_json(path, orient="records", indent=1)  # type: ignore[attr-defined]
    return path


def _write_out(
    out: str,
    scn: Scenario,
    frames: dict,
    args: argparse.Namespace | None = None,
    replications: int | None = None,
) -> Path:
    """Tables, the resolved scenario and provenance (directory and per-table sidecars)."""
    from uturn_sim.provenance import provenance, resolve_run, sidecar_path, write_provenance

    d = Path(out)
    d.mkdir(parents=True, exist_ok=True)
    seed = getattr(args, "seed", None) if args is not None else None
    scn = resolve_run(scn, seed=seed, replications=replications)
    fmt = getattr(args, "format", "csv") if args is not None else "csv"
    prov = provenance(
        scn,
        engine=getattr(args, "engine", None) or "simpy",
        command=getattr(args, "argv", None),
        extra={"format": fmt, "command_name": getattr(args, "command", None)},
    )
    written = []
    for name, frame in frames.items():
        path = _write_table(frame, d / name, fmt)
        write_provenance(sidecar_path(path), {**prov, "table": path.name})
        written.append(path.name)
    (d / "scenario.yaml").write_text(scenario_to_yaml(scn), encoding="utf-8")
    write_provenance(d / "provenance.json", {**prov, "tables": written})
    if args is not None:
        _say(args, f"wrote {d}/: {', '.join(written)}, scenario.yaml, provenance.json")
    return d


def _cmd_run(args: argparse.Namespace) -> int:
    from uturn_sim.model.run import simulate

    scn = _scenario(args.scenario)
    try:
        res = simulate(scn, args.scheme, seed=args.seed, trace=bool(args.plots))
    except ValueError as exc:
        raise _UsageError(f"--scheme: {exc}") from None
    summ = res.summary()
    t0, t1 = res.window
    print(
        f"{scn.name}: {args.scheme} scheme, seed {res.seed_entropy}, measured "
        f"{t0:g}-{t1:g} s ({(t1 - t0) / 3600:g} h)"
    )
    from uturn_sim.measures.catalog import RUN_TABLE, measure

    cols = {"movement": "movement", **{m: measure(m).short for m in RUN_TABLE}}
    print(
        summ[list(cols)]
        .rename(columns=cols)
        .to_string(index=False, float_format=lambda x: f"{x:.2f}")
    )
    if summ["oversaturated"].any():
        print("OVERSATURATED: vehicles of the measured period were still waiting at the end.")
    if args.out:
        _write_out(args.out, scn, {"vehicles": res.vehicles, "summary": summ}, args)
    if args.plots:
        from uturn_sim.plots.figures import write_run_plots

        paths = write_run_plots(res, args.plots, _plot_formats(args))
        _say(args, "wrote " + ", ".join(str(p) for p in paths))
    return 0


def _engine(args: argparse.Namespace) -> str:
    """The ``--engine`` asked for; with ``-v``, the fast engine's compile/load time on stderr."""
    engine = getattr(args, "engine", "simpy")
    if engine == "fast" and getattr(args, "verbose", 0):
        from uturn_sim.fast import warmup

        print(f"uturn-sim: fast engine ready in {warmup():.2f} s (numba cache)", file=sys.stderr)
    return engine


def _cmd_compare(args: argparse.Namespace) -> int:
    import pandas as pd

    from uturn_sim.study.compare import compare, replication_runs
    from uturn_sim.study.text import comparison_text

    scn = _scenario(args.scenario)
    n = scn.simulation.replications if args.replications is None else args.replications
    if n < 1:
        raise _UsageError(f"--replications must be >= 1, got {n}")
    if n > args.max_replications:
        raise _UsageError(
            f"--replications {n} is more than the limit of {args.max_replications}; "
            "raise it deliberately with --max-replications"
        )
    if args.ladder:
        from uturn_sim.study.ladder import ladder

        if args.schemes is not None or args.baseline is not None:
            raise _UsageError("--ladder runs its own five schemes: drop --schemes/--baseline")
        lad = ladder(scn, replications=n, seed=args.seed, progress=_progress(n))
        sys.stdout.write(lad.text())
        if args.out:
            _write_out(
                args.out,
                scn,
                {"ladder": lad.table(), "summaries": lad.comparison.summaries},
                args,
                n,
            )
        return 0
    schemes = _names(args.schemes)
    try:
        comp = compare(
            scn,
            schemes=schemes,
            baseline=args.baseline,
            replications=n,
            seed=args.seed,
            progress=_progress(n),
            parameter_uncertainty=args.parameter_uncertainty,
            engine=_engine(args),
        )
    except ValueError as exc:
        raise _UsageError(f"--schemes/--baseline/--parameter-uncertainty: {exc}") from None
    table = comp.table()
    from uturn_sim.measures.safety import conflicts, pet_by_slot, trajectories

    # safety by slot: every replication's runs rebuilt (nominal parameters; cheap)
    all_runs = [r for k in range(n) for r in replication_runs(scn, comp.schemes, comp.seed, k)]
    sys.stdout.write(comparison_text(comp, pet_by_slot(all_runs)))
    if args.conflicts:  # per-U-turn conflicts and trajectories of replication 0
        d = Path(args.conflicts)
        d.mkdir(parents=True, exist_ok=True)
        rep0 = all_runs[: len(comp.schemes)]
        pd.concat([conflicts(r) for r in rep0]).to_csv(d / "conflicts.csv", index=False)
        tr = [trajectories(r).assign(scheme=r.scheme) for r in rep0]
        pd.concat(tr).to_csv(d / "trajectories.csv", index=False)
        _say(args, f"wrote {d}/conflicts.csv, trajectories.csv (replication 0)")
    if args.out or args.plots:  # records and figures of replication 0, rebuilt (cheap)
        runs = replication_runs(scn, comp.schemes, comp.seed, 0, trace=bool(args.plots))
    if args.out:
        vehicles = pd.concat(
            [r.vehicles.assign(scheme=r.scheme, replication=0) for r in runs],
            ignore_index=True,
        )
        _write_out(
            args.out,
            scn,
            {"comparison": table, "summaries": comp.summaries, "vehicles": vehicles},
            args,
            n,
        )
    if args.plots:
        from uturn_sim.plots.figures import write_compare_plots

        paths = write_compare_plots(runs, args.plots, _plot_formats(args))
        _say(args, "wrote " + ", ".join(str(p) for p in paths))
    return 0


def _cmd_sweep(args: argparse.Namespace) -> int:
    from uturn_sim.sweeps.run import aggregate, load_sweep, sweep

    if args.scheduler is not None and args.backend != "dask":
        raise _UsageError(f"--scheduler is only used with --backend dask, not {args.backend}")
    if args.workers is not None and args.workers < 1:
        raise _UsageError(f"--workers must be >= 1, got {args.workers}")
    if args.max_tasks < 1:
        raise _UsageError(f"--max-tasks must be >= 1, got {args.max_tasks}")
    if not 0 < args.connect_timeout <= 3600:
        raise _UsageError(
            f"--connect-timeout must be > 0 and <= 3600 s, got {args.connect_timeout:g}"
        )
    if args.out is not None and Path(args.out).is_dir():
        raise _UsageError(f"--out: {args.out} is a directory; give a CSV file path")
    # validated once, here, before any worker starts; sweep() reuses it
    loaded = load_sweep(Path(args.sweep), max_tasks=args.max_tasks)
    spec = loaded.spec
    formats = _plot_formats(args) if args.plots else ()
    try:
        rows = sweep(
            loaded,
            backend=args.backend,
            workers=args.workers,
            address=args.scheduler,
            out=args.out,
            progress=_progress(None, unit="task", desc="cell x replication"),
            max_tasks=args.max_tasks,
            connect_timeout_s=args.connect_timeout,
            notify=lambda note: print(f"uturn-sim: resume: {note}", file=sys.stderr),
            engine=_engine(args),
        )
    except KeyboardInterrupt:
        where = (
            f"; rows of finished chunks are kept in {args.out}, re-run to resume"
            if args.out
            else ""
        )
        print(f"\nuturn-sim: interrupted{where}", file=sys.stderr)
        return 130
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
        prov = _sweep_provenance(args, loaded, [Path(args.out).name, agg_path.name])
        _say(args, f"wrote {args.out} (tidy rows), {agg_path} (means with 95% CIs), {prov}")
    if args.plots:
        from uturn_sim.plots.figures import write_sweep_plots

        plot_agg = aggregate(rows, measures=("delay_mean_s", "queue_delay_mean_s", "unserved"))
        try:
            paths = write_sweep_plots(plot_agg, args.plots, formats)
        except ValueError as exc:
            raise _UsageError(f"--plots: {exc}") from None
        _say(args, "wrote " + ", ".join(str(p) for p in paths))
    return 0


def _sweep_provenance(args: argparse.Namespace, loaded: LoadedSweep, tables: list[str]) -> Path:
    """``<out>.provenance.json`` beside the sweep CSV: version, command, seed, sweep, base."""
    from uturn_sim.provenance import provenance, resolve_run, write_provenance

    spec = loaded.spec
    base = resolve_run(loaded.base, seed=spec.seed, replications=spec.replications)
    rec = provenance(
        base,
        replications=spec.replications,
        engine=getattr(args, "engine", None) or "fast",
        command=getattr(args, "argv", None),
        extra={
            "command_name": "sweep",
            "tables": tables,
            "cells": len(loaded.scenarios),
            "sweep": spec.model_dump(mode="json"),
        },
    )
    out = Path(args.out)
    return write_provenance(out.with_name(out.name + ".provenance.json"), rec)


def _cmd_animate(args: argparse.Namespace) -> int:
    from uturn_sim.model.run import simulate
    from uturn_sim.plots.animation import animate, check_writer

    scn = _scenario(args.scenario)
    if args.duration <= 0 or args.fps < 1:
        raise _UsageError("--duration must be > 0 s and --fps >= 1")
    if args.fps > MAX_FPS:
        raise _UsageError(f"--fps must be <= {MAX_FPS}, got {args.fps}")
    frames = args.duration * args.fps
    if frames > args.max_frames:
        raise _UsageError(
            f"--duration {args.duration:g} s x --fps {args.fps} = {frames:.0f} frames; "
            f"at most {args.max_frames} (raise it deliberately with --max-frames)"
        )
    try:
        check_writer(args.out)
    except ValueError as exc:
        raise _UsageError(f"--out: {exc}") from None
    try:
        res = simulate(scn, args.scheme, seed=args.seed)
    except ValueError as exc:
        raise _UsageError(f"--scheme: {exc}") from None
    path = animate(
        res,
        args.out,
        start_s=args.start,
        duration_s=args.duration,
        fps=args.fps,
        progress=_progress(None, unit="frame", desc="frames"),
    )
    _say(args, f"wrote {path}")
    return 0


def _cmd_sensitivity(args: argparse.Namespace) -> int:
    from uturn_sim.study.sensitivity import sensitivity

    scn = _scenario(args.scenario)
    if args.levels < 2 or args.levels > 50:
        raise _UsageError(f"--levels must be within 2..50, got {args.levels}")
    if args.replications < 2 or args.replications > 1000:
        raise _UsageError(f"--replications must be within 2..1000, got {args.replications}")
    params = _names(args.parameters)
    try:
        sens = sensitivity(
            scn,
            parameters=params,
            levels=args.levels,
            replications=args.replications,
            seed=args.seed,
            progress=_progress(None, unit="level", desc="levels"),
        )
    except ValueError as exc:
        raise _UsageError(f"--parameters: {exc}") from None
    sys.stdout.write(sens.text())
    if args.out:
        _write_out(args.out, scn, {"sensitivity": sens.frame}, args)
    if args.plots:
        from uturn_sim.plots.common import save_figure
        from uturn_sim.plots.sensitivity import tornado

        paths = save_figure(tornado(sens), args.plots, "tornado", _plot_formats(args))
        _say(args, "wrote " + ", ".join(str(p) for p in paths))
    return 0


def _floats(text: str | None, flag: str) -> list[float] | None:
    if text is None:
        return None
    try:
        vals = [_float_arg(x) for x in text.split(",") if x.strip()]
    except argparse.ArgumentTypeError as exc:
        raise _UsageError(f"{flag}: {exc}") from None
    if not vals or min(vals) < 0:
        raise _UsageError(f"{flag}: give comma-separated non-negative numbers, got {text!r}")
    return vals


def _grading(path: str | None):  # -> Grading | None (imported lazily)
    if path is None:
        return None
    from uturn_sim.measures.grading import load_grading

    return load_grading(path)


def _criteria(args: argparse.Namespace):  # -> Criteria (imported lazily)
    from uturn_sim.advisor.design import Criteria
    from uturn_sim.measures.grading import HCM_SIGNALIZED

    limits = {}
    for item in args.limit or []:
        name, _, value = item.partition("=")
        try:
            limits[name.strip()] = _float_arg(value)
        except argparse.ArgumentTypeError:
            raise _UsageError(f"--limit {item!r}: expected MEASURE=NUMBER") from None
    grading = _grading(getattr(args, "grading", None)) or HCM_SIGNALIZED
    try:
        return Criteria(
            target=args.target,
            grading=grading,
            max_spillback_share=args.max_spillback,
            limits=limits,
        )
    except ValueError as exc:
        raise _UsageError(f"--target/--max-spillback/--grading: {exc}") from None


def _cmd_design(args: argparse.Namespace) -> int:
    from uturn_sim.advisor.design import design

    scn = _scenario(args.scenario)
    if args.max_replications < 2 or args.max_replications > MAX_REPLICATIONS:
        raise _UsageError(f"--max-replications must be within 2..{MAX_REPLICATIONS}")
    crit = _criteria(args)
    uturn = _floats(args.uturn, "--uturn")
    try:
        res = design(
            scn,
            uturn_demands=uturn,
            left_demands=_floats(args.left, "--left"),
            storages=_floats(args.storage, "--storage"),
            max_slots=args.max_slots,
            criteria=crit,
            scheme=args.scheme,
            seed=args.seed,
            max_replications=args.max_replications,
            full=args.full,
            progress=_progress(None, unit="demand", desc="demands"),
        )
    except ValueError as exc:
        if isinstance(exc, ScenarioError):
            raise
        raise _UsageError(str(exc)) from None
    sys.stdout.write(res.text())
    if args.out:
        _write_out(args.out, scn, {"design": res.table, "design_choices": res.choices}, args)
    if args.plots:
        from uturn_sim.plots.common import save_figure
        from uturn_sim.plots.design import design_chart

        for path in save_figure(design_chart(res), args.plots, "design", _plot_formats(args)):
            _say(args, f"wrote {path}")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from uturn_sim.reports.bureau import report

    scn = args.scenario if args.scenario is not None else None
    if scn is not None and not Path(scn).is_file():
        raise _UsageError(f"no scenario file at {scn!r}")
    if args.replications is not None and not 2 <= args.replications <= MAX_REPLICATIONS:
        raise _UsageError(f"--replications must be within 2..{MAX_REPLICATIONS}")
    path = report(
        scn,
        out=args.out,
        lang=args.lang,
        seed=args.seed,
        replications=args.replications,
        grading=_grading(args.grading),
        engine=getattr(args, "engine", None) or "simpy",
        command=args.argv,
        progress=_progress(None, unit="stage", desc="report"),
    )
    _say(args, f"wrote {path}")
    return 0


def _cmd_schemes(args: argparse.Namespace) -> int:
    from uturn_sim.model.schemes import get_scheme, scheme_names

    for name in scheme_names():
        print(f"{name:20s} {get_scheme(name).label}")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from uturn_sim.scenario.defaults import defaulted_fields
    from uturn_sim.scenario.loading import parse_yaml

    scn = load_scenario(Path(args.scenario))
    print(f"{args.scenario}: valid scenario {scn.name!r}")
    if scn.approach.through_lanes == 0:
        print(
            "note: approach.through_lanes is 0: the left-turn bay is modelled alone (no through "
            "traffic, no blocked bay entrance, spillback only flagged)"
        )
    data, _ = parse_yaml(Path(args.scenario).read_text(encoding="utf-8"))
    taken = defaulted_fields(scn, data)
    if taken:
        print(f"{len(taken)} fields not in the file took their default:")
        for path, value in taken:
            print(f"  {path} = {value!r}")
    else:
        print("every field is set in the file")
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
    p.formatter_class = _Help
    from uturn_sim.provenance import package_version

    p.add_argument("--version", action="version", version=f"uturn-sim {package_version()}")
    p.add_argument("-q", "--quiet", action="count", default=0, help="fewer messages on stderr")
    p.add_argument("-v", "--verbose", action="count", default=0, help="more messages on stderr")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="one replication of one scheme")
    r.add_argument("scenario", nargs="?", help="scenario YAML (default: embedded)")
    r.add_argument(
        "--scheme",
        default="linked",
        help="registered scheme name: ordinary, ordinary_permitted, linked, linked_sanya, "
        "linked_zhengzhou, or your own (see `uturn-sim schemes`); default: %(default)s",
    )
    r.add_argument("--seed", type=_int_arg, default=None, help="root seed (default: scenario's)")
    r.add_argument("--out", help="directory for vehicles.csv, summary.csv, scenario.yaml")
    r.add_argument("--plots", help="directory for figures (formats: --plot-format)")
    r.set_defaults(func=_cmd_run)
    c = sub.add_parser("compare", help="schemes against a baseline on common random numbers")
    c.add_argument("scenario", nargs="?", help="scenario YAML (default: embedded)")
    c.add_argument(
        "--schemes",
        default=None,
        help="comma-separated scheme names (default: ordinary,linked)",
    )
    c.add_argument(
        "--baseline", default=None, help="scheme the others are differenced against (ordinary)"
    )
    c.add_argument("--replications", type=_int_arg, default=None)
    c.add_argument(
        "--max-replications",
        type=_int_arg,
        default=MAX_REPLICATIONS,
        help="limit on --replications, raise deliberately (default: %(default)s)",
    )
    c.add_argument("--seed", type=_int_arg, default=None, help="root seed (default: scenario's)")
    c.add_argument("--out", help="directory for comparison.csv, summaries.csv, vehicles.csv")
    c.add_argument("--plots", help="directory for figures (formats: --plot-format)")
    c.add_argument(
        "--conflicts",
        help="directory for conflicts.csv (PET per U-turn) and trajectories.csv of "
        "replication 0, each scheme (layouts: uturn_sim.measures.safety)",
    )
    c.add_argument(
        "--parameter-uncertainty",
        action="store_true",
        help="draw the scenario's uncertain fields (its uncertainty section, written by "
        "calibrate) anew in each replication, so the CIs include parameter uncertainty",
    )
    c.add_argument(
        "--ladder",
        action="store_true",
        help="the scheme ladder: how much of the gain is the permission to U-turn in gaps "
        "and how much the slots (ordinary, ordinary_permitted, linked_zhengzhou, "
        "linked_sanya, linked; paired differences with CIs)",
    )
    c.set_defaults(func=_cmd_compare)
    se = sub.add_parser(
        "sensitivity",
        help="how the linked lane's benefit depends on the parameters nobody has measured",
    )
    se.add_argument("scenario", nargs="?", help="scenario YAML (default: embedded)")
    se.add_argument(
        "--parameters",
        default=None,
        help="comma-separated dotted fields (default: all of uturn_sim.study.sensitivity.RANGES)",
    )
    se.add_argument("--levels", type=_int_arg, default=5, help="levels per range (default 5)")
    se.add_argument(
        "--replications", type=_int_arg, default=5, help="paired replications per level (5)"
    )
    se.add_argument("--seed", type=_int_arg, default=None, help="root seed (default: scenario's)")
    se.add_argument("--out", help="directory for sensitivity.csv and scenario.yaml")
    se.add_argument("--plots", help="directory for tornado.png")
    se.set_defaults(func=_cmd_sensitivity)
    c.add_argument(
        "--engine",
        choices=("simpy", "fast"),
        default="simpy",
        help="simpy (reference model, default) or fast (compiled, identical results)",
    )
    w = sub.add_parser("sweep", help="a grid of scenarios x replications (sweep YAML)")
    w.add_argument("sweep", help="sweep YAML (see scenarios/sweep_slots_demand.yaml)")
    w.add_argument(
        "--engine",
        choices=("fast", "simpy"),
        default="fast",
        help="fast (compiled, default) or simpy (reference model): identical rows",
    )
    w.add_argument("--backend", choices=("processes", "serial", "dask"), default="processes")
    w.add_argument(
        "--workers", type=_int_arg, default=None, help="worker processes (default: all cores)"
    )
    w.add_argument(
        "--scheduler", help="Dask scheduler address, e.g. tcp://10.0.0.5:8786 (--backend dask)"
    )
    w.add_argument(
        "--connect-timeout",
        type=_float_arg,
        default=DEFAULT_CONNECT_TIMEOUT_S,
        help="seconds allowed to reach the Dask scheduler (default: %(default)s)",
    )
    w.add_argument(
        "--out",
        help="CSV file the rows stream to; re-run the same command to resume "
        "(<out>.sweep.json: manifest, <out>.lock: held while writing)",
    )
    w.add_argument(
        "--max-tasks",
        type=_int_arg,
        default=MAX_TASKS,
        help="limit on cells x replications, raise deliberately (default: %(default)s)",
    )
    w.add_argument(
        "--plots",
        help="directory for delay_vs_demand (U-turn) and delay_vs_demand_all charts "
        "of the aggregate (x-axis: U-turn demand, or the first varied parameter)",
    )
    w.set_defaults(func=_cmd_sweep)
    a = sub.add_parser("animate", help="animation of the approach (GIF, or MP4 with ffmpeg)")
    a.add_argument("scenario", nargs="?", help="scenario YAML (default: embedded)")
    a.add_argument(
        "--scheme",
        default="linked",
        help="registered scheme name: ordinary, ordinary_permitted, linked, linked_sanya, "
        "linked_zhengzhou, or your own (see `uturn-sim schemes`); default: %(default)s",
    )
    a.add_argument("--seed", type=_int_arg, default=None)
    a.add_argument("--start", type=_float_arg, default=None, help="first time shown, s")
    a.add_argument("--duration", type=_float_arg, default=300.0, help="simulated time shown, s")
    a.add_argument("--fps", type=_int_arg, default=5, help=f"frames per second, 1-{MAX_FPS}")
    a.add_argument(
        "--max-frames",
        type=_int_arg,
        default=MAX_FRAMES,
        help="limit on --duration x --fps, raise deliberately (default: %(default)s)",
    )
    a.add_argument("--out", default="uturn.gif", help="output file (.gif or .mp4)")
    a.set_defaults(func=_cmd_animate)
    sc = sub.add_parser("schemes", help="list the registered schemes")
    sc.set_defaults(func=_cmd_schemes)
    k = sub.add_parser("check", help="validate a scenario file")
    k.add_argument("scenario")
    k.set_defaults(func=_cmd_check)
    s = sub.add_parser("schema", help="print the scenario JSON Schema")
    s.add_argument("--markdown", action="store_true", help="the README's reference tables instead")
    s.set_defaults(func=_cmd_schema)
    de = sub.add_parser(
        "design",
        help="design advisor: fewest slots meeting LOS (upper 95%% bound), spillback, unserved",
    )
    de.add_argument("scenario", nargs="?", help="scenario YAML (default: embedded)")
    de.add_argument("--uturn", help="comma-separated U-turn demands, veh/h (default: scenario's)")
    de.add_argument("--left", help="comma-separated left-turn demands, veh/h (default: scenario's)")
    de.add_argument("--storage", help="comma-separated storage lengths, m (default: scenario's)")
    de.add_argument("--max-slots", type=_int_arg, default=8, help="most slots considered")
    de.add_argument("--target", default="D", help="grade the control delay must reach")
    de.add_argument("--grading", help="local grading table CSV (grade,max_control_delay_s)")
    de.add_argument(
        "--max-spillback", type=_float_arg, default=0.05, help="largest spillback share (0..1)"
    )
    de.add_argument(
        "--limit",
        action="append",
        help="MEASURE=VALUE: a further upper limit judged on the upper bound (repeatable)",
    )
    de.add_argument("--scheme", default="linked", help="the slotted scheme")
    de.add_argument("--seed", type=_int_arg, default=None, help="root seed (default: scenario's)")
    de.add_argument(
        "--max-replications", type=_int_arg, default=40, help="replication cap per candidate"
    )
    de.add_argument("--full", action="store_true", help="evaluate every slot count (chart)")
    de.add_argument("--out", help="directory for design tables, scenario.yaml, provenance")
    de.add_argument("--plots", help="directory for the design chart")
    de.set_defaults(func=_cmd_design)
    rp = sub.add_parser("report", help="self-contained HTML report for a traffic bureau")
    rp.add_argument("scenario", nargs="?", help="scenario YAML (default: embedded)")
    rp.add_argument("--out", default="report.html", help="HTML file to write")
    rp.add_argument("--lang", choices=("en", "zh"), default="en", help="report language")
    rp.add_argument("--grading", help="local grading table CSV (grade,max_control_delay_s)")
    rp.add_argument("--seed", type=_int_arg, default=None, help="root seed (default: scenario's)")
    rp.add_argument(
        "--replications", type=_int_arg, default=None, help="paired replications (scenario's)"
    )
    rp.set_defaults(func=_cmd_report)
    from uturn_sim.calibration.cli import add_parser as add_calibrate

    add_calibrate(sub)
    for name, sp in sub.choices.items():
        sp.formatter_class = _Help
        sp.add_argument(
            "-q",
            "--quiet",
            action="count",
            default=argparse.SUPPRESS,
            help="fewer messages on stderr",
        )
        sp.add_argument(
            "-v",
            "--verbose",
            action="count",
            default=argparse.SUPPRESS,
            help="more messages on stderr",
        )
        if name in ("run", "compare", "sensitivity", "design"):
            sp.add_argument(
                "--format",
                choices=("csv", "parquet", "json"),
                default="csv",
                help="format of the tables written with --out (each with a "
                "<name>.provenance.json sidecar)",
            )
        if name in ("run", "compare", "sensitivity", "sweep", "design"):
            sp.add_argument(
                "--plot-format",
                default="png",
                help="--plots file formats, comma-separated: png, svg, pdf",
            )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``uturn-sim``; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    args.verbosity = getattr(args, "verbose", 0) - getattr(args, "quiet", 0)
    args.argv = ["uturn-sim", *(sys.argv[1:] if argv is None else argv)]
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
