"""The stage's question on the wall: how many voted, never what, until the presenter reveals it; then the votes
beside what the room's runs did and what theory says. The presenter's buttons beside it: open the vote, close
it, reveal it, ask again (a second vote, revealed beside the first), or skip the question.

Drawn inside the wall's timed fragment (``wall.wall_view``), so "N voted" follows the phones' votes. The
question, its rules and both answers are ``lucky5.room``'s (``questions``, ``votes``); the chart is
``lucky5.figures.votes_figure``; nothing here decides what is true.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from lucky5.figures import votes_figure
from lucky5.figures.votes import STAR
from lucky5.narration import near, number
from lucky5.room import Poll, RoomError, Summary

from .. import runtime
from ..panels import CHART_CONFIG
from ..scroll import into_view
from ..text import literal
from .store import show_error, store

MEMO = "vote_memo"  # session-state key: (signature, figure) of the reveal drawn last
SEEN = "vote_seen"  # session-state key: (code, stage, round, revealed) of the vote this page showed last
NOTICE = "vote_notice"  # session-state key: the refusal of the presenter's last vote button


def section(code: str, stage: str, runs: Sequence[Summary], key: str | None) -> None:
    """The question of room ``code``'s current ``stage``, its vote's state, and for the presenter (``key``) the
    buttons; the reveal's chart once revealed. A refusal of the store is shown, the rest of the wall still is."""
    try:
        poll = store().poll(code, stage)
    except RoomError as err:
        show_error(err)
        return
    seen, now = st.session_state.get(SEEN), (code, poll.stage, poll.round, poll.revealed)
    st.session_state[SEEN] = now
    with st.container(key="vote_panel"):
        if notice := st.session_state.pop(NOTICE, None):
            st.error(literal(notice))
        st.markdown(f"**Question:** {literal(poll.question.text)}")
        # The presenter's buttons and the state on one row: at 1280×720 the first chart must start on the screen.
        # The buttons come first: the state's words change length, and must not move a button under the pointer.
        with st.container(key="vote_row", horizontal=True, vertical_alignment="center", gap="medium"):
            if key is not None:
                _buttons(code, key, poll, len(runs))
            st.markdown(f'<div class="lucky5-voted">{_state(poll)}</div>', unsafe_allow_html=True, width="content")
        if poll.round == 2:
            st.caption(f"Second vote, after asking again ({poll.voted[0]:,} voted the first time).")
        if poll.revealed and poll.counts is not None:
            _reveal(poll, runs, revealed_now=seen is not None and seen != now)


def _state(poll: Poll) -> str:
    """The vote's state in a few words, numbers only from the store: never what anyone voted."""
    if poll.skipped:
        return "Question skipped"
    if poll.round == 0:
        return "Voting has not opened"
    voted = f"{poll.voted[poll.round - 1]:,} voted"
    if poll.open:
        return voted
    return voted + (" · revealed" if poll.revealed else " · voting closed")


# (label, action, round) of each button, always in this order and place: a button that does not apply now is
# disabled, not removed. Were the next step drawn where the last one was, a double press ("Open the vote",
# then at the same spot "Close voting"; "Close voting", then "Reveal the votes") would do both at once.
BUTTONS = (
    ("Open the vote", "open", 1),
    ("Close voting", "close", 0),
    ("Reveal the votes", "reveal", 0),
    ("Ask again", "open", 2),
    ("Skip the question", "skip", 0),
)


def _offered(poll: Poll, trained: int) -> dict[str, bool]:
    """Which of ``BUTTONS`` apply now, by label, for a stage with ``trained`` runs on the wall.

    Predict, then see: open before any vote (after a skip too, while no run is on the wall: a vote after the room
    saw runs would ask what it already knows); close while open; reveal once the vote is closed (never straight
    from an open vote: the room trains between the two); ask again once, after the first vote closed and before
    the reveal (after it the answer is on the wall); skip until revealed (after a reveal the next stage is the way
    on: a skip would hide the results the room just saw)."""
    started = poll.round > 0 and not poll.skipped
    closed = started and not poll.open
    return {
        "Open the vote": not started and (not poll.skipped or trained == 0),
        "Close voting": poll.open,
        "Reveal the votes": closed and not poll.revealed,
        "Ask again": closed and poll.round == 1 and not poll.revealed,
        "Skip the question": not poll.skipped and not poll.revealed,
    }


def _buttons(code: str, key: str, poll: Poll, trained: int) -> None:
    offered = _offered(poll, trained)
    if not any(offered.values()):  # revealed: nothing left to do here but move on to the next stage
        return
    for label, action, round_ in BUTTONS:
        st.button(
            label,
            key=f"vote_{action}_{round_}",
            on_click=_act,
            args=(code, key, poll.stage, action, round_ or 1),
            disabled=not offered[label],
            width="content",
        )


def _act(code: str, key: str, stage: str, action: str, round_: int) -> None:
    try:
        store().vote(code, key, stage, action, round_)
    except RoomError as err:
        st.session_state[NOTICE] = str(err)


def _reveal(poll: Poll, runs: Sequence[Summary], revealed_now: bool) -> None:
    """The chart (cached per theme, counts and runs) and what theory says, in plain words. The moment a page sees
    the reveal (``revealed_now``: its presenter pressed it, or a watching wall's refresh found it), the chart is
    brought whole into view: below the counts and the buttons it would start near the bottom of a projected wall."""
    assert poll.counts is not None
    question = poll.question
    outcome, expected = question.outcome(runs), question.theory()
    theme = runtime.theme()
    signature = (theme, poll.stage, poll.round, poll.counts, hash(tuple(runs)))
    memo = st.session_state.get(MEMO)
    if memo is None or memo[0] != signature:
        figure = votes_figure(question, poll.counts, poll.round, outcome, expected, theme)
        memo = st.session_state[MEMO] = (signature, runtime.FrozenFigure(figure))
    alt = "Bars: the room's votes per choice" + (", first and second vote side by side" if poll.round == 2 else "")
    with st.container(key="vote_reveal"):
        st.plotly_chart(memo[1], key="wall_votes", config=CHART_CONFIG, alt=alt + ", beside what the runs did.")
    if revealed_now:
        into_view(".st-key-vote_reveal", poll.version)
    base = question.stage_info.base
    st.caption(literal(_theory_words(expected.limit, expected.b_mean, expected.b_std, base.epochs, base.target)))
    st.caption(literal(expected.note + f" {STAR} marks what theory predicts; bold, what the room's runs did."))
    if not outcome.runs:
        st.caption("No run trained in this stage yet: the right chart fills as the phones train.")


def _theory_words(limit: float | None, mean: float | None, std: float | None, epochs: int, target: float) -> str:
    """Theory's numbers: the stability limit of the learning rate and, where it applies, E[b] ± its spread."""
    said = "Theory: " + ("no stability limit here" if limit is None else f"the stability limit is lr ≈ {limit:.3g}")
    if mean is not None and std is not None:  # the narration's numbers: 4.9999 beside 5 (never "5"), 1.2×10⁻⁵
        said += f"; after {epochs:,} epochs, b is {near(mean, target)} ± {number(std, 2)} on average over seeds"
    return said + "."
