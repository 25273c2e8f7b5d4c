"""The stage's question on the Streamlit phone (``?join=CODE``, page/room/ballot.py), driven by AppTest.

Outside text reaches the page through ``literal``, so the expected sentences do too. The oracle is the store
itself: what the phone sends is read back with ``ballot`` and, once revealed, counted by
``poll``; the phone's sentences are ``lucky5.room.votes.phone_says`` of the same poll.
"""

from __future__ import annotations

from lucky5.room import QUESTIONS, shared_store
from lucky5.room.votes import PREDICT_FIRST, VOTE_FIRST, phone_says
from page.text import literal
from tests.helpers import no_errors
from tests.test_page_room import address, new_room, phone, rooms_as_fast_as_tests_make_them  # noqa: F401

QUESTION = QUESTIONS["post"]


def captions(at) -> str:
    return " ".join(c.value for c in at.caption)


def test_a_phone_predicts_before_it_trains_and_its_vote_is_counted() -> None:
    _, code, key = new_room()
    at = phone(code)
    me = address(at)["me"]
    assert any(literal(QUESTION.text) in m.value for m in at.markdown)  # the question shows before the vote opens
    assert "the presenter opens the vote" in captions(at)
    assert at.button(key="room_train").disabled and PREDICT_FIRST in captions(at)  # no outcome before a prediction

    shared_store().vote(code, key, "post", "open")
    at.run()
    assert at.button(key="room_train").disabled and VOTE_FIRST in captions(at)  # predict first, then train
    choice = QUESTION.choices[1]
    at.radio(key="room_vote").set_value(choice.id)
    at.button[[b.label for b in at.button].index("Send my vote")].click().run()
    no_errors(at)
    assert shared_store().ballot(code, me, "post") == (choice.id,)
    poll = shared_store().poll(code, "post")
    assert literal(phone_says(poll, (choice.id,))) in captions(at)
    assert literal(f"Your vote: {choice.text}.") in captions(at)

    again = phone(code, me=me)  # a reload: the same participant, its vote shown and still one vote
    assert again.radio(key="room_vote").value == choice.id
    assert shared_store().poll(code, "post").voted == (1, 0)

    shared_store().vote(code, key, "post", "close")
    again.run()
    assert not again.button(key="room_train").disabled and literal("Voting is closed.") in captions(again)
    shared_store().vote(code, key, "post", "reveal")
    again.run()
    assert literal("The votes are on the wall.") in captions(again)
    counts = shared_store().poll(code, "post").counts
    assert counts is not None and counts[0] == tuple(int(c == choice.id) for c in QUESTION.ids)


def test_a_vote_sent_after_the_close_is_refused_with_the_reason() -> None:
    _, code, key = new_room()
    at = phone(code)
    shared_store().vote(code, key, "post", "open")
    at.run()
    at.radio(key="room_vote").set_value(QUESTION.choices[0].id)
    shared_store().vote(code, key, "post", "close")  # the presenter closes while the phone still shows the form
    at.button[[b.label for b in at.button].index("Send my vote")].click().run()
    assert [e.value for e in at.error] == [literal("Voting is closed: your vote was not counted.")]
    assert shared_store().poll(code, "post").voted == (0, 0)


def test_a_skipped_question_is_not_asked_and_train_is_open() -> None:
    _, code, key = new_room()
    shared_store().vote(code, key, "post", "skip")
    at = phone(code)
    assert not any(literal(QUESTION.text) in m.value for m in at.markdown)
    assert not at.button(key="room_train").disabled and PREDICT_FIRST not in captions(at)
