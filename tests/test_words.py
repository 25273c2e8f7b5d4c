"""Every term the page uses has a plain meaning on the page, from the one glossary (``lucky5.glossary``).

The oracle for "a term a newcomer cannot explain" is the list below, written out by hand from the issue that
asked for this (‖w‖, Σw, u = Σw/√10, "contour lines ×10 apart", eigenvalue 1/6, time constant, the disagreement,
momentum buffer, τ, expected loss) and from reading the page as a newcomer. For each one the page shows, the
glossary must know it (``terms_in`` finds it) and its meaning must be on the page: in a "Words" popover or a
tooltip (``help=``).
"""

from __future__ import annotations

import json
import re

import pytest
from streamlit.testing.v1 import AppTest

from lucky5 import glossary
from page.words import chart_texts
from tests.helpers import as_read, no_errors, page

JARGON = (
    "‖w‖",
    "Σw",
    "u = Σw/√10",
    "contour lines ×10 apart",
    "/12",
    "/120",
    "mean(w)",
    "1/6",
    "torchmetrics",
    ".safetensors",
    "eigenvalue",
    "time constant",
    "disagreement",
    "momentum buffer",
    "τ",
    "expected loss",
    "valley",
    "fast error",
    "stability limit",
    "gradient",
    "optimum",
    "fingerprint",
    "MSE",
    "MAE",
    "θ",
    "Δθ",
    "chain rule",
    "forward pass",
    "epoch",
    "learning rate",
    "batch size",
    "weight decay",
    "momentum",
    "Adam",
    "SGD",
    "blew up",
    "diverged",
    "distance to optimum",
    "U(0, 1)",
    "checkpoint",
    "μ",
    "buf",
    "∂L/∂wᵢ",
    "∂L/∂b",
    "float32",
    "hex digits",
)
TEXT_KINDS = ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success")


def shown_texts(at: AppTest) -> list[str]:
    """What the page writes, in order: its text elements, labels, table columns and every chart's words."""
    out = [as_read(e.value) for kind in TEXT_KINDS for e in at.get(kind)]
    out += [m.label for m in at.metric]
    out += [str(c) for d in at.dataframe for c in d.value.columns]
    out += [t for e in at.get("plotly_chart") for t in chart_texts(json.loads(e.proto.spec))]
    for e in at.get("html"):  # the first screen's captions, one per frame, travel as JSON for its script
        found = re.search(r'class="lesson-data">(.*?)</script>', e.proto.body, re.S)
        if found:
            out += json.loads(found.group(1).replace("<\\/", "</"))["captions"]
    return out


def meanings_shown(at: AppTest) -> str:
    """Every tooltip and every text on the page, as a reader reads them."""
    helps = [
        getattr(e.proto, "help", "")
        for kind in ("metric", "number_input", "selectbox", "checkbox")
        for e in at.get(kind)
    ]
    return "\n".join([*helps, *(as_read(e.value) for e in at.markdown), *(as_read(e.value) for e in at.caption)])


def uses(texts: list[str], word: str) -> bool:
    pattern = re.escape(word) + (r"(?:e?s)?\b" if word[-1].isalpha() and word.isascii() else "")
    return any(re.search(pattern, t) for t in texts)


@pytest.mark.parametrize(
    "query",
    [{}, {"optimizer": "adam", "lr": "0.05"}, {"lr": "0.5"}, {"epochs": "2000", "momentum": "0.5"}],
    ids=["post", "adam", "diverged", "momentum"],
)
def test_every_term_the_page_uses_has_a_plain_meaning_on_the_page(query):
    at = page(**query)
    for toggle in ("show_race", "show_seeds", "show_all", "show_table"):
        at.toggle(key=toggle).set_value(True).run()
    no_errors(at)
    texts = shown_texts(at)
    shown = meanings_shown(at)
    used = [word for word in JARGON if uses(texts, word)]
    # it reads the page's words
    assert {"expected loss", "valley", "epoch", "contour lines ×10 apart", "Σw", "/12"} <= set(used)
    missing = []
    for word in used:
        found = glossary.terms_in([word])
        assert found, f"the glossary does not know {word!r}"
        if not any(term.meaning in shown for term in found):
            missing.append(word)
    assert not missing, f"used on the page without a plain meaning shown: {missing}"


# How the page says the lucky number in words; with ?target=42 every one of them must say 42, none 5.
SAYS_THE_NUMBER = ("the number {t}", "exactly {t}", "b = {t}", "b → {t}", "(0, {t})", "lucky number is {t}")


def test_the_title_the_intro_and_every_5_follow_the_lucky_number():
    at = page(target=42)
    at.toggle(key="show_all").set_value(True).run()
    no_errors(at)
    assert at.title[0].value == "lucky5: a network learns the number 42"
    intro = next(as_read(m.value) for m in at.markdown if "nn.Linear(10, 1)" in m.value)
    assert "w = 0, b = 42" in intro.replace("*", "")
    texts = shown_texts(at) + [meanings_shown(at)] + [h.value for h in at.header]
    said = " ".join(texts).replace("*", "")
    for phrase in SAYS_THE_NUMBER:
        assert phrase.format(t=5) not in said, phrase.format(t=5)
    assert all(phrase in said for phrase in ("the number 42", "exactly 42", "(0, 42)")), "42 is not said"
