"""The take-home files: the standalone script reproduces the run bit for bit, the CSV holds every
step, and the offline HTML plays the run with nothing from the network."""

import csv
import html
import io
import json
import re
import subprocess
import sys

import numpy as np
import pytest
import torch

from lucky5 import Config, export, figures, glossary, train
from lucky5.export import history_csv, standalone_script
from tests.oracle import post_loop


def run_script(tmp_path, config: Config) -> tuple[list[float], float]:
    script = tmp_path / "lucky5_run.py"
    script.write_text(standalone_script(config))
    out = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = dict(line.split(":", 1) for line in out.stdout.strip().splitlines())
    return json.loads(lines["weights"]), float(lines["bias"])  # a printed list of floats is JSON


@pytest.mark.parametrize(
    "config",
    [
        Config(epochs=30),
        # What a notebook passes: numpy and torch scalars. Config stores plain numbers, and the script
        # must carry plain literals (a 'np.float64(42.0)' in it was a NameError).
        Config(epochs=np.int64(25), target=np.float64(42.0), lr=torch.tensor(0.02), seed=np.int64(3)),
        Config(epochs=25, optimizer="adam", lr=0.05, target=-3.0, amsgrad=True, betas=(np.float32(0.8), 0.99)),
        Config(epochs=25, optimizer="rmsprop", lr=0.01, centered=True, momentum=0.5),
        Config(epochs=25, optimizer="adagrad", lr=0.1, lr_decay=0.01, weight_decay=0.001),
        Config(epochs=25, momentum=0.9, nesterov=True, weight_decay=0.01),
        # A rule's targets and the noise's own stream, computed the engine's way
        Config(epochs=300, rule="5 + 3*x1 - 2*x7"),
        Config(epochs=200, rule="0.1 - x1 + 0.5*x2^2 + 2.5*x3*x9", seed=4),
        Config(epochs=200, rule="4 + 2*x1*x2", noise=0.5, seed=2, optimizer="adam", lr=0.05),
        Config(epochs=100, noise=0.3, target=-2.0, seed=2**32 - 1),  # the noise seed wraps around 2**32
    ],
)
def test_downloaded_script_reproduces_the_run_bit_for_bit(tmp_path, config):
    script = standalone_script(config)
    assert len(script.splitlines()) <= 30
    assert "np." not in script and "tensor(" not in script.replace("torch.tensor", "")
    weights, bias = run_script(tmp_path, config)
    history = train(config)
    # At batch size 1 the script's autograd loop and lucky5's closed-form gradient agree exactly.
    assert torch.equal(torch.tensor(weights, dtype=torch.float32), history.weights[-1])
    assert torch.tensor(bias, dtype=torch.float32) == history.biases[-1]
    # It saved a state dict that loads without unpickling code.
    state = torch.load(tmp_path / "lucky5_layer.pt", weights_only=True)
    assert torch.equal(state["weight"].view(-1), history.weights[-1])


@pytest.mark.parametrize(
    "config",
    [
        Config(seed=7, epochs=40, optimizer="adam", lr=0.05, batch_size=4),
        Config(seed=7, epochs=40, batch_size=20, rule="4 + 2*x1*x2", noise=0.5),  # 20 draws: torch's vector path
    ],
)
def test_script_at_a_larger_batch_matches_to_float32_rounding(tmp_path, config):
    weights, bias = run_script(tmp_path, config)
    history = train(config)
    torch.testing.assert_close(torch.tensor(weights, dtype=torch.float32), history.weights[-1], atol=1e-5, rtol=0)
    assert abs(bias - float(history.biases[-1])) <= 1e-5


