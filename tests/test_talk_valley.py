"""The valley on a projector (the talk's scenes 4 and 5, live, embedded and offline): time runs forward, so the
run's path appears as the animation plays, never whole before Play; a run that diverges is marked where it left
the view, on its edge in the direction it went, with words.

Oracles: the History's own parameters (u = Σw/√10 and b, computed here), and the view's box as the figure sends it.
"""

import math

import pytest
import torch

from lucky5 import Config, figures, train
from lucky5.scenes import SCENE

SQRT10 = math.sqrt(10)


@pytest.fixture(scope="module")
def x():
    return torch.rand(10, generator=torch.Generator().manual_seed(1), dtype=torch.float64)


def projector(history, x, panels=("loss", "valley")) -> dict:
    return figures.animation(history, x, projector=True, height=520, panels=panels, columns=2)


def path_traces(spec: dict) -> list[int]:
    return [i for i, t in enumerate(spec["data"]) if t.get("name", "").startswith("the run's path")]


def drawn_at(spec: dict, frame: dict | None) -> list[tuple[float, float]]:
    """The path's points a viewer sees: the figure's state, with ``frame``'s updates on top (None: before Play)."""
    traces = {i: dict(spec["data"][i]) for i in path_traces(spec)}
    if frame is not None:
        for i, update in zip(frame["traces"], frame["data"], strict=True):
            if i in traces:
                traces[i] = {**traces[i], **{k: v for k, v in update.items() if k != "line"}}
                if "line" in update:
                    traces[i]["line"] = {**traces[i].get("line", {}), **update["line"]}
    points = []
    for t in traces.values():
        if t.get("line", {}).get("width", 2) > 0:
            points += [(u, b) for u, b in zip(t["x"], t["y"], strict=True) if u is not None]
    return points


def coords_of(history) -> torch.Tensor:
    """(steps + 1, 2): the run's (u = Σw/√10, b) at every epoch row."""
    return torch.stack([history.weights.double().sum(-1) / SQRT10, history.biases.double()], -1)


# A point on the path, as drawn: the projector writes 4 significant digits (``panels.PROJECTOR_DIGITS``), within
# 5e-4 of the run for values below 10, far finer than a pixel of the view box.
ON_PATH = 1e-3


def gap(points: list[tuple[float, float]], coords: torch.Tensor) -> torch.Tensor:
    """For each point, its distance to the nearest of ``coords``."""
    return torch.cdist(torch.tensor(points, dtype=torch.float64), coords.double()).min(-1).values


def test_on_a_projector_the_valleys_path_appears_as_the_run_walks_it(x):
    history = train(SCENE[4].config)  # 20,000 epochs: the path is drawn in pieces
    spec = projector(history, x, SCENE[4].panels)
    frames = spec["frames"]
    coords = coords_of(history)
    before = drawn_at(spec, None)
    assert float(gap(before, coords[:1]).max()) < ON_PATH, "the path is drawn before Play"
    for k in (1, 2, len(frames) // 3, len(frames) // 2, len(frames) - 1):
        epoch = int(frames[k]["name"])
        drawn = drawn_at(spec, frames[k])
        assert float(gap(drawn, coords[: epoch + 1]).max()) < ON_PATH, k  # nothing after the frame's epoch
        assert float(gap(coords[[0, epoch]].tolist(), torch.tensor(drawn)).max()) < ON_PATH, k  # from the start to it
    later = coords[int(frames[2]["name"]) + 1 :: 50]  # what the run does after frame 2, which must not show yet
    assert float(gap(later.tolist(), torch.tensor(drawn_at(spec, frames[2]))).min()) > 1e-3


def test_off_a_projector_the_valleys_path_is_drawn_whole(x):
    history = train(Config())
    spec = figures.animation(history, x)
    (path,) = path_traces(spec)
    assert len(spec["data"][path]["x"]) == history.steps + 1


@pytest.mark.parametrize("forward", [True, False])
def test_a_diverging_runs_cross_sits_where_it_left_the_view_with_words(forward, x):
    history = train(SCENE[5].config)
    assert history.diverged_at is not None
    spec = projector(history, x) if forward else figures.animation(history, x)
    (i,) = [i for i, t in enumerate(spec["data"]) if t.get("name", "").startswith("diverged at epoch")]
    cross = spec["data"][i]
    xaxis = spec["layout"][cross.get("xaxis", "x").replace("x", "xaxis", 1)]
    yaxis = spec["layout"][cross.get("yaxis", "y").replace("y", "yaxis", 1)]
    (u0, u1), (b0, b1) = xaxis["range"], yaxis["range"]
    c = coords_of(history)
    seen = c.isfinite().all(-1) & (c[:, 0] >= u0) & (c[:, 0] <= u1) & (c[:, 1] >= b0) & (c[:, 1] <= b1)
    gone = int((~seen).nonzero()[0])  # the first epoch whose point lies outside the drawn view
    assert gone < history.diverged_at  # it leaves the view long before it overflows
    said = cross["text"][-1]  # the ✕'s words say both, never the overflow's epoch alone
    assert said == f"left the view at epoch {gone}; diverged at {history.diverged_at}", said
    if forward:
        assert set(cross["x"]) == {None}  # not before the run gets there
        last = next(d for t, d in zip(spec["frames"][-1]["traces"], spec["frames"][-1]["data"], strict=True) if t == i)
        u, b = last["x"][-1], last["y"][-1]
    else:
        u, b = cross["x"][0], cross["y"][0]
    # Where the run went: the first epoch outside the view, seen from the last one inside it.
    coords = coords_of(history)
    inside = (coords[:, 0] > u0) & (coords[:, 0] < u1) & (coords[:, 1] > b0) & (coords[:, 1] < b1)
    out = int((~inside).nonzero()[0])
    (pu, pb), (qu, qb) = coords[out - 1].tolist(), coords[out].tolist()
    heading = torch.tensor([qu - pu, qb - pb])
    to_cross = torch.tensor([u - pu, b - pb])
    cosine = float(heading @ to_cross / (heading.norm() * to_cross.norm()))
    assert cosine > 0.999, (cosine, (u, b))  # on the line the run took out of the view
    # On the view's rim, far from the optimum (b = 5, u = 0): a tenth of the view or less from its edge.
    rim = min(u - u0, u1 - u, b - b0, b1 - b) / min(u1 - u0, b1 - b0)
    assert rim < 0.2, rim
    assert math.hypot(u, b - 5) > 0.3 * min(u1 - u0, b1 - b0)
