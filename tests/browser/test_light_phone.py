"""The light phone (``/j/CODE``) in a real browser: a presenter's wall and three 390 px phones go through all
three stages; a phone's first load on a slow network; the wall's fallback when the short link is unreachable.

The phones train in the browser (``lucky5/static/train.js``): what they show is checked against
``lucky5.train`` for the seed they show. Geometry is Chromium's (bounding boxes and
``document.elementFromPoint``), clicks and key presses are real, in the light and the dark colour scheme.
Screenshots go to artifacts/screenshots/.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]  # ships no type hints
from playwright.sync_api import expect

from bench.browser import DESKTOP, NetworkLog, move_to_stage, seen
from lucky5.engine import train
from lucky5.room import QUESTIONS, STAGE_NAMES, STAGES
from lucky5.room.votes import PREDICT_FIRST
from tests.helpers import shown_number

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LOAD_MS = 90_000  # the wall's first page of a fresh server imports torch
WALL_MS = 20_000  # the wall refreshes itself every 2 s
FOLLOW_MS = 2_000  # a phone shows the presenter's new stage within this (the event stream: within about 0.5 s)
PHONE_390 = {"width": 390, "height": 844}
PHONE_LRS = (0.1, 0.25, 0.4)
SCHEMES = ("light", "dark", "light")
BLOCKING_IMPACTS = ("serious", "critical")
FIRST_LOAD_BYTES = 100_000
SLOW_3G_SECONDS = 5.0

HITS_JS = """
(selector) => {
  const e = document.querySelector(selector);
  const r = e.getBoundingClientRect();
  const x = r.left + r.width / 2, y = r.top + r.height / 2;
  return {inside: r.left >= 0 && r.top >= 0 && r.right <= innerWidth && r.bottom <= innerHeight,
          hit: e.contains(document.elementFromPoint(x, y)), width: document.documentElement.scrollWidth,
          top: r.top, bottom: r.bottom, innerHeight, scrollY};
}
"""


def open_phone(chromium, url: str, scheme: str):
    """A phone: its own browser context (its own storage), 390 px wide; console errors collected."""
    context = chromium.new_context(viewport=PHONE_390, color_scheme=scheme)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    return page, errors


# The phone's own result in one sentence: its b beside the lucky number, then its ‖w‖.
MINE = re.compile(
    r"Your b is (\S+?)(?: \(the lucky number is 5\)|, within \S+ of the lucky number 5), and your ‖w‖ is \S+\."
)


def seed_of(phone) -> int:
    return int(phone.locator("#seed").inner_text())


def assert_train_button_is_reachable(phone) -> None:
    box = phone.evaluate(HITS_JS, "#train")
    assert box["inside"] and box["hit"], box
    assert box["width"] <= PHONE_390["width"], box


def skip_question(wall) -> None:
    """The presenter skips the current stage's question (a real click): the phones' Train opens without a vote
    (``lucky5.room.votes.train_waits``). The vote's buttons keep their places, disabled when they do not apply:
    after a stage change the click waits for the new stage's button to be enabled."""
    skip = wall.locator(".st-key-vote_panel").get_by_role("button", name="Skip the question", exact=True)
    skip.click(timeout=WALL_MS)
    expect(wall.locator(".st-key-vote_panel").get_by_text("Question skipped")).to_be_visible(timeout=WALL_MS)
    expect(skip).to_be_disabled(timeout=WALL_MS)


def train_on(phone, stage: str, lr: float | None) -> str:
    """Choose the rate (a real click), press Train (a real key press), wait for the result; returns its text.
    Train must have opened: the presenter closed the stage's vote or skipped its question."""
    title = f"Stage {STAGE_NAMES.index(stage) + 1}: {STAGES[stage].title}"
    expect(phone.locator("#stage-title")).to_have_text(title, timeout=FOLLOW_MS)
    expect(phone.locator("#train")).to_be_enabled(timeout=WALL_MS)
    if lr is not None:
        choice = phone.locator("#rates label", has_text=re.compile(rf"^{re.escape(str(lr))}$"))
        choice.click()
        expect(choice.locator("input")).to_be_checked()
    phone.locator("#train").focus()
    phone.keyboard.press("Enter")
    mine = phone.locator("#mine")
    expect(mine).to_have_text(re.compile(r"^Your b is"), timeout=WALL_MS)
    expect(phone.locator("#status")).to_have_text("Your run is on the wall.", timeout=WALL_MS)
    return mine.inner_text()


