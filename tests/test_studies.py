"""The scheme ladder and the sensitivity study."""

from __future__ import annotations

import numpy as np
import pytest

import uturn_sim as us
from uturn_sim.cli import main
from uturn_sim.study.ladder import LADDER, STEPS

from .conftest import small_scenario


@pytest.fixture(scope="module")
def lad():
    return us.ladder(small_scenario(), replications=3, seed=2)


def test_ladder_steps_add_up_to_the_total(lad):
    t = lad.table().set_index(["movement", "measure", "step"])
    for movement in ("uturn", "all"):
        for m in ("delay_mean_s", "throughput_veh_h"):
            parts = sum(
                t.loc[(movement, m, s), "mean"]
                for s in ("permission", "slots (given permission)", "any phase (Liaocheng rule)")
            )
            assert parts == pytest.approx(t.loc[(movement, m, "total"), "mean"], abs=1e-9)
    assert set(lad.comparison.schemes) == set(LADDER)
    assert len(STEPS) == 5


def test_ladder_difference_is_paired_with_a_ci(lad):
    s = lad.comparison.summaries
    u = s[s.movement == "uturn"].set_index(["scheme", "replication"])["delay_mean_s"]
    d = (u["linked"] - u["ordinary"]).to_numpy()
    row = lad.table().query("movement == 'uturn' and measure == 'delay_mean_s' and step == 'total'")
    assert row["mean"].iloc[0] == pytest.approx(d.mean())
    assert row["ci_low"].iloc[0] < d.mean() < row["ci_high"].iloc[0]


def test_sensitivity_tornado_and_sign_changes():
    scn = small_scenario()
    sens = us.sensitivity(
        scn,
        parameters=["behaviour.linked_start_lag_s", "behaviour.critical_gap.mean_s"],
        levels=3,
        replications=2,
        seed=1,
    )
    f = sens.frame
    # each level is on the same seeds: the default level equals a plain paired compare
    comp = us.compare(
        scn, schemes=["ordinary", "ordinary_permitted", "linked"], replications=2, seed=1
    )
    s = comp.summaries[comp.summaries.movement == "uturn"].set_index(["scheme", "replication"])
    want = (s.loc["linked", "delay_mean_s"] - s.loc["ordinary", "delay_mean_s"]).mean()
    got = f[
        (f.parameter == "behaviour.critical_gap.mean_s")
        & f.default
        & (f.comparison == "headline")
        & (f.measure == "delay_mean_s")
    ]["mean"]
    assert got.iloc[0] == pytest.approx(want)
    t = sens.tornado()
    assert list(t["span"]) == sorted(t["span"], reverse=True)
    assert set(sens.sign_changes().columns) == {"parameter", "measure", "crossing"}


def test_sign_change_is_interpolated():
    import pandas as pd

    from uturn_sim.study.sensitivity import Sensitivity

    frame = pd.DataFrame(
        {
            "parameter": ["p"] * 3,
            "value": [1.0, 2.0, 3.0],
            "default": [False, True, False],
            "unit": ["s"] * 3,
            "comparison": ["slot benefit"] * 3,
            "measure": ["delay_mean_s"] * 3,
            "mean": [-2.0, 2.0, 4.0],
            "ci_low": [np.nan] * 3,
            "ci_high": [np.nan] * 3,
            "n": [2] * 3,
        }
    )
    sc = Sensitivity(frame, 2, 1).sign_changes()
    assert sc["crossing"].tolist() == [pytest.approx(1.5)]


def test_cli_ladder_and_sensitivity(tmp_path, capsys):
    assert main(["compare", "--ladder", "--replications", "2", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "slots (given permission)" in out and "permission" in out
    assert (tmp_path / "ladder.csv").exists()
    assert main(["compare", "--ladder", "--schemes", "linked"]) == 2
    assert (
        main(
            [
                "sensitivity",
                "--parameters",
                "behaviour.slot_hold_s",
                "--levels",
                "2",
                "--replications",
                "2",
                "--plots",
                str(tmp_path),
            ]
        )
        == 0
    )
    assert "tornado" in capsys.readouterr().out
    assert (tmp_path / "tornado.png").stat().st_size > 1000
    assert main(["sensitivity", "--parameters", "nope"]) == 2
    assert "unknown sensitivity parameter 'nope'" in capsys.readouterr().err
