"""Issue 18: strict input, bounded work, Dask addresses, the queue frame, CLI messages."""

import re
import socket
import threading
import time

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings

import uturn_sim as us
import uturn_sim.sweeps.spec as spec_module
from uturn_sim.cli import main
from uturn_sim.measures.summary import queue_steps
from uturn_sim.sweeps.spec import load_sweep

from .conftest import ROOT
from .strategies import scenarios

DEFAULT_TEXT = (ROOT / "scenarios" / "liuyuan_longshan.yaml").read_text()


def with_line(old: str, new: str) -> str:
    assert DEFAULT_TEXT.count(old) == 1, old
    return DEFAULT_TEXT.replace(old, new)


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


# -- strict input ------------------------------------------------------------------------------
def test_duplicate_section_names_both_lines():
    text = DEFAULT_TEXT + "simulation:\n  duration_s: 60\n"
    first = line_of(text, "simulation:")
    second = len(text.splitlines()) - 1
    with pytest.raises(
        us.ScenarioError,
        match=rf"simulation \(line {second}\): duplicate key, first given on line {first}",
    ):
        us.load_scenario(text)


def test_duplicate_field_inside_a_section():
    text = with_line("  slots: 4 ", "  slots: 4\n  slots: 2 ")
    n = line_of(text, "slots: 4")
    with pytest.raises(
        us.ScenarioError,
        match=rf"geometry\.slots \(line {n + 1}\): duplicate key, first given on line {n}",
    ):
        us.load_scenario(text)


def test_duplicate_key_in_a_sweep_file(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text("parameters:\n  geometry.slots: [1, 2]\nreplications: 2\nreplications: 3\n")
    with pytest.raises(
        us.ScenarioError, match=r"replications \(line 4\): duplicate key, first given on line 3"
    ):
        load_sweep(p)


@pytest.mark.parametrize(
    "old,new,pattern",
    [
        ("  slots: 4 ", "  slots: 010 ", r"geometry\.slots \(line \d+\): '010' is not a plain"),
        ("  slots: 4 ", "  slots: 0x4 ", r"geometry\.slots \(line \d+\): '0x4' is not a plain"),
        (
            "  duration_s: 3600 ",
            "  duration_s: 1:00:00 ",
            r"simulation\.duration_s \(line \d+\): '1:00:00' is not a plain decimal number",
        ),
        (
            "  duration_s: 3600 ",
            "  duration_s: 3_600 ",
            r"simulation\.duration_s \(line \d+\): '3_600' is not a plain decimal number",
        ),
        (
            "  seed: 20250901 ",
            "  seed: " + "7" * 5000 + " ",
            r"simulation\.seed \(line \d+\): an integer of 5000 digits; at most 40",
        ),
        (
            "  slots: 4 ",
            "  slots: true ",
            r"geometry\.slots \(line \d+\): Input should be a valid",
        ),
        (
            "  duration_s: 3600 ",
            "  duration_s: yes ",
            r"simulation\.duration_s \(line \d+\): Input should be a valid number",
        ),
        (
            "  duration_s: 3600 ",
            '  duration_s: "3600" ',
            r"simulation\.duration_s \(line \d+\): Input should be a valid number",
        ),
    ],
    ids=["octal", "hex", "base60", "underscore", "huge-int", "bool", "yes", "quoted"],
)
def test_numbers_must_be_plain_numbers(old, new, pattern):
    with pytest.raises(us.ScenarioError, match=pattern):
        us.load_scenario(with_line(old, new))


def test_booleans_and_huge_ints_from_python_mappings(default):
    with pytest.raises(us.ScenarioError, match=r"geometry\.slots: Input should be a valid integer"):
        us.update_scenario(default, {"geometry.slots": True})
    with pytest.raises(us.ScenarioError, match=r"simulation\.duration_s: .* an integer of about"):
        us.update_scenario(default, {"simulation.duration_s": 10**5000})


def test_sweep_booleans_are_not_numbers(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text("parameters:\n  geometry.slots: [1, 2]\nreplications: true\n")
    with pytest.raises(us.ScenarioError, match=r"replications \(line 3\): Input should be"):
        load_sweep(p)
    p.write_text("parameters:\n  geometry.slots: [true, 2]\n")
    with pytest.raises(us.ScenarioError, match=r"geometry\.slots.*valid integer"):
        load_sweep(p)


# -- bounded work ------------------------------------------------------------------------------
def test_grid_limit_message_names_the_limit_and_the_way_to_raise_it(tmp_path):
    data = {
        "parameters": {
            "demand.uturn.flow_veh_h": {"start": 0, "stop": 999, "step": 1},
            "geometry.slots": list(range(1, 200)),
        },
        "replications": 5,
    }
    p = tmp_path / "big.yaml"
    p.write_text(yaml.safe_dump(data))
    with pytest.raises(us.ScenarioError) as info:
        load_sweep(p)
    msg = str(info.value)
    assert "the:" not in msg
    assert re.search(
        r"parameters \(line \d\): 199000 cells x 5 replications = 995000 tasks; "
        r"at most 100000 \(raise it deliberately with --max-tasks",
        msg,
    )
    assert "--max-tasks" in msg


def test_task_limit_can_be_raised_and_lowered(tmp_path, capsys):
    data = {"parameters": {"geometry.slots": [1, 2, 3]}, "replications": 4}
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(data))
    with pytest.raises(us.ScenarioError, match=r"3 cells x 4 replications = 12 tasks; at most 10"):
        load_sweep(p, max_tasks=10)
    assert len(load_sweep(p, max_tasks=12).scenarios) == 3
    assert main(["sweep", str(p), "--max-tasks", "10"]) == 2
    assert "at most 10" in capsys.readouterr().err


def test_cli_validates_the_grid_once(tmp_path, monkeypatch, capsys):
    calls = []
    real = spec_module.cell_scenarios

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(spec_module, "cell_scenarios", counting)
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump({"parameters": {"geometry.slots": [2]}, "replications": 1}))
    dur = {"simulation.duration_s": [600]}
    p.write_text(yaml.safe_dump({"parameters": {"geometry.slots": [2], **dur}, "replications": 1}))
    assert main(["sweep", str(p), "--backend", "serial"]) == 0
    assert len(calls) == 1


