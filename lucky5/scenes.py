"""The talk's scenes: a guided story in six steps, each a link (``?scene=N``) that opens it anywhere.

A scene is data: its number, its title, the settings it changes from the blog post's, its picture
(``focus``: the animation, the expected loss's three parts, or one step's arithmetic; in the guided tour the
page panel it puts in front), the animation panels a projector shows, whether the audience link's QR code
stands beside it, and two or three sentences. The sentences are templates whose ``{fields}`` are filled by
``facts(history, x)`` with the run's own numbers and ``lucky5.theory``'s, so a scene never states a
measurement that the code did not just compute. ``step_board`` lays out one step's arithmetic for the step
scene, from ``lucky5.step``'s own equations.

This module also holds the scene's side of the URL (``scene_number``, ``scene_query``, ``scene_params``).
It never trains, draws or imports a UI.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from string import Formatter
from typing import Any

import torch

from . import figures, theory
from .config import (
    DEFAULT,
    FIELD_NAMES,
    OPTIMIZER_NAMES,
    Config,
    format_setting,  # the one way a setting is written in a link
    to_query,
)
from .engine import History
from .inputs import default_input
from .narration import near, number
from .step import Step, sections, update_rule

FOCUS = ("animation", "why", "step")  # a scene's picture: the animation, the loss's three parts, one step
HALL_DIGITS = 3  # significant digits of scene 3's numbers: what a hall reads from the back row
# A decimal number in an equation's text (not part of a name such as x₁ or w10), with an exponent if it has one.
_DECIMAL = re.compile(r"(?<![\w.])\d+\.\d+(?:e[+-]?\d+)?")
STEP_EPOCH = 1  # the step scene 3 opens: the second one, so the momentum buffer already holds something


@dataclass(frozen=True)
class Scene:
    """One scene of the talk.

    ``overrides`` are the Config fields that differ from the blog post's (validated when the module loads);
    ``focus`` is one of ``FOCUS`` (only "animation" plays); ``panels`` are ``figures.PANELS`` names for the
    projector's animation (one on each side, so the chart is a single row that fits a 720 px screen);
    ``sentences`` are templates over the names ``facts`` returns; ``epoch`` is the epoch the step's
    arithmetic shows (focus "step"); ``audience`` puts the audience link's QR code beside the picture (where
    the room opens the page on its phones).
    """

    number: int
    title: str
    overrides: Mapping[str, Any]
    focus: str
    panels: tuple[str, ...]
    sentences: tuple[str, ...]
    epoch: int | None = None
    audience: bool = False
    rule_title: str | None = None  # the title when the run learns a rule (``title_for``); None: ``title`` fits it
    config: Config = field(init=False, repr=False, compare=False)

    @property
    def animated(self) -> bool:
        """The scene's picture plays (the training animation); the others are still."""
        return self.focus == "animation"

    def __post_init__(self) -> None:
        object.__setattr__(self, "config", DEFAULT.replace(**self.overrides))
        if self.focus not in FOCUS:
            raise ValueError(f"scene {self.number}: focus must be one of {FOCUS}, not {self.focus!r}")
        if any(p not in figures.PANELS for p in self.panels):
            raise ValueError(f"scene {self.number}: panels must come from {figures.PANELS}, not {self.panels}")


