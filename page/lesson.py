"""The lesson, the first screen: the network drawn, the run playing forward, the loss, the valley and the
prediction in view together, under one control bar, with a caption that says what is happening now.

What is drawn comes from ``lucky5.figures.lesson`` (charts, network, captions, ticks); this module lays it
out and hands it to ``lesson.js``, which plays it in the browser: every chart shows the same frame, the
network's edges and numbers follow, and nothing is sent to the server while it plays. The script is the
page's own (``st.html`` with JavaScript, in the page itself, so it can reach the charts Streamlit drew; a
component's iframe could not). Without it the screen shows epoch 0, complete and still.

The layout (``lesson.css``) is a grid: controls and the epochs' buttons on top, the network and its caption
left, the charts right, on a laptop; on a phone the network, the controls and one chart at a time (swipe or
the chart's tab), the rest below. Nothing plays by itself, so ``prefers-reduced-motion`` is respected.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

import streamlit as st
import torch
from streamlit.delta_generator import DeltaGenerator

from lucky5 import story, task
from lucky5.engine import History
from lucky5.figures.lesson import CHARTS

from . import runtime, words
from . import state as page_state
from . import task as page_task
from .panels import CHART_CONFIG, diverged
from .text import literal

_HERE = Path(__file__).parent
CSS = "<style>" + (_HERE / "lesson.css").read_text(encoding="utf-8") + "</style>"
SCRIPT = "<script>" + (_HERE / "lesson.js").read_text(encoding="utf-8") + "</script>"
# ms per frame by speed; the script plays by the clock, so a slow browser skips frames rather than slowing down
SPEEDS = {"½×": 80, "1×": 40, "4×": 10}
NORMAL_SPEED = SPEEDS["1×"]
EPOCHS = (200, 2_000, 20_000)  # the lesson in three lengths: the blog post's, ten times, the punchline
CHART_NAMES = {"loss": "Loss", "prediction": "Prediction", "valley": "Valley"}
ALT = {
    "network": "The network: your ten inputs x₁…x₁₀, each edge as wide as its weight (blue positive, orange-red "
    "negative), into one neuron with its bias b, and the prediction for your input against the lucky number.",
    "loss": "The loss per epoch on a log scale up to the current epoch: the expected loss over all inputs, and the "
    "loss of each epoch's one random input.",
    "prediction": "The prediction for your input up to the current epoch, against the lucky number.",
    "valley": "The valley of the expected loss on the plane (Σw/√10, b), and the run's path through it up to the "
    "current epoch.",
}


def lesson(history: History, introduce: bool = True) -> DeltaGenerator:
    """Draw the lesson of the run on screen for the session's input (``page.state``), with the title and the
    story's sentence if ``introduce``; returns the slot beside the title (for the guided tour's button)."""
    x = page_state.get().input
    theme = runtime.theme()
    view = runtime.lesson_view(history.config, x, theme)
    charts_key = repr((history.config, x, theme))  # what the view is cached by (a frozen dataclass's repr is exact)
    with st.container(key="lesson"):
        if introduce:
            said = task.headline(history.config)
            with st.container(key="lesson_title"):
                st.title(said.title)
            with st.container(key="lesson_story"):
                st.markdown(said.sentence)
        slot = st.container(key="lesson_tour")
        with st.container(key="lesson_controls"):
            st.html(_controls(history, view), unsafe_allow_javascript=True)
        with st.container(key="lesson_epochs"):
            _epochs(history)
        with st.container(key="lesson_network"):
            _draw_charts(charts_key, ("network",), view)
        with st.container(key="lesson_caption"):
            st.html(
                '<p class="lesson-caption" aria-hidden="true"></p>'
                '<div class="lesson-live" role="status" aria-live="polite" aria-atomic="true"></div>'
            )
            _more(charts_key, history, view, x)
        with st.container(key="lesson_task"):
            page_task.chooser()
            diverged(history)
        with st.container(key="lesson_tabs"):
            st.html(_tabs())
        with st.container(key="lesson_charts"):
            _draw_charts(charts_key, CHARTS, view)

    return slot


def _more(charts_key: str, history: History, view: runtime.LessonView, x: tuple[float, ...]) -> None:
    """Under the caption, folded: the run's whole story (the one the offline file tells, ``lucky5.story``) and the
    meaning of every word the first screen uses (its sentence, the captions and the charts). Each is written only
    while it is open: closed, it sends its title alone."""
    fold = st.expander("This run's story, start to end", key="run_story", on_change="rerun")
    if fold.open:
        # The whole of each paragraph: literal's default cut (for outside text) would end a long one mid-word.
        # Why the valley term rises first is told once, under "Why not exactly 5", next to the loss's three parts.
        fold.markdown("\n\n".join(literal(p, limit=4000) for p in _told(charts_key, history, x)))

    def texts() -> list[str]:
        charts = [text for name in ("network", *CHARTS) for text in words.chart_texts(view.charts[name])]
        return [task.headline(history.config).sentence, *view.captions, *charts, *_told(charts_key, history, x)]

    words.popover(texts, key="lesson")


@st.cache_resource(max_entries=32, show_spinner=False)
def _told(charts_key: str, _history: History, _x: tuple[float, ...]) -> tuple[str, ...]:
    """The run's story for input ``_x``, told once per (run, input, theme): ``charts_key`` names the arguments
    after it, which are not hashed."""
    return tuple(story.story(_history, torch.tensor(_x, dtype=torch.float64)))


@st.cache_resource(max_entries=64, show_spinner=False)
def _draw_charts(charts_key: str, names: tuple[str, ...], _view: runtime.LessonView) -> None:
    """Draw the view's charts ``names``, once per (run, input, theme) and set of charts: a later rerun replays the
    elements Streamlit recorded here rather than writing the figures' JSON again, in one cache look-up for the set
    (``_view`` is not hashed: ``charts_key`` names it)."""
    for name in names:
        chart = _view.charts[name]
        st.plotly_chart(chart, key=f"chart_{name}", config=CHART_CONFIG, height="stretch", alt=ALT[name])


def _controls(history: History, view: runtime.LessonView) -> str:
    """The control bar (buttons, speed, the time slider with round ticks, the counter), the frames' data and
    the script that plays them."""
    last = len(view.epochs) - 1
    stride = view.epochs[1] - view.epochs[0] if last else 1
    step = "One epoch" if stride == 1 else f"{stride:,} epochs"
    total = _total(history)
    ticks = "".join(f'<span style="--at: {i / max(last, 1):.4f}">{epoch:,}</span>' for i, epoch in view.ticks)
    return f"""{CSS}
