"""The ``calibrate`` sub-command: ``uturn-sim calibrate OBS... [--base SCENARIO] --out FILE``.

Wire it with ``add_parser(subparsers)``; the handler returns an exit code: 0 on
success, 2 on bad observations or scenario (one message per line on stderr, no
traceback).
"""

from __future__ import annotations

import argparse
import sys

from uturn_sim.errors import ScenarioError

__all__ = ["add_parser", "run"]


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``calibrate`` on ``subparsers``; its handler is set as ``func``."""
    p = subparsers.add_parser(
        "calibrate",
        help="calibrate a scenario from field observation CSV files",
        description="Estimate critical gap, follow-up headway, slot times, saturation flow, "
        "lost time and demand from observation files; write a commented scenario YAML.",
    )
    p.add_argument("observations", nargs="+", help="observation CSV files or directories")
    p.add_argument("--base", help="scenario YAML supplying every field not estimated")
    p.add_argument("--out", required=True, help="calibrated scenario YAML to write")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Handle ``calibrate``: 0 on success, 2 on invalid observations or scenario."""
    from uturn_sim.calibration.fit import calibrate, write_calibrated

    try:
        scn, rep = calibrate(args.observations, base=args.base)
        out = write_calibrated(scn, rep, args.out)
    except ScenarioError as exc:
        print("error: " + "; ".join(exc.problems), file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(rep.text())
    print(f"wrote {out}")
    return 0
