"""The lesson's core: time runs forward in every chart, the network is drawn from the weights, the captions
quote this run and theory, and numbers near the lucky number keep their digits.

Oracles: the History itself (weights, biases, losses), the closed-form expected loss and the heavy-ball time
constant written out here from the Hessian of E[(x·w + b − t)²] (independent of ``lucky5.theory``), and a
replay of Plotly's frame semantics (a frame's data is merged into the traces it names).
"""

from __future__ import annotations

import copy
import itertools
import json
import math
import re
import zlib

import pytest
import torch

from lucky5 import Config, train
from lucky5.figures import network as net
from lucky5.figures.frames import frame_steps, slider_ticks
from lucky5.figures.lesson import FIGURES, LOSS_TICKS, lesson_figures
from lucky5.figures.style import palette
from lucky5.figures.traces import CURTAIN
from lucky5.narration import ABOUT_RIGHT, narrate, near

SQRT10 = math.sqrt(10)


@pytest.fixture(scope="module")
def post_run():
    return train(Config())


@pytest.fixture(scope="module")
def long_run():
    return train(Config(epochs=20_000))


@pytest.fixture(scope="module")
def diverged_run():
    run = train(Config(epochs=300, lr=0.6))
    assert run.diverged_at is not None
    return run


@pytest.fixture(scope="module")
def x():
    return torch.rand(10, generator=torch.Generator().manual_seed(5), dtype=torch.float64)


def by_hand(history):
    """Per parameter row, in float64: the average answer 0.5·Σw + b, ‖w‖, the expected loss, u = Σw/√10."""
    w, b, t = history.weights.double(), history.biases.double(), history.config.target
    answer = 0.5 * w.sum(-1) + b
    return answer, w.norm(dim=-1), (answer - t) ** 2 + w.square().sum(-1) / 12, w.sum(-1) / SQRT10


def replay(spec: dict, name: str) -> list[dict]:
    """The figure's traces after Plotly applies frame ``name`` to the first frame's state (a jump to it)."""
    data = copy.deepcopy(spec["data"])
    frame = next(f for f in spec["frames"] if f["name"] == name)
    for index, update in zip(frame["traces"], frame["data"], strict=True):
        for key, value in update.items():
            if isinstance(value, dict):
                data[index].setdefault(key, {}).update(value)
            else:
                data[index][key] = value
    return data


def drawn(trace: dict) -> bool:
    """Drawn at all: not the curtain, and a line of some width (a piece of the path not yet walked is 0 wide)."""
    return trace.get("name") != CURTAIN and trace.get("line", {}).get("width", 2) > 0


# --- the timeline ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("steps", [0, 1, 7, 200, 1_234, 2_000, 5_000, 20_000, 100_000])
def test_slider_ticks_are_round_frames_from_zero(steps):
    epochs = frame_steps(steps)
    ticks = slider_ticks(epochs)
    assert ticks[0] == (0, 0)
    assert all(epochs[i] == e for i, e in ticks)  # every tick is a frame, at its index
    gaps = {b - a for (_, a), (_, b) in itertools.pairwise(ticks)}
    assert len(gaps) <= 1  # evenly spaced
    if gaps:
        gap = gaps.pop()
        lead = int(str(gap)[0])
        assert lead in (1, 2, 5) and gap == lead * 10 ** (len(str(gap)) - 1)  # 1, 2, 5, 10, 20, 50, ...
    assert len(ticks) <= (5 if steps < 1000 else 3)


# --- the network, drawn from the weights -------------------------------------------------------------------------


def edges(spec: dict) -> list[dict]:
    found = [t for t in spec["data"] if t.get("name", "").startswith("edge ")]
    assert [t["name"] for t in found] == [f"edge {i + 1}" for i in range(10)]
    return found


