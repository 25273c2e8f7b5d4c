"""The step's numbers as tables: per parameter (rows w1..w10, b) for the forward pass and the update, and
the batch row by row. A ``Section`` names the ``Table`` that follows it; ``table`` gives its columns."""

from __future__ import annotations

import enum

import torch

from ..engine import IN_FEATURES
from .rules import UpdateRule, update_rule
from .snapshot import Step

__all__ = ["PARAMETER_LABELS", "Table", "batch_rows", "forward_table", "table", "update_table"]

# Row labels of every per-parameter table: the ten weights, then the bias.
PARAMETER_LABELS = tuple(f"w{i}" for i in range(1, IN_FEATURES + 1)) + ("b",)


class Table(enum.Enum):
    """Which table of the step follows a section."""

    BATCH = "batch"  # the batch row by row (B rows): ``batch_rows``
    FORWARD = "forward"  # per parameter: the forward and backward pass, ``forward_table``
    UPDATE = "update"  # per parameter: the optimizer's update, ``update_table``

    @property
    def per_parameter(self) -> bool:
        """True when the rows are ``PARAMETER_LABELS``; False for the batch's rows."""
        return self is not Table.BATCH


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


def batch_rows(step: Step) -> dict[str, torch.Tensor]:
    """The batch row by row: x1..x10, t (with a rule or noise), ŷ and (ŷ − t)² (columns of length B)."""
    columns = {f"x{i + 1}": step.x[:, i] for i in range(IN_FEATURES)}
    if step.varying:
        columns["t"] = step.targets
    columns["ŷ"] = step.prediction
    columns["(ŷ − t)²"] = (step.prediction - (step.targets if step.varying else step.target)).square()
    return columns


def table(step: Step, kind: Table, rule: UpdateRule | None = None) -> dict[str, torch.Tensor]:
    """The columns of table ``kind`` of ``step`` (``rule`` saves recomputing the update rule)."""
    if kind is Table.BATCH:
        return batch_rows(step)
    if kind is Table.FORWARD:
        return forward_table(step)
    return update_table(step, rule)
