"""The run itself: the summary, every panel in one animation, your input and why the answer is not exactly 5.

Each panel reads the session's state and a ``History`` and draws; the numbers come from the core
(``lucky5.theory``, ``lucky5.figures``), never from arithmetic here.
"""

from __future__ import annotations

import secrets

import streamlit as st
import torch

from lucky5 import figures, story, task, theory
from lucky5.engine import History
from lucky5.inputs import format_numbers, parse_input
from lucky5.narration import near, number

from . import runtime, tables, words
from . import state as page_state
from .prose import Prose
from .text import literal

CHART_CONFIG = {"displayModeBar": False}
# Streamlit fades captions to 60 % opacity, which puts caption text below the 4.5:1 text needs (WCAG 1.4.3), and
# its code colour inside a caption (the run fingerprint) lower still. At 80 % both pass in the light and the dark
# theme (tests/browser/test_accessibility.py runs axe-core on them), and captions still read as secondary.
CAPTION_CSS = """<style>
[data-testid="stCaptionContainer"] { opacity: 0.8 !important; }
[data-testid="stCaptionContainer"] code { color: inherit !important; }
</style>"""


def readable_captions() -> None:
    """Captions with enough contrast (see ``CAPTION_CSS``); drawn once on every page that has captions."""
    st.html(CAPTION_CSS)


def notices() -> None:
    """Messages for the viewer from the last callback or the link (already literal where they quote outside text)."""
    state = page_state.get()
    for notice in state.notices:
        st.warning(notice)
    state.notices = []


def diverged(history: History) -> None:
    """Why the run stopped early, if it diverged: drawn in the lesson's first screen, beside what it explains."""
    if history.diverged_at is None:
        return
    # Short, so that it takes two lines at most above the charts: the first screen gives up that much height.
    shown = (
        f"the charts show the {history.steps:,} epochs before that"
        if history.steps
        else "it blew up on the first epoch, so the charts show only the start"
    )
    st.error(
        f"**Diverged at epoch {history.diverged_at:,}**: {theory.stability(history.config).hint}. The weights grew "
        f"past what a computer can store; {shown}."
    )


def summary(history: History, x: tuple[float, ...]) -> None:
    c = history.config
    readable_captions()
    layer = history.trained
    why = runtime.why_not_five(history)
    said = task.why_words(why)
    formula = "(0.5·Σw + b − t)² + ‖w‖²/12" if said.w == "w" else "(0.5·Σ(w − a) + b − c)² + ‖w − a‖²/12"
    floor = f" + {number(said.floor_total)} no layer can remove" if said.floor_total > 0 else ""
    # The cards are the run's end; the drawing above shows the epoch its slider is at (it says which, on itself).
    st.markdown(
        f"**The run's end, after {history.steps:,} epochs**"
        + (" (the finite ones)" if history.diverged_at is not None else "")
    )
    cols = st.columns(4)
    # The expected loss leads: it says how good the layer is. The last epoch's loss is one random input's.
    cols[0].metric(
        "Expected loss",
        number(why.expected_loss),
        help=words.with_meanings(
            "The loss averaged over every possible input, from theory: the number to trust for how good the layer "
            "is (the last epoch's loss is one random input's, a test's MSE an average over a few). "
            f"{formula}{floor}; '{said.title}' splits it into its three parts.",
            "expected loss",
            "‖w‖²/12",
        ),
    )
    best = why.optimum_bias
    cols[1].metric(
        "Bias b", near(layer.bias, best), help=words.with_meanings(f"The optimum is b = {number(best, 4)}.", "bias")
    )
    at_best = float(torch.linalg.vector_norm(torch.tensor(why.optimum_weights, dtype=torch.float64)))
    if c.target_rule is None:
        cols[2].metric(
            "Size of the weights ‖w‖",
            number(layer.norm),
            help=words.with_meanings(
                "The optimum is w = 0." if at_best == 0 else f"At the optimum ‖w‖ = {number(at_best)}.", "‖w‖"
            ),
        )
    else:  # a rule's weights head for its best layer's, not for 0: say how far they still are
        cols[2].metric(
            "Distance to the best weights",
            number(why.weight_error),
            help=f"‖w − a‖, where a are the weights of the best layer one neuron can be: "
            f"{literal(said.best)}. It is 0 when the weights are exactly those.",
        )
    prediction = float(layer.predict(torch.tensor(x, dtype=torch.float64)))
    target = task.target_at(c, x)
    cols[3].metric(
        "Prediction for your input",
        near(prediction, target),
        help=words.with_meanings(
            f"The lucky number is {number(target, 4)}."
            if c.target_rule is None
            else f"The rule at your input is {number(target, 4)}; the best one neuron can answer, "
            f"{number(task.best_at(c, x), 4)}.",
            "prediction",
        ),
    )
    if history.steps:
        st.caption(
            f"The last epoch's loss, {number(float(history.losses[-1]))}, is the loss on that epoch's one random "
            "input: it jumps from epoch to epoch (the grey line), so it says little about the layer; the expected "
            "loss above, over every input, is the one to trust."
        )
    took = f"{history.seconds * 1000:.0f} ms" if history.seconds < 1 else f"{history.seconds:.2f} s"
    st.caption(
        f"Run fingerprint: `{history.fingerprint()}` · {history.steps:,} epochs in {took} "
        "· same settings, same fingerprint, on any machine."
    )
    words.popover(["run fingerprint", "loss"], key="summary")