SCENES: tuple[Scene, ...] = (
    Scene(
        1,
        "The blog post: 200 epochs",
        {},
        "animation",
        ("prediction", "parameters"),
        (
            "One nn.Linear(10, 1) learns to answer {target}: {optimizer} with lr {lr} and momentum {momentum}, "
            "{epochs} epochs, each on one fresh random input.",
            "After {epochs} epochs the prediction for your input is {prediction} and b = {bias}: "
            "close to {target}, but not {target}.",
            "{scan}",
        ),
        audience=True,
        rule_title="200 epochs on the rule",
    ),
    Scene(
        2,
        "Why not exactly 5?",
        {},
        "why",
        ("terms", "parameters"),
        (
            "The inputs are random, so the best layer ignores them: w = 0 and b = {target}.",
            "After {epochs} epochs the average prediction is off by {mean_error}, "
            "yet ‖w‖ = {weight_norm} and b = {bias}: it sits in a long, flat valley.",
            "There the distance shrinks by e every ≈ {time_constant} epochs "
            "(and the loss, its square, every ≈ {loss_time_constant} epochs); {epochs} epochs are {fraction} of one.",
        ),
        rule_title="Why not exactly the rule?",
    ),
    Scene(
        3,
        "Inside one step",
        {},
        "step",
        ("loss", "parameters"),
        (
            "Each epoch is four lines of PyTorch: the forward pass, the loss, loss.backward() and optimizer.step().",
            "Here is step {step_number} of {epochs} (epoch {step_epoch}, counting from 0): the layer predicted "
            "{step_prediction} where the answer is {target}, so the gradient of b is {step_grad_bias}.",
            "optimizer.step() moves b against the gradient: from {step_bias_before} to {step_bias_after}.",
        ),
        epoch=STEP_EPOCH,
    ),
    Scene(
        4,
        "Patience: 20,000 epochs",
        {"epochs": 20_000},
        "animation",
        ("terms", "valley"),
        (
            "Same settings, {epochs} epochs: {fraction} times the ≈ {time_constant} epochs (from theory) in "
            "which the distance to the best layer (w = 0, b = {target}) shrinks by e.",
            "Now b = {bias} and every |wᵢ| is below {max_weight}.",
            "The network has found out that its input does not matter: that is the magic.",
        ),
    ),
    Scene(
        5,
        "Too fast: divergence",
        {"lr": 0.5},
        "animation",
        ("loss", "valley"),
        (
            "A bigger step is not a faster way down: lr {lr} overshoots the valley.",
            "Theory puts the largest learning rate at which one-sample SGD still settles at ≈ {limit}; "
            "{lr} is {ratio} times that.",
            "{divergence}",
        ),
    ),
    Scene(
        6,
        "Adam, then your turn",
        {"optimizer": "adam", "lr": 0.05, "epochs": 2_000},
        "animation",
        ("loss", "parameters"),
        (
            "Adam scales each step by the gradient's recent size, so theory claims no stability limit for it.",
            "With lr {lr} and {epochs} epochs it ends at b = {bias} and ‖w‖ = {weight_norm}.",
            "{your_turn}",
        ),
        audience=True,
    ),
)
SCENE = {s.number: s for s in SCENES}


def title_for(scene: Scene, config: Config) -> str:
    """``scene``'s title for a run of ``config``: its ``rule_title`` when the run learns a rule (scene 2 asks
    "Why not exactly the rule?", not "Why not exactly 5?"), else its ``title``."""
    return scene.rule_title if config.target_rule is not None and scene.rule_title else scene.title


def _num(value: float, digits: int = 3) -> str:
    """``digits`` significant digits, a real minus sign, ×10ⁿ for a hall (``narration.number``)."""
    return number(value, digits)


def facts(history: History, x: Sequence[float] | torch.Tensor | None = None) -> dict[str, str]:
    """Every name a scene's sentences use, as text, measured from ``history`` and ``lucky5.theory``.

    ``x`` is the viewer's input, shape (10,) (default: the seed's own input, ``inputs.default_input``).
    Numbers that do not apply to this run (a time constant for Adam, a step of a run with no finite
    step) read as a short phrase instead, so every template can always be filled.
    """
    c = history.config
    x = torch.as_tensor(default_input(c.seed) if x is None else x, dtype=torch.float64)
    why = theory.why_not_five(history)
    gauge = theory.stability(c)
    tau, _ = theory.time_constant_for(c, "slow")
    # At the settings of a diverging run the valley still has the time constant of a stable learning rate;
    # the valley's time constant is quoted only where it applies.
    layer = history.trained
    out = {
        "target": _num(c.target, 4),
        "optimizer": OPTIMIZER_NAMES[c.optimizer],
        "lr": f"{c.lr:g}",
        "momentum": f"{c.momentum:g}",
        "epochs": f"{history.steps:,}",
        # As few digits as tell b from the optimum's (``near``): 1.69, 4.97, and 4.9999, which never reads as 5;
        # a hall reads three, not six.
        "bias": near(layer.bias, why.optimum_bias),
        "weight_norm": _num(why.weight_norm),
        "max_weight": _ceil(float(layer.weight.abs().max())),
        "mean_error": _num(why.mean_error),
        "prediction": near(float(layer.predict(x)), c.target, 4),
        "time_constant": f"{tau:,.0f}" if tau is not None and math.isfinite(tau) else "(none at these settings)",
        # The loss is the distance squared: it shrinks by e twice as fast (the main page quotes this one).
        "loss_time_constant": f"{tau / 2:,.0f}" if tau is not None and math.isfinite(tau) else "(none)",
        "fraction": f"{history.steps / tau:.2g}" if tau else "(not defined)",
        "limit": _num(gauge.limit) if gauge.limit is not None else "(none claimed)",
        "ratio": f"{gauge.ratio:.2g}" if gauge.ratio is not None else "(not comparable)",
    }
    if history.diverged_at is not None:
        out["divergence"] = (
            f"This run diverged at epoch {history.diverged_at:,}: its numbers outgrew float32, "
            f"and the charts stop there."
        )
    else:
        out["divergence"] = f"This run stayed finite for all {history.steps:,} epochs."
    out.update(_step_facts(history))
    return out


