import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from uturn_sim import plots
from uturn_sim.cli import main
from uturn_sim.plots.animation import animate, lane_positions
from uturn_sim.sweeps.run import aggregate, sweep
from uturn_sim.validation.experiments import run_capacity, run_webster


def labels(ax):
    legend = ax.get_legend() or ax.figure.legends[0]
    return [t.get_text() for t in legend.get_texts()]


def test_cumulative_curves(default_pair):
    fig = plots.cumulative_curves(default_pair)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "time (min)" and "veh" in ax.get_ylabel()
    assert len(ax.lines) == 3  # arrivals + one departure curve per scheme
    assert labels(ax)[:3] == ["arrivals", "departures, ordinary", "departures, linked"]
    n_u = (default_pair[0].vehicles["movement"] == "uturn").sum()
    assert ax.lines[0].get_ydata().max() == n_u
    # departures never lie above arrivals
    assert ax.lines[1].get_ydata().max() <= n_u


def test_queue_over_time_shows_storage_and_greens(default_pair):
    fig = plots.queue_over_time(default_pair[0])
    ax = fig.axes[0]
    assert ax.get_ylabel() == "queue length (m)"
    assert any("storage 60 m" in t for t in labels(ax))
    assert any("green" in t for t in labels(ax))
    assert [t for t in labels(ax) if t.startswith("phase:")] == [
        "phase: NS through",
        "phase: NS left",
        "phase: EW through",
        "phase: EW left",
    ]
    t0, t1 = default_pair[0].window
    assert ax.get_xlim() == pytest.approx((t0 / 60, t1 / 60))
    assert len(ax.patches) >= 3600 / 130  # one shaded green per cycle


def test_slot_occupancy_bars_and_gaps(default_pair):
    fig = plots.slot_occupancy(default_pair[1])
    ax = fig.axes[0]
    assert ax.get_ylabel().startswith("slot number")
    assert [t.get_text() for t in ax.get_yticklabels()] == ["1", "2", "3", "4"]
    bars = [p for p in ax.patches if p.get_height() == pytest.approx(0.6)]
    assert len(bars) > 10
    assert "U-turn start" in [t.get_text() for t in fig.legends[0].get_texts()]
    with pytest.raises(ValueError, match="linked"):
        plots.slot_occupancy(default_pair[0])


def test_delay_distributions(default_pair):
    fig = plots.delay_distributions(default_pair)
    assert [ax.get_title() for ax in fig.axes] == ["uturn", "left"]
    assert fig.axes[0].get_ylabel() == "control delay (s/veh)"
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert ticks == ["ordinary", "linked"]


def test_capacity_curves_points_over_theory():
    frame = pd.concat(
        [
            run_capacity("harders", [300, 900], replications=3),
            run_capacity("linked_strict", [300, 900], replications=3, slots=[2, 4]),
        ]
    )
    fig = plots.capacity_curves(frame)
    ax = fig.axes[0]
    assert (
        ax.get_xlabel() == "conflicting flow (veh/h)"
        and ax.get_ylabel() == "U-turn capacity (veh/h)"
    )
    names = labels(ax)
    assert (
        "c_k, k=2" in names and "c_k, k=4" in names and any(n.startswith("Harders") for n in names)
    )
    assert len(ax.containers) == 3  # error bars: harders, linked k=2, linked k=4


def test_webster_curve():
    fig = plots.webster_curve(run_webster([0.3, 0.6], replications=3, duration_s=1800))
    ax = fig.axes[0]
    assert ax.get_xlabel() == "degree of saturation x (-)"
    assert labels(ax) == ["Webster", "HCM uniform delay d1", "simulation (95% CI)"]


def test_delay_vs_demand_with_los_bands():
    spec = {
        "parameters": {"geometry.slots": [2, 4], "demand.uturn.flow_veh_h": [100, 300]},
        "replications": 2,
        "seed": 1,
    }
    agg = aggregate(sweep(spec, backend="serial"))
    fig = plots.delay_vs_demand(agg)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "U-turn demand (veh/h)"
    assert labels(ax) == ["linked, 2 slots", "linked, 4 slots", "ordinary"]
    assert [t.get_text() for t in ax.texts] == list("ABCDEF")


def test_animation_writes_gif(default_pair, tmp_path):
    res = default_pair[1]
    idx, place = lane_positions(res, res.window[0] + 100)
    assert list(place) == list(range(len(idx)))
    path = animate(res, tmp_path / "a.gif", duration_s=20, fps=2, speedup=5)
    with Image.open(path) as im:
        assert im.n_frames >= 2 and im.size[0] > 300


def test_cli_writes_plots(tmp_path):
    out = tmp_path / "figs"
    assert main(["compare", "--replications", "2", "--plots", str(out)]) == 0
    names = sorted(p.name for p in out.glob("*.png"))
    assert names == [
        "cumulative_uturn.png",
        "delay_distributions.png",
        "queue_linked.png",
        "queue_ordinary.png",
        "slots_linked.png",
    ]
    assert main(["run", "--scheme", "ordinary", "--plots", str(tmp_path / "r")]) == 0
    assert (tmp_path / "r" / "queue_ordinary.png").exists()
    assert (
        main(["animate", "--duration", "10", "--fps", "1", "--out", str(tmp_path / "x.gif")]) == 0
    )
    assert np.asarray(Image.open(tmp_path / "x.gif")).size > 0


def test_animate_bad_output_names_exit_2(tmp_path, capsys):
    assert main(["animate", "--duration", "5", "--out", str(tmp_path / "x.avi")]) == 2
    assert "--out: animation file must end in .gif or .mp4" in capsys.readouterr().err
    from matplotlib import animation

    if not animation.writers.is_available("ffmpeg"):
        assert main(["animate", "--duration", "5", "--out", str(tmp_path / "x.mp4")]) == 2
        assert "MP4 needs ffmpeg" in capsys.readouterr().err
