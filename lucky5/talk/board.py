"""Scene 3's board: one optimizer step's arithmetic as plain HTML, large, with the run's own numbers.

The parts and their lines are ``lucky5.scenes.step_board``'s, the same the page's projector shows: the forward
pass and the loss, the gradient, and the update of b, written from ``explain_step``'s numbers. As plain text
they need no maths renderer and no network: Unicode carries ŷ, Σ, ∂ and the subscripts.
"""

from __future__ import annotations

from html import escape

from ..scenes import step_board
from ..step import Step


def board(step: Step) -> str:
    """The step as an HTML fragment: each part of ``step_board`` (its name, the PyTorch call, its lines) in a
    row. All text is escaped; the fragment has no script, style or link."""
    c = step.config
    rows = "".join(
        f'<div class="part"><h2>{n}. {escape(part.name)}<code>{escape(part.code)}</code></h2>'
        f'<div class="lines">{"".join(f"<p>{escape(line)}</p>" for line in part.lines)}</div></div>'
        for n, part in enumerate(step_board(step), start=1)
    )
    where = f"step {step.epoch + 1:,} of {c.epochs:,} (epoch {step.epoch:,}, counting from 0)"
    label = f"Inside {where}: the forward pass, the gradient and the update"
    return f'<div class="board" role="group" aria-label="{escape(label)}">{rows}</div>'


__all__ = ["board"]
