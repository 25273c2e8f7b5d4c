"""Once per process, and the caches of core calls: what makes a Streamlit rerun cheap.

Streamlit reruns the whole page on every click. So training and figures are cached per Config,
torch uses one thread, one lock serialises training (concurrent trainings are slower than serial
ones: the GIL changes hands on every tiny op), and the garbage collector ignores what the imports
and the caches created (``settle_gc``). Nothing here draws a panel.
"""

from __future__ import annotations

import gc
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go
import segno
import streamlit as st
import torch

from lucky5 import Config, figures, metrics, theory
from lucky5.engine import History, Progress, train, train_many
from lucky5.export import history_csv
from lucky5.inputs import spread_seeds

PROGRESS_FROM_EPOCHS = 5_000  # shorter runs finish before a progress bar would be seen


def _history_key(history: History) -> str:
    """What a run is determined by: its settings and, for a run on the viewer's own data, the data's digest."""
    return repr(history.config) + (history.data.digest if history.data is not None else "")


# How the caches below key their arguments. Streamlit hashes a dataclass through ``dataclasses.asdict``, a deep
# copy, on every call of a cached function, which a rerun makes a dozen times; a frozen Config's repr names every
# field exactly (floats round-trip) and is hashed as one short string. A History is keyed by what determines it.
KEYS: dict[str | type, Callable[[Any], Any]] = {Config: repr, History: _history_key}


def settle_gc() -> None:
    """Move every object alive now out of reach of the garbage collector's full passes.

    Streamlit runs ``gc.collect()`` after every rerun, and a full pass walks every tracked object:
    torch, plotly, pandas and our caches are hundreds of thousands of them. They live as long as the
    process, so they are frozen once they exist; frozen objects are still freed by reference counting
    when a cache drops them.
    """
    gc.collect()
    gc.freeze()


@st.cache_resource
def _process_setup() -> threading.Lock:
    """Once per process: one torch thread, the modules a run loads lazily, a frozen GC, the training lock."""
    torch.set_num_threads(1)  # tiny tensors: threads only add hand-over cost between sessions
    # Load what the first run would load lazily (torchmetrics pulls in sympy; tables pandas and
    # pyarrow; images PIL), so that the freeze below covers it.
    import pandas  # noqa: F401
    import PIL.Image  # noqa: F401
    import pyarrow  # noqa: F401

    history = train(Config(epochs=2))
    metrics.evaluate(history.trained, 5.0, n=1)
    figures.animation(history, torch.zeros(10))
    settle_gc()
    return threading.Lock()


TRAIN_LOCK = _process_setup()


@st.cache_resource(max_entries=64, show_spinner="Training these settings…", hash_funcs=KEYS)
def run(config: Config) -> History:
    """Train ``config``, cached per Config and shared read-only between sessions (a History is frozen; nothing
    writes into its tensors). Shared rather than copied: a copy is unpickled, tensor by tensor, on every rerun.

    A new run shows a spinner (a settings change trains at once, so the viewer should see why the page
    waits); a long one also a progress bar that says it may take a few seconds. A cached run shows neither.
    """
    if config.epochs < PROGRESS_FROM_EPOCHS:
        history = _train(config, None)
    else:
        bar = st.empty()  # inside the cached function, so that cache hits replay nothing stale

        def progress(done: int, total: int) -> None:
            text = f"Training {total:,} epochs, which may take a few seconds: epoch {done:,}"
            bar.progress(done / total, text=text)

        history = _train(config, progress)
        bar.empty()
    settle_gc()  # the new cache entry lives on: keep it out of every later rerun's gc pass
    return history


def _train(config: Config, progress: Progress | None) -> History:
    with TRAIN_LOCK:
        return train(config, progress=progress)


@st.cache_data(max_entries=16, show_spinner="Training every seed…", hash_funcs=KEYS)
def run_seeds(config: Config, k: int) -> list[History]:
    with TRAIN_LOCK:
        return train_many(config, seeds=spread_seeds(config.seed, k))


@st.cache_data(max_entries=16, show_spinner="Racing…", hash_funcs=KEYS)
def run_lrs(config: Config, lrs: tuple[float, ...]) -> list[History]:
    with TRAIN_LOCK:
        return train_many(config, lrs=lrs)