def test_a_presenter_and_three_light_phones_go_through_every_stage(visit, chromium, page_server, screenshots):
    wall, _ = visit("?room=new", DESKTOP)
    code_box = wall.locator(".lucky5-room-code")
    expect(code_box).to_have_text(re.compile(r"^[A-Z2-9]{6}$"), timeout=LOAD_MS)
    code = code_box.inner_text()
    # The short link answered the wall's probe: its QR code and link are shown, the fallback's are not.
    light = wall.locator(".st-key-join_light")
    expect(light).to_be_visible(timeout=WALL_MS)
    expect(light.get_by_text(page_server.url + f"j/{code}", exact=True)).to_be_visible()
    expect(wall.locator(".st-key-join_fallback")).to_be_hidden()

    url = page_server.url + f"j/{code}"
    phones = [open_phone(chromium, url, scheme) for scheme in SCHEMES]
    for phone, _ in phones:
        expect(phone.locator("#seed")).to_have_text(re.compile(r"^\d+$"), timeout=WALL_MS)
        expect(phone.locator("#train")).to_be_disabled()  # the stage's question first: predict, then see
        expect(phone.locator("#status")).to_have_text(PREDICT_FIRST)
        assert_train_button_is_reachable(phone)
    expect(wall.get_by_text(re.compile(r"^3 joined · 0 trained"))).to_be_visible(timeout=WALL_MS)

    for i, stage in enumerate(STAGE_NAMES):
        if i:
            move_to_stage(wall, i + 1, STAGES[stage].title)  # runs on the wall: it asks, and is told yes
        skip_question(wall)  # no vote in this test (tests/browser/test_room_predict.py votes)
        for (phone, _), lr in zip(phones, PHONE_LRS, strict=True):
            chosen = lr if STAGES[stage].lrs else None
            shown = train_on(phone, stage, chosen)
            expected = train(STAGES[stage].config(seed_of(phone), chosen)).trained.bias
            b = MINE.fullmatch(shown)
            assert b and shown_number(b[1]) == pytest.approx(expected, rel=1e-3), (shown, expected)
        expect(wall.get_by_text(re.compile(r"^3 joined · 3 trained in this stage"))).to_be_visible(timeout=WALL_MS)
        for phone, _ in phones:  # every phone hears of the others' runs: the room's medians
            expect(phone.locator("#counts")).to_have_text(re.compile(r"3 runs trained in this stage"), timeout=5000)
            expect(phone.locator("#room")).to_have_text(re.compile(r"^The room's median b is"), timeout=5000)
        if i == 0:
            reloaded, _ = phones[0]
            seed, result = seed_of(reloaded), reloaded.locator("#mine").inner_text()
            reloaded.reload()  # a mobile browser dropping the tab: the same participant, its run shown again
            expect(reloaded.locator("#seed")).to_have_text(str(seed), timeout=WALL_MS)
            expect(reloaded.locator("#mine")).to_have_text(result)
            wall.wait_for_timeout(2500)
            expect(wall.get_by_text(re.compile(r"^3 joined · 3 trained in this stage"))).to_be_visible()

    # The learning-rate stage: the 0.4 phone blew up, and says so with theory's advice.
    blown, _ = phones[2]
    expect(blown.locator("#blown")).to_have_text(re.compile(r"^Your run blew up"))
    expect(blown.locator("#at-lr")).to_have_text(re.compile(r"^At learning rate 0\.4, 1 of 1 runs"))
    for (phone, errors), scheme in zip(phones, SCHEMES, strict=True):
        assert_train_button_is_reachable(phone) if phone.evaluate("scrollY") == 0 else None
        violations = Axe().run(phone).response["violations"]
        blocking = [f"{v['id']} ({v['impact']})" for v in violations if v["impact"] in BLOCKING_IMPACTS]
        assert not blocking, f"axe on a {scheme} phone: {blocking}"
        assert not errors, errors
    for (phone, _), name in ((phones[0], "light"), (phones[1], "dark")):
        phone.screenshot(path=screenshots / f"room-light-phone-390-{name}.png", full_page=True)
    for phone, _ in phones:
        phone.context.close()


