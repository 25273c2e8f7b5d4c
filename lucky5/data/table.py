"""A data set to train on: rows of 1 to 10 numeric features and one target, as a frozen value with a hash.

``Data`` holds what training and theory read: the features (N, F) and the targets (N,) as float32 (the
numbers the layer sees), the column names, and ``digest``, the data's identity. Whatever file they came
from, the same numbers in the same arrangement are the same data, with the same digest.

**The digest** is SHA-256 (64 hex digits) of the canonical parsed numbers, not of the file's bytes: a
version tag, the numbers of rows and features, then the float32 features row by row and the float32
targets, little-endian. "1" and "1.0", a BOM, CRLF or LF, quoting and column names do not change it;
any change of a number that float32 tells apart does. It is what training sees, so two files with one
digest train to the same bits.

**Fewer than 10 features**: the layer keeps its ten inputs (``nn.Linear(10, 1)``, the blog post's), and
features 1..F feed inputs x1..xF; the inputs after them are 0 in every row (``inputs``). An input that is
always 0 gets a gradient of exactly 0, so its weight stays at its initial value for the whole run (with
weight decay it shrinks towards 0 instead): an unused input, drawn and reported as unused, not a smaller
layer.

**Standardising** (``standardized()``) maps each feature to (x − mean)/std with the data's own
mean and population standard deviation (float64, then float32). A constant column has no spread: it is
only centred (to 0, so it becomes unused too). Targets are never rescaled. The standardised data is a
data set of its own, with its own digest: what the layer sees is what the digest says.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from ..rules import parse_rule

__all__ = ["MAX_FEATURES", "MAX_ROWS", "Data", "DataError", "from_rule", "is_digest"]

MAX_FEATURES = 10  # the layer's inputs
MAX_ROWS = 100_000
_DIGEST_VERSION = b"lucky5-data-1"
_FLOAT32_MAX = float(torch.finfo(torch.float32).max)


class DataError(ValueError):
    """A file or table that is not a usable data set; the message names the reason (and row and column)."""


@dataclass(frozen=True, eq=False)
class Data:
    """A data set: ``features`` (N, F) float32 with 1 <= F <= 10, ``target`` (N,) float32, both finite.

    ``feature_names`` (F names) and ``target_name`` are the header's column names; ``digest`` is the
    SHA-256 of the numbers (see the module's notes). Build it with ``Data.of`` (or ``lucky5.data.read_csv``);
    treat the tensors as read-only. Two Data are equal when their digests are.
    """

    features: torch.Tensor
    target: torch.Tensor
    feature_names: tuple[str, ...]
    target_name: str
    digest: str

    @classmethod
    def of(
        cls,
        features: torch.Tensor,
        target: torch.Tensor,
        feature_names: tuple[str, ...] | None = None,
        target_name: str = "y",
    ) -> Data:
        """A Data from a (N, F) table of features and N targets (any real dtype; stored as float32 copies).

        ``feature_names`` default to x1..xF.

        Raises:
            DataError: wrong shapes, no rows, more than ``MAX_ROWS`` rows, F outside 1..10, a number that is
                not finite as float32, or names that do not match the columns.
        """
        x = torch.as_tensor(features).detach().to("cpu", torch.float64)
        y = torch.as_tensor(target).detach().to("cpu", torch.float64)
        if x.ndim != 2 or y.ndim != 1 or x.shape[0] != y.shape[0]:
            raise DataError(f"features must be (N, F) and targets (N,), not {tuple(x.shape)} and {tuple(y.shape)}")
        rows, width = x.shape
        if not 1 <= rows <= MAX_ROWS:
            raise DataError(f"a data set has 1 to {MAX_ROWS:,} rows, not {rows:,}")
        if not 1 <= width <= MAX_FEATURES:
            raise DataError(f"a data set has 1 to {MAX_FEATURES} feature columns, not {width}")
        for name, values in (("a feature", x), ("a target", y)):
            if not bool(torch.isfinite(values).all()) or float(values.abs().max()) > _FLOAT32_MAX:
                raise DataError(f"{name} is not a finite float32 number")
        names = tuple(feature_names) if feature_names is not None else tuple(f"x{i + 1}" for i in range(width))
        if len(names) != width:
            raise DataError(f"{len(names)} feature names for {width} feature columns")
        x32, y32 = x.to(torch.float32).contiguous(), y.to(torch.float32).contiguous()
        return cls(x32, y32, names, str(target_name), _digest(x32, y32))

    @property
    def rows(self) -> int:
        return int(self.features.shape[0])

    @property
    def width(self) -> int:
        """F, the number of feature columns (the inputs the data uses)."""
        return int(self.features.shape[1])

    def inputs(self) -> torch.Tensor:
        """The layer's inputs for every row: (N, 10) float32, the features first, then zeros (unused inputs)."""
        out = torch.zeros(self.rows, MAX_FEATURES, dtype=torch.float32)
        out[:, : self.width] = self.features
        return out

    def standardized(self) -> Data:
        """This data with each feature as (x − mean)/std: the data's own mean and population standard deviation,
        in float64, then float32 (a constant column is only centred). Targets and names are kept; the
        digest is the new numbers'."""
        x64 = self.features.to(torch.float64)
        mean, std = x64.mean(0), x64.std(0, correction=0)
        std = torch.where(std > 0, std, torch.ones_like(std))
        return Data.of((x64 - mean) / std, self.target, self.feature_names, self.target_name)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Data) and self.digest == other.digest

    def __hash__(self) -> int:
        return hash(self.digest)


