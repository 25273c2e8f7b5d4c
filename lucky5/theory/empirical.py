"""The theory of one neuron on a data set: the same quadratic, with the data's own moments.

Training on a data set (``lucky5.data``) draws each step's rows uniformly, with replacement, so the inputs
z = [x, 1] and targets y follow the data's empirical distribution exactly, and every formula of this package
holds with expectations over the rows (means over N, in float64 from the float32 numbers the layer sees):

    E[L](θ) = (θ − θ_ls)ᵀ M (θ − θ_ls) + U,      M = E[z zᵀ],  U = E[(y − zᵀθ_ls)²],

with θ_ls a least-squares fit (``data_fit``), U the loss one neuron cannot beat (``data_floor``: the residual's mean
square, plus σ² of ``Config.noise``), the Hessian 2M (``data_eigenvalues``) and SGD's mean-square stability
limit from the data's second and fourth moments (``data_critical_lr``, through ``mean_square``), and the
valley, the plane of the two slowest directions (``data_valley``). Unused inputs
(a data set with fewer than ten features) are columns of zeros.

**Constant or collinear columns** (M singular: an unused input, a column that never changes, which the bias
duplicates, or one column a multiple of another) leave a whole line or plane of least-squares fits. SGD's
steps are sums of z·(zᵀθ − y), which lie in the span of the rows, so the part of θ outside that span never
changes: SGD ends at the minimum-norm fit θ_mn = M⁺E[z y] plus the part of its start θ₀ outside the span,
θ_mn + (I − P)θ₀ (P the projection on the span). ``data_fit(data, start=θ₀)`` gives that point; without a start
it gives θ_mn. With weight decay wd the fit is the ridge fit (2M + wd·I)⁻¹·2E[z y], unique. The stability
limit is computed on the span (the rest does not move), where M is positive definite.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..data import MAX_FEATURES, Data
from .mean_square import moments_critical_lr
from .moments import F64, Moments
from .sgd import time_constant

__all__ = [
    "DataFit",
    "data_collinear",
    "data_critical_lr",
    "data_eigenvalues",
    "data_expected_loss",
    "data_expected_losses",
    "data_fit",
    "data_floor",
    "data_moments",
    "data_second_moment",
    "data_span",
    "data_time_constant",
    "data_valley",
    "data_zeroed",
    "data_zeroed_loss",
]

# An eigenvalue of M below this fraction of the largest is taken as 0: the direction is not in the rows' span.
_RANK_TOLERANCE = 1e-10
_CHUNK_ROWS = 8192  # rows per block when summing the fourth moments (bounded memory)
_FLOAT32_EPS = float(torch.finfo(torch.float32).eps)  # 2⁻²³: float32's spacing of numbers just above 1


def _z(data: Data) -> torch.Tensor:
    """z = [x, 1] for every row, (N, 11) float64 from the float32 inputs (unused inputs are 0)."""
    x = data.inputs().to(F64)
    return torch.cat([x, torch.ones(data.rows, 1, dtype=F64)], 1)


def data_second_moment(data: Data) -> torch.Tensor:
    """M = E[z zᵀ] over the rows: (11, 11) float64."""
    z = _z(data)
    return z.T @ z / data.rows


def data_eigenvalues(data: Data) -> torch.Tensor:
    """The Hessian 2M's eleven eigenvalues, ascending (11,) float64; an unused input or a collinear column
    gives a 0 (within rounding)."""
    return torch.linalg.eigvalsh(2 * data_second_moment(data))


def _null_space(data: Data) -> torch.Tensor:
    """The directions θ with zθ = 0 for every row: (11, 11 − r) float64, columns in [w, b] (not orthonormal).

    Decided on centred, scaled columns, z' = z·T·D⁻¹ (T subtracts each column's mean and is folded into the bias;
    D divides by each centred column's standard deviation), so rank never depends on the columns' units: large
    but independent columns (values in the thousands) keep full rank, a column equal to another plus a constant
    does not. The null space of z is T·D⁻¹ times that of z'."""
    z = _z(data)
    mean = z[:, :-1].mean(0)
    centred = z[:, :-1] - mean
    spread = centred.square().mean(0).sqrt()
    scale = torch.where(spread > 0, spread, torch.ones_like(spread))  # an unused or constant column stays 0
    zs = torch.cat([centred / scale, z[:, -1:]], 1)
    values, vectors = torch.linalg.eigh(zs.T @ zs / data.rows)
    null = vectors[:, values <= _RANK_TOLERANCE * float(values.max())]
    # z' = z·T·D⁻¹ with T = [[I, 0], [−mean, 1]] and D = diag(scale, 1): θ = T·D⁻¹·θ'.
    weight = null[:-1] / scale[:, None]
    return torch.cat([weight, null[-1:] - mean[None, :] @ weight], 0)