def test_a_phones_first_load_is_small_and_quick_on_slow_3g(visit, chromium, page_server, screenshots):
    wall, _ = visit("?room=new", DESKTOP)
    code_box = wall.locator(".lucky5-room-code")
    expect(code_box).to_have_text(re.compile(r"^[A-Z2-9]{6}$"), timeout=LOAD_MS)
    skip_question(wall)  # before the clock starts: the phone's time is its own load and run, not the wall's press
    context = chromium.new_context(viewport=PHONE_390)
    phone = context.new_page()
    net = NetworkLog()
    net.attach(phone)
    net.throttle()  # Chromium's Slow 3G as the bar states it: 400 ms latency, 400 kbit/s
    started = time.monotonic()
    phone.goto(page_server.url + f"j/{code_box.inner_text()}")
    expect(phone.locator("#seed")).to_have_text(re.compile(r"^\d+$"), timeout=30_000)
    expect(phone.locator("#train")).to_be_enabled()
    phone.locator("#train").click()
    expect(phone.locator("#mine")).to_have_text(re.compile(r"^Your b is"), timeout=30_000)
    seconds = time.monotonic() - started
    loaded = net.total
    expect(phone.locator("#status")).to_have_text("Your run is on the wall.", timeout=30_000)
    print(f"\nfirst load on Slow 3G: {loaded:,} bytes, own result after {seconds:.2f} s")
    assert loaded <= FIRST_LOAD_BYTES, net.largest()
    assert seconds < SLOW_3G_SECONDS
    context.close()


def test_a_run_still_on_its_way_never_says_it_is_on_the_wall(visit, chromium, page_server):
    """The room's store is away when the phone's run is sent (its /run answers "unavailable"): the phone says so
    and sends it again; news of the room meanwhile (a second phone joins) must not make it say "on the wall"."""
    wall, _ = visit("?room=new", DESKTOP)
    code_box = wall.locator(".lucky5-room-code")
    expect(code_box).to_have_text(re.compile(r"^[A-Z2-9]{6}$"), timeout=LOAD_MS)
    code = code_box.inner_text()
    wall.get_by_role("button", name="Skip the question").click()  # no vote: Train opens at once
    phone, errors = open_phone(chromium, page_server.url + f"j/{code}", "light")
    expect(phone.locator("#stage-title")).to_have_text(re.compile("^Stage 1"), timeout=LOAD_MS)
    away = {"error": "The shared room store is not answering (ConnectionError); try again shortly.",
            "reason": "unavailable"}  # fmt: skip
    phone.route("**/run", lambda route: route.fulfill(status=503, json=away))
    expect(phone.locator("#train")).to_be_enabled(timeout=WALL_MS)
    phone.locator("#train").click()
    status = phone.locator("#status")
    expect(status).to_contain_text("Your run is kept here", timeout=WALL_MS)
    said = "window.lucky5Said"  # every sentence the status line shows from now on
    phone.evaluate(
        f"""() => {{ {said} = []; const s = document.getElementById('status');
        new MutationObserver(() => {said}.push(s.textContent)).observe(s, {{childList: true, subtree: true,
        characterData: true}}); }}"""
    )
    other, _ = open_phone(chromium, page_server.url + f"j/{code}", "dark")  # the room's news reaches the phone
    expect(phone.locator("#counts")).to_contain_text("2 people joined", timeout=WALL_MS)
    phone.wait_for_timeout(500)
    assert "Your run is on the wall." not in phone.evaluate(said), phone.evaluate(said)
    phone.unroute("**/run")  # the store is back: the next try goes through
    expect(status).to_have_text("Your run is on the wall.", timeout=WALL_MS)
    expect(wall.get_by_text(re.compile(r"^2 joined · 1 trained"))).to_be_visible(timeout=WALL_MS)
    unexpected = [e for e in errors if "status of 503" not in e]  # Chromium logs each refused try, as it should
    assert not unexpected, unexpected
    other.context.close()


