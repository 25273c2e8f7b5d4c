"""The figures show the run's own numbers, in colours both themes can show, at a size a hall can read.

Oracles: the History itself, ``theory.expected_loss`` (closed form), and WCAG 2.2's contrast formula
written out here from its definition.
"""

import colorsys
import itertools
import json
import math

import plotly.graph_objects as go
import plotly.io
import pytest
import torch

from lucky5 import Config, figures, theory, train, train_many
from lucky5.figures.lesson import lesson_figures
from lucky5.figures.style import _log_ticks
from lucky5.figures.traces import CURTAIN

SQRT10 = math.sqrt(10)


@pytest.fixture(scope="module")
def post_run():
    return train(Config())


@pytest.fixture(scope="module")
def diverged_run():
    run = train(Config(epochs=300, lr=0.6))
    assert run.diverged_at is not None
    return run


@pytest.fixture(scope="module")
def x():
    return torch.rand(10, generator=torch.Generator().manual_seed(1), dtype=torch.float64)


def traces_named(spec: dict, start: str) -> list[int]:
    return [i for i, t in enumerate(spec["data"]) if t.get("name", "").startswith(start)]


def frame_data(frame: dict, spec: dict, start: str) -> list[dict]:
    """The frame's entries for the moving traces whose name starts with ``start``, in trace order."""
    wanted = set(traces_named(spec, start))
    return [d for i, d in zip(frame["traces"], frame["data"], strict=True) if i in wanted]


def axis_of(spec: dict, trace: dict, letter: str) -> dict:
    name = trace.get(f"{letter}axis", letter)
    return spec["layout"][name.replace(letter, f"{letter}axis", 1)]


# --- frames ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("steps", [0, 1, 2, 199, 299, 300, 301, 1_234, 5_000, 20_000, 100_000])
def test_frame_steps_cover_the_run_within_300_frames_at_a_round_stride(steps):
    at = figures.frame_steps(steps)
    assert at[0] == 0 and at[-1] == steps
    assert at == sorted(set(at))
    assert len(at) <= figures.MAX_FRAMES
    round_numbers = [m * 10**k for k in range(7) for m in (1, 2, 5)]  # 1, 2, 5, 10, 20, 50, ...
    stride = max((b - a for a, b in itertools.pairwise(at)), default=1)
    assert stride in round_numbers
    assert all(s % stride == 0 for s in at[:-1])  # every frame but the last is a multiple of the stride
    if stride > 1:  # the next smaller round stride would need more than 300 frames
        smaller = round_numbers[round_numbers.index(stride) - 1]
        assert steps // smaller + 1 > figures.MAX_FRAMES
    if steps + 1 <= figures.MAX_FRAMES:
        assert at == list(range(steps + 1))  # short runs: every epoch is a frame


def test_animation_frames_carry_the_recorded_parameters_and_markers():
    history = train(Config(epochs=120, seed=2))
    x = torch.linspace(0, 1, 10, dtype=torch.float64)
    spec = figures.animation(history, x)
    go.Figure(spec)  # a valid Plotly figure
    json.loads(plotly.io.to_json(spec))  # and serialisable: no NaN, no tensors
    expected = theory.expected_losses(history)
    manual = history.weights.double() @ x + history.biases.double()  # the layer's prediction, by hand
    u = history.weights.double().sum(-1) / SQRT10
    assert len(spec["frames"]) == history.steps + 1
    for frame in spec["frames"]:
        s = int(frame["name"])
        # Frames carry only what moves: x and y, and the words a hover reads where a number is near the target.
        assert all(set(d) <= {"type", "x", "y", "text"} for d in frame["data"])
        loss_now, terms_now, valley_now, pred_now = frame_data(frame, spec, "now")
        weights, bias = frame_data(frame, spec, "weights")[0], frame_data(frame, spec, "bias")[0]
        assert loss_now["x"] == [s] and loss_now["y"][0] == pytest.approx(float(expected[s]), rel=1e-4)
        assert terms_now["x"] == [s] * 3 and sum(terms_now["y"]) == pytest.approx(float(expected[s]), rel=1e-4)
        assert weights["y"][1::3] == pytest.approx(history.weights[s].tolist(), rel=1e-4, abs=1e-9)
        assert weights["y"][0::3] == [0.0] * 10 and weights["y"][2::3] == [None] * 10
        assert bias["y"][1] == pytest.approx(float(history.biases[s]), rel=1e-4)
        assert pred_now["y"][0] == pytest.approx(float(manual[s]), rel=1e-4)
        assert valley_now["x"][0] == pytest.approx(float(u[s]), rel=1e-4, abs=1e-9)
        assert valley_now["y"][0] == pytest.approx(float(history.biases[s]), rel=1e-4)
    # The moving traces sit in their panels: the valley's marker on the valley's axes.
    valley_marker = spec["data"][traces_named(spec, "now")[2]]
    path = spec["data"][traces_named(spec, "the run's path")[0]]
    assert (valley_marker["xaxis"], valley_marker["yaxis"]) == (path["xaxis"], path["yaxis"])


