"""Fault injection on sweep outputs: every fault ends in a byte-identical final CSV after
resume, or in a clear error with nothing lost."""

import errno
import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest
import yaml

import uturn_sim as us
import uturn_sim.sweeps.run as run_module
import uturn_sim.sweeps.store as store_module
from uturn_sim.cli import main
from uturn_sim.measures.catalog import ROWS

from .conftest import ROOT

SPEC = {
    "parameters": {"geometry.slots": [2, 4], "simulation.duration_s": [600]},
    "schemes": ["ordinary", "linked"],
    "replications": 3,
    "seed": 11,
}
PER_TASK = 2 * len(ROWS)  # schemes x movements


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """The sweep file and its clean final CSV (bytes)."""
    d = tmp_path_factory.mktemp("clean")
    spec = d / "sweep.yaml"
    spec.write_text(yaml.safe_dump(SPEC))
    out = d / "rows.csv"
    us.sweep(spec, backend="serial", out=out, chunk_size=1)
    return spec, out.read_bytes()


def crash_after(monkeypatch, n_chunks):
    """Make the (n+1)-th chunk crash the run, as a kill would."""
    real = run_module.run_chunk
    calls = []

    def worker(*args):
        calls.append(1)
        if len(calls) > n_chunks:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(run_module, "run_chunk", worker)


def partial(tmp_path, monkeypatch, clean, n_chunks=2):
    spec, _ = clean
    out = tmp_path / "rows.csv"
    with monkeypatch.context() as m:
        crash_after(m, n_chunks)
        with pytest.raises(KeyboardInterrupt):
            us.sweep(spec, backend="serial", out=out, chunk_size=1)
    return spec, out


def resume_identical(spec, out, clean_bytes):
    notes = []
    us.sweep(spec, backend="serial", out=out, chunk_size=1, notify=notes.append)
    assert out.read_bytes() == clean_bytes
    assert not out.with_name(out.name + ".lock").exists()
    return notes


# -- damaged files: repaired ---------------------------------------------------------------
def header_of(clean_bytes):
    return clean_bytes.split(b"\n", 1)[0] + b"\n"


def first_rows(clean_bytes, n):
    return b"".join(line + b"\n" for line in clean_bytes.split(b"\n")[1 : n + 1])