def test_edge_widths_and_colours_follow_the_weights():
    p = palette("light")
    g = torch.Generator().manual_seed(11)
    weights = torch.randn(6, 10, generator=g, dtype=torch.float64)
    weights[3, 4] = 0.0
    biases = torch.randn(6, generator=g, dtype=torch.float64)
    reference = torch.zeros(10, dtype=torch.float64)
    reference[2] = 3.0  # a hidden rule's weight, wider than any the run has
    x = torch.rand(10, generator=g, dtype=torch.float64)
    names = [str(i) for i in range(6)]
    spec = net.network_figure(weights, biases, x, 5.0, p, names=names, reference=(reference, 5.0))
    scale = max(float(weights.abs().max()), 3.0)
    for f, name in enumerate(names):
        shown = replay(spec, name)
        for i, edge in enumerate(edges({"data": shown})):
            w = float(weights[f, i])
            drawn = min(12.0, max(1.5, 12.0 * abs(w) / scale)) if w else 0.0  # thin, never gone, unless 0
            assert edge["line"]["width"] == pytest.approx(drawn, abs=0.051)
            assert edge["line"]["color"] == (p.vermilion if w < 0 else p.blue)
        output = next(t for t in shown if t.get("name") == "output")["text"][0]
        assert output == near(float(weights[f] @ x + biases[f]), 5.0)
    assert edges({"data": replay(spec, "3")})[4]["line"]["width"] == 0  # a weight of 0 leaves only the grey guide
    dashed = [t for t in spec["data"] if "at the optimum" in t.get("name", "")]
    assert [t["name"] for t in dashed] == ["w3 at the optimum"]  # the reference, where its weights are not 0
    assert dashed[0]["line"]["width"] == pytest.approx(12.0 * 3.0 / scale)


@pytest.mark.parametrize("tiny", [1e-9, -1e-9, 3e-4, -3e-4])
def test_a_tiny_weight_keeps_its_signs_colour_on_a_thin_edge_only_0_leaves_the_grey_guide(tiny):
    """A tiny positive weight was drawn 0 px wide: only the grey guide showed, and it read as grey."""
    p = palette("light")
    weights = torch.tensor([[2.0, tiny, 0.0, *[0.5] * 7]], dtype=torch.float64)
    spec = net.network_figure(weights, torch.zeros(1, dtype=torch.float64), torch.full((10,), 0.5), 5.0, p, names=["0"])
    wide, small, zero = edges(spec)[:3]
    assert small["line"]["color"] == (p.blue if tiny > 0 else p.vermilion) != p.muted
    assert net.EDGE_MIN_PX <= small["line"]["width"] < wide["line"]["width"] / 4  # thin, but there
    assert zero["line"]["width"] == 0  # a weight of exactly 0: the grey guide alone


def test_unused_inputs_are_drawn_grey_and_labelled_unused_in_every_frame():
    """A data set with three features: x₄…x₁₀ are always 0, so the drawing must not colour their weights."""
    p = palette("dark")
    g = torch.Generator().manual_seed(5)
    weights = torch.randn(3, 10, generator=g, dtype=torch.float64)
    x = torch.cat([torch.rand(3, generator=g, dtype=torch.float64), torch.zeros(7, dtype=torch.float64)])
    spec = net.network_figure(weights, torch.zeros(3), x, 1.0, p, names=["0", "1", "2"], used=3)
    for name in ("0", "1", "2"):
        colours = [e["line"]["color"] for e in edges({"data": replay(spec, name)})]
        assert colours[3:] == [p.muted] * 7
        assert colours[:3] == [p.vermilion if w < 0 else p.blue for w in weights[int(name), :3].tolist()]
    labels = next(t for t in spec["data"] if t.get("name") == "your input")["text"]
    assert [label.endswith("unused") for label in labels] == [False] * 3 + [True] * 7
    assert "grey: unused inputs" in spec["layout"]["title"]["text"]
    full = net.network_figure(weights, torch.zeros(3), x, 1.0, p, names=["0", "1", "2"])
    assert "unused" not in json.dumps(full)


def test_a_weight_that_runs_away_does_not_thin_every_other_frame(diverged_run):
    start = diverged_run.weights[0].abs().max()
    assert diverged_run.weights.abs().max() > 1e6 * start  # it does run away
    scale = net.width_scale(diverged_run.weights)
    assert scale == pytest.approx(100 * max(float(start), 0.1))
    widths = net.edge_widths(diverged_run.weights, scale)
    assert float(widths[0].max()) > 0.05 and float(widths[-1].max()) == net.EDGE_MAX_PX


