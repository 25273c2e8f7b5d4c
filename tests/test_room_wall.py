"""The room wall's charts (``lucky5.figures``) and the page's choice of them (``page.room.wall``): the epoch axis
reads plainly, and a stage where every run blew up says so."""

from __future__ import annotations

import functools
import math

from lucky5 import train
from lucky5.figures import LOG_EPOCHS, curves_figure, epoch_axis
from lucky5.room import STAGES, Summary, Wall, blew_up, summarize


@functools.cache
def _runs(stage: str, *settings: tuple[int, float | None]) -> tuple[Summary, ...]:
    return tuple(summarize(train(STAGES[stage].config(seed, lr))) for seed, lr in settings)


def test_a_long_stages_epoch_axis_is_ticked_at_powers_of_ten_and_the_last_epoch_written_out() -> None:
    stage = STAGES["patience"]
    epochs = stage.base.epochs
    assert epochs == 20_000
    runs = _runs("patience", (1, None))
    spec = curves_figure(runs, stage, "light")
    x = spec["layout"]["xaxis"]
    assert x["type"] == "log"
    assert list(x["tickvals"]) == [1, 10, 100, 1_000, 10_000, 20_000]
    assert list(x["ticktext"]) == ["1", "10", "100", "1,000", "10,000", "20,000"]
    assert x["exponentformat"] == "none"  # the wall's layout no longer turns it into "10⁴"
    assert x["range"] == [0, math.log10(epochs)]
    steps = runs[0].curve_steps
    assert steps[0] == 1 and steps[-1] == epochs  # the curve spans the axis from end to end
    assert spec["layout"]["yaxis"]["exponentformat"] == "power"  # the loss keeps its powers of ten


def test_the_log_axis_leaves_out_a_power_of_ten_crowding_the_last_epoch() -> None:
    assert epoch_axis(12_000)["tickvals"] == [1, 10, 100, 1_000, 12_000]  # 10,000 would overlap 12,000
    assert epoch_axis(10_000)["ticktext"] == ["1", "10", "100", "1,000", "10,000"]  # once, not twice
    assert epoch_axis(LOG_EPOCHS + 1)["tickvals"] == [1, 10, 100, 1_000, LOG_EPOCHS + 1]
    linear = epoch_axis(LOG_EPOCHS)
    assert linear["type"] == "linear" and linear["range"] == [0, LOG_EPOCHS] and "tickvals" not in linear


def test_when_every_run_blew_up_the_wall_says_no_run_settled_and_leaves_out_the_empty_spread() -> None:
    from page.room import wall as room_wall  # here: importing the page's modules sets up torch for the process

    stage = STAGES["lr"]
    runs = _runs("lr", (1, 0.4), (2, 0.3))
    assert all(blew_up(r) for r in runs)
    assert max(r.curve_steps[-1] for r in runs) < stage.base.epochs  # the curves stop early ...
    spec = curves_figure(runs, stage, "light")
    x = spec["layout"]["xaxis"]
    assert x["type"] == "linear" and x["range"] == [0, stage.base.epochs]  # ... the axis does not
    assert x["exponentformat"] == "none" and x["separatethousands"]  # "2,000", as on the other pages
    title = spec["layout"]["title"]["text"]
    assert "no run settled" in title and "median" not in title and "0 runs" not in title
    assert [t["name"] for t in spec["data"]] == ["runs"]  # no median line drawn from nothing

    figures = room_wall.wall_figures(Wall(stage="lr", participants=2, runs=runs), "light")
    assert [key for key, _, _ in figures] == ["wall_lrs", "wall_curves"]
    assert all("median" not in alt for _, _, alt in figures)