def _digest(features: torch.Tensor, target: torch.Tensor) -> str:
    """SHA-256 of the version tag, N and F (two little-endian uint32) and the float32 numbers, little-endian."""
    h = hashlib.sha256(_DIGEST_VERSION)
    h.update(struct.pack("<II", *features.shape))
    for t in (features, target):
        h.update(t.numpy().astype("<f4", copy=False).tobytes())
    return h.hexdigest()


def is_digest(text: str) -> bool:
    """True for a data set's digest as ``Data.digest`` writes it: 64 lowercase hex digits."""
    return len(text) == 64 and all(c in "0123456789abcdef" for c in text)


def from_rule(
    rule: str,
    rows: int,
    seed: int,
    *,
    width: int = MAX_FEATURES,
    noise: float = 0.0,
    scales: Sequence[float] | None = None,
) -> Data:
    """A data set drawn from a rule (``lucky5.rules``): ``rows`` inputs x ~ U(0, 1)^10, each column i times
    ``scales[i]`` (default 1), target = rule(x) + noise·ε, keeping the first ``width`` columns as features.

    Drawn from a private ``torch.Generator`` seeded with ``seed`` (inputs first, then ε ~ N(0, 1) per row), so
    the same arguments give the same data anywhere. The rule may use only the kept columns.

    Raises:
        lucky5.rules.RuleError: ``rule`` is not a rule.
        DataError: the rule uses a column beyond ``width``, or the numbers are not a data set (see ``Data.of``).
    """
    parsed = parse_rule(rule)
    used = {i for t in parsed.terms for i in (t.i, t.j) if i is not None}
    if used and max(used) >= width:
        raise DataError(f"the rule uses x{max(used) + 1}, but the data keeps only {width} columns")
    generator = torch.Generator().manual_seed(seed)
    x = torch.rand(rows, MAX_FEATURES, generator=generator)
    if scales is not None:
        x = x * torch.tensor(list(scales), dtype=torch.float32)
    y = parsed.evaluate(x)
    if noise > 0:
        y = y + noise * torch.randn(rows, generator=generator)
    return Data.of(x[:, :width], y, tuple(f"x{i + 1}" for i in range(width)), "y")