def test_csv_has_every_step_and_the_trained_layer_and_its_header_says_which_is_which():
    history = train(Config(epochs=25, seed=3))
    text = history_csv(history)
    header = text.splitlines()[0].split(",")
    assert header[:3] == ["epoch_k", "loss_in_epoch_k", "bias_before_epoch_k"]  # row k: the parameters before k
    assert header[3] == "w1_before_epoch_k" and header[13] == "grad_bias_in_epoch_k" and len(header) == 24
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == history.steps + 1
    assert [int(r["epoch_k"]) for r in rows] == list(range(26))
    oracle = post_loop(Config(epochs=25, seed=3))  # the post's own loop: row k is the layer before its step k
    for i, row in enumerate(rows):
        assert float(row["bias_before_epoch_k"]) == float(history.biases[i])
        assert [float(row[f"w{j + 1}_before_epoch_k"]) for j in range(10)] == history.weights[i].tolist()
        if i < history.steps:
            assert float(row["loss_in_epoch_k"]) == float(history.losses[i])
            assert float(row["grad_bias_in_epoch_k"]) == float(history.grad_biases[i])
            assert float(row["bias_before_epoch_k"]) == float(oracle["biases"][i])
        else:
            assert row["loss_in_epoch_k"] == "" and row["grad_w1_in_epoch_k"] == ""


# --- the offline copy ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def post_page():
    history = train(Config())
    x = torch.rand(10, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    return history, x, export.html(history, x)


def plotly_call(page: str, name: str) -> list:
    """The JSON arguments Plotly's inline script passes to ``Plotly.<name>(div, ...)``."""
    start = page.index(f"Plotly.{name}(")
    args = page[start + len(name) + 8 :]
    args = args[args.index(",") + 1 :].lstrip()  # skip the div id
    value, _ = json.JSONDecoder().raw_decode(args)
    return value


def test_offline_html_is_one_file_with_nothing_from_the_network(post_page):
    history, x, page = post_page
    assert len(page.encode()) <= export.MAX_HTML_BYTES
    # Plotly's own bundle is inside: its version banner, and no script or stylesheet from elsewhere.
    assert "plotly.js v" in page[:200_000]
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, re.I)
    assert not re.search(r"<link\b", page, re.I)
    # The markup around the scripts (the bundle's own code mentions URLs it never loads here).
    markup = re.sub(r"<script\b[^>]*>.*?</script>", "", page, flags=re.S | re.I)
    assert len(markup) < 20_000
    assert not re.search(r"""(?:src|href|action|data)\s*=\s*["']?\s*(?:https?:)?//""", markup, re.I)
    assert not re.search(r"@import|url\(", markup, re.I)
    assert page.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in page


def test_offline_html_holds_the_animation_with_the_valley_and_its_frames(post_page):
    history, x, page = post_page
    frames = plotly_call(page, "addFrames")
    assert [int(f["name"]) for f in frames] == figures.frame_steps(history.steps)
    data = plotly_call(page, "newPlot")
    names = [t.get("name", "") for t in data]
    assert "the run's path (Σw/√10, b)" in names and "expected loss (theory)" in names
    bars = names.index("weights")
    last = dict(zip(frames[-1]["traces"], frames[-1]["data"], strict=True))[bars]
    assert last["y"][1::3] == pytest.approx(history.weights[-1].tolist(), rel=1e-4)
    assert "auto_play" not in page and "Plotly.animate(" not in page  # it waits for Play


def test_offline_html_tells_the_story_with_the_runs_numbers(post_page):
    history, x, page = post_page
    assert f"{float(history.biases[-1]):.6g}" in page
    assert history.fingerprint() in page
    assert "What happened" in page and "Key numbers" in page
    pred = float(figures.predictions_for(history, x)[-1])
    assert f"{pred:.6g}" in page
    # The words it uses, each with its plain meaning (the same glossary the page and the command line use).
    words = page.split("<h2>Words</h2>")[1]
    for name in ("‖w‖", "expected loss", "valley", "disagreement", "epoch"):
        assert f"<dt>{html.escape(name)}</dt><dd>{html.escape(glossary.meaning(name))}</dd>" in words, name


def test_offline_html_of_a_diverged_run_says_so():
    history = train(Config(epochs=300, lr=0.6))
    page = export.html(history, torch.full((10,), 0.5, dtype=torch.float64), theme="dark")
    assert f"diverged at epoch {history.diverged_at}" in page
    json.dumps([plotly_call(page, "newPlot"), plotly_call(page, "addFrames")], allow_nan=False)  # no NaN, no inf
    assert len(page.encode()) <= export.MAX_HTML_BYTES


def test_offline_html_refuses_an_unknown_theme():
    with pytest.raises(ValueError, match="theme"):
        export.html(train(Config(epochs=5)), torch.zeros(10), theme="sepia")
