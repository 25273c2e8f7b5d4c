"""The stage's question on the wall (page/room/vote.py), driven by AppTest: the presenter's buttons follow the
vote's state, and the reveal after asking again draws both votes with nothing left to skip.

The oracle is the store: the votes are cast there, and the chart's bars are compared with them.
"""

from __future__ import annotations

import json

from lucky5.room import QUESTIONS, shared_store
from tests.helpers import no_errors
from tests.test_page_room import address, new_room, phone, rooms_as_fast_as_tests_make_them  # noqa: F401


def labels(at) -> list[str]:
    return [b.label for b in at.button]


def test_the_buttons_follow_the_vote_and_the_second_reveal_shows_both_votes() -> None:
    wall, code, key = new_room()
    me = address(phone(code))["me"]
    store = shared_store()
    assert {"Open the vote", "Skip the question"} <= set(labels(wall))
    store.vote(code, key, "post", "open")
    store.cast(code, me, "post", "1-2")
    wall.run()
    assert "Close voting" in labels(wall) and "Open the vote" not in labels(wall)
    store.vote(code, key, "post", "close")
    store.vote(code, key, "post", "open", 2)  # ask again
    store.cast(code, me, "post", "2-3")
    store.vote(code, key, "post", "reveal")
    wall.run()
    no_errors(wall)
    offered = set(labels(wall)) & {"Open the vote", "Close voting", "Reveal the votes", "Ask again"}
    assert not offered and "Skip the question" not in labels(wall)  # a skip would hide what the room just saw
    (chart,) = [c for c in wall.get("plotly_chart") if "vote" in c.proto.id or "votes" in c.proto.spec[:4000]]
    bars = {t["name"]: t["x"] for t in json.loads(chart.proto.spec)["data"] if t["type"] == "bar"}
    ids = QUESTIONS["post"].ids
    assert bars["first vote"] == [int(c == "1-2") for c in ids]
    assert bars["second vote"] == [int(c == "2-3") for c in ids]
