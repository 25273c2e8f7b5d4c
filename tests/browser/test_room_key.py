"""The presenter's key never leaks, in a real browser: one-time links, an HttpOnly cookie, no Referer.

A room's key used to ride in the private link (``?room=CODE&key=...``), stay in the browser's history and
autocomplete, go out in the Referer of later requests and sit in a cookie any page script could read. Now the
private link carries a one-time token that the server (``page.server.present``) exchanges for an HttpOnly,
SameSite=Strict cookie (Secure over https, which uvicorn learns from a trusted proxy's X-Forwarded-Proto).

Oracles: Chromium's own cookie jar (``context.cookies()``), its network log (every request's URL and headers,
every response's headers) and ``document.cookie`` as a page script sees it.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from bench.browser import DESKTOP, PHONE
from lucky5.room import STAGES

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LOAD_MS = 90_000  # the first page of a fresh server imports torch
FIRST_STAGE = f"1. {STAGES['post'].title}"
CENTRE_HIT_JS = """el => { const r = el.getBoundingClientRect(), x = r.left + r.width / 2, y = r.top + r.height / 2;
  return r.top >= 0 && r.bottom <= innerHeight && r.left >= 0 && r.right <= innerWidth
    && el.contains(document.elementFromPoint(x, y)); }"""


def open_room(chromium, url: str, **options):
    """A presenter's browser on ``?room=new``: (page, code, key from its cookie jar, that cookie)."""
    context = chromium.new_context(viewport=DESKTOP, **options)
    wall = context.new_page()
    wall.goto(url + "?room=new")
    expect(wall).to_have_url(re.compile(r"\?room=[A-Z2-9]{6}$"), timeout=LOAD_MS)
    expect(wall.get_by_role("button", name=FIRST_STAGE)).to_be_visible(timeout=LOAD_MS)
    code = wall.url.rsplit("=", 1)[1]
    [cookie] = [c for c in context.cookies() if c["name"] == f"lucky5_room_key_{code}"]
    return wall, code, cookie["value"], cookie


def test_the_private_link_works_once_and_the_key_stays_in_an_httponly_cookie(chromium, page_server) -> None:
    wall, code, key, cookie = open_room(chromium, page_server.url)
    assert (cookie["httpOnly"], cookie["sameSite"], cookie["secure"]) == (True, "Strict", False)  # plain http
    assert len(key) >= 32 and key not in wall.evaluate("document.cookie")  # no page script can read it
    assert key not in wall.url and key not in wall.content()

    show = wall.get_by_role("button", name=re.compile(r"^Show my private presenter link"))
    expect(show).to_be_visible(timeout=LOAD_MS)
    show.click()
    shown_link = wall.locator('[data-testid="stCode"]', has_text="/p/")
    expect(shown_link).to_be_visible(timeout=LOAD_MS)
    link = shown_link.inner_text().strip()
    token = link.rsplit("/", 1)[1]
    assert link == page_server.url + "p/" + token and key not in link and code not in link
    wall.set_viewport_size({"width": 1280, "height": 720})  # a projector: the private link is still reachable
    expect(shown_link).to_be_visible()
    shown_link.scroll_into_view_if_needed()
    assert shown_link.evaluate(CENTRE_HIT_JS), "the private link is covered or outside a 1280x720 screen"
    wall.set_viewport_size(DESKTOP)

    # Another device opens the link: its requests, all of them, are logged from the first.
    other = chromium.new_context(viewport=DESKTOP)
    requests, responses = [], []
    other.on("request", lambda r: requests.append(r))
    other.on("response", lambda r: responses.append(r))
    back = other.new_page()
    back.goto(link)
    expect(back).to_have_url(page_server.url + f"?room={code}", timeout=LOAD_MS)
    expect(back.get_by_role("button", name=FIRST_STAGE)).to_be_visible(timeout=LOAD_MS)  # it drives the room
    [kept] = [c for c in other.cookies() if c["name"] == f"lucky5_room_key_{code}"]
    assert (kept["value"], kept["httpOnly"], kept["sameSite"]) == (key, True, "Strict")
    assert key not in back.evaluate("document.cookie")
    back.get_by_role("button", name=f"2. {STAGES['patience'].title}").click()  # more requests, after the exchange
    expect(back.get_by_role("heading", name=f"Stage 2: {STAGES['patience'].title}")).to_be_visible(timeout=LOAD_MS)
    assert requests[0].url == link and len(requests) > 10
    for request in requests[1:]:  # after the exchange: neither the key nor the token in any URL or Referer
        assert key not in request.url and token not in request.url, request.url
        referer = request.all_headers().get("referer", "")
        assert key not in referer and token not in referer, (request.url, referer)
    http = [r for r in responses if r.url.startswith("http")]
    assert http and all(r.all_headers().get("referrer-policy") == "no-referrer" for r in http), [
        (r.url, r.all_headers().get("referrer-policy")) for r in http if r.all_headers().get("referrer-policy")
    ]
    other.close()

    # A second use, in yet another browser: refused, saying why and what to do; no key, no buttons.
    third = chromium.new_context(viewport=PHONE)
    again = third.new_page()
    answer = again.goto(link)
    assert answer is not None and answer.status == 410
    heading = again.get_by_role("heading", name="This presenter link does not open the room")
    expect(heading).to_be_visible()
    message = again.get_by_text("This presenter link was already used")
    expect(message).to_contain_text("Show my private presenter link")
    for shown in (heading, message):  # on a phone's screen, inside it and on top
        assert shown.evaluate(CENTRE_HIT_JS), shown.bounding_box()
    assert not [c for c in third.cookies() if c["name"].startswith("lucky5_room_key_")]
    third.close()
    wall.context.close()


def test_the_cookie_is_secure_when_a_trusted_proxy_says_the_hall_came_over_https(chromium, page_server) -> None:
    """uvicorn trusts X-Forwarded-Proto from 127.0.0.1 (a proxy on the same machine; FORWARDED_ALLOW_IPS for
    others), so a request that reached the proxy over https gets a Secure cookie."""
    wall, _, key, cookie = open_room(chromium, page_server.url, extra_http_headers={"X-Forwarded-Proto": "https"})
    assert (cookie["httpOnly"], cookie["sameSite"], cookie["secure"]) == (True, "Strict", True)
    assert key not in wall.evaluate("document.cookie")
    wall.context.close()