def said(text: str) -> float:
    """The number a hover's words end with ("prediction 4.9999995", "b = −0.12"), as a float."""
    return float(text.rsplit(" ", 1)[-1].replace("−", "-"))


def test_at_20000_epochs_no_hover_reads_the_lucky_number_where_the_value_differs(x):
    """The dots and the bias bar read their value on hover. The drawn y keeps five digits (a prediction of
    4.9999995 is drawn at 5.0), so the words come from the run itself: each hover, read back, must be the
    recorded value (the History, the layer's prediction by hand), and read as 5 only where it is 5."""
    history = train(Config(epochs=20_000))
    target = history.config.target
    manual = history.weights.double() @ x + history.biases.double()
    biases = history.biases.double()
    checked = 0

    def check(text: str, true: float) -> None:
        nonlocal checked
        value = said(text)
        assert value == pytest.approx(true, rel=5e-3), (text, true)  # three digits at least
        assert (value == target) == (true == target), (text, true)
        checked += 1

    lesson = lesson_figures(history, x)
    for name, series in (("prediction", manual), ("valley", biases)):
        spec = lesson.charts[name]
        for frame in spec["frames"]:
            check(frame["data"][-1]["text"][0], float(series[int(frame["name"])]))
    spec = figures.animation(history, x)
    for frame in spec["frames"]:
        s = int(frame["name"])
        check(frame_data(frame, spec, "now")[3]["text"][0], float(manual[s]))  # the prediction's dot
        check(frame_data(frame, spec, "now")[2]["text"][0], float(biases[s]))  # the valley's dot (u, b)
        check(frame_data(frame, spec, "bias")[0]["text"][1], float(biases[s]))
    assert checked > 1_000
    last = float(manual[-1])
    assert float(f"{last:.5g}") == target != last  # the case that matters: five digits would have read 5


def test_frames_table_is_the_animation_as_numbers(post_run):
    table = figures.frames_table(post_run)
    assert [r["epoch"] for r in table] == figures.frame_steps(post_run.steps)
    expected = theory.expected_losses(post_run)
    for r in table:
        s = r["epoch"]
        assert r["loss"] == (float(post_run.losses[s - 1]) if s else None)
        assert r["bias"] == float(post_run.biases[s])
        assert [r[f"w{i + 1}"] for i in range(10)] == post_run.weights[s].tolist()
        assert r["expected loss"] == pytest.approx(float(expected[s]), rel=1e-12)
        parts = r["fast error"] + r["valley"] + r["disagreement"]
        assert parts == pytest.approx(r["expected loss"], rel=1e-12)
        assert r["u = Σw/√10"] == pytest.approx(sum(post_run.weights[s].double().tolist()) / SQRT10, rel=1e-12)
    long = train(Config(epochs=1000))
    assert [r["epoch"] for r in figures.frames_table(long)] == list(range(0, 1001, 5))


def test_default_animation_json_stays_small(post_run, x):
    # Budget: every frame and static trace of the blog post's run, the valley included.
    size = len(plotly.io.to_json(figures.animation(post_run, x)))
    assert size < 200_000, size


# --- the valley -------------------------------------------------------------------------------


def plane_loss(u: float, b: float, target: float) -> float:
    w = torch.full((10,), u / SQRT10, dtype=torch.float64)
    return float(theory.expected_loss(w, b, target))


@pytest.mark.parametrize("config", [Config(), Config(target=-3.0, seed=4, epochs=500), Config(epochs=300, lr=0.6)])
def test_valley_contours_are_levels_of_the_expected_loss(config, x):
    history = train(config)
    spec = figures.animation(history, x)
    rings = traces_named(spec, "expected loss 1")
    assert len(rings) >= 4
    levels = []
    for i in rings:
        ring = spec["data"][i]
        level = ring["meta"]
        levels.append(level)
        for u, b in zip(ring["x"], ring["y"], strict=True):
            assert plane_loss(u, b, config.target) == pytest.approx(level, rel=1e-4)
    ratios = [b / a for a, b in itertools_pairwise(sorted(levels))]
    assert ratios == pytest.approx([10.0] * len(ratios))  # log-spaced: a power of ten apart
    # The line where the average prediction is right: 0.5·Σw + b = t on every point.
    line = spec["data"][traces_named(spec, "average prediction right")[0]]
    for u, b in zip(line["x"], line["y"], strict=True):
        assert 0.5 * SQRT10 * u + b == pytest.approx(config.target, abs=1e-9)
    star = spec["data"][traces_named(spec, "optimum (0")[0]]
    assert (star["x"], star["y"]) == ([0.0], [config.target])


