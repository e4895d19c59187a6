"""Figures of the whole approach (issue 13): queues of every lane and lane-1 blocking."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

import uturn_sim as us
from uturn_sim import plots
from uturn_sim.plots.animation import lane_positions
from uturn_sim.plots.approach import BLOCKING_LABELS
from uturn_sim.plots.colors import BLOCKING_COLORS, lane_color
from uturn_sim.plots.common import save_figures
from uturn_sim.plots.figures import write_compare_plots

PNG = b"\x89PNG"


@pytest.fixture(scope="module")
def bay_only_pair(default):
    scn = us.update_scenario(default, {"approach.through_lanes": 0})
    table = us.build_arrivals(scn)
    return tuple(us.simulate(scn, s, arrivals=table) for s in ("ordinary", "linked"))


def _spans(ax, state):
    """(start, end) in s of the shaded spans of lane 1's ``state`` on ``ax``."""
    out = []
    for p in ax.patches:
        if p.get_gid() == f"lane_one_state_{state}":
            x = p.get_x() * 60
            out.append((x, x + p.get_width() * 60))
    return sorted(out)


def _expected(res, t0, t1, state):
    """Intervals of ``Result.lane_one`` in ``state`` clipped to [t0, t1], computed here."""
    t, s = res.lane_one
    ends = [*t[1:], res.scenario.simulation.end_s]
    out = []
    for a, b, st in zip(t, ends, s, strict=True):
        a, b = max(a, t0), min(b, t1)
        if st == state and b > a:
            out.append((a, b))
    return out


def test_default_pair_has_through_rows(default_pair):
    v = default_pair[0].vehicles
    assert set(v["movement"]) == {"uturn", "left", "through"}
    assert set(v["lane"]) == {0, 1, 2}


def test_approach_figures_written_for_the_default(default_pair, tmp_path):
    figs = plots.approach_figures(default_pair)
    assert list(figs) == ["approach_queues", "approach_time_space"]
    paths = save_figures(figs, tmp_path)
    for p in paths:
        data = p.read_bytes()
        assert data[:4] == PNG and len(data) > 10_000
    written = {p.name for p in write_compare_plots(default_pair, tmp_path / "c")}
    assert {"approach_queues.png", "approach_time_space.png"} <= written


def test_bay_alone_skips_the_approach_figures_but_they_still_draw_the_bay(bay_only_pair, tmp_path):
    assert bay_only_pair[0].lane_one is None
    assert plots.approach_figures(bay_only_pair) == {}
    written = {p.name for p in write_compare_plots(bay_only_pair, tmp_path / "c")}
    assert not any(n.startswith("approach_") for n in written)
    # called directly, the figures show the bay only, with nothing shaded
    window = bay_only_pair[0].window
    figs = {
        "q": plots.approach_queues(bay_only_pair, t_range=(window[0], window[0] + 900)),
        "ts": plots.approach_time_space(bay_only_pair),
    }
    for fig in figs.values():
        panels = fig.axes[:2]
        for ax in panels:
            assert "bay alone" in ax.get_title(loc="left")
            data_lines = [ln for ln in ax.lines if len(ln.get_xdata()) > 2]
            assert [ln.get_color() for ln in data_lines] == [lane_color(0)]
            assert not [p for p in ax.patches if (p.get_gid() or "").startswith("lane_one")]
    for p in save_figures(figs, tmp_path):
        assert p.read_bytes()[:4] == PNG and p.stat().st_size > 10_000


