"""The stage's question on the Streamlit phone (``?join=CODE``), as the light phone asks it: predict, then train.

The question and its choices are ``lucky5.room.questions``; the vote's rules and the phone's sentences are
``lucky5.room.votes`` (``phone_says``); the store keeps one vote per participant and round, which may change
until the presenter closes voting, so a reload shows the vote again. Until the vote is closed or the question
skipped, Train waits (``votes.train_waits``).
"""

from __future__ import annotations

import streamlit as st

from lucky5.room import Poll, RoomError, Stage
from lucky5.room.votes import phone_says

from ..text import literal
from .store import show_error, store


def ask(code: str, participant: str, stage: Stage) -> Poll | None:
    """Draw ``stage``'s question, its choices while voting is open, and this phone's vote; the vote as read
    (``votes.train_waits``: whether Train waits; ``Poll.version``: the page follows its changes), None while the
    store is away (the page's banner says so; the question comes back with the store). A skipped question
    draws nothing."""
    try:
        poll = store().poll(code, stage.name)
        mine = store().ballot(code, participant, stage.name)
    except RoomError:
        return None
    if poll.skipped:
        return poll
    with st.container(border=True, key="room_ask"):
        st.markdown(f"**{literal(poll.question.text)}**")
        if poll.round and not poll.revealed:  # after the close too: a vote sent late is refused, with the reason
            mine = _choices(code, participant, poll, mine)
        st.caption(literal(phone_says(poll, mine)))
    return poll


def version(code: str, stage: str) -> int | None:
    """The version of ``stage``'s vote now (None while the store is away): a phone runs again when it moved."""
    try:
        return store().poll(code, stage).version
    except RoomError:
        return None


def _choices(code: str, participant: str, poll: Poll, mine: tuple[str, ...]) -> tuple[str, ...]:
    """The choices as a form (nothing is sent until "Send my vote"); this phone's vote as stored afterwards."""
    question = poll.question
    texts = {c.id: c.text for c in question.choices}
    with st.form(f"room_vote_{poll.stage}_{poll.round}", border=False):
        if question.multiple:
            picked = [
                c.id for c in question.choices if st.checkbox(c.text, value=c.id in mine, key=f"room_vote_{c.id}")
            ]
        else:
            index = question.ids.index(mine[0]) if mine else None
            one = st.radio("Your answer", question.ids, index=index, format_func=texts.__getitem__, key="room_vote")
            picked = [one] if one is not None else []
        if not st.form_submit_button("Send my vote"):
            return mine
    if not picked:
        st.warning("Pick an answer first.")
        return mine
    try:
        return store().cast(code, participant, poll.stage, picked)
    except RoomError as err:
        show_error(err)  # closed meanwhile, "none" with another choice, the room moved on: said, not counted
        return mine
