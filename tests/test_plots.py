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
    assert [ax.get_title() for ax in fig.axes] == ["uturn", "left", "through"]
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
    # ordinary at 300 veh/h is beyond the 100 s axis: marked, its value printed
    assert labels(ax) == [
        "linked, 2 slots",
        "linked, 4 slots",
        "ordinary",
        "beyond 100 s (value printed)",
    ]
    assert [t.get_text() for t in ax.texts[:6]] == list("ABCDEF")
    over = agg[(agg.movement == "uturn") & (agg.delay_mean_s > 100)]
    # ordinary is drawn once (it does not depend on the slot count)
    want = {f"{y:.0f}" for y in over.delay_mean_s}
    assert sorted(t.get_text() for t in ax.texts[6:]) == sorted(want)


def test_animation_writes_gif(default_pair, tmp_path):
    res = default_pair[1]
    idx, place = lane_positions(res, res.window[0] + 100)
    assert list(place) == list(range(len(idx)))
    calls = []
    path = animate(
        res,
        tmp_path / "a.gif",
        duration_s=20,
        fps=2,
        speedup=5,
        progress=lambda done, n: calls.append((done, n)),
    )
    with Image.open(path) as im:
        assert im.n_frames >= 2 and im.size[0] > 300
    n = len(np.arange(0.0, 20, 5 / 2))  # frames: duration / (speedup / fps)
    assert calls == [(i, n) for i in range(1, n + 1)]


