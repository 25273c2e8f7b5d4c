"""Text from outside the page (a link's names and values, an uploaded file's name and its metadata) is shown
literally in a real browser: never as a link, an image, bold, italics, maths or a Streamlit directive.

Each hostile page is compared with the same page made from plain text (a benign twin): the links,
images, bold, italics, KaTeX maths and Material icons on the hostile page that the twin does not have came
from the hostile text. Each hostile string must also be visible as typed, and the browser must not fetch
anything it names.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any
from urllib.parse import urlencode

import pytest
import torch
from safetensors.torch import save as safetensors_bytes

from bench.browser import settle, wait_for_run
from lucky5 import Config, checkpoint, train

pytestmark = pytest.mark.browser

UPLOAD = '[data-testid="stFileUploader"] input[type="file"]'


def named_by_hostile_text(url: str) -> bool:
    """A URL one of the hostile strings names: their hosts, or the relative ``<img src=x>``."""
    return any(host in url for host in ("example.invalid", "e.invalid", "127.0.0.1:9/")) or url.endswith("/x")


# What Markdown, HTML, Streamlit's directives and maths would turn text into, as "kind|target|text" signatures.
MARKUP_JS = """
() => {
  const root = document.querySelector('[data-testid="stApp"]');
  const kinds = {link: 'a', image: 'img', bold: 'strong', italics: 'em', maths: '.katex',
                 colour: '.stMarkdownColoredText',
                 icon: '[data-testid="stIconMaterial"], span[style*="Material Symbols"]'};
  const out = [];
  for (const [kind, selector] of Object.entries(kinds)) {
    for (const e of root.querySelectorAll(selector)) {
      const target = e.getAttribute('href') || e.getAttribute('src') || '';
      out.push(`${kind}|${target}|${(e.textContent || '').trim().slice(0, 80)}`);
    }
  }
  return out;
}
"""

# (id, query parameters of the hostile link, the strings that must be visible literally)
HOSTILE_LINKS = [
    ("link in a name", [("[x](https://example.invalid)", "1")], ["[x](https://example.invalid)"]),
    ("image in a value", [("lr", "![](http://127.0.0.1:9/p.png)")], ["![](http://127.0.0.1:9/p.png)"]),
    # The page names only the first character it cannot read in a typed input, so only that is quoted.
    ("bold input", [("x", "**bold**")], ["'*'"]),
    ("colour directive", [("optimizer", ":red[boo]")], [":red[boo]"]),
    ("icon directive", [("momentum", ":material/home:")], [":material/home:"]),
    ("maths", [("seed", "$x^2$")], ["$x^2$"]),
    ("HTML in a name", [("<img src=x>", "1")], ["<img src=x>"]),
    ("HTML in a value", [("epochs", "<img src=x>")], ["<img src=x>"]),
]
# The benign twin: the same kinds of bad names and values, in plain letters.
BENIGN_LINK = [("plainname", "1"), ("lr", "plain"), ("x", "plain"), ("optimizer", "plain"), ("momentum", "plain")]
BENIGN_LINK += [("seed", "plain"), ("epochs", "plain")]

EVIL_NAME = "**[evil](http://e.invalid)**.safetensors"
HOSTILE_CONFIG = {
    "[x](https://example.invalid)": "1",
    "lr": "![](http://127.0.0.1:9/p.png)",
    "optimizer": ":red[boo]",
    "seed": "$x^2$",
    "<img src=x>": "**bold**",
}
BENIGN_CONFIG = {"plainname": "1", "lr": "plain", "optimizer": "plain", "seed": "plain", "othername": "plain"}


def markup(page: Any) -> Counter[str]:
    return Counter(page.evaluate(MARKUP_JS))


def watch_fetches(page: Any) -> list[str]:
    """URLs the page requests from now on that a hostile string named."""
    fetched: list[str] = []
    page.on("request", lambda r: fetched.append(r.url) if named_by_hostile_text(r.url) else None)
    return fetched


def visible_text(page: Any) -> str:
    """The page's text as a reader sees it (zero-width spaces, which keep URLs from being linked, are invisible)."""
    return page.locator('[data-testid="stApp"]').inner_text().replace("\u200b", "")


