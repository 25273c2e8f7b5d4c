"""lucky5.story: the run's story, with numbers measured from the run and theory (independent recomputation here)."""

from __future__ import annotations

import torch

from lucky5 import Config, story, theory, train
from tests.oracle import post_loop

X = torch.full((10,), 0.5, dtype=torch.float64)


def test_the_blog_posts_story_quotes_its_own_numbers():
    history = train(Config())
    told = " ".join(story.story(history, X))
    # when the average miss stopped being the largest part: recomputed from the post's own loop
    run = post_loop(Config())
    w, b = run["weights"].double(), run["biases"].double()
    fast = (0.5 * w.sum(-1) + b - 5) ** 2
    rest = w.sum(-1) ** 2 / 120 + ((w - w.mean(-1, keepdim=True)) ** 2).sum(-1) / 12
    k = int((fast < rest).nonzero()[0])
    assert f"by epoch {k:,} the average prediction was nearly right" in told
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
    fast = (0.5 * w.sum(-1) + b - 5) ** 2
    rest = w.sum(-1) ** 2 / 120 + ((w - w.mean(-1, keepdim=True)) ** 2).sum(-1) / 12
    k = int((fast < rest).nonzero()[0])
    sums = w.sum(-1)
    assert float(sums[k] ** 2 / 120) > 10 * float(sums[0] ** 2 / 120)  # it does rise, a lot
    assert f"by epoch {k:,}, when the average answer is about right, Σw = {float(sums[k]):.2g}" in told
    assert f"the valley term is {float(sums[k] ** 2 / 120):.3g}" in told
    assert "pushes b and, on average, each weight the same way" in told


def test_no_rise_story_for_a_run_that_diverged_or_stopped_before_the_average_was_right():
    assert story.valley_rise(train(Config(lr=0.6, epochs=300))) is None
    assert story.valley_rise(train(Config(epochs=5))) is None
