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

from lucky5 import Config, glossary
from page.words import chart_texts
from tests.helpers import as_read, fingerprint, fold_keys, no_errors, open_folds, page, widget

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
    # what a second fresh reader could not explain
    "variance",
    "shrinks by e",
    "log scale",
    "least-squares fit",
    "Nesterov",
    "lr",
    ".grad",
    "loss.backward()",
    "optimizer.step()",
    "torch.Generator",
    "initialisation",
    "batch_size",
    "|weight|",
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


def everything_open(at: AppTest) -> AppTest:
    """Every folded panel opened, as a reader clicking each title: the Words, the story and the sidebar's groups
    draw what they hold only while open. A closed panel writes nothing but its title."""
    closed = fold_keys(at)
    assert {"words_lesson", "run_story"} <= set(closed)
    open_folds(at, *closed)
    assert not fold_keys(at)  # opening one revealed no other closed one
    return at


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
    everything_open(at)
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
    # Any sign (Σ, ‖, √, θ, τ, /120, ^10, ...) the page writes sits inside a term the glossary knows: a new formula
    # or symbol without a meaning fails here, whatever its name.
    signs = [sign for text in texts if not _words_list(text) for sign in glossary.unexplained(_no_maths(text))]
    assert not signs, f"signs on the page that no term explains: {signs}"
    # Bars around a number's miss (|b − 5|) read as nothing to a reader who never met them: only the glossary's own
    # spellings (|weight|, |ŷ − t|) may use them, everything else says "away from" in words.
    bars = [m for t in texts if not _words_list(t) for m in re.findall(r"\|[^|\n]{1,24}\|", _no_maths(t))]
    assert all(glossary.terms_in([m]) for m in bars), bars


def _no_maths(text: str) -> str:
    """``text`` without its typeset formulas ($$…$$, the step's LaTeX source, ^2 meaning a square): their
    symbols are read as typeset, and the step's own Words list names their terms."""
    return re.sub(r"\$\$.*?\$\$", " ", text, flags=re.S)


def _words_list(text: str) -> bool:
    """A Words panel's body: the meanings themselves, which explain their own signs."""
    return text.lstrip().startswith("- **")


def test_a_words_panel_sends_its_title_alone_until_it_is_opened_then_its_meanings_stay():
    """A folded panel's meanings cost every rerun without being read: they are written once it is opened."""
    at = page()

    def panel():
        return next(e for e in at.expander if e.proto.id.endswith("-words_lesson"))

    assert panel().label == "Words: what the terms here mean"
    assert not panel().proto.expanded and not panel().children
    open_folds(at, "words_lesson")
    no_errors(at)
    body = as_read(panel().markdown[0].value)
    assert panel().proto.expanded and body.startswith("- **")
    assert all(glossary.meaning(term) in body for term in ("epoch", "valley", "expected loss"))
    at.run()  # a later rerun (a click elsewhere) keeps it open, with the same meanings
    assert panel().proto.expanded and as_read(panel().markdown[0].value) == body
    at.session_state["words_lesson"] = False  # folded again: the title alone
    at.run()
    assert not panel().children


# How the page says the lucky number in words; with ?target=42 every one of them must say 42, none 5.
SAYS_THE_NUMBER = ("the number {t}", "exactly {t}", "b = {t}", "b → {t}", "(0, {t})", "lucky number is {t}")


def test_the_title_the_intro_and_every_5_follow_the_lucky_number():
    at = page(target=42)
    at.toggle(key="show_all").set_value(True).run()
    everything_open(at)
    no_errors(at)
    assert at.title[0].value == "lucky5: a network learns the number 42"
    intro = next(as_read(m.value) for m in at.markdown if "nn.Linear(10, 1)" in m.value)
    assert "w = 0, b = 42" in intro.replace("*", "")
    texts = shown_texts(at) + [meanings_shown(at)] + [h.value for h in at.header]
    said = " ".join(texts).replace("*", "")
    for phrase in SAYS_THE_NUMBER:
        assert phrase.format(t=5) not in said, phrase.format(t=5)
    assert all(phrase in said for phrase in ("the number 42", "exactly 42", "(0, 42)")), "42 is not said"