@pytest.fixture
def no_compare(monkeypatch):
    import uturn_sim.study.compare as cmp

    def refuse(*a, **k):
        raise AssertionError("compare ran despite the limit")

    monkeypatch.setattr(cmp, "compare", refuse)


def test_compare_replications_capped(no_compare, capsys):
    assert main(["compare", "--replications", "20000"]) == 2
    err = capsys.readouterr().err
    assert "--replications 20000 is more than the limit of 10000" in err
    assert "--max-replications" in err and "Traceback" not in err


@pytest.fixture
def no_simulate(monkeypatch):
    import uturn_sim.model.run as run

    def refuse(*a, **k):
        raise AssertionError("simulated despite the limit")

    monkeypatch.setattr(run, "simulate", refuse)


@pytest.mark.parametrize(
    "argv,pattern",
    [
        (["--fps", "1000"], "--fps must be <= 60"),
        (["--duration", "1e6"], r"= 5000000 frames; at most 5000 \(raise it deliberately"),
    ],
)
def test_animate_bounded(no_simulate, capsys, argv, pattern):
    assert main(["animate", *argv]) == 2
    assert pattern.replace("\\", "") in capsys.readouterr().err or pytest.fail(pattern)


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_animate_duration_must_be_finite(no_simulate, capsys, value):
    with pytest.raises(SystemExit) as info:
        main(["animate", f"--duration={value}"])
    assert info.value.code == 2
    assert "is not a finite number" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--seed", "9" * 4000],
        ["compare", "--replications", "9" * 4000],
        ["animate", "--fps", "9" * 5000],
        ["sweep", "x.yaml", "--workers", "9" * 4000],
    ],
    ids=["seed", "replications", "fps", "workers"],
)
def test_huge_integer_arguments_are_usage_errors(no_simulate, no_compare, capsys, argv):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "characters; at most 40" in err and "Traceback" not in err and len(err) < 2000


