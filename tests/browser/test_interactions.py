"""The page's controls in a real browser: type an input, train new settings, download, upload.

AppTest (tests/test_app.py) checks the same features without a browser; here a person's clicks go
through Streamlit's frontend, so a widget, a download or an upload that only works in AppTest fails.
"""

from __future__ import annotations

import ast
import csv
import hashlib
import pickle
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from playwright.sync_api import expect

from bench.browser import page_fingerprint, wait_for_run
from lucky5 import Config, checkpoint, train

pytestmark = pytest.mark.browser


def wait_for_fingerprint(page, expected: str, timeout_s: float = 60) -> None:
    expect(page.get_by_text(re.compile(f"Run fingerprint:\\s*{expected}"))).to_be_visible(timeout=timeout_s * 1000)
    wait_for_run(page)


def metric(page, label: str) -> str:
    box = page.locator('[data-testid="stMetric"]').filter(has_text=label)
    return box.locator('[data-testid="stMetricValue"]').inner_text()


def test_typed_input_changes_the_prediction(visit):
    page, _ = visit()
    wait_for_run(page)
    box = page.get_by_role("textbox", name="Ten numbers, separated by commas or spaces")
    box.fill("0 0 0 0 0 0 0 0 0 0")
    box.press("Enter")
    history = train(Config())
    expect(page.locator('[data-testid="stMetric"]').filter(has_text="Prediction for your input")).to_contain_text(
        f"{float(history.biases[-1]):.4g}", timeout=30_000
    )
    box.fill("one two")
    box.press("Enter")
    expect(page.get_by_text("Type exactly 10 numbers")).to_be_visible(timeout=30_000)
    assert metric(page, "Prediction for your input") == f"{float(history.biases[-1]):.4g}"  # the last good input stays


