"""Votes on a stage's question (``Poll``) and the rules both stores follow, each written once.

The presenter opens a vote for the room's current stage (round 1), may close it, reveal it, ask again
(round 2: a fresh vote, the first kept for the side-by-side reveal) or skip the question. A participant casts
one vote per round, keyed by their participant id, and may change it while the round is open: a phone that
reloads or reconnects keeps its vote. A vote holds only ids from the question's list (``Question.check``).

What a room keeps per stage is bounded: its state, and per round at most one ballot per participant.
Opening round 1 clears both rounds of that stage; asking again clears round 2. Resetting the room clears
every vote. Entering a stage (the presenter moves to it, which clears the wall's runs) starts its question
afresh: a vote revealed beside runs that are gone would answer for runs no one can see.

Refusals (``RoomError`` reasons): ``bad_vote`` (not the question's choices), ``vote_closed`` (no vote open:
not yet, closed, revealed or skipped; the vote is not stored), ``wrong_stage`` (the room is at another
stage), ``no_vote`` (the presenter closes, reveals or asks again before any vote was opened), ``bad_round``.
"""

from __future__ import annotations

from dataclasses import dataclass

from .codes import RoomError, refuse
from .questions import Question, question_for
from .stages import Stage

ROUNDS = (1, 2)  # the first vote and "ask again"
VOTE_ACTIONS = ("open", "close", "reveal", "skip")  # what a presenter does to a stage's vote
VOTE_FIRST = "Vote first: Train opens when the presenter closes the vote."  # a phone while voting is open
# A phone before the vote opened: predict, then see (training first would show the outcome before anyone predicts).
PREDICT_FIRST = (
    "Predict first: Train opens after the vote on this question. The presenter opens it, or skips the question."
)


@dataclass(frozen=True)
class Poll:
    """One stage's vote as the wall and the phones read it.

    ``round`` is 0 before any vote was opened, else the current round (1, or 2 after "ask again");
    ``open``: votes are taken now; ``skipped``: the presenter skipped the question; ``revealed``: the
    presenter revealed the votes. ``voted[i]`` counts the participants who voted in round i + 1.
    ``counts[i][j]`` is how many votes of round i + 1 hold choice j (the question's order); it is None until
    revealed, so that nothing shows the distribution before the reveal. ``version`` grows with every change
    of this stage's vote (a cast, a change, an action of the presenter).
    """

    stage: str
    round: int
    open: bool
    skipped: bool
    revealed: bool
    voted: tuple[int, int]
    counts: tuple[tuple[int, ...], tuple[int, ...]] | None
    version: int

    @property
    def question(self) -> Question:
        """The question voted on."""
        return question_for(self.stage)


def check_round(round_: object) -> int:
    """``round_`` if it is one of ``ROUNDS``; else RoomError ``bad_round``."""
    if isinstance(round_, bool) or round_ not in ROUNDS:
        refuse("bad_round", "A vote has round 1 (the first vote) or 2 (asking again).")
    assert isinstance(round_, int)
    return round_


def check_action(action: object, round_: object) -> int:
    """The round of a presenter's vote ``action`` (one of ``VOTE_ACTIONS``), checked: 0 unless it opens one.

    Raises:
        RoomError: ``bad_round`` for another action or round.
    """
    if not isinstance(action, str) or action not in VOTE_ACTIONS:
        refuse("bad_round", "A vote is opened, closed, revealed or skipped.")
    return check_round(round_) if action == "open" else 0


def closed(skipped: bool, round_: int) -> RoomError:
    """The refusal of a vote while none is open: skipped, not opened yet, or closed."""
    if skipped:
        return RoomError("vote_closed", "The presenter skipped this question: there is nothing to vote on.")
    if round_ == 0:
        return RoomError("vote_closed", "Voting has not opened yet: wait for the presenter.")
    return RoomError("vote_closed", "Voting is closed: your vote was not counted.")


def not_current(stage: Stage) -> RoomError:
    """The refusal of a vote, or of opening one, for another stage than ``stage``, the room's current one."""
    return RoomError("wrong_stage", f"The room has moved on to '{stage.title}': this question is closed.")


def no_vote() -> RoomError:
    """The refusal of closing, revealing or asking again before a first vote was opened."""
    return RoomError("no_vote", "No vote was opened for this question yet: open it first.")


def tally(question: Question, ballots: list[tuple[str, ...]]) -> tuple[int, ...]:
    """How many of ``ballots`` hold each choice, in the question's order."""
    return tuple(sum(choice in b for b in ballots) for choice in question.ids)


def train_waits(poll: Poll) -> str | None:
    """Why a phone's Train waits now, in plain words (``VOTE_FIRST``, ``PREDICT_FIRST``); None when it is open.

    Train waits while the stage's question is waiting to be opened (round 0, not skipped) and while its vote
    is open: a phone predicts before it sees what the runs do. It opens once the vote is closed (or revealed,
    or after a second vote is closed) and when the presenter skips the question. Both phones (Streamlit's
    ``page/room/phone.py`` and the light phone, told it by ``standing.asked``) follow this one rule.
    """
    if poll.open:
        return VOTE_FIRST
    if poll.round == 0 and not poll.skipped:
        return PREDICT_FIRST
    return None


def phone_says(poll: Poll, mine: tuple[str, ...]) -> str:
    """What a phone says under the question: its own vote (choice ids ``mine``, () if none) and the vote's state.

    The Streamlit phone (``page/room/ballot.py``) says it with these words; the light phone's script
    (``page/server/phone.html``) says the same sentences in the browser, from the same ``Poll`` fields.
    """
    question = poll.question
    texts = dict((c.id, c.text) for c in question.choices)
    said = f"Your vote: {', '.join(texts.get(c, c) for c in mine)}. " if mine else ""
    if poll.revealed:
        return said + "The votes are on the wall."
    if poll.open:
        again = "Second vote, after a discussion. " if poll.round == 2 else ""
        if mine:
            return again + said + "You may change it until the presenter closes voting."
        them = "answers and send them" if question.multiple else "answer and send it"
        return f"{again}Voting is open: pick your {them}."
    if poll.round:
        return said + "Voting is closed."
    return "Think about your answer: the presenter opens the vote."
