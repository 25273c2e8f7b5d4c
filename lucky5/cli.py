"""``python -m lucky5``: the blog post's story in the terminal, with safe checkpoints.

Train one ``nn.Linear(10, 1)`` with the given settings, save it as a safetensors
checkpoint, load it back, test it on random inputs (prediction beside target, MSE and
MAE), and say how far the weights still are from the optimum (``lucky5.theory.why_not_five``).
``--explain-step K`` prints the arithmetic of one optimizer step instead (``lucky5.step``), and ``--words``
what each term means (``lucky5.glossary``). ``--data FILE.csv`` trains on a data set instead (``lucky5.data``;
``--standardize`` rescales its features) and says what theory expects of it (``lucky5.theory.empirical``).

The flags are generated from the settings table (``lucky5.config.SETTINGS``): one flag per
setting, with its help text and the optimizers that read it, so the command line can never
drift from the settings the page uses. Bad input, a bad checkpoint file included, ends in one
``error:`` line and exit status 2, never a traceback. This module prints; it does not draw,
and it never imports Streamlit. ``run`` is the ``lucky5`` command that ``pip install`` creates.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, cast

import torch

from . import checkpoint, glossary, metrics, step, task, theory
from .config import OPTIMIZER_NAMES, OPTIMIZERS, SETTINGS, Config, Setting
from .data import MAX_BYTES, Data, DataError, read_csv
from .engine import History, train

DEFAULT_TESTS = 10  # the post's test loop
PROG = "python -m lucky5"


# --- the parser, generated from the settings table ----------------------------------------------


def build_parser(prog: str = PROG) -> argparse.ArgumentParser:
    """The command line's parser: one flag per ``Setting``, then the run's own flags."""
    parser = argparse.ArgumentParser(
        prog=prog,
        # short: argparse prints the usage above every error, and the error line should stand out
        usage="%(prog)s [SETTINGS] [--save PATH | --load PATH | --explain-step K | --words] [--tests N]",
        description="Train nn.Linear(10, 1) to output a lucky number, save it safely, load it back and test it.",
        epilog="Defaults are the blog post's script: SGD, lr 0.01, momentum 0.1, 200 epochs, target 5.",
    )
    settings = parser.add_argument_group("training settings (one flag per setting of lucky5.config.SETTINGS)")
    for setting in SETTINGS:
        settings.add_argument(setting.flag, **flag_options(setting))
    run = parser.add_argument_group("the run")
    run.add_argument("--save", metavar="PATH", type=Path, help="keep the checkpoint here (default: a temporary file)")
    run.add_argument("--load", metavar="PATH", type=Path, help="skip training: test this saved checkpoint")
    run.add_argument(
        "--tests", metavar="N", type=int, help=f"random test inputs (default: {DEFAULT_TESTS}, the post's loop)"
    )
    run.add_argument(
        "--explain-step",
        metavar="K",
        type=int,
        help="instead of testing: the arithmetic of optimizer step K of this run (0 is the first)",
    )
    run.add_argument(
        "--data",
        metavar="CSV",
        type=Path,
        help="train on this CSV file's rows (a header, 1 to 10 feature columns, then the target or a column y)",
    )
    run.add_argument("--standardize", action="store_true", help="with --data: rescale each feature to mean 0 and std 1")
    run.add_argument(
        "--words",
        action="store_true",
        help="print what each term lucky5 uses means (‖w‖, Σw, the valley, ...) and stop",
    )
    return parser


def flag_options(setting: Setting) -> dict[str, Any]:
    """``add_argument`` keywords for one setting: its type, metavar or choices, and its help.

    An absent flag is left out of the namespace (``SUPPRESS``), so ``Config`` stays the one source of defaults.
    """
    options: dict[str, Any] = {"dest": setting.name, "default": argparse.SUPPRESS}
    default = setting.default
    if setting.widget == "checkbox":  # --nesterov / --no-nesterov
        options["action"] = argparse.BooleanOptionalAction
        shown = "on" if default else "off"
    elif setting.widget == "pair":  # --betas 0.8 0.99
        name = setting.name.upper().removesuffix("S")
        options.update(nargs=len(default), type=float, metavar=tuple(f"{name}{i}" for i in range(1, len(default) + 1)))
        shown = " ".join(f"{v:g}" for v in default)
    elif setting.widget == "select":  # the only select is the optimizer
        options.update(type=str.lower, choices=OPTIMIZERS)
        shown = str(default)
    elif setting.widget == "text":  # --rule "5 + 3*x1 - 2*x7"
        options.update(type=str, metavar=setting.name.upper())
        shown = repr(default) if default else "none"
    else:
        options.update(type=setting.kind, metavar=setting.name.upper())
        shown = f"{default:g}" if isinstance(default, float) else str(default)
    help_text = setting.help
    if setting.optimizers is not None:
        readers = "every optimizer" if set(setting.optimizers) == set(OPTIMIZERS) else _names(setting.optimizers)
        help_text += f" Read by {readers}."
    options["help"] = f"{help_text} (default: {shown})".replace("%", "%%")  # argparse %-formats help
    return options


def _names(optimizers: tuple[str, ...]) -> str:
    names = [OPTIMIZER_NAMES[o] for o in optimizers]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _config(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Config:
    given = {s.name: getattr(args, s.name) for s in SETTINGS if hasattr(args, s.name)}  # a pair comes as a list
    try:
        return Config(**given)
    except ValueError as err:
        parser.error(str(err))


# --- the story ------------------------------------------------------------------------------


def main(argv: list[str] | None = None, prog: str = PROG) -> int:
    """Run the command line; returns the exit status: 0, or 2 after one ``error:`` line (argparse exits)."""
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    if args.words:
        print("\n".join(glossary.lines(glossary.TERMS)))
        return 0
    tests = DEFAULT_TESTS if args.tests is None else args.tests
    if not 1 <= tests <= metrics.MAX_INPUTS:
        parser.error(f"--tests={tests} is not allowed: a whole number from 1 to {metrics.MAX_INPUTS:,}")
    if args.load is not None:
        return _test_saved(parser, args, tests)
    config = _config(parser, args)
    if args.data is not None:
        return _train_on_data(parser, args, config)
    if args.standardize:
        parser.error("--standardize rescales a data set's features: give the data with --data CSV")
    if args.explain_step is not None:
        return _explain_step(parser, args, config)
    if args.save is not None and not args.save.parent.is_dir():  # say so before training, not after
        parser.error(f"cannot save to {str(args.save)!r}: there is no folder {str(args.save.parent)!r}")
    history = train(config)
    print(summary(history))
    with tempfile.TemporaryDirectory(prefix="lucky5-") as tmp:
        path = args.save if args.save is not None else Path(tmp) / "lucky5.safetensors"
        loaded = _save_and_load(parser, history, path, keep=args.save is not None)
    _test(parser, loaded, tests, history)
    return 0


def run(prog: str = "lucky5") -> NoReturn:
    """The command: ``lucky5`` (``[project.scripts]``) and ``python -m lucky5``; exits with main's status.

    A reader that stops early (``python -m lucky5 | head -3``) closes the pipe while lines are still
    being printed. As Python's documentation recommends (the ``signal`` module, "Note on SIGPIPE"),
    the ``BrokenPipeError`` is caught and stdout pointed at ``os.devnull``, so that Python's own flush
    at exit does not raise again: the command ends quietly with status 1 instead of a traceback.
    """
    try:
        status = main(prog=prog)
        sys.stdout.flush()  # a broken pipe may surface only here; inside the try it is handled too
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        status = 1
    sys.exit(status)


def _drop(parser: argparse.ArgumentParser, what: str, flags: list[str]) -> None:
    if flags:
        parser.error(f"{what}; drop {', '.join(flags)}")


def _test_saved(parser: argparse.ArgumentParser, args: argparse.Namespace, tests: int) -> int:
    """``--load``: the saved layer is tested as it is; training flags would have nothing to change."""
    extra = [s.flag for s in SETTINGS if hasattr(args, s.name)]
    extra += [
        flag
        for flag, value in (("--save", args.save), ("--explain-step", args.explain_step), ("--data", args.data))
        if value is not None
    ]
    _drop(parser, "--load tests a saved layer as it is", extra)
    try:
        loaded = checkpoint.load(args.load)
    except checkpoint.CheckpointError as err:
        parser.error(f"cannot load {str(args.load)!r}: {err}")
    print(f"Loaded {args.load} (trained {describe(loaded.config)}).")
    for notice in loaded.notices:
        print(f"  note: {notice}")
    _test(parser, loaded, tests, None)
    return 0


def _explain_step(parser: argparse.ArgumentParser, args: argparse.Namespace, config: Config) -> int:
    """``--explain-step K``: train up to step K and print its arithmetic (``lucky5.step.describe``)."""
    extra = [flag for flag, value in (("--save", args.save), ("--tests", args.tests)) if value is not None]
    _drop(parser, "--explain-step prints one step of the run and saves or tests nothing", extra)
    try:
        explained = step.explain_step(config, args.explain_step)
    except ValueError as err:  # documented: K out of range, or the run diverged at or before step K
        parser.error(f"--explain-step {args.explain_step}: {err}")
    print(step.describe(explained), end="")
    return 0


def describe(config: Config, data: Data | None = None) -> str:
    """The settings a reader needs to recognise a run, in a few words."""
    c = config
    toward = f"{c.target:g}" if c.target_rule is None else f"the rule {c.rule}"
    if data is not None:
        toward = f"column {data.target_name!r} of {data.rows:,} rows"
    noise = f" with noise σ = {c.noise:g}" if c.noise > 0 else ""
    name = OPTIMIZER_NAMES[c.optimizer]
    return f"towards {toward}{noise} with {name}, lr {c.lr:g}, {c.epochs:,} epochs, seed {c.seed}"


def summary(history: History) -> str:
    """One line on the training: settings, then the final loss or where it diverged, and the wall time."""
    if history.diverged_at is not None:
        result = (
            f"diverged at epoch {history.diverged_at}: the loss stopped being finite (try a smaller --lr); "
            "the weights from before it are kept"
        )
    else:
        result = f"last step's loss {float(history.losses[-1]):.6g}"
    return f"Trained nn.Linear(10, 1) {describe(history.config, history.data)} in {history.seconds:.2f} s: {result}."


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


def _test(parser: argparse.ArgumentParser, loaded: checkpoint.Checkpoint, n: int, history: History | None) -> None:
    """The post's test loop (via lucky5.metrics), then the distance to the optimum (via lucky5.theory)."""
    config = loaded.config
    try:
        result = metrics.evaluate(loaded.trained, config.target, n=n, seed=config.seed, rule=config.target_rule)
    except ValueError as err:  # documented: a target the float32 layer cannot reach (a valid Config allows it)
        parser.error(f"cannot test the layer: {err}")
    inputs = "1 random input" if n == 1 else f"{n} random inputs"
    print(f"Testing on {inputs} (seed {config.seed}): each input's own error, and the running MSE and MAE.")
    print(f"{'input':>5} {'prediction':>11} {'target':>8} {'sq. error':>11} {'abs error':>11} {'MSE':>11} {'MAE':>11}")
    for row in result.rows():
        numbers = (row[k] for k in ("prediction", "squared error", "absolute error", "running MSE", "running MAE"))
        prediction, *errors = (f"{v:>11.5g}" for v in numbers)
        print(f"{row['input #']:>5} {prediction} {row['target']:>8g} {' '.join(errors)}")
    print(f"Over all {n} inputs: MSE {result.mse:.5g}, MAE {result.mae:.5g}.")
    print(optimum_line(theory.why_not_five(history if history is not None else _as_history(loaded))))