class FrozenFigure(go.Figure):
    """A finished figure spec (a dict) that ``st.plotly_chart`` takes as it is.

    Given a dict, ``st.plotly_chart`` rebuilds and validates a whole figure from it; given a Figure, it
    calls ``to_dict()``, which deep-copies every frame. Either is costly per rerun for a figure that never
    changes once built, so this Figure hands over its dict.
    """

    def __init__(self, spec: dict | go.Figure) -> None:
        super().__init__()
        self._spec = spec.to_dict() if isinstance(spec, go.Figure) else spec

    def to_dict(self) -> dict:
        return self._spec


def _x(x: tuple[float, ...]) -> torch.Tensor:
    return torch.tensor(x, dtype=torch.float64)


def theme() -> str:
    """The theme the viewer sees ("light" or "dark"): the charts' colours are chosen for its background."""
    return "dark" if st.context.theme.type == "dark" else "light"


@st.cache_resource(max_entries=32, show_spinner=False, hash_funcs=KEYS)
def animation_figure(config: Config, x: tuple[float, ...], theme: str, projector: bool = False) -> FrozenFigure:
    """The animation, built once per (run, input, theme) and shared read-only between sessions."""
    figure = FrozenFigure(figures.animation(run(config), _x(x), theme=theme, projector=projector))
    settle_gc()  # thousands of small lists and dicts that every later gc pass would walk
    return figure


@dataclass(frozen=True)
class LessonView:
    """The lesson of one (run, input, theme), ready to draw: its figures, and the frames' epochs and captions
    for the page's script (``figures.lesson``, serialised once)."""

    charts: dict[str, FrozenFigure]
    data_json: str
    epochs: list[int]  # the frames' epochs
    ticks: list[tuple[int, int]]  # (frame index, epoch): round labels for the time slider
    captions: list[str]  # the frames' captions, as the script shows them


@st.cache_resource(max_entries=32, show_spinner=False, hash_funcs=KEYS)
def lesson_view(config: Config, x: tuple[float, ...], theme: str) -> LessonView:
    """``figures.lesson`` of the run, built once per (run, input, theme) and shared read-only between sessions."""
    built = figures.lesson_figures(run(config), _x(x), theme=theme)
    data = {
        "id": f"{run(config).fingerprint()}-{theme}-{hash(x) & 0xFFFFFFFF:08x}",
        "epochs": built.epochs,
        "captions": built.captions,
    }
    # "</" cannot end the <script> block the data travels in, whatever a caption says.
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    charts = {k: FrozenFigure(v) for k, v in built.charts.items()}
    view = LessonView(charts, text, built.epochs, built.ticks, built.captions)
    settle_gc()
    return view


@st.cache_resource(max_entries=64, show_spinner=False, hash_funcs=KEYS)
def contributions_figure(config: Config, x: tuple[float, ...], theme: str) -> FrozenFigure:
    return FrozenFigure(figures.contributions(run(config), _x(x), theme=theme))


@st.cache_data(max_entries=64, show_spinner=False)
def qr_png(link: str, scale: int) -> str:
    """The QR code of ``link`` (error level M) as a PNG data URI."""
    return segno.make(link, error="m").png_data_uri(scale=scale, border=2)


@st.cache_data(max_entries=64, show_spinner=False, hash_funcs=KEYS)
def evaluation(config: Config, n: int) -> metrics.Evaluation:
    """The post's test loop on this run's layer (cached: torchmetrics is slow per call); with a rule, each input's
    target is the rule's value there, not the lucky number."""
    return metrics.evaluate(run(config).trained, config.target, n=n, seed=config.seed, rule=config.target_rule)


@st.cache_data(max_entries=8, show_spinner=False, hash_funcs=KEYS)
def csv_of(config: Config) -> str:
    return history_csv(run(config))


@st.cache_resource(max_entries=64, show_spinner=False, hash_funcs=KEYS)
def why_not_five(history: History) -> theory.WhyNotFive:
    """``theory.why_not_five`` of a run, once per run: the summary and "Why not exactly 5?" both read it."""
    return theory.why_not_five(history)
