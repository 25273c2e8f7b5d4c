"""This run's story in plain words: what happened, with its own numbers, told once for every view.

The page shows it beside the animation, the offline HTML file (``lucky5.export``) under its chart. Where
``lucky5.narration`` says what one frame shows, this is the whole run looked back on: what the layer had
to learn, where it ended, which part of the expected loss is left and when the average answer got right.
Every number is measured from the ``History`` or computed by ``lucky5.theory``; numbers close to the lucky
number get enough digits to tell them apart from it (``narration.near``). Plain text, no Markdown.
"""

from __future__ import annotations

import torch

from . import theory
from .engine import History
from .narration import near, number


def story(history: History, x: torch.Tensor) -> list[str]:
    """The run's story as a few paragraphs (plain text); ``x`` is the input (10,) whose prediction it quotes."""
    c = history.config
    t = number(c.target, 4)
    inputs = "one fresh random input" if c.batch_size == 1 else f"{c.batch_size} fresh random inputs"
    told = [
        f"One nn.Linear(10, 1) was trained for {history.steps:,} epochs to output {t}. Each epoch it saw "
        f"{inputs} x ~ U(0, 1)^10, which say nothing about {t}.",
        f"So the best layer ignores its input: w = 0 and b = {t}. Averaged over inputs, the loss of any "
        f"layer is (0.5·Σw + b − {t})² + ‖w‖²/12, and only that layer makes it 0.",
    ]
    if history.diverged_at is not None:
        told.append(
            f"This run diverged at epoch {history.diverged_at:,}: its numbers grew past what float32 can hold and "
            "training stopped. The ✕ in the valley marks where its path left the view; a smaller learning "
            "rate keeps it inside."
        )
        return told
    all_terms = theory.loss_terms(history)
    terms = all_terms[-1].tolist()
    names = ("the fast error", "the valley term", "the disagreement")
    meaning = (
        "the average prediction is still off the target",
        "Σw still stands in for part of b: the run is in the valley, short of w = 0",
        "the weights still differ from each other",
    )
    top = max(range(3), key=lambda i: terms[i])
    layer = history.trained
    pred = float(layer.predict(x))
    told.append(
        f"After {history.steps:,} epochs b = {near(layer.bias, c.target, 4)} and the prediction for your input "
        f"is {near(pred, c.target, 4)}. The expected loss left is {number(sum(terms))}: fast error "
        f"{number(terms[0])}, valley {number(terms[1])}, disagreement {number(terms[2])}. The largest is "
        f"{names[top]}: {meaning[top]}."
    )
    # Measured, not promised: when the fast error stopped being the largest part.
    settled = (all_terms[:, 0] < all_terms[:, 1:].sum(-1)).nonzero()
    if settled.numel():
        k = int(settled[0])
        expected = theory.expected_losses(history)
        told.append(
            f"Press Play and watch the valley: by epoch {k:,} the average prediction was nearly right (the run "
            "reached the dashed green line) and the fast error no longer the largest part. From there to "
            f"epoch {history.steps:,} the expected loss went from {number(float(expected[k]))} to "
            f"{number(float(expected[-1]))}, along the long, thin valley toward the star at (0, {t})."
        )
    return told