def test_one_settled_run_brings_back_the_median_and_the_spread() -> None:
    from page.room import wall as room_wall  # here: importing the page's modules sets up torch for the process

    runs = _runs("lr", (1, 0.4), (2, 0.3), (3, 0.01))
    assert [blew_up(r) for r in runs] == [True, True, False]
    spec = curves_figure(runs, STAGES["lr"], "light")
    assert "the median of the 1 run that settled" in spec["layout"]["title"]["text"]
    assert [t["name"] for t in spec["data"]] == ["runs", "median"]
    figures = room_wall.wall_figures(Wall(stage="lr", participants=3, runs=runs), "light")
    assert [key for key, _, _ in figures] == ["wall_lrs", "wall_curves", "wall_spread"]
    spread = figures[2][1].to_dict()
    bars = spread["data"][0]  # counted here: one bar of one run, around the settled run's b
    [(x, count)] = [(x, y) for x, y in zip(bars["x"], bars["y"], strict=True) if y]
    assert count == 1 and abs(x - runs[2].b) <= bars["width"] / 2


def _patience_like(seed: int, b: float, w_norm: float) -> Summary:
    """A run of the patience stage as it ends (made up: 20,000 real epochs per run would slow the suite)."""
    return Summary(seed, "sgd", 0.01, 20_000, 1e-9, b, w_norm, None, (1, 20_000), (25.0, 1e-9))


def test_when_every_run_reached_five_the_histogram_says_so_with_five_inside_its_axis() -> None:
    from lucky5.figures import spread_figure

    runs = [_patience_like(s, 5 - 1e-5 * (s + 1), 1e-4 * (s + 1)) for s in range(8)]
    fig = spread_figure(runs, STAGES["patience"], "light")
    b_axis, w_axis = fig.layout.xaxis.range, fig.layout.xaxis2.range
    assert b_axis[0] < 5 < b_axis[1] and b_axis[1] - b_axis[0] >= 1  # not zoomed in to 10⁻⁵ beside 5
    assert w_axis[0] <= 0 < max(r.w_norm for r in runs) < w_axis[1] and w_axis[1] - w_axis[0] >= 1
    titles = [a.text for a in fig.layout.annotations]
    assert titles[0] == "final bias b (optimum 5)<br>every run within 8×10⁻⁵ of it"
    assert titles[1] == "size of the weights ‖w‖ (optimum 0)<br>every run within 8×10⁻⁴ of it"
    bars = fig.data[0]
    assert sum(bars.y) == 8 and max(bars.y) == 8  # one bar, at the optimum
    assert abs(bars.x[list(bars.y).index(8)] - 5) <= bars.width


def test_a_spread_out_stage_is_described_by_its_range() -> None:
    from lucky5.figures import spread_figure

    runs = _runs("post", (1, None), (2, None), (3, None))
    fig = spread_figure(runs, STAGES["post"], "dark")
    lo, hi = min(r.b for r in runs), max(r.b for r in runs)
    assert fig.layout.annotations[0].text == f"final bias b (optimum 5)<br>from {lo:.3g} to {hi:.3g}"
    assert fig.layout.xaxis.range[0] < lo and 5 < fig.layout.xaxis.range[1]


def test_a_hall_of_runs_draws_a_bounded_wall() -> None:
    import json

    from lucky5.figures import spread_figure
    from lucky5.figures.wall import MAX_CURVES, SPREAD_BINS

    steps = tuple(range(4, 201, 4))[-60:]
    runs = [Summary(s, "sgd", 0.01, 200, 0.5, 1 + s / 1e4, 2.0, None, steps, (1.0,) * len(steps)) for s in range(1000)]
    spec = curves_figure(runs, STAGES["post"], "light")
    drawn_points = sum(1 for x in spec["data"][0]["x"] if x is not None)
    assert drawn_points == MAX_CURVES * len(steps)
    assert "200 of the 1,000 runs drawn" in spec["layout"]["title"]["text"]
    assert len(json.dumps(spec)) < 250_000
    fig = spread_figure(runs, STAGES["post"], "light")
    assert [len(t.x) for t in fig.data] == [SPREAD_BINS, SPREAD_BINS] and sum(fig.data[0].y) == 1000
