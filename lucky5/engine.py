"""The training loop: the blog post's script, made fast, reproducible and recorded.

``train(config)`` trains one ``nn.Linear(10, 1)`` exactly as the post does (PyTorch's
default initialisation, one fresh ``torch.rand(batch_size, 10)`` per step, mean squared
error against the lucky number, the real ``torch.optim`` class) and records every step.
With a rule (``Config.rule``) each input's target is the rule's value at that input instead,
and with noise (``Config.noise`` = σ > 0) every target gets σ·ε, ε ~ N(0, 1) (``targets``).
``train_many`` runs K independent runs (K seeds, or K learning rates) in the same loop.
Both are ``Training``: the one loop, which can also pause after any step and hand over the
real optimizer (``lucky5.step`` shows one step that way).

Why it is fast, and why it is still the post's computation:
- The MSE gradient of a linear layer has a closed form, ``2/B · Σ (ŷ − t)·[x, 1]``. We write
  it straight into ``.grad`` instead of building an autograd graph (``tests/test_engine.py``
  checks it against autograd at every step).
- The weights and bias of all K runs live in one (K, 11) tensor, so each step is a handful
  of tensor operations whatever K is; the optimizer's update is elementwise, so treating
  [w, b] as one tensor changes nothing.
- Inputs are drawn in chunks from the run's own ``torch.Generator``; chunks give the same
  numbers as one draw per step, because the CPU generator fills tensors element by element.
  A rule's targets are computed per chunk with elementwise operations only, which give each
  row the same bits as one step at a time would (``lucky5.rules.Rule.evaluate``).
- The noise comes from a second private generator per run (``make_noise_generator``), one
  ``torch.randn(batch_size)`` per step, exactly the call the standalone script makes: a normal
  draw of many numbers at once gives other numbers than one draw per step, and a second
  stream leaves the inputs of a run the same with and without noise.

This module has no UI and touches no global state: not the global RNG, not torch's threads.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.optim import optimizer as _optimizer_module

from .config import MAX_EPOCHS, Config
from .layer import IN_FEATURES, Layer

FEATURES_AND_BIAS = IN_FEATURES + 1
# Inputs drawn per chunk are bounded so that 100,000 epochs of batch 1,024 fit in memory.
_CHUNK_FLOATS = 1 << 20
_MAX_CHUNK_STEPS = 2_000

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class History:
    """Everything one run did, step by step; nothing non-finite is ever kept.

    Row i of ``weights``/``biases`` holds the parameters *before* step i (row 0 is the
    initialisation, the last row the trained layer); ``losses[i]`` and ``grads[i]`` are
    the loss and gradient computed at step i.
    """

    config: Config
    losses: torch.Tensor  # (steps,) mean squared error of each step's batch
    weights: torch.Tensor  # (steps + 1, 10)
    biases: torch.Tensor  # (steps + 1,)
    grad_weights: torch.Tensor  # (steps, 10)
    grad_biases: torch.Tensor  # (steps,)
    predictions: torch.Tensor  # (steps,) prediction for the first input of each step's batch
    diverged_at: int | None  # first step whose loss or update was not finite, else None
    seconds: float  # wall time of the training loop (setup excluded)

    @property
    def steps(self) -> int:
        return int(self.losses.shape[0])

    @property
    def trained(self) -> Layer:
        """The trained layer: the last recorded row (the last finite one of a diverged run), as a ``Layer``."""
        return Layer.of(self)

    def fingerprint(self) -> str:
        """12 hex digits of the trained parameters' bytes (``Layer.fingerprint``): equal runs, equal fingerprints."""
        return self.trained.fingerprint()


def make_generator(seed: int) -> torch.Generator:
    """A private generator, seeded like ``torch.manual_seed(seed)`` seeds the global one."""
    return torch.Generator().manual_seed(seed)


