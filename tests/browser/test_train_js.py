"""The JavaScript port of a run (lucky5/static/train.js) in Chromium, against ``lucky5.train``.

For 200 random SGD settings (seeds over all 32 bits, learning rates from 0.001 to 0.5 so that some
runs blow up, momentum, dampening, Nesterov, weight decay, batches up to 36, epochs from 1 to 20,000):

- the initial layer equals torch's bit for bit (the generator stream and nn.Linear's initialisation);
- a run that diverges diverges at the same step, and keeps the same last finite layer;
- the final weights and bias equal torch's **bit for bit: the tolerance is 0 ulp**. The port does the
  float32 operations torch's CPU kernels do, in the same order (bmm's small-matrix kernel sums one
  rounded product at a time; SGD's ``add(other, alpha)`` is one fused multiply-add, emulated exactly),
  and JavaScript's double arithmetic is IEEE 754 on every platform. A looser tolerance would hide a
  missing rounding, and on the edge of stability (learning rates near 0.224) one different last bit
  grows into a visible difference within a few hundred steps.
- ``lucky5.summarize`` in JavaScript gives lucky5.room's Summary of the same run (its curve means are
  float64 sums in another order: equal within 1e-12 relative).

The oracle is ``lucky5.train`` itself, which ``tests/test_engine.py`` checks against the blog post's
plain autograd loop.
"""

from __future__ import annotations

import math
import random
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from lucky5.config import DEFAULT, Config
from lucky5.engine import train
from lucky5.room import summarize

pytestmark = pytest.mark.browser

TRAIN_JS = Path(__file__).resolve().parents[2] / "lucky5" / "static" / "train.js"
SETTINGS = 200


def random_settings(rng: random.Random) -> Config:
    """One SGD setting; the draws lean toward what a room offers (batch 1, momentum 0.1, its learning rates)."""
    room_lrs = (0.01, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4)
    lr = rng.choice(room_lrs) if rng.random() < 0.4 else float(f"{10 ** rng.uniform(-3, math.log10(0.5)):.3g}")
    long = rng.random() < 0.15
    momentum = rng.choice([0.0, 0.1, 0.1, round(rng.uniform(0.0, 0.95), 3)])
    nesterov = momentum > 0 and rng.random() < 0.15
    return DEFAULT.replace(
        seed=rng.choice([rng.randrange(2**32), rng.randrange(100), 2**32 - 1]),
        lr=lr,
        momentum=momentum,
        nesterov=nesterov,
        dampening=0.0 if nesterov or rng.random() < 0.85 else round(rng.uniform(0, 0.9), 2),
        weight_decay=0.0 if rng.random() < 0.85 else round(rng.uniform(0, 0.05), 3),
        batch_size=1 if rng.random() < 0.8 else rng.randint(2, 36),
        epochs=20_000 if long else rng.choice([2_000, 200, round(10 ** rng.uniform(0, math.log10(20_000)))]),
    )


def js_config(c: Config) -> dict[str, Any]:
    keys = ("seed", "lr", "epochs", "momentum", "dampening", "nesterov", "weight_decay", "batch_size", "target")
    return {k: getattr(c, k) for k in keys}


RUN_ALL_JS = """
(configs) => configs.map((c) => {
  const run = new lucky5.Run(c).advance();
  const r = run.result();
  return {initial: r.initial, weights: r.weights, bias: r.bias, divergedAt: r.divergedAt, steps: r.steps,
          summary: lucky5.summarize(run)};
})
"""


def bits(values: Any) -> np.ndarray:
    """The float32 bit patterns of ``values`` (Python floats holding float32 numbers)."""
    return np.asarray(values, dtype=np.float64).astype(np.float32).view(np.uint32)


@pytest.fixture(scope="module")
def js(chromium: Any) -> Any:
    page = chromium.new_page()
    page.set_content("<!doctype html><title>train.js</title>")
    page.add_script_tag(path=str(TRAIN_JS))
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    page.close()
    assert not errors, errors