def test_the_wall_falls_back_to_the_streamlit_phone_when_the_short_link_is_unreachable(visit, chromium):
    context = chromium.new_context(viewport=DESKTOP)
    wall = context.new_page()
    # A proxy that forwards only Streamlit's own paths: the short link answers with something else.
    wall.route(re.compile(r".*/j/ping$"), lambda route: route.fulfill(status=404, body="Not Found"))
    base, _ = visit("", DESKTOP)  # only for the server's address
    wall.goto(base.url.split("?")[0] + "?room=new")
    code_box = wall.locator(".lucky5-room-code")
    expect(code_box).to_have_text(re.compile(r"^[A-Z2-9]{6}$"), timeout=LOAD_MS)
    fallback = wall.locator(".st-key-join_fallback")
    expect(fallback).to_be_visible(timeout=WALL_MS)
    expect(wall.locator(".st-key-fallback_note").get_by_text("does not answer through this address")).to_be_visible()
    # The link's code block: Streamlit loads its highlighter's script on first use (slow on a busy machine)
    expect(fallback.get_by_text(re.compile(rf"\?join={code_box.inner_text()}$"))).to_be_visible(timeout=WALL_MS)
    expect(wall.locator(".st-key-join_light")).to_be_hidden()
    # The warning heads the wall's column: on a 1280×720 projector every stage button is still on the screen.
    wall.set_viewport_size({"width": 1280, "height": 720})
    for i, name in enumerate(STAGE_NAMES):
        button = seen(wall.get_by_role("button", name=f"{i + 1}. {STAGES[name].title}"))
        assert button["inside"] and button["onTop"], f"stage button {i + 1} with the fallback: {button}"
    context.close()


SMALL_TEXT_JS = """
() => {
  const out = [];
  const main = document.querySelector('[data-testid="stMain"]');
  for (const e of main.querySelectorAll('*')) {
    const own = [...e.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent).join('').trim();
    if (!own) continue;
    const r = e.getBoundingClientRect(), style = getComputedStyle(e);
    if (r.width === 0 || r.height === 0 || style.visibility === 'hidden' || style.display === 'none') continue;
    if (e.closest('.modebar, [hidden]') || r.bottom < 0 || r.top > innerHeight * 3) continue;
    const size = parseFloat(style.fontSize);
    if (size < 18) out.push(own.slice(0, 40) + ' (' + size + 'px)');
  }
  return out;
}
"""

OVERLAPPING_TITLES_JS = """
() => [...document.querySelectorAll('.js-plotly-plot')].flatMap(g => {
  const boxes = [...g.querySelectorAll('.annotation, .gtitle')].map(e => [e.textContent, e.getBoundingClientRect()]);
  return boxes.flatMap(([t, a], i) => boxes.slice(i + 1).filter(([, b]) =>
    a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom).map(([u]) => t + ' / ' + u));
})
"""

TITLES_JS = """
() => [...document.querySelectorAll('.js-plotly-plot .annotation-text')].map(e => e.getAttribute('data-unformatted'))
"""


def settled(page: Any, script: str, done: Callable[[Any], bool], seconds: float = 15) -> Any:
    """``script``'s value once ``done`` holds, or its last value after ``seconds``: the wall's fragment and
    Plotly draw a moment after the text that the test waited for (later still on a busy machine)."""
    deadline = time.monotonic() + seconds
    value = page.evaluate(script)
    while not done(value) and time.monotonic() < deadline:
        page.wait_for_timeout(250)
        value = page.evaluate(script)
    return value