# The noise's generator is seeded with the run's seed plus this (mod 2³², the seeds a CPU generator
# tells apart): a stream of its own, so that noise never reuses the numbers the inputs were drawn from.
NOISE_SEED_OFFSET = 0x9E3779B9


def noise_seed(seed: int) -> int:
    """The seed of run ``seed``'s noise generator: (seed + NOISE_SEED_OFFSET) mod 2³²."""
    return (seed + NOISE_SEED_OFFSET) % 2**32


def make_noise_generator(seed: int) -> torch.Generator:
    """The private generator of run ``seed``'s noise (see ``noise_seed``)."""
    return torch.Generator().manual_seed(noise_seed(seed))


def draw_noise(generator: torch.Generator, batch_size: int, out: torch.Tensor | None = None) -> torch.Tensor:
    """One step's ε ~ N(0, 1): ``torch.randn(batch_size)`` from ``generator`` (float32, shape (batch_size,)).

    The engine, ``lucky5.step`` and the standalone script all draw one step's noise with this one call.
    """
    return torch.randn(batch_size, generator=generator, out=out)


def targets(config: Config, x: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
    """The targets of inputs ``x`` (..., 10) under ``config``: shape (...), float32.

    The lucky number ``config.target`` for every input, or the rule's value at each input
    (``Rule.evaluate``); plus ``noise``·σ when ``config.noise`` = σ > 0, ``noise`` being the
    inputs' ε of shape (...) (``draw_noise``). Order of operations, as the standalone script:
    t = rule(x), then t + ε·σ.

    Raises:
        ValueError: ``config.noise`` > 0 and no ``noise`` is given.
    """
    rule = config.target_rule
    out = rule.evaluate(x) if rule is not None else torch.full(x.shape[:-1], config.target, dtype=x.dtype)
    if config.noise > 0:
        if noise is None:
            raise ValueError("this run has noise: pass the inputs' ε (draw_noise)")
        out = out + noise * config.noise
    return out


def init_parameters(generator: torch.Generator) -> torch.Tensor:
    """PyTorch's default ``nn.Linear(10, 1)`` initialisation, drawn from ``generator``.

    Returns [weight (10), bias] as one (11,) tensor: the same numbers ``nn.Linear(10, 1)``
    draws after ``torch.manual_seed``, in the same order, without touching the global RNG.
    """
    layer = torch.nn.utils.skip_init(nn.Linear, IN_FEATURES, 1)  # no global draws
    with torch.no_grad():
        nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
        bound = 1 / math.sqrt(IN_FEATURES)
        nn.init.uniform_(layer.bias, -bound, bound, generator=generator)
        return torch.cat([layer.weight.reshape(-1), layer.bias]).detach()


def optimizer_spec(config: Config) -> tuple[Any, dict]:
    """The torch.optim class for ``config`` and its keyword arguments (lr aside)."""
    c = config
    if c.optimizer == "sgd":
        return torch.optim.SGD, dict(
            momentum=c.momentum, dampening=c.dampening, nesterov=c.nesterov, weight_decay=c.weight_decay
        )
    if c.optimizer in ("adam", "adamw"):
        cls = torch.optim.Adam if c.optimizer == "adam" else torch.optim.AdamW
        return cls, dict(betas=c.betas, eps=c.eps, weight_decay=c.weight_decay, amsgrad=c.amsgrad)
    if c.optimizer == "rmsprop":
        return torch.optim.RMSprop, dict(
            alpha=c.alpha, eps=c.eps, momentum=c.momentum, centered=c.centered, weight_decay=c.weight_decay
        )
    if c.optimizer == "adagrad":
        return torch.optim.Adagrad, dict(lr_decay=c.lr_decay, eps=c.eps, weight_decay=c.weight_decay)
    raise ValueError(f"unknown optimizer {c.optimizer!r}")  # Config validation makes this unreachable


def make_optimizer(config: Config, params: Sequence[torch.Tensor], lrs: Sequence[float]) -> torch.optim.Optimizer:
    """The real torch.optim class for ``config``, one param group per learning rate."""
    cls, kwargs = optimizer_spec(config)
    groups = [{"params": [p], "lr": lr} for p, lr in zip(params, lrs, strict=True)]
    # foreach=False is what torch picks on the CPU anyway (the same for-loop update, bit for bit);
    # saying so skips torch's per-step check of which implementation to use.
    return cls(groups, lr=lrs[0], foreach=False, **kwargs)


def train(config: Config, progress: Progress | None = None) -> History:
    """Train one run of ``config`` and return its full History."""
    return train_many(config, progress=progress)[0]


def train_many(
    config: Config,
    seeds: Sequence[int] | None = None,
    lrs: Sequence[float] | None = None,
    progress: Progress | None = None,
) -> list[History]:
    """Train K independent runs of ``config`` in one loop, one History each.

    ``seeds`` and ``lrs`` (either may be omitted; if both are given they pair up) give
    each run its own seed and learning rate. Each run equals its solo ``train`` to within
    float32 rounding (a batched matrix product sums in another order).
    """
    seeds = list(seeds) if seeds is not None else None
    lrs = list(lrs) if lrs is not None else None
    k = len(seeds) if seeds is not None else len(lrs) if lrs is not None else 1
    seeds = seeds if seeds is not None else [config.seed] * k
    lrs = lrs if lrs is not None else [config.lr] * k
    if k < 1 or len(seeds) != k or len(lrs) != k:
        raise ValueError("seeds and lrs must be non-empty and of the same length")
    configs = [config.replace(seed=s, lr=lr) for s, lr in zip(seeds, lrs, strict=True)]  # validates each
    return _run(configs, progress)


def _run(configs: list[Config], progress: Progress | None) -> list[History]:
    training = Training(configs)
    training.advance(configs[0].epochs, progress)
    return training.histories()


class Training:
    """K runs of one Config part-way through training: the engine's state between steps.

    ``advance(n)`` runs the one training loop until ``n`` steps are done; ``histories()`` cuts
    what was recorded so far into one History per run. Between calls the object holds what the
    post's loop would hold at that point: ``optimizer`` is the real ``torch.optim`` object (its
    ``state`` is torch's own per-parameter state), ``parameters`` the (K, 11) float32 [w, b] of
    every run (its rows are the optimizer's parameters), and ``generators[j]``'s next draw is
    the input of run j's next step. ``lucky5.step`` pauses a run here to show one step.

    Treat the attributes as read-only: changing them changes the runs. Not thread-safe.

    Raises:
        ValueError: ``configs`` is empty, or ``epochs`` (the most steps recorded; default the
            first Config's epochs) is not a whole number from 1 to ``MAX_EPOCHS``.
    """

    def __init__(self, configs: Sequence[Config], epochs: int | None = None) -> None:
        if not configs:
            raise ValueError("at least one Config is needed")
        self.configs = list(configs)
        base = self.configs[0]
        n = base.epochs if epochs is None else epochs
        if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= MAX_EPOCHS:
            raise ValueError(f"epochs={n!r} is not allowed: a whole number from 1 to {MAX_EPOCHS:,}")
        k, batch = len(self.configs), base.batch_size
        self.epochs = n
        self.generators = [make_generator(c.seed) for c in self.configs]
        # The noise's own streams (none without noise: then nothing is drawn and nothing changes).
        self.noise_generators = [make_noise_generator(c.seed) for c in self.configs] if base.noise > 0 else []
        # The lucky number without noise is one 0-d target for every input; anything else is computed per chunk.
        self.varying_targets = base.target_rule is not None or base.noise > 0

        # All K runs' [w, b] in one (K, 11) buffer, and their gradients in another.
        self.parameters = flat = torch.stack([init_parameters(g) for g in self.generators])
        self.gradients = grad = torch.zeros_like(flat)
        # One optimizer parameter for all runs when they share a learning rate; otherwise one
        # row (and param group) per run, because a param group's lr is a single number.
        distinct_lrs = len({c.lr for c in self.configs}) > 1
        rows: list[int | slice] = list(range(k)) if distinct_lrs else [slice(None)]
        params = [nn.Parameter(flat[r]) for r in rows]  # views: they share flat's storage
        for p, r in zip(params, rows, strict=True):
            p.grad = grad[r]
        lrs = [self.configs[i].lr for i in range(k)] if distinct_lrs else [base.lr]
        self.optimizer = make_optimizer(base, params, lrs)
        self.rows = rows
        self._step = _undecorated_step(self.optimizer)

        # The record: parameters before every step and after the last, each step's gradient,
        # and each step's predictions (losses are computed from them once per chunk).
        self._param_rec = torch.empty(n + 1, k, FEATURES_AND_BIAS)
        self._grad_rec = torch.empty(n, k, FEATURES_AND_BIAS)
        self._loss_rec = torch.empty(n, k)
        self._pred_rec = torch.empty(n, k)
        self._param_rec[0] = flat
        self._target = torch.tensor(base.target, dtype=torch.float32)
        self._err = torch.empty(k, batch, 1)
        self._chunk = max(1, min(_MAX_CHUNK_STEPS, _CHUNK_FLOATS // (k * batch * FEATURES_AND_BIAS)))
        self.done = 0  # steps taken
        self.alive = True  # some run is still finite
        self.seconds = 0.0  # wall time spent in ``advance``

    def advance(self, until: int, progress: Progress | None = None) -> None:
        """Take steps until ``until`` are done (or until no run is finite any more).

        ``progress(done, until)`` is called after each chunk of steps.

        Raises:
            ValueError: ``until`` is before the steps already done or after ``epochs``.
        """
        if not self.done <= until <= self.epochs:
            raise ValueError(f"cannot advance from step {self.done:,} to {until:,} (at most {self.epochs:,})")
        k, batch = len(self.configs), self.configs[0].batch_size
        flat, grad, step, target, err = self.parameters, self.gradients, self._step, self._target, self._err
        generators, param_rec, grad_rec = self.generators, self._param_rec, self._grad_rec
        flat3, grad3 = flat.unsqueeze(-1), grad.unsqueeze(-1)  # (K, 11, 1) views for bmm

        # The clock starts here: building the first optimizer of a process imports parts of torch
        # once per process, which says nothing about training.
        start = time.perf_counter()
        done = self.done
        with torch.no_grad():
            while done < until and self.alive:
                steps = min(self._chunk, until - done)
                # z = [x, 1] so that one matrix product gives x·w + b, and zᵀ·err gives [dw, db].
                z = torch.ones(steps, k, batch, FEATURES_AND_BIAS)
                for j, g in enumerate(generators):  # each run draws only from its own generator
                    z[:, j, :, :IN_FEATURES] = torch.rand(steps, batch, IN_FEATURES, generator=g)
                zt = z.transpose(-1, -2) * (2.0 / batch)  # d(mean squared error)/d(prediction) = 2/B·err
                chunk_target = self._chunk_targets(z, steps) if self.varying_targets else target
                step_targets = chunk_target.unbind(0) if self.varying_targets else itertools.repeat(target, steps)
                preds = torch.empty(steps, k, batch, 1)
                # Views made once per chunk, not per step: indexing a tensor costs a microsecond.
                loop = zip(
                    z.unbind(0),
                    zt.unbind(0),
                    preds.unbind(0),
                    grad_rec[done : done + steps].unbind(0),
                    param_rec[done + 1 : done + steps + 1].unbind(0),
                    step_targets,
                    strict=True,
                )
                for z_i, zt_i, pred_i, grad_i, param_i, target_i in loop:
                    # forward: ŷ = x·w + b for every run at once
                    torch.bmm(z_i, flat3, out=pred_i)
                    # the loss's gradient in closed form: dL/d[w, b] = 2/B · zᵀ(ŷ − t)
                    torch.sub(pred_i, target_i, out=err)
                    torch.bmm(zt_i, err, out=grad3)
                    grad_i.copy_(grad)
                    # step with the real torch.optim update, then record the new parameters
                    step()
                    param_i.copy_(flat)
                # loss: the mean squared error of each step's batch, for the whole chunk at once
                self._loss_rec[done : done + steps] = (preds - chunk_target).square().mean(dim=(2, 3))
                self._pred_rec[done : done + steps] = preds[:, :, 0, 0]
                done += steps
                self.done = done
                # A run that is not finite never becomes finite again: stop once no run is left.
                alive = torch.isfinite(param_rec[done]).all(dim=1) & torch.isfinite(self._loss_rec[done - 1])
                self.alive = bool(alive.any())
                if progress is not None:
                    progress(done, until)
        self.seconds += time.perf_counter() - start

    def _chunk_targets(self, z: torch.Tensor, steps: int) -> torch.Tensor:
        """The targets of a chunk's inputs z (steps, K, B, 11), as (steps, K, B, 1): rule and noise.

        The noise is drawn step by step, run by run, from each run's own noise generator: the same
        calls, in the same order, as ``steps`` single steps of each run alone.
        """
        k, batch = len(self.configs), self.configs[0].batch_size
        noise = None
        if self.noise_generators:
            noise = torch.empty(steps, k, batch)
            for i in range(steps):
                for j, g in enumerate(self.noise_generators):
                    draw_noise(g, batch, out=noise[i, j])
        return targets(self.configs[0], z[..., :IN_FEATURES], noise).unsqueeze(-1)

    def histories(self) -> list[History]:
        """One History per run of the steps done so far, each cut at its first non-finite step."""
        recs = (self._param_rec, self._grad_rec, self._loss_rec, self._pred_rec)
        return [_history(c, j, self.done, *recs, self.seconds) for j, c in enumerate(self.configs)]


def _undecorated_step(optimizer: torch.optim.Optimizer) -> Callable[[], None]:
    """``optimizer.step`` without its two wrappers, when they are there to skip.

    ``Optimizer.step`` is wrapped by a profiler label with hook dispatch and by a grad-mode
    guard; on an 11-number parameter they cost two thirds of the step (20 of 30 µs). We
    register no hooks and already run under ``no_grad``, so the inner ``step`` does exactly
    the same update (``tests/test_engine.py`` checks bit-equality with ``optimizer.step()``
    for every optimizer). Where the wrappers are not found, the public step is used.
    """
    inner: Any = type(optimizer).step
    while hasattr(inner, "__wrapped__"):
        inner = inner.__wrapped__
    hooks = (
        optimizer._optimizer_step_pre_hooks,
        optimizer._optimizer_step_post_hooks,
        _optimizer_module._global_optimizer_pre_hooks,
        _optimizer_module._global_optimizer_post_hooks,
    )
    if inner is type(optimizer).step or any(hooks):
        return optimizer.step
    return lambda: inner(optimizer)


def _history(config, j, done, param_rec, grad_rec, loss_rec, pred_rec, seconds) -> History:
    """Run j's History, cut at its first non-finite step."""
    losses = loss_rec[:done, j]
    params = param_rec[: done + 1, j]
    bad = ~torch.isfinite(losses) | ~torch.isfinite(params[1:]).all(dim=1)
    stop = int(bad.nonzero()[0, 0]) if bool(bad.any()) else None
    steps = done if stop is None else stop
    return History(
        config=config,
        losses=losses[:steps].clone(),
        weights=params[: steps + 1, :IN_FEATURES].clone(),
        biases=params[: steps + 1, IN_FEATURES].clone(),
        grad_weights=grad_rec[:steps, j, :IN_FEATURES].clone(),
        grad_biases=grad_rec[:steps, j, IN_FEATURES].clone(),
        predictions=pred_rec[:steps, j].clone(),
        diverged_at=stop,
        seconds=seconds,
    )