@pytest.mark.parametrize(
    "damage",
    [
        "header-only",
        "header-torn-row",
        "garbage-line",
        "extra-field",
        "binary",
        "duplicated-task",
        "half-task",
        "wrong-cell-values",
    ],
)
def test_damaged_output_is_repaired(tmp_path, monkeypatch, clean, damage):
    spec, clean_bytes = clean
    spec, out = partial(tmp_path, monkeypatch, clean)
    head, body = header_of(clean_bytes), out.read_bytes()[len(header_of(clean_bytes)) :]
    rows = first_rows(clean_bytes, PER_TASK)
    new = {
        "header-only": head,
        "header-torn-row": head + rows[:40],
        "garbage-line": head + body + b"this is not, a row\n" + rows[:30],
        "extra-field": head + body[:-1] + b",extra\n",
        "binary": head + bytes(range(256)) + b"\n" + body,
        "duplicated-task": head + body + body[: body.index(b"\n") + 1],
        "half-task": head + body + rows[: len(rows) // 2],
        "wrong-cell-values": head + body.replace(b"0,2,600", b"0,3,600", 1),
    }[damage]
    out.write_bytes(new)
    notes = resume_identical(spec, out, clean_bytes)
    if damage != "header-only":
        assert notes and "dropped" in notes[0]


def test_header_only_resume_keeps_its_header_on_later_runs(tmp_path, monkeypatch, clean):
    spec, clean_bytes = clean
    spec, out = partial(tmp_path, monkeypatch, clean, n_chunks=0)
    out.write_bytes(header_of(clean_bytes))
    with monkeypatch.context() as m:
        crash_after(m, 1)
        with pytest.raises(KeyboardInterrupt):
            us.sweep(spec, backend="serial", out=out, chunk_size=1)
    assert out.read_bytes().startswith(header_of(clean_bytes))
    resume_identical(spec, out, clean_bytes)


# -- files that are not this sweep's: refused clearly, untouched -----------------------------
@pytest.mark.parametrize(
    "case,pattern",
    [
        ("foreign-columns", r"has columns a, b, c, not those of this sweep .* choose a new --out"),
        ("corrupt-manifest", r"manifest .*rows\.csv\.sweep\.json is unreadable .* delete"),
        ("manifest-list", r"manifest .* is not a sweep manifest; delete"),
        ("manifest-typed", r"manifest .* is not a sweep manifest; delete"),
        ("no-manifest", r"holds results of another sweep or another program \(has no manifest"),
    ],
)
def test_foreign_outputs_refused_and_untouched(tmp_path, monkeypatch, clean, capsys, case, pattern):
    spec, out = partial(tmp_path, monkeypatch, clean)
    meta = out.with_name(out.name + ".sweep.json")
    if case == "foreign-columns":
        out.write_text("a,b,c\n1,2,3\n")
        meta.write_text(json.dumps({"fingerprint": json.loads(meta.read_text())["fingerprint"]}))
    elif case == "corrupt-manifest":
        meta.write_bytes(b"{\x00not json")
    elif case == "manifest-list":
        meta.write_text("[1, 2]")
    elif case == "manifest-typed":
        meta.write_text('{"fingerprint": 5}')
    else:
        meta.unlink()
    before = out.read_bytes()
    with pytest.raises(us.ScenarioError, match=pattern):
        us.sweep(spec, backend="serial", out=out)
    assert main(["sweep", str(spec), "--backend", "serial", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "uturn-sim: invalid sweep output" in err
    assert out.read_bytes() == before  # nothing lost


# -- disk full and torn writes ---------------------------------------------------------------
def test_disk_full_keeps_whole_chunks_then_resumes(tmp_path, monkeypatch, clean, capsys):
    spec, clean_bytes = clean
    out = tmp_path / "rows.csv"
    real_open = open
    appends = []

    class Full:
        def __init__(self, fh):
            self.fh = fh

        def __getattr__(self, name):
            return getattr(self.fh, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

        def write(self, text):
            self.fh.write(text[: len(text) // 2])  # half lands on disk, then the disk is full
            self.fh.flush()
            raise OSError(errno.ENOSPC, "No space left on device")

    def fake_open(path, mode="r", *args, **kwargs):
        fh = real_open(path, mode, *args, **kwargs)
        if "a" in mode:
            appends.append(path)
            if len(appends) == 3:
                return Full(fh)
        return fh

    monkeypatch.setattr(store_module, "open", fake_open, raising=False)
    argv = ["sweep", str(spec), "--backend", "serial", "--out", str(out)]
    with pytest.raises(OSError, match="No space left on device; rows of finished chunks are kept"):
        us.sweep(spec, backend="serial", out=out, chunk_size=1)
    text = out.read_bytes()
    assert text.endswith(b"\n") and len(text.split(b"\n")) - 2 == 2 * PER_TASK  # whole chunks
    appends.clear()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"cannot read or write {out}: No space left on device" in err
    assert "free some space and re-run the same command to resume" in err
    monkeypatch.setattr(store_module, "open", real_open, raising=False)
    resume_identical(spec, out, clean_bytes)


def test_torn_last_line_from_a_crash_mid_write(tmp_path, monkeypatch, clean):
    spec, clean_bytes = clean
    spec, out = partial(tmp_path, monkeypatch, clean, n_chunks=3)
    later_row = clean_bytes.split(b"\n")[-2]
    out.write_bytes(out.read_bytes() + later_row[:55])  # the kill came mid-line
    resume_identical(spec, out, clean_bytes)


# -- concurrent writers ----------------------------------------------------------------------
def test_second_writer_refused_while_first_writes(tmp_path, monkeypatch, clean):
    spec, clean_bytes = clean
    out = tmp_path / "rows.csv"
    real = run_module.run_chunk
    seen = []

    def worker(*args):
        if not seen:
            with pytest.raises(us.ScenarioError, match=r"another sweep \(process \d+\) is writing"):
                us.sweep(spec, backend="serial", out=out, chunk_size=1)
            seen.append(1)
        return real(*args)

    monkeypatch.setattr(run_module, "run_chunk", worker)
    us.sweep(spec, backend="serial", out=out, chunk_size=1)
    assert seen and out.read_bytes() == clean_bytes


SCRIPT = """
import sys, time
import uturn_sim.sweeps.run as r
real = r.run_chunk
def slow(*args):
    time.sleep({sleep})
    return real(*args)
r.run_chunk = slow
from uturn_sim.cli import main
sys.exit(main(sys.argv[1:]))
"""


def slow_cli(tmp_path, sleep):
    script = tmp_path / "slow_cli.py"
    script.write_text(SCRIPT.format(sleep=sleep))
    return [sys.executable, str(script)]


def spawn(cmd, **kw):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw
    )


def wait_for(cond, timeout=30.0):
    t = time.monotonic()
    while time.monotonic() - t < timeout:
        if cond():
            return True
        time.sleep(0.05)
    return False


def test_two_processes_same_out(tmp_path, clean):
    spec, clean_bytes = clean
    out = tmp_path / "rows.csv"
    argv = ["sweep", str(spec), "--backend", "serial", "--out", str(out)]
    first = spawn([*slow_cli(tmp_path, 0.3), *argv])
    assert wait_for(lambda: out.with_name(out.name + ".lock").exists())
    second = spawn([*slow_cli(tmp_path, 0.0), *argv])
    _, err = second.communicate(timeout=60)
    assert second.returncode == 2 and "another sweep" in err and "Traceback" not in err
    _, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    assert out.read_bytes() == clean_bytes


# -- kills and Ctrl-C ------------------------------------------------------------------------
def test_random_kills_then_resume(tmp_path, clean):
    spec, clean_bytes = clean
    out = tmp_path / "rows.csv"
    argv = ["sweep", str(spec), "--backend", "serial", "--out", str(out)]
    rnd = random.Random(18)
    for _ in range(3):  # bounded: three kills at random moments of at most 2.5 s
        proc = spawn([*slow_cli(tmp_path, 0.15), *argv])
        time.sleep(rnd.uniform(1.0, 2.5))
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
    proc = spawn([*slow_cli(tmp_path, 0.0), *argv])
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert out.read_bytes() == clean_bytes


def children_of(pid):
    psutil = pytest.importorskip("psutil")
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def test_workers_die_with_a_killed_parent(tmp_path, clean):
    psutil = pytest.importorskip("psutil")
    spec, _ = clean
    out = tmp_path / "rows.csv"
    argv = ["sweep", str(spec), "--backend", "processes", "--workers", "2", "--out", str(out)]
    proc = spawn([*slow_cli(tmp_path, 30), *argv])
    assert wait_for(lambda: len(children_of(proc.pid)) >= 2)
    kids = children_of(proc.pid)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    _gone, alive = psutil.wait_procs(kids, timeout=5)
    for p in alive:
        p.kill()
    assert not alive, "worker processes outlived their killed parent"


@pytest.mark.parametrize("backend", ["processes", "serial"])
def test_ctrl_c_ends_promptly_resumable_one_line(tmp_path, clean, backend):
    spec, clean_bytes = clean
    out = tmp_path / "rows.csv"
    argv = ["sweep", str(spec), "--backend", backend, "--workers", "2", "--out", str(out)]
    proc = spawn([*slow_cli(tmp_path, 30), *argv])
    assert wait_for(lambda: out.with_name(out.name + ".lock").exists())
    if backend == "processes":
        assert wait_for(lambda: len(children_of(proc.pid)) >= 2)
    kids = children_of(proc.pid)
    time.sleep(0.3)
    t = time.monotonic()
    proc.send_signal(signal.SIGINT)  # the main process alone
    _, err = proc.communicate(timeout=30)
    assert time.monotonic() - t < 5
    assert proc.returncode == 130
    lines = [line for line in err.splitlines() if line.strip() and "cell x replication" not in line]
    assert lines == [
        f"uturn-sim: interrupted; rows of finished chunks are kept in {out}, re-run to resume"
    ]
    assert all(not p.is_running() or p.status() == "zombie" for p in kids)
    done = spawn([*slow_cli(tmp_path, 0.0), *argv])
    _, err = done.communicate(timeout=120)
    assert done.returncode == 0, err
    assert out.read_bytes() == clean_bytes
