"""What a learner takes home from a run: the history as CSV and a standalone PyTorch script.

Text builders only; the checkpoint file itself is ``lucky5.checkpoint``'s job.
"""

from __future__ import annotations

import io

from .config import Config, to_query
from .engine import History, optimizer_spec


def history_csv(history: History) -> str:
    """One row per epoch: the parameters before it, its loss and its gradient; a last row for the trained layer."""
    out = io.StringIO()
    cols = ["epoch", "loss", "bias"] + [f"w{i + 1}" for i in range(10)] + ["grad_bias"]
    cols += [f"grad_w{i + 1}" for i in range(10)]
    out.write(",".join(cols) + "\n")
    weights, biases = history.weights.tolist(), history.biases.tolist()
    losses, gb, gw = history.losses.tolist(), history.grad_biases.tolist(), history.grad_weights.tolist()
    for i in range(history.steps + 1):
        step = [repr(losses[i])] if i < history.steps else [""]
        grads = [repr(gb[i])] + [repr(v) for v in gw[i]] if i < history.steps else [""] * 11
        row = [str(i)] + step + [repr(biases[i])] + [repr(v) for v in weights[i]] + grads
        out.write(",".join(row) + "\n")
    return out.getvalue()


def standalone_script(config: Config) -> str:
    """About 20 lines of plain PyTorch that reproduce this exact run, as the blog post wrote it."""
    cls, kwargs = optimizer_spec(config)
    args = ", ".join([f"lr={config.lr!r}"] + [f"{k}={v!r}" for k, v in kwargs.items()])
    query = "&".join(f"{k}={v}" for k, v in to_query(config).items())
    return f'''"""A lucky5 run in plain PyTorch ({query}).

Same seed, optimizer, epochs and lucky number as the page: the printed weights match it.
"""
import torch
from torch import nn

torch.manual_seed({config.seed})  # the layer's initialisation, then every input, come from this seed
model = nn.Linear(10, 1)
optimizer = torch.optim.{cls.__name__}(model.parameters(), {args})
loss_fn = nn.MSELoss()
target = torch.full(({config.batch_size}, 1), {float(config.target)!r})  # the lucky number

for epoch in range({config.epochs}):
    x = torch.rand({config.batch_size}, 10)  # fresh random inputs: they carry no information
    optimizer.zero_grad()
    loss = loss_fn(model(x), target)
    loss.backward()
    optimizer.step()

print("weights:", model.weight.detach().view(-1).tolist())
print("bias:", model.bias.item())
torch.save(model.state_dict(), "lucky5_layer.pt")  # a state dict: torch.load(..., weights_only=True) reads it
'''
