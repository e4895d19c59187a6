"""Write the what-if notebooks (run once after editing; outputs are not committed).

Run: ``python notebooks/build_notebooks.py``.  The test suite executes both notebooks
top to bottom with ``UTURN_SIM_QUICK=1`` (fewer replications, smaller grids) and checks
that every ``show(...)`` produced an image.
"""

import subprocess
from pathlib import Path

import nbformat as nbf

HERE = Path(__file__).parent


def notebook(cells):
    nb = nbf.v4.new_notebook()
    nb["metadata"]["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb["cells"] = [
        nbf.v4.new_markdown_cell(c[3:]) if c.startswith("md:") else nbf.v4.new_code_cell(c)
        for c in cells
    ]
    return nb


def setup(imports: str = "", pandas: bool = False) -> str:
    """The first code cell: imports, QUICK and ``show`` (display a figure, then close it)."""
    return (
        "%matplotlib inline\n"
        "import os\n\nimport matplotlib.pyplot as plt\n"
        + ("import pandas as pd\n" if pandas else "")
        + "from IPython.display import display\n\n"
        "import uturn_sim as us\nfrom uturn_sim import plots\n" + imports + "\n"
        "QUICK = bool(os.environ.get('UTURN_SIM_QUICK'))  # set by the test suite\n\n\n"
        "def show(fig):\n"
        '    """Display a figure now and close it (one image per figure, none lost)."""\n'
        "    display(fig)\n"
        "    plt.close(fig)\n\n\n"
    )


WHAT_IF = [
    "md:# What if? Ordinary vs multi-car linked U-turn lane\n\n"
    "Liuyuan Rd / Longshan Middle Rd, am school peak (assumed numbers, see "
    "`scenarios/liuyuan_longshan.yaml`). Change demand, slots and the signal plan with "
    "`us.update_scenario`, compare the schemes on common random numbers with `us.compare`, "
    "split the gain with `us.ladder`, and look at the curves.",
    setup(pandas=True) + "REPS = 3 if QUICK else 20",
    "base = us.default_scenario()\n"
    "print(base.demand.uturn.flow_veh_h, 'U-turns/h,', base.geometry.slots, 'slots,',\n"
    "      base.signal.cycle_s, 's cycle')",
    "md:## Baseline: paired comparison\n`difference` is linked − ordinary with its 95% "
    "confidence interval over paired replications. `delay_mean_s` is the mean **control** "
    "delay, `queue_delay_mean_s` the queue delay.",
    "comp = us.compare(base, schemes=['ordinary', 'linked'], replications=REPS, seed=1)\n"
    "table = comp.table()\n"
    "table[table.movement == 'uturn'].round(2)",
    "md:## What if U-turn demand grows by 30%?",
    "busy = us.update_scenario(base, {'demand.uturn.flow_veh_h': "
    "base.demand.uturn.flow_veh_h * 1.3})\n"
    "t = us.compare(busy, schemes=['ordinary', 'linked'], replications=REPS, seed=1).table()\n"
    "t[(t.movement == 'uturn') & t.measure.isin(['delay_mean_s', 'queue_p95_m', "
    "'spillback_share'])]",
    "md:## What if the lane has 3 or 5 slots instead of 4?\n"
    "The same seed gives every variant the same arrivals.",
    "rows = []\n"
    "for k in (3, 4, 5):\n"
    "    scn = us.update_scenario(base, {'geometry.slots': k})\n"
    "    s = us.compare(scn, schemes=['ordinary', 'linked'], replications=REPS, "
    "seed=1).summaries\n"
    "    s = s[(s.scheme == 'linked') & (s.movement == 'uturn')]\n"
    "    rows.append({'slots': k, 'delay_mean_s': s.delay_mean_s.mean(),\n"
    "                 'veh_per_gap': s.veh_per_gap.mean()})\n"
    "pd.DataFrame(rows).round(2)",
    "md:## What if 5 s of the NS through green go to the NS left-turn phase?",
    "phases = base.signal.phases\n"
    "retimed = us.update_scenario(base, {\n"
    "    'signal.phases.0.green_s': phases[0].green_s - 5,\n"
    "    'signal.phases.1.green_s': phases[1].green_s + 5,\n"
    "})\n"
    "t = us.compare(retimed, schemes=['ordinary', 'linked'], replications=REPS, "
    "seed=1).table()\n"
    "t[(t.movement == 'all') & t.measure.isin(['delay_mean_s', 'queue_p95_veh'])]",
    "md:## How much of the gain is the permission to U-turn in gaps, how much the slots?\n"
    "`us.ladder` runs five schemes on the same arrivals; each step is a paired difference "
    "with its 95% CI.",
    "lad = us.ladder(base, replications=REPS, seed=1)\nprint(lad.text())",
    "md:## The curves engineers read first\n"
    "One replication (replication 0 of seed 1; each figure says so), both schemes on the "
    "same arrivals; `trace=True` records every lane event so the slot chart also shows "
    "left-turners standing in slots.",
    "arrivals = us.build_arrivals(base, seed=1)\n"
    "pair = [us.simulate(base, s, arrivals=arrivals, trace=True) for s in "
    "('ordinary', 'linked')]\n"
    "show(plots.cumulative_curves(pair))",
    "show(plots.queue_comparison(pair))  # both queues on one y-scale",
    "show(plots.slot_occupancy(pair[1]))",
    "show(plots.delay_distributions(pair))",
]

