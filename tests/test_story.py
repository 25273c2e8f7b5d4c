"""lucky5.story: the run's story, with numbers measured from the run and theory (independent recomputation here)."""

from __future__ import annotations

import re

import pytest
import torch

from lucky5 import Config, story, theory, train
from lucky5.figures import frame_steps
from lucky5.narration import about_right_at, narrate, near
from tests.oracle import post_loop

X = torch.full((10,), 0.5, dtype=torch.float64)


def test_the_blog_posts_story_quotes_its_own_numbers():
    history = train(Config())
    told = " ".join(story.story(history, X))
    # when the average answer 0.5·Σw + b first came within 5 % of 5: recomputed from the post's own loop
    run = post_loop(Config())
    w, b = run["weights"].double(), run["biases"].double()
    k = int(((0.5 * w.sum(-1) + b - 5).abs() <= 0.25).nonzero()[0])
    assert f"by epoch {k:,} the average prediction was within 0.25 of 5, nearly right" in told
    assert "along the long, thin valley toward the star at (0, 5)" in told
    assert f"b = {float(b[-1]):.3g}" in told


def test_at_20000_epochs_nothing_that_differs_from_the_lucky_number_reads_as_it():
    history = train(Config(epochs=20_000))
    told = " ".join(story.story(history, X))
    b = float(history.biases[-1])
    prediction = float(history.trained.predict(X))
    assert b != 5.0 and prediction != 5.0
    shown_b = told.split("After 20,000 epochs b = ")[1].split(" ")[0]
    shown_prediction = told.split("the prediction for your input is ")[1].split(" ")[0].rstrip(".")
    for shown, true in ((shown_b, b), (shown_prediction, prediction)):
        assert float(shown) != 5.0 and abs(float(shown) - true) < 1e-4 * 5, (shown, true)


def test_a_diverged_run_says_where_and_stops_there():
    history = train(Config(lr=0.6, epochs=300))
    told = story.story(history, X)
    assert history.diverged_at is not None
    assert f"diverged at epoch {history.diverged_at:,}" in told[-1] and len(told) == 3
    assert theory.stability(history.config).limit is not None


def test_the_valley_terms_early_rise_is_explained_with_the_runs_numbers():
    told = story.valley_rise(train(Config()))
    assert told is not None
    run = post_loop(Config())  # the post's own loop: Σw and the valley term (Σw)²/120 recomputed here
    w, b = run["weights"].double(), run["biases"].double()
    k = int(((0.5 * w.sum(-1) + b - 5).abs() <= 0.25).nonzero()[0])
    sums = w.sum(-1)
    assert float(sums[k] ** 2 / 120) > 10 * float(sums[0] ** 2 / 120)  # it does rise, a lot
    assert f"by epoch {k:,}, when the average answer is within 0.25 of 5, Σw = {float(sums[k]):.2g}" in told
    assert f"the valley term is {float(sums[k] ** 2 / 120):.3g}" in told
    assert "pushes b and, on average, each weight the same way" in told


@pytest.mark.parametrize(
    "config",
    [Config(), Config(seed=3, epochs=400), Config(target=42, epochs=2000), Config(rule="5 + 3*x1 - 2*x7")],
    ids=["post", "seed3", "target42", "rule"],
)
def test_the_story_and_the_captions_name_one_epoch_for_the_average_answer_getting_right(config):
    """The story said "by epoch 27" (the fast error no longer the largest part) where the captions said "since
    epoch 44" (within 5 %): one event, two epochs. Both now read the one measure, narration.about_right_at."""
    history = train(config)
    k = about_right_at(history)
    assert k is not None
    since = {
        int(m.group(1).replace(",", ""))
        for caption in narrate(history, frame_steps(history.steps)).captions
        for m in re.finditer(r"since epoch ([\d,]+)", caption)
    }
    told = " ".join(story.story(history, X))
    by = {int(m.group(1).replace(",", "")) for m in re.finditer(r"by epoch ([\d,]+)", told)}
    rise = story.valley_rise(history) or ""
    by |= {int(m.group(1).replace(",", "")) for m in re.finditer(r"by epoch ([\d,]+), when", rise)}
    assert since == {k} and by == {k}, (since, by, k)


def test_no_rise_story_for_a_run_that_diverged_or_stopped_before_the_average_was_right():
    assert story.valley_rise(train(Config(lr=0.6, epochs=300))) is None
    assert story.valley_rise(train(Config(epochs=5))) is None


def test_near_never_shows_a_number_that_differs_from_the_lucky_number_as_it():
    """At 20,000 epochs the prediction for the default input is 4.9999995: it read "5" at seven digits."""
    g = torch.Generator().manual_seed(3)
    scales = 10.0 ** -torch.randint(1, 16, (2000,), generator=g).double()
    for v in (5 + torch.randn(2000, generator=g, dtype=torch.float64) * scales).tolist():
        assert (float(near(v, 5.0).replace("−", "-")) == 5.0) == (v == 5.0), v
    assert near(4.999999524214687, 5.0, 4) == "4.9999995" and near(5.0, 5.0) == "5.00"


@pytest.mark.parametrize(
    ("value", "shown"),
    [(4.90001, "4.90"), (4.91, "4.91"), (4.0, "4.00"), (5.0, "5.00"), (100.0, "100"), (1.5e-7, "1.50×10⁻⁷")],
)
def test_near_shows_every_digit_it_counts_trailing_zeros_too(value, shown):
    """One rule: "4.90" beside "4.91", never "4.9" (two digits where three were promised), and as many
    digits as near chose: the number of significant digits shown is never below ``least``."""
    assert near(value, 5.0) == shown
    significant = shown.split("×")[0].replace(".", "").lstrip("0−")
    assert len(significant) >= 3