def itertools_pairwise(values):
    return list(zip(values, values[1:], strict=False))


def test_valley_has_equal_axis_scales(post_run, x):
    spec = figures.animation(post_run, x)
    path = spec["data"][traces_named(spec, "the run's path")[0]]
    xaxis = axis_of(spec, path, "x")
    assert xaxis["scaleanchor"] == path["yaxis"] and xaxis["scaleratio"] == 1


def test_valley_path_is_the_runs_own_positions(post_run, x):
    spec = figures.animation(post_run, x)
    path = spec["data"][traces_named(spec, "the run's path")[0]]
    u = (post_run.weights.double().sum(-1) / SQRT10).tolist()
    b = post_run.biases.tolist()
    assert None not in path["x"]  # a converging run is drawn whole
    assert len(path["x"]) == post_run.steps + 1  # 200 epochs: every row
    assert path["x"] == pytest.approx(u, rel=1e-5, abs=1e-9)
    assert path["y"] == pytest.approx(b, rel=1e-5, abs=1e-9)


def test_long_paths_keep_the_fast_phase_and_stay_in_order(x):
    history = train(Config(epochs=5_000))
    spec = figures.animation(history, x)
    path = spec["data"][traces_named(spec, "the run's path")[0]]
    coords = torch.stack([history.weights.double().sum(-1) / SQRT10, history.biases.double()], -1)
    rows = []
    for pu, pb in zip(path["x"], path["y"], strict=True):
        d = (coords - torch.tensor([pu, pb], dtype=torch.float64)).norm(dim=-1)
        rows.append(int(d.argmin()))
        assert float(d.min()) < 1e-4
    assert rows[0] == 0 and rows[-1] == history.steps and rows == sorted(rows)
    assert rows[:200] == list(range(200))  # the zigzag of the first epochs is drawn step by step
    assert len(path["x"]) <= figures.MAX_CURVE_POINTS


def test_divergent_path_is_clipped_to_the_view_and_marked(diverged_run, x):
    spec = figures.animation(diverged_run, x)
    path = spec["data"][traces_named(spec, "the run's path")[0]]
    xaxis, yaxis = axis_of(spec, path, "x"), axis_of(spec, path, "y")
    (u0, u1), (b0, b1) = xaxis["range"], yaxis["range"]
    points = [(u, b) for u, b in zip(path["x"], path["y"], strict=True) if u is not None]
    assert points and all(u0 - 1e-6 <= u <= u1 + 1e-6 and b0 - 1e-6 <= b <= b1 + 1e-6 for u, b in points)
    assert max(abs(v) for p in points for v in p) < 1e3  # nothing near the run's 1e18
    cross = spec["data"][traces_named(spec, "diverged at epoch")[0]]
    assert cross["name"] == f"diverged at epoch {diverged_run.diverged_at}"
    assert (cross["x"][0], cross["y"][0]) == pytest.approx(points[-1], abs=1e-5)
    # The ✕ (16 px) lies whole inside the plot, not on its edge: a tenth of the view's width and height in from it.
    assert u0 + 0.1 * (u1 - u0) < cross["x"][0] < u1 - 0.1 * (u1 - u0), (cross["x"], xaxis["range"])
    assert b0 + 0.1 * (b1 - b0) < cross["y"][0] < b1 - 0.1 * (b1 - b0), (cross["y"], yaxis["range"])
    valley_frames = [frame_data(f, spec, "now")[2] for f in spec["frames"]]
    assert valley_frames[-1] == {"type": "scatter", "x": [None], "y": [None]}  # gone from view
    assert "diverged at epoch" in json.dumps([a["text"] for a in spec["layout"]["annotations"]])
    assert "NaN" not in plotly.io.to_json(spec) and "Infinity" not in plotly.io.to_json(spec)


