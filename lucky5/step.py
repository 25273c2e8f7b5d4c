"""Inside one step: the exact numbers of one optimizer step of a run, and the arithmetic that links them.

``explain_step(config, k)`` returns step k of the run (the step whose loss is ``history.losses[k]``): the
inputs drawn, the prediction, the loss, the gradient, the parameters and the optimizer's state before and
after. ``update_rule(step)`` writes the optimizer's update as torch.optim computes it, one line at a time,
each line with the numbers it produced (a list of (rule, values) items); ``sections(step)`` is the whole
arithmetic of the step as equations in plain text and in LaTeX; ``describe(step)`` prints them for a
terminal. The page's "Inside one step" panel draws the same sections, so the two never disagree.

This module is not a second training loop: ``lucky5.engine.Training`` trains the run up to step k with the
real ``torch.optim`` object and takes step k with the same loop; this module only snapshots before and after
and writes the numbers down. It never imports a UI.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import torch

from .config import OPTIMIZER_NAMES, Config
from .engine import FEATURES_AND_BIAS, IN_FEATURES, Training, draw_noise, targets

# torch.optim's names for the per-parameter state of the optimizers lucky5 offers.
STATE_NAMES = ("momentum_buffer", "exp_avg", "exp_avg_sq", "max_exp_avg_sq", "square_avg", "grad_avg", "sum")
# Row labels of every per-parameter table: the ten weights, then the bias.
PARAMETER_LABELS = tuple(f"w{i}" for i in range(1, IN_FEATURES + 1)) + ("b",)


@dataclass(frozen=True)
class Step:
    """The exact numbers of optimizer step ``epoch`` of a run (float32, as trained; B is the batch size).

    Every [w, b] vector is (11,): the ten weights, then the bias. ``state_before`` and ``state_after``
    map torch.optim's state names (``STATE_NAMES``) to (11,) tensors, exactly what the optimizer holds:
    SGD, Adam, AdamW and RMSprop create their state in their first step, so at epoch 0 their
    ``state_before`` is empty (the rules in ``update_rule`` start from zeros, and SGD's momentum
    buffer from the first gradient, as torch does). ``step_before``/``step_after`` are torch's own step
    count where the optimizer keeps one (Adam, AdamW, RMSprop, Adagrad), else ``None``.
    """

    config: Config
    epoch: int  # 0-based: the same index as History.losses
    x: torch.Tensor  # (B, 10) the inputs drawn at this step
    targets: torch.Tensor  # (B,) each input's target: the lucky number, or the rule's value (plus noise)
    prediction: torch.Tensor  # (B,) ŷ = x·w + b before the update
    loss: float  # mean squared error of the batch, (1/B)·Σ(ŷ − t)²
    grad: torch.Tensor  # (11,) dL/dw, then dL/db: what loss.backward() leaves in .grad
    params_before: torch.Tensor  # (11,)
    params_after: torch.Tensor  # (11,)
    state_before: dict[str, torch.Tensor]
    state_after: dict[str, torch.Tensor]
    step_before: int | None
    step_after: int | None
    prediction_after: torch.Tensor  # (B,) the same inputs through the updated layer

    @property
    def varying(self) -> bool:
        """True when the targets depend on the inputs or on noise (a rule, or noise > 0)."""
        return self.config.target_rule is not None or self.config.noise > 0

    @property
    def target(self) -> float:
        """t: the lucky number; with a rule or noise the batch's mean target (at batch size 1, its one target)."""
        return float(self.targets.double().mean()) if self.varying else self.config.target

    @property
    def batch_size(self) -> int:
        return int(self.x.shape[0])

    @property
    def loss_after(self) -> float:
        """Mean squared error of the same batch after the update."""
        return float((self.prediction_after - self.targets).square().mean())


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
    constants: tuple[tuple[str, str, str, float], ...]  # (text symbol, LaTeX symbol, meaning, value)
    rules: tuple[Rule, ...]
    note: str = ""


@dataclass(frozen=True)
class Equation:
    text: str
    latex: str


@dataclass(frozen=True)
class Section:
    """One part of the step's arithmetic: a title, its equations, and a sentence that says what it means."""

    title: str
    equations: tuple[Equation, ...]
    note: str = ""


