"""The independent oracle of the engine tests: the blog post's plain PyTorch loop, step by step.

``post_loop`` is the post's script (``torch.manual_seed``, ``nn.Linear(10, 1)``, a fresh ``torch.rand`` per
step, ``nn.MSELoss``, ``loss.backward()``, the public ``optimizer.step()``), generalised only by the Config's
settings. It shares no code with ``lucky5.engine``; ``watch`` also snapshots chosen steps whole (inputs,
prediction, loss, gradient, parameters and optimizer state before and after), for ``lucky5.step``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection

import torch
from torch import nn

from lucky5 import Config

# Every optimizer, with the variants that take other code paths in torch.optim.
OPTIMIZER_CASES = {
    "sgd-post": {},
    "sgd-nesterov": dict(momentum=0.5, nesterov=True),
    "sgd-dampening-decay": dict(momentum=0.9, dampening=0.5, weight_decay=0.01),
    "adam": dict(optimizer="adam", lr=0.1),
    "adam-amsgrad-decay": dict(optimizer="adam", lr=0.05, amsgrad=True, weight_decay=0.01, betas=(0.8, 0.99)),
    "adamw": dict(optimizer="adamw", lr=0.1, weight_decay=0.1),
    "adamw-amsgrad": dict(optimizer="adamw", lr=0.05, amsgrad=True),
    "rmsprop": dict(optimizer="rmsprop"),
    "rmsprop-centered-momentum": dict(optimizer="rmsprop", lr=0.005, centered=True, momentum=0.5, alpha=0.9),
    "adagrad": dict(optimizer="adagrad", lr=0.5, lr_decay=0.01, weight_decay=0.001),
}
CASE_IDS = list(OPTIMIZER_CASES)


def torch_optimizer(c: Config, params) -> torch.optim.Optimizer:
    """The torch.optim object a user would write for these settings (independent of the engine)."""
    if c.optimizer == "sgd":
        return torch.optim.SGD(
            params,
            lr=c.lr,
            momentum=c.momentum,
            dampening=c.dampening,
            nesterov=c.nesterov,
            weight_decay=c.weight_decay,
        )
    if c.optimizer in ("adam", "adamw"):
        cls = torch.optim.Adam if c.optimizer == "adam" else torch.optim.AdamW
        return cls(params, lr=c.lr, betas=c.betas, eps=c.eps, weight_decay=c.weight_decay, amsgrad=c.amsgrad)
    if c.optimizer == "rmsprop":
        return torch.optim.RMSprop(
            params,
            lr=c.lr,
            alpha=c.alpha,
            eps=c.eps,
            momentum=c.momentum,
            centered=c.centered,
            weight_decay=c.weight_decay,
        )
    assert c.optimizer == "adagrad"
    return torch.optim.Adagrad(params, lr=c.lr, lr_decay=c.lr_decay, eps=c.eps, weight_decay=c.weight_decay)


def _flat(model: nn.Linear) -> torch.Tensor:
    return torch.cat([model.weight.detach().reshape(10), model.bias.detach()]).clone()


def _optimizer_state(optimizer: torch.optim.Optimizer, model: nn.Linear) -> tuple[dict, int | None]:
    """The optimizer's state of weight and bias joined into (11,) tensors, and its step count."""
    ws, bs = optimizer.state.get(model.weight, {}), optimizer.state.get(model.bias, {})
    tensors = {
        name: torch.cat([value.detach().reshape(10), bs[name].detach().reshape(1)]).clone()
        for name, value in ws.items()
        if torch.is_tensor(value) and value.numel() == 10
    }
    step = ws.get("step")
    return tensors, None if step is None else int(step)


def post_loop(
    c: Config, watch: Collection[int] = (), targets: Callable[[torch.Tensor], torch.Tensor] | None = None
) -> dict:
    """The blog post's script, step by step, stopping at the first non-finite loss or update.

    Each step in ``watch`` is also kept whole in ``out["watched"][step]``. ``targets`` maps each step's
    inputs (B, 10) to its targets (B, 1), called right after the inputs are drawn (a rule, noise); without
    it every target is ``c.target``, as in the post.
    """
    with torch.random.fork_rng():  # leave the global RNG as we found it
        torch.manual_seed(c.seed)
        model = nn.Linear(10, 1)
        optimizer = torch_optimizer(c, model.parameters())
        loss_fn = nn.MSELoss()
        target = torch.full((c.batch_size, 1), c.target)
        rec = {k: [] for k in ("inputs", "losses", "weights", "biases", "grad_weights", "grad_biases", "predictions")}
        rec["weights"].append(model.weight.detach().clone().reshape(10))
        rec["biases"].append(model.bias.detach().clone())
        watched = {}
        diverged_at = None
        for step in range(c.epochs):
            if step in watch:
                before = _flat(model), *_optimizer_state(optimizer, model)
            x = torch.rand(c.batch_size, 10)
            if targets is not None:
                target = targets(x)
            optimizer.zero_grad()
            prediction = model(x)
            loss = loss_fn(prediction, target)
            loss.backward()
            optimizer.step()
            params = torch.cat([model.weight.detach().reshape(10), model.bias.detach()])
            if step in watch:
                state_after, step_after = _optimizer_state(optimizer, model)
                watched[step] = dict(
                    x=x,
                    target=target.reshape(-1).clone(),
                    prediction=prediction.detach().reshape(-1).clone(),
                    loss=loss.item(),
                    grad=torch.cat([model.weight.grad.reshape(10), model.bias.grad]).clone(),
                    params_before=before[0],
                    state_before=before[1],
                    step_before=before[2],
                    params_after=params.clone(),
                    state_after=state_after,
                    step_after=step_after,
                )
            if not (math.isfinite(loss.item()) and torch.isfinite(params).all()):
                diverged_at = step
                break
            rec["inputs"].append(x)
            rec["losses"].append(loss.detach().clone())
            rec["weights"].append(params[:10].clone())
            rec["biases"].append(params[10:].clone())
            rec["grad_weights"].append(model.weight.grad.detach().clone().reshape(10))
            rec["grad_biases"].append(model.bias.grad.detach().clone())
            rec["predictions"].append(prediction[0, 0].detach().clone())
    out = {k: torch.stack(v) if v else torch.empty(0) for k, v in rec.items()}
    out["biases"] = out["biases"].reshape(-1)
    out["grad_biases"] = out["grad_biases"].reshape(-1)
    out["diverged_at"] = diverged_at
    out["watched"] = watched
    return out
