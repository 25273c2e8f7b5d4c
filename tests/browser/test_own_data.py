"""Your own data in a real browser: a CSV uploaded (Playwright's set_input_files), theory's verdict read and
checked, the run trained on its rows; a hostile file refused with its name shown literally and nothing else
changed. Geometry (inside the viewport, and ``document.elementFromPoint`` at the centre hitting it) at 1440×900
and 390×844 in both colour schemes, and axe-core. Screenshots go to artifacts/screenshots/ (own-data-*.png).

Oracles: ``lucky5.train`` on the same rows (the run fingerprint), ``lucky5.theory.empirical`` (the stability limit
and the least-squares fit), and ``lucky5.data.read_csv`` (the refusal's reason).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]  # ships no type hints
from playwright.sync_api import expect

from bench.browser import GEOMETRY_JS, settle, tap, wait_for_run
from lucky5 import Config, checkpoint, theory, train
from lucky5.data import Data, DataError, from_rule, read_csv, sample_csv, write_csv
from lucky5.export import DATA_FILE
from lucky5.narration import number
from tests.helpers import shown_number

pytestmark = pytest.mark.browser

SIZES = {"1440x900": {"width": 1440, "height": 900}, "390x844": {"width": 390, "height": 844}}
FIRST_LOAD_S = 180
KIND = "What the network must learn"
OWN_DATA = "Your own data (a CSV file)"
UPLOAD = '[data-testid="stFileUploader"] input[type="file"]'
VERDICT = ".st-key-own_data_verdict"
TOGGLE = ".st-key-own_data_scaled_widget"
HOSTILE_NAME = "<img src=x onerror=alert(1)>.csv"
HOSTILE = b"x1,y\n=1+2,3\n0.5,2\n"  # a spreadsheet formula in a cell
ELEMENT_GEOMETRY_JS = GEOMETRY_JS.replace("const e = document.querySelector(selector);", "const e = selector;")
assert ELEMENT_GEOMETRY_JS != GEOMETRY_JS


def reachable(locator, what: str, where: str) -> None:
    """Scrolled to the middle of the screen, the element is wholly inside the viewport and on top at its centre."""
    locator.scroll_into_view_if_needed()  # waits for the element; its edge may then sit a fraction of a px outside
    locator.evaluate(
        "e => new Promise(done => { e.scrollIntoView({block: 'center'});"
        " requestAnimationFrame(() => requestAnimationFrame(done)); })"
    )
    box = locator.evaluate(ELEMENT_GEOMETRY_JS)
    assert box is not None, f"{what} is missing ({where})"
    assert box["inside"], f"{what} is not inside the viewport ({where}): {box}"
    assert box["onTop"], f"{what} is covered at its centre by {box['hit']} ({where})"


def fingerprint_shown(page, expected: str, timeout_s: float = 120) -> None:
    expect(page.get_by_text(re.compile(f"Run fingerprint:\\s*{expected}"))).to_be_visible(timeout=timeout_s * 1000)
    wait_for_run(page)


def own_data(visit, size: str, scheme: str = "light", **options):
    """The page with "Your own data" chosen by a click, the sample's run shown."""
    page, ws = visit(viewport=SIZES[size], color_scheme=scheme, **options)
    wait_for_run(page, FIRST_LOAD_S)
    settle(page, ws)
    tap(page.get_by_role("combobox", name=KIND, exact=True))
    page.get_by_role("option", name=OWN_DATA, exact=True).click()
    fingerprint_shown(page, train(Config(), data=read_csv(sample_csv())).fingerprint())
    return page, ws


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", list(SIZES))
def test_a_csv_is_uploaded_its_verdict_read_and_trained(visit, screenshots, size, scheme):
    page, ws = own_data(visit, size, scheme)
    where = f"{size}, {scheme}"
    raw = write_csv(from_rule("1 + 3*x1 - 2*x2", 500, seed=3, width=2, noise=0.05))
    data = read_csv(raw)
    page.locator(UPLOAD).set_input_files({"name": "mine.csv", "mimeType": "text/csv", "buffer": raw})
    fingerprint_shown(page, train(Config(), data=data).fingerprint())  # the same rows, the same run
    settle(page, ws)
    expect(page.get_by_text("Training on mine.csv: 500 rows, 2 feature columns")).to_be_visible()
    verdict = page.locator(VERDICT)
    said = verdict.inner_text()
    limit = re.search(r"SGD with momentum 0\.1 settles below lr ≈ ([^;]+);", said)
    assert limit, said
    assert shown_number(limit.group(1)) == pytest.approx(theory.data_critical_lr(data, momentum=0.1), rel=5e-3)
    fit = theory.data_fit(data)
    assert f"x1: {number(fit.weight[0].item())}, x2: {number(fit.weight[1].item())}" in said
    assert abs(fit.weight[0] - 3) < 0.05 and abs(fit.weight[1] + 2) < 0.05  # least squares finds the rule
    assert f"cannot beat on your data is {number(fit.floor)}" in said
    reachable(page.get_by_role("combobox", name=KIND, exact=True), "the choice of what to learn", where)
    reachable(page.get_by_role("button", name="Download a sample CSV"), "the sample's download", where)
    reachable(page.locator('[data-testid="stFileUploader"]'), "the upload", where)
    reachable(page.locator(".st-key-own_data_rows, [data-testid='stDataFrame']").first, "the first rows", where)
    reachable(page.locator(TOGGLE), "the standardising toggle", where)
    reachable(verdict, "the verdict", where)
    reachable(page.locator(".st-key-own_data_network .js-plotly-plot"), "the network", where)
    verdict.scroll_into_view_if_needed()
    page.screenshot(path=screenshots / f"own-data-{size}-{scheme}.png")