# --- what a reader types into the sidebar ---------------------------------------------------------------------------


def sidebar_errors(at: AppTest) -> list[str]:
    return [as_read(e.value) for e in at.sidebar.error]


def test_a_learning_rate_box_left_without_a_number_refuses_in_words_and_keeps_the_run():
    """Letters in a browser's number box arrive as an empty box; it used to arrive as 0, which the ladder's
    − read as one rung down: lr 0.005 trained, silently."""
    at = page()
    before = fingerprint(at)
    widget(at, "number_input", "w_lr").set_value(None)
    at.run()
    no_errors(at)
    assert at.session_state.state.run == Config() and fingerprint(at) == before
    assert widget(at, "number_input", "w_lr").value == 0.01  # the box holds the run's value again
    said = " ".join(sidebar_errors(at))
    assert "Learning rate takes a number" in said and "back at 0.01" in said, said
    widget(at, "number_input", "w_lr").set_value(0.02)  # the next good value trains, and the message goes
    at.run()
    assert at.session_state.state.run.lr == 0.02 and not sidebar_errors(at)


def test_an_emptied_box_puts_back_the_blog_posts_value_and_says_so():
    """Every number box shows Streamlit's ⊗ (value=None boxes, so that letters arrive as None, not as 0). Clearing
    one is a reset: the blog post's value, trained, with the sentence that says so; the other settings stay."""
    at = page(lr="0.05", seed="3")
    widget(at, "number_input", "w_lr").set_value(None)
    at.run()
    no_errors(at)
    assert at.session_state.state.run == Config(seed=3)  # lr back to 0.01; the seed kept
    assert widget(at, "number_input", "w_lr").value == 0.01
    said = " ".join(sidebar_errors(at))
    assert "back at 0.01, the blog post's value" in said and "⊗" in said, said


def test_a_seed_out_of_range_says_why_beside_the_seed():
    """The seed box had bounds, so 2³² did not take and nothing said why."""
    at = page()
    before = fingerprint(at)
    widget(at, "number_input", "w_seed").set_value(2**32)
    at.run()
    no_errors(at)
    said = " ".join(sidebar_errors(at))
    assert "seed" in said and f"{2**32 - 1:,}" in said, said
    assert fingerprint(at) == before  # the last run that could train stays


def test_a_huge_lucky_number_is_written_one_way_everywhere():
    """With target 10¹² the page wrote 1×10¹² in the title, 1e+12 under a chart and 4.02e+11 in a metric."""
    at = page(target="1e12")
    at.toggle(key="show_all").set_value(True).run()
    everything_open(at)
    no_errors(at)
    shown = shown_texts(at) + [m.value for m in at.metric]
    e_notation = [t for t in shown if re.search(r"\de[+-]\d", t)]
    assert not e_notation, e_notation
    assert any("1×10¹²" in t for t in shown)


@pytest.mark.parametrize(
    ("query", "named", "not_said"),
    [({}, ("bare address", "seed 0"), ("seed included",)), ({"seed": "3", "epochs": "2000"}, ("Epochs", "Seed"), ())],
    ids=["post", "seed3"],
)
def test_the_share_caption_says_what_the_link_holds(query, named, not_said):
    """The caption promised "seed included" under the bare link of the blog post's run, which names no seed."""
    at = page(**query)
    no_errors(at)
    link = next(c.value for c in at.code if "://" in c.value)
    caption = next(as_read(c.value) for c in at.caption if "Copy the link" in c.value)
    assert ("?" in link) == bool(query) and all(f"{k}={v}" in link for k, v in query.items())
    assert all(word in caption for word in named) and not any(word in caption for word in not_said), caption


@pytest.mark.parametrize("query", [{}, {"optimizer": "adam", "lr": "0.05"}], ids=["gauge", "no-limit"])
def test_the_stability_line_has_the_help_every_setting_has(query):
    """Every setting in the sidebar has a (?) with its meaning; the stability limit had none."""
    at = page(**query)
    no_errors(at)
    stability = [c for c in at.sidebar.caption if c.value.startswith("Stability")]
    assert len(stability) == 1
    assert glossary.meaning("stability limit") in stability[0].proto.help
