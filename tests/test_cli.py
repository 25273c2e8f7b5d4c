"""``python -m lucky5``: the story it prints, checked against numbers computed here independently."""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
import sys
import tempfile
from dataclasses import fields
from pathlib import Path

import pytest
import torch
from torch import nn

from lucky5 import Config, train
from lucky5.checkpoint import PICKLE_MESSAGE, load
from lucky5.cli import build_parser, main

ROOT = Path(__file__).resolve().parent.parent
ROW = re.compile(r"^\s*(\d+)((?:\s+\S+){6})\s*$")


def run(capsys, *argv: str) -> str:
    assert main(list(argv)) == 0
    return capsys.readouterr().out


def table(out: str) -> torch.Tensor:
    """The printed test table as numbers: (n, 6) prediction, target, sq. error, abs error, MSE, MAE."""
    rows = [ROW.match(line) for line in out.splitlines()]
    return torch.tensor([[float(v) for v in m.group(2).split()] for m in rows if m], dtype=torch.float64)


def oracle_table(config: Config, n: int) -> torch.Tensor:
    """What the table must show, computed without lucky5.metrics or torchmetrics."""
    history = train(config)
    w, b = history.final_weight.double(), float(history.final_bias)
    x = torch.rand(n, 10, generator=torch.Generator().manual_seed(config.seed)).double()
    pred = x @ w + b
    err = pred - config.target
    k = torch.arange(1, n + 1, dtype=torch.float64)
    columns = [pred, torch.full_like(pred, config.target), err**2, err.abs()]
    return torch.stack(columns + [(err**2).cumsum(0) / k, err.abs().cumsum(0) / k], dim=1)


def bad(capsys, *argv: str) -> str:
    """Run with bad input: exit status 2, and stderr's last line says what is wrong."""
    with pytest.raises(SystemExit) as caught:
        main(list(argv))
    assert caught.value.code == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert captured.out == ""  # nothing was trained or printed before the error
    return captured.err.strip().splitlines()[-1]


# --- the default run tells the post's story ----------------------------------------------------