def animation(history: History, x: tuple[float, ...]) -> None:
    """Every panel in one animation (the loss's three parts and the bars too), shown on request."""
    if not st.toggle("Show every panel in one animation: the loss in three parts, the weights as bars", key="show_all"):
        return
    figure = runtime.animation_figure(history.config, x, runtime.theme(), page_state.get().present)
    st.plotly_chart(
        figure,
        key="animation",
        config=CHART_CONFIG,
        alt="Animation of training: the loss per epoch and its three parts, the path through the loss valley, "
        "the weights and bias as bars, and the prediction for your input. The table below gives the same numbers.",
    )
    # Why the valley term rises first is said once, under "Why not exactly 5" beside the three parts' formula.
    words.popover(words.chart_texts(figure), key="animation")
    # A text alternative to the animation; built only when asked for, since tables cost every rerun.
    if st.toggle("Show the animation as a table (every frame: loss, bias and weights)", key="show_table"):
        tables.table(figures.frames_table(history), near={"bias": theory.optimum_for(history.config).bias})


def your_input() -> tuple[float, ...]:
    """The input box and Randomise; returns the input the page shows (the last good one)."""
    state = page_state.get()
    st.header("Your input")
    if not st.session_state.get("x_problem"):  # keep a bad typed text on screen, so it can be corrected
        st.session_state.x_text = format_numbers(state.input)
    c1, c2 = st.columns([5, 1], vertical_alignment="bottom")
    c1.text_input(
        "Ten numbers, separated by commas or spaces",
        key="x_text",
        on_change=_typed,
        help="The layer was trained on numbers between 0 and 1.",
    )
    c2.button("Randomise", on_click=_randomise, width="stretch")
    if problem := st.session_state.get("x_problem"):
        st.error(f"{literal(problem)} Showing the last good input: {format_numbers(state.input)}.")
    x = state.input
    outside = [i + 1 for i, v in enumerate(x) if not 0 <= v <= 1]
    if outside:
        st.warning(
            f"Inputs {', '.join(map(str, outside))} are outside [0, 1], what the model was trained on: "
            "the weights it still has (‖w‖ > 0) now matter more."
        )
    return x


def show_input(x: tuple[float, ...] | None) -> None:
    """Show a new input (None: the seed's default); the box shows it when next drawn."""
    page_state.get().x = x
    st.session_state.x_problem = None


def _typed() -> None:
    try:
        page_state.get().x = parse_input(st.session_state.x_text)
        st.session_state.x_problem = None
    except ValueError as err:
        st.session_state.x_problem = str(err)


def _randomise() -> None:
    show_input(tuple(round(secrets.randbelow(1000) / 1000, 3) for _ in range(10)))


def input_breakdown(history: History, x: tuple[float, ...]) -> None:
    st.plotly_chart(
        runtime.contributions_figure(history.config, x, runtime.theme()),
        key="contrib",
        config=CHART_CONFIG,
        alt="Waterfall: the bias plus each weight times its input adds up to the prediction.",
    )