def download(page, label: str, folder: Path) -> Path:
    button = page.get_by_role("button", name=label)
    button.scroll_into_view_if_needed()
    with page.expect_download(timeout=60_000) as started:
        button.click()
    path = folder / started.value.suggested_filename
    started.value.save_as(path)
    return path


def test_standardising_is_a_real_click_and_what_it_trained_goes_home(visit, tmp_path):
    """The standardised run's checkpoint names its data; its script, beside its rows, prints its weights."""
    page, ws = own_data(visit, "1440x900", accept_downloads=True)
    tap(page.locator(TOGGLE).get_by_text("Standardise the features"))
    scaled = read_csv(sample_csv()).standardized()
    fingerprint_shown(page, train(Config(), data=scaled).fingerprint())
    expect(page.locator(f"{TOGGLE} input")).to_be_checked()
    run = train(Config(), data=scaled)
    saved = checkpoint.load(download(page, "Trained layer (.safetensors)", tmp_path).read_bytes())
    assert saved.data == scaled.digest and saved.columns == ("x1", "x2", "x3", "y")
    assert saved.fingerprint() == run.fingerprint()
    script = download(page, "This run as a PyTorch script", tmp_path)
    rows = download(page, f"The rows it trained on ({DATA_FILE})", tmp_path)
    assert rows.name == DATA_FILE and read_csv(rows.read_bytes()) == scaled  # the same numbers, read back
    printed = subprocess.run(
        [sys.executable, script.name], cwd=tmp_path, capture_output=True, text=True, timeout=120, check=True
    ).stdout
    weights = json.loads(printed.split("weights:")[1].split("\n")[0])
    assert weights == run.trained.weight.tolist()  # bit for bit, as float32 values


def test_a_hostile_csv_is_refused_with_its_name_shown_literally(visit, screenshots):
    page, ws = own_data(visit, "390x844")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    before = train(Config(), data=read_csv(sample_csv())).fingerprint()
    page.locator(UPLOAD).set_input_files({"name": HOSTILE_NAME, "mimeType": "text/csv", "buffer": HOSTILE})
    with pytest.raises(DataError) as refused:
        read_csv(HOSTILE)
    alert = page.locator('[data-testid="stAlert"]', has_text="Refused")
    expect(alert).to_contain_text(f"Refused '{HOSTILE_NAME}': {refused.value}", timeout=30_000)
    settle(page, ws)
    # The refused file is not listed as if in use: the upload is empty again, and the refusal says so.
    expect(page.locator('[data-testid="stFileUploader"]')).not_to_contain_text(HOSTILE_NAME)
    expect(alert).to_contain_text("The file was not used, and the upload is empty again")
    reachable(alert, "the refusal", "390x844, light")
    assert page.locator("img[src='x']").count() == 0 and not dialogs  # shown as text, never markup
    fingerprint_shown(page, before)  # nothing else changed: the last data and their run stay
    expect(page.get_by_text("Training on lucky5_sample.csv")).to_be_visible()
    page.screenshot(path=screenshots / "own-data-refused.png")
    # A file the reader accepts, whose column names are Markdown, HTML and maths: shown as typed wherever named.
    names = ("<b>w</b>", "$x^2$")
    raw = write_csv(
        Data.of(torch.rand(20, 2, generator=torch.Generator().manual_seed(1)), torch.ones(20), names, "**y**")
    )
    page.locator(UPLOAD).set_input_files(
        {"name": "[names](http://example.com).csv", "mimeType": "text/csv", "buffer": raw}
    )
    fingerprint_shown(page, train(Config(), data=read_csv(raw)).fingerprint())
    expect(page.get_by_text("Training on [names](http://example.com).csv: 20 rows")).to_contain_text("the target **y**")
    said = page.locator(VERDICT).inner_text()
    assert "<b>w</b>: " in said and "$x^2$: " in said, said
    assert page.locator(f"{VERDICT} b, {VERDICT} .katex, a[href='http://example.com']").count() == 0


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_serious_or_critical_violation_with_own_data(visit, scheme):
    page, ws = own_data(visit, "1440x900", scheme)
    settle(page, ws)
    violations = Axe().run(page).response["violations"]
    blocking = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert not blocking, [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in blocking]


