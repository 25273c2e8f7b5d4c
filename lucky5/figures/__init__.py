"""Plotly figures of a run: the training animation and the comparison charts.

Pure functions from a ``History`` (and friends) to Plotly figures: ``go.Figure`` objects, and
for the animation a figure dict (see ``animation``). No Streamlit here: the page decides where
a figure goes and which theme it is shown in; this package decides what it shows and in which colours.

Every builder takes ``theme`` ("light" or "dark"): each colour it draws a line, mark or bar
with has at least 3:1 contrast against that theme's plot background (WCAG 2.2, 1.4.11 non-text
contrast); ``tests/test_figures.py`` computes it for every trace. ``projector=True`` makes every
text in the chart at least ``PROJECTOR_FONT`` px, for a hall's back row.

One job per module, each importing only the ones listed before it:

- ``style``: the themes' palettes, the projector's text scale, tick labels and log axes;
- ``traces``: trace helpers every chart shares (thinning, rounding, a line, a marker);
- ``valley``: the valley's geometry on the plane (u = Σw/√10, b): view box, contour rings, clipped path;
- ``frames``: which epochs become frames, the frames as a table, what the panels draw (``_Run``);
- ``layout``: where the panels go, in one column or two, and the default height;
- ``panels``: each panel's traces, what moves per frame, its title and its fixed axes;
- ``controls``: the Play/Pause buttons and the epoch slider;
- ``animate``: ``animation``, which puts the above together;
- ``charts``: ``contributions``, ``seed_spread`` and ``race``;
- ``network``: the layer drawn as a network, each edge from its weight, with frames;
- ``lesson``: the lesson's figures on one timeline (the network, the loss, the prediction, the valley), with
  time running forward, and its captions (``lucky5.narration``); a run on data's loss chart in the same style;
- ``talk``: the talk's still pictures at projector scale (``loss_parts``);
- ``wall``: a room wall's charts, from the runs' summaries (``lucky5.room``): ``curves_figure``,
  ``spread_figure``, ``lr_figure`` and their epoch axis;
- ``votes``: the reveal of a stage's question, the room's votes beside its runs and the theory (``votes_figure``).

Not here: the page's layout, text outside the charts, and training (``engine``).
"""

from .animate import animation
from .charts import contributions, race, seed_spread
from .controls import SPEEDS
from .frames import MAX_FRAMES, Frame, frame_steps, frame_stride, frames_table, predictions_for, slider_ticks
from .layout import PANELS, default_height
from .lesson import Lesson, data_loss_figure, lesson_figures
from .network import network_figure
from .panels import RULE_TERM_NAMES, TERM_NAMES, term_names
from .style import (
    BAND_OPACITY,
    EPOCH_TICKS,
    PROJECTOR_FONT,
    THEMES,
    Palette,
    palette,
    power_of_ten,
    powers_of_ten,
)
from .talk import LOSS_PARTS_TITLE, loss_parts
from .traces import MAX_CURVE_POINTS
from .votes import votes_figure
from .wall import LOG_EPOCHS, LOSS_CEILING, WALL_FONT, curves_figure, epoch_axis, lr_figure, spread_figure

__all__ = [
    "BAND_OPACITY",
    "EPOCH_TICKS",
    "LOSS_PARTS_TITLE",
    "LOG_EPOCHS",
    "LOSS_CEILING",
    "MAX_CURVE_POINTS",
    "MAX_FRAMES",
    "PANELS",
    "PROJECTOR_FONT",
    "SPEEDS",
    "RULE_TERM_NAMES",
    "TERM_NAMES",
    "term_names",
    "THEMES",
    "WALL_FONT",
    "Frame",
    "Lesson",
    "Palette",
    "animation",
    "contributions",
    "curves_figure",
    "data_loss_figure",
    "default_height",
    "epoch_axis",
    "frame_steps",
    "frame_stride",
    "frames_table",
    "lesson_figures",
    "loss_parts",
    "network_figure",
    "lr_figure",
    "palette",
    "power_of_ten",
    "powers_of_ten",
    "predictions_for",
    "race",
    "seed_spread",
    "slider_ticks",
    "spread_figure",
    "votes_figure",
]
