"""The optimizer's update at one step, line by line, as torch.optim's single-tensor code computes it.

Sources: torch/optim/{sgd,adam,rmsprop,adagrad}.py (``_single_tensor_*``) of the installed torch and the
formulas in their documentation. θ is [w, b] and g the gradient the optimizer sees. ``UPDATE_RULES`` holds
one small function per optimizer variant, keyed by ``variant(config)``: the optimizer's name, and for SGD
and RMSprop whether momentum (for SGD: Nesterov momentum) adds a buffer. ``update_rule`` adds what every
variant shares (the learning rate, and torch's weight decay added to the gradient).

A new optimizer gets a function here and an entry in ``UPDATE_RULES`` (and ``variant`` if one of its
settings changes which lines it has). Each line's values end with the real state and ``params_after``;
intermediate vectors (the gradient with weight decay, AdamW's decayed θ) are recomputed in float32 with
torch's operations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from ..config import Config
from ..engine import FEATURES_AND_BIAS
from .notation import latex, plain
from .snapshot import Step

__all__ = ["UPDATE_RULES", "Rule", "UpdateRule", "Variant", "update_rule", "variant"]

Constant = tuple[str, str, str, float]  # (text symbol, LaTeX symbol, meaning, value)


@dataclass(frozen=True)
class Rule:
    """One line of an update rule, as torch.optim computes it, with the numbers it read and produced.

    ``values`` are (column label, (11,) tensor) pairs in the order the line mentions them; a line about a
    single number (Adagrad's decayed learning rate) has none and writes its number into the text.
    """

    text: str  # plain Unicode, for a terminal
    latex: str  # the same line for KaTeX (st.latex)
    values: tuple[tuple[str, torch.Tensor], ...] = ()


@dataclass(frozen=True)
class UpdateRule:
    """The optimizer's update at one step: its constants (symbol, meaning, value) and its lines in order."""

    optimizer: str  # torch.optim class name
    constants: tuple[Constant, ...]  # (text symbol, LaTeX symbol, meaning, value)
    rules: tuple[Rule, ...]
    note: str = ""


@dataclass(frozen=True)
class Variant:
    """What one optimizer variant contributes to ``UpdateRule``: its own constants, lines and note.

    ``decoupled`` is True when the variant applies weight decay itself (AdamW) instead of adding it to g.
    """

    optimizer: str  # torch.optim class name
    constants: tuple[Constant, ...]
    rules: tuple[Rule, ...]
    note: str = ""
    decoupled: bool = False


def update_rule(step: Step) -> UpdateRule:
    """The optimizer's update at ``step`` line by line, as torch.optim's single-tensor code computes it.

    The lines start with the gradient with weight decay (for every optimizer but AdamW, when weight decay
    is on), then the lines of ``UPDATE_RULES[variant(step.config)]``. The last line's values end with the
    real ``params_after``; the state lines show the real state before and after.
    """
    c = step.config
    own = UPDATE_RULES[variant(c)](step)
    constants: list[Constant] = [("lr", r"\mathrm{lr}", "learning rate", c.lr)]
    rules: list[Rule] = []
    if c.weight_decay != 0:
        constants.append(("λ", r"\lambda", "weight decay", c.weight_decay))
    coupled = c.weight_decay != 0 and not own.decoupled
    if coupled:
        rules.append(_decayed_gradient(step))
    note = own.note if coupled else (own.note + " " if own.note else "") + "g is the gradient ∂L/∂θ itself."
    return UpdateRule(own.optimizer, (*constants, *own.constants), (*rules, *own.rules), note)


def variant(config: Config) -> str:
    """The key of ``UPDATE_RULES`` for ``config``: "sgd", "sgd+momentum", "sgd+nesterov", "adam", "adamw",
    "rmsprop", "rmsprop+momentum" or "adagrad"."""
    if config.optimizer == "sgd" and config.momentum != 0:
        return "sgd+nesterov" if config.nesterov else "sgd+momentum"
    if config.optimizer == "rmsprop" and config.momentum > 0:
        return "rmsprop+momentum"
    return config.optimizer


# --- lines several variants share ---------------------------------------------------------------------------


def _decayed_gradient(step: Step) -> Rule:
    """torch's weight decay as part of the gradient: g = ∂L/∂θ + λ·θ."""
    g = step.grad.add(step.params_before, alpha=step.config.weight_decay)
    return Rule(
        "g ← ∂L/∂θ + λ·θ",
        r"g \leftarrow \frac{\partial L}{\partial \theta} + \lambda\,\theta",
        (("∂L/∂θ", step.grad), ("g", g)),
    )


def _step_along(direction: str, direction_tex: str, step: Step) -> Rule:
    """The parameter update θ ← θ − lr·``direction``, with the new parameters as its values."""
    return Rule(
        f"θ ← θ − lr·{direction}",
        rf"\theta \leftarrow \theta - \mathrm{{lr}}\,{direction_tex}",
        (("θ after", step.params_after),),
    )


def _new_parameters(text: str, tex: str, step: Step) -> Rule:
    """The line that writes θ, with the new parameters as its values."""
    return Rule(text, tex, (("θ after", step.params_after),))


def _state_change(step: Step, name: str, label: str) -> tuple[tuple[str, torch.Tensor], ...]:
    """(label before, label after) values of torch's state ``name``; a state not created yet is zeros."""
    before = step.state_before.get(name, torch.zeros(FEATURES_AND_BIAS))
    return ((f"{label} before", before), (f"{label} after", step.state_after[name]))


def _momentum(config: Config) -> Constant:
    return ("μ", r"\mu", "momentum", config.momentum)


# --- SGD ----------------------------------------------------------------------------------------------------


def _sgd(step: Step) -> Variant:
    """Plain SGD: θ ← θ − lr·g."""
    return Variant("SGD", (), (_step_along("g", "g", step),))


def _sgd_buffer(step: Step) -> tuple[tuple[Constant, ...], Rule, str]:
    """SGD's momentum and dampening, the momentum buffer's line, and the note of its first step."""
    c = step.config
    constants = (_momentum(c), ("τ", r"\tau", "dampening", c.dampening))
    if "momentum_buffer" not in step.state_before:
        after = (("buf after", step.state_after["momentum_buffer"]),)
        first = "First step: torch.optim.SGD starts the momentum buffer at the gradient itself."
        return constants, Rule("buf ← g", r"\mathrm{buf} \leftarrow g", after), first
    line = Rule(
        "buf ← μ·buf + (1 − τ)·g",
        r"\mathrm{buf} \leftarrow \mu\,\mathrm{buf} + (1-\tau)\,g",
        _state_change(step, "momentum_buffer", "buf"),
    )
    return constants, line, ""


def _sgd_momentum(step: Step) -> Variant:
    """SGD with momentum (heavy ball): the buffer, then θ ← θ − lr·buf."""
    constants, buffer, note = _sgd_buffer(step)
    return Variant("SGD", constants, (buffer, _step_along("buf", r"\mathrm{buf}", step)), note)


def _sgd_nesterov(step: Step) -> Variant:
    """SGD with Nesterov momentum: the buffer, then θ ← θ − lr·(g + μ·buf)."""
    constants, buffer, note = _sgd_buffer(step)
    last = _new_parameters(
        "θ ← θ − lr·(g + μ·buf)", r"\theta \leftarrow \theta - \mathrm{lr}\,(g + \mu\,\mathrm{buf})", step
    )
    return Variant("SGD", constants, (buffer, last), note)


# --- Adam and AdamW -----------------------------------------------------------------------------------------

_ADAM_NOTE = "m and v start at 0; dividing by 1 − β₁ᵗ and 1 − β₂ᵗ undoes that start's pull toward 0."


def _adam_constants(step: Step) -> tuple[Constant, ...]:
    c = step.config
    b1, b2 = c.betas
    return (
        ("β₁", r"\beta_1", "decay of the gradient's average", b1),
        ("β₂", r"\beta_2", "decay of the squared gradient's average", b2),
        ("ε", r"\varepsilon", "keeps the denominator above 0", c.eps),
        ("t", "t", "torch's step count", float(int(step.step_after or 0))),
    )


def _adam_lines(step: Step) -> tuple[Rule, ...]:
    """The two running averages (and AMSGrad's maximum), then the bias-corrected step."""
    amsgrad = step.config.amsgrad
    lines = [
        Rule("m ← β₁·m + (1 − β₁)·g", r"m \leftarrow \beta_1 m + (1-\beta_1)\,g", _state_change(step, "exp_avg", "m")),
        Rule(
            "v ← β₂·v + (1 − β₂)·g²",
            r"v \leftarrow \beta_2 v + (1-\beta_2)\,g^2",
            _state_change(step, "exp_avg_sq", "v"),
        ),
    ]
    if amsgrad:
        lines.append(
            Rule(
                "v_max ← max(v_max, v)",
                r"v_{\max} \leftarrow \max(v_{\max}, v)",
                _state_change(step, "max_exp_avg_sq", "v_max"),
            )
        )
    v, v_tex = ("v_max", r"v_{\max}") if amsgrad else ("v", "v")
    lines.append(
        _new_parameters(
            f"θ ← θ − lr/(1 − β₁ᵗ) · m / (√{v} / √(1 − β₂ᵗ) + ε)",
            r"\theta \leftarrow \theta - \frac{\mathrm{lr}}{1-\beta_1^{t}}\,"
            rf"\frac{{m}}{{\sqrt{{{v_tex}}}\,/\sqrt{{1-\beta_2^{{t}}}} + \varepsilon}}",
            step,
        )
    )
    return tuple(lines)


def _adam(step: Step) -> Variant:
    """Adam (with AMSGrad when ``amsgrad``): weight decay, if any, is part of g."""
    return Variant("Adam", _adam_constants(step), _adam_lines(step), _ADAM_NOTE)


def _adamw(step: Step) -> Variant:
    """AdamW: Adam's lines after shrinking θ itself (decoupled weight decay)."""
    c = step.config
    decay: tuple[Rule, ...] = ()
    if c.weight_decay != 0:
        shrunk = step.params_before.mul(1 - c.lr * c.weight_decay)
        decay = (
            Rule(
                "θ ← θ·(1 − lr·λ)   (decoupled weight decay)",
                r"\theta \leftarrow \theta\,(1 - \mathrm{lr}\,\lambda)",
                (("θ decayed", shrunk),),
            ),
        )
    return Variant("AdamW", _adam_constants(step), (*decay, *_adam_lines(step)), _ADAM_NOTE, decoupled=True)


# --- RMSprop ------------------------------------------------------------------------------------------------


def _rmsprop_averages(step: Step) -> tuple[tuple[Constant, ...], tuple[Rule, ...], str, str]:
    """RMSprop's constants, its running averages and the denominator they give (text, LaTeX)."""
    c = step.config
    constants = (
        ("α", r"\alpha", "decay of the squared gradient's average", c.alpha),
        ("ε", r"\varepsilon", "keeps the denominator above 0", c.eps),
    )
    square = Rule(
        "v ← α·v + (1 − α)·g²", r"v \leftarrow \alpha v + (1-\alpha)\,g^2", _state_change(step, "square_avg", "v")
    )
    if not c.centered:
        return constants, (square,), "(√v + ε)", r"\left(\sqrt{v} + \varepsilon\right)"
    mean = Rule(
        "ḡ ← α·ḡ + (1 − α)·g", r"\bar g \leftarrow \alpha \bar g + (1-\alpha)\,g", _state_change(step, "grad_avg", "ḡ")
    )
    return constants, (square, mean), "(√(v − ḡ²) + ε)", r"\left(\sqrt{v - \bar g^2} + \varepsilon\right)"


def _rmsprop(step: Step) -> Variant:
    """RMSprop without momentum (centered when ``centered``): θ ← θ − lr·g / denominator."""
    constants, averages, denom, denom_tex = _rmsprop_averages(step)
    last = _new_parameters(
        f"θ ← θ − lr·g / {denom}", rf"\theta \leftarrow \theta - \mathrm{{lr}}\,g / {denom_tex}", step
    )
    return Variant("RMSprop", constants, (*averages, last))


def _rmsprop_momentum(step: Step) -> Variant:
    """RMSprop with momentum: the scaled gradient enters a buffer, then θ ← θ − lr·buf."""
    constants, averages, denom, denom_tex = _rmsprop_averages(step)
    buffer = Rule(
        f"buf ← μ·buf + g / {denom}",
        rf"\mathrm{{buf}} \leftarrow \mu\,\mathrm{{buf}} + g / {denom_tex}",
        _state_change(step, "momentum_buffer", "buf"),
    )
    rules = (*averages, buffer, _step_along("buf", r"\mathrm{buf}", step))
    return Variant("RMSprop", (*constants, _momentum(step.config)), rules)


# --- Adagrad ------------------------------------------------------------------------------------------------


def _adagrad(step: Step) -> Variant:
    """Adagrad: a decayed learning rate, the sum of squared gradients, then the scaled step."""
    c = step.config
    t = int(step.step_after or 0)
    clr = c.lr / (1 + (t - 1) * c.lr_decay)
    constants = (
        ("η", r"\eta", "learning-rate decay", c.lr_decay),
        ("ε", r"\varepsilon", "keeps the denominator above 0", c.eps),
        ("t", "t", "torch's step count", float(t)),
    )
    rules = (
        Rule(
            f"lr_t = lr / (1 + (t − 1)·η) = {plain(clr)}",
            rf"\mathrm{{lr}}_t = \mathrm{{lr}} / (1 + (t-1)\,\eta) = {latex(clr)}",
        ),
        Rule("s ← s + g²", r"s \leftarrow s + g^2", _state_change(step, "sum", "s")),
        _new_parameters(
            "θ ← θ − lr_t·g / (√s + ε)",
            r"\theta \leftarrow \theta - \mathrm{lr}_t\, g / \left(\sqrt{s} + \varepsilon\right)",
            step,
        ),
    )
    return Variant("Adagrad", constants, rules)


UPDATE_RULES: dict[str, Callable[[Step], Variant]] = {
    "sgd": _sgd,
    "sgd+momentum": _sgd_momentum,
    "sgd+nesterov": _sgd_nesterov,
    "adam": _adam,
    "adamw": _adamw,
    "rmsprop": _rmsprop,
    "rmsprop+momentum": _rmsprop_momentum,
    "adagrad": _adagrad,
}