def data_span(data: Data) -> torch.Tensor:
    """An orthonormal basis of the rows' span (of the z's): (11, r) float64, r = rank of M (decided on centred,
    scaled columns: see ``_null_space``)."""
    null = _null_space(data)
    if null.shape[1] == 0:
        return torch.eye(MAX_FEATURES + 1, dtype=F64)
    basis, _ = torch.linalg.qr(null)
    values, vectors = torch.linalg.eigh(basis @ basis.T)  # the projection on the null space: eigenvalues 0 or 1
    return vectors[:, values < 0.5]


def data_collinear(data: Data) -> tuple[str, ...]:
    """The names of the feature columns that are constant or a combination of others (plus a constant): those
    with a part in a direction no row moves. Empty when the fit is unique (unused inputs are never named)."""
    null = _null_space(data)
    if null.shape[1] == 0:
        return ()
    z = _z(data)
    spread = (z[:, :-1] - z[:, :-1].mean(0)).square().mean(0).sqrt()
    # Each column's share of a null direction in standard-deviation units (a constant column has spread 0).
    share = null[:-1].abs() * torch.where(spread > 0, spread, torch.ones_like(spread))[:, None]
    share = share / share.max(0).values.clamp_min(1e-300)
    return tuple(n for i, n in enumerate(data.feature_names) if float(share[i].max()) > 1e-6)


def data_valley(data: Data) -> tuple[torch.Tensor, torch.Tensor]:
    """The valley: the Hessian's two smallest eigenvalues in the rows' span (ascending, (2,)) and their unit
    eigenvectors in [w, b] as columns ((11, 2), float64). Along them the loss is flattest, so SGD crawls
    there last; the plane they span is where a valley is drawn. Directions outside the span are left out:
    there the loss is flat because SGD never moves. A data set whose span has one dimension gives the
    one direction twice."""
    q = data_span(data)
    values, vectors = torch.linalg.eigh(2 * q.T @ data_second_moment(data) @ q)
    take = [0, min(1, values.shape[0] - 1)]
    return values[take], q @ vectors[:, take]


@dataclass(frozen=True)
class DataFit:
    """Where one neuron ends on a data set: ``weight`` (10,) float64 and ``bias``; ``rank`` of M (11 when the
    fit is unique) and ``floor``, the mean squared error at the fit (plus σ²), the loss no layer beats."""

    weight: torch.Tensor
    bias: float
    rank: int
    floor: float

    @property
    def theta(self) -> torch.Tensor:
        """[w, b]: (11,) float64."""
        return torch.cat([self.weight, torch.tensor([self.bias], dtype=F64)])


def data_fit(data: Data, start: torch.Tensor | None = None, weight_decay: float = 0.0, noise: float = 0.0) -> DataFit:
    """The fit SGD reaches on ``data`` (see the module's notes): the minimum-norm least-squares fit, plus the
    part of ``start`` ([w, b], (11,), e.g. the run's initialisation) outside the rows' span; with
    ``weight_decay`` > 0 the ridge fit. ``floor`` is the mean squared residual there plus ``noise``² (σ of
    ``Config.noise``)."""
    z = _z(data)
    y = data.target.to(F64)
    m, zy = z.T @ z / data.rows, z.T @ y / data.rows
    if weight_decay > 0:
        theta = torch.linalg.solve(2 * m + weight_decay * torch.eye(m.shape[0], dtype=F64), 2 * zy)
        rank = m.shape[0]
    else:
        q = data_span(data)
        rank = q.shape[1]
        # θ_mn = Q·argmin‖zQ·u − y‖: least squares on the span by QR (torch's lstsq), not by the normal equations,
        # which square the condition number of large unscaled columns.
        theta = q @ torch.linalg.lstsq(z @ q, y[:, None]).solution[:, 0]
        if start is not None:
            theta0 = torch.as_tensor(start, dtype=F64).reshape(-1)
            theta = theta + theta0 - q @ (q.T @ theta0)
    residual = y - z @ theta
    return DataFit(theta[:-1].clone(), float(theta[-1]), rank, float(residual.square().mean()) + noise * noise)


def data_floor(data: Data, noise: float = 0.0) -> float:
    """The loss one neuron cannot beat on ``data``: min over θ of E[(zᵀθ − y)²], plus ``noise``²."""
    return data_fit(data, noise=noise).floor


def data_expected_loss(data: Data, weight: torch.Tensor, bias: float) -> float:
    """E[(zᵀθ − y)²] over the rows for the layer (``weight`` (10,), ``bias``), float64: the loss of the whole data."""
    theta = torch.cat([torch.as_tensor(weight, dtype=F64).reshape(-1), torch.tensor([bias], dtype=F64)])
    return float((_z(data) @ theta - data.target.to(F64)).square().mean())