def _ceil(value: float, digits: int = 2) -> str:
    """The smallest number of ``digits`` significant digits that is strictly above ``value`` >= 0."""
    if not math.isfinite(value):
        return str(value)
    if value <= 0:
        return "any positive number"
    unit = 10 ** (math.floor(math.log10(value)) - digits + 1)
    return number((math.floor(value / unit) + 1) * unit, digits)  # 2.5×10⁻⁵, never 2.5e-05


def _step_facts(history: History, epoch: int = STEP_EPOCH) -> dict[str, str]:
    """The step scene's numbers: prediction, loss and bias gradient at ``epoch``, and the bias around it."""
    if history.steps == 0:
        none = "(no finite step)"
        keys = ("step_prediction", "step_loss", "step_grad_bias", "step_bias_before", "step_bias_after")
        return {"step_epoch": str(epoch), "step_number": f"{epoch + 1:,}", **dict.fromkeys(keys, none)}
    k = min(epoch, history.steps - 1)
    return {
        "step_epoch": f"{k:,}",
        "step_number": f"{k + 1:,}",  # the step shown, counted from 1 as a reader counts (epochs count from 0)
        "step_prediction": _num(float(history.predictions[k]), HALL_DIGITS),
        "step_loss": _num(float(history.losses[k]), HALL_DIGITS),
        "step_grad_bias": _num(float(history.grad_biases[k]), HALL_DIGITS),
        "step_bias_before": _num(float(history.biases[k]), HALL_DIGITS),
        "step_bias_after": _num(float(history.biases[k + 1]), HALL_DIGITS),
    }


@dataclass(frozen=True)
class BoardPart:
    """One part of the step scene's board: a name, the PyTorch call it is, and its lines (plain text)."""

    name: str
    code: str
    lines: tuple[str, ...]


def step_board(step: Step) -> tuple[BoardPart, BoardPart, BoardPart]:
    """One step's arithmetic in three parts, large enough for a hall: the forward pass and the loss, the
    gradient, and the optimizer's update with the bias's own numbers before and after.

    The lines are ``lucky5.step.sections``'s equations (the numbers ``explain_step`` recorded, as ``python -m
    lucky5 --explain-step K`` prints them) with real minus signs; the update's lines add, for b, each state
    and parameter before and after (``update_rule``'s values).
    """
    rule = update_rule(step)
    _, prediction, loss, gradient, update, result = sections(step, rule)
    b = len(step.params_before) - 1  # the bias is the last of [w, b]
    constants = update.equations[0].text
    moves = []
    for line in rule.rules:
        values = [float(value[b]) for _, value in line.values]
        if line.values and line.values[-1][1] is step.params_after:  # the line that writes θ
            values = [float(step.params_before[b]), values[-1]]
        elif not (len(values) == 2 and line.values[0][0].endswith(" before")):  # not a state's change
            values = values[-1:]
        moves.append(f"{line.text}:   b {' → '.join(_num(v, HALL_DIGITS) for v in values)}" if values else line.text)
    return (
        BoardPart("Forward pass", "model(x), loss_fn", _minus(prediction, loss)),
        BoardPart("Gradient", "loss.backward()", tuple(reversed(_minus(gradient)))),
        BoardPart(
            "Update",
            "optimizer.step()",
            (f"{rule.optimizer}: {constants}", *moves, _minus(result)[0].replace("ŷ:", "ŷ for the same x:", 1)),
        ),
    )


def _minus(*parts) -> tuple[str, ...]:
    """The equations of ``lucky5.step`` sections as text, every long decimal cut to ``HALL_DIGITS`` significant
    digits (``_hall``), a number's hyphen written as a real minus sign."""
    return tuple(
        re.sub(r"(?<![\w.])-(?=\d)", "−", _hall(equation.text)) for part in parts for equation in part.equations
    )


