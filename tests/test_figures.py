"""The figures show the run's own numbers: frames, bars, markers, the waterfall, the race."""

import json

import plotly.graph_objects as go
import plotly.io
import pytest
import torch

from lucky5 import Config, figures, theory, train, train_many


@pytest.mark.parametrize("steps", [1, 2, 199, 299, 300, 301, 5_000, 100_000])
def test_frame_steps_cover_the_run_within_300_frames(steps):
    at = figures.frame_steps(steps)
    assert at[0] == 0 and at[-1] == steps
    assert at == sorted(set(at))
    assert len(at) == min(steps + 1, figures.MAX_FRAMES)


def test_animation_frames_carry_the_recorded_parameters_and_markers():
    history = train(Config(epochs=120, seed=2))
    x = torch.linspace(0, 1, 10, dtype=torch.float64)
    spec = figures.animation(history, x)
    go.Figure(spec)  # a valid Plotly figure
    json.loads(plotly.io.to_json(spec))  # and serialisable: no NaN, no tensors
    expected = theory.expected_losses(history)
    manual = history.weights.double() @ x + history.biases.double()  # the layer's prediction, by hand
    for frame in spec["frames"]:
        s = int(frame["name"])
        loss_now, weights, bias, pred_now = frame["data"]
        assert loss_now["x"] == [s] and loss_now["y"][0] == pytest.approx(float(expected[s]), rel=1e-4)
        assert weights["y"][1::3] == pytest.approx(history.weights[s].tolist(), rel=1e-4, abs=1e-9)
        assert weights["y"][0::3] == [0.0] * 10 and weights["y"][2::3] == [None] * 10
        assert bias["y"][1] == pytest.approx(float(history.biases[s]), rel=1e-4)
        assert pred_now["y"][0] == pytest.approx(float(manual[s]), rel=1e-4)
    assert [spec["data"][i]["name"] for i in spec["frames"][0]["traces"]] == ["now", "weights", "bias", "now"]


def test_contributions_add_up_to_the_prediction():
    history = train(Config(epochs=80))
    x = torch.rand(10, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    fig = figures.contributions(history, x)
    y = fig.data[0].y
    assert y[0] == pytest.approx(history.final_bias)
    assert sum(y[1:11]) == pytest.approx(float(history.weights[-1].double() @ x))
    assert float(figures.predictions_for(history, x)[-1]) == pytest.approx(sum(y[:11]))


def test_race_names_the_runs_and_marks_divergence():
    runs = train_many(Config(epochs=300), lrs=[0.01, 0.6])
    fig = figures.race(runs, ["lr 0.01", "lr 0.6"])
    names = [t.name for t in fig.data]
    assert names[0] == "lr 0.01"
    assert names[1].startswith("lr 0.6 (diverged at epoch ") and runs[1].diverged_at is not None


def test_seed_spread_has_a_line_per_seed_and_where_each_ended():
    runs = train_many(Config(epochs=50), seeds=range(5))
    fig = figures.seed_spread(runs)
    ends = next(t for t in fig.data if t.name == "end of each run")
    assert list(ends.y) == pytest.approx([h.final_bias for h in runs])
    assert list(ends.x) == pytest.approx([float(h.weights[-1].norm()) for h in runs])
    assert sum(1 for t in fig.data if t.mode == "lines") == 5