# The network's legend (its title's second and third lines) and the weights' boxes, in page coordinates: each text's
# rectangle and whether it lies inside the chart's drawing and the viewport. For the boxes also: what is on top at the
# centre and near both ends of the number, with every edge and box made hit-testable (Plotly draws them with
# pointer-events none, and its drag layer over the plot takes every hit otherwise); and which edges, other than the
# box's own (the wire through its centre, which the box covers by design), cross the box: each edge's segments from
# its path, in the viewport's coordinates, widened by half its stroke, grouped in wires (a path's pieces between
# moves: the grey guides are one path of ten wires).
NETWORK_TEXTS_JS = """
(root) => {
  const svg = root.querySelector('.main-svg');
  const box = svg.getBoundingClientRect();
  const rect = (e) => {
    const r = e.getBoundingClientRect();
    return {left: r.left, right: r.right, top: r.top, bottom: r.bottom, text: e.textContent,
            inChart: r.left >= box.left && r.right <= box.right && r.top >= box.top && r.bottom <= box.bottom,
            inside: r.left >= 0 && r.top >= 0 && r.right <= innerWidth && r.bottom <= innerHeight};
  };
  root.querySelectorAll('.draglayer *').forEach(e => e.style.pointerEvents = 'none');
  root.querySelectorAll('.scatterlayer path, g.annotation rect').forEach(e => e.style.pointerEvents = 'visiblePainted');
  const segments = [];
  for (const path of root.querySelectorAll('.scatterlayer path.js-line')) {
    const width = parseFloat(getComputedStyle(path).strokeWidth) || 0;
    const m = path.getScreenCTM();
    const points = [...(path.getAttribute('d') || '').matchAll(/([ML])([-0-9.e]+),([-0-9.e]+)/g)]
      .map(p => ({move: p[1] === 'M', at: new DOMPoint(+p[2], +p[3]).matrixTransform(m)}));
    let wire = 0;
    for (let k = 0; k < points.length; k++) {
      if (points[k].move) wire = segments.wires = (segments.wires || 0) + 1;
      else if (width > 0) segments.push({a: points[k - 1].at, b: points[k].at, width, wire});
    }
  }
  const distance = (s, x, y) => {  // from (x, y) to the segment s
    const dx = s.b.x - s.a.x, dy = s.b.y - s.a.y;
    const t = Math.max(0, Math.min(1, ((x - s.a.x) * dx + (y - s.a.y) * dy) / (dx * dx + dy * dy || 1)));
    return Math.hypot(s.a.x + t * dx - x, s.a.y + t * dy - y);
  };
  const crosses = (s, r) => {  // the stroke of s meets the rectangle r (sampled along s)
    for (let i = 0; i <= 400; i++) {
      const x = s.a.x + (s.b.x - s.a.x) * i / 400, y = s.a.y + (s.b.y - s.a.y) * i / 400;
      const ex = Math.max(r.left - x, 0, x - r.right), ey = Math.max(r.top - y, 0, y - r.bottom);
      if (Math.hypot(ex, ey) < s.width / 2) return true;
    }
    return false;
  };
  const boxes = [...root.querySelectorAll('g.annotation')].filter(g => /^[−0-9.×⁰-⁹⁻]+$/.test(g.textContent.trim()));
  return {
    legend: rect(root.querySelector('.gtitle')),
    inputs: [...root.querySelectorAll('.textpoint')].filter(t => /x[₀-₉]+/.test(t.textContent)).map(rect),
    boxes: boxes.map(g => {
      const r = rect(g.querySelector('rect.bg'));
      const text = g.querySelector('text').getBoundingClientRect();
      const mid = text.top + text.height / 2, cx = (r.left + r.right) / 2, cy = (r.top + r.bottom) / 2;
      const at = (x, y) => { const hit = document.elementFromPoint(x, y); return !!hit && g.contains(hit); };
      const own = new Set(segments.filter(s => distance(s, cx, cy) <= 1.5).map(s => s.wire));
      const others = segments.filter(s => !own.has(s.wire) && crosses(s, r));
      return {...r, text: g.textContent.trim(), onTop: at(cx, mid) && at(text.left + 2, mid) && at(text.right - 2, mid),
              crossedBy: others.length};
    }),
  };
}
"""