<div class="lesson-bar" role="group" aria-label="Play the training">
  <div class="lesson-buttons">
    <button type="button" data-lesson="play" class="lesson-play" aria-pressed="false" aria-keyshortcuts="Space"
            title="Play or pause (Space)">▶ Play</button>
    <button type="button" data-lesson="back" aria-label="{step} back" aria-keyshortcuts="ArrowLeft"
            title="{step} back (←)">◀ {stride:,}</button>
    <button type="button" data-lesson="forward" aria-label="{step} forward" aria-keyshortcuts="ArrowRight"
            title="{step} forward (→)">{stride:,} ▶</button>
    <button type="button" data-lesson="restart" aria-label="Restart from epoch 0" title="Restart">↺</button>
    <select data-lesson="speed" class="lesson-speed" aria-label="Speed" title="Speed">{_speeds()}</select>
  </div>
  <div class="lesson-time">
    <input type="range" class="lesson-slider" min="0" max="{last}" step="1" value="0"
           aria-label="Epoch" aria-valuetext="epoch 0 of {total}">
    <div class="lesson-ticks" aria-hidden="true">{ticks}</div>
  </div>
  <output class="lesson-counter" aria-hidden="true" data-total="{total}">Epoch 0 of {total}</output>
</div>
<script type="application/json" class="lesson-data">{view.data_json}</script>
{SCRIPT}"""


def _total(history: History) -> str:
    """What the time counts up to: the epochs asked for, and where a diverged run stopped short of them."""
    if history.diverged_at is None:
        return f"{history.steps:,}"
    return f"{history.config.epochs:,}, diverged at {history.steps:,}"  # short: one row with the bar at 1280 px


def _speeds() -> str:
    chosen = {ms: " selected" if ms == NORMAL_SPEED else "" for ms in SPEEDS.values()}
    return "".join(f'<option value="{ms}"{chosen[ms]}>{label}</option>' for label, ms in SPEEDS.items())


def _tabs() -> str:
    """One tab per chart; on a phone they choose the chart in view (on a laptop every chart shows, and the
    tabs are hidden)."""
    tabs = "".join(
        f'<button type="button" role="tab" data-chart="{name}" aria-selected="{str(i == 0).lower()}">'
        f"{escape(CHART_NAMES[name])}</button>"
        for i, name in enumerate(CHARTS)
    )
    return f'<div class="lesson-tabs" role="tablist" aria-label="Chart shown">{tabs}</div>'


def _epochs(history: History) -> None:
    """The run at 200, 2,000 or 20,000 epochs, one click from the first screen."""
    key = "lesson_epochs_choice"
    now = history.config.epochs
    st.session_state[key] = now if now in EPOCHS else None
    st.segmented_control(
        "Epochs",
        EPOCHS,
        key=key,
        format_func=lambda n: f"{n:,}",
        label_visibility="collapsed",
        on_change=_choose_epochs,
        help="Train the same settings for this many epochs: 200 is the blog post's; 20,000 shows the ending.",
    )


def _choose_epochs() -> None:
    chosen = st.session_state.get("lesson_epochs_choice")
    state = page_state.get()
    if chosen is not None and chosen != state.run.epochs:
        page_state.start_run(state.run.replace(epochs=int(chosen)))