@dataclass(frozen=True)
class _SavedRun:
    """A checkpoint seen as the last row of its run: what ``theory.why_not_five`` reads from a History.

    A file keeps only the trained layer and its Config, so the run is taken to have done all its
    epochs (lucky5 saves a diverged run's last finite layer, but the file does not say it diverged).
    """

    config: Config
    weights: torch.Tensor  # (1, 10): the last (only) row
    biases: torch.Tensor  # (1,)
    steps: int
    diverged_at: None = None


def _as_history(loaded: checkpoint.Checkpoint) -> History:
    saved = _SavedRun(loaded.config, loaded.weight, loaded.bias, loaded.config.epochs)
    return cast(History, saved)


def optimum_line(why: theory.WhyNotFive) -> str:
    """How far the layer is from the best one, from ``theory.why_not_five``: two lines.

    The optimum (w = 0, b = target without weight decay: it ignores the input; with a rule, the rule's
    fit and its weights), the distances and the expected loss (with the floor, ``task.floor_text``, and
    SGD's jitter, when there is one); then the valley's time constant against the epochs run, or why
    it is withheld.
    """
    t = why.target
    # without weight decay the optimum ignores the input; with it, theory's note names where it moves
    best = f"w = 0, b = {t:g} (ignore the input)" if why.optimum_note is None else why.optimum_note
    if why.rule:
        weights = ", ".join(f"{w:.4g}" for w in why.optimum_weights)
        best += f" (w = [{weights}], b = {why.optimum_bias:.4g})"
    b_minus_t = f"b − {t:g}" if t >= 0 else f"b + {-t:g}"
    first = (
        f"Optimum: {best}. Now ‖w‖ = {why.weight_norm:.4g}, |{b_minus_t}| = {why.bias_error:.4g}; "
        f"expected loss {why.expected_loss:.4g} here, {why.optimum_loss:.4g} at the optimum."
    )
    floor = task.floor_text(why.unfit, why.noise_floor)
    if floor:
        first += f" {floor[0].upper()}{floor[1:]}"
        first += (
            f"; at this learning rate SGD jitters around the optimum, which costs ≈ {why.jitter:.3g} more."
            if why.jitter is not None
            else "."
        )
    if why.time_constant is None or why.epochs_per_time_constant is None:
        second = f"No valley time constant for this run: {str(why.time_constant_note).rstrip('.')}."
    else:
        second = (
            f"The valley's time constant is ≈ {why.time_constant:,.0f} epochs: these {why.epochs_run:,} epochs "
            f"are {why.epochs_per_time_constant:.3g} of them"
        )
        second += f" ({why.time_constant_note.rstrip('.')})." if why.time_constant_note else "."
    return f"{first}\n{second}"