def post_runs(server_url: str, code: str, stage: str, n: int) -> None:
    """``n`` phones join over HTTP and send their real runs of ``stage`` (trained here, in one batch)."""
    import json
    import urllib.request

    from lucky5.engine import train_many
    from lucky5.room import participant_seed, summarize

    ids = [f"hall-{stage}-{i:02d}".ljust(22, "x")[:22] for i in range(n)]
    histories = train_many(STAGES[stage].config(0), seeds=[participant_seed(me) for me in ids])
    for me, history in zip(ids, histories, strict=True):
        for path, body in (
            (f"j/{code}/join", {"me": me}),
            (f"j/{code}/run", {"me": me, "summary": json.loads(summarize(history).to_json())}),
        ):
            request = urllib.request.Request(server_url + path, data=json.dumps(body).encode(), method="POST")
            urllib.request.urlopen(request, timeout=30).read()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_wall_reads_from_the_back_of_a_hall(chromium, page_server, scheme, screenshots):
    context = chromium.new_context(viewport={"width": 1920, "height": 1080}, color_scheme=scheme)
    wall = context.new_page()
    wall.goto(page_server.url + "?room=new")
    code_box = wall.locator(".lucky5-room-code")
    expect(code_box).to_have_text(re.compile(r"^[A-Z2-9]{6}$"), timeout=LOAD_MS)
    code = code_box.inner_text()
    skip_question(wall)  # the runs' phones would wait for the vote otherwise
    post_runs(page_server.url, code, "post", 6)
    counts = wall.locator(".lucky5-counts")
    expect(counts).to_have_text(re.compile(r"^6 joined · 6 trained in this stage"), timeout=WALL_MS)
    assert float(counts.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")) >= 36
    assert settled(wall, SMALL_TEXT_JS, lambda small: small == []) == []

    # Stage 2: every run reaches 5. The histogram of b keeps 5 inside its axis and says how close they came.
    move_to_stage(wall, 2, STAGES["patience"].title)
    skip_question(wall)
    post_runs(page_server.url, code, "patience", 6)
    expect(counts).to_have_text(re.compile(r"^12 joined · 6 trained in this stage"), timeout=WALL_MS)
    close = re.compile(r"final bias b \(optimum 5\)<br>every run within \S+ of it")
    titles = settled(wall, TITLES_JS, lambda titles: any(close.fullmatch(t) for t in titles))
    assert any(close.fullmatch(t) for t in titles), titles
    axis_js = (
        "() => [...document.querySelectorAll('.js-plotly-plot')].map(g => g._fullLayout?.xaxis?.range || [0, 0])"
        ".find(r => r[0] < 5 && 5 < r[1] && r[1] - r[0] >= 1) || null"
    )
    axis = settled(wall, axis_js, lambda axis: axis is not None)
    assert axis is not None, "no histogram axis that holds 5 and spans at least 1"
    small = settled(wall, SMALL_TEXT_JS, lambda small: small == [])
    wall.screenshot(path=screenshots / f"room-wall-hall-1920-{scheme}.png")
    assert small == [], " | ".join(small)

    # On a 1280×720 screen the presenter still reaches every stage button, and the charts' titles stay apart.
    wall.set_viewport_size({"width": 1280, "height": 720})
    assert settled(wall, OVERLAPPING_TITLES_JS, lambda overlapping: overlapping == []) == []
    names = [f"{i + 1}. {STAGES[s].title}" for i, s in enumerate(STAGE_NAMES)]
    for name in names:
        button = wall.get_by_role("button", name=name)
        expect(button).to_be_in_viewport(ratio=1)
        box = button.bounding_box()
        hit = wall.evaluate(
            "([x, y, name]) => (document.elementFromPoint(x, y)?.closest('button')?.innerText || '').trim() === name",
            [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, name],
        )
        assert hit, name
    wall.screenshot(path=screenshots / f"room-wall-hall-1280-{scheme}.png")
    context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_stage_round_trip_asks_again_and_trains_afresh(visit, chromium, page_server, scheme, screenshots):
    """The presenter goes to stage 2 and back to stage 1: the server cleared the runs and starts the question
    afresh, so the phone forgets its run of stage 1 (its stored copy too: a reload does not bring it back) and
    shows the question, then Train, as at the start."""
    wall, _ = visit("?room=new", DESKTOP)
    code_box = wall.locator(".lucky5-room-code")
    expect(code_box).to_have_text(re.compile(r"^[A-Z2-9]{6}$"), timeout=LOAD_MS)
    phone, errors = open_phone(chromium, page_server.url + f"j/{code_box.inner_text()}", scheme)
    skip_question(wall)
    train_on(phone, "post", None)
    expect(phone.locator("#result")).to_be_visible()
    for i, stage in ((1, "patience"), (0, "post")):
        wall.get_by_role("button", name=f"{i + 1}. {STAGES[stage].title}").click()
        expect(phone.locator("#stage-title")).to_have_text(re.compile(f"^Stage {i + 1}:"), timeout=WALL_MS)
    for reloaded in (False, True):
        if reloaded:
            phone.reload()
        expect(phone.locator("#ask-text")).to_have_text(QUESTIONS["post"].text, timeout=WALL_MS)
        expect(phone.locator("#result")).to_be_hidden()
        expect(phone.locator("#status")).to_have_text(PREDICT_FIRST)
        expect(phone.locator("#train")).to_be_disabled()
        assert phone.evaluate("Object.keys(localStorage).filter(k => k.endsWith('_run'))") == []
    phone.screenshot(path=screenshots / f"room-light-phone-390-round-trip-{scheme}.png")
    skip_question(wall)
    expect(phone.locator("#status")).to_have_text("Press Train to train your own network.", timeout=WALL_MS)
    assert_train_button_is_reachable(phone)
    train_on(phone, "post", None)
    assert not errors, errors
    phone.context.close()
