"""The page's controls in a real browser: type an input, train new settings, download, upload.

AppTest (tests/test_app.py) checks the same features without a browser; here a person's clicks go
through Streamlit's frontend, so a widget, a download or an upload that only works in AppTest fails.
"""

from __future__ import annotations

import pickle
import re
import subprocess
import sys

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
        f"{history.final_bias:.4g}", timeout=30_000
    )
    box.fill("one two")
    box.press("Enter")
    expect(page.get_by_text("Type exactly 10 numbers")).to_be_visible(timeout=30_000)
    assert metric(page, "Prediction for your input") == f"{history.final_bias:.4g}"  # the last good input stays


def test_train_with_a_new_seed_shows_that_run_and_puts_it_in_the_url(visit):
    page, _ = visit()
    wait_for_run(page)
    seed = page.get_by_role("spinbutton", name="Seed", exact=True)
    seed.fill("42")
    seed.press("Tab")
    page.get_by_role("button", name="Train", exact=True).click()
    wait_for_fingerprint(page, train(Config(seed=42)).fingerprint())
    expect(page).to_have_url(re.compile(r"[?&]seed=42(&|$)"), timeout=30_000)


def test_downloaded_script_and_checkpoint_reproduce_the_run(visit, tmp_path):
    config = Config(seed=3, epochs=150)
    page, _ = visit("?seed=3&epochs=150")
    wait_for_run(page)
    history = train(config)
    assert page_fingerprint(page) == history.fingerprint()

    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("button", name="This run as a PyTorch script").click()
    script = tmp_path / "lucky5_run.py"
    download.value.save_as(script)
    out = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = dict(line.split(":", 1) for line in out.stdout.strip().splitlines())
    weights = torch.tensor([float(v) for v in lines["weights"].strip(" []").split(",")])
    torch.testing.assert_close(weights, history.weights[-1], atol=1e-5, rtol=0)
    assert abs(float(lines["bias"]) - history.final_bias) <= 1e-5

    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("button", name="Trained layer (.safetensors)").click()
    layer_file = tmp_path / "layer.safetensors"
    download.value.save_as(layer_file)
    loaded = checkpoint.load(layer_file)
    assert loaded.config == config
    assert torch.equal(loaded.weight.view(-1), history.weights[-1])


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
