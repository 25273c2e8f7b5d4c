"""Accessibility and chart contrast of the page in a real browser, in the light and the dark colour scheme.

- axe-core (the ``axe-playwright-python`` package) on the page in both schemes and in presenter mode: no
  serious or critical violation; the others are printed.
- Every line, marker and bar that Plotly draws inside each ``st.plotly_chart`` stands out at least 3:1
  from the plot background it is drawn on (WCAG 2.2, 1.4.11 non-text contrast), in both schemes.

Colours are read from the browser (``getComputedStyle`` of Plotly's SVG), so what is checked is what a
reader sees after Streamlit's theme and Plotly's template are applied.
"""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]  # ships no type hints

from bench.browser import settle, wait_for_run

pytestmark = pytest.mark.browser

SCHEMES = ("light", "dark")
BLOCKING_IMPACTS = ("serious", "critical")
NON_TEXT_CONTRAST = 3.0  # WCAG 2.2 success criterion 1.4.11

# The app's own background, to show the colour scheme really took effect.
APP_BACKGROUND_JS = """
() => getComputedStyle(document.querySelector('[data-testid="stApp"]')).backgroundColor
"""

# Every line, marker and bar Plotly drew in each visible chart: its paint, opacity and the plot background.
# Area fills (path.js-fill) are not lines or marks; a trace Plotly hides (legendonly) draws nothing.
CHART_PAINT_JS = """
() => {
  const parse = (c) => {
    const m = /rgba?\\(([^)]+)\\)/.exec(c || '');
    if (!m) return null;
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const blend = (top, under) => {
    const a = top[3];
    return [0, 1, 2].map(i => top[i] * a + under[i] * (1 - a)).concat([1]);
  };
  const behind = (el) => {  // the opaque colour behind an element: its ancestors' backgrounds, blended
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    let colour = [255, 255, 255, 1];
    for (const c of layers.reverse()) colour = blend(c, colour);
    return colour;
  };
  const opacity = (el, stop) => {
    let o = 1;
    for (let e = el; e && e !== stop; e = e.parentElement) o *= parseFloat(getComputedStyle(e).opacity || '1');
    return o;
  };
  const out = [];
  document.querySelectorAll('[data-testid="stPlotlyChart"]').forEach((chart, c) => {
    const box = chart.getBoundingClientRect();
    const svg = chart.querySelector('svg.main-svg');
    if (!svg || box.width === 0 || box.height === 0) return;
    let bg = behind(chart);
    const paper = parse(getComputedStyle(svg).backgroundColor);
    if (paper && paper[3] > 0) bg = blend(paper, bg);
    const rect = chart.querySelector('rect.bg');
    const plot = rect ? parse(getComputedStyle(rect).fill) : null;
    if (plot && plot[3] > 0) {
      plot[3] *= parseFloat(getComputedStyle(rect).fillOpacity || '1');
      bg = blend(plot, bg);
    }
    const gd = chart.querySelector('.js-plotly-plot');
    const title = gd && gd.layout && gd.layout.title ? (gd.layout.title.text || '') : '';
    chart.querySelectorAll('g.trace').forEach((trace, t) => {
      const data = trace.__data__ && trace.__data__[0] && trace.__data__[0].trace;
      const name = data ? (data.name || data.type || '') + ` #${data.index}` : `#${t}`;
      trace.querySelectorAll('path').forEach(path => {
        if (path.classList.contains('js-fill') || !path.getAttribute('d')) return;
        const style = getComputedStyle(path);
        if (style.display === 'none' || style.visibility === 'hidden') return;
        const b = path.getBBox();
        if (b.width + b.height === 0) return;
        const line = path.classList.contains('js-line');
        const fill = parse(style.fill), stroke = parse(style.stroke);
        let paint, alpha, kind;
        if (line) {
          if (!stroke || parseFloat(style.strokeWidth) === 0) return;
          paint = stroke; alpha = parseFloat(style.strokeOpacity || '1'); kind = 'line';
        } else if (fill && fill[3] > 0 && parseFloat(style.fillOpacity || '1') > 0) {
          paint = fill; alpha = parseFloat(style.fillOpacity || '1'); kind = 'mark or bar';
        } else if (stroke && parseFloat(style.strokeWidth) > 0) {
          paint = stroke; alpha = parseFloat(style.strokeOpacity || '1'); kind = 'mark outline';
        } else return;
        alpha *= paint[3] * opacity(path, svg);
        out.push({chart: c, title, trace: name, kind, paint: paint.slice(0, 3), alpha, background: bg.slice(0, 3)});
      });
    });
  });
  return out;
}
"""


