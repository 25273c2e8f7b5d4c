"""The presenter kit: the whole talk in one offline HTML file, every scene's QR code, script, checkpoint and CSV, a
README listing them with the talk's size, and the same bytes every time. Each file is read back the way a
speaker's tools would: the script is run with Python, the checkpoint loaded, the CSV parsed, the QR code's pixels
compared with the code of the link. What is inside talk.html is tests/test_talk_file.py's."""

from __future__ import annotations

import csv
import html
import io
import re
import subprocess
import sys
import zipfile

import pytest
import segno
import torch
from PIL import Image

from lucky5 import checkpoint, kit, train
from lucky5.scenes import SCENES, sentences
from lucky5.talk import MAX_TALK_BYTES

BASE = "https://lucky5.example.app/"


@pytest.fixture(scope="module")
def histories() -> dict:
    return {s.number: train(s.config) for s in SCENES}


@pytest.fixture(scope="module")
def archive(histories) -> bytes:
    return kit.presenter_kit(BASE, histories)


@pytest.fixture(scope="module")
def members(archive) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        assert z.testzip() is None
        return {info.filename: z.read(info) for info in z.infolist()}


def test_the_talk_and_every_scenes_four_files_and_the_readme_lists_them(members):
    names = set(members)
    readme = members[f"{kit.FOLDER}/README.txt"].decode()
    expected = {f"{kit.FOLDER}/README.txt", f"{kit.FOLDER}/{kit.TALK}"}
    for scene in SCENES:
        stem = f"{kit.FOLDER}/{kit.slug(scene)}"
        expected |= {f"{stem}-qr.png", f"{stem}.py", f"{stem}.safetensors", f"{stem}.csv"}
        assert kit.scene_link(BASE, scene) in readme
    assert names == expected
    assert list(members)[:2] == [f"{kit.FOLDER}/README.txt", f"{kit.FOLDER}/{kit.TALK}"]
    for name in names - {f"{kit.FOLDER}/README.txt"}:
        assert name.removeprefix(f"{kit.FOLDER}/") in readme, f"README.txt does not list {name}"
        assert re.fullmatch(r"[a-z0-9./-]+", name), name  # safe on any file system


def test_the_readme_gives_the_talks_size_and_the_talk_fits_a_usb_stick(members):
    talk = members[f"{kit.FOLDER}/{kit.TALK}"]
    readme = members[f"{kit.FOLDER}/README.txt"].decode()
    line = next(line for line in readme.splitlines() if line.strip().startswith(kit.TALK))
    assert f"{len(talk):,} bytes" in line, line
    assert len(talk) <= MAX_TALK_BYTES
    text = talk.decode("utf-8")
    assert text.count("Plotly.newPlot") >= 1
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)\s*=\s*[\"']?(https?:)?//", text, re.I)


def test_the_checkpoints_hold_each_scenes_trained_layer(members, histories):
    for scene in SCENES:
        loaded = checkpoint.load(members[f"{kit.FOLDER}/{kit.slug(scene)}.safetensors"])
        assert loaded.config == scene.config
        assert torch.equal(loaded.weight.reshape(10), histories[scene.number].weights[-1])
        assert float(loaded.bias) == float(histories[scene.number].biases[-1])


def test_the_csv_has_a_row_per_epoch_and_ends_at_the_trained_layer(members, histories):
    for scene in SCENES:
        rows = list(csv.DictReader(io.StringIO(members[f"{kit.FOLDER}/{kit.slug(scene)}.csv"].decode())))
        h = histories[scene.number]
        assert len(rows) == h.steps + 1
        assert float(rows[-1]["bias_before_epoch_k"]) == float(h.biases[-1])  # the row after the last epoch
        assert [float(rows[-1][f"w{i + 1}_before_epoch_k"]) for i in range(10)] == h.weights[-1].tolist()


def test_the_blog_posts_script_prints_the_layer_of_its_checkpoint(members, tmp_path):
    stem = f"{kit.FOLDER}/{kit.slug(SCENES[0])}"
    script = tmp_path / "run.py"
    script.write_bytes(members[f"{stem}.py"])
    out = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    printed = dict(line.split(": ", 1) for line in out.stdout.splitlines() if ": " in line)
    loaded = checkpoint.load(members[f"{stem}.safetensors"])
    assert eval(printed["weights"]) == loaded.weight.reshape(10).tolist()  # a list of floats printed by Python
    assert float(printed["bias"]) == float(loaded.bias)


def _modules(png: bytes) -> list[list[bool]]:
    """The dark modules of a QR PNG, read from its pixels (quiet zone and scale from the kit's constants)."""
    image = Image.open(io.BytesIO(png)).convert("L")
    scale, border = kit.QR_SCALE, 4
    n = image.width // scale - 2 * border
    assert image.width == image.height == (n + 2 * border) * scale
    return [
        [image.getpixel(((border + c) * scale + scale // 2, (border + r) * scale + scale // 2)) < 128 for c in range(n)]
        for r in range(n)
    ]


def test_each_qr_png_shows_the_code_of_its_scenes_short_link(members):
    for scene in SCENES:
        link = kit.scene_link(BASE, scene)
        assert link == f"{BASE}?scene={scene.number}"  # the scene alone: a small code
        expected = [[bool(v) for v in row] for row in segno.make(link, error="m").matrix]
        assert _modules(members[f"{kit.FOLDER}/{kit.slug(scene)}-qr.png"]) == expected
        assert segno.make(link, error="m").version <= 3


def test_the_same_inputs_give_the_same_files_with_fixed_timestamps(archive, histories, members):
    again = kit.files(BASE, histories)
    assert list(again) == list(members)
    for name, data in again.items():
        if name.endswith(".safetensors"):  # safetensors writes its metadata in no fixed order: compare contents
            one, two = checkpoint.load(data), checkpoint.load(members[name])
            assert one.config == two.config and torch.equal(one.weight, two.weight) and torch.equal(one.bias, two.bias)
            continue
        else:
            kept = members[name]
        assert data == kept, f"{name} differs between two builds"
    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        for info in z.infolist():
            assert info.date_time == kit.ZIP_TIME and info.compress_type == zipfile.ZIP_DEFLATED
            assert info.external_attr >> 16 == 0o644


@pytest.mark.parametrize("base", ["", "lucky5.app", "ftp://host/", "javascript:alert(1)", "https://"])
def test_a_bad_page_address_is_refused_with_a_message(base):
    with pytest.raises(ValueError, match="http"):
        kit.scene_link(base, SCENES[0])


def test_a_missing_or_mismatched_history_is_trained_not_trusted(histories):
    swapped = {**histories, 4: histories[1]}  # scene 4's slot holds a 200-epoch run
    files = kit.files(BASE, swapped)
    loaded = checkpoint.load(files[f"{kit.FOLDER}/{kit.slug(SCENES[3])}.safetensors"])
    assert loaded.config.epochs == 20_000


def test_the_talk_tells_every_scene_as_its_scene(members, histories):
    page = members[f"{kit.FOLDER}/{kit.TALK}"].decode("utf-8")
    for scene in SCENES:
        assert f"<h1>Scene {scene.number} of {len(SCENES)} · {html.escape(scene.title)}</h1>" in page
        told = " ".join(sentences(scene, histories[scene.number], offline=True))
        assert f'<p class="lead">{html.escape(told)}</p>' in page
