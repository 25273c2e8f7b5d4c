"""The take-home files: the standalone script reproduces the run, the CSV holds every step."""

import csv
import io
import subprocess
import sys

import pytest
import torch

from lucky5 import Config, train
from lucky5.export import history_csv, standalone_script


@pytest.mark.parametrize(
    "config",
    [
        Config(),
        Config(seed=7, epochs=300, optimizer="adam", lr=0.05, target=-3.0, batch_size=4, amsgrad=True),
    ],
)
def test_downloaded_script_reproduces_the_run(tmp_path, config):
    script = tmp_path / "lucky5_run.py"
    script.write_text(standalone_script(config))
    assert len(script.read_text().splitlines()) <= 30
    out = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = dict(line.split(":", 1) for line in out.stdout.strip().splitlines())
    weights = torch.tensor(eval(lines["weights"]))  # a printed list of floats
    bias = float(lines["bias"])
    history = train(config)
    torch.testing.assert_close(weights, history.weights[-1], atol=1e-5, rtol=0)
    assert abs(bias - history.final_bias) <= 1e-5
    # It saved a state dict that loads without unpickling code.
    state = torch.load(tmp_path / "lucky5_layer.pt", weights_only=True)
    assert torch.equal(state["weight"].view(-1), weights)


def test_csv_has_every_step_and_the_trained_layer():
    history = train(Config(epochs=25, seed=3))
    rows = list(csv.DictReader(io.StringIO(history_csv(history))))
    assert len(rows) == history.steps + 1
    assert [int(r["epoch"]) for r in rows] == list(range(26))
    for i, row in enumerate(rows):
        assert float(row["bias"]) == float(history.biases[i])
        assert [float(row[f"w{j + 1}"]) for j in range(10)] == history.weights[i].tolist()
        if i < history.steps:
            assert float(row["loss"]) == float(history.losses[i])
            assert float(row["grad_bias"]) == float(history.grad_biases[i])
        else:
            assert row["loss"] == "" and row["grad_w1"] == ""