def test_loss_terms_add_up_to_the_expected_curve(post_run, x):
    spec = figures.animation(post_run, x)
    expected = spec["data"][traces_named(spec, "expected loss (theory)")[0]]
    parts = [
        spec["data"][i]
        for i in traces_named(spec, "fast error") + traces_named(spec, "valley (") + traces_named(spec, "disagreement")
    ]
    assert len(parts) == 3
    assert all(p["x"] == expected["x"] for p in parts)
    total = [sum(ys) for ys in zip(*(p["y"] for p in parts), strict=True)]
    assert total == pytest.approx(expected["y"], rel=2e-4)
    (drawn_sum,) = [spec["data"][i] for i in traces_named(spec, "sum of the parts")]  # the blue line in that panel
    assert drawn_sum["x"] == expected["x"] and drawn_sum["y"] == pytest.approx(total, rel=2e-4)
    # Both visible where one part is nearly all of the sum (the valley late in a long run): the sum is drawn first
    # (under the parts) and wider than them, so the part shows on top and the sum's edges beside it.
    assert spec["data"].index(drawn_sum) < min(spec["data"].index(p) for p in parts)
    assert drawn_sum["line"]["width"] >= 2 * max(p["line"]["width"] for p in parts)
    # and each part is its own formula of the run's parameters (not just any split)
    w, b = post_run.weights.double(), post_run.biases.double()
    fast = (0.5 * w.sum(-1) + b - post_run.config.target).square()
    assert parts[0]["y"] == pytest.approx(fast[parts[0]["x"]].tolist(), rel=1e-4)


# --- the other charts -------------------------------------------------------------------------