def test_cli_writes_plots(tmp_path):
    out = tmp_path / "figs"
    assert main(["compare", "--replications", "2", "--plots", str(out)]) == 0
    names = sorted(p.name for p in out.glob("*.png"))
    assert names == [
        "approach_queues.png",
        "approach_time_space.png",
        "cumulative_uturn.png",
        "delay_distributions.png",
        "queue_compare.png",
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


def _agg(delays: dict[tuple[str, int], list[float]], unserved: dict | None = None) -> pd.DataFrame:
    """A hand-made aggregate: demands 100, 300, 500 veh/h per (scheme, slots)."""
    rows = []
    for (scheme, slots), ys in delays.items():
        for x, y in zip((100, 300, 500), ys, strict=True):
            rows.append(
                {
                    "cell": 0,
                    "geometry.slots": slots,
                    "demand.uturn.flow_veh_h": x,
                    "scheme": scheme,
                    "movement": "uturn",
                    "n": 3,
                    "delay_mean_s": y,
                    "delay_mean_s_ci_low": y - 2,
                    "delay_mean_s_ci_high": y + 2,
                    "unserved": (unserved or {}).get((scheme, slots, x), 0),
                }
            )
    return pd.DataFrame(rows)


def test_scheme_colours_distinct_and_colour_blind_safe():
    from uturn_sim.model.schemes import scheme_names
    from uturn_sim.plots.colors import OKABE_ITO, scheme_color

    names = scheme_names()
    cols = [scheme_color(n) for n in names]
    assert len(set(cols)) == len(cols)
    assert set(cols) <= set(OKABE_ITO)


def test_delay_vs_demand_colours_clip_and_unserved():
    agg = _agg(
        {
            ("ordinary", 2): [40, 90, 1500],
            ("ordinary", 4): [40, 90, 1500],
            ("linked", 2): [20, 50, 400],
            ("linked", 4): [15, 30, 60],
            ("linked_sanya", 4): [25, 45, 70],
        },
        unserved={("ordinary", 2, 500): 120, ("linked", 2, 500): 30},
    )
    fig = plots.delay_vs_demand(agg)
    ax = fig.axes[0]
    names = labels(ax)
    assert names[:4] == ["linked, 2 slots", "linked, 4 slots", "linked_sanya, 4 slots", "ordinary"]
    assert names[4:] == ["vehicles left unserved", "beyond 100 s (value printed)"]
    colour = {c.get_label(): c.lines[0].get_color() for c in ax.containers}
    assert colour["ordinary"] == "#D55E00" and colour["linked, 4 slots"] != colour["ordinary"]
    assert len(set(colour.values())) == 4
    # the bands stay readable: the axis stops at 100 s, values beyond are printed
    assert ax.get_ylim() == (0, 100)
    assert [t.get_text() for t in ax.texts[:6]] == list("ABCDEF")
    assert sorted(t.get_text() for t in ax.texts[6:]) == ["1500", "400"]
    assert "control delay" in ax.get_ylabel() and "mean of 3 replications" in ax.get_title()
    unserved = [ln for ln in ax.lines if ln.get_markerfacecolor() == "none" and len(ln.get_xdata())]
    assert sorted(x for ln in unserved for x in ln.get_xdata()) == [500, 500]
    q = plots.delay_vs_demand(
        agg.assign(queue_delay_mean_s=agg.delay_mean_s), y="queue_delay_mean_s"
    )
    assert q.axes[0].get_ylabel() == "mean queue delay, uturn (s/veh)"


def test_queue_plots_share_their_y_scale(default_pair, tmp_path):
    fig = plots.queue_comparison(default_pair)
    queue_axes = [ax for ax in fig.axes if ax.get_ylabel() == "queue length (m)"]
    assert len(queue_axes) == 2
    assert queue_axes[0].get_shared_y_axes().joined(*queue_axes)
    assert queue_axes[0].get_ylim() == queue_axes[1].get_ylim()
    peak = max(r.queue["queue_m"].max() for r in default_pair)
    assert queue_axes[0].get_ylim()[1] >= peak
    # the single figures written by write_compare_plots use that same scale
    singles = [plots.queue_over_time(r, ylim=123.0) for r in default_pair]
    assert [f.axes[0].get_ylim() for f in singles] == [(0, 123.0), (0, 123.0)]
    assert "replication 0" in fig.texts[0].get_text() if fig.texts else fig._suptitle.get_text()


def test_slot_chart_shows_left_turners_in_slots(default):
    import uturn_sim as us

    res = us.simulate(default, "linked", trace=True)
    iv = plots.slot_intervals(res)
    assert set(iv["movement"]) == {"uturn", "left"}
    assert (iv["end_s"] >= iv["start_s"]).all()
    # a U-turner resting in slot 2 while a left-turner rests in slot 1
    left1 = iv[(iv.movement == "left") & (iv.position == 0)]
    u2 = iv[(iv.movement == "uturn") & (iv.position == 1)]
    both = [
        (a.start_s, b.start_s)
        for a in left1.itertuples()
        for b in u2.itertuples()
        if b.start_s < a.end_s and a.start_s < b.end_s
    ]
    assert both, "no U-turner in slot 2 behind a left-turner in slot 1"
    t = max(both[0])
    fig = plots.slot_occupancy(res, t_range=(t - 60, t + 60))
    ax = fig.axes[0]
    bars = [p for p in ax.patches if p.get_height() == pytest.approx(0.6)]
    hatched = [p for p in bars if p.get_hatch()]
    # a hatched (left-turner) bar in slot 1 (y centre 1) covering t
    assert any(
        p.get_y() + 0.3 == pytest.approx(1) and p.get_x() <= t / 60 <= p.get_x() + p.get_width()
        for p in hatched
    )
    assert {"U-turner", "left-turner"} <= {t.get_text() for t in fig.legends[0].get_texts()}
    assert "replication 0" in ax.get_title()
    with pytest.raises(ValueError, match="trace=True"):
        plots.slot_intervals(us.simulate(default, "linked"))


def test_cli_writes_svg_and_pdf(tmp_path):
    out = tmp_path / "r"
    argv = ["run", "--scheme", "linked", "--plots", str(out), "--plot-format", "png,svg,pdf"]
    assert main(argv) == 0
    for stem in ("queue_linked", "cumulative_linked", "slots_linked"):
        assert (out / f"{stem}.png").read_bytes()[:4] == b"\x89PNG"
        assert b"<svg" in (out / f"{stem}.svg").read_bytes()[:1000]
        assert (out / f"{stem}.pdf").read_bytes()[:5] == b"%PDF-"


def test_cli_bad_plot_format_exit_2(tmp_path, capsys):
    argv = ["run", "--plots", str(tmp_path), "--plot-format", "png,gif"]
    assert main(argv) == 2
    assert "--plot-format: plot format 'gif' is not one of png, svg, pdf" in capsys.readouterr().err


def test_sweep_plots_and_provenance(tmp_path):
    import json

    spec = tmp_path / "s.yaml"
    spec.write_text(
        "base: default\nparameters:\n  geometry.slots: [2, 4]\n"
        "  demand.uturn.flow_veh_h: [100, 600]\nschemes: [ordinary, linked]\n"
        "replications: 1\nseed: 3\n"
    )
    out, figs = tmp_path / "o" / "s.csv", tmp_path / "figs"
    argv = ["sweep", str(spec), "--backend", "serial", "--engine", "simpy", "--out", str(out)]
    argv += ["--plots", str(figs)]
    assert main([*argv, "--plot-format", "png,pdf"]) == 0
    assert sorted(p.name for p in figs.iterdir()) == [
        "delay_vs_demand.pdf",
        "delay_vs_demand.png",
        "delay_vs_demand_all.pdf",
        "delay_vs_demand_all.png",
    ]
    prov = json.loads((tmp_path / "o" / "s.csv.provenance.json").read_text())
    assert prov["command"].startswith("uturn-sim sweep") and prov["root_seed"] == 3
    assert prov["replications"] == 1 and prov["tables"] == ["s.csv", "s.aggregate.csv"]
    assert prov["sweep"]["parameters"]["geometry.slots"] == [2, 4]
    # at 600 veh/h vehicles are left unserved: the chart marks them
    rows = pd.read_csv(out)
    assert rows.loc[rows["demand.uturn.flow_veh_h"] == 600, "unserved"].max() > 0


def test_animate_cli_progress_bar_on_stderr(tmp_path, capsys, monkeypatch):
    import tqdm.auto

    real = tqdm.auto.tqdm
    monkeypatch.setattr(tqdm.auto, "tqdm", lambda *a, **k: real(*a, **{**k, "disable": False}))
    argv = ["animate", "--duration", "10", "--fps", "1", "--out", str(tmp_path / "x.gif")]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert out == "" and "frames" in err and "2/2" in err