def findings(extra: Counter[str], text: str, literals: list[str], fetched: list[str]) -> list[str]:
    """Everything wrong with a hostile page, so one failure reports it all."""
    problems = [f"markup made from it: {signature}" for signature in sorted(extra.elements())]
    problems += [f"not shown literally: {literal!r}" for literal in literals if literal not in text]
    problems += [f"the browser fetched {url}" for url in fetched]
    return problems


_benign: dict[str, Counter[str]] = {}  # the benign link's markup, made once per module


@pytest.fixture
def benign_link_markup(visit: Any) -> Counter[str]:
    if "link" not in _benign:
        page, ws = visit("?" + urlencode(BENIGN_LINK))
        wait_for_run(page)
        settle(page, ws)
        _benign["link"] = markup(page)
    return _benign["link"]


@pytest.mark.parametrize(("query", "literals"), [case[1:] for case in HOSTILE_LINKS], ids=[c[0] for c in HOSTILE_LINKS])
def test_a_hostile_link_is_shown_as_text(visit, benign_link_markup, query, literals) -> None:
    page, ws = visit("?" + urlencode(query))
    fetched = watch_fetches(page)
    wait_for_run(page)
    settle(page, ws)
    problems = findings(markup(page) - benign_link_markup, visible_text(page), literals, fetched)
    assert not problems, f"the link {query}:\n" + "\n".join(problems)


def hostile_checkpoint(config: dict[str, str]) -> bytes:
    """A structurally valid lucky5 checkpoint (trained numbers) whose metadata's settings are ``config``."""
    history = train(Config(epochs=40))
    tensors = {
        "weight": history.weights[-1].reshape(1, 10).clone().to(torch.float32),
        "bias": history.biases[-1:].clone().to(torch.float32),
    }
    metadata = {"format": checkpoint.FORMAT, "version": checkpoint.VERSION, "config": json.dumps(config)}
    return safetensors_bytes(tensors, metadata=metadata)


GARBAGE = b"\x08\x00\x00\x00\x00\x00\x00\x00{not json" + bytes(range(256))

UPLOADS = [
    # (id, benign twin's metadata settings, hostile metadata settings (None: garbage bytes), visible literals)
    ("garbage with a hostile name", None, None, [EVIL_NAME]),
    (
        "hostile metadata and name",
        BENIGN_CONFIG,
        HOSTILE_CONFIG,
        [EVIL_NAME, "[x](https://example.invalid)", ":red[boo]", "$x^2$", "<img src=x>"],
    ),
]

# True once an alert (st.error, st.warning, st.success, ...) mentions the given word.
ALERT_SAYS_JS = """
(word) => [...document.querySelectorAll('[data-testid="stAlert"]')].some(e => e.innerText.includes(word))
"""


def upload(page: Any, ws: Any, name: str, data: bytes, word: str) -> None:
    """Upload ``data`` as a file called ``name``; return once an alert mentions ``word`` and the page is quiet.

    The uploader itself shows the file's name at once; the alert is the page's answer to the upload.
    """
    page.locator(UPLOAD).set_input_files({"name": name, "mimeType": "application/octet-stream", "buffer": data})
    page.wait_for_function(ALERT_SAYS_JS, arg=word, timeout=30_000)
    settle(page, ws)


@pytest.mark.parametrize(("benign", "hostile", "literals"), [u[1:] for u in UPLOADS], ids=[u[0] for u in UPLOADS])
def test_a_hostile_upload_is_shown_as_text(visit, benign, hostile, literals) -> None:
    page, ws = visit()
    fetched = watch_fetches(page)
    wait_for_run(page)
    upload(page, ws, "plain.safetensors", GARBAGE if benign is None else hostile_checkpoint(benign), "plain")
    baseline = markup(page)
    # "evil" is the link text if the name were rendered as Markdown, so the wait ends either way.
    upload(page, ws, EVIL_NAME, GARBAGE if hostile is None else hostile_checkpoint(hostile), "evil")
    problems = findings(markup(page) - baseline, visible_text(page), literals, fetched)
    assert not problems, "the uploaded file:\n" + "\n".join(problems)