def test_queue_panels_plot_each_lane_of_lane_queues(default_pair):
    t0, t1 = plots.peak_window(default_pair)
    fig = plots.approach_queues(default_pair)
    assert fig.axes[0].get_xlim() == pytest.approx((t0 / 60, t1 / 60))
    for ax, res in zip(fig.axes[:2], default_pair, strict=True):
        q = res.lane_queues()
        steps = [ln for ln in ax.lines if len(ln.get_xdata()) > 2]
        assert len(steps) == 1 + res.scenario.approach.through_lanes
        for ln, col in zip(steps, ["bay_m", "lane_1_m", "lane_2_m"], strict=True):
            np.testing.assert_array_equal(ln.get_ydata(), q[col].to_numpy())
        flat = sorted(ln.get_ydata()[0] for ln in ax.lines if len(ln.get_xdata()) == 2)
        assert flat == [60.0, 60.0]  # storage and opening (taper 0 m)
        assert ax.get_ylabel() == "queue from the stop line (m)"
        top = q.loc[(q.t_s >= t0) & (q.t_s < t1), ["bay_m", "lane_1_m", "lane_2_m"]].max().max()
        assert ax.get_ylim()[1] >= top
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "bay" in legend and "through lane 2" in legend
    assert any(t.startswith("bay opening 60 m") for t in legend)
    band = fig.axes[2]
    assert [t.get_text() for t in band.get_yticklabels()] == [
        "through green",
        "left + U-turn green",
    ]
    # the band's bars are the through and left effective greens
    through = band.collections[0].get_paths()
    g = default_pair[0].arrivals.through_green
    inside = g.starts[(g.ends > t0) & (g.starts < t1)]
    assert len(through) == len(inside)


def test_time_space_shades_exactly_lane_ones_blocking_intervals(default_pair):
    window = plots.peak_window(default_pair)
    fig = plots.approach_time_space(default_pair, t_range=window)
    for ax, res in zip(fig.axes[:2], default_pair, strict=True):
        for state in (1, 2):
            got = _spans(ax, state)
            want = _expected(res, *window, state)
            assert len(got) == len(want)
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)
            colours = {
                matplotlib.colors.to_hex(p.get_facecolor())
                for p in ax.patches
                if p.get_gid() == f"lane_one_state_{state}"
            }
            assert colours <= {BLOCKING_COLORS[state].lower()}
    # the linked run of the default blocks both ways in the peak window
    assert _spans(fig.axes[1], 1) and _spans(fig.axes[1], 2)
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend.count(BLOCKING_LABELS[1]) == 1 and legend.count(BLOCKING_LABELS[2]) == 1
    assert fig.axes[0].get_ylabel().startswith("distance upstream")


def test_lane_one_intervals_add_up_to_the_blocking_shares(default_pair):
    for res in default_pair:
        t0, t1 = res.window
        iv = plots.lane_one_intervals(res, (t0, t1))
        assert (iv["end_s"] > iv["start_s"]).all() and set(iv["state"]) <= {1, 2}
        share = (iv["end_s"] - iv["start_s"]).groupby(iv["state"]).sum() / (t1 - t0)
        row = res.summary().set_index("movement").loc["all"]
        assert share.get(1, 0.0) == pytest.approx(row["entrance_blocked_share"], abs=1e-9)
        assert share.get(2, 0.0) == pytest.approx(row["lane_blocked_share"], abs=1e-9)


def test_peak_window_has_the_largest_approach_queue(default_pair):
    t0, t1 = plots.peak_window(default_pair)
    w0, w1 = default_pair[0].window
    assert t1 - t0 == 900 and w0 <= t0 and t1 <= w1

    def queued(a):  # approach queue integrated over [a, a + 900), m·s, on a 0.5 s grid
        total = 0.0
        for res in default_pair:
            q = res.lane_queues()
            grid = np.arange(a, a + 900, 0.5) + 0.25
            i = np.searchsorted(q["t_s"].to_numpy(), grid, side="right") - 1
            cols = [c for c in q.columns if c.endswith("_m")]
            total += q[cols].sum(axis=1).to_numpy()[i].sum() * 0.5
        return total

    best = queued(t0)
    assert all(best >= queued(a) - 1e-6 * best for a in np.arange(w0, w1 - 900 + 1, 300))


def test_lane_animation_draws_only_the_bay_vehicles(default_pair):
    res = default_pair[0]
    v = res.vehicles
    t = res.window[0] + 600
    idx, place = lane_positions(res, t)
    assert len(idx) and (v["lane"].to_numpy()[idx] == 0).all()
    bay = v[(v["lane"] == 0) & (v["arrival_s"] <= t) & (v["departure_s"].fillna(np.inf) > t)]
    assert len(idx) == len(bay) == len(place)
