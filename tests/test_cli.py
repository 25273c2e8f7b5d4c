"""``python -m lucky5``: the story it prints, checked against numbers computed here independently."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import json
import re
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import pytest
import torch
from torch import nn

from lucky5 import Config, cli, theory, train
from lucky5.checkpoint import PICKLE_MESSAGE, load
from lucky5.cli import build_parser, main
from lucky5.config import OPTIMIZER_NAMES, OPTIMIZERS, SETTINGS
from tests.helpers import lucky5_file, raw_safetensors
from tests.oracle import post_loop

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
    w, b = history.weights[-1].double(), float(history.biases[-1])
    x = torch.rand(n, 10, generator=torch.Generator().manual_seed(config.seed)).double()
    pred = x @ w + b
    err = pred - config.target
    k = torch.arange(1, n + 1, dtype=torch.float64)
    columns = [pred, torch.full_like(pred, config.target), err**2, err.abs()]
    return torch.stack(columns + [(err**2).cumsum(0) / k, err.abs().cumsum(0) / k], dim=1)


def bad(capsys, *argv: str, printed: bool = False) -> str:
    """Run with bad input: exit status 2, the usage, then one ``error:`` line that says what is wrong."""
    with pytest.raises(SystemExit) as caught:
        main(list(argv))
    assert caught.value.code == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    if not printed:
        assert captured.out == ""  # nothing was trained or printed before the error
    usage, line = captured.err.strip().split("\n")
    assert usage.startswith("usage: python -m lucky5 ")
    assert line.startswith("python -m lucky5: error: ") and line.isprintable()
    return line


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
    assert "Optimum: w = 0, b = 5 (ignore the input)" in default_output
    assert "safetensors" in default_output


def test_a_negative_target_reads_naturally(capsys):
    assert "|b + 3| = " in run(capsys, "--target", "-3", "--epochs", "5", "--tests", "1")


def test_default_run_prints_the_numbers_of_an_independent_computation(default_output):
    history = train(Config())
    assert "towards 5 with SGD, lr 0.01, 200 epochs, seed 0 in " in default_output
    assert f"last step's loss {float(history.losses[-1]):.6g}." in default_output
    torch.testing.assert_close(table(default_output), oracle_table(Config(), 10), rtol=2e-4, atol=1e-6)
    w, b = history.weights[-1].double(), float(history.biases[-1])
    expected_loss = float((0.5 * w.sum() + b - 5) ** 2 + w.square().sum() / 12)
    assert f"‖w‖ = {float(w.norm()):.4g}, |b − 5| = {abs(b - 5):.4g}" in default_output
    assert f"expected loss {expected_loss:.4g} here, 0 at the optimum" in default_output
    # the valley's time constant, from the closed form for SGD with momentum (the post's settings)
    tau = theory.slow_time_constant(0.01, 0.1)
    assert 1_900 < tau < 1_950  # the README's "≈ 1,920 epochs"
    assert default_output.splitlines()[-1] == (
        f"The valley's time constant is ≈ {tau:,.0f} epochs: these 200 epochs are {200 / tau:.3g} of them."
    )


def test_with_weight_decay_the_optimum_line_names_the_regularized_optimum(capsys):
    # SGD's stationary point with weight decay wd: 2·E[z zᵀ]·θ − 2t·E[z] + wd·θ = 0, z = [x, 1], x ~ U(0, 1)^10
    wd, t = 0.5, 5.0
    second_moment = torch.full((11, 11), 0.25, dtype=torch.float64)
    second_moment.fill_diagonal_(1 / 3)
    second_moment[10, :] = second_moment[:, 10] = 0.5
    second_moment[10, 10] = 1.0
    mean = torch.tensor([0.5] * 10 + [1.0], dtype=torch.float64)
    theta = torch.linalg.solve(2 * second_moment + wd * torch.eye(11, dtype=torch.float64), 2 * t * mean)
    out = run(capsys, "--weight-decay", str(wd), "--epochs", "20", "--tests", "1")
    line = out.splitlines()[-2]
    assert line.startswith("Optimum: weight decay 0.5 ")
    assert f"every weight {float(theta[0]):.4g}, b = {float(theta[10]):.4g}" in line


def test_a_diverged_run_withholds_the_time_constant(capsys):
    history = train(Config(lr=5.0))
    out = run(capsys, "--lr", "5", "--tests", "1")
    assert out.splitlines()[-1].startswith(
        f"No valley time constant for this run: the run diverged at epoch {history.diverged_at:,}"
    )
    w = history.weights[-1].double()
    assert f"‖w‖ = {float(w.norm()):.4g}," in out  # float64: finite even where float32's norm is inf


def test_settings_flags_reach_the_training(capsys):
    config = Config(epochs=30, optimizer="adam", lr=0.05, betas=(0.8, 0.99), amsgrad=True, seed=4, target=-3.0)
    out = run(
        capsys,
        "--epochs",
        "30",
        "--optimizer",
        "ADAM",
        "--lr",
        "0.05",
        "--betas",
        "0.8",
        "0.99",
        "--amsgrad",
        "--seed",
        "4",
        "--target",
        "-3",
        "--tests",
        "3",
    )
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
    assert tested.splitlines()[-2:] == trained.splitlines()[-2:]  # the optimum and the time constant


def test_the_default_checkpoint_is_a_temporary_file_that_is_deleted(capsys, monkeypatch, tmp_path):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    out = run(capsys, "--epochs", "5", "--tests", "1")
    assert "a temporary file" in out
    assert list(tmp_path.iterdir()) == []


# --- flags are generated from the settings table ------------------------------------------------


def test_every_setting_has_a_flag_whose_help_is_its_help_text():
    parser = build_parser()
    actions = {a.dest: a for a in parser._actions}
    assert {s.name for s in SETTINGS} <= set(actions)
    text = " ".join(parser.format_help().split())
    for setting in SETTINGS:
        action = actions[setting.name]
        assert action.option_strings[0] == setting.flag == "--" + setting.name.replace("_", "-")
        assert action.help.startswith(setting.help), setting.name
        if setting.optimizers is not None and set(setting.optimizers) != set(OPTIMIZERS):
            readers = [OPTIMIZER_NAMES[o] for o in setting.optimizers]
            assert "Read by " in action.help and all(name in action.help for name in readers), setting.name
        assert " ".join(action.help.replace("%%", "%").split()) in text  # what --help prints
    assert "toward 0" in actions["weight_decay"].help and "Read by every optimizer." in actions["weight_decay"].help
    assert (
        "Momentum factor μ of the momentum buffer (the post used 0.1). Read by SGD and RMSprop. (default: 0.1)" in text
    )


def test_flags_follow_each_widget():
    actions = {a.dest: a for a in build_parser()._actions}
    for setting in SETTINGS:
        action = actions[setting.name]
        if setting.widget == "checkbox":
            assert isinstance(action, argparse.BooleanOptionalAction)
            assert action.option_strings == [setting.flag, "--no-" + setting.flag[2:]]
        elif setting.widget == "pair":
            assert action.nargs == 2 and action.type is float
        elif setting.widget == "select":
            assert tuple(action.choices) == OPTIMIZERS
        else:
            assert action.type is setting.kind
    assert "--betas BETA1 BETA2" in build_parser().format_help()


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["--betas", "0.8", "0.99"], Config(betas=(0.8, 0.99))),
        (["--nesterov"], Config(nesterov=True)),
        (["--nesterov", "--no-nesterov"], Config()),
        (["--amsgrad", "--optimizer", "AdamW"], Config(amsgrad=True, optimizer="adamw")),
        (
            ["--centered", "--optimizer", "rmsprop", "--alpha", "0.9"],
            Config(centered=True, optimizer="rmsprop", alpha=0.9),
        ),
        (["--lr-decay", "0.01", "--batch-size", "4", "--seed", "7"], Config(lr_decay=0.01, batch_size=4, seed=7)),
        ([], Config()),
    ],
)
def test_flags_parse_into_the_config(argv, expected):
    parser = build_parser()
    assert cli._config(parser, parser.parse_args(argv)) == expected


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


# --- a hostile checkpoint: one error line and exit 2, whatever the file holds ---------------------


HOSTILE_FILES = {
    "5,000 digits": (lambda: raw_safetensors('{"a": ' + "1" * 5000 + "}"), "a number written with 5,000 characters"),
    "NaN": (lambda: raw_safetensors('{"a": NaN}'), "NaN, which is not JSON"),
    "nested deep": (lambda: raw_safetensors('{"a": ' + "[" * 50_000 + "]" * 50_000 + "}"), "nests 50,001 levels deep"),
    "lone surrogate": (lambda: raw_safetensors('{"\\ud800": {"data_offsets": [0, 0]}}'), "lone surrogate"),
    "terminal escape": (
        lambda: raw_safetensors('{"\\u001b[2J": {"data_offsets": [0, 0]}}'),
        r"its tensors: '\x1b[2J'",
    ),
    "line break": (
        lambda: raw_safetensors(
            '{"weight": {"dtype": "F\\n32", "data_offsets": [0, 0]}, "bias": {"data_offsets": [0, 0]}, '
            '"__metadata__": {"format": "lucky5", "version": "1"}}'
        ),
        r"dtype 'F\n32'",
    ),
    "not UTF-8": (lambda: raw_safetensors(b'{"\xff": 1}'), "not UTF-8"),
    "offset past 2**64": (lambda: raw_safetensors('{"a": {"data_offsets": [0, 18446744073709551617]}}'), "truncated"),
    "pickle": (lambda: b"\x80\x04\x95", PICKLE_MESSAGE),
}


@pytest.mark.parametrize("name", list(HOSTILE_FILES))
def test_a_hostile_checkpoint_ends_in_one_error_line(capsys, tmp_path, name):
    make, reason = HOSTILE_FILES[name]
    path = tmp_path / "upload.safetensors"
    path.write_bytes(make())
    line = bad(capsys, "--load", str(path))
    assert line.startswith(f"python -m lucky5: error: cannot load {str(path)!r}: ")
    assert reason in line


def test_a_path_that_cannot_be_read_ends_in_one_error_line(capsys, tmp_path):
    long_name = tmp_path / ("a" * 5000)  # stat() itself fails: the name is too long
    assert "cannot read" in bad(capsys, "--load", str(long_name))
    assert "is not a file" in bad(capsys, "--load", str(tmp_path))


def test_a_checkpoint_with_a_target_float32_cannot_reach_keeps_the_default_target_and_says_so(tmp_path):
    path = tmp_path / "far.safetensors"
    zero_layer = {"weight": torch.zeros(1, 10), "bias": torch.zeros(1)}
    path.write_bytes(lucky5_file(zero_layer, config=json.dumps({"target": "1e300"})))
    loaded = load(path)
    assert loaded.config.target == 5.0  # Config refuses a target beyond float32's range: the default stays
    assert len(loaded.notices) == 1 and "Ignored target" in loaded.notices[0] and "float32" in loaded.notices[0]


def test_the_module_refuses_a_5000_digit_header_without_a_traceback(tmp_path):
    path = tmp_path / "digits.safetensors"
    path.write_bytes(HOSTILE_FILES["5,000 digits"][0]())
    done = subprocess.run(
        [sys.executable, "-m", "lucky5", "--load", str(path)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2
    assert done.stdout == ""
    usage, line = done.stderr.strip().splitlines()
    assert usage.startswith("usage: python -m lucky5")
    assert line == (
        f"python -m lucky5: error: cannot load {str(path)!r}: the file is damaged: its safetensors header is not "
        "valid JSON (it holds a number written with 5,000 characters)"
    )


# --- the lucky5 command -------------------------------------------------------------------------


def test_pyproject_declares_the_lucky5_command_as_cli_run():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    module, _, name = scripts["lucky5"].partition(":")
    assert getattr(importlib.import_module(module), name) is cli.run


@pytest.mark.parametrize(
    "argv, status, shown",
    [
        (["--help"], 0, "usage: lucky5 [SETTINGS]"),
        (["--epochs", "0"], 2, "lucky5: error: epochs=0 is not allowed"),
        (["--epochs", "3", "--tests", "1"], 0, "Trained nn.Linear(10, 1) towards 5 with SGD, lr 0.01, 3 epochs"),
    ],
)
def test_the_command_exits_with_mains_status(monkeypatch, capsys, argv, status, shown):
    monkeypatch.setattr(sys, "argv", ["lucky5", *argv])
    with pytest.raises(SystemExit) as caught:
        cli.run()
    assert caught.value.code == status
    captured = capsys.readouterr()
    assert shown in (captured.err if status else captured.out)


def test_a_reader_that_stops_early_gets_no_traceback():
    """``python -m lucky5 | head -3``: the reader closes the pipe after three lines, as head does.

    3,000 test rows are about 200 kB, more than a pipe holds (64 kB on Linux), so lucky5 is still
    printing when the pipe closes: the write fails for certain, not by a race.
    """
    command = [sys.executable, "-m", "lucky5", "--epochs", "20", "--tests", "3000"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    lines = [process.stdout.readline() for _ in range(3)]
    process.stdout.close()
    err = process.stderr.read().decode()
    assert process.wait(timeout=120) == 1
    assert lines[0].startswith(b"Trained nn.Linear(10, 1)") and len(lines) == 3
    assert err == "", err  # no BrokenPipeError, no traceback, nothing at exit


# --- --explain-step K ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv, k",
    [([], 0), ([], 7), (["--optimizer", "adam", "--lr", "0.1", "--batch-size", "3"], 4)],
)
def test_explain_step_prints_the_numbers_of_the_posts_loop(capsys, argv, k):
    out = run(capsys, *argv, "--explain-step", str(k))
    config = build_parser().parse_args(argv)
    config = cli._config(build_parser(), config)
    oracle = post_loop(config, watch=[k])["watched"][k]  # the post's script, sharing no code with lucky5
    assert out.startswith(f"Inside epoch {k} of {config.epochs} (counted from 0): {OPTIMIZER_NAMES[config.optimizer]}")
    assert f"= {oracle['loss']:.6g}\n" in out  # the loss line ends with the batch's loss
    if config.batch_size == 1:  # (a batch is summarised by its mean)
        assert "[" + ", ".join(f"{v:.6g}" for v in oracle["x"][0].tolist()) + "]" in out
    assert f"= {float(oracle['params_before'][10]):.6g} + " in out  # the prediction starts from the bias
    for name, value in zip(("w1", "b"), (oracle["params_before"][0], oracle["params_before"][10]), strict=True):
        assert re.search(rf"^\s+{name}\s.*\s{float(value):.6g}\s", out, re.MULTILINE), name
    assert "Testing on" not in out and "Saved it" not in out  # one step, nothing else


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--explain-step", "200"], "--explain-step 200: epoch 200 is not allowed: a whole number from 0 to 199"),
        (["--explain-step", "-1", "--epochs", "5"], "epoch -1 is not allowed: a whole number from 0 to 4"),
        (["--explain-step", "x"], "argument --explain-step: invalid int value: 'x'"),
        (["--explain-step", "3", "--save", "x.safetensors"], "saves or tests nothing; drop --save"),
        (["--explain-step", "3", "--tests", "4"], "saves or tests nothing; drop --tests"),
        (["--load", "x.safetensors", "--explain-step", "3"], "drop --explain-step"),
    ],
)
def test_explain_step_refuses_bad_input_in_one_line(capsys, argv, message):
    assert message in bad(capsys, *argv)


def test_explain_step_of_a_diverged_run_says_which_epochs_can_be_explained(capsys):
    diverged_at = train(Config(lr=5.0)).diverged_at
    assert diverged_at is not None
    line = bad(capsys, "--lr", "5", "--explain-step", str(diverged_at + 5))
    assert f"the run diverged at epoch {diverged_at}" in line
    assert f"epochs 0 to {diverged_at - 1} can be explained" in line
    assert "Inside epoch 2 of 200" in run(capsys, "--lr", "5", "--explain-step", "2")
