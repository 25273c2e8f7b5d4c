"""The whole arithmetic of one step as sections of equations, in plain text and in LaTeX, and as terminal text.

``sections(step)`` is the step in order: the inputs, the prediction, the loss, the gradient, the update and
the result, each with its equations, a sentence that says what it means, and the ``Table`` that follows it.
``describe(step)`` prints them for a terminal (``python -m lucky5 --explain-step K``); the page's "Inside one
step" panel draws the same sections, so the two never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..config import OPTIMIZER_NAMES
from ..engine import IN_FEATURES
from ..narration import number
from .notation import latex, latex_term, plain, plain_term
from .rules import UpdateRule, update_rule
from .snapshot import Step
from .tables import PARAMETER_LABELS, Table, table

__all__ = ["Equation", "Section", "describe", "sections"]


@dataclass(frozen=True)
class Equation:
    text: str
    latex: str


@dataclass(frozen=True)
class Section:
    """One part of the step's arithmetic: a title, its equations, a sentence that says what it means, and
    the table that follows it (None for none)."""

    title: str
    equations: tuple[Equation, ...]
    note: str = ""
    table: Table | None = None


def sections(step: Step, rule: UpdateRule | None = None) -> list[Section]:
    """The step's arithmetic in order: inputs, prediction, loss, gradient, update, result."""
    rule = rule or update_rule(step)
    return [_inputs(step), _prediction(step), _loss(step), _gradient(step), _update(rule), _result(step)]


def describe(step: Step, rows: bool = False) -> str:
    """The step's arithmetic as plain text for a terminal; ``rows`` adds every row of a batch."""
    c = step.config
    rule = update_rule(step)
    target = f"target t = {plain(c.target)}" if c.target_rule is None else f"target t = {c.rule}"
    target += f" plus noise of σ = {plain(c.noise)}" if c.noise > 0 else ""
    head = (
        f"Inside epoch {step.epoch:,} of {c.epochs:,} (counted from 0): {OPTIMIZER_NAMES[c.optimizer]}, "
        f"lr {plain(c.lr)}, batch size {step.batch_size}, seed {c.seed}, {target}"
    )
    lines = [head, ""]
    for n, section in enumerate(sections(step, rule), start=1):
        lines.append(f"{n}. {section.title}")
        lines += [f"   {eq.text}" for eq in section.equations]
        if section.note:
            lines.append(f"   {section.note}")
        if section.table is not None and section.table.per_parameter:
            lines += ["", *_table_text(table(step, section.table, rule), indent=3)]
        lines.append("")
    if rows and step.batch_size > 1:
        lines.append("The batch, row by row (x, t, ŷ, (ŷ − t)²):")
        for r in range(step.batch_size):
            xs = " ".join(f"{v:.4f}" for v in step.x[r].tolist())
            y, t = float(step.prediction[r]), float(step.targets[r]) if step.varying else step.target
            lines.append(f"   {r:>4}: {xs}  t = {plain(t)}  ŷ = {plain(y)}  (ŷ − t)² = {plain((y - t) ** 2)}")
    return "\n".join(lines).rstrip() + "\n"


# --- the sections, one function each ------------------------------------------------------------------------


def _symbols(step: Step) -> tuple[str, str, str, str]:
    """ŷ and xᵢ as the equations write them (text, LaTeX): one input, or the batch's means."""
    if step.batch_size == 1:
        return "ŷ", r"\hat y", "xᵢ", "x_i"
    return "mean ŷ", r"\bar{\hat y}", "x̄ᵢ", r"\bar x_i"


def _mean_prediction(prediction: torch.Tensor) -> float:
    return float(prediction.double().mean())


