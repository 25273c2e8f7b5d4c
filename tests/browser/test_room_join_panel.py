"""The wall's join panel on a projector, in a real browser: a square QR code and a heading that tells the truth.

At 1280×720 and 1920×1080, in the light and the dark colour scheme: the join QR code is drawn square (a QR code
drawn wider than tall scans badly or not at all), the heading "Join: …" is wholly inside the viewport and is what
``document.elementFromPoint`` finds at its centre (not Streamlit's header band), and when the heading mentions a
link, the link is on the screen and breaks only after a "/" (never inside the host or the code). Screenshots go
to artifacts/screenshots/.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from bench.browser import geometry, seen

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LOAD_MS = 90_000  # the wall's first page of a fresh server imports torch
SIZES = ({"width": 1280, "height": 720}, {"width": 1920, "height": 1080})
# The join panel's shown QR code and link: the light phone's, or the fallback's once the probe hides that one.
SHOWN_JS = """
(what) => {
  const box = [...document.querySelectorAll('.st-key-join_light, .st-key-join_fallback')]
    .find(e => getComputedStyle(e).display !== 'none');
  const e = box && box.querySelector(what);
  if (!e) return null;
  const r = e.getBoundingClientRect();
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  return {width: r.width, height: r.height, text: e.innerText || '',
          inside: r.width > 0 && r.height > 0 && r.top >= 0 && r.left >= 0
                  && r.bottom <= innerHeight && r.right <= innerWidth,
          onTop: !!hit && (hit === e || e.contains(hit)),
          natural: e.naturalWidth ? [e.naturalWidth, e.naturalHeight] : null};
}
"""

# The shown join link's text pieces (between its <wbr> break points) and on how many lines each is drawn.
PIECES_JS = """
() => {
  const box = [...document.querySelectorAll('.st-key-join_light, .st-key-join_fallback')]
    .find(e => getComputedStyle(e).display !== 'none');
  const code = box && box.querySelector('.lucky5-link code');
  if (!code) return null;
  return [...code.childNodes].filter(n => n.nodeType === 3).map(n => {
    const range = document.createRange(); range.selectNodeContents(n);
    return [n.textContent, new Set([...range.getClientRects()].map(r => Math.round(r.top))).size];
  });
}
"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_join_panel_shows_a_square_qr_code_under_a_visible_true_heading(
    chromium, page_server, scheme, screenshots
) -> None:
    context = chromium.new_context(viewport=SIZES[0], color_scheme=scheme)
    wall = context.new_page()
    wall.goto(page_server.url + "?room=new")
    expect(wall.locator(".lucky5-room-code")).to_have_text(re.compile(r"^[A-Z2-9]{6}$"), timeout=LOAD_MS)
    expect(wall.locator(".st-key-join_panel img").first).to_be_visible(timeout=LOAD_MS)
    heading = wall.get_by_role("heading", name=re.compile(r"^Join"))
    for size in SIZES:
        wall.set_viewport_size(size)
        wall.wait_for_function("() => document.querySelector('.st-key-join_panel img')?.complete")
        wall.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
        where = f"{size['width']}×{size['height']} {scheme}"
        qr = wall.evaluate(SHOWN_JS, "img")
        assert qr is not None, where
        assert qr["natural"][0] == qr["natural"][1], where  # the PNG itself is square: the page must keep it so
        assert abs(qr["width"] - qr["height"]) <= 1, f"{where}: QR code drawn {qr['width']}×{qr['height']}"
        assert qr["inside"] and qr["onTop"], f"{where}: {qr}"
        title = seen(heading)
        assert title["inside"] and title["onTop"], f"{where}: heading {title}"
        code = geometry(wall, ".lucky5-room-code")
        assert code is not None and code["inside"] and code["onTop"], f"{where}: code {code}"
        if "link" in heading.inner_text():
            link = wall.evaluate(SHOWN_JS, ".lucky5-link")
            assert link is not None and link["inside"] and link["onTop"], f"{where}: link {link}"
            assert re.search(r"/j/[A-Z2-9]{6}|join=[A-Z2-9]{6}", link["text"]), f"{where}: {link['text']!r}"
            # Broken only after a "/": each piece between the breaks allowed after a "/" sits on one line.
            pieces = wall.evaluate(PIECES_JS)
            assert pieces and all(lines == 1 for _, lines in pieces), f"{where}: {pieces}"
        wall.screenshot(path=screenshots / f"room-join-{size['width']}-{scheme}.png")
    context.close()
