"""The exact numbers of one optimizer step of a run: ``explain_step(config, k)`` returns a ``Step``.

This is not a second training loop: ``lucky5.engine.Training`` trains the run up to step k with the real
``torch.optim`` object and takes step k with the same loop; this module only snapshots the parameters, the
optimizer's state and the generators before and after, and recovers the inputs (and the noise) the step drew.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import torch

from ..config import Config
from ..engine import FEATURES_AND_BIAS, IN_FEATURES, Training, draw_noise, targets

__all__ = ["STATE_NAMES", "Step", "explain_step"]

# torch.optim's names for the per-parameter state of the optimizers lucky5 offers.
STATE_NAMES = ("momentum_buffer", "exp_avg", "exp_avg_sq", "max_exp_avg_sq", "square_avg", "grad_avg", "sum")


@dataclass(frozen=True)
class Step:
    """The exact numbers of optimizer step ``epoch`` of a run (float32, as trained; B is the batch size).

    Every [w, b] vector is (11,): the ten weights, then the bias. ``state_before`` and ``state_after``
    map torch.optim's state names (``STATE_NAMES``) to (11,) tensors, exactly what the optimizer holds:
    SGD, Adam, AdamW and RMSprop create their state in their first step, so at epoch 0 their
    ``state_before`` is empty (the rules in ``update_rule`` start from zeros, and SGD's momentum
    buffer from the first gradient, as torch does). ``step_before``/``step_after`` are torch's own step
    count where the optimizer keeps one (Adam, AdamW, RMSprop, Adagrad), else ``None``.
    """

    config: Config
    epoch: int  # 0-based: the same index as History.losses
    x: torch.Tensor  # (B, 10) the inputs drawn at this step
    targets: torch.Tensor  # (B,) each input's target: the lucky number, or the rule's value (plus noise)
    prediction: torch.Tensor  # (B,) ŷ = x·w + b before the update
    loss: float  # mean squared error of the batch, (1/B)·Σ(ŷ − t)²
    grad: torch.Tensor  # (11,) dL/dw, then dL/db: what loss.backward() leaves in .grad
    params_before: torch.Tensor  # (11,)
    params_after: torch.Tensor  # (11,)
    state_before: dict[str, torch.Tensor]
    state_after: dict[str, torch.Tensor]
    step_before: int | None
    step_after: int | None
    prediction_after: torch.Tensor  # (B,) the same inputs through the updated layer

    @property
    def varying(self) -> bool:
        """True when the targets depend on the inputs or on noise (a rule, or noise > 0)."""
        return self.config.target_rule is not None or self.config.noise > 0

    @property
    def target(self) -> float:
        """t: the lucky number; with a rule or noise the batch's mean target (at batch size 1, its one target)."""
        return float(self.targets.double().mean()) if self.varying else self.config.target

    @property
    def batch_size(self) -> int:
        return int(self.x.shape[0])

    @property
    def loss_after(self) -> float:
        """Mean squared error of the same batch after the update."""
        return float((self.prediction_after - self.targets).square().mean())


def explain_step(config: Config, k: int) -> Step:
    """The exact numbers of optimizer step ``k`` of ``config``'s run.

    Trains the run with the engine's loop (the post's computation with the real ``torch.optim`` step,
    bit-identical to the post's script at batch size 1) until k steps are done, snapshots the
    parameters, the optimizer's state and the generator, takes step k with the same loop and snapshots
    again. Costs about as much as training k steps.

    Args:
        config: the run's settings.
        k: the step, 0 ≤ k < config.epochs (the index of ``history.losses``).

    Raises:
        TypeError: ``config`` is not a Config.
        ValueError: ``k`` is not a whole number from 0 to epochs − 1 (the message gives the range), or the run
            diverged at or before step k (the message names the epoch of the divergence).
    """
    if not isinstance(config, Config):
        raise TypeError(f"config must be a lucky5.Config, not {type(config).__name__}")
    last = config.epochs - 1
    if not isinstance(k, numbers.Integral) or isinstance(k, bool) or not 0 <= int(k) <= last:
        shown = repr(k) if len(repr(k)) <= 40 else repr(k)[:37] + "..."
        raise ValueError(
            f"epoch {shown} is not allowed: a whole number from 0 to {last:,} (this run has "
            f"{config.epochs:,} epochs, counted from 0)"
        )
    k = int(k)
    training = Training([config], epochs=k + 1)
    training.advance(k)
    _raise_if_diverged(training, k)
    (param,) = training.optimizer.param_groups[0]["params"]
    state_before, step_before = _state(training.optimizer, param)
    params_before = training.parameters[0].clone()
    generator = torch.Generator().set_state(training.generators[0].get_state())
    noise_generators = [torch.Generator().set_state(g.get_state()) for g in training.noise_generators]
    training.advance(k + 1)
    _raise_if_diverged(training, k + 1)
    state_after, step_after = _state(training.optimizer, param)
    params_after = training.parameters[0].clone()
    history = training.histories()[0]

    # The inputs step k drew: the generator's next draw after k steps, as the loop drew them.
    x = torch.rand(config.batch_size, IN_FEATURES, generator=generator)
    # Its noise: the noise generator's next draw, the same call as the loop's (engine.draw_noise).
    noise = draw_noise(noise_generators[0], config.batch_size) if noise_generators else None
    return Step(
        config=config,
        epoch=k,
        x=x,
        targets=targets(config, x, noise),
        prediction=_predict(x, params_before),
        loss=float(history.losses[k]),
        grad=torch.cat([history.grad_weights[k], history.grad_biases[k : k + 1]]),
        params_before=params_before,
        params_after=params_after,
        state_before=state_before,
        state_after=state_after,
        step_before=step_before,
        step_after=step_after,
        prediction_after=_predict(x, params_after),
    )


def _raise_if_diverged(training: Training, done: int) -> None:
    diverged_at = training.histories()[0].diverged_at if done else None
    if diverged_at is not None:
        allowed = f"epochs 0 to {diverged_at - 1:,} can be explained" if diverged_at else "no epoch can be explained"
        raise ValueError(
            f"the run diverged at epoch {diverged_at:,} (its loss or parameters stopped being finite "
            f"numbers): {allowed}"
        )


def _state(optimizer: torch.optim.Optimizer, param: torch.Tensor) -> tuple[dict[str, torch.Tensor], int | None]:
    """Copies of the optimizer's (11,) state tensors under torch's names, and its step count."""
    state = optimizer.state.get(param, {})
    tensors = {
        name: value.detach().reshape(FEATURES_AND_BIAS).clone()
        for name, value in state.items()
        if name in STATE_NAMES and torch.is_tensor(value)
    }
    step = state.get("step")
    return tensors, None if step is None else int(step)


def _predict(x: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
    """ŷ = x·w + b for each row, with the engine's own matrix product ([x, 1] · [w, b]), so the bits agree."""
    z = torch.cat([x, torch.ones(x.shape[0], 1)], dim=1).unsqueeze(0)
    return torch.bmm(z, params.reshape(1, FEATURES_AND_BIAS, 1)).reshape(-1)
