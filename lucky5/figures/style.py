"""How every chart looks: the two themes' palettes, the projector's text scale and the axes' tick labels.

Each colour a chart draws with has at least 3:1 contrast against its theme's plot background (WCAG 2.2,
1.4.11 non-text contrast; ``tests/test_figures.py`` computes it for every trace). ``_Style(projector=True)``
makes every text at least ``PROJECTOR_FONT`` px, for a hall's back row. Log axes read powers of ten,
never SI prefixes.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass

import plotly.graph_objects as go
import torch


@dataclass(frozen=True)
class Palette:
    """The colours of one theme. Hues are Okabe–Ito's colour-blind-safe set; where the original
    has less than 3:1 contrast on ``background`` it is darkened (light) or lightened (dark) in
    lightness only, keeping its hue, to about 3.3:1."""

    background: str  # the plot background the contrast is measured against
    blue: str
    orange: str
    green: str
    vermilion: str
    purple: str  # Okabe–Ito's reddish purple
    sky: str
    yellow: str
    ink: str  # black on light, white on dark: the optimum star, marker outlines
    muted: str  # the noisy per-epoch loss, dashed guides, contours: a grey with >= 3.4:1 in both themes
    mark: str  # the optimum's marks behind the bars
    band: str  # the seed-spread lines (drawn at BAND_OPACITY)
    button_bg: str
    button_text: str
    text: str  # every title, tick and label: Streamlit's own text colour, >= 4.5:1 (WCAG 1.4.3) on ``background``

    @property
    def series(self) -> tuple[str, ...]:
        """Eight distinct line colours for runs side by side, in Okabe–Ito's order."""
        return (self.blue, self.orange, self.green, self.vermilion, self.purple, self.sky, self.yellow, self.ink)


THEMES: dict[str, Palette] = {
    # Background measured in headless Chromium under Streamlit's light theme.
    "light": Palette(
        background="#FFFFFF",
        blue="#0072B2",
        orange="#BB8100",
        green="#009E73",
        vermilion="#D55E00",
        purple="#C870A1",
        sky="#1C95D9",
        yellow="#978E0C",
        ink="#000000",
        muted="#8A8A8A",
        mark="#555555",
        band="#0072B2",
        button_bg="#F0F2F6",
        button_text="#000000",
        text="#31333F",
    ),
    # ... and under Streamlit's dark theme.
    "dark": Palette(
        background="#171614",
        blue="#0072B2",
        orange="#E69F00",
        green="#009E73",
        vermilion="#D55E00",
        purple="#CC79A7",
        sky="#56B4E9",
        yellow="#F0E442",
        ink="#FFFFFF",
        muted="#8A8A8A",
        mark="#BBBBBB",
        band="#56B4E9",
        button_bg="#2B2A28",
        button_text="#FAFAFA",
        text="#FAFAFA",
    ),
}
BAND_OPACITY = 0.8  # seed-spread lines overlap; blended with the background they keep >= 3.5:1
PROJECTOR_FONT = 18  # px: the smallest text in projector mode
EPOCH_TICKS = dict(exponentformat="none", separatethousands=True)  # epochs read '5,000', not '0.5×10⁴'


def palette(theme: str) -> Palette:
    """The ``Palette`` of ``theme``: "light" or "dark". Raises ValueError naming the choices otherwise."""
    try:
        return THEMES[theme]
    except (KeyError, TypeError):
        raise ValueError(f"theme must be one of {sorted(THEMES)}, not {theme!r}") from None


def powers_of_ten(fig: go.Figure) -> None:
    """Powers of ten on every axis of ``fig`` that has not chosen its own format (epoch axes have:
    ``EPOCH_TICKS``): SI prefixes ("100µ"), Plotly's default, are not what a learner reads."""
    for each in (fig.for_each_xaxis, fig.for_each_yaxis):
        each(lambda axis: axis.update(exponentformat="power") if axis.exponentformat is None else None)


