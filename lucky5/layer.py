"""The trained layer as a value: its ten weights and its bias, and what a learner asks of them.

``Layer`` is one ``nn.Linear(10, 1)``'s numbers, frozen: the weights as a float32 tensor of shape (10,) and
the bias as a float (a float32 value, exact as a Python float). It answers the questions the page, the CLI,
the export, the talk and the room ask of a trained layer, each computed here once:

- ``norm``: ‖w‖, the size of the weights, in float64 (a float32 norm of finite weights near 1e19 overflows);
- ``predict(x)``: b + x·w in float64, for one input (10,) or a batch (N, 10);
- ``distance_to(point)``: the Euclidean distance ‖[w, b] − [w*, b*]‖ in float64, e.g. to the optimum;
- ``fingerprint()``: 12 hex digits of the float32 bytes (equal layers, equal fingerprints);
- ``module()``: a fresh ``nn.Linear(10, 1)`` holding these numbers, for code that wants the real module.

``norms`` and ``distances`` are the same two formulas over many rows at once (a run's record).
A ``Layer`` comes from a recorded run (``Layer.of(history)``, after its last epoch or after epoch k) or from
any tensors holding ten weights and one bias (``Layer.from_tensors``: a checkpoint's, a module's).
This module imports no other part of lucky5, so that every part can use it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Protocol

import torch
from torch import nn

IN_FEATURES = 10  # the layer's inputs; ``lucky5.engine`` trains this shape


class Recorded(Protocol):
    """A run's record of parameter rows, as ``lucky5.engine.History`` keeps it."""

    @property
    def weights(self) -> torch.Tensor: ...  # (steps + 1, 10) float32: row i is the layer before step i

    @property
    def biases(self) -> torch.Tensor: ...  # (steps + 1,) float32


class Point(Protocol):
    """Weights and a bias to measure a distance to: a ``Layer``, or ``lucky5.theory.Optimum``."""

    @property
    def weight(self) -> torch.Tensor: ...  # (10,), any float dtype

    @property
    def bias(self) -> float: ...


def norms(weights: torch.Tensor) -> torch.Tensor:
    """‖w‖ over the last dimension of ``weights`` (..., 10), in float64: shape (...).

    Float64 because a diverged run's finite float32 weights (up to about 1e19) have squares past float32's
    largest number (3.4e38): a float32 norm would read inf.
    """
    return weights.to(torch.float64).norm(dim=-1)


def distances(weights: torch.Tensor, biases: torch.Tensor, point: Point) -> torch.Tensor:
    """‖[w, b] − [w*, b*]‖ for every row: ``weights`` (..., 10), ``biases`` (...) -> (...), float64.

    The Euclidean distance in the 11 parameters from ``point`` (w*, b*), e.g. ``theory.optimum_for(config)``.
    """
    dw = weights.to(torch.float64) - torch.as_tensor(point.weight, dtype=torch.float64)
    db = biases.to(torch.float64) - point.bias
    return torch.sqrt(dw.square().sum(-1) + db.square())


@dataclass(frozen=True, eq=False)
class Layer:
    """A trained ``nn.Linear(10, 1)``'s numbers: ``weight`` (10,) float32 and ``bias`` (a float32 value).

    Build it with ``Layer.of`` or ``Layer.from_tensors``: they copy, so a Layer never shares memory with a
    run's record or a module. Treat ``weight`` as read-only. Two Layers are equal when their eleven numbers are.
    """

    weight: torch.Tensor  # (10,) float32
    bias: float  # a float32 value

    @classmethod
    def of(cls, history: Recorded, epoch: int | None = None) -> Layer:
        """The layer of a recorded run after ``epoch`` epochs (row ``epoch``: 0 is the initialisation); by
        default after its last one, the trained layer.

        Raises:
            ValueError: ``epoch`` is not a whole number from 0 to the run's epochs.
        """
        last = int(history.weights.shape[0]) - 1
        row = last if epoch is None else epoch
        if not isinstance(row, int) or isinstance(row, bool) or not 0 <= row <= last:
            raise ValueError(f"epoch={epoch!r} is not allowed: a whole number from 0 to {last:,}")
        return cls.from_tensors(history.weights[row], history.biases[row])

    @classmethod
    def from_tensors(cls, weight: torch.Tensor, bias: torch.Tensor | float) -> Layer:
        """A Layer from ten weights of any shape ((10,), (1, 10)...) and one bias, as float32 copies.

        Raises:
            ValueError: ``weight`` does not hold 10 numbers or ``bias`` does not hold one.
        """
        w = torch.as_tensor(weight).detach()
        b = torch.as_tensor(bias).detach()
        if w.numel() != IN_FEATURES or b.numel() != 1:
            raise ValueError(
                f"a layer has {IN_FEATURES} weights and 1 bias, not {w.numel()} weights and {b.numel()} biases"
            )
        weight32 = w.to("cpu", torch.float32).reshape(IN_FEATURES).clone()
        return cls(weight=weight32, bias=float(b.to("cpu", torch.float32).reshape(())))

    @property
    def norm(self) -> float:
        """‖w‖, the Euclidean norm of the ten weights, in float64 (``norms``)."""
        return float(norms(self.weight))

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """The prediction b + x·w for an input ``x`` of shape (10,) (-> shape ()) or a batch (N, 10) (-> (N,)).

        Float64 from the float32 weights, so a large input or a diverged layer gives a finite number where
        it has one; ``module()`` gives the float32 forward pass the blog post ran.
        """
        return torch.as_tensor(x, dtype=torch.float64) @ self.weight.to(torch.float64) + self.bias

    def distance_to(self, point: Point) -> float:
        """The Euclidean distance ‖[w, b] − [w*, b*]‖ to ``point``, in float64 (``distances``)."""
        return float(distances(self.weight, torch.tensor(self.bias, dtype=torch.float64), point))

    def fingerprint(self, data: str = "") -> str:
        """12 hex digits of sha256 over the float32 bytes of the 10 weights, then the bias, then the text
        ``data`` (a data set's digest, ``lucky5.data``: a run on data names its data; "" adds nothing)."""
        numbers = self.weight.numpy().tobytes() + torch.tensor([self.bias], dtype=torch.float32).numpy().tobytes()
        return hashlib.sha256(numbers + data.encode()).hexdigest()[:12]

    def module(self) -> nn.Linear:
        """A fresh ``nn.Linear(10, 1)`` (float32) holding this layer's numbers; never shared."""
        layer = torch.nn.utils.skip_init(nn.Linear, IN_FEATURES, 1)
        with torch.no_grad():
            layer.weight.copy_(self.weight.unsqueeze(0))
            layer.bias.fill_(self.bias)
        return layer

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Layer):
            return NotImplemented
        return torch.equal(self.weight, other.weight) and self.bias == other.bias

    def __hash__(self) -> int:
        return hash((*self.weight.tolist(), self.bias))  # equal numbers, equal hashes (0.0 and -0.0 too)
