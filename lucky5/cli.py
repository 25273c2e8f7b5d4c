"""``python -m lucky5``: the blog post's story in the terminal, with safe checkpoints.

Train one ``nn.Linear(10, 1)`` with the given settings, save it as a safetensors
checkpoint, load it back, test it on random inputs (prediction beside target, MSE and
MAE), and say how far the weights still are from the optimum (w = 0, b = target).

The flags are generated from the ``Config`` dataclass, one per field, with the field's
comment as help, so the command line can never drift from the settings the page uses.
Bad input ends in one ``error:`` line and exit status 2, never a traceback. This module
prints; it does not draw, and it never imports Streamlit.
"""

from __future__ import annotations

import argparse
import inspect
import re
import tempfile
from dataclasses import fields
from pathlib import Path
from typing import Any

from . import checkpoint, metrics, theory
from .config import DEFAULT, OPTIMIZERS, Config
from .engine import History, train

DEFAULT_TESTS = 10  # the post's test loop


# --- the parser, generated from Config --------------------------------------------------------


def field_help() -> dict[str, str]:
    """Each Config field's trailing comment, read from the source: the one place settings are described."""
    try:
        source = inspect.getsource(Config)
    except (OSError, TypeError):  # no source (e.g. a frozen build): flags still work, just without help
        return {}
    return dict(re.findall(r"^    (\w+): [^=]+=[^#]+#\s*(.+)$", source, re.MULTILINE))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m lucky5",
        # short: argparse prints the usage above every error, and the error line should stand out
        usage="%(prog)s [SETTINGS] [--save PATH | --load PATH] [--tests N]",
        description="Train nn.Linear(10, 1) to output a lucky number, save it safely, load it back and test it.",
        epilog="Defaults are the blog post's script: SGD, lr 0.01, momentum 0.1, 200 epochs, target 5.",
    )
    settings = parser.add_argument_group("training settings (one flag per lucky5.Config field)")
    helps = field_help()
    for f in fields(Config):
        _add_field(settings, f.name, helps.get(f.name, ""))
    run = parser.add_argument_group("the run")
    run.add_argument("--save", metavar="PATH", type=Path, help="keep the checkpoint here (default: a temporary file)")
    run.add_argument("--load", metavar="PATH", type=Path, help="skip training: test this saved checkpoint")
    run.add_argument("--tests", metavar="N", type=int, default=DEFAULT_TESTS, help="random test inputs (default: 10)")
    return parser


def _add_field(group: argparse._ArgumentGroup, name: str, help_text: str) -> None:
    """One flag for one Config field, typed like its default; absent flags keep Config's default."""
    default = getattr(DEFAULT, name)
    flag = "--" + name.replace("_", "-")
    # SUPPRESS: only flags actually given reach Config(...), so Config stays the one source of defaults
    options: dict[str, Any] = {"dest": name, "default": argparse.SUPPRESS}
    shown = default
    if isinstance(default, bool):
        options["action"] = argparse.BooleanOptionalAction
        shown = "on" if default else "off"
    elif isinstance(default, tuple):
        options.update(nargs=len(default), type=float, metavar=("B1", "B2"))
        shown = " ".join(map(str, default))
    elif name == "optimizer":
        options.update(type=str.lower, choices=OPTIMIZERS)
    else:
        options.update(type=type(default), metavar=name.upper())
    help_text = help_text.replace("%", "%%")  # argparse %-formats help strings
    group.add_argument(flag, help=f"{help_text} (default: {shown})", **options)