def data_expected_losses(data: Data, weights: torch.Tensor, biases: torch.Tensor, noise: float = 0.0) -> torch.Tensor:
    """E[(zᵀθ − y)²] over the rows for many layers at once, plus ``noise``² (σ of ``Config.noise``): ``weights``
    (K, 10) and ``biases`` (K,) give (K,) float64, e.g. a run's parameters at each epoch. From the rows' moments,
    (θ − θ_ls)ᵀM(θ − θ_ls) + U (the module's formula), so K layers cost K small quadratic forms, not K passes
    over the rows."""
    theta = torch.cat([weights.to(F64).reshape(-1, MAX_FEATURES), biases.to(F64).reshape(-1, 1)], 1)
    fit = data_fit(data, noise=noise)
    error = theta - fit.theta
    return ((error @ data_second_moment(data)) * error).sum(1).clamp_min(0) + fit.floor


def data_zeroed(data: Data, theta: torch.Tensor) -> torch.Tensor:
    """[w, b] ((11,) or (K, 11)) with every entry within float32 rounding of 0 set to exactly 0: what a page
    writes as 0 rather than −9×10⁻⁸.

    The layer sees the data in float32: each target carries a rounding of up to eps/2·|y| (eps = 2⁻²³), so no
    fit can tell apart two predictions closer than eps·max|y|. A weight wⱼ moves the predictions by
    |wⱼ|·spread(xⱼ) across the rows (spread: the column's largest |x − mean|, or its largest |x| for a
    constant column), and the bias by |b|; below eps·max|y| that move is inside the targets' own rounding,
    so the least-squares fit of targets rounded from an exact rule gives such a weight where the rule has
    0. Unused inputs (zero columns) keep their value: nothing in the data decides it.
    """
    x = data.inputs().to(F64)
    centred = (x - x.mean(0)).abs().amax(0)
    spread = torch.where(centred > 0, centred, x.abs().amax(0))
    scale = torch.cat([spread, torch.ones(1, dtype=F64)])  # the bias moves every prediction by itself
    theta = torch.as_tensor(theta, dtype=F64)
    tiny = (theta.abs() * scale <= _rounding(data)) & (scale > 0)
    return torch.where(tiny, torch.zeros_like(theta), theta)


def data_zeroed_loss(data: Data, loss: float) -> float:
    """``loss`` (a mean squared error over the rows), or exactly 0 when it is within float32 rounding of 0: at most
    (eps·max|y|)², the square of the targets' own rounding (see ``data_zeroed``), which an exact rule's data leave
    as the least-squares floor."""
    return 0.0 if 0 <= loss <= _rounding(data) ** 2 else loss


def _rounding(data: Data) -> float:
    """eps·max|y|: how far apart two predictions must be for float32 targets of this size to tell them apart."""
    return _FLOAT32_EPS * float(data.target.to(F64).abs().max()) if data.rows else 0.0


def data_time_constant(
    data: Data,
    lr: float,
    momentum: float = 0.0,
    *,
    nesterov: bool = False,
    weight_decay: float = 0.0,
    dampening: float = 0.0,
) -> float:
    """Steps for the error along the valley's slowest direction (``data_valley``'s smaller eigenvalue, + weight
    decay) to shrink by a factor e: ``sgd.time_constant`` on the data's own Hessian. The loss above the floor
    along it shrinks twice as fast (it is a square). The slowest direction that moves at all: directions outside
    the rows' span never change. ``math.inf`` when that direction does not shrink (lr past the noise-free limit,
    momentum >= 1, a stall).
    """
    if momentum >= 1:
        return math.inf
    slowest = float(data_valley(data)[0][0])
    return time_constant(lr, momentum, slowest + weight_decay, nesterov=nesterov, dampening=dampening)


def data_moments(data: Data) -> Moments:
    """The rows' second and fourth moments on their span (``data_span``), for ``mean_square``: E[u uᵀ] (r, r) and
    E[u_a u_b u_c u_d] as (r², r²), u = Qᵀz. Summed in blocks of rows, so memory stays bounded."""
    q = data_span(data)
    r = q.shape[1]
    second = torch.zeros(r, r, dtype=F64)
    fourth = torch.zeros(r * r, r * r, dtype=F64)
    z = _z(data)
    for block in z.split(_CHUNK_ROWS):
        u = block @ q
        pairs = (u[:, :, None] * u[:, None, :]).reshape(-1, r * r)
        second += u.T @ u
        fourth += pairs.T @ pairs
    return Moments(second / data.rows, fourth / data.rows)


def data_critical_lr(
    data: Data,
    batch_size: int = 1,
    momentum: float = 0.0,
    *,
    nesterov: bool = False,
    weight_decay: float = 0.0,
    dampening: float = 0.0,
) -> float:
    """Largest learning rate at which torch.optim.SGD, on rows of ``data`` drawn with replacement, still
    settles in mean square (``mean_square.moments_critical_lr`` with ``data_moments(data)``).

    Exact for the data's empirical distribution, any batch size, momentum, dampening, Nesterov and weight
    decay. Unscaled columns (large values) make M's largest eigenvalue, and the fourth moments, large: the
    limit falls like 1/scale². 0.0 for momentum >= 1, ``math.inf`` for a stalled run.
    """
    return moments_critical_lr(
        data_moments(data), batch_size, momentum, nesterov=nesterov, weight_decay=weight_decay, dampening=dampening
    )