def _hall(text: str) -> str:
    """``text`` with every decimal number of more than ``HALL_DIGITS`` significant digits rounded to that many
    (0.0237148 → 0.0237): what the back row reads. Whole numbers (indices, epochs) and short decimals stay."""
    return _DECIMAL.sub(lambda m: _num(float(m.group()), HALL_DIGITS).replace("−", "-"), text)


def template_fields(scene: Scene) -> set[str]:
    """The names a scene's sentences ask for."""
    return {name for s in scene.sentences for _, name, _, _ in Formatter().parse(s) if name}


def sentences(
    scene: Scene,
    history: History,
    x: Sequence[float] | torch.Tensor | None = None,
    *,
    unreachable: str | None = None,
    offline: bool = False,
    coded: bool = True,
) -> list[str]:
    """The scene's sentences filled with ``facts(history, x)`` and ``audience_facts``; plain text (no Markdown).

    ``unreachable`` is why phones cannot open the audience link (plain text, e.g. the page's loopback warning),
    None when they can; ``offline`` words them for the talk's offline file, which has no settings of its own;
    ``coded`` is False where no QR code is shown (the guided tour): nothing then points at one.
    """
    known = facts(history, x) | audience_facts(unreachable, offline, coded)
    return [told for s in scene.sentences if (told := s.format_map(known))]


def audience_facts(unreachable: str | None = None, offline: bool = False, coded: bool = True) -> dict[str, str]:
    """What the scenes where the room opens the page ask of it: ``scan`` and ``your_turn``.

    A room is never asked to scan a code that phones cannot open (``unreachable``, the note shown by the code,
    says why): it is told so, briefly. The offline file, which has no settings, sends the room to the live page's.
    Without a code on screen (``coded`` False: a learner on the guided tour) there is nothing to scan: ``scan`` is
    empty and ``your_turn`` sends the reader to the settings."""
    if not coded:
        return {
            "scan": "",
            "your_turn": "Your turn: open the settings (top left) and change anything: it trains at once.",
        }
    if unreachable is not None:
        scan = "Phones cannot open this address: the note by the code says why."
        your_turn = (
            "Your turn, once the page is at an address phones can open: change any setting; it trains at once."
            if offline
            else "Your turn: open the settings (top left) and change anything: it trains at once."
        )
    else:
        scan = "Scan the code to run the same layer on your phone."
        your_turn = (
            "Your turn: scan the code and change any setting on your phone: it trains at once."
            if offline
            else "Your turn: scan the code, open the settings (top left) and change anything: it trains at once."
        )
    return {"scan": scan, "your_turn": your_turn}


# --- the URL --------------------------------------------------------------------------------------------------------


def scene_number(raw: str | None) -> tuple[int | None, str | None]:
    """The scene a link's ``scene`` value names, or (None, a notice). Total: never raises.

    Empty or missing: no scene and no notice. Anything but a whole number from 1 to ``len(SCENES)``: no
    scene, and a notice that quotes at most 20 characters of the value.
    """
    if raw is None or raw.strip() == "":
        return None, None
    text = raw.strip()
    if text.isascii() and text.isdigit() and len(text) <= 3 and int(text) in SCENE:
        return int(text), None
    return None, f"Ignored scene={raw[:20]!r}: scenes are 1 to {len(SCENES)}."


def scene_params(number: int, params: Mapping[str, Any]) -> dict[str, Any]:
    """Query parameters that open scene ``number`` with the link's own settings on top.

    The scene's settings come first; a setting the link names itself (``?scene=4&seed=3``) wins, so a link
    written by ``scene_query`` opens exactly its run. Feed the result to ``lucky5.from_query``.
    """
    merged: dict[str, Any] = dict(to_query(SCENE[number].config))
    merged.update(params)
    return merged


def scene_query(number: int, config: Config) -> dict[str, str]:
    """The shortest link parameters for ``config`` seen in scene ``number``: the scene, and the settings
    where ``config`` differs from the scene's own (written as ``to_query`` writes them)."""
    base = SCENE[number].config
    query = {"scene": str(number)}
    for name in FIELD_NAMES:
        if getattr(config, name) != getattr(base, name):
            query[name] = format_setting(getattr(config, name))
    return query