# -- Dask --------------------------------------------------------------------------------------
SMALL_SWEEP = str(ROOT / "tests" / "golden" / "sweep_small.yaml")


@pytest.mark.parametrize(
    "address", ["nonsense::", "tcp://host:99999", "http://127.0.0.1:8786", "tcp://:8786"]
)
def test_malformed_scheduler_address(capsys, address):
    assert main(["sweep", SMALL_SWEEP, "--backend", "dask", "--scheduler", address]) == 2
    err = capsys.readouterr().err
    assert "is not a Dask scheduler address; expected tcp://host:port" in err
    assert "Traceback" not in err


def test_scheduler_with_another_backend_is_an_error(capsys):
    argv = ["sweep", SMALL_SWEEP, "--backend", "serial", "--scheduler", "tcp://127.0.0.1:8786"]
    assert main(argv) == 2
    assert "--scheduler is only used with --backend dask" in capsys.readouterr().err
    with pytest.raises(us.ScenarioError, match="only used by the dask backend"):
        us.sweep(SMALL_SWEEP, backend="processes", address="tcp://127.0.0.1:8786")


@pytest.fixture
def not_a_scheduler():
    """A TCP server that answers like a web server, and one that never answers."""
    servers = []

    def serve(reply: bytes | None) -> int:
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        servers.append(s)

        def loop():
            while True:
                try:
                    conn, _ = s.accept()
                except OSError:
                    return
                servers.append(conn)
                if reply:
                    conn.sendall(reply)

        threading.Thread(target=loop, daemon=True).start()
        return s.getsockname()[1]

    yield serve
    for s in servers:
        s.close()


@pytest.mark.parametrize(
    "reply", [b"HTTP/1.0 200 OK\r\n\r\nhello world", None], ids=["web", "mute"]
)
def test_something_else_answering_fails_fast(not_a_scheduler, capsys, reply):
    pytest.importorskip("dask.distributed")
    port = not_a_scheduler(reply)
    t = time.monotonic()
    argv = ["sweep", SMALL_SWEEP, "--backend", "dask", "--scheduler", f"127.0.0.1:{port}"]
    assert main([*argv, "--connect-timeout", "1.5"]) == 2
    assert time.monotonic() - t < 10
    err = capsys.readouterr().err
    assert f"could not connect to a Dask scheduler at tcp://127.0.0.1:{port}" in err
    assert "Traceback" not in err


# -- messages ----------------------------------------------------------------------------------
def test_directory_as_out(tmp_path, capsys):
    assert main(["sweep", SMALL_SWEEP, "--backend", "serial", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"--out: {tmp_path} is a directory; give a CSV file path" in err
    with pytest.raises(us.ScenarioError, match="is a directory; --out takes a CSV file path"):
        us.sweep(SMALL_SWEEP, backend="serial", out=tmp_path)


# -- the queue frame ---------------------------------------------------------------------------
def test_departure_rounded_below_arrival_is_not_a_negative_queue():
    a = np.array([6.259768, 6.259768])
    d = np.array([6.259768 - 8.881784e-16, 10.0])
    _, level = queue_steps(a, d)
    assert level.min() == 0.0
    assert list(level) == [0.0, 2.0, 1.0, 0.0] or list(level) == [0.0, 1.0, 0.0]


@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(scenarios(max_duration_s=1200.0))
def test_queue_frame_never_negative(scn):
    table = us.build_arrivals(scn)
    for scheme in ("ordinary", "linked"):
        q = us.simulate(scn, scheme, arrivals=table).queue
        assert (q["queue_veh"] >= 0).all() and (q["queue_m"] >= 0).all()
        assert (q["slots_occupied"] >= 0).all()