def test_contributions_add_up_to_the_prediction():
    history = train(Config(epochs=80))
    x = torch.rand(10, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    fig = figures.contributions(history, x)
    y = fig.data[0].y
    assert y[0] == pytest.approx(float(history.biases[-1]))
    assert sum(y[1:11]) == pytest.approx(float(history.weights[-1].double() @ x))
    assert float(figures.predictions_for(history, x)[-1]) == pytest.approx(sum(y[:11]))


def test_race_names_the_runs_marks_the_stability_limit_and_the_runs_that_blew_up():
    lrs = [0.3, 0.01, 0.6, 0.2]  # not in order: the legend orders them by rate around the limit
    runs = train_many(Config(epochs=300), lrs=lrs)
    fig = figures.race(runs, [f"lr {v:g}" for v in lrs])
    limit = theory.stability(Config()).limit
    assert limit is not None and 0.2 < limit < 0.3  # the gauge's number, between the two neighbouring rates
    *lines, mark = fig.data
    assert mark.name == f"stability limit (theory): lr ≈ {limit:.3g}" and mark.x == (None,)
    for lr, h, line in zip(lrs, runs, lines, strict=True):
        assert line.name.startswith(f"lr {lr:g} · {'below' if lr < limit else 'above'} the limit")
        # Theory's claim, checked on real training: above the limit the loss grows, below it shrinks.
        loss = h.losses.double()
        grew = h.diverged_at is not None or float(loss[-30:].mean()) > float(loss[:30].mean())
        assert grew == (lr > limit) == ("blew up" in line.name), line.name
        assert (line.marker.symbol == "x") == (lr > limit)
    assert f"blew up at epoch {runs[2].diverged_at:,}" in lines[2].name and runs[2].diverged_at is not None
    assert "blew up: loss rose" in lines[0].name and runs[0].diverged_at is None  # finite, yet blown up
    ranked = sorted([*lines, mark], key=lambda t: t.legendrank)
    assert [t.name.split(" ·")[0] for t in ranked] == ["lr 0.01", "lr 0.2", mark.name, "lr 0.3", "lr 0.6"]
    assert "2 of 4 runs blew up" in fig.layout.title.text
    # The blown-up runs leave through the top (1,000× the starting loss) instead of squeezing the others.
    ceiling = 1e3 * max(float(theory.expected_losses(h)[0]) for h in runs)
    for line in lines:
        assert max(y for y in line.y if y is not None) <= ceiling * (1 + 1e-4)
    assert lines[0].x[-1] < 300 and lines[0].y[-1] == pytest.approx(ceiling, rel=1e-4)
    # The diverged run's ✕ sits at the epoch it overflowed (its name's epoch), on the top edge; its line stops
    # earlier, where it left the chart, and nothing joins the two.
    diverged, x = runs[2].diverged_at, lines[2].x
    assert x[-1] == diverged and lines[2].y[-1] == pytest.approx(ceiling) and lines[2].marker.size[-1] > 0
    assert x[-2] is None and x[-3] < diverged and not any(lines[2].marker.size[:-1])


def test_a_race_without_a_stability_limit_says_why():
    runs = train_many(Config(epochs=50, optimizer="adam"), lrs=[0.01, 0.1])
    fig = figures.race(runs, ["a", "b"])
    assert [t.name for t in fig.data] == ["a", "b"]
    assert "no stability limit" in fig.layout.title.text and "no run blew up" in fig.layout.title.text


def test_seed_spread_has_a_line_per_seed_and_where_each_ended():
    runs = train_many(Config(epochs=50), seeds=range(5))
    fig = figures.seed_spread(runs)
    star = next(t for t in fig.data if t.name == "optimum")
    assert star.x == (0,) and star.y == (5.0,) and star.cliponaxis is False
    assert fig.layout.xaxis2.rangemode == "tozero" and fig.layout.yaxis2.showline  # it sits on the b axis
    ends = next(t for t in fig.data if t.name == "end of each run")
    assert list(ends.y) == pytest.approx([float(h.biases[-1]) for h in runs])
    assert list(ends.x) == pytest.approx([float(h.weights[-1].norm()) for h in runs])
    assert sum(1 for t in fig.data if t.mode == "lines") == 5


# --- contrast (WCAG 2.2: 1.4.11 non-text contrast >= 3:1) ----------------------------------------

BACKGROUNDS = {"light": "#ffffff", "dark": "#171614"}  # Streamlit's chart backgrounds, measured


def rgb(colour: str) -> tuple[float, float, float]:
    assert colour.startswith("#") and len(colour) == 7, f"not a #rrggbb colour: {colour!r}"
    return tuple(int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_three_parts_and_their_sum_are_four_different_hues(post_run, x, theme):
    """Blue (#0072B2) and sky (#56B4E9) share a hue: two 'blue lines' a reader could not tell apart."""
    spec = figures.animation(post_run, x, theme=theme)
    names = ("fast error", "valley (", "disagreement", "sum of the parts")
    colours = [spec["data"][traces_named(spec, n)[0]]["line"]["color"] for n in names]
    hues = [colorsys.rgb_to_hls(*rgb(c))[0] * 360 for c in colours]
    for i in range(4):
        for j in range(i):
            apart = min(abs(hues[i] - hues[j]), 360 - abs(hues[i] - hues[j]))
            assert apart >= 30, f"{names[i]} {colours[i]} and {names[j]} {colours[j]}: hues {apart:.0f}° apart"


def relative_luminance(c: tuple[float, float, float]) -> float:
    # WCAG 2.2 definition of relative luminance (sRGB).
    lin = [v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4 for v in c]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(colour: str, background: str, opacity: float = 1.0) -> float:
    fg, bg = rgb(colour), rgb(background)
    seen = tuple(opacity * f + (1 - opacity) * b for f, b in zip(fg, bg, strict=True))  # drawn over the plot
    hi, lo = sorted([relative_luminance(seen), relative_luminance(bg)], reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_contrast_formula_matches_published_values():
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#E69F00", "#ffffff") == pytest.approx(2.25, abs=0.01)  # Okabe–Ito orange, too light
    assert contrast("#999999", "#ffffff") == pytest.approx(2.85, abs=0.01)
    assert contrast("#000000", "#171614") == pytest.approx(1.16, abs=0.01)


def drawn_colours(trace: dict) -> list[tuple[str, str]]:
    """(what, colour) for every line, mark, bar outline and fill the trace draws. A colour left to
    Plotly's defaults is a KeyError here: defaults are not chosen for both themes."""
    kind = trace.get("type", "scatter")
    out: list[tuple[str, str]] = []
    if kind == "scatter":
        mode = trace.get("mode", "lines+markers")
        if "lines" in mode:
            out.append(("line", trace["line"]["color"]))
        if "markers" in mode:
            marker = trace["marker"]
            colours = marker["color"] if isinstance(marker["color"], list) else [marker["color"]]
            out += [("marker", c) for c in colours]
            out.append(("marker.line", marker["line"]["color"]))
        if trace.get("fill", "none") != "none":
            out.append(("fill", trace["fillcolor"]))
    elif kind == "waterfall":
        for part in ("increasing", "decreasing", "totals"):
            out.append((f"{part}.marker", trace[part]["marker"]["color"]))
            out.append((f"{part}.marker.line", trace[part]["marker"]["line"]["color"]))
        out.append(("connector", trace["connector"]["line"]["color"]))
    else:
        pytest.fail(f"no contrast rule for a {kind} trace")
    return out


def every_figure(theme: str, projector: bool = False) -> dict[str, dict]:
    history = train(Config())
    diverged = train(Config(epochs=300, lr=0.6))
    x = torch.rand(10, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    lrs = [0.001, 0.003, 0.01, 0.03, 0.05, 0.1, 0.2, 0.6]  # eight runs, the last diverges
    kw = dict(theme=theme, projector=projector)
    return {
        "animation": figures.animation(history, x, **kw),
        "animation, diverged": figures.animation(diverged, x, **kw),
        "animation, two columns": figures.animation(history, x, columns=2, **kw),
        "contributions": figures.contributions(history, x, **kw).to_dict(),
        "seed spread": figures.seed_spread(train_many(Config(epochs=60), seeds=range(6)), **kw).to_dict(),
        "race of 8": figures.race(train_many(Config(epochs=60), lrs=lrs), [f"lr {v}" for v in lrs], **kw).to_dict(),
    } | ({} if projector else lessons(history, diverged, x, theme))


def lessons(history, diverged, x, theme: str) -> dict[str, dict]:
    """The lesson's four figures (a laptop's and a phone's, never a projector's), of a run and a diverged one."""
    return {
        **{f"lesson {k}": v for k, v in lesson_figures(history, x, theme=theme).charts.items()},
        **{f"lesson {k}, diverged": v for k, v in lesson_figures(diverged, x, theme=theme).charts.items()},
    }


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_line_mark_and_bar_has_3_to_1_contrast(theme):
    background = BACKGROUNDS[theme]
    assert figures.palette(theme).background.lower() == background
    checked = 0
    for name, spec in every_figure(theme).items():
        for trace in spec["data"]:
            if trace.get("name") == CURTAIN:  # the lesson's curtain paints the background itself: nothing is drawn
                assert trace["fillcolor"] == figures.palette(theme).background
                continue
            opacity = trace.get("opacity", 1.0)
            for what, colour in drawn_colours(trace):
                ratio = contrast(colour, background, opacity)
                assert ratio >= 3.0, f"{theme} {name}: {trace.get('name')} {what} {colour} is {ratio:.2f}:1"
                checked += 1
    assert checked > 60


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_race_lines_differ_in_colour_dash_and_marker(theme):
    series = figures.palette(theme).series
    assert len(set(series)) == 8
    runs = train_many(Config(epochs=30), lrs=[0.01 * (i + 1) for i in range(8)])
    fig = figures.race(runs, [str(i) for i in range(8)], theme=theme)
    lines = [t for t in fig.data if t.x != (None,)]
    assert len(lines) == 8
    for what in (lambda t: t.line.color, lambda t: t.line.dash, lambda t: t.marker.symbol):
        assert len({what(t) for t in lines}) == 8  # any two runs, 0.2 and 0.3 too, differ three ways
    for t in lines:  # one marker, at the end of the line
        assert list(t.marker.size[:-1]) == [0] * (len(t.x) - 1) and t.marker.size[-1] > 0


def test_unknown_theme_is_refused_with_the_choices(post_run, x):
    with pytest.raises(ValueError, match="dark.*light|light.*dark"):
        figures.animation(post_run, x, theme="blue")
    with pytest.raises(ValueError, match="theme"):
        figures.race([post_run], ["a"], theme=None)


# --- log axes and projector scale -------------------------------------------------------------


def all_axes(spec: dict) -> list[dict]:
    return [v for k, v in spec["layout"].items() if k.startswith(("xaxis", "yaxis"))]


def from_label(label: str) -> float:
    digits = str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")
    mantissa, _, power = label.rpartition("·") if "·" in label else ("1", "", label)
    if power.startswith("10") and len(power) > 2:
        return float(mantissa) * 10.0 ** int(power[2:].translate(digits))
    return float(mantissa) * float(power)


def is_epoch_axis(axis: dict, steps: set[int]) -> bool:
    """An x axis over epochs: titled so, or ranging from 0 over a run's steps (the animation's panels)."""
    title = axis.get("title", {}).get("text")
    return title == "epoch" or (axis.get("range") or [None])[0] == 0 and axis["range"][1] in steps


@pytest.mark.parametrize("theme", ["light"])
def test_epoch_axes_read_as_thousands_and_every_other_axis_as_powers_of_ten(theme):
    epoch_axes = 0
    steps = {train(Config()).steps, train(Config(epochs=300, lr=0.6)).steps}  # every_figure's two runs
    for name, spec in every_figure(theme).items():
        for axis in all_axes(spec):
            if is_epoch_axis(axis, steps):  # '5,000', never '0.5×10⁴'
                assert (axis.get("exponentformat"), axis.get("separatethousands")) == ("none", True), name
                epoch_axes += 1
            else:
                assert axis.get("exponentformat") == "power", name
    assert epoch_axes >= 9  # three animations' over-time panels, the spread and the race


@pytest.mark.parametrize("theme", ["light"])
def test_log_axes_show_powers_of_ten(theme):
    log_axes = 0
    for name, spec in every_figure(theme).items():
        for axis in all_axes(spec):
            if axis.get("type") == "log":
                log_axes += 1
                assert axis["ticktext"], name
                for value, label in zip(axis["tickvals"], axis["ticktext"], strict=True):
                    assert from_label(label) == pytest.approx(value), (name, label)
                    assert not any(si in label for si in "µmkMGn"), (name, label)
                lo, hi = axis["range"]
                assert all(lo <= math.log10(v) <= hi for v in axis["tickvals"])
    assert log_axes >= 8


@pytest.mark.parametrize(("lo", "hi"), [(-6.2, 1.3), (-0.4, 0.6), (-1.2, 40.0), (2.1, 2.9)])
def test_log_ticks_are_readable_at_any_span(lo, hi):
    values, labels = _log_ticks(lo, hi)
    assert 2 <= len(values) <= 7 or hi - lo < 1
    assert [from_label(s) for s in labels] == pytest.approx(values)


def font_sizes(node, path=""):
    """Every (path, size) of a font anywhere in a figure spec."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ("font", "tickfont", "textfont", "title_font") and isinstance(v, dict) and "size" in v:
                yield f"{path}.{k}", v["size"]
            yield from font_sizes(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from font_sizes(v, f"{path}[{i}]")


def texts(node):
    if isinstance(node, dict):
        for v in node.values():
            yield from texts(v)
    elif isinstance(node, list):
        for v in node:
            yield from texts(v)
    elif isinstance(node, str):
        yield node


def test_projector_mode_has_no_text_under_18_px():
    smallest = math.inf
    for name, spec in every_figure("dark", projector=True).items():
        layout = spec["layout"]
        # The fonts that fall back to small defaults when unset must be set.
        assert layout["font"]["size"] >= 18 and layout["hoverlabel"]["font"]["size"] >= 18, name
        assert all(a["font"]["size"] >= 18 for a in layout.get("annotations", [])), name
        for menu in layout.get("updatemenus", []):
            assert menu["font"]["size"] >= 18, name
        for slider in layout.get("sliders", []):
            assert slider["font"]["size"] >= 18 and slider["currentvalue"]["font"]["size"] >= 18, name
        for axis in all_axes(spec):
            assert axis["tickfont"]["size"] >= 18, name
        sizes = list(font_sizes(spec))
        assert sizes
        for where, size in sizes:
            assert size >= figures.PROJECTOR_FONT, (name, where, size)
        smallest = min(smallest, *(s for _, s in sizes))
        # Small print shrinks text to 70 %: none of it on a projector.
        assert not any(tag in t for t in texts(spec) for tag in ("<sup", "<sub", "<small")), name
    assert smallest == figures.PROJECTOR_FONT
    # ... while the laptop version does use small print, so the check above is not vacuous.
    normal = every_figure("dark")["animation"]
    assert any("<sup>" in t for t in texts(normal))


def test_projector_layout_uses_two_columns_and_the_given_height(post_run, x):
    spec = figures.animation(post_run, x, projector=True, height=900)
    assert spec["layout"]["height"] == 900
    domains = {tuple(axis["domain"]) for k, axis in spec["layout"].items() if k.startswith("xaxis")}
    assert len(domains) == 2  # a left and a right column
    small = figures.animation(post_run, x, projector=True, height=600, panels=("loss", "valley", "parameters"))
    assert small["layout"]["height"] == 600 and len(small["frames"]) == post_run.steps + 1
    names = {t["name"] for t in small["data"]}
    assert "expected loss (theory)" in names and "weights" in names and "prediction for your input" not in names


def test_a_projector_title_part_longer_than_its_column_wraps_between_words(post_run, x):
    """Each projector title line fits its column's share of about 90 characters (the scene with the QR code cut
    the bars' "... b = lucky number" at the panel's edge): only the text's own words, in order, on each line."""
    spec = figures.animation(post_run, x, projector=True, height=520, panels=("prediction", "parameters"))
    titles = [a["text"] for a in spec["layout"]["annotations"] if "<b>" in a["text"]]
    right = next(t for t in titles if "Weights" in t)
    width = round(90 * 0.45)  # the right column's share of the whole chart's 90 characters
    lines = right.split("<br>")[1:]
    assert len(lines) >= 2 and all(len(line) <= width for line in lines), lines
    assert " ".join(lines).split() == "grey marks: the optimum: w = 0, b = lucky number".split()


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(panels=("loss", "loss")),
        dict(panels=("loss", "bars")),
        dict(panels=()),
        dict(columns=3),
        dict(height=300),
        dict(projector=True, height=600),  # five panels do not fit a 720 px screen
    ],
)
def test_bad_layout_requests_are_refused_with_a_reason(post_run, x, kwargs):
    with pytest.raises(ValueError, match="panels|columns|height"):
        figures.animation(post_run, x, **kwargs)


def test_with_weight_decay_the_marks_show_where_the_run_settles(x):
    """SGD's weight decay moves the stationary point off (0, t): the bars' marks and the valley say where."""
    config = Config(weight_decay=0.1, epochs=300)
    history = train(config)
    spec = figures.animation(history, x)
    best = theory.optimum_for(config)
    (marks,) = [spec["data"][i] for i in traces_named(spec, "where weight decay pulls the run: every w")]
    assert marks["y"] == pytest.approx([*best.weight.tolist(), best.bias])
    assert best.bias < config.target and float(best.weight[0]) > 0  # the oracle's own point: a real move
    (diamond,) = [spec["data"][i] for i in traces_named(spec, "where weight decay pulls the run (u")]
    assert diamond["x"] == pytest.approx([float(best.weight.sum()) / 10**0.5])
    assert diamond["y"] == pytest.approx([best.bias])
    plain = figures.animation(train(Config(epochs=300)), x)  # without weight decay: the optimum (0, t) only
    assert traces_named(plain, "optimum: w = 0") and not traces_named(plain, "where weight decay")


def test_a_rules_valley_centres_on_its_fit_and_the_prediction_shows_the_rules_value():
    """The rings are centred on (Σa/√10, c), the green line passes through it, and the prediction's dashed line
    is the rule at the input (written out by hand), the dotted one one neuron's best (w₁ = w₂ = 1, b = 3.5)."""
    x = torch.tensor([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0], dtype=torch.float64)
    charts = lesson_figures(train(Config(rule="4 + 2*x1*x2", epochs=30)), x).charts
    valley = charts["valley"]
    centre = (2 / math.sqrt(10), 3.5)
    star = next(t for t in valley["data"] if t.get("name") == "optimum")
    assert star["x"][0] == pytest.approx(centre[0]) and star["y"][0] == pytest.approx(centre[1])
    line = next(t for t in valley["data"] if str(t.get("name", "")).startswith("average answer right"))
    (u0, u1), (b0, b1) = line["x"], line["y"]
    assert b0 + (b1 - b0) * (centre[0] - u0) / (u1 - u0) == pytest.approx(centre[1])
    ring = next(t for t in valley["data"] if str(t.get("name", "")).startswith("expected loss"))
    us, bs = [v for v in ring["x"] if v is not None], [v for v in ring["y"] if v is not None]
    assert (max(us) + min(us)) / 2 == pytest.approx(centre[0], abs=1e-3)
    assert (max(bs) + min(bs)) / 2 == pytest.approx(centre[1], abs=1e-3)
    levels = sorted(s["y0"] for s in charts["prediction"]["layout"]["shapes"])
    assert levels == pytest.approx(sorted([4 + 2 * 0.1 * 0.2, 3.5 + 0.1 + 0.2]))


def test_a_rules_bars_mark_its_own_optimum_and_the_loss_draws_the_floor():
    """The bars' grey marks stand at the rule's weights (3 on w₁, −2 on w₇, b = 5: the rule itself), inside the
    axis, and are named so; the prediction's dashed line is the rule at the input (by hand); the floor σ² + 1/36
    (on paper, for 4 + 2·x₁·x₂ with σ = 0.5) is a dotted line on the loss in the lesson and in the animation."""
    x = torch.tensor([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0], dtype=torch.float64)
    spec = figures.animation(train(Config(rule="5 + 3*x1 - 2*x7", epochs=30)), x)
    (marks,) = [spec["data"][i] for i in traces_named(spec, "optimum: w₁ = 3, w₇ = −2, b = 5, the rule itself")]
    want = [3.0, 0, 0, 0, 0, 0, -2.0, 0, 0, 0, 5.0]
    assert marks["y"] == pytest.approx(want)
    low, high = spec["layout"][marks["yaxis"].replace("y", "yaxis")]["range"]
    assert low < -2 and high > 5  # every mark in view, w₇'s too
    titles = " ".join(a["text"] for a in spec["layout"]["annotations"])
    assert "w = 0, b = lucky number" not in titles and "lucky number" not in titles
    assert f"dashed: the rule at your input, {5 + 3 * 0.1 - 2 * 0.7:.4g}" in titles
    assert not traces_named(spec, "floor")  # a linear rule without noise: no floor
    floor = 1 / 36 + 0.25
    noisy = train(Config(rule="4 + 2*x1*x2", noise=0.5, epochs=30))
    spec = figures.animation(noisy, x)
    (line,) = [spec["data"][i] for i in traces_named(spec, "one neuron's floor")]
    assert line["y"] == pytest.approx([floor, floor]) and line["line"]["dash"] == "dot"
    loss = lesson_figures(noisy, x).charts["loss"]
    (shape,) = [s for s in loss["layout"].get("shapes", []) if s["line"]["dash"] == "dot"]
    assert shape["y0"] == shape["y1"] == pytest.approx(floor)
    assert shape["label"]["text"] == "floor 0.278"
    assert "dotted: one neuron's floor" in loss["layout"]["title"]["text"]
    titles = " ".join(a["text"] for a in spec["layout"]["annotations"])
    assert "dotted: one neuron's floor, 0.278" in titles
    assert not [s for s in lesson_figures(train(Config(epochs=30)), x).charts["loss"]["layout"].get("shapes", [])]
