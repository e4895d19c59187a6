"""Print the recovery table of docs/calibration.md: python tests/calibration_recovery_table.py."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import numpy as np
import test_calibration as T

import uturn_sim as us

rows = []
g = T.gap_runs.__wrapped__()
for mean_s, sd_s in T.GAP_SETS:
    G = [x for x in g if x["mean"] == mean_s]
    med = G[0]["median"]
    rows.append(
        (
            f"critical gap mean, MLE (tc~LN {mean_s}/{sd_s})",
            mean_s,
            np.mean([x["mle"].mean.value for x in G]),
            np.mean([x["mle"].mean.covers(mean_s) for x in G]),
            len(G),
            np.mean([x["mle"].mean.n for x in G]),
        )
    )
    rows.append(
        (
            "critical gap sd, MLE",
            sd_s,
            np.mean([x["mle"].sd.value for x in G]),
            np.mean([x["mle"].sd.covers(sd_s) for x in G]),
            len(G),
            np.mean([x["mle"].mean.n for x in G]),
        )
    )
    rows.append(
        (
            "critical gap median, modified Raff",
            med,
            np.mean([x["raff"].value for x in G]),
            np.mean([x["raff"].covers(med) for x in G]),
            len(G),
            np.mean([x["raff"].n for x in G]),
        )
    )
    rows.append(
        (
            "median of accepted gaps (NOT shipped)",
            mean_s,
            np.mean([x["median_accepted"] for x in G]),
            float("nan"),
            len(G),
            np.mean([x["raff"].n for x in G]),
        )
    )
S = T.slot_runs.__wrapped__()
for name, key, truth in [
    ("start lag", "lag", 1.8),
    ("reaction", "react", 1.0),
    ("accel (move-up)", "acc", 2.0),
    ("slot hold", "slot_hold_s", 2.0),
    ("turn clear", "turn_clear_s", 5.5),
    ("sat. headway", "saturation_headway_s", 2.0),
    ("start-up lost time", "startup_lost_time_s", 2.0),
]:
    E = [
        (r["mu"].reaction if key == "react" else r["mu"].accel if key == "acc" else r[key])
        for r in S
    ]
    rows.append(
        (
            name,
            truth,
            np.mean([e.value for e in E]),
            np.mean([e.covers(truth) for e in E]),
            len(E),
            np.mean([e.n for e in E]),
        )
    )
scn = us.default_scenario()
truth = scn.demand.profile.factors
F = [T.est.demand(T._counts(scn, 500 + r), profile_movements=["uturn", "left"]) for r in range(200)]
for i, t in enumerate(truth):
    rows.append(
        (
            f"profile factor {i}",
            t,
            np.mean([f.factors[i].value for f in F]),
            np.mean([f.factors[i].covers(t) for f in F]),
            200,
            np.mean([f.factors[i].n for f in F]),
        )
    )
rows.append(
    (
        "opposing through flow veh/h",
        900,
        np.mean([f.flows["opposing_through"].value for f in F]),
        np.mean([f.flows["opposing_through"].covers(900) for f in F]),
        200,
        np.mean([f.flows["opposing_through"].n for f in F]),
    )
)
print(
    "| estimator | true | mean estimate | 95% CI coverage | replications | mean n per replication |"
)
print("|---|---:|---:|---:|---:|---:|")
for r in rows:
    print(f"| {r[0]} | {r[1]:.3g} | {r[2]:.3g} | {r[3]:.3f} | {r[4]} | {r[5]:.0f} |")