# --- a data set -------------------------------------------------------------------------------


def _train_on_data(parser: argparse.ArgumentParser, args: argparse.Namespace, config: Config) -> int:
    """``--data CSV``: train on the file's rows, save and load the checkpoint, and compare with theory."""
    extra = [flag for flag, value in (("--explain-step", args.explain_step), ("--tests", args.tests)) if value]
    _drop(parser, "--data trains on a file's rows and tests on them", extra)
    if config.rule:
        parser.error("--data brings its own target: drop --rule")
    data = _read_data(parser, args.data)
    data = data.standardized() if args.standardize else data
    if args.save is not None and not args.save.parent.is_dir():
        parser.error(f"cannot save to {str(args.save)!r}: there is no folder {str(args.save.parent)!r}")
    history = train(config, data=data)
    print(summary(history))
    with tempfile.TemporaryDirectory(prefix="lucky5-") as tmp:
        path = args.save if args.save is not None else Path(tmp) / "lucky5.safetensors"
        _save_and_load(parser, history, path, keep=args.save is not None)
    print(data_lines(history, data))
    return 0


def _read_data(parser: argparse.ArgumentParser, path: Path) -> Data:
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_BYTES + 1)  # one byte more than allowed is enough to refuse
        return read_csv(raw)
    except (OSError, DataError) as err:
        parser.error(f"cannot read {str(path)!r}: {err}")


