import subprocess

import pandas as pd
import pytest
import yaml

import uturn_sim as us
from uturn_sim.cli import main
from uturn_sim.measures.catalog import ROWS

from .conftest import ROOT, run_cli

SHORT = {"simulation": {"duration_s": 900, "warmup_s": 300, "cooldown_s": 300, "seed": 3}}


@pytest.fixture()
def short_yaml(tmp_path):
    data = yaml.safe_load((ROOT / "scenarios" / "liuyuan_longshan.yaml").read_text())
    data["simulation"].update(SHORT["simulation"])
    p = tmp_path / "short.yaml"
    p.write_text(yaml.safe_dump(data))
    return p


def test_run_prints_table_and_writes_outputs(short_yaml, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", str(short_yaml), "--scheme", "ordinary", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "ordinary scheme" in text and "delay s" in text and "uturn" in text
    v = pd.read_csv(out / "vehicles.csv")
    assert {"arrival_s", "departure_s", "queue_delay_s", "control_delay_s", "slot"} <= set(
        v.columns
    )
    assert us.load_scenario(out / "scenario.yaml").simulation.duration_s == 900
    assert len(pd.read_csv(out / "summary.csv")) == len(ROWS)


def test_compare_writes_paired_table(short_yaml, tmp_path, capsys):
    out = tmp_path / "cmp"
    assert main(["compare", str(short_yaml), "--replications", "3", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "3 paired replications" in text and "mean control delay" in text and "LOS" in text
    table = pd.read_csv(out / "comparison.csv")
    assert {"scheme", "baseline_mean", "mean", "difference", "ci_low", "ci_high"} <= set(
        table.columns
    )
    assert set(table["scheme"]) == {"linked"}
    assert set(pd.read_csv(out / "vehicles.csv")["scheme"]) == {"ordinary", "linked"}
    assert pd.read_csv(out / "summaries.csv")["replication"].nunique() == 3


def test_check_and_schema(short_yaml, capsys):
    assert main(["check", str(short_yaml)]) == 0
    out = capsys.readouterr().out
    assert "valid scenario" in out and "modelled alone" not in out
    data = yaml.safe_load(short_yaml.read_text())
    data["approach"]["through_lanes"] = 0
    short_yaml.write_text(yaml.safe_dump(data))
    assert main(["check", str(short_yaml)]) == 0
    assert "the left-turn bay is modelled alone" in capsys.readouterr().out
    assert main(["schema"]) == 0
    assert '"title": "uturn_sim scenario"' in capsys.readouterr().out


@pytest.mark.parametrize(
    "text,needle",
    [
        ("demand:\n  uturn: {flow_veh_h: -5}\n", "demand.uturn.flow_veh_h (line 2)"),
        ("signal: [1, 2\n", "YAML syntax error"),
        ("", "empty"),
    ],
)
def test_bad_scenario_exit_2_no_traceback(tmp_path, text, needle, capsys):
    p = tmp_path / "bad.yaml"
    p.write_text(text)
    for cmd in (["check", str(p)], ["run", str(p)], ["compare", str(p)]):
        rc, _, err = run_cli(cmd, capsys)
        assert rc == 2, err
        assert needle in err


def test_bad_arguments_exit_2(tmp_path, capsys):
    assert main(["check", str(tmp_path / "nope.yaml")]) == 2
    assert "no scenario file" in capsys.readouterr().err
    assert main(["compare", "--replications", "0"]) == 2
    assert main(["run", "--scheme", "diagonal"]) == 2
    assert "unknown scheme 'diagonal'; registered: ordinary" in capsys.readouterr().err
    assert main(["compare", "--schemes", "ordinary,nope", "--replications", "1"]) == 2
    assert "unknown scheme 'nope'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["run", "--seed", "-4"])
    assert info.value.code == 2


def test_console_script_on_default_runs():
    proc = subprocess.run(
        ["uturn-sim", "run", "--scheme", "linked"], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert "liuyuan_longshan_am" in proc.stdout


def test_unwritable_out_is_exit_2(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["run", "--out", str(blocker / "sub")]) == 2
    assert "cannot read or write" in capsys.readouterr().err


def test_every_help_page_renders(capsys):
    """Top-level and sub-command --help pages format (a stray % breaks argparse)."""
    import argparse

    from uturn_sim.cli import _parser

    parser = _parser()
    for argv in (["--help"], *[[name, "--help"] for name in _subcommands(parser)]):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 0, argv
    assert "usage" in capsys.readouterr().out
    assert isinstance(parser, argparse.ArgumentParser)


def _subcommands(parser):
    import argparse

    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return list(action.choices)
    return []
