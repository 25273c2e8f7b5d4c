"""``talk_html``: the whole talk as one HTML file that plays from a USB stick with no network.

Every scene of ``lucky5.scenes`` is a <section>: its bar (title, Back, Next), its sentences, and its picture at
projector scale: the animation that ``lucky5.figures.animation`` draws for the scene's panels (projector text,
two columns), the expected loss's three parts (``figures.loss_parts``), or, for the scene that looks inside one
step, ``board.board`` of ``explain_step``: what the page's presenter mode shows. Beside the picture of the scenes
where the room opens the page (``Scene.audience``), the audience link's QR code. The speaker's notes
(``lucky5.notes``), a timer and the next scene's title are in the file too, shown only in the speaker's view
(``#notes=1``).

Plotly's JavaScript is inlined once; the figures travel as JSON in one data block, with every repeated array
stored once (``pool.share``), so scenes that show the same run share its data. ``player.js`` shows one scene at
a time and answers the page's presenter keys; ``follow.js`` keeps a projector window and a speaker's window on
the same scene. Nothing refers to a network address except the audience link's text and QR code.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from html import escape
from importlib import resources

import plotly.io
import plotly.offline
import segno
import torch

from .. import figures
from ..engine import History
from ..export import offline_layout
from ..inputs import default_input
from ..notes import next_title, notes_for
from ..scenes import SCENES, Scene, sentences
from ..step import explain_step
from .board import board
from .pool import share

MAX_TALK_BYTES = 6_000_000  # a USB stick or an e-mail attachment, Plotly's own bundle included
# px: the figure's height as built, for the chart under the scene's bar and sentences on a 1280x720 screen;
# player.js lets a taller screen give it more.
CHART_HEIGHT = 520
DATA_ID = "lucky5-talk-data"


def asset(name: str) -> str:
    """The text of one of this package's scripts or styles ("follow.js", "clock.js", "player.js", "player.css");
    the page uses the first two too.

    Raises:
        FileNotFoundError: for a name the package does not ship.
    """
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def _x(scene: Scene) -> torch.Tensor:
    return torch.tensor(default_input(scene.config.seed), dtype=torch.float64)


def scene_figure(scene: Scene, history: History, theme: str) -> dict | None:
    """The figure a scene shows on a projector, as plain JSON, as the page's presenter mode draws it: the
    animation of the scene's panels, or (focus "why") the expected loss's three parts over the whole run; None
    for the scene that shows a step's board."""
    if scene.focus == "step":
        return None
    if scene.focus == "why":
        spec = figures.loss_parts(history, theme=theme, projector=True, height=CHART_HEIGHT)
    else:
        spec = figures.animation(
            history, _x(scene), theme=theme, projector=True, height=CHART_HEIGHT, panels=scene.panels, columns=2
        )
    return json.loads(plotly.io.to_json(spec, validate=False))  # numpy arrays and numbers as plain JSON


def _qr(link: str, unreachable: str | None) -> str:
    svg = segno.make(link, error="m").svg_inline(border=4, omitsize=True, dark="#000", light="#fff")
    said = "<p>Scan to follow along</p>" if unreachable is None else f'<p class="warning">⚠ {escape(unreachable)}</p>'
    return (
        f'<aside class="qr"><div role="img" aria-label="QR code of {escape(link)}">{svg}</div>'
        f"{said}<code>{escape(link)}</code></aside>"
    )


def _section(scene: Scene, history: History, link: str | None, picture: str, unreachable: str | None) -> str:
    n, total = scene.number, len(SCENES)
    title = f"Scene {n} of {total} · {scene.title}"
    lead = " ".join(sentences(scene, history, _x(scene), unreachable=unreachable, offline=True))
    notes = notes_for(scene, history, _x(scene))
    say = "".join(f"<li>{escape(s)}</li>" for s in notes.say)
    point = "".join(f"<li>{escape(s)}</li>" for s in notes.point)
    after = next_title(n)
    qr = _qr(link, unreachable) if link and scene.audience else ""  # where the room opens the page, as on the page
    return f"""<section class="scene" data-scene="{n}" data-title="{escape(title)}" hidden>
<header class="bar"><h1>{escape(title)}</h1><nav>
<button type="button" data-move="-1"{" disabled" if n == 1 else ""}>◀ Back</button>
<button type="button" class="next" data-move="1"{" disabled" if n == total else ""}>Next ▶</button>
</nav></header>
<p class="lead">{escape(lead)}</p>
<div class="stage">{picture}{qr}</div>
<div class="cues"><p class="timer"><output aria-label="time since the talk started and in this scene"></output>
<button type="button" data-lucky5-restart>Restart the clock</button></p>
<p class="after">{escape("Next: " + after if after else "This is the last scene.")}</p></div>
<div class="notes"><div><h2>Say</h2><ul>{say}</ul></div><div><h2>Point at</h2><ul>{point}</ul></div>
<div><h2>Ask the room</h2><p>{escape(notes.ask)}</p></div></div>
</section>"""