def data_lines(history: History, data: Data) -> str:
    """What theory says of a run on ``data`` (``lucky5.theory.empirical``): the fit, the floor, the limit."""
    c = history.config
    fit = theory.data_fit(data, weight_decay=c.weight_decay, noise=c.noise)
    layer = history.trained
    names = ", ".join(data.feature_names)
    weights = ", ".join(f"{w:.4g}" for w in fit.weight[: data.width].tolist())
    lines = [
        f"Your data: {data.rows:,} rows, features {names} -> {data.target_name} (digest {data.digest[:12]}).",
        f"Least squares: w = [{weights}], b = {fit.bias:.4g}; no layer's mean squared error goes below "
        f"{fit.floor:.4g}. This layer's: {theory.data_expected_loss(data, layer.weight, layer.bias):.4g}.",
    ]
    if fit.rank < data.width + 1:
        lines.append(theory.data_collinear_note([repr(n) for n in theory.data_collinear(data)]))
    gauge = theory.stability(c, data)
    if gauge.limit is None:
        lines.append(f"No stability limit ({gauge.verdict}): {gauge.note}.")
    else:
        lines.append(
            f"For your data SGD settles below lr ≈ {gauge.limit:.4g}; this run's lr is {c.lr:g} ({gauge.verdict})."
        )
    return "\n".join(lines)
