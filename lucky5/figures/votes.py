"""The reveal of a stage's question on the wall: the room's votes beside what its runs did and what theory says.

A pure function of the question (``lucky5.room.Question``), the revealed counts of both rounds
(``Poll.counts``), the room's runs (``Question.outcome``) and the theory (``Question.theory``), and the theme.
One row per choice, its text at the left (horizontal bars: a choice's text reads across, however long). Left,
the votes: the first vote and, after "ask again", the second below it. Right, the runs per choice (the runs
in each bin of b, the runs that reached or missed, or the runs that blew up at each rate). A star before a
choice's text marks what theory predicts, and the choices the runs bore out are written bold: shape and weight
say it, not colour alone. The choices are categories, never numbers: "0.01" and "none of them" are rows alike
(left to Plotly, labels that look like numbers turn the axis numeric and the others vanish).
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..room import BlowUpQuestion, Expected, Outcome, Question
from .style import palette
from .wall import WALL_FONT, _layout

LABEL_WIDTH = 16  # characters per line of a choice's label beside its bars
# px: the reveal is brought whole into a 1280×720 wall's view under Streamlit's header (page/room/vote.py), so
# its height stops here however many choices and rounds it shows; its text stays at the wall's projector size.
MAX_HEIGHT = 600
ROUND_NAMES = ("first vote", "second vote")


STAR = "★"  # before the choices theory predicts


def choice_label(text: str, bold: bool, starred: bool = False) -> str:
    """A choice's text beside its bars: wrapped to ``LABEL_WIDTH`` characters a line, bold when the runs bore it
    out, after a star when theory predicts it. The texts are the question's own data
    (``lucky5.room.questions``), never a participant's."""
    label = "<br>".join(textwrap.wrap(text, LABEL_WIDTH)) or text
    label = f"{STAR} {label}" if starred else label
    return f"<b>{label}</b>" if bold else label


def _tried(question: Question, outcome: Outcome) -> list[str] | None:
    """Beside each learning rate's bar of runs that blew up, out of how many runs: an empty bar reads as "none
    blew up", which is wrong where no phone tried the rate ("no run"). None for the other questions."""
    if not isinstance(question, BlowUpQuestion):
        return None
    return [
        "" if c.id == question.alone else f"{k:,} of {n:,}" if n else "no run"
        for c, k, n in zip(question.choices, outcome.counts, outcome.totals, strict=True)
    ]


def reveal_height(choices: int, rounds: int) -> int:
    """The reveal's height in px: room for the titles, the legend and the axis, and a row per choice of
    ``rounds`` bars, tall enough for a label of two lines at the wall's size; at most ``MAX_HEIGHT``."""
    return min(MAX_HEIGHT, 150 + max(56, 36 * rounds) * choices)


def votes_figure(
    question: Question,
    counts: Sequence[Sequence[int]],
    rounds: int,
    outcome: Outcome,
    expected: Expected,
    theme: str,
) -> go.Figure:
    """Two bar charts side by side, one row per choice of ``question``, in its order from the top.

    Args:
        counts: per round, how many votes hold each choice (``Poll.counts``), in the question's order.
        rounds: how many rounds to draw (1, or 2 after "ask again"): round 2 is drawn beside round 1.
        outcome: what the room's runs did (``Question.outcome``); ``expected``: theory's answer.
        theme: "light" or "dark" (``style.palette``; ValueError otherwise).

    Raises:
        ValueError: a round's counts do not have one number per choice, or ``rounds`` is not 1 or 2.
    """
    p = palette(theme)
    n = len(question.choices)
    if rounds not in (1, 2) or len(counts) < rounds or any(len(c) != n for c in counts[:rounds]):
        raise ValueError(f"need {rounds} round(s) of {n} counts, one per choice")
    labels = [choice_label(c.text, c.id in outcome.happened, c.id in expected.choices) for c in question.choices]
    runs_title = "runs that blew up" if isinstance(question, BlowUpQuestion) else "runs"
    fig = make_subplots(
        rows=1,
        cols=2,
        shared_yaxes=True,
        horizontal_spacing=0.06,
        subplot_titles=["The room's votes", f"What the {runs_title} did"],
    )
    edge = dict(color=p.ink, width=1)
    for r, colour in zip(range(rounds), (p.blue, p.orange), strict=False):
        bars = go.Bar(
            y=labels, x=list(counts[r]), orientation="h", name=ROUND_NAMES[r], marker=dict(color=colour, line=edge)
        )
        fig.add_trace(bars, row=1, col=1)
    # The runs that blew up in the wall's own colour for them (``figures.wall``); other outcomes in green.
    done_colour = p.vermilion if isinstance(question, BlowUpQuestion) else p.green
    done = go.Bar(
        y=labels,
        x=list(outcome.counts),
        orientation="h",
        name=runs_title,
        marker=dict(color=done_colour, line=edge),
        text=_tried(question, outcome),
        textposition="outside",
        textfont=dict(size=WALL_FONT),
        cliponaxis=False,
    )
    fig.add_trace(done, row=1, col=2)
    most_votes = max((max(c) for c in counts[:rounds]), default=0)
    most_runs = max(outcome.counts, default=0)
    for col, most, room in ((1, most_votes, 0.1), (2, most_runs, 0.6)):  # room for the runs' "0 of 5" at right
        fig.update_xaxes(range=[0, most * (1 + room) + 0.5 + 2 * room], row=1, col=col)
    fig.update_xaxes(title="votes", row=1, col=1)
    fig.update_xaxes(title=runs_title, row=1, col=2)
    fig.update_yaxes(type="category", autorange="reversed", categoryorder="array", categoryarray=labels)
    _layout(fig, theme, reveal_height(n, rounds))
    most = max(most_votes, most_runs)
    fig.update_xaxes(rangemode="tozero", tickformat=",d", dtick=1 if most <= 10 else None)
    fig.update_layout(
        barmode="group",
        showlegend=True,
        legend=dict(orientation="h", x=0, y=1.0, yanchor="bottom", font=dict(size=WALL_FONT)),
        margin=dict(t=110, b=10),
    )
    fig.update_annotations(yshift=40)  # the panels' titles above the legend
    return fig