def _overlap(a: dict, b: dict) -> bool:
    return a["left"] < b["right"] and b["left"] < a["right"] and a["top"] < b["bottom"] and b["top"] < a["bottom"]


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", list(SIZES))
def test_after_the_choice_the_upload_is_in_view_and_the_network_s_legend_and_weights_are_whole(visit, size, scheme):
    """The choice is made by a click (``own_data``); then, without scrolling, the upload is on screen. The network's
    legend lies inside its drawing and the viewport; each weight's box is on top of the edges under it, at its centre
    and at both ends of its number, and no two boxes, nor a box and an input's label, overlap."""
    page, ws = own_data(visit, size, scheme)
    where = f"{size}, {scheme}"
    settle(page, ws)
    upload = page.locator('[data-testid="stFileUploader"]').evaluate(ELEMENT_GEOMETRY_JS)
    assert upload["inside"] and upload["onTop"], f"the upload is not in view after the choice ({where}): {upload}"
    chart = page.locator(".st-key-own_data_network [data-testid='stPlotlyChart']")
    chart.evaluate("e => e.scrollIntoView({block: 'center'})")
    page.wait_for_timeout(300)
    drawn = chart.evaluate(NETWORK_TEXTS_JS)
    legend = drawn["legend"]
    assert legend["inChart"] and legend["inside"], f"the network's legend is cut ({where}): {legend}"
    assert "grey: unused inputs" in legend["text"] and "orange-red: w < 0" in legend["text"]
    boxes = drawn["boxes"]
    assert len(boxes) == 10, f"one box per weight ({where}): {boxes}"
    for i, b in enumerate(boxes):
        assert b["inChart"] and b["inside"] and b["onTop"], f"weight {i + 1}'s box is cut or covered ({where}): {b}"
        assert b["crossedBy"] == 0, f"another edge runs through weight {i + 1}'s box ({where}): {b}"
        others = [o for j, o in enumerate(boxes) if j != i] + drawn["inputs"]
        assert not any(_overlap(b, o) for o in others), f"weight {i + 1}'s box overlaps another text ({where})"


def test_after_the_choice_the_page_lets_the_reader_scroll_away(visit):
    """The page brings the choice to the top after it is made, and again while the run draws; once the reader
    scrolls (a real wheel), it must not pull them back."""
    page, ws = visit(viewport=SIZES["390x844"])
    wait_for_run(page, FIRST_LOAD_S)
    settle(page, ws)
    tap(page.get_by_role("combobox", name=KIND, exact=True))
    page.get_by_role("option", name=OWN_DATA, exact=True).click()
    choice_top = "document.querySelector('.st-key-task_kind').getBoundingClientRect().top"
    header = "document.querySelector('[data-testid=\"stHeader\"]').getBoundingClientRect().bottom"
    page.wait_for_function(f"Math.abs({choice_top} - {header} - 8) < 2", timeout=60_000)  # placed by the page
    page.mouse.move(195, 500)
    page.mouse.wheel(0, 400)
    page.wait_for_function(f"{choice_top} < {header} - 300", timeout=5_000)  # the reader has scrolled on
    page.wait_for_timeout(2_500)  # longer than the page's last placement
    top = page.evaluate(choice_top)
    assert top < page.evaluate(header) - 300, f"the page pulled the reader back to the choice (its top at {top} px)"


def test_a_file_too_big_after_a_refused_one_leaves_only_its_own_message(visit):
    """Streamlit refuses a file over 1 MB in the browser (server.maxUploadSize); the earlier refusal, about a file
    no longer chosen, must go rather than sit above Streamlit's message about the new one."""
    page, ws = own_data(visit, "1440x900")
    header_only = b"x1,y\n"
    with pytest.raises(DataError):
        read_csv(header_only)
    page.locator(UPLOAD).set_input_files({"name": "header.csv", "mimeType": "text/csv", "buffer": header_only})
    old = page.locator('[data-testid="stAlert"]', has_text="Refused 'header.csv'")
    expect(old).to_be_visible(timeout=30_000)
    settle(page, ws)
    big = b"x1,y\n" + b"0.5,1\n" * (2_100_000 // 6)
    page.locator(UPLOAD).set_input_files({"name": "big.csv", "mimeType": "text/csv", "buffer": big})
    expect(page.locator('[data-testid="stFileUploader"]')).to_contain_text("or smaller", timeout=30_000)
    expect(old).to_be_hidden()