# --- the numbers --------------------------------------------------------------------------------------------


def explain_step(config: Config, k: int) -> Step:
    """The exact numbers of optimizer step ``k`` of ``config``'s run.

    Trains the run with the engine's loop (the post's computation with the real ``torch.optim`` step,
    bit-identical to the post's script at batch size 1) until k steps are done, snapshots the
    parameters, the optimizer's state and the generator, takes step k with the same loop and snapshots
    again. Costs about as much as training k steps.

    Args:
        config: the run's settings.
        k: the step, 0 ≤ k < config.epochs (the index of ``history.losses``).

    Raises:
        TypeError: ``config`` is not a Config.
        ValueError: ``k`` is not a whole number from 0 to epochs − 1 (the message gives the range), or the run
            diverged at or before step k (the message names the epoch of the divergence).
    """
    if not isinstance(config, Config):
        raise TypeError(f"config must be a lucky5.Config, not {type(config).__name__}")
    last = config.epochs - 1
    if not isinstance(k, numbers.Integral) or isinstance(k, bool) or not 0 <= int(k) <= last:
        shown = repr(k) if len(repr(k)) <= 40 else repr(k)[:37] + "..."
        raise ValueError(
            f"epoch {shown} is not allowed: a whole number from 0 to {last:,} (this run has "
            f"{config.epochs:,} epochs, counted from 0)"
        )
    k = int(k)
    training = Training([config], epochs=k + 1)
    training.advance(k)
    _raise_if_diverged(training, k)
    (param,) = training.optimizer.param_groups[0]["params"]
    state_before, step_before = _state(training.optimizer, param)
    params_before = training.parameters[0].clone()
    generator = torch.Generator().set_state(training.generators[0].get_state())
    noise_generators = [torch.Generator().set_state(g.get_state()) for g in training.noise_generators]
    training.advance(k + 1)
    _raise_if_diverged(training, k + 1)
    state_after, step_after = _state(training.optimizer, param)
    params_after = training.parameters[0].clone()
    history = training.histories()[0]

    # The inputs step k drew: the generator's next draw after k steps, as the loop drew them.
    x = torch.rand(config.batch_size, IN_FEATURES, generator=generator)
    noise = draw_noise(noise_generators[0], config.batch_size) if noise_generators else None
    return Step(
        config=config,
        epoch=k,
        x=x,
        targets=targets(config, x, noise),
        prediction=_predict(x, params_before),
        loss=float(history.losses[k]),
        grad=torch.cat([history.grad_weights[k], history.grad_biases[k : k + 1]]),
        params_before=params_before,
        params_after=params_after,
        state_before=state_before,
        state_after=state_after,
        step_before=step_before,
        step_after=step_after,
        prediction_after=_predict(x, params_after),
    )


def _raise_if_diverged(training: Training, done: int) -> None:
    diverged_at = training.histories()[0].diverged_at if done else None
    if diverged_at is not None:
        allowed = f"epochs 0 to {diverged_at - 1:,} can be explained" if diverged_at else "no epoch can be explained"
        raise ValueError(
            f"the run diverged at epoch {diverged_at:,} (its loss or parameters stopped being finite "
            f"numbers): {allowed}"
        )


def _state(optimizer: torch.optim.Optimizer, param: torch.Tensor) -> tuple[dict[str, torch.Tensor], int | None]:
    """Copies of the optimizer's (11,) state tensors under torch's names, and its step count."""
    state = optimizer.state.get(param, {})
    tensors = {
        name: value.detach().reshape(FEATURES_AND_BIAS).clone()
        for name, value in state.items()
        if name in STATE_NAMES and torch.is_tensor(value)
    }
    step = state.get("step")
    return tensors, None if step is None else int(step)


