"""The speaker's notes for each scene of the talk: what to say, what to point at, and the question to ask the room.

Notes are data beside the scenes (``lucky5.scenes``), keyed by scene number. Like a scene's sentences they are
templates whose ``{fields}`` are the names ``scenes.facts`` returns, so a note never quotes a number the code did
not just compute from the run and from ``lucky5.theory``. The projector never shows them: the speaker's view
(the page's ``notes=1``, the offline talk's ``#notes``) does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from string import Formatter

import torch

from .config import Config
from .engine import History
from .scenes import SCENE, Scene, facts, title_for


@dataclass(frozen=True)
class Notes:
    """One scene's notes: ``say`` and ``point`` are a few short lines each, ``ask`` one question for the room.

    As templates they hold ``{fields}`` of ``scenes.facts``; ``notes_for`` returns them filled (plain text).
    """

    say: tuple[str, ...]
    point: tuple[str, ...]
    ask: str

    def lines(self) -> tuple[str, ...]:
        return (*self.say, *self.point, self.ask)


NOTES: dict[int, Notes] = {
    1: Notes(
        say=(
            "This is the whole network: ten weights and a bias, trained as the blog post did it: "
            "{epochs} epochs, one fresh random input each, {optimizer} with lr {lr}.",
            "The prediction ends at {prediction}: close to {target}, but not {target}. "
            "The post blamed too little data; keep that thought.",
        ),
        point=(
            "The prediction's line climbing towards {target}.",
            "The bars: the ten weights are far from zero (‖w‖ = {weight_norm}) and b = {bias}.",
            "The QR code: the room can run the same layer on their phones.",
        ),
        ask="The inputs are random numbers that say nothing about {target}. What should the ten weights end up as?",
    ),
    2: Notes(
        say=(
            "The best layer ignores its input: w = 0 and b = {target}. Averaged over inputs, the loss has three "
            "parts: the average miss, the valley, and the weights' disagreement.",
            "The average miss is nearly gone ({mean_error}); what is left is the valley: Σw stands in for "
            "part of b, and SGD slides along it slowly.",
        ),
        point=(
            "The fast error: gone within tens of epochs.",
            "The valley term: hardly moved in {epochs} epochs, and the expected loss lying on it.",
        ),
        ask="Theory's time constant is ≈ {time_constant} epochs. What will ten times as many epochs do?",
    ),
    3: Notes(
        say=(
            "One epoch is four lines of PyTorch: forward, loss, loss.backward(), optimizer.step(). "
            "These are this run's own numbers at step {step_number} (epoch {step_epoch}, counting from 0).",
            "The gradient of b is 2(ŷ − t) = {step_grad_bias}: the sign says which way b moves.",
        ),
        point=(
            "ŷ = {step_prediction} against the target {target}, and the loss {step_loss}.",
            "b moving from {step_bias_before} to {step_bias_after}.",
        ),
        ask="Every input xᵢ is positive and ŷ was {step_prediction}. Which way do all ten weights move, and why "
        "all the same way?",
    ),
    4: Notes(
        say=(
            "The same settings for {epochs} epochs: {fraction} times the ≈ {time_constant} epochs (from theory) "
            "in which the distance to the best layer shrinks by e.",
            "Now b = {bias} and every |wᵢ| is below {max_weight}: the layer has learned to ignore its input.",
        ),
        point=(
            "The path in the valley: straight down to the dashed line, then the long slide to the star at "
            "w = 0, b = {target}.",
            "The valley term falling on the log scale.",
        ),
        ask="So was the blog post's problem too little data, or too little time?",
    ),
    5: Notes(
        say=(
            "lr {lr} is {ratio} times the largest learning rate at which one-sample SGD still settles "
            "(≈ {limit}, from theory).",
            "{divergence}",
        ),
        point=(
            "The loss curve shooting up.",
            "The path leaving the valley.",
        ),
        ask="Which learning rate would you try next, and how could you tell it is safe before training?",
    ),
    6: Notes(
        say=(
            "Adam rescales each step by the gradient's recent size, so theory's stability limit does not apply.",
            "lr {lr} and {epochs} epochs: b = {bias} and ‖w‖ = {weight_norm}.",
        ),
        point=(
            "The loss falling and the bars at the end.",
            "The settings, top left: now the room takes over.",
        ),
        ask="Pick one setting to change. What do you predict will happen before you press Train?",
    ),
}


def template_fields(notes: Notes) -> set[str]:
    """The ``scenes.facts`` names ``notes`` ask for."""
    return {name for line in notes.lines() for _, name, _, _ in Formatter().parse(line) if name}


def notes_for(scene: Scene, history: History, x: Sequence[float] | torch.Tensor | None = None) -> Notes:
    """``scene``'s notes filled with ``scenes.facts(history, x)`` (plain text, no Markdown).

    Raises:
        KeyError: if ``scene`` has no notes (``tests/test_notes.py`` checks that every scene has them).
    """
    known = facts(history, x)
    notes = NOTES[scene.number]
    return Notes(
        say=tuple(s.format_map(known) for s in notes.say),
        point=tuple(s.format_map(known) for s in notes.point),
        ask=notes.ask.format_map(known),
    )


def next_title(number: int | None, config: Config | None = None) -> str | None:
    """The title of the scene after ``number`` ("Scene 2 of 6 · Why not exactly 5?"); None after the last.

    ``None`` (before the talk) gives scene 1's. ``config``: the run on screen, whose rule changes some titles
    (``scenes.title_for``); None reads as the blog post's.
    """
    following = SCENE.get(1 if number is None else number + 1)
    if following is None:
        return None
    title = following.title if config is None else title_for(following, config)
    return f"Scene {following.number} of {len(SCENE)} · {title}"


__all__ = ["NOTES", "Notes", "next_title", "notes_for", "template_fields"]
