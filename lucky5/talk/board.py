"""Scene 3's board: one optimizer step's arithmetic as plain HTML, large, with the run's own numbers.

Every equation is ``lucky5.step``'s own plain-text rendering (``Equation.text``, the same text
``python -m lucky5 --explain-step K`` prints), so the board needs no maths renderer and no network: Unicode
carries ŷ, Σ, ∂ and the subscripts, and the numbers are ``explain_step``'s, written by ``step.notation.plain``.
"""

from __future__ import annotations

from html import escape

from ..engine import IN_FEATURES
from ..step import Step, Table, sections, table, update_rule
from ..step.notation import plain


def board(step: Step) -> str:
    """The step as an HTML fragment: each section of ``step.sections`` with its equations and, under the update,
    the bias's row of the update table (before, gradient, the optimizer's state, after). The sections' notes,
    what the equations mean, are the speaker's to say: a projector's screen has room for the numbers only.

    All text is escaped; the fragment has no script, style or link.
    """
    rule = update_rule(step)
    parts = []
    for n, section in enumerate(sections(step, rule), start=1):
        equations = "".join(f'<p class="eq">{escape(eq.text)}</p>' for eq in section.equations)
        extra = ""
        if section.table is Table.UPDATE:
            columns = table(step, Table.UPDATE, rule)
            rows = "".join(
                f'<tr><th scope="row">{escape(name)}</th><td>{escape(plain(float(v[IN_FEATURES])))}</td></tr>'
                for name, v in columns.items()
            )
            extra = f"<table><caption>The bias b in this update</caption>{rows}</table>"
        title = f"<h2>{n}. {escape(section.title)}</h2>"
        parts.append(f'<div class="part" data-section="{n}">{title}{equations}{extra}</div>')
    c = step.config
    head = f"Epoch {step.epoch:,} of {c.epochs:,} (counted from 0), seed {c.seed}, target t = {plain(c.target)}"
    return f'<div class="board"><p class="where">{escape(head)}</p>{"".join(parts)}</div>'


__all__ = ["board"]
