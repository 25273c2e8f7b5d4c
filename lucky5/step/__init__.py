"""Inside one step: the exact numbers of one optimizer step of a run, and the arithmetic that links them.

``explain_step(config, k)`` returns step k of the run (the step whose loss is ``history.losses[k]``): the
inputs drawn, the prediction, the loss, the gradient, the parameters and the optimizer's state before and
after. ``update_rule(step)`` writes the optimizer's update as torch.optim computes it, one line at a time,
each line with the numbers it produced; ``sections(step)`` is the whole arithmetic of the step as equations
in plain text and in LaTeX, each naming the table that follows it; ``describe(step)`` prints them for a
terminal. The page's "Inside one step" panel draws the same sections, so the two never disagree.

One job per module:

- ``snapshot``: ``Step`` and ``explain_step``, the numbers, taken from the engine's own loop;
- ``rules``: the update rule of each optimizer variant, one small function each (``UPDATE_RULES``);
- ``tables``: the per-parameter and per-row tables of a step;
- ``notation``: numbers as plain text and as LaTeX;
- ``arithmetic``: the sections of equations and the terminal text.

This package is not a second training loop and never imports a UI. Every public name is importable from
``lucky5.step`` itself.
"""

from .arithmetic import Equation, Section, describe, sections
from .rules import UPDATE_RULES, Rule, UpdateRule, Variant, update_rule, variant
from .snapshot import STATE_NAMES, Step, explain_step
from .tables import PARAMETER_LABELS, Table, batch_rows, forward_table, table, update_table

__all__ = [
    "PARAMETER_LABELS",
    "STATE_NAMES",
    "UPDATE_RULES",
    "Equation",
    "Rule",
    "Section",
    "Step",
    "Table",
    "UpdateRule",
    "Variant",
    "batch_rows",
    "describe",
    "explain_step",
    "forward_table",
    "sections",
    "table",
    "update_rule",
    "update_table",
    "variant",
]
