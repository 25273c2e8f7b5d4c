"""The speaker's notes: every scene has them, every field they name is filled from the run, and the numbers they
quote agree with the run (checked against the run's own tensors and hand arithmetic, not through ``facts``)."""

from __future__ import annotations

import math
import re

import pytest
import torch

from lucky5 import Config, figures, train
from lucky5.inputs import default_input
from lucky5.notes import NOTES, next_title, notes_for, template_fields
from lucky5.scenes import SCENE, SCENES, facts
from tests.helpers import shown_number


@pytest.fixture(scope="module")
def runs() -> dict[int, object]:
    return {s.number: train(s.config) for s in SCENES}


def test_every_scene_has_notes_to_say_to_point_at_and_a_question():
    assert set(NOTES) == set(SCENE), "a scene without notes, or notes for a scene that does not exist"
    for number, notes in NOTES.items():
        assert notes.say and notes.point, f"scene {number}: nothing to say or to point at"
        assert all(line.strip() for line in notes.lines())
        assert notes.ask.rstrip().endswith("?"), f"scene {number}: the question for the room is not a question"


def test_every_field_the_notes_ask_for_is_filled_for_every_scene_and_odd_runs(runs):
    odd = [train(Config(target=1e30, epochs=3)), train(Config(optimizer="rmsprop", epochs=5)), train(Config(epochs=1))]
    for scene in SCENES:
        for history in [runs[scene.number], *odd]:
            assert template_fields(NOTES[scene.number]) <= set(facts(history))
            for line in notes_for(scene, history).lines():
                assert "{" not in line and "}" not in line and "nan" not in line.lower()


def numbers(text: str) -> list[float]:
    """The numbers as a reader sees them: 12,345, −0.5, 2.5×10⁻⁵ (``tests.helpers.shown_number``)."""
    found = re.findall(r"[−-]?\d[\d,]*(?:\.\d+)?(?:×10[⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+)?", text)
    return [shown_number(n) for n in found]


def test_the_numbers_the_notes_quote_are_the_runs(runs):
    blog = runs[1]
    x = torch.tensor(default_input(0), dtype=torch.float64)
    # Scene 1: the prediction for the default input is b + w·x of the trained layer, computed here by hand.
    said = " ".join(notes_for(SCENE[1], blog).say)
    by_hand = float(blog.biases[-1].double() + blog.weights[-1].double() @ x)
    assert any(math.isclose(v, by_hand, rel_tol=6e-4) for v in numbers(said)), said
    # Scene 3: the step's prediction and bias before and after, from the run's own record of epoch 1.
    pointed = " ".join(notes_for(SCENE[3], blog).point)
    shown = numbers(pointed)
    assert any(math.isclose(v, float(blog.predictions[1]), rel_tol=5.1e-3) for v in shown), pointed  # 3 digits
    assert any(math.isclose(v, float(blog.biases[2]), rel_tol=5.1e-3) for v in shown), pointed  # 3 digits
    # Scene 4: every weight is below the bound it quotes, and the bound is tight to two significant digits.
    patience = runs[4]
    said = " ".join(notes_for(SCENE[4], patience).say)
    bound = numbers(said.split("below", 1)[1])[0]
    largest = float(patience.weights[-1].abs().max())
    assert largest < bound <= largest * 1.2 + 1e-12


def test_next_is_the_following_scenes_title_and_nothing_after_the_last():
    assert next_title(None) == f"Scene 1 of {len(SCENES)} · {SCENES[0].title}"
    for scene, following in zip(SCENES, SCENES[1:], strict=False):
        assert next_title(scene.number) == f"Scene {following.number} of {len(SCENES)} · {following.title}"
    assert next_title(SCENES[-1].number) is None


# What a note may point at, and the text of the picture that shows it (the figures' own titles and legend names):
# a note never sends the speaker to bars, a path or a curve the projector does not show in that scene.
POINTERS = {
    "bars": "Weights w₁…w₁₀ and bias b",
    "path": "The valley of the expected loss",
    "prediction's line": "Prediction for your input",
    "loss curve": "Loss per epoch",
    "fast error": "fast error",
    "valley term": "valley",
    "qr code": "QR code",
}


def picture_text(scene, history) -> str:
    """Every title and legend name of the picture the projector shows for ``scene`` (its QR code as words)."""
    if scene.focus == "step":
        return "1. Forward pass"
    if scene.focus == "why":
        fig = figures.loss_parts(history).to_dict()
    else:
        x = torch.tensor(default_input(history.config.seed), dtype=torch.float64)
        fig = figures.animation(history, x, projector=True, height=520, panels=scene.panels, columns=2)
    layout = fig["layout"]
    texts = [a.get("text", "") for a in layout.get("annotations", [])] + [t.get("name") or "" for t in fig["data"]]
    texts.append((layout.get("title") or {}).get("text", ""))
    return " ".join(texts) + (" QR code" if scene.audience else "")


def test_the_notes_point_only_at_what_the_scenes_picture_shows(runs):
    for scene in SCENES:
        shown = picture_text(scene, runs[scene.number])
        for line in notes_for(scene, runs[scene.number]).point:
            for word, witness in POINTERS.items():
                if word in line.lower():
                    assert witness in shown, f"scene {scene.number}'s note points at the {word}, not shown: {line}"