def _predict(x: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
    """ŷ = x·w + b for each row, with the engine's own matrix product ([x, 1] · [w, b]), so the bits agree."""
    z = torch.cat([x, torch.ones(x.shape[0], 1)], dim=1).unsqueeze(0)
    return torch.bmm(z, params.reshape(1, FEATURES_AND_BIAS, 1)).reshape(-1)


# --- the update rule, as torch.optim implements it -----------------------------------------------------------


def _step_along(direction: str, direction_tex: str, step: Step) -> Rule:
    """The parameter update θ ← θ − lr·``direction``, with the new parameters as its values."""
    return Rule(
        f"θ ← θ − lr·{direction}",
        rf"\theta \leftarrow \theta - \mathrm{{lr}}\,{direction_tex}",
        (("θ after", step.params_after),),
    )


def update_rule(step: Step) -> UpdateRule:
    """The optimizer's update at ``step`` line by line, as torch.optim's single-tensor code computes it.

    Sources: torch/optim/{sgd,adam,rmsprop,adagrad}.py (``_single_tensor_*``) of the installed torch and
    the formulas in their documentation. θ is [w, b] and g the gradient the optimizer sees. The last line's
    values end with the real ``params_after``; the state lines show the real state before and after;
    intermediate vectors (the gradient with weight decay, AdamW's decayed θ) are recomputed in float32
    with torch's operations.
    """
    c = step.config
    theta, grad = step.params_before, step.grad
    before, after = step.state_before, step.state_after
    zeros = torch.zeros(FEATURES_AND_BIAS)
    consts: list[tuple[str, str, str, float]] = [("lr", r"\mathrm{lr}", "learning rate", c.lr)]
    rules: list[Rule] = []
    note = ""
    decayed = c.weight_decay != 0 and c.optimizer != "adamw"
    if c.weight_decay != 0:
        consts.append(("λ", r"\lambda", "weight decay", c.weight_decay))
    if decayed:
        g = grad.add(theta, alpha=c.weight_decay)
        rules.append(
            Rule(
                "g ← ∂L/∂θ + λ·θ",
                r"g \leftarrow \frac{\partial L}{\partial \theta} + \lambda\,\theta",
                (("∂L/∂θ", grad), ("g", g)),
            )
        )
    else:
        g = grad

    if c.optimizer == "sgd":
        name = "SGD"
        if c.momentum != 0:
            consts.append(("μ", r"\mu", "momentum", c.momentum))
            consts.append(("τ", r"\tau", "dampening", c.dampening))
            buf = after["momentum_buffer"]
            if "momentum_buffer" not in before:
                note = "First step: torch.optim.SGD starts the momentum buffer at the gradient itself."
                rules.append(Rule("buf ← g", r"\mathrm{buf} \leftarrow g", (("buf after", buf),)))
            else:
                rules.append(
                    Rule(
                        "buf ← μ·buf + (1 − τ)·g",
                        r"\mathrm{buf} \leftarrow \mu\,\mathrm{buf} + (1-\tau)\,g",
                        (("buf before", before["momentum_buffer"]), ("buf after", buf)),
                    )
                )
            if c.nesterov:
                rules.append(
                    Rule(
                        "θ ← θ − lr·(g + μ·buf)",
                        r"\theta \leftarrow \theta - \mathrm{lr}\,(g + \mu\,\mathrm{buf})",
                        (("θ after", step.params_after),),
                    )
                )
            else:
                rules.append(_step_along("buf", r"\mathrm{buf}", step))
        else:
            rules.append(_step_along("g", "g", step))
    elif c.optimizer in ("adam", "adamw"):
        name = "Adam" if c.optimizer == "adam" else "AdamW"
        t = int(step.step_after or 0)
        b1, b2 = c.betas
        consts += [
            ("β₁", r"\beta_1", "decay of the gradient's average", b1),
            ("β₂", r"\beta_2", "decay of the squared gradient's average", b2),
            ("ε", r"\varepsilon", "keeps the denominator above 0", c.eps),
            ("t", "t", "torch's step count", float(t)),
        ]
        if c.optimizer == "adamw" and c.weight_decay != 0:
            shrunk = theta.mul(1 - c.lr * c.weight_decay)
            rules.append(
                Rule(
                    "θ ← θ·(1 − lr·λ)   (decoupled weight decay)",
                    r"\theta \leftarrow \theta\,(1 - \mathrm{lr}\,\lambda)",
                    (("θ decayed", shrunk),),
                )
            )
        rules.append(
            Rule(
                "m ← β₁·m + (1 − β₁)·g",
                r"m \leftarrow \beta_1 m + (1-\beta_1)\,g",
                (("m before", before.get("exp_avg", zeros)), ("m after", after["exp_avg"])),
            )
        )
        rules.append(
            Rule(
                "v ← β₂·v + (1 − β₂)·g²",
                r"v \leftarrow \beta_2 v + (1-\beta_2)\,g^2",
                (("v before", before.get("exp_avg_sq", zeros)), ("v after", after["exp_avg_sq"])),
            )
        )
        v = "v"
        if c.amsgrad:
            rules.append(
                Rule(
                    "v_max ← max(v_max, v)",
                    r"v_{\max} \leftarrow \max(v_{\max}, v)",
                    (("v_max before", before.get("max_exp_avg_sq", zeros)), ("v_max after", after["max_exp_avg_sq"])),
                )
            )
            v = "v_max"
        v_tex = r"v_{\max}" if c.amsgrad else "v"
        rules.append(
            Rule(
                f"θ ← θ − lr/(1 − β₁ᵗ) · m / (√{v} / √(1 − β₂ᵗ) + ε)",
                r"\theta \leftarrow \theta - \frac{\mathrm{lr}}{1-\beta_1^{t}}\,"
                rf"\frac{{m}}{{\sqrt{{{v_tex}}}\,/\sqrt{{1-\beta_2^{{t}}}} + \varepsilon}}",
                (("θ after", step.params_after),),
            )
        )
        note = "m and v start at 0; dividing by 1 − β₁ᵗ and 1 − β₂ᵗ undoes that start's pull toward 0."
    elif c.optimizer == "rmsprop":
        name = "RMSprop"
        consts += [
            ("α", r"\alpha", "decay of the squared gradient's average", c.alpha),
            ("ε", r"\varepsilon", "keeps the denominator above 0", c.eps),
        ]
        rules.append(
            Rule(
                "v ← α·v + (1 − α)·g²",
                r"v \leftarrow \alpha v + (1-\alpha)\,g^2",
                (("v before", before.get("square_avg", zeros)), ("v after", after["square_avg"])),
            )
        )
        if c.centered:
            rules.append(
                Rule(
                    "ḡ ← α·ḡ + (1 − α)·g",
                    r"\bar g \leftarrow \alpha \bar g + (1-\alpha)\,g",
                    (("ḡ before", before.get("grad_avg", zeros)), ("ḡ after", after["grad_avg"])),
                )
            )
            denom, denom_tex = "(√(v − ḡ²) + ε)", r"\left(\sqrt{v - \bar g^2} + \varepsilon\right)"
        else:
            denom, denom_tex = "(√v + ε)", r"\left(\sqrt{v} + \varepsilon\right)"
        if c.momentum > 0:
            consts.append(("μ", r"\mu", "momentum", c.momentum))
            rules.append(
                Rule(
                    f"buf ← μ·buf + g / {denom}",
                    rf"\mathrm{{buf}} \leftarrow \mu\,\mathrm{{buf}} + g / {denom_tex}",
                    (("buf before", before.get("momentum_buffer", zeros)), ("buf after", after["momentum_buffer"])),
                )
            )
            rules.append(_step_along("buf", r"\mathrm{buf}", step))
        else:
            rules.append(
                Rule(
                    f"θ ← θ − lr·g / {denom}",
                    rf"\theta \leftarrow \theta - \mathrm{{lr}}\,g / {denom_tex}",
                    (("θ after", step.params_after),),
                )
            )
    else:  # adagrad
        name = "Adagrad"
        t = int(step.step_after or 0)
        clr = c.lr / (1 + (t - 1) * c.lr_decay)
        consts += [
            ("η", r"\eta", "learning-rate decay", c.lr_decay),
            ("ε", r"\varepsilon", "keeps the denominator above 0", c.eps),
            ("t", "t", "torch's step count", float(t)),
        ]
        rules.append(
            Rule(
                f"lr_t = lr / (1 + (t − 1)·η) = {_text(clr)}",
                rf"\mathrm{{lr}}_t = \mathrm{{lr}} / (1 + (t-1)\,\eta) = {_tex(clr)}",
            )
        )
        rules.append(
            Rule(
                "s ← s + g²",
                r"s \leftarrow s + g^2",
                (("s before", before.get("sum", zeros)), ("s after", after["sum"])),
            )
        )
        rules.append(
            Rule(
                "θ ← θ − lr_t·g / (√s + ε)",
                r"\theta \leftarrow \theta - \mathrm{lr}_t\, g / \left(\sqrt{s} + \varepsilon\right)",
                (("θ after", step.params_after),),
            )
        )
    if not decayed:
        note = (note + " " if note else "") + "g is the gradient ∂L/∂θ itself."
    return UpdateRule(optimizer=name, constants=tuple(consts), rules=tuple(rules), note=note)


# --- the arithmetic, as equations for a page and a terminal -----------------------------------------------------


def forward_table(step: Step) -> dict[str, torch.Tensor]:
    """Per-parameter columns of the forward and backward pass, rows ``PARAMETER_LABELS`` (w1..w10, b).

    ``x`` is the input each parameter multiplies (1 for the bias; the batch mean at batch size > 1),
    ``θ`` the parameter before the step, ``θ·x`` its share of the (mean) prediction, ``∂L/∂θ`` the gradient.
    """
    z = torch.cat([step.x.mean(dim=0), torch.ones(1)])
    return {"x": z, "θ": step.params_before, "θ·x": step.params_before * z, "∂L/∂θ": step.grad}


def update_table(step: Step, rule: UpdateRule | None = None) -> dict[str, torch.Tensor]:
    """Per-parameter columns of the update: θ before, every vector the rule's lines read and wrote, θ after."""
    rule = rule or update_rule(step)
    columns = {"θ before": step.params_before, "∂L/∂θ": step.grad}
    for line in rule.rules:
        for label, value in line.values:
            columns.setdefault(label, value)
    columns["Δθ"] = step.params_after - step.params_before
    return columns


def sections(step: Step, rule: UpdateRule | None = None) -> list[Section]:
    """The step's arithmetic in order: inputs, prediction, loss, gradient, update, result."""
    rule = rule or update_rule(step)
    t, batch = step.target, step.batch_size
    w, b = step.params_before[:IN_FEATURES].double(), float(step.params_before[IN_FEATURES])
    x_mean = step.x.double().mean(dim=0)
    y = float(step.prediction.double().mean())
    wx = float((w * x_mean).sum())
    y_after = float(step.prediction_after.double().mean())
    dl_db = float(step.grad[IN_FEATURES])
    one = batch == 1
    out: list[Section] = []

    xs = ", ".join(_text(v) for v in step.x[0].tolist()) if one else ""
    out.append(
        Section(
            "The inputs",
            (
                Equation(f"x = torch.rand(1, 10) = [{xs}]", r"x = \texttt{torch.rand(1, 10)}")
                if one
                else Equation(
                    f"x = torch.rand({batch}, 10): {batch} rows; x̄ is their mean per column",
                    rf"x = \texttt{{torch.rand({batch}, 10)}},\quad \bar x = \tfrac{{1}}{{{batch}}}\sum_r x_r",
                ),
            ),
            ("Ten fresh random numbers, each uniform between 0 and 1: " + _inputs_meaning(step.config))
            if one
            else f"{batch} rows of ten fresh random numbers; the tables show their mean.",
        )
    )
    yhat, yhat_tex = ("ŷ", r"\hat y") if one else ("mean ŷ", r"\bar{\hat y}")
    xi, xi_tex = ("xᵢ", "x_i") if one else ("x̄ᵢ", r"\bar x_i")
    out.append(
        Section(
            "The prediction",
            (
                Equation(
                    f"{yhat} = b + Σ wᵢ·{xi} = {_text(b)} + {_paren(wx)} = {_text(y)}",
                    rf"\begin{{aligned}} {yhat_tex} &= b + \sum_{{i=1}}^{{10}} w_i {xi_tex} \\ "
                    rf"&= {_tex(b)} + {_tex_paren(wx)} = {_tex(y)} \end{{aligned}}",
                ),
            ),
            "The layer's forward pass, model(x): each weight times its input, plus the bias."
            + ("" if one else " The layer is linear, so the mean input gives the mean prediction exactly."),
        )
    )
    if one:
        loss_eq = Equation(
            f"L = (ŷ − t)² = ({_text(y)} − {_text(t)})² = {_text(step.loss)}",
            rf"\begin{{aligned}} L &= (\hat y - t)^2 \\ "
            rf"&= ({_tex(y)} - {_tex(t)})^2 = {_tex(step.loss)} \end{{aligned}}",
        )
    else:
        tr, tr_tex = ("t_r", "t_r") if step.varying else ("t", "t")
        loss_eq = Equation(
            f"L = (1/{batch})·Σ_r (ŷ_r − {tr})² = {_text(step.loss)}",
            rf"L = \tfrac{{1}}{{{batch}}}\sum_r (\hat y_r - {tr_tex})^2 = {_tex(step.loss)}",
        )
    out.append(Section("The loss", (loss_eq,), "nn.MSELoss: the squared distance from " + _target_meaning(step)))
    two_err = 2 * (y - t)
    tm, tm_tex = ("mean t", r"\bar t") if step.varying and not one else ("t", "t")
    if one:
        grads = (
            Equation(
                f"∂L/∂wᵢ = 2(ŷ − t)·xᵢ = {_text(two_err)}·xᵢ",
                rf"\frac{{\partial L}}{{\partial w_i}} = 2(\hat y - t)\,x_i = {_tex(two_err)}\,x_i",
            ),
            Equation(
                f"∂L/∂b = 2(ŷ − t) = {_text(dl_db)}",
                rf"\frac{{\partial L}}{{\partial b}} = 2(\hat y - t) = {_tex(dl_db)}",
            ),
        )
    else:
        grads = (
            Equation(
                f"∂L/∂wᵢ = (2/{batch})·Σ_r (ŷ_r − {tr})·x_r,ᵢ",
                rf"\frac{{\partial L}}{{\partial w_i}} = \tfrac{{2}}{{{batch}}}\sum_r (\hat y_r - {tr_tex})\,x_{{r,i}}",
            ),
            Equation(
                f"∂L/∂b = 2(mean ŷ − {tm}) = {_text(dl_db)}",
                rf"\frac{{\partial L}}{{\partial b}} = 2(\bar{{\hat y}} - {tm_tex}) = {_tex(dl_db)}",
            ),
        )
    out.append(
        Section(
            "The gradient",
            grads,
            "The chain rule through (ŷ − t)² and ŷ = b + Σ wᵢxᵢ: what loss.backward() leaves in .grad.",
        )
    )
    consts = ", ".join(f"{sym} = {_text(v)}" for sym, _, _, v in rule.constants)
    # three constants a line: readable on a phone
    parts = [f"{tex} = {_tex(v)}" for _, tex, _, v in rule.constants]
    lines_tex = [r",\quad ".join(parts[i : i + 3]) for i in range(0, len(parts), 3)]
    consts_tex = r"\begin{gathered} " + r" \\ ".join(lines_tex) + r" \end{gathered}"
    out.append(
        Section(
            f"The update: torch.optim.{rule.optimizer}, θ = [w, b]",
            (Equation(consts, consts_tex), *(Equation(r.text, r.latex) for r in rule.rules)),
            rule.note,
        )
    )
    gap, gap_after = abs(y - t), abs(y_after - t)
    moved = "closer to" if gap_after < gap else "farther from" if gap_after > gap else "as far from"
    out.append(
        Section(
            "The result",
            (
                Equation(
                    f"{yhat}: {_text(y)} → {_text(y_after)}   ({tm} = {_text(t)})",
                    rf"{yhat_tex}: {_tex(y)} \;\to\; {_tex(y_after)} \qquad ({tm_tex} = {_tex(t)})",
                ),
                Equation(
                    f"L: {_text(step.loss)} → {_text(step.loss_after)}",
                    rf"L: {_tex(step.loss)} \;\to\; {_tex(step.loss_after)}",
                ),
            ),
            f"The same inputs through the updated layer: the prediction is {_text(abs(gap - gap_after))} {moved} "
            f"the target (|ŷ − t| {_text(gap)} → {_text(gap_after)}).",
        )
    )
    return out


def describe(step: Step, rows: bool = False) -> str:
    """The step's arithmetic as plain text for a terminal; ``rows`` adds every row of a batch."""
    c = step.config
    target = f"target t = {_text(c.target)}" if c.target_rule is None else f"target t = {c.rule}"
    target += f" plus noise of σ = {_text(c.noise)}" if c.noise > 0 else ""
    head = (
        f"Inside epoch {step.epoch:,} of {c.epochs:,} (counted from 0): {OPTIMIZER_NAMES[c.optimizer]}, "
        f"lr {_text(c.lr)}, batch size {step.batch_size}, seed {c.seed}, {target}"
    )
    rule = update_rule(step)
    lines = [head, ""]
    for n, section in enumerate(sections(step, rule), start=1):
        lines.append(f"{n}. {section.title}")
        lines += [f"   {eq.text}" for eq in section.equations]
        if section.note:
            lines.append(f"   {section.note}")
        if section.title == "The gradient":
            lines += ["", *_table_text(forward_table(step), indent=3)]
        if section.title.startswith("The update"):
            lines += ["", *_table_text(update_table(step, rule), indent=3)]
        lines.append("")
    if rows and step.batch_size > 1:
        lines.append("The batch, row by row (x, t, ŷ, (ŷ − t)²):")
        for r in range(step.batch_size):
            xs = " ".join(f"{v:.4f}" for v in step.x[r].tolist())
            y, t = float(step.prediction[r]), float(step.targets[r]) if step.varying else step.target
            lines.append(f"   {r:>4}: {xs}  t = {_text(t)}  ŷ = {_text(y)}  (ŷ − t)² = {_text((y - t) ** 2)}")
    return "\n".join(lines).rstrip() + "\n"


def batch_rows(step: Step) -> dict[str, torch.Tensor]:
    """The batch row by row: x1..x10, t (with a rule or noise), ŷ and (ŷ − t)² (columns of length B)."""
    columns = {f"x{i + 1}": step.x[:, i] for i in range(IN_FEATURES)}
    if step.varying:
        columns["t"] = step.targets
    columns["ŷ"] = step.prediction
    columns["(ŷ − t)²"] = (step.prediction - (step.targets if step.varying else step.target)).square()
    return columns


def _inputs_meaning(config: Config) -> str:
    if config.target_rule is None:
        return "they carry no information about the target."
    return f"the target is the rule {config.target_rule.text} of them."


def _target_meaning(step: Step) -> str:
    """What the target of this step is, for the loss's note: the number, or how the rule and noise made it."""
    c, rule = step.config, step.config.target_rule
    if not step.varying:
        return f"the target t = {_text(step.target)}."
    if step.batch_size > 1:
        made = f"the rule {rule.text}" if rule is not None else f"the lucky number {_text(c.target)}"
        noise = f" plus noise of σ = {_text(c.noise)}" if c.noise > 0 else ""
        return f"each row's own target t_r: {made} at its inputs{noise}."
    clean = float(rule.evaluate(step.x)[0]) if rule is not None else c.target
    made = f"the rule {rule.text} at these inputs, {_text(clean)}" if rule is not None else f"{_text(clean)}"
    if c.noise > 0:
        made += f", plus noise σ·ε = {_text(step.target - clean)} (σ = {_text(c.noise)}, ε drawn fresh each epoch)"
    return f"the target t = {made}: t = {_text(step.target)}."


def _table_text(columns: dict[str, torch.Tensor], indent: int) -> list[str]:
    width = 13
    pad = " " * indent
    out = [pad + " " * 4 + "".join(f"{name:>{width}}" for name in columns)]
    for i, label in enumerate(PARAMETER_LABELS):
        out.append(pad + f"{label:<4}" + "".join(f"{_text(float(v[i])):>{width}}" for v in columns.values()))
    return out


def _text(v: float) -> str:
    """A number for reading: 6 significant digits, no trailing zeros."""
    if not math.isfinite(v):
        return str(v)
    return f"{v:.6g}"


def _paren(v: float) -> str:
    return f"({_text(v)})" if v < 0 else _text(v)


def _tex(v: float) -> str:
    """A number for KaTeX: 6 significant digits, powers of ten written out."""
    s = _text(v)
    if "e" in s:
        mantissa, exponent = s.split("e")
        return rf"{mantissa} \times 10^{{{int(exponent)}}}"
    return s.replace("inf", r"\infty")


def _tex_paren(v: float) -> str:
    return f"({_tex(v)})" if v < 0 else _tex(v)