@pytest.fixture(scope="module")
def default_output():
    """One default run, shared (captured by hand: capsys is function-scoped)."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert main([]) == 0
    return buffer.getvalue()


def test_default_run_prints_ten_predictions_mse_mae_and_the_optimum(default_output):
    assert len(table(default_output)) == 10
    assert "Over all 10 inputs: MSE" in default_output and "MAE" in default_output
    assert "Optimum: w = 0, b = 5" in default_output
    assert "safetensors" in default_output


def test_a_negative_target_reads_naturally(capsys):
    assert "|b + 3| = " in run(capsys, "--target", "-3", "--epochs", "5", "--tests", "1")


def test_default_run_prints_the_numbers_of_an_independent_computation(default_output):
    history = train(Config())
    assert "towards 5 with sgd, lr 0.01, 200 epochs, seed 0 in " in default_output
    assert f"last step's loss {float(history.losses[-1]):.6g}." in default_output
    torch.testing.assert_close(table(default_output), oracle_table(Config(), 10), rtol=2e-4, atol=1e-6)
    w, b = history.final_weight.double(), float(history.final_bias)
    expected_loss = float((0.5 * w.sum() + b - 5) ** 2 + w.square().sum() / 12)
    assert f"‖w‖ = {float(w.norm()):.4g}, |b − 5| = {abs(b - 5):.4g}" in default_output
    assert f"expected loss {expected_loss:.4g} here, 0 at the optimum" in default_output


def test_settings_flags_reach_the_training(capsys):
    config = Config(epochs=30, optimizer="adam", lr=0.05, betas=(0.8, 0.99), amsgrad=True, seed=4, target=-3.0)
    out = run(capsys, "--epochs", "30", "--optimizer", "ADAM", "--lr", "0.05", "--betas", "0.8", "0.99",
              "--amsgrad", "--seed", "4", "--target", "-3", "--tests", "3")
    assert f"last step's loss {float(train(config).losses[-1]):.6g}." in out
    torch.testing.assert_close(table(out), oracle_table(config, 3), rtol=2e-4, atol=1e-6)


def test_a_diverging_run_says_so_plainly(capsys):
    history = train(Config(lr=5.0))
    assert history.diverged_at is not None
    out = run(capsys, "--lr", "5", "--tests", "1")
    assert f"diverged at epoch {history.diverged_at}:" in out


# --- save and load ------------------------------------------------------------------------------


def test_save_then_load_round_trip(capsys, tmp_path):
    path = tmp_path / "layer.safetensors"
    trained = run(capsys, "--epochs", "50", "--seed", "3", "--save", str(path), "--tests", "4")
    assert str(path) in trained
    assert load(path).config == Config(epochs=50, seed=3)
    tested = run(capsys, "--load", str(path), "--tests", "4")
    assert f"Loaded {path}" in tested and "50 epochs, seed 3" in tested
    assert torch.equal(table(tested), table(trained))
    assert tested.splitlines()[-1] == trained.splitlines()[-1]  # the optimum line


def test_the_default_checkpoint_is_a_temporary_file_that_is_deleted(capsys, monkeypatch, tmp_path):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    out = run(capsys, "--epochs", "5", "--tests", "1")
    assert "a temporary file" in out
    assert list(tmp_path.iterdir()) == []


# --- flags are generated from Config -----------------------------------------------------------


def test_every_config_field_has_a_flag_with_help():
    parser = build_parser()
    actions = {a.dest: a for a in parser._actions}
    for f in fields(Config):
        action = actions[f.name]
        assert action.option_strings[0] == "--" + f.name.replace("_", "-")
        assert len(action.help) > len(" (default: x)"), f.name  # the field's comment, then the default
    text = parser.format_help()
    assert "--no-nesterov" in text and "--betas B1 B2" in text
    assert "SGD and RMSprop momentum (the post used 0.1) (default: 0.1)" in " ".join(text.split())


def test_help_exits_zero(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["--help"])
    assert caught.value.code == 0
    assert "--optimizer {sgd,adam,adamw,rmsprop,adagrad}" in capsys.readouterr().out


# --- bad input: exit 2 and one clear line -------------------------------------------------------


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--epochs", "0"], "epochs=0 is not allowed"),
        (["--lr", "nan"], "lr=nan is not allowed"),
        (["--lr", "-1"], "lr=-1.0 is not allowed"),
        (["--optimizer", "foo"], "invalid choice: 'foo'"),
        (["--nesterov", "--momentum", "0"], "nesterov=True is not allowed"),
        (["--betas", "0.9", "1.5"], "betas=(0.9, 1.5) is not allowed"),
        (["--epochs", "1.5"], "invalid int value: '1.5'"),
        (["--tests", "0"], "--tests=0 is not allowed"),
        (["--load", "nowhere.safetensors"], "there is no file"),
        (["--load", "x.safetensors", "--epochs", "5"], "--load tests a saved layer as it is; drop --epochs"),
        (["--save", "/no/such/folder/x.safetensors"], "there is no folder"),
    ],
)
def test_bad_flags_exit_2_with_one_clear_line(capsys, argv, message):
    assert message in bad(capsys, *argv)


def test_loading_a_pickle_is_refused(capsys, tmp_path):
    path = tmp_path / "layer.pth"
    torch.save(nn.Linear(10, 1), path)  # the post's file
    line = bad(capsys, "--load", str(path))
    assert line.endswith(f"cannot load {str(path)!r}: {PICKLE_MESSAGE}")


def test_the_module_entry_point_refuses_a_pickle_without_a_traceback(tmp_path):
    path = tmp_path / "layer.pth"
    torch.save(nn.Linear(10, 1).state_dict(), path)
    done = subprocess.run(
        [sys.executable, "-m", "lucky5", "--load", str(path)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("usage: python -m lucky5")
    assert lines[1] == f"python -m lucky5: error: cannot load {str(path)!r}: {PICKLE_MESSAGE}"