def test_the_javascript_run_equals_train_for_200_random_settings(js: Any) -> None:
    configs = [random_settings(random.Random(f"train.js {i}")) for i in range(SETTINGS)]
    results = js.evaluate(RUN_ALL_JS, [js_config(c) for c in configs])
    diverged = long = 0
    for c, got in zip(configs, results, strict=True):
        h = train(c)
        where = f"{c.seed=} {c.lr=} {c.momentum=} {c.nesterov=} {c.dampening=} {c.weight_decay=} {c.batch_size=}"
        torch_initial = np.append(h.weights[0].numpy(), h.biases[0].numpy())
        assert (bits(got["initial"]) == torch_initial.view(np.uint32)).all(), f"initial layer differs: {where}"
        assert got["divergedAt"] == h.diverged_at and got["steps"] == h.steps, where
        assert (bits(got["weights"]) == h.trained.weight.numpy().view(np.uint32)).all(), f"final weights: {where}"
        assert bits([got["bias"]])[0] == h.biases[-1:].numpy().view(np.uint32)[0], f"final bias: {where}"
        expected, summary = summarize(h), got["summary"]
        assert summary["diverged_at"] == expected.diverged_at and summary["curve_steps"] == list(expected.curve_steps)
        # float(): Playwright hands a whole-valued number (a huge b) over as a Python int of its shortest digits.
        assert float(summary["b"]) == expected.b, where
        assert (summary["final_loss"] is None) == (expected.final_loss is None), where
        assert expected.final_loss is None or float(summary["final_loss"]) == expected.final_loss, where
        assert summary["w_norm"] == pytest.approx(expected.w_norm, rel=1e-12), where
        assert summary["curve_losses"] == pytest.approx(list(expected.curve_losses), rel=1e-12), where
        diverged += h.diverged_at is not None
        long += c.epochs == 20_000
    # The draws must reach both regimes, or the comparison above says less than it seems.
    assert 20 <= diverged <= SETTINGS - 100, diverged
    assert long >= 20, long


def test_the_generator_is_torchs_for_extreme_seeds(js: Any) -> None:
    for seed in (0, 1, 12345, 2**31, 2**32 - 1):
        expected = torch.rand(700, generator=torch.Generator().manual_seed(seed)).numpy()  # crosses a twist
        got = js.evaluate(
            "(s) => { const g = new lucky5.MT19937(s); return Array.from({length: 700}, () => g.rand()); }", seed
        )
        assert (bits(got) == expected.view(np.uint32)).all(), seed


def test_a_setting_the_port_cannot_reproduce_is_refused(js: Any) -> None:
    for bad in ({"optimizer": "adam"}, {"batch_size": 37}, {"epochs": 0}, {"lr": -1}):
        message = js.evaluate("(c) => { try { new lucky5.Run(c); return null; } catch (e) { return e.message; } }", bad)
        assert message, bad


def _round_to_float32(exact: Fraction) -> float:
    """The float32 nearest to ``exact`` (ties to even), found by comparing exact fractions."""
    guess = np.float32(float(exact))  # within one float32 step of the answer
    candidates = {np.nextafter(guess, np.float32(-np.inf)), guess, np.nextafter(guess, np.float32(np.inf))}
    best = min(candidates, key=lambda f: (abs(Fraction(float(f)) - exact), int(np.float32(f).view(np.uint32)) & 1))
    return float(best)


def test_the_fused_multiply_add_rounds_once(js: Any) -> None:
    """fma(a, b, c) against the exact a·b + c rounded to float32, including sums that land on a tie in double."""
    rng = np.random.default_rng(20)
    triples = [tuple(float(v) for v in rng.standard_normal(3).astype(np.float32)) for _ in range(2000)]
    # a·b exactly halfway between two float32 values, c far below a double's last bit: a·b + c rounds to the
    # tie in double, and ties-to-even then picks the wrong side whenever c points to the odd neighbour.
    # (1 + i·2⁻¹²)(1 + j·2⁻¹²) = 1 + (i + j)·2⁻¹² + ij·2⁻²⁴ is a float32 midpoint for odd i·j.
    for _ in range(500):
        i, j = (2 * int(v) + 1 for v in rng.integers(0, 600, 2))
        scale, sign = 2.0 ** int(rng.integers(-20, 20)), float(rng.choice([-1, 1]))
        a, b = sign * scale * (1 + i * 2.0**-12), (1 + j * 2.0**-12) / scale
        c = float(rng.choice([-1, 1])) * 2.0 ** -int(rng.integers(60, 100))
        triples.append((a, b, c))
    got = js.evaluate("(ts) => ts.map(([a, b, c]) => lucky5.fma(a, b, c))", triples)
    expected = [_round_to_float32(Fraction(a) * Fraction(b) + Fraction(c)) for a, b, c in triples]
    assert got == expected
    naive = [float(np.float32(a * b + c)) for a, b, c in triples]  # double first, then float32: JavaScript's a*b+c
    assert sum(n != e for n, e in zip(naive, expected, strict=True)) >= 50, "no double-rounding case was tested"
