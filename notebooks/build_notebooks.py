"""Write the what-if notebooks (run once after editing; outputs are not committed).

Run: ``python notebooks/build_notebooks.py && ruff format notebooks``.  The test suite executes both notebooks
top to bottom with ``UTURN_SIM_QUICK=1`` (fewer replications, smaller grids).
"""

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


WHAT_IF = [
    "md:# What if? Ordinary vs multi-car linked U-turn lane\n\n"
    "Liuyuan Rd / Longshan Middle Rd, am school peak (assumed numbers, see "
    "`scenarios/liuyuan_longshan.yaml`). Change demand, slots and the signal plan, compare the "
    "two schemes on common random numbers, and look at the curves.",
    "import os\n\nimport matplotlib.pyplot as plt\nimport pandas as pd\n\nimport uturn_sim as us\n"
    "from uturn_sim import plots\n\n"
    "QUICK = bool(os.environ.get('UTURN_SIM_QUICK'))  # set by the test suite\n"
    "REPS = 3 if QUICK else 20",
    "base = us.default_scenario()\n"
    "print(base.demand.uturn.flow_veh_h, 'U-turns/h,', base.geometry.slots, 'slots,',\n"
    "      base.signal.cycle_s, 's cycle')",
    "md:## Baseline: paired comparison\n`difference` is linked − ordinary with its 95% confidence "
    "interval over paired replications.",
    "comp = us.compare(base, replications=REPS, seed=1)\n"
    "table = comp.table()\n"
    "table[table.movement == 'uturn'].round(2)",
    "md:## What if U-turn demand grows by 30%?",
    "def with_uturn_demand(scn, factor):\n"
    "    d = scn.demand\n"
    "    uturn = d.uturn.model_copy(update={'flow_veh_h': d.uturn.flow_veh_h * factor})\n"
    "    return scn.model_copy(update={'demand': d.model_copy(update={'uturn': uturn})})\n\n"
    "busy = us.load_scenario(with_uturn_demand(base, 1.3).model_dump())  # re-validated\n"
    "t = us.compare(busy, replications=REPS, seed=1).table()\n"
    "t[(t.movement == 'uturn') & t.measure.isin(['delay_mean_s', 'queue_p95_m', 'spillback_share'])]",
    "md:## What if the lane has 3 or 5 slots instead of 4?",
    "rows = []\n"
    "for k in (3, 4, 5):\n"
    "    data = base.model_dump()\n"
    "    data['geometry']['slots'] = k\n"
    "    scn = us.load_scenario(data)\n"
    "    s = us.compare(scn, replications=REPS, seed=1).summaries\n"
    "    s = s[(s.scheme == 'linked') & (s.movement == 'uturn')]\n"
    "    rows.append({'slots': k, 'delay_mean_s': s.delay_mean_s.mean(),\n"
    "                 'veh_per_gap': s.veh_per_gap.mean()})\n"
    "pd.DataFrame(rows).round(2)",
    "md:## What if 5 s of the NS through green go to the NS left-turn phase?",
    "data = base.model_dump()\n"
    "data['signal']['phases'][0]['green_s'] -= 5\n"
    "data['signal']['phases'][1]['green_s'] += 5\n"
    "retimed = us.load_scenario(data)\n"
    "t = us.compare(retimed, replications=REPS, seed=1).table()\n"
    "t[(t.movement == 'all') & t.measure.isin(['delay_mean_s', 'queue_p95_veh'])]",
    "md:## The curves engineers read first",
    "table = us.build_arrivals(base, seed=1)\n"
    "pair = [us.simulate(base, s, arrivals=table) for s in ('ordinary', 'linked')]\n"
    "plots.cumulative_curves(pair);",
    "plots.queue_over_time(pair[0])\nplots.queue_over_time(pair[1]);",
    "plots.slot_occupancy(pair[1]);",
    "plots.delay_distributions(pair)\nplt.close('all')",
]

DESIGN = [
    "md:# Design study: how many slots for which U-turn demand?\n\n"
    "A sweep of slots × U-turn demand on the default intersection (the grid of "
    "`scenarios/sweep_slots_demand.yaml`), both schemes, common random numbers across cells.",
    "import os\n\nimport matplotlib.pyplot as plt\n\nimport uturn_sim as us\n"
    "from uturn_sim import plots\nfrom uturn_sim.sweeps.run import aggregate\n\n"
    "QUICK = bool(os.environ.get('UTURN_SIM_QUICK'))  # set by the test suite\n"
    "spec = {\n"
    "    'base': 'default',\n"
    "    'parameters': {\n"
    "        'geometry.slots': [2, 4] if QUICK else [1, 2, 3, 4, 5, 6],\n"
    "        'demand.uturn.flow_veh_h': [150, 350] if QUICK else {'start': 100, 'stop': 700, 'step': 100},\n"
    "    },\n"
    "    'replications': 2 if QUICK else 10,\n"
    "    'seed': 20250901,\n"
    "}",
    "rows = us.sweep(spec, backend='serial' if QUICK else 'processes')\n"
    "agg = aggregate(rows)\n"
    "agg[agg.movement == 'uturn'].head()",
    "plots.delay_vs_demand(agg);",
    "md:## Fewest slots that keep the U-turn at LOS D or better (mean delay ≤ 55 s)",
    "u = agg[(agg.movement == 'uturn') & (agg.scheme == 'linked')]\n"
    "ok = u[u.delay_mean_s <= 55]\n"
    "need = ok.groupby('demand.uturn.flow_veh_h')['geometry.slots'].min()\n"
    "need.rename('fewest slots for LOS D').to_frame()",
    "plt.close('all')",
]

if __name__ == "__main__":
    nbf.write(notebook(WHAT_IF), HERE / "what_if.ipynb")
    nbf.write(notebook(DESIGN), HERE / "design_study.ipynb")
    print("wrote what_if.ipynb, design_study.ipynb")