def luminance(rgb: tuple[float, float, float] | list[float]) -> float:
    """WCAG 2.2 relative luminance of an sRGB colour with 0-255 channels."""

    def channel(v: float) -> float:
        c = v / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: list[float], b: list[float]) -> float:
    """WCAG contrast ratio (L1 + 0.05) / (L2 + 0.05), from 1 to 21."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def over(paint: list[float], alpha: float, background: list[float]) -> list[float]:
    """What the eye sees: ``paint`` at ``alpha`` composited over an opaque ``background``."""
    return [p * alpha + q * (1 - alpha) for p, q in zip(paint, background, strict=True)]


def hex_of(rgb: list[float]) -> str:
    return "#" + "".join(f"{round(v):02x}" for v in rgb)


def parse_rgb(css: str) -> list[float]:
    inside = css[css.index("(") + 1 : css.index(")")].replace(",", " ").split()
    return [float(v) for v in inside[:3]]


def open_in(visit: Any, scheme: str, query: str = "") -> Any:
    """The page in ``scheme``, its run shown and the websocket quiet; the scheme checked on the app itself."""
    page, ws = visit(query, color_scheme=scheme)
    wait_for_run(page)
    settle(page, ws)
    background = luminance(parse_rgb(page.evaluate(APP_BACKGROUND_JS)))
    assert (background < 0.2) if scheme == "dark" else (background > 0.8), (
        f"the app's background has luminance {background:.2f}: the {scheme} colour scheme did not apply"
    )
    return page


def describe(violation: dict) -> str:
    targets = "; ".join(" ".join(node["target"]) for node in violation["nodes"])
    return f"{violation['id']} ({violation['impact']}, {len(violation['nodes'])} nodes): {targets}"


@pytest.mark.parametrize(
    ("scheme", "query"), [("light", ""), ("dark", ""), ("light", "?present=1"), ("dark", "?present=1")]
)
def test_axe_finds_no_serious_or_critical_violation(visit, scheme: str, query: str) -> None:
    page = open_in(visit, scheme, query)
    violations = Axe().run(page).response["violations"]
    for violation in violations:
        print(f"axe [{scheme}{query}] {describe(violation)}")
    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, f"{len(blocking)} serious or critical axe violations ({scheme}{query}):\n" + "\n".join(
        describe(v) for v in blocking
    )


@pytest.mark.parametrize("scheme", SCHEMES)
def test_every_chart_line_mark_and_bar_stands_out_from_its_plot(visit, scheme: str) -> None:
    page = open_in(visit, scheme)
    paints = page.evaluate(CHART_PAINT_JS)
    assert paints, "no Plotly line, marker or bar found on the page: the check would be vacuous"
    assert len({p["chart"] for p in paints}) >= 1

    worst: dict[tuple, tuple[float, dict]] = {}
    for p in paints:
        seen = over(p["paint"], p["alpha"], p["background"])
        ratio = contrast(seen, p["background"])
        key = (p["chart"], p["title"], p["trace"], p["kind"], hex_of(seen), hex_of(p["background"]))
        if key not in worst or ratio < worst[key][0]:
            worst[key] = (ratio, p)
    for key, (ratio, _) in sorted(worst.items(), key=lambda kv: kv[1][0]):
        print(f"{scheme}: chart {key[0]} {key[1][:40]!r} trace {key[2]} {key[3]} {key[4]} on {key[5]}: {ratio:.2f}:1")
    faint = [(key, ratio) for key, (ratio, _) in worst.items() if ratio < NON_TEXT_CONTRAST]
    assert not faint, f"{len(faint)} chart paints below {NON_TEXT_CONTRAST:g}:1 in the {scheme} scheme:\n" + "\n".join(
        f"  chart {k[0]} ({k[1][:40]!r}) trace {k[2]}, {k[3]}: {k[4]} on {k[5]} = {r:.2f}:1"
        for k, r in sorted(faint, key=lambda kr: kr[1])
    )
