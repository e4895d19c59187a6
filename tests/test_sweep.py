import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
import yaml

import uturn_sim as us
from uturn_sim.measures.catalog import ROWS
from uturn_sim.sweeps.run import aggregate, load_sweep, sweep

from .conftest import ROOT, run_cli

SMALL = {
    "base": "default",
    "parameters": {
        "geometry.slots": [2, 4],
        "demand.uturn.flow_veh_h": {"start": 150, "stop": 250, "step": 100},
    },
    "schemes": ["ordinary", "linked"],
    "replications": 3,
    "seed": 7,
}


def small_file(tmp_path, **changes):
    data = {**SMALL, **changes}
    p = tmp_path / "sweep.yaml"
    p.write_text(yaml.safe_dump(data, sort_keys=False))
    return p


@pytest.fixture(scope="module")
def serial_rows():
    return sweep(SMALL, backend="serial")


def test_tidy_rows_and_common_seeds(serial_rows):
    rows = serial_rows
    assert len(rows) == 4 * 2 * 3 * len(ROWS)
    assert list(rows.columns[:6]) == [
        "cell",
        "geometry.slots",
        "demand.uturn.flow_veh_h",
        "scheme",
        "replication",
        "movement",
    ]
    # every cell sees the same arrivals per replication: U-turn demand aside, the left-turn
    # arrivals are identical across cells
    left = rows[(rows["movement"] == "left") & (rows["scheme"] == "ordinary")]
    assert left.groupby("replication")["arrived"].nunique().max() == 1
    one = us.load_scenario(
        us.default_scenario().model_dump(mode="json")
        | {"geometry": {**us.default_scenario().geometry.model_dump(), "slots": 4}}
    )
    direct = us.simulate(
        one.model_copy(
            update={
                "demand": one.demand.model_copy(
                    update={"uturn": one.demand.uturn.model_copy(update={"flow_veh_h": 250.0})}
                )
            }
        ),
        "linked",
        seed=7,
        replication=2,
    ).summary()
    got = rows[
        (rows["geometry.slots"] == 4)
        & (rows["demand.uturn.flow_veh_h"] == 250)
        & (rows["scheme"] == "linked")
        & (rows["replication"] == 2)
    ]
    got = got.set_index("movement")["delay_mean_s"]
    want = direct.set_index("movement")["delay_mean_s"]
    assert got.reindex(want.index).tolist() == pytest.approx(want.tolist(), nan_ok=True)


def test_aggregate_has_confidence_intervals(serial_rows):
    agg = aggregate(serial_rows)
    assert len(agg) == 4 * 2 * len(ROWS)
    assert (agg["delay_mean_s_ci_low"] <= agg["delay_mean_s"]).all()
    assert (agg["n"] == 3).all()


def test_process_backend_identical(serial_rows):
    rows = sweep(SMALL, backend="processes", workers=2, chunk_size=1)
    pd.testing.assert_frame_equal(rows, serial_rows)


def test_dask_local_cluster_through_its_address(serial_rows):
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        rows = sweep(SMALL, backend="dask", address=cluster.scheduler_address, chunk_size=2)
    pd.testing.assert_frame_equal(rows, serial_rows)


def test_resume_after_kill(tmp_path, serial_rows):
    spec = small_file(tmp_path, replications=3)
    out = tmp_path / "rows.csv"
    cmd = [
        sys.executable,
        "-m",
        "uturn_sim.cli",
        "sweep",
        str(spec),
        "--backend",
        "serial",
        "--out",
        str(out),
    ]
    # a slowed worker (wrapped in the child, no test switch in the library) so the kill
    # lands part-way
    script = tmp_path / "slow.py"
    script.write_text(
        "import sys, time\n"
        "import uturn_sim.sweeps.run as r\n"
        "real = r.run_chunk\n"
        "r.run_chunk = lambda *a: (time.sleep(0.4), real(*a))[1]\n"
        "from uturn_sim.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    slow = [sys.executable, str(script), *cmd[3:]]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(slow, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline:
        if out.exists() and out.stat().st_size > 0 and len(out.read_text().splitlines()) > 10:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = len(out.read_text().splitlines()) - 1
    assert 0 < partial < len(serial_rows)
    # tear the last line as a crash mid-write would
    out.write_text(out.read_text()[:-7])
    done = subprocess.run(cmd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    clean = tmp_path / "clean.csv"
    sweep(spec, backend="serial", out=clean)
    assert out.read_bytes() == clean.read_bytes()  # the same final file, byte for byte
    final = pd.read_csv(out)
    pd.testing.assert_frame_equal(final, serial_rows, check_dtype=False)


def test_resume_refuses_another_sweeps_file(tmp_path):
    out = tmp_path / "rows.csv"
    sweep(small_file(tmp_path), backend="serial", out=out)
    other = small_file(tmp_path, seed=8)
    with pytest.raises(us.ScenarioError, match="holds results of another sweep"):
        sweep(other, backend="serial", out=out)


@pytest.mark.parametrize(
    "change,pattern",
    [
        (
            {"parameters": {"geometry.slot": [1, 2]}},
            r"parameters\.geometry\.slot: geometry has no field "
            r"'slot' \(did you mean 'slots'\?\)",
        ),
        (
            {"parameters": {"geometry.slots": [1, 20]}},
            r"cell 1 \{'geometry\.slots': 20\}: geometry: slots \(20 x 7\.5 m",
        ),
        (
            {"parameters": {"demand.uturn.flow_veh_h": {"start": 500, "stop": 100, "step": 50}}},
            r"parameters \(line \d+\): demand\.uturn\.flow_veh_h range: "
            r"stop \(100\) must be >= start",
        ),
        (
            {"replications": 0},
            r"replications \(line \d+\): Input should be greater than or equal to 1",
        ),
        ({"schemes": ["fancy"]}, r"schemes\[0\]"),
        (
            {"parameterz": {}},
            r"parameterz \(line \d+\): unknown field \(did you mean 'parameters'\?\)",
        ),
        ({"parameters": {"demand": [1]}}, r"parameters\.demand: is a section, not a value"),
        ({"base": "missing.yaml"}, r"no scenario file at"),
    ],
)
def test_bad_sweep_files(tmp_path, change, pattern, capsys):
    path = small_file(tmp_path, **change)
    with pytest.raises(us.ScenarioError, match=pattern):
        load_sweep(path)
    rc, _, err = run_cli(["sweep", str(path)], capsys)
    assert rc == 2 and "Traceback" not in err


def test_example_sweep_file_is_valid():
    spec, _base, cells = load_sweep(ROOT / "scenarios" / "sweep_slots_demand.yaml")
    assert len(cells) == 6 * 7 and spec.replications == 5