def reachable(page, locator) -> None:
    """The element is inside the viewport and nothing covers its centre (what a click there would hit)."""
    box = locator.bounding_box()
    size = page.viewport_size
    assert box is not None, "not rendered"
    assert 0 <= box["x"] and box["x"] + box["width"] <= size["width"], box
    assert 0 <= box["y"] and box["y"] + box["height"] <= size["height"], (box, "below the fold")
    hit = locator.evaluate(
        "(e, [x, y]) => { const h = document.elementFromPoint(x, y); return !!h && (e === h || e.contains(h)); }",
        [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
    )
    assert hit, "covered by another element"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_sidebar_settings_apply_at_once_without_any_button(visit, scheme):
    """Seed, optimizer and epochs at 1440×900: each change shows its run's fingerprint; nothing is pressed.

    The main settings are in view and uncovered without scrolling the sidebar, before and after a change
    (Adam's own settings fold away below them)."""
    page, _ = visit(viewport={"width": 1440, "height": 900}, color_scheme=scheme)
    wait_for_run(page)
    sidebar = page.locator('[data-testid="stSidebar"]')
    expect(sidebar.get_by_role("button", name=re.compile("Train"))).to_have_count(0)
    seed = sidebar.get_by_role("spinbutton", name="Seed", exact=True)
    for name in ("Epochs", "Learning rate", "Lucky number (the target)"):
        reachable(page, sidebar.get_by_role("spinbutton", name=name, exact=True))
    reachable(page, seed)
    seed.fill("42")
    seed.press("Enter")
    wait_for_fingerprint(page, train(Config(seed=42)).fingerprint())
    expect(page).to_have_url(re.compile(r"[?&]seed=42(&|$)"), timeout=30_000)
    optimizer = sidebar.get_by_role("combobox", name="Optimizer")
    reachable(page, optimizer)
    optimizer.click()
    page.get_by_role("option", name="Adam", exact=True).click()
    wait_for_fingerprint(page, train(Config(seed=42, optimizer="adam")).fingerprint())
    epochs = sidebar.get_by_role("spinbutton", name="Epochs", exact=True)
    reachable(page, epochs)
    epochs.fill("100000" if scheme == "light" else "700")
    epochs.press("Enter")
    if scheme == "light":  # a long new run says why the page waits
        expect(page.get_by_text(re.compile("100,000 epochs, which may take a few seconds"))).to_be_visible(
            timeout=30_000
        )
    expected = Config(seed=42, optimizer="adam", epochs=100_000 if scheme == "light" else 700)
    wait_for_fingerprint(page, train(expected).fingerprint(), timeout_s=120)


def steady(page, locator, tries: int = 25) -> None:
    """Scrolled into view and no longer moving: the box an opened group's new settings land in moves while the
    group unfolds (its height animates) and the run that drew them ends."""
    last = None
    for _ in range(tries):  # bounded: 25 × 200 ms
        locator.scroll_into_view_if_needed()
        box = locator.bounding_box()
        if box is not None and box == last:
            return
        last = box
        page.wait_for_timeout(200)


@pytest.mark.parametrize(("size", "scheme"), [("1280x720", "light"), ("1440x900", "dark")])
def test_a_folded_group_of_settings_opens_by_click_or_key_and_its_settings_train(visit, screenshots, size, scheme):
    """The sidebar's two folded groups draw their settings only once opened (a closed one sends its title
    alone): a click opens one, Enter on its focused title the other, and what they hold is in reach and trains."""
    width, height = map(int, size.split("x"))
    page, _ = visit(viewport={"width": width, "height": height}, color_scheme=scheme)
    wait_for_run(page)
    sidebar = page.locator('[data-testid="stSidebar"]')
    batch = sidebar.get_by_role("spinbutton", name="Batch size", exact=True)
    momentum = sidebar.get_by_role("spinbutton", name="Momentum", exact=True)
    expect(batch).to_have_count(0)  # folded: not drawn at all
    expect(momentum).to_have_count(0)
    page.screenshot(path=screenshots / f"settings-folded-{size}-{scheme}.png")

    title = page.locator(".st-key-more_settings summary")
    title.scroll_into_view_if_needed()
    reachable(page, title)
    title.click()
    expect(batch).to_be_visible(timeout=30_000)
    steady(page, batch)
    reachable(page, batch)
    expect(batch).to_have_value("1")  # the run's value
    batch.fill("4")
    batch.press("Enter")
    wait_for_fingerprint(page, train(Config(batch_size=4)).fingerprint())
    expect(page).to_have_url(re.compile(r"[?&]batch_size=4(&|$)"), timeout=30_000)
    expect(batch).to_have_value("4")  # still open after the run it started

    other = page.locator(".st-key-sgd_settings summary")
    other.scroll_into_view_if_needed()
    other.focus()
    page.keyboard.press("Enter")
    expect(momentum).to_be_visible(timeout=30_000)
    steady(page, momentum)
    reachable(page, momentum)
    expect(momentum).to_have_value("0.1000")  # the run's value, in the box's format
    page.screenshot(path=screenshots / f"settings-opened-{size}-{scheme}.png")


def download(page, button: str, folder: Path) -> Path:
    """Click a download button in Chromium and save what the browser received under its suggested name."""
    with page.expect_download(timeout=60_000) as started:
        page.get_by_role("button", name=button, exact=True).click()
    path = folder / started.value.suggested_filename
    started.value.save_as(path)
    return path


def parameters_fingerprint(weight: torch.Tensor, bias: torch.Tensor) -> str:
    """The page's run fingerprint, recomputed from a layer's numbers: sha256 of the float32 bytes of the
    10 weights then the bias, first 12 hex digits (the definition ``History.fingerprint`` documents)."""
    data = weight.detach().to(torch.float32).contiguous().view(-1).numpy().tobytes()
    data += bias.detach().to(torch.float32).contiguous().view(-1).numpy().tobytes()
    return hashlib.sha256(data).hexdigest()[:12]


def test_the_three_downloads_hold_this_run(visit, tmp_path):
    """Each download button gives, through the browser, a file whose content is this run's."""
    config = Config(seed=3, epochs=150)
    page, _ = visit("?seed=3&epochs=150")
    wait_for_run(page)
    shown = page_fingerprint(page)
    history = train(config)
    assert shown == history.fingerprint()

    layer_file = download(page, "Trained layer (.safetensors)", tmp_path)
    assert layer_file.suffix == ".safetensors"
    loaded = checkpoint.load(layer_file)
    assert loaded.config == config and loaded.notices == ()
    assert parameters_fingerprint(loaded.weight, loaded.bias) == shown

    csv_file = download(page, "History (.csv)", tmp_path)
    assert csv_file.suffix == ".csv"
    with csv_file.open(newline="") as f:
        header, *rows = list(csv.reader(f))
    assert len(rows) == config.epochs + 1  # the parameters before each epoch, then the trained layer
    assert [int(r[header.index("epoch_k")]) for r in rows] == list(range(config.epochs + 1))
    last = rows[-1]
    w = [float(last[header.index(f"w{i}_before_epoch_k")]) for i in range(1, 11)]
    weights = torch.tensor(w, dtype=torch.float32)
    bias = torch.tensor([float(last[header.index("bias_before_epoch_k")])], dtype=torch.float32)
    assert parameters_fingerprint(weights, bias) == shown  # the last row is the trained layer, to the bit
    loss = header.index("loss_in_epoch_k")
    assert all(float(r[loss]) >= 0 for r in rows[:-1]) and last[loss] == ""

    script = download(page, "This run as a PyTorch script", tmp_path)
    ast.parse(script.read_text(encoding="utf-8"), filename=script.name)  # a SyntaxError fails the test
    out = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = dict(line.split(":", 1) for line in out.stdout.strip().splitlines())
    printed = torch.tensor([float(v) for v in lines["weights"].strip(" []").split(",")])
    torch.testing.assert_close(printed, history.weights[-1], atol=1e-5, rtol=0)
    assert abs(float(lines["bias"]) - float(history.biases[-1])) <= 1e-5


def test_upload_refuses_a_pickle_and_tests_a_checkpoint(visit, tmp_path):
    page, _ = visit()
    wait_for_run(page)
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    evil = tmp_path / "evil.safetensors"
    evil.write_bytes(pickle.dumps(Evil()))
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(evil))
    expect(page.get_by_text("Refused 'evil.safetensors'")).to_be_visible(timeout=30_000)
    assert not marker.exists()

    good = tmp_path / "good.safetensors"
    checkpoint.save(good, train(Config(epochs=40)))
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(good))
    expect(page.get_by_text("Loaded 'good.safetensors'")).to_be_visible(timeout=30_000)


@pytest.mark.parametrize(
    "scheme, viewport", [("light", {"width": 1440, "height": 900}), ("dark", {"width": 390, "height": 844})]
)
def test_the_share_links_copy_button_shows_without_hovering_and_copies_the_link(visit, scheme, viewport):
    page, _ = visit("?seed=3&epochs=120", viewport=viewport, color_scheme=scheme)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    wait_for_run(page)
    box = page.locator(".st-key-share_link")
    box.scroll_into_view_if_needed()
    page.mouse.move(1, 1)  # the pointer is nowhere near the box
    copy = box.get_by_role("button", name="Copy to clipboard")
    expect(copy).to_be_visible()
    reachable(page, copy)
    copy.click()
    link = box.locator("code").inner_text().strip()
    assert link.endswith("?epochs=120&seed=3")
    assert page.evaluate("navigator.clipboard.readText()") == link