def _inputs(step: Step) -> Section:
    batch = step.batch_size
    if batch == 1:
        xs = ", ".join(plain(v) for v in step.x[0].tolist())
        return Section(
            "The inputs",
            (Equation(f"x = torch.rand(1, 10) = [{xs}]", r"x = \texttt{torch.rand(1, 10)}"),),
            "Ten fresh random numbers, each uniform between 0 and 1: " + _inputs_meaning(step),
        )
    return Section(
        "The inputs",
        (
            Equation(
                f"x = torch.rand({batch}, 10): {batch} rows; x̄ is their mean per column",
                rf"x = \texttt{{torch.rand({batch}, 10)}},\quad \bar x = \tfrac{{1}}{{{batch}}}\sum_r x_r",
            ),
        ),
        f"{batch} rows of ten fresh random numbers; the tables show their mean.",
        Table.BATCH,
    )


def _prediction(step: Step) -> Section:
    yhat, yhat_tex, xi, xi_tex = _symbols(step)
    w, b = step.params_before[:IN_FEATURES].double(), float(step.params_before[IN_FEATURES])
    wx = float((w * step.x.double().mean(dim=0)).sum())
    y = _mean_prediction(step.prediction)
    return Section(
        "The prediction",
        (
            Equation(
                f"{yhat} = b + Σ wᵢ·{xi} = {plain(b)} + {plain_term(wx)} = {plain(y)}",
                rf"\begin{{aligned}} {yhat_tex} &= b + \sum_{{i=1}}^{{10}} w_i {xi_tex} \\ "
                rf"&= {latex(b)} + {latex_term(wx)} = {latex(y)} \end{{aligned}}",
            ),
        ),
        "The layer's forward pass, model(x): each weight times its input, plus the bias."
        + (
            "" if step.batch_size == 1 else " The layer is linear, so the mean input gives the mean prediction exactly."
        ),
    )


def _loss(step: Step) -> Section:
    t, batch = step.target, step.batch_size
    y = _mean_prediction(step.prediction)
    if batch == 1:
        equation = Equation(
            f"L = (ŷ − t)² = ({plain(y)} − {plain(t)})² = {plain(step.loss)}",
            rf"\begin{{aligned}} L &= (\hat y - t)^2 \\ "
            rf"&= ({latex(y)} - {latex(t)})^2 = {latex(step.loss)} \end{{aligned}}",
        )
    else:
        tr = "t_r" if step.varying else "t"
        equation = Equation(
            f"L = (1/{batch})·Σ_r (ŷ_r − {tr})² = {plain(step.loss)}",
            rf"L = \tfrac{{1}}{{{batch}}}\sum_r (\hat y_r - {tr})^2 = {latex(step.loss)}",
        )
    return Section("The loss", (equation,), "nn.MSELoss: the squared distance from " + _target_meaning(step))


def _gradient(step: Step) -> Section:
    batch = step.batch_size
    dl_db = float(step.grad[IN_FEATURES])
    if batch == 1:
        two_err = 2 * (_mean_prediction(step.prediction) - step.target)
        weights = Equation(
            f"∂L/∂wᵢ = 2(ŷ − t)·xᵢ = {plain(two_err)}·xᵢ",
            rf"\frac{{\partial L}}{{\partial w_i}} = 2(\hat y - t)\,x_i = {latex(two_err)}\,x_i",
        )
        bias = Equation(
            f"∂L/∂b = 2(ŷ − t) = {plain(dl_db)}",
            rf"\frac{{\partial L}}{{\partial b}} = 2(\hat y - t) = {latex(dl_db)}",
        )
    else:
        (tr, tr_tex), (tm, tm_tex) = (("t_r", "t_r"), ("mean t", r"\bar t")) if step.varying else (("t", "t"),) * 2
        weights = Equation(
            f"∂L/∂wᵢ = (2/{batch})·Σ_r (ŷ_r − {tr})·x_r,ᵢ",
            rf"\frac{{\partial L}}{{\partial w_i}} = \tfrac{{2}}{{{batch}}}\sum_r (\hat y_r - {tr_tex})\,x_{{r,i}}",
        )
        bias = Equation(
            f"∂L/∂b = 2(mean ŷ − {tm}) = {plain(dl_db)}",
            rf"\frac{{\partial L}}{{\partial b}} = 2(\bar{{\hat y}} - {tm_tex}) = {latex(dl_db)}",
        )
    return Section(
        "The gradient",
        (weights, bias),
        "The chain rule through (ŷ − t)² and ŷ = b + Σ wᵢxᵢ: what loss.backward() leaves in .grad.",
        Table.FORWARD,
    )


