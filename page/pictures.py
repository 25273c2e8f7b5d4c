"""The picture of a scene at projector scale: the training animation, the expected loss's three parts, or one
step's arithmetic laid out large (``lucky5.scenes`` says which: a scene's ``focus``).

Each fills the height of the container it is drawn in (``page/presenter.css`` gives the presenter's stage and an
embedded slide theirs), so one picture fits a 1280×720 screen and grows on a 1920×1080 one. The numbers come from
the core: ``lucky5.figures`` draws the charts, ``lucky5.scenes.step_board`` writes the step's arithmetic from
``explain_step``; this module only caches and places them.
"""

from __future__ import annotations

import hashlib
from html import escape
from pathlib import Path

import streamlit as st
import torch

from lucky5 import Config, figures
from lucky5.engine import History
from lucky5.scenes import Scene, step_board

from . import runtime
from .panels import CHART_CONFIG
from .step import explained

BOARD_CSS = "<style>" + (Path(__file__).parent / "pictures.css").read_text(encoding="utf-8") + "</style>"
STAGE_PANELS = ("loss", "parameters")  # presenter mode without a scene: what the loss does and where w and b go
NOMINAL_HEIGHT = 520  # px: what the figures are laid out for; the page stretches them to their container
CHART = "stage_chart"  # the key (and CSS class ``st-key-…``) every picture's element starts with
ALT = (
    "Animation of training at projector scale: {panels}. Press Space to play or pause, the arrow keys to step. "
    "The page's normal mode has a table of the same numbers."
)
PARTS_ALT = (
    "The expected loss over the whole run on a log scale, split into its three parts: the fast error, the valley "
    "term and the disagreement, with their sum. The page's 'Why not exactly 5?' gives the same numbers."
)


def panels_of(scene: Scene | None) -> tuple[str, ...]:
    return scene.panels if scene else STAGE_PANELS


def chart_key(config: Config, x: tuple[float, ...], scene: Scene | None) -> str:
    """The picture's element key: a new one for every run, input, theme and scene, so that entering a scene
    draws a new chart (the autoplay script waits for exactly that one: ``.st-key-<key>``)."""
    what = repr((config, x, runtime.theme(), scene.number if scene else None))
    return f"{CHART}_{hashlib.sha256(what.encode()).hexdigest()[:12]}"


@st.cache_resource(max_entries=32, show_spinner=False)
def _animation(config: Config, x: tuple[float, ...], theme: str, panels: tuple[str, ...]) -> runtime.FrozenFigure:
    spec = figures.animation(
        runtime.run(config),
        torch.tensor(x, dtype=torch.float64),
        theme=theme,
        projector=True,
        height=NOMINAL_HEIGHT,
        panels=panels,
        columns=2,
    )
    figure = runtime.FrozenFigure(spec)
    runtime.settle_gc()
    return figure


@st.cache_resource(max_entries=16, show_spinner=False)
def _loss_parts(config: Config, theme: str) -> runtime.FrozenFigure:
    return runtime.FrozenFigure(figures.loss_parts(runtime.run(config), theme=theme, height=NOMINAL_HEIGHT))


def draw(scene: Scene | None, history: History, x: tuple[float, ...]) -> str | None:
    """Draw the scene's picture (the animation before the talk); returns the key of a chart, else None."""
    focus = scene.focus if scene else "animation"
    config, key = history.config, chart_key(history.config, x, scene)
    if focus == "step" and scene is not None:
        board(scene, history)
        return None
    if focus == "why":
        figure, alt = _loss_parts(config, runtime.theme()), PARTS_ALT
    else:
        panels = panels_of(scene)
        figure, alt = _animation(config, x, runtime.theme(), panels), ALT.format(panels=", ".join(panels))
    st.plotly_chart(figure, key=key, config=CHART_CONFIG, height="stretch", alt=alt)
    return key


def board(scene: Scene, history: History) -> None:
    """One step's arithmetic in three parts (``lucky5.scenes.step_board``), large, at the scene's epoch."""
    if history.steps == 0:
        st.markdown("This run diverged on its very first epoch: no step has finite numbers to show.")
        return
    k = min(scene.epoch or 0, history.steps - 1)
    parts = step_board(explained(history.config, k))
    rows = "".join(
        f'<div class="board-part"><div class="board-name"><b>{n}. {escape(part.name)}</b>'
        f"<code>{escape(part.code)}</code></div>"
        f'<div class="board-lines">{"".join(f"<p>{escape(line)}</p>" for line in part.lines)}</div></div>'
        for n, part in enumerate(parts, start=1)
    )
    where = f"step {k + 1:,} (epoch {k:,}, counting from 0)"
    label = f"Inside {where}: the forward pass, the gradient and the update, with this run's numbers"
    st.html(BOARD_CSS)
    st.html(f'<div class="board" role="group" aria-label="{escape(label)}">{rows}</div>')