def _config(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Config:
    given = {f.name: getattr(args, f.name) for f in fields(Config) if hasattr(args, f.name)}
    if "betas" in given:
        given["betas"] = tuple(given["betas"])
    try:
        return Config(**given)
    except ValueError as err:
        parser.error(str(err))


# --- the story ------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (argparse exits with 2 on bad input)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not 1 <= args.tests <= metrics.MAX_INPUTS:
        parser.error(f"--tests={args.tests} is not allowed: a whole number from 1 to {metrics.MAX_INPUTS:,}")
    if args.load is not None:
        return _test_saved(parser, args)
    config = _config(parser, args)
    if args.save is not None and not args.save.parent.is_dir():  # say so before training, not after
        parser.error(f"cannot save to {str(args.save)!r}: there is no folder {str(args.save.parent)!r}")
    history = train(config)
    print(summary(history))
    with tempfile.TemporaryDirectory(prefix="lucky5-") as tmp:
        path = args.save if args.save is not None else Path(tmp) / "lucky5.safetensors"
        loaded = _save_and_load(parser, history, path, keep=args.save is not None)
    _test(loaded, args.tests)
    return 0


def _test_saved(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """``--load``: the saved layer is tested as it is; training flags would have nothing to change."""
    extra = [f"--{f.name.replace('_', '-')}" for f in fields(Config) if hasattr(args, f.name)]
    if args.save is not None:
        extra.append("--save")
    if extra:
        parser.error(f"--load tests a saved layer as it is; drop {', '.join(extra)}")
    try:
        loaded = checkpoint.load(args.load)
    except checkpoint.CheckpointError as err:
        parser.error(f"cannot load {str(args.load)!r}: {err}")
    print(f"Loaded {args.load} (trained with {describe(loaded.config)}).")
    for notice in loaded.notices:
        print(f"  note: {notice}")
    _test(loaded, args.tests)
    return 0


def describe(config: Config) -> str:
    """The settings a reader needs to recognise a run, in a few words."""
    c = config
    return f"towards {c.target:g} with {c.optimizer}, lr {c.lr:g}, {c.epochs:,} epochs, seed {c.seed}"


def summary(history: History) -> str:
    """One line on the training: settings, then the final loss or where it diverged, and the wall time."""
    if history.diverged_at is not None:
        result = (
            f"diverged at epoch {history.diverged_at}: the loss stopped being finite (try a smaller --lr); "
            "the weights from before it are kept"
        )
    else:
        result = f"last step's loss {float(history.losses[-1]):.6g}"
    return f"Trained nn.Linear(10, 1) {describe(history.config)} in {history.seconds:.2f} s: {result}."


def _save_and_load(parser: argparse.ArgumentParser, history: History, path: Path, keep: bool) -> checkpoint.Checkpoint:
    try:
        checkpoint.save(path, history)
        loaded = checkpoint.load(path)
    except (OSError, checkpoint.CheckpointError) as err:
        parser.error(f"cannot save to {str(path)!r}: {err}")
    where = str(path) if keep else "a temporary file"
    size = path.stat().st_size
    print(f"Saved it to {where} ({size} bytes of safetensors: loading it runs no code) and loaded it back.")
    return loaded


def _test(loaded: checkpoint.Checkpoint, n: int) -> None:
    """The post's test loop (via lucky5.metrics), then the distance to the optimum (via lucky5.theory)."""
    config = loaded.config
    result = metrics.evaluate(loaded.layer(), config.target, n=n, seed=config.seed)
    inputs = "1 random input" if n == 1 else f"{n} random inputs"
    print(f"Testing on {inputs} (seed {config.seed}): each input's own error, and the running MSE and MAE.")
    print(f"{'input':>5} {'prediction':>11} {'target':>8} {'sq. error':>11} {'abs error':>11} {'MSE':>11} {'MAE':>11}")
    for row in result.rows():
        numbers = (row[k] for k in ("prediction", "squared error", "absolute error", "running MSE", "running MAE"))
        prediction, *errors = (f"{v:>11.5g}" for v in numbers)
        print(f"{row['input #']:>5} {prediction} {row['target']:>8g} {' '.join(errors)}")
    print(f"Over all {n} inputs: MSE {result.mse:.5g}, MAE {result.mae:.5g}.")
    print(optimum_line(loaded))


def optimum_line(loaded: checkpoint.Checkpoint) -> str:
    """How far the layer is from the best one, w = 0 and b = target: it ignores the input."""
    w, b, t = loaded.weight[0], float(loaded.bias[0]), loaded.config.target
    now = float(theory.expected_loss(w, b, t))
    b_minus_t = f"b − {t:g}" if t >= 0 else f"b + {-t:g}"
    return (
        f"Optimum: w = 0, b = {t:g} (ignore the input). Now ‖w‖ = {float(w.double().norm()):.4g}, "
        f"|{b_minus_t}| = {abs(b - t):.4g}; expected loss {now:.4g} here, 0 at the optimum."
    )
