"""A participant's phone in a room (``?join=CODE``): their own seed, one Train button, their run, where they stand.

Light on purpose, for a 390 px phone and a hall joining at once: no sidebar, one small animation (loss and
parameters only), and one read of the room per run of the page. The phone joins once per session and code,
and its address bar then carries its participant id (``&me=``), as does a cookie of its browser: a phone that
reloads, whose browser drops a tab in the background, or that scans the QR code again comes back as the same
participant with the same seed (``participant_seed``) instead of a second one. A small fragment reads the
room's stage every ``STAGE_POLL_SECONDS`` and runs the page again when the presenter moved on; if Train is
pressed in between, the page shows the new stage instead of training the old one.

Participants carry no names; what the page shows of the room is numbers only (medians and counts).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import streamlit as st
import torch

from lucky5 import Config, figures, theory
from lucky5.engine import History
from lucky5.inputs import default_input
from lucky5.room import (
    JOINS,
    RUNS,
    STAGES,
    RoomError,
    Stage,
    Summary,
    Wall,
    blew_up,
    counts_by_lr,
    normalize_code,
    participant_seed,
    summarize,
)
from lucky5.room.seats import removed
from lucky5.room.standing import door
from lucky5.room.votes import train_waits

from .. import runtime
from ..panels import CHART_CONFIG
from . import ballot, outage
from .links import ME_COOKIE, keep, kept, replace_address
from .store import client, show_error, store

PANELS = ("loss", "parameters")
ME = "me"  # the URL parameter that brings a reloaded phone back as the same participant
STAGE_POLL_SECONDS = 4.0  # how soon a phone follows the presenter to the next stage
UNSENT = "room_unsent"  # session-state key: (code, participant, Summary) of a run that waits for the store
KEPT = "room_kept"  # session-state key: the run the wall refused because it keeps this phone's first (``kept``)


@dataclass
class Member:
    """This phone in one room: its secret participant id, its seed and its run per stage (a Config)."""

    participant: str
    seed: int
    runs: dict[str, Config] = field(default_factory=dict)


def _members() -> dict[str, Member]:
    members = st.session_state.setdefault("room_members", {})
    assert isinstance(members, dict)
    return members


@st.cache_resource(max_entries=32, show_spinner=False)
def small_animation(config: Config, theme: str) -> runtime.FrozenFigure:
    """The participant's animation: loss and parameters only, built once per (run, theme)."""
    x = torch.tensor(default_input(config.seed), dtype=torch.float64)
    figure = runtime.FrozenFigure(figures.animation(runtime.run(config), x, theme=theme, panels=PANELS))
    runtime.settle_gc()
    return figure


def page(raw: str) -> None:
    st.set_page_config(page_title="lucky5 · join", page_icon="🎯", layout="centered", initial_sidebar_state="collapsed")
    code = ""
    try:
        code = normalize_code(raw)
        member, rejoined = _members().get(code), False
        if member is None:
            # A reload brings its id in the address; a re-scan of the QR code in the same browser, in a cookie.
            linked, cookie = st.query_params.get(ME), kept(ME_COOKIE, code)
            previous = linked or cookie
            store().limit(JOINS, client())  # as the light phone's joins: a hall behind one address gets in
            participant = store().join(code, again=previous)
            member = Member(participant=participant, seed=participant_seed(participant))
            _members()[code], rejoined = member, participant == previous
            if linked != participant:  # the address says who this phone is (no history entry: Back leaves)
                replace_address({"join": code, ME: participant})
            if cookie != participant:
                keep(ME_COOKIE, code, participant)
        wall = outage.read(code)  # while the store is away: the room's last answer, retried by itself
        if rejoined:
            _recover(member, wall)
    except RoomError as err:
        st.title("lucky5: join a room")
        show_error(err)
        if err.reason in ("bad_code", "unknown", "lost"):
            st.markdown("Ask the presenter for the code on the screen, or scan its QR code again.")
        if err.reason == "unavailable" and code:
            outage.wait_for_store(code)  # nothing to keep yet: the page comes back by itself when the store answers
        return
    _page(code, member, wall)


def _page(code: str, member: Member, wall: Wall) -> None:
    stage = STAGES[wall.stage]
    shown = st.session_state.get("room_shown_stage")
    st.title(f"Room {code}")
    banner = st.container()  # filled last: whether the store answered this run
    st.markdown(f"**{stage.title}**")
    st.caption(
        f"Your seed is **{member.seed}**, drawn at random for you: your network starts from its own random weights "
        "and sees its own random inputs."
    )
    if member.seed in wall.removed:
        st.error(str(removed()))
    elif (closed := door(wall)) is not None and not member.runs:
        st.warning(closed)  # locked or full: this phone has no seat yet
    lr = None
    if stage.lrs:
        trained = member.runs.get(stage.name)  # after a reload, the rate of the run this phone sent
        index = stage.lrs.index(trained.lr) if trained is not None and trained.lr in stage.lrs else 0
        lr = st.radio(
            "Your learning rate", stage.lrs, index=index, format_func=lambda v: f"{v:g}", horizontal=True, key="room_lr"
        )
    poll = ballot.ask(code, member.participant, stage)  # predict first: Train waits for the vote (``train_waits``)
    waits = None if poll is None else train_waits(poll)  # the store away: Train stays open, the run waits for it
    pressed = st.button("Train", type="primary", width="stretch", key="room_train", disabled=waits is not None)
    if pressed and waits is None:  # a press sent before the page showed Train closed trains nothing
        if shown is not None and shown != stage.name:
            st.info(f"The room has moved on to '{stage.title}'. Press Train again to train for it.")
        else:
            wall = _train(code, member, stage, lr) or wall
    if waits is not None:
        st.caption(waits)
    st.session_state["room_shown_stage"] = stage.name
    _follow(code, stage.name, poll.version if poll is not None else None)
    config = member.runs.get(stage.name)
    if config is not None:
        history = runtime.run(config)
        mine = summarize(history)
        unsent = st.session_state.get(UNSENT)
        if (unsent is None or unsent[2] != mine) and mine not in wall.runs and st.session_state.get(KEPT) != mine:
            st.info(
                "Your run is no longer on the wall (the presenter cleared this stage): press Train to send it again."
            )
        _result(history, mine, wall, stage)
    with banner:
        unsent = st.session_state.get(UNSENT) is not None
        outage.notice(code, "Your run is kept here and goes to the wall as soon as it answers. " if unsent else "")