@dataclass(frozen=True)
class _Style:
    """Font sizes and title markup: the page's normal scale, or projector scale (nothing below 18 px)."""

    projector: bool
    text: str  # the theme's text colour (``Palette.text``)

    @property
    def font(self) -> int:
        return PROJECTOR_FONT if self.projector else 13

    @property
    def title_font(self) -> int:
        return 20 if self.projector else 16

    def title(self, main: str, detail: str, width: int = 34) -> str:
        # <sup> renders at 70 %: fine on a laptop, too small on a projector, so there it is plain text, broken
        # at its " · " separators into lines of about ``width`` characters, so that two columns' titles never run
        # into each other.
        return f"<b>{main}</b><br>{_wrap(detail, width)}" if self.projector else f"{main}<br><sup>{detail}</sup>"

    def apply(self, fig: go.Figure) -> None:
        """Set every text size and colour the figure has, explicitly: titles, ticks, legend, hover, buttons,
        slider. The colour is the theme's text colour: left to the page, Streamlit's chart theme draws titles
        and ticks in a grey that a projector washes out."""
        size, text = self.font, dict(size=self.font, color=self.text)
        fig.update_layout(font=text, hoverlabel=dict(font=dict(size=size)), legend=dict(font=text))
        fig.update_annotations(font=dict(size=self.title_font, color=self.text))
        fig.update_xaxes(tickfont=text, title_font=text)
        fig.update_yaxes(tickfont=text, title_font=text)
        powers_of_ten(fig)
        if fig.layout.title.text:
            fig.update_layout(title_font=dict(size=self.title_font, color=self.text))


def _wrap(detail: str, width: int = 34) -> str:
    """``detail`` in lines of at most ``width`` characters (a longer word stays whole), broken between its " · "
    parts and, inside a part longer than a line, between words: a part is never cut at the panel's edge."""
    lines: list[str] = []
    for part in detail.replace("; ", " · ").split(" · "):
        pieces = textwrap.wrap(part, width, break_long_words=False, break_on_hyphens=False) or [part]
        if lines and len(lines[-1]) + 3 + len(pieces[0]) <= width:
            lines[-1] += " · " + pieces[0]
        else:
            lines.append(pieces[0])
        lines += pieces[1:]
    return "<br>".join(lines)


# --- log axes: powers of ten, never SI prefixes ----------------------------------------------

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def power_of_ten(k: int, mantissa: int = 1) -> str:
    """``10⁻⁴``-style label of mantissa·10^k ("1" and "10" for k = 0, 1)."""
    if k in (0, 1):
        return str(mantissa * 10**k)
    power = "10" + str(k).translate(_SUPERSCRIPT)
    return power if mantissa == 1 else f"{mantissa}·{power}"


def _log_ticks(lo: float, hi: float, most: int = 7) -> tuple[list[float], list[str]]:
    """Tick values and labels for a log axis spanning 10^lo..10^hi: whole powers of ten (every
    n-th when there are many), with 2· and 5· added when fewer than two powers fall inside."""
    decades = list(range(math.ceil(lo), math.floor(hi) + 1))
    stride = max(1, math.ceil(len(decades) / most))
    ticks = [(k, 1) for k in decades[::stride]]
    if len(decades) < 2:
        ticks = [(k, m) for k in range(math.floor(lo), math.ceil(hi) + 1) for m in (1, 2, 5)]
        ticks = [(k, m) for k, m in ticks if lo <= math.log10(m) + k <= hi]
        if len(ticks) > most:  # under two decades, yet more than fit: the 2s go first
            ticks = [(k, m) for k, m in ticks if m != 2]
    return [m * 10.0**k for k, m in ticks], [power_of_ten(k, m) for k, m in ticks]


_LOG_PAD = 0.04  # of a log axis's decades, kept above the largest value and below the smallest


def _log_axis(
    fig: go.Figure, values: torch.Tensor, row: int | None = None, col: int | None = None, most: int = 7, **kw
) -> None:
    """Make a y axis logarithmic with a fixed range around the positive finite ``values`` and power-of-ten ticks
    (at most ``most``: a short plot has room for fewer labels)."""
    v = values.double().flatten()
    v = v[torch.isfinite(v) & (v > 0)]
    axis: dict = dict(type="log", exponentformat="power", **kw)
    if v.numel():
        lo, hi = math.log10(float(v.min())), math.log10(float(v.max()))
        # A margin of a share of the decades shown, not a fixed one: a run that blows up to 10³⁸ spans so many
        # that a fixed 0.2 decade left its curve running into the plot's top corner.
        pad = max(0.2, _LOG_PAD * (hi - lo))
        lo, hi = lo - pad, hi + pad
        axis["range"] = [lo, hi]
        axis["tickvals"], axis["ticktext"] = _log_ticks(lo, hi, most)
    fig.update_yaxes(row=row, col=col, **axis)
