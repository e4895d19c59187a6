"""Provenance round-trips; CLI conventions: --version, --format, stdout/stderr, check defaults."""

import json

import pandas as pd
import pytest
import yaml

import uturn_sim as us
from uturn_sim.cli import main
from uturn_sim.measures.catalog import ROWS
from uturn_sim.provenance import package_version, scenario_hash

from .conftest import ROOT

SHORT = {"duration_s": 900, "warmup_s": 300, "cooldown_s": 300}


@pytest.fixture()
def short_yaml(tmp_path):
    data = yaml.safe_load((ROOT / "scenarios" / "liuyuan_longshan.yaml").read_text())
    data["simulation"].update(SHORT)
    p = tmp_path / "short.yaml"
    p.write_text(yaml.safe_dump(data))
    return p


def test_compare_records_the_scenario_actually_run_and_reruns_identically(
    short_yaml, tmp_path, capsys
):
    d1 = tmp_path / "a"
    args = ["compare", str(short_yaml), "--seed", "5", "--replications", "3", "--out", str(d1)]
    assert main(args) == 0
    out, err = capsys.readouterr()
    assert "paired replications" in out and "wrote" not in out  # results on stdout
    assert "wrote" in err and "provenance.json" in err  # messages on stderr
    scn = us.load_scenario(d1 / "scenario.yaml")
    assert scn.simulation.seed == 5 and scn.simulation.replications == 3
    prov = json.loads((d1 / "provenance.json").read_text())
    assert prov["root_seed"] == 5 and prov["replications"] == 3
    assert prov["version"] == package_version() and prov["engine"] == "simpy"
    assert prov["scenario_sha256"] == scenario_hash(scn)
    assert prov["command"] == " ".join(["uturn-sim", *args])
    side = json.loads((d1 / "comparison.provenance.json").read_text())
    assert side["table"] == "comparison.csv" and side["root_seed"] == 5
    # rerun from the recorded scenario alone (its seed and replications): identical tables
    d2 = tmp_path / "b"
    assert main(["compare", str(d1 / "scenario.yaml"), "--out", str(d2)]) == 0
    for name in ("comparison", "summaries", "vehicles"):
        a, b = (d / f"{name}.csv" for d in (d1, d2))
        assert a.read_bytes() == b.read_bytes(), name
    assert (
        json.loads((d2 / "provenance.json").read_text())["scenario_sha256"]
        == prov["scenario_sha256"]
    )


def test_version_flag(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"uturn-sim {package_version()}"


@pytest.mark.parametrize("fmt", ["json", "parquet"])
def test_format_writes_tables_readable_by_pandas(short_yaml, tmp_path, capsys, fmt):
    pytest.importorskip("pyarrow") if fmt == "parquet" else None
    d = tmp_path / fmt
    assert (
        main(["run", str(short_yaml), "--scheme", "ordinary", "--out", str(d), "--format", fmt])
        == 0
    )
    read = pd.read_json if fmt == "json" else pd.read_parquet
    summ = read(d / f"summary.{fmt}")
    assert len(summ) == len(ROWS) and "delay_mean_s" in summ.columns
    assert not (d / "summary.csv").exists()
    assert json.loads((d / "summary.provenance.json").read_text())["format"] == fmt


def test_quiet_hides_messages_and_results_stay(short_yaml, tmp_path, capsys):
    assert main(["run", str(short_yaml), "-q", "--out", str(tmp_path / "q")]) == 0
    out, err = capsys.readouterr()
    assert "linked scheme" in out and "wrote" not in err


def test_help_shows_defaults(capsys):
    with pytest.raises(SystemExit):
        main(["sensitivity", "--help"])
    text = capsys.readouterr().out
    assert "(default: 5)" in text  # --levels
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    assert "default: linked" in capsys.readouterr().out


def test_check_lists_defaulted_fields(tmp_path, capsys):
    data = yaml.safe_load((ROOT / "scenarios" / "liuyuan_longshan.yaml").read_text())
    del data["demand"]
    p = tmp_path / "nodemand.yaml"
    p.write_text(yaml.safe_dump(data))
    assert main(["check", str(p)]) == 0
    out = capsys.readouterr().out
    assert "took their default" in out
    assert "demand.uturn.flow_veh_h = 220.0" in out and "demand.left.flow_veh_h = 80.0" in out
    assert "geometry.storage_m" not in out  # set in the file


def test_design_cli_table_and_bad_input(tmp_path, capsys):
    assert (
        main(["design", "--uturn", "150", "--max-replications", "10", "--out", str(tmp_path / "d")])
        == 0
    )
    out, _ = capsys.readouterr()
    assert "upper 95% bound" in out and "chosen" in out
    t = pd.read_csv(tmp_path / "d" / "design.csv")
    assert {"slots", "verdict", "uturn_delay_hi_s", "spillback_hi", "chosen"} <= set(t.columns)
    assert main(["design", "--uturn", "abc"]) == 2
    assert "--uturn" in capsys.readouterr().err
    assert main(["design", "--target", "Q"]) == 2
    assert "grade 'Q'" in capsys.readouterr().err