def why_not_five(history: History) -> None:
    """This run's own distance from the answer, split into the three terms of the expected loss."""
    c, why = history.config, runtime.why_not_five(history)
    said = task.why_words(why)
    st.header(said.title, anchor="why-not-exactly-5")  # the scenes scroll to this anchor
    fast, valley, disagreement = why.terms
    names = dict(zip(theory.LOSS_TERM_NAMES, ("the fast error", "the valley term", "the disagreement"), strict=True))
    # What more epochs do to each term, when theory predicts it; otherwise said once, below the list.
    more = [f" More epochs: {o}." if why.time_constant is not None else "" for o in why.outlook]
    w, t = said.w, said.t
    mean = "mean(w)" if w == "w" else "mean(w − a)"
    size = "‖w‖" if w == "w" else "‖w − a‖"  # how far the weights still are from the best layer's
    above = f" + {number(said.floor_total)}" if said.floor_total > 0 else ""
    parts = "the floor (below) and three terms" if above else "three terms"
    off = ("+" if why.mean_error >= 0 else "") + number(why.mean_error)  # a real minus sign, not a hyphen
    terms = f"""
The expected loss over random inputs is **{number(why.expected_loss)}** = (0.5·Σ{w} + b − {t})² + (Σ{w})²/120 +
‖{w} − {mean}‖²/12{above}: {parts}, with this run's numbers:

- **The fast error** (0.5·Σ{w} + b − {t})² = **{number(fast)}**. On average an input is 0.5 everywhere, so the
  average prediction is 0.5·Σw + b; it is off by **{off}**.{more[0]}
- **The valley term** (Σ{w})²/120 = **{number(valley)}**. Many (w, b) make the *average* right; only **{said.best}**
  makes every prediction {"right" if not said.floor else "as right as it can"}. Sliding along that valley is slow:
  {size} = **{number(why.weight_error)}**, and b is **{number(why.bias_error)}** away from
  {number(why.target, 4)}.{more[1]}
- **The disagreement** ‖{w} − {mean}‖²/12 = **{number(disagreement)}**: how differently the ten weights treat
  their inputs{" beyond the rule's own differences" if w != "w" else ""}.{more[2]}

Now **{names[why.dominant]}** dominates. At the optimum the expected loss is **{number(why.optimum_loss)}**.
"""
    rise = story.valley_rise(history)
    notes = [why.optimum_note or "", why.time_constant_note or ""]
    words.popover([said.symbols, terms, rise or "", *notes, "time constant"], key="why")
    text = Prose()  # adjacent paragraphs as one element
    if said.symbols:  # a and c defined before the formulas use them; the rule's text is shown literally
        text.markdown(literal(said.symbols, limit=len(said.symbols)))
    text.markdown(terms)
    for sentence in said.floor:  # plain words from lucky5.task; the rule's text is ours, yet shown literally
        text.markdown(literal(sentence, limit=len(sentence)))
    if rise:
        text.markdown(rise)
    if why.optimum_note:
        text.caption(literal(why.optimum_note, limit=len(why.optimum_note)))  # it quotes the rule: * is no markup
    if why.time_constant is not None and why.epochs_per_time_constant is not None:
        text.markdown(
            f"At lr {number(c.lr)} what is left of the slide along the valley shrinks to about a third (by e, "
            f"e ≈ 2.718) every **≈ {why.time_constant:,.0f} epochs**, the valley's time constant: {why.epochs_run:,} "
            f"epochs is {number(why.epochs_per_time_constant, 2)} of those."
        )
        if why.time_constant_note:
            text.caption(f"Time constant: {why.time_constant_note}")
    elif why.diverged_at is not None:  # the error at the top says what to try
        text.markdown("This run diverged, so more epochs shrink none of the terms.")
    else:
        text.caption(f"What more epochs do is not predicted here: {why.time_constant_note}")
    text.flush()
    if c.epochs < 20_000 and why.diverged_at is None:
        st.button(
            f"Train 20,000 epochs and watch {said.best.replace(' = ', ' → ')}",
            on_click=page_state.start_run,
            args=(c.replace(epochs=20_000),),
        )