def test_network_shapes_are_checked(post_run, x):
    p = palette("dark")
    with pytest.raises(ValueError, match="one per frame"):
        net.network_figure(post_run.weights[:3], post_run.biases[:2], x, 5.0, p, names=["0", "1", "2"])
    with pytest.raises(ValueError, match=r"x \(10,\)"):
        net.network_figure(post_run.weights[:2], post_run.biases[:2], x[:9], 5.0, p, names=["0", "1"])


# --- time runs forward -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("run", ["post_run", "long_run", "diverged_run"])
def test_every_frame_shows_nothing_after_its_epoch(run, x, request):
    history = request.getfixturevalue(run)
    built = lesson_figures(history, x, theme="dark")
    answer, _, expected, u = by_hand(history)
    preds = history.weights.double() @ x + history.biases.double()
    assert len(built.epochs) <= 300 and built.epochs == frame_steps(history.steps)
    assert set(built.charts) == set(FIGURES)
    for spec in built.charts.values():
        assert [f["name"] for f in spec["frames"]] == [str(e) for e in built.epochs]
    rows = torch.stack([u, history.biases.double()], -1)
    for s in built.epochs[:: max(1, len(built.epochs) // 40)] + built.epochs[-3:]:
        name = str(s)
        for chart, y_now in (("loss", expected), ("prediction", preds)):
            shown = replay(built.charts[chart], name)
            names = [t.get("name") for t in shown]
            curtain = shown[names.index(CURTAIN)]
            assert curtain["x"][0] == s and curtain["x"][3] == s  # its left edge is now
            right = max(v for t in shown[: names.index(CURTAIN)] for v in t["x"] if v is not None)
            assert min(curtain["x"][1:3]) > right  # past the curves' last point
            low, high = min(curtain["y"]), max(curtain["y"])
            curves = [v for t in shown[: names.index(CURTAIN)] for v in t["y"] if v is not None]
            assert low < min(curves) and high > max(curves)  # the whole height
            now = shown[-1]  # the marker, drawn after (above) the curtain
            assert now["x"] == [s] and now["y"][0] == pytest.approx(float(y_now[s]), rel=1e-4, abs=1e-9)
        shown = replay(built.charts["valley"], name)
        points = [
            (u_, b_)
            for t in shown
            if t.get("name") == "the run's path" and drawn(t)
            for u_, b_ in zip(t["x"], t["y"], strict=True)
            if u_ is not None
        ]
        assert points, f"nothing of the path drawn at epoch {s}"
        pts = torch.tensor(points, dtype=torch.float64)
        layout = built.charts["valley"]["layout"]
        (u0, u1), (b0, b1) = layout["xaxis"]["range"], layout["yaxis"]["range"]
        in_view = (rows[:, 0] >= u0) & (rows[:, 0] <= u1) & (rows[:, 1] >= b0) & (rows[:, 1] <= b1)
        seen = rows[: s + 1][in_view[: s + 1]]
        # Every drawn point is one of the rows in view up to epoch s (to the 6 digits drawn): none comes later.
        tolerance = 1e-5 * (1 + seen.abs().max())
        assert (torch.cdist(pts, seen).min(-1).values <= tolerance).all(), f"a point after epoch {s}"
        assert (pts[0] - rows[0]).abs().max() <= tolerance
        if in_view[s]:
            assert (pts[-1] - rows[s]).abs().max() <= tolerance  # and the path has reached epoch s


def values(data: object) -> int:
    """How many numbers and strings ``data`` holds."""
    if isinstance(data, dict):
        return sum(values(v) for v in data.values())
    if isinstance(data, list):
        return sum(values(v) for v in data)
    return 1


def test_frames_do_not_grow_with_the_epoch(long_run, x):
    built = lesson_figures(long_run, x)
    for name, spec in built.charts.items():
        sizes = [values(f["data"]) for f in spec["frames"]]
        early, late = sum(sizes[1:41]), sum(sizes[-40:])  # several pieces of the valley's path each
        assert late <= 1.2 * early, f"{name}: frames grow from {early} to {late} values"
        assert max(sizes) <= 400, f"{name}: a frame of {max(sizes)} values"


def test_the_lesson_fits_the_budget_compressed(post_run, long_run, x):
    for history in (post_run, long_run):
        built = lesson_figures(history, x)
        payload = json.dumps([built.charts, built.captions], separators=(",", ":")).encode()
        deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
        size = len(deflate.compress(payload) + deflate.flush())
        assert size <= 150_000, f"{history.steps} epochs: {size:,} bytes compressed"


# --- the captions: this run's numbers and theory's -----------------------------------------------------------------


def slow_time_constant_by_hand(lr: float, momentum: float) -> float:
    """Heavy ball on the smallest eigenvalue of the Hessian 2·E[z zᵀ], z = [x, 1], x ~ U(0, 1)^10."""
    m = torch.full((11, 11), 0.25, dtype=torch.float64)
    m.fill_diagonal_(1 / 3)
    m[10, :] = m[:, 10] = 0.5
    m[10, 10] = 1.0
    lam = float(torch.linalg.eigvalsh(2 * m)[0])
    p, q = 1 + momentum - lr * lam, momentum
    r = (p + math.sqrt(p * p - 4 * q)) / 2
    return -1 / math.log(r)


def test_captions_quote_the_run_and_theory(post_run):
    epochs = frame_steps(post_run.steps)
    told = narrate(post_run, epochs)
    answer, norm, expected, _ = by_hand(post_run)
    t = post_run.config.target
    right = next(i for i in range(post_run.steps + 1) if abs(float(answer[i]) - t) <= ABOUT_RIGHT * t)
    assert told.about_right_at == right and right < 100  # the average answer is right within tens of epochs
    first = told.captions[0]
    assert f"{float(answer[0]):.3g}".replace("-", "−") in first and f"{float(expected[0]):.3g}" in first
    tau = slow_time_constant_by_hand(post_run.config.lr, post_run.config.momentum)
    assert told.time_constant == pytest.approx(tau, rel=1e-9)
    later = told.captions[right + 30]
    assert f"since epoch {right:,}" in later and f"≈ {tau:,.0f} epochs" in later
    now = float(answer[right + 30])
    assert f"now {now:.3g} (within {ABOUT_RIGHT * t:.2g} of {t:g} since" in later  # the answer at this epoch
    assert (
        "factor e" not in later and "about a third of what is left" in later
    )  # e^-1 ≈ 0.37 is left, as the glossary says
    assert not any(re.search(r"-\d", caption) for caption in told.captions)  # a real minus sign, never a hyphen
    assert "fast part" in told.captions[right - 1]
    last = told.captions[-1]
    peak = int(norm.argmax())
    assert "shrink" in last and f"epoch {peak:,}" in last and f"{float(norm[-1]):.3g}" in last
    # what the learner saw first is said too: the weights grew (to the by-hand peak) before they shrank
    assert f"first grew to ‖w‖ = {float(norm[peak]):.3g} by epoch {peak:,}" in last
    assert "20,000 epochs" in last  # the punchline, one click away
    assert f"{post_run.steps / tau:.2g} time constants" in last


def test_the_long_run_ends_with_w_zero_and_enough_digits(long_run):
    told = narrate(long_run, [0, long_run.steps])
    b = float(long_run.biases[-1])
    assert abs(b - 5) < 1e-3 and near(b, 5.0) != "5"
    assert told.captions[-1].startswith("There: w ≈ 0") and f"b = {near(b, 5.0)}" in told.captions[-1]


def test_a_diverged_run_is_told_as_it_diverges(diverged_run):
    epochs = frame_steps(diverged_run.steps)
    told = narrate(diverged_run, epochs)
    assert "overshoot" in told.captions[-1] and f"epoch {diverged_run.diverged_at:,}" in told.captions[-1]
    assert told.time_constant is None
    for caption in told.captions:
        assert "inf" not in caption.split() and "nan" not in caption.lower().split()


def test_adam_gets_no_time_constant():
    run = train(Config(optimizer="adam", lr=0.05, epochs=300))
    told = narrate(run, frame_steps(run.steps))
    assert told.time_constant is None and not any("Theory" in c for c in told.captions)


def test_narrate_refuses_epochs_outside_the_run(post_run):
    with pytest.raises(ValueError, match="outside"):
        narrate(post_run, [0, post_run.steps + 1])


@pytest.mark.parametrize(
    ("value", "reference", "shown"),
    [(4.99989, 5.0, "4.9999"), (1.68974, 5.0, "1.69"), (5.00003, 5.0, "5.00003"), (-0.000123, 0.0, "−0.000123")],
)
def test_near_keeps_the_digits_that_tell_a_value_from_the_reference(value, reference, shown):
    assert near(value, reference) == shown


def test_near_never_shows_a_different_value_as_the_reference():
    g = torch.Generator().manual_seed(2)
    scales = 10.0 ** -torch.randint(1, 7, (500,), generator=g)
    for v in (5 + torch.randn(500, generator=g, dtype=torch.float64) * scales).tolist():
        shown = float(near(v, 5.0).replace("−", "-"))
        assert shown != 5.0 or abs(v - 5) < 5e-7


def test_no_frame_can_change_a_charts_axis_layout(post_run, x):
    # Plotly's automargin draws twice (axes, then the margins they need); a frame shown between the two passes left
    # the x axis inside the plot. So the margins are fixed, and no frame carries a layout.
    charts = lesson_figures(post_run, x).charts
    for name in ("loss", "prediction", "valley"):
        layout = charts[name]["layout"]
        assert layout["xaxis"]["automargin"] is False and layout["yaxis"]["automargin"] is False, name
        assert min(layout["margin"][side] for side in "lb") >= 30, (name, layout["margin"])
        assert all("layout" not in frame for frame in charts[name]["frames"]), name
        assert layout["yaxis"]["range"] and layout["xaxis"]["range"], name


def test_the_weights_labels_have_a_halo_wide_enough_for_a_thick_edge(post_run, x):
    labels = next(t for t in lesson_figures(post_run, x).charts["network"]["data"] if t.get("name") == "weights")
    offsets = {tuple(part.split()[:2]) for part in labels["textfont"]["shadow"].split(", ")}
    assert {("2px", "0px"), ("-2px", "0px"), ("0px", "2px"), ("0px", "-2px"), ("2px", "2px")} <= offsets


# The colour words a reader is given, written out here from the hex codes (Okabe–Ito's vermilion in both themes).
COLOUR_WORDS = {"#D55E00": "orange-red"}


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("config", [Config(), Config(rule="4 + 2*x1*x2", noise=0.5, epochs=30)], ids=["post", "rule"])
def test_every_chart_names_the_dot_it_moves_in_its_own_lines_without_a_third(config, theme, x):
    """A reader asked what the orange dot on the loss and the prediction was: only the valley said. Each chart's
    lines under its title name the colour of the one dot its frames move, and what it is; the loss and the
    prediction keep two lines at most (a third squeezes the plot of a 1280×720 screen)."""
    charts = lesson_figures(train(config), x, theme=theme).charts
    said = {"loss": "now", "prediction": "now", "valley": "the run now"}
    for name, what in said.items():
        spec = charts[name]
        moved = {i for frame in spec["frames"] for i in frame["traces"]}
        (dot,) = [spec["data"][i] for i in moved if spec["data"][i].get("mode") == "markers"]
        words = COLOUR_WORDS[dot["marker"]["color"].upper()]
        title = spec["layout"]["title"]["text"]
        assert re.search(rf"{words} dot: [^<·]*\b{what}\b", title), (name, title)
        if name != "valley":
            assert title.count("<br>") <= 2, (name, title)
            assert spec["layout"]["height"] == 260, name  # the chart's height is the page's, whatever its lines


@pytest.mark.parametrize("config", [Config(lr=0.1), Config(target=42), Config(lr=5.0), Config(rule="4 + 2*x1*x2")])
def test_the_loss_charts_log_axis_labels_few_enough_decades_for_a_short_plot(config, x):
    """At 1280×720 the loss plot is about 80 px tall: a loss spanning many decades got seven labels, which stacked
    into one another. At most ``LOSS_TICKS``, evenly spaced powers of ten, and at least two."""
    spec = lesson_figures(train(config), x).charts["loss"]
    ticks = spec["layout"]["yaxis"]["tickvals"]
    assert 2 <= len(ticks) <= LOSS_TICKS, ticks
    steps = {round(math.log10(b) - math.log10(a), 9) for a, b in itertools.pairwise(ticks)}
    assert len(steps) == 1, ticks  # one stride of decades
