"""The bureau report: one self-contained HTML file in English or Chinese.

``report(scenario, out="report.html", lang="zh")`` runs the studies (scheme ladder,
sensitivity, design advisor, a light validation check) with small settings so it
finishes in well under a minute, renders every figure with a CJK font shipped by
``mplfonts``, embeds the figures (base64 PNG) and a subset of that font (so the page
renders Chinese on a machine with no CJK fonts), and writes the page from the jinja2
template ``templates/bureau.html.j2``.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from uturn_sim.advisor.design import Criteria, design
from uturn_sim.measures.catalog import measure as declared
from uturn_sim.measures.grading import HCM_SIGNALIZED, HCM_TWO_WAY_STOP, Grading
from uturn_sim.provenance import DEFAULT_ENGINE, provenance, resolve_run
from uturn_sim.scenario.defaults import field_rows
from uturn_sim.scenario.loading import load_scenario, scenario_to_yaml
from uturn_sim.scenario.model import Scenario
from uturn_sim.study.compare import mean_ci
from uturn_sim.study.ladder import ladder
from uturn_sim.study.sensitivity import sensitivity

__all__ = ["report"]

SCHEMES_SHOWN = ("ordinary", "ordinary_permitted", "linked")
KEY_MEASURES = (
    "throughput_veh_h",
    "delay_mean_s",
    "delay_p95_s",
    "queue_p95_m",
    "queue_max_m",
    "spillback_share",
    "unserved",
)
QUEUE_MEASURES = ("queue_p95_m", "queue_max_m", "spillback_share", "spilled_vehicles", "unserved")
#: with the approach's through lanes: its total delay and lane 1's blocking, in the ``all`` table
APPROACH_MEASURES = (
    "total_delay_veh_h_per_h",
    "person_delay_h_per_h",
    "bay_entry_wait_s",
    "entrance_blocked_share",
    "lane_blocked_share",
)


def _png(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _fmt(x: Any, digits: int = 1) -> str:
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if isinstance(x, (float, np.floating)):
        return "-" if not np.isfinite(x) else f"{x:.{digits}f}"
    if isinstance(x, list):
        return ", ".join(str(v) for v in x)
    return str(x)


def _ci(values: np.ndarray, digits: int = 1) -> str:
    m, lo, hi = mean_ci(values)
    if not np.isfinite(m):
        return "-"
    if not np.isfinite(lo):
        return _fmt(m, digits)
    return f"{m:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


def _digits(name: str) -> int:
    return 3 if declared(name).unit == "share" else 1


def _safety_measures(summaries: pd.DataFrame) -> list[str]:
    import importlib.util

    if importlib.util.find_spec("uturn_sim.measures.safety") is None:
        return []
    from uturn_sim.measures.catalog import MEASURES

    return [
        m.name
        for m in MEASURES
        if m.numeric and m.name in summaries.columns and ("pet" in m.name or "conflict" in m.name)
    ]


def report(
    scenario: Scenario | str | Path | None = None,
    *,
    out: str | Path = "report.html",
    lang: str = "en",
    seed: int | None = None,
    replications: int | None = None,
    grading: Grading | None = None,
    criteria: Criteria | None = None,
    design_demands: Sequence[float] | None = None,
    sensitivity_levels: int = 2,
    sensitivity_replications: int = 3,
    engine: str = DEFAULT_ENGINE,
    command: Sequence[str] | str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Write the bureau report as one self-contained HTML file.

    Parameters
    ----------
    scenario
        A scenario, a YAML file path, or ``None`` for the embedded default.  From a
        file, the comments on each line say whether a number is measured, sourced or
        assumed.
    out
        The HTML file to write.
    lang
        ``"en"`` or ``"zh"``: every label, table heading and figure text.
    seed, replications
        Root seed and paired replications of the comparison (default: the
        scenario's).
    grading
        A local grading table (``load_grading``); the HCM tables are always shown.
    criteria
        The design advisor's criteria (default :class:`Criteria`: HCM LOS D on the
        upper bound, spillback share at most 5%, no unserved vehicles).
    design_demands
        U-turn demands of the design table, veh/h (default: 0.75, 1, 1.25 and 1.5
        times the scenario's).
    sensitivity_levels, sensitivity_replications
        Levels per parameter range and paired replications per level.
    engine
        Name of the simulation engine (recorded in the provenance).
    command
        The command line recorded (default ``sys.argv``).
    progress
        Called as ``progress(done, total)`` after each of the report's stages.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    ValueError
        For an unknown ``lang``.
    ScenarioError
        For an invalid scenario file (naming the field).
    """
    from jinja2 import Environment, PackageLoader, select_autoescape

    from uturn_sim.plots.design import design_chart
    from uturn_sim.reports import charts
    from uturn_sim.reports.fonts import css_font_face, figure_fonts
    from uturn_sim.reports.i18n import translator
    from uturn_sim.study.compare import replication_runs
    from uturn_sim.validation.experiments import run_capacity

    tr = translator(lang)
    text: str | None = None
    if scenario is None:
        from importlib import resources

        from uturn_sim.scenario.loading import DEFAULT_SCENARIO_FILE

        text = (
            resources.files("uturn_sim").joinpath("data", DEFAULT_SCENARIO_FILE).read_text("utf-8")
        )
        scn = load_scenario(text)
    elif isinstance(scenario, Scenario):
        scn = scenario
    else:
        text = Path(scenario).read_text(encoding="utf-8") if Path(scenario).is_file() else None
        scn = load_scenario(scenario)
    scn = resolve_run(scn, seed=seed, replications=replications)
    n = scn.simulation.replications
    stages = 5
    step = iter(range(1, stages + 1))

    def tick() -> None:
        if progress is not None:
            progress(next(step), stages)

    # --- studies
    lad = ladder(scn, replications=n)
    comp = lad.comparison
    s = comp.summaries
    tick()
    sens = sensitivity(scn, levels=sensitivity_levels, replications=sensitivity_replications)
    tick()
    criteria = Criteria() if criteria is None else criteria
    q0 = scn.demand.uturn.flow_veh_h
    demands = list(design_demands or [round(q0 * f) for f in (0.75, 1.0, 1.25, 1.5)])
    des = design(scn, uturn_demands=demands, criteria=criteria, max_replications=20)
    tick()
    val = pd.concat(
        [
            run_capacity("harders", [300, 600, 900], replications=3),
            run_capacity("linked_strict", [300, 600, 900], replications=3, slots=(2,)),
        ],
        ignore_index=True,
    )
    tick()
    runs = replication_runs(scn, ("ordinary", "linked"), scn.simulation.seed, 0)

    # --- tables
    with figure_fonts(lang):
        figs = {
            "comparison": _png(charts.comparison_chart(comp, tr)),
            "ladder": _png(charts.ladder_chart(lad, tr)),
            "queue": _png(charts.queue_chart(runs, tr)),
            "tornado": _png(charts.tornado_chart(sens, tr)),
            "design": _png(design_chart(des, tr)),
        }
    schemes = [x for x in comp.schemes if x in SCHEMES_SHOWN] + [
        x for x in comp.schemes if x not in SCHEMES_SHOWN
    ]

    def by(sch: str, mv: str, m: str) -> np.ndarray:
        return s[(s.scheme == sch) & (s.movement == mv)][m].to_numpy(float)

    whole = scn.approach.through_lanes > 0
    movements = ("uturn", "left", "through", "all") if whole else ("uturn", "left", "all")
    comparison = {
        mv: [
            [tr(declared(m).label)] + [_ci(by(sch, mv, m), _digits(m)) for sch in schemes]
            for m in KEY_MEASURES + (APPROACH_MEASURES if whole and mv == "all" else ())
            if not (mv == "through" and m == "spillback_share")
        ]
        for mv in movements
    }
    t = comp.table(measures=KEY_MEASURES)
    diffs = [
        [
            tr(r.movement),
            tr(r.scheme),
            tr(declared(r.measure).label),
            f"{r.difference:.2f} [{r.ci_low:.2f}, {r.ci_high:.2f}]",
        ]
        for r in t[t.scheme == "linked"].itertuples()
        if np.isfinite(r.difference)
    ]
    lt = lad.table()
    ladder_rows = [
        [
            tr(r.movement),
            tr(declared(r.measure).label),
            tr(r.step),
            r.difference,
            f"{r.mean:.2f} [{r.ci_low:.2f}, {r.ci_high:.2f}]",
        ]
        for r in lt.itertuples()
    ]
    gradings = [HCM_SIGNALIZED, HCM_TWO_WAY_STOP] + ([grading] if grading is not None else [])
    los_rows = []
    for sch in schemes:
        for mv in movements:
            m, _, hi = mean_ci(by(sch, mv, "delay_mean_s"))
            row = [tr(sch), tr(mv), _ci(by(sch, mv, "delay_mean_s"))]
            for g in gradings:
                row += [g.grade(m), g.grade(hi)]
            los_rows.append(row)
    queue_rows = [
        [tr(sch)] + [_ci(by(sch, "all", m), _digits(m)) for m in QUEUE_MEASURES] for sch in schemes
    ]
    safety = _safety_measures(s)
    safety_rows = [
        [tr(sch)] + [_ci(by(sch, "uturn", m), _digits(m)) for m in safety] for sch in schemes
    ]
    fields = field_rows(scn, text)
    basis_counts: dict[str, int] = {}
    for f in fields:
        basis_counts[f["basis"]] = basis_counts.get(f["basis"], 0) + 1
    dt = des.table
    design_rows = [
        [
            _fmt(r.uturn_veh_h, 0),
            _fmt(r.left_veh_h, 0),
            _fmt(r.storage_m, 0),
            r.slots,
            tr(r.verdict),
            r.replications,
            _fmt(r.uturn_delay_s),
            _fmt(r.uturn_delay_hi_s),
            _fmt(r.spillback_hi, 3),
            _fmt(r.unserved_max, 0),
            tr("yes") if r.chosen else "",
            "; ".join(
                tr(x.split(" (")[0]) + " (" + tr(x.split(" (")[1][:-1]) + ")"
                for x in r.reasons.split(", ")
                if x
            ),
        ]
        for r in dt.itertuples()
    ]
    choice_rows = [
        [
            _fmt(c.uturn_veh_h, 0),
            _fmt(c.left_veh_h, 0),
            "-" if not np.isfinite(c.slots) else int(c.slots),
            "-" if not np.isfinite(c.storage_m) else _fmt(c.storage_m, 0),
            tr(c.status),
        ]
        for c in des.choices.itertuples()
    ]
    here = des.choices[des.choices.uturn_veh_h == float(round(q0))]
    recommendation = None
    if len(here) and np.isfinite(here.iloc[0].slots):
        recommendation = (int(here.iloc[0].slots), float(here.iloc[0].storage_m))
    val_rows = [
        [
            tr(r.case),
            _fmt(r.x, 0),
            f"{r.sim:.0f} [{r.ci_low:.0f}, {r.ci_high:.0f}]",
            _fmt(r.theory, 0),
            f"{r.rel_error:+.1%}",
        ]
        for r in val.itertuples()
    ]
    prov = provenance(
        scn,
        replications=n,
        engine=engine,
        command=command,
        extra={
            "sensitivity_levels": sensitivity_levels,
            "sensitivity_replications": sensitivity_replications,
            "design_demands_veh_h": demands,
            "grading": None if grading is None else grading.name,
            "lang": lang,
        },
    )
    headline = {sch: _ci(by(sch, "uturn", "delay_mean_s")) for sch in ("ordinary", "linked")}
    diff_u = t[(t.scheme == "linked") & (t.movement == "uturn") & (t.measure == "delay_mean_s")]
    approach_head = (
        {
            m: {sch: _ci(by(sch, mv, m)) for sch in ("ordinary", "linked")}
            for mv, m in (("all", "total_delay_veh_h_per_h"), ("through", "delay_mean_s"))
        }
        if whole
        else None
    )
    ctx = {
        "lang": lang,
        "t": tr,
        "scn": scn,
        "n": n,
        "figs": figs,
        "scheme_labels": [tr(x) for x in schemes],
        "los_head": [
            tr("scheme"),
            tr("movement"),
            f"{tr('control delay, s/veh')} [{tr('95% CI')}]",
            *[
                f"{tr(g.name) if g in (HCM_SIGNALIZED, HCM_TWO_WAY_STOP) else g.name} {tr(w)}"
                for g in gradings
                for w in ("at mean", "at upper bound")
            ],
        ],
        "comparison": comparison,
        "diffs": diffs,
        "ladder_rows": ladder_rows,
        "gradings": gradings,
        "local_grading": grading,
        "los_rows": los_rows,
        "queue_cols": [tr(declared(m).label) for m in QUEUE_MEASURES],
        "queue_rows": queue_rows,
        "safety_cols": [tr(declared(m).label) for m in safety],
        "safety_rows": safety_rows if safety else [],
        "fields": [
            [f["path"], _fmt(f["value"], 2), tr(f["basis"]), f["note"], f["description"]]
            for f in fields
        ],
        "basis_counts": [(tr(k), v) for k, v in sorted(basis_counts.items())],
        "criteria": criteria,
        "limit": criteria.grading.limit_s(criteria.target),
        "design_rows": design_rows,
        "choice_rows": choice_rows,
        "recommendation": recommendation,
        "val_rows": val_rows,
        "sens_rows": [
            [
                r.parameter,
                _fmt(r.low, 2),
                _fmt(r.high, 2),
                _fmt(r.at_low),
                _fmt(r.at_high),
                _fmt(r.span),
            ]
            for r in sens.tornado("headline", "delay_mean_s").itertuples()
        ],
        "sens": sens,
        "prov": prov,
        "scenario_yaml": scenario_to_yaml(scn),
        "headline": headline,
        "diff_u": None if diff_u.empty else diff_u.iloc[0],
        "approach_head": approach_head,
        "los_now": {
            sch: HCM_SIGNALIZED.grade(mean_ci(by(sch, "uturn", "delay_mean_s"))[2])
            for sch in ("ordinary", "linked")
        },
    }
    env = Environment(
        loader=PackageLoader("uturn_sim.reports", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    page = env.get_template("bureau.html.j2").render(**ctx, font_face="")
    if lang == "zh":
        page = page.replace("/*FONT_FACE*/", css_font_face(html.unescape(page)))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    tick()
    if tr.missing:
        import warnings

        warnings.warn(f"untranslated report text: {sorted(tr.missing)}", stacklevel=2)
    return out
