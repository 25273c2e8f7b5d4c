"""page/qr.py on each page that draws a QR code besides the room's (tests/test_page_room.py): the presenter view's
scene link and the tools' share link. A page served under a long path makes links longer than any QR code holds;
the page then says so in words beside the link, never a traceback, and a link that fits still gets its code.

Oracle: ``segno`` itself, which refuses the long link and draws the short one.
"""

from __future__ import annotations

import pytest
import segno
from streamlit.testing.v1 import AppTest

from page import state as page_state
from tests.helpers import no_errors, page

LONG_BASE = "http://lucky5.example/" + "talk/" * 470  # more than the largest QR code holds at level M
TOO_LONG = "too long for a QR code"


def served_under(monkeypatch: pytest.MonkeyPatch, base: str) -> None:
    """The page's links as if it were served at ``base`` (AppTest reports no address of its own)."""
    real = page_state.share_link
    monkeypatch.setattr(page_state, "share_link", lambda state: base + real(state).split("/", 3)[-1])


def warned(at: AppTest) -> list[str]:
    return [w.value for w in at.warning if TOO_LONG in w.value]


def test_the_presenter_view_says_its_scene_link_is_too_long_and_still_shows_it(monkeypatch) -> None:
    with pytest.raises(segno.DataOverflowError):
        segno.make(LONG_BASE + "?present=1", error="m")
    served_under(monkeypatch, LONG_BASE)
    at = page(present="1")
    no_errors(at)
    assert len(warned(at)) == 1 and not at.get("image"), warned(at)
    assert any(c.value.startswith(LONG_BASE) for c in at.code)  # the link itself, as text for the speaker


def test_the_presenter_view_draws_a_link_that_fits() -> None:
    at = page(present="1")
    no_errors(at)
    assert not warned(at) and len(at.get("image")) >= 1


def test_the_share_panel_says_its_link_is_too_long_when_a_qr_code_is_asked_for(monkeypatch) -> None:
    served_under(monkeypatch, LONG_BASE)
    at = page(seed=3)
    no_errors(at)
    assert not warned(at)  # no QR code asked for yet: nothing to say
    at.toggle(key="show_qr").set_value(True).run()
    no_errors(at)
    assert len(warned(at)) == 1, warned(at)
    assert any(c.value == LONG_BASE + "?seed=3" for c in at.code), [c.value[:60] for c in at.code]
