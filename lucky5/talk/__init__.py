"""The whole talk in one offline file: every scene at projector scale, the page's presenter keys, a speaker's view.

``talk_html(histories, theme=..., links=...)`` returns the document; the presenter kit (``lucky5.kit``) puts it on
a speaker's USB stick and the page offers it alone. One job per module:

- ``pool``: every repeated array of the figures stored once (``share``, ``resolve``);
- ``board``: scene 3's arithmetic of one step as plain HTML, from ``lucky5.step``;
- ``document``: ``talk_html``, which puts the scenes, Plotly, the data and the scripts together;
- ``player.js``, ``player.css``: one scene at a time, the keys, the speaker's view, reduced motion respected;
- ``follow.js``: a projector window and a speaker's window keep to one scene (the page uses it too);
- ``clock.js``: the speaker's clocks, since the talk started and in this scene (the page uses it too).

No UI framework and no network here: the file builds bytes from the core's own scenes, figures and steps.
"""

from .board import board
from .document import CHART_HEIGHT, DATA_ID, MAX_TALK_BYTES, asset, scene_figure, talk_html
from .pool import resolve, share

__all__ = [
    "CHART_HEIGHT",
    "DATA_ID",
    "MAX_TALK_BYTES",
    "asset",
    "board",
    "resolve",
    "scene_figure",
    "share",
    "talk_html",
]