def _update(rule: UpdateRule) -> Section:
    constants = ", ".join(f"{sym} = {plain(v)}" for sym, _, _, v in rule.constants)
    # three constants a line: readable on a phone
    parts = [f"{tex} = {latex(v)}" for _, tex, _, v in rule.constants]
    lines_tex = [r",\quad ".join(parts[i : i + 3]) for i in range(0, len(parts), 3)]
    constants_tex = r"\begin{gathered} " + r" \\ ".join(lines_tex) + r" \end{gathered}"
    return Section(
        f"The update: torch.optim.{rule.optimizer}, θ = [w, b]",
        (Equation(constants, constants_tex), *(Equation(r.text, r.latex) for r in rule.rules)),
        rule.note,
        Table.UPDATE,
    )


def _result(step: Step) -> Section:
    yhat, yhat_tex, _, _ = _symbols(step)
    t = step.target
    tm, tm_tex = ("mean t", r"\bar t") if step.varying and step.batch_size > 1 else ("t", "t")
    y, y_after = _mean_prediction(step.prediction), _mean_prediction(step.prediction_after)
    gap, gap_after = abs(y - t), abs(y_after - t)
    moved = "closer to" if gap_after < gap else "farther from" if gap_after > gap else "as far from"
    return Section(
        "The result",
        (
            Equation(
                f"{yhat}: {plain(y)} → {plain(y_after)}   ({tm} = {plain(t)})",
                rf"{yhat_tex}: {latex(y)} \;\to\; {latex(y_after)} \qquad ({tm_tex} = {latex(t)})",
            ),
            Equation(
                f"L: {plain(step.loss)} → {plain(step.loss_after)}",
                rf"L: {latex(step.loss)} \;\to\; {latex(step.loss_after)}",
            ),
        ),
        # Prose, not an equation: numbers as the rest of the page writes them (1.5×10¹¹, not 1.5e+11).
        f"The same inputs through the updated layer: the prediction is {number(abs(gap - gap_after), 6)} {moved} "
        f"the target (|ŷ − t| {number(gap, 6)} → {number(gap_after, 6)}).",
    )


def _inputs_meaning(step: Step) -> str:
    rule = step.config.target_rule
    if rule is None:
        return "they carry no information about the target."
    return f"the target is the rule {rule.text} of them."


def _target_meaning(step: Step) -> str:
    """What the target of this step is, for the loss's note: the number, or how the rule and noise made it (prose:
    numbers as the page writes them, 1×10¹², not the equations' 1e+12)."""
    c, rule = step.config, step.config.target_rule
    if not step.varying:
        return f"the target t = {number(step.target, 6)}."
    noise = f" plus noise of σ = {number(c.noise, 6)}" if c.noise > 0 else ""
    if step.batch_size > 1:
        made = f"the rule {rule.text}" if rule is not None else f"the lucky number {number(c.target, 6)}"
        return f"each row's own target t_r: {made} at its inputs{noise}."
    clean = float(rule.evaluate(step.x)[0]) if rule is not None else c.target
    made = f"the rule {rule.text} at these inputs, {number(clean, 6)}" if rule is not None else number(clean, 6)
    if c.noise > 0:
        made += (
            f", plus noise σ·ε = {number(step.target - clean, 6)} (σ = {number(c.noise, 6)}, ε drawn fresh each epoch)"
        )
    return f"the target t = {made}: t = {number(step.target, 6)}."


def _table_text(columns: dict[str, torch.Tensor], indent: int) -> list[str]:
    """A per-parameter table as fixed-width lines, one row per ``PARAMETER_LABELS`` entry."""
    width = 13
    pad = " " * indent
    out = [pad + " " * 4 + "".join(f"{name:>{width}}" for name in columns)]
    for i, label in enumerate(PARAMETER_LABELS):
        out.append(pad + f"{label:<4}" + "".join(f"{plain(float(v[i])):>{width}}" for v in columns.values()))
    return out
