"""The stage's question on the wall (page/room/vote.py), driven by AppTest: the presenter's buttons follow the
vote's state, and the reveal after asking again draws both votes with nothing left to skip.

The oracle is the store: the votes are cast there, and the chart's bars are compared with them.
"""

from __future__ import annotations

import json

from lucky5.engine import train
from lucky5.room import QUESTIONS, STAGES, participant_seed, shared_store, summarize
from tests.helpers import no_errors
from tests.test_page_room import address, new_room, phone, rooms_as_fast_as_tests_make_them  # noqa: F401


def labels(at) -> list[str]:
    """The labels of the buttons a presenter can press now (the vote's buttons stay in place, disabled)."""
    return [b.label for b in at.button if not b.disabled]


def vote_buttons(at) -> list[str]:
    """The vote's buttons drawn, pressable or not, in their order on the wall."""
    return [b.label for b in at.button if b.key.startswith("vote_")]


def test_the_buttons_follow_the_vote_and_the_second_reveal_shows_both_votes() -> None:
    wall, code, key = new_room()
    me = address(phone(code))["me"]
    store = shared_store()
    order = ["Open the vote", "Close voting", "Reveal the votes", "Ask again", "Skip the question"]
    assert vote_buttons(wall) == order
    assert {"Open the vote", "Skip the question"} <= set(labels(wall))
    assert not {"Close voting", "Reveal the votes", "Ask again"} & set(labels(wall))
    store.vote(code, key, "post", "open")
    store.cast(code, me, "post", "1-2")
    wall.run()
    # A double press lands on the same button, now disabled: the next step is never drawn where the last one was
    assert vote_buttons(wall) == order
    assert "Close voting" in labels(wall) and "Open the vote" not in labels(wall)
    assert "Reveal the votes" not in labels(wall)  # not straight from an open vote: the room trains in between
    store.vote(code, key, "post", "close")
    wall.run()
    assert vote_buttons(wall) == order and "Close voting" not in labels(wall)
    assert {"Reveal the votes", "Ask again", "Skip the question"} <= set(labels(wall))
    store.vote(code, key, "post", "open", 2)  # ask again
    store.cast(code, me, "post", "2-3")
    store.vote(code, key, "post", "reveal")
    wall.run()
    no_errors(wall)
    assert not vote_buttons(wall)  # revealed: the next stage is the way on (a skip would hide what the room saw)
    (chart,) = [c for c in wall.get("plotly_chart") if "vote" in c.proto.id or "votes" in c.proto.spec[:4000]]
    bars = {t["name"]: t["x"] for t in json.loads(chart.proto.spec)["data"] if t["type"] == "bar"}
    ids = QUESTIONS["post"].ids
    assert bars["first vote"] == [int(c == "1-2") for c in ids]
    assert bars["second vote"] == [int(c == "2-3") for c in ids]


def test_after_a_reveal_or_a_skip_with_runs_on_the_wall_the_room_is_not_asked_again() -> None:
    wall, code, key = new_room()
    me = address(phone(code))["me"]
    store = shared_store()
    store.vote(code, key, "post", "open")
    store.cast(code, me, "post", "1-2")
    store.vote(code, key, "post", "close")
    store.vote(code, key, "post", "reveal")
    wall.run()
    assert not vote_buttons(wall)  # "Ask again" after the answer is on the wall would ask what the room saw
    wall2, code2, key2 = new_room()
    store.vote(code2, key2, "post", "skip")
    wall2.run()
    assert "Open the vote" in labels(wall2)  # skipped, nothing trained yet: the presenter may still ask
    someone = store.join(code2)
    store.submit(code2, someone, summarize(train(STAGES["post"].config(participant_seed(someone)))))
    wall2.run()
    no_errors(wall2)
    assert not vote_buttons(wall2)  # skipped, and a run is on the wall: too late to ask, nothing else to do
