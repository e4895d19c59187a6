"""Regenerate the safety figures: ``python docs/safety_figures.py``.

Default scenario, all its replications (seed 20250901), both schemes on common
random numbers; writes docs/figures/pet_distribution.png and pet_by_platoon.png.
"""

from pathlib import Path

import uturn_sim as us
from uturn_sim.plots import pet_by_platoon_place, pet_distribution
from uturn_sim.study.compare import replication_runs

scn = us.default_scenario()
runs = [
    r
    for k in range(scn.simulation.replications)
    for r in replication_runs(scn, ("ordinary", "linked"), scn.simulation.seed, k)
]
out = Path(__file__).with_name("figures")
pet_distribution(runs).savefig(out / "pet_distribution.png", dpi=120)
pet_by_platoon_place(runs).savefig(out / "pet_by_platoon.png", dpi=120)
print(f"wrote {out}/pet_distribution.png, pet_by_platoon.png")
