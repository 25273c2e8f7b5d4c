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
