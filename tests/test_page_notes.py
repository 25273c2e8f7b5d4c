"""The speaker's view on the page (``?scene=N&present=1&notes=1``), driven with AppTest: the scene's notes, the
next scene's title and the clock's place, no chart; the projector's view without any of it; both windows run the
follow script with their role and scene; the link keeps the speaker's view across reruns."""

from __future__ import annotations

import re

import pytest

from lucky5 import train
from lucky5.notes import next_title, notes_for
from lucky5.scenes import SCENE
from tests.helpers import as_read, no_errors, page, texts

pytestmark = pytest.mark.slow


def scripts(at) -> list[str]:
    return [e.proto.body for e in at.get("html")]


def follow_call(at) -> tuple[int, str] | None:
    for body in scripts(at):
        found = re.search(r'lucky5Follow\.shown\((\d+), "(\w+)"', body)
        if found:
            return int(found.group(1)), found.group(2)
    return None


def test_the_speakers_view_shows_the_scenes_notes_the_next_title_and_no_chart():
    at = page(scene="4", present="1", notes="1")
    no_errors(at)
    shown = "\n".join(texts(at, "markdown"))
    notes = notes_for(SCENE[4], train(SCENE[4].config))
    for line in notes.lines():
        assert line in shown, f"missing from the speaker's view: {line[:50]!r}"
    assert f"**Next:** {next_title(4)}" in shown
    assert not at.get("plotly_chart"), "the speaker's view draws no chart"
    assert any("data-lucky5-clock" in body and "lucky5Clock.scene(4)" in body for body in scripts(at))
    assert follow_call(at) == (4, "notes")
    next(b for b in at.button if b.key == "scene_next").click()  # the speaker moves on from this window
    at.run()
    no_errors(at)
    assert at.query_params == {"scene": "5", "present": "1", "notes": "1"}, "the link lost the speaker's view"
    assert follow_call(at) == (5, "notes") and not at.get("plotly_chart")


def test_the_projectors_view_has_no_notes_but_follows_the_speakers_window():
    at = page(scene="4", present="1")
    no_errors(at)
    shown = "\n".join(texts(at, "markdown"))
    notes = notes_for(SCENE[4], train(SCENE[4].config))
    assert notes.ask not in shown and "Ask the room" not in shown and "Point at" not in shown
    assert not any("data-lucky5-clock" in body for body in scripts(at))
    assert follow_call(at) == (4, "projector")


def test_the_last_scene_says_so_and_before_the_talk_the_next_is_scene_1():
    at = page(scene="6", present="1", notes="1")
    assert "This is the last scene." in "\n".join(texts(at, "markdown"))
    at = page(present="1", notes="1")
    no_errors(at)
    assert f"**Next:** {next_title(None)}" in "\n".join(texts(at, "markdown"))
    assert follow_call(at) == (0, "notes")


@pytest.mark.parametrize("query", [{"notes": "1"}, {"present": "1", "notes": "maybe"}])
def test_notes_without_presenter_mode_or_with_a_bad_value_are_ignored_with_a_notice(query):
    at = page(**query)
    no_errors(at)
    assert any("Ignored notes=" in as_read(w) for w in texts(at, "warning") + texts(at, "info")), texts(at, "warning")
    assert follow_call(at) in (None, (0, "projector"))


def test_a_scene_opened_with_a_rule_tells_neither_its_story_nor_its_notes():
    """The scenes' sentences and notes tell the lucky number's story with the scene's settings: a run on a rule is
    not that story, so the projector says so and the speaker's view holds the notes back."""
    rule = "5 + 3*x1 - 2*x7"
    at = page(scene="2", present="1", notes="1", rule=rule)
    no_errors(at)
    shown = "\n".join(texts(at, "markdown"))
    assert "This run is not the scene's" in shown and "The notes are not shown" in shown
    for line in notes_for(SCENE[2], train(SCENE[2].config.replace(rule=rule))).lines():
        assert line not in shown
    projector = page(scene="1", present="1", rule=rule)
    no_errors(projector)
    assert "This run is not the scene's" in "\n".join(texts(projector, "markdown"))