def _recover(member: Member, wall: Wall) -> None:
    """After a reload: this phone's run of the current stage, found on the wall by the phone's own seed."""
    stage = STAGES[wall.stage]
    for run in wall.runs:
        if run.seed == member.seed:
            member.runs[stage.name] = stage.config(member.seed, run.lr if stage.lrs else None)
            st.session_state["room_shown_stage"] = stage.name
            return


@st.fragment(run_every=STAGE_POLL_SECONDS)
def _follow(code: str, shown: str, asked: int | None) -> None:
    """Every few seconds, the room's stage and its vote (``asked``: the vote's version the page shows); the
    whole page runs again when the presenter moved on or opened, closed or revealed the vote."""
    was_failing = outage.failing(code)
    _send_again(code)
    try:
        current = outage.read(code).stage
    except RoomError:
        st.rerun()  # the page says what went wrong when it runs in full
    if current != shown or (was_failing and not outage.failing(code)):
        st.rerun()  # the presenter moved on, or the store is back: the whole page from the room's answer
    if asked is not None and current == shown and ballot.version(code, shown) not in (asked, None):
        st.rerun()  # the vote opened, closed or was revealed (or a vote was cast): the question as it is now


def _train(code: str, member: Member, stage: Stage, lr: float | None) -> Wall | None:
    """Train this phone's run for ``stage``, submit its summary; the room afterwards (None after an error)."""
    try:
        try:
            store().limit(RUNS, f"{code}:{member.participant[:40]}")
        except RoomError as err:  # the store is away: its count cannot be read, and the run must not be lost
            if err.reason != "unavailable":
                raise
        config = stage.config(member.seed, lr)
        history = runtime.run(config)
        member.runs[stage.name] = config  # this phone's run, shown whether or not the store answers
        st.session_state.pop(KEPT, None)
        try:
            _send(code, member.participant, summarize(history))
        except RoomError as err:
            if err.reason == "kept":  # shown as the phone's own; the wall keeps its first run of this stage
                st.session_state[KEPT] = summarize(history)
            raise
        return None if outage.failing(code) else outage.read(code)
    except RoomError as err:
        show_error(err)
        if err.reason == "unknown_participant":
            _members().pop(code, None)  # the next run of the page joins again
        return None


def _send(code: str, participant: str, summary: Summary) -> None:
    """Put this phone's run on the wall; while the store is away it waits (``UNSENT``) for the next retry."""
    st.session_state.pop(UNSENT, None)
    try:
        store().submit(code, participant, summary)
    except RoomError as err:
        if err.reason != "unavailable":
            raise
        st.session_state[UNSENT] = (code, participant, summary)
        outage.failed(code)


def _send_again(code: str) -> None:
    unsent = st.session_state.get(UNSENT)
    if unsent is not None and unsent[0] == code and outage.due(code):
        try:
            _send(*unsent)
        except RoomError:
            pass  # refused now (another stage): the page's own check says the run is not on the wall


def _result(history: History, mine: Summary, wall: Wall, stage: Stage) -> None:
    """Where this run stands in the room, and its own small animation."""
    c = history.config
    b, w_norm = mine.b, mine.w_norm
    if history.diverged_at is not None:
        st.error(f"Your run blew up at epoch {history.diverged_at:,}: {theory.stability(c).hint}.")
    elif blew_up(mine):  # the wall's own rule: its loss ended higher than it started
        grew = f"its loss grew from {mine.curve_losses[0]:.3g} to {mine.curve_losses[-1]:.3g}"
        st.error(f"Your run blew up: {grew}. {theory.stability(c).hint.capitalize()}.")
    room = wall.medians  # as on the wall: of the runs that settled
    if room is not None:
        of = f"the {room.runs:,} run{'' if room.runs == 1 else 's'} that settled"
        st.markdown(
            f"Your b is **{b:.3g}**; the room's median is **{room.b:.3g}**. "
            f"Your ‖w‖ is **{w_norm:.3g}**; the room's median is **{room.w_norm:.3g}** (medians of {of})."
        )
    else:
        st.markdown(f"Your b is **{b:.3g}** and your ‖w‖ is **{w_norm:.3g}**; no run in the room has settled yet.")
    if stage.lrs:
        [(_, ok, bad)] = counts_by_lr(wall.runs, (c.lr,))
        st.markdown(f"At learning rate {c.lr:g}, **{bad} of {ok + bad}** runs in the room blew up.")
    st.plotly_chart(
        small_animation(c, runtime.theme()),
        key="room_animation",
        config=CHART_CONFIG,
        alt=f"Animation of your run: the loss per epoch, then the ten weights and the bias (b = {b:.3g}).",
    )
    st.caption(f"Run fingerprint: `{history.fingerprint()}` · the same seed and settings give it on any machine.")