def _colours(theme: str) -> str:
    p = figures.palette(theme)
    return (
        f":root {{ --bg: {p.background}; --fg: {p.button_text}; --accent: {p.blue}; --on-accent: #FFFFFF; "
        f"--muted: {p.muted}; --muted-text: {p.mark}; color-scheme: {theme}; }}"
    )


def _style(theme: str) -> str:
    """The player's style in the viewer's colour scheme (prefers-color-scheme), ``theme``'s where none is said."""
    schemes = [_colours(theme)] + [
        f"@media (prefers-color-scheme: {other}) {{ {_colours(other)} }}" for other in figures.THEMES if other != theme
    ]
    return "\n".join(schemes) + "\n" + asset("player.css")


def _script_json(value: object) -> str:
    """JSON safe inside a <script> element: "<" only ever occurs inside JSON strings, where \\u003c reads the same."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).replace("<", "\\u003c")


def talk_html(
    histories: Mapping[int, History],
    *,
    theme: str = "light",
    links: Mapping[int, str] | None = None,
    unreachable: str | None = None,
) -> str:
    """The talk as one self-contained HTML document (``str``, UTF-8 at most ``MAX_TALK_BYTES`` bytes).

    ``histories`` maps every scene number of ``lucky5.scenes.SCENES`` to that scene's trained run (its
    ``config`` must be the scene's); ``links`` maps a scene number to its audience link, whose QR code the
    scenes with ``Scene.audience`` show; ``unreachable`` (plain text) says why phones cannot open those links, if
    they cannot: beside the code and in the sentences, which then never ask the room to scan it. The file shows
    the viewer's colour scheme (``prefers-color-scheme``; every figure is stored in each theme, their arrays once),
    ``theme``'s where the browser says none. Scene 3's board comes from ``explain_step(scene.config, scene.epoch)``.
    Every text is HTML-escaped.

    Raises:
        ValueError: for an unknown ``theme``, or a missing run or one whose settings are not its scene's.
    """
    figures.palette(theme)  # the theme's ValueError before any work
    for scene in SCENES:
        history = histories.get(scene.number)
        if history is None or history.config != scene.config:
            got = None if history is None else history.config
            raise ValueError(f"scene {scene.number} needs its own run ({scene.config}), not {got}")
    # Every figure in each colour scheme: the file shows the viewer's (player.js); their arrays are pooled once.
    themes = [theme, *(t for t in figures.THEMES if t != theme)]
    shown = {(t, s.number): scene_figure(s, histories[s.number], t) for t in themes for s in SCENES}
    charted = [key for key, spec in shown.items() if spec is not None]
    pool, specs = share([shown[key] for key in charted])
    drawn: dict[str, dict] = {t: {} for t in themes}
    for (t, n), spec in zip(charted, specs, strict=True):
        drawn[t][str(n)] = spec
    sections = []
    for scene in SCENES:
        if scene.focus == "step":
            epoch = min(scene.epoch or 0, max(histories[scene.number].steps - 1, 0))
            picture = board(explain_step(scene.config, epoch))
        else:
            label = f"Animation of training: {', '.join(scene.panels)}. Space plays and pauses, the arrows step."
            picture = f'<div class="chart" role="img" aria-label="{escape(label)}"></div>'
        link = (links or {}).get(scene.number)
        sections.append(_section(scene, histories[scene.number], link, picture, unreachable))
    data = {"pool": pool, "theme": theme, "figures": drawn, "layout": {t: offline_layout(t) for t in themes}}
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>lucky5: the talk</title>
<style>
{_style(theme)}
</style>
</head>
<body>
<main>
{"".join(sections)}
</main>
<script>{plotly.offline.get_plotlyjs()}</script>
<script type="application/json" id="{DATA_ID}">{_script_json(data)}</script>
<script>
{asset("follow.js")}
{asset("clock.js")}
{asset("player.js")}
</script>
</body>
</html>
"""


__all__ = ["CHART_HEIGHT", "DATA_ID", "MAX_TALK_BYTES", "asset", "scene_figure", "talk_html"]