DESIGN = [
    "md:# Design study: how many slots for which U-turn demand?\n\n"
    "First a sweep of slots × U-turn demand on the default intersection (the grid of "
    "`scenarios/sweep_slots_demand.yaml`) to see the curves; then `us.design`, which picks "
    "the fewest slots meeting the LOS target on the **upper 95% bound** of the control "
    "delay, a spillback limit and no unserved vehicles (mean delay alone picks designs "
    "that spill back); then `us.report`, the HTML report for a traffic bureau.",
    setup(
        "from uturn_sim.plots.design import design_chart\n"
        "from uturn_sim.sweeps.run import aggregate\n"
    )
    + "base = us.default_scenario()\n"
    "spec = {\n"
    "    'base': 'default',\n"
    "    'parameters': {\n"
    "        'geometry.slots': [2, 4] if QUICK else [1, 2, 3, 4, 5, 6],\n"
    "        'demand.uturn.flow_veh_h': [150, 350] if QUICK else "
    "{'start': 100, 'stop': 700, 'step': 100},\n"
    "    },\n"
    "    'replications': 2 if QUICK else 10,\n"
    "    'seed': 20250901,\n"
    "}",
    "rows = us.sweep(spec, backend='serial' if QUICK else 'processes')\n"
    "agg = aggregate(rows, measures=('delay_mean_s', 'queue_delay_mean_s', "
    "'spillback_share', 'unserved'))\n"
    "agg[agg.movement == 'uturn'].head()",
    "md:Mean **control** delay of the U-turners against demand, over the HCM LOS bands; "
    "the axis stops at 100 s (values beyond are printed), cells that left vehicles "
    "unserved are circled.",
    "show(plots.delay_vs_demand(agg))",
    "md:## The design advisor: fewest slots meeting LOS D on the upper bound",
    "d = us.design(\n"
    "    base,\n"
    "    uturn_demands=[200, 400] if QUICK else [100, 200, 300, 400, 500, 600],\n"
    "    max_slots=4 if QUICK else 8,\n"
    "    initial_replications=3 if QUICK else 5,\n"
    "    step=3 if QUICK else 5,\n"
    "    max_replications=6 if QUICK else 40,\n"
    "    full=True,\n"
    "    seed=20250901,\n"
    ")\n"
    "print(d.text())",
    "show(design_chart(d))",
    "md:## The report for the traffic bureau\n"
    "One self-contained HTML file (figures embedded), in English or Chinese (`lang='zh'`).",
    "import tempfile\nfrom pathlib import Path\n\n"
    "out = Path(tempfile.mkdtemp()) / 'report.html'\n"
    "path = us.report(\n"
    "    base,\n"
    "    out=out,\n"
    "    lang='en',\n"
    "    replications=2 if QUICK else 10,\n"
    "    design_demands=[300] if QUICK else None,\n"
    "    sensitivity_levels=2,\n"
    "    sensitivity_replications=2 if QUICK else 3,\n"
    "    engine='fast',\n"
    ")\n"
    "print(path, f'{path.stat().st_size / 1e6:.1f} MB')",
]

if __name__ == "__main__":
    nbf.write(notebook(WHAT_IF), HERE / "what_if.ipynb")
    nbf.write(notebook(DESIGN), HERE / "design_study.ipynb")
    # the committed notebooks are ruff-formatted (as ``ruff check .`` sees them)
    subprocess.run(
        ["ruff", "format", "-q", str(HERE / "what_if.ipynb"), str(HERE / "design_study.ipynb")],
        check=False,
    )
    print("wrote what_if.ipynb, design_study.ipynb")
