"""The valley's geometry: the run seen on the plane (u = Σw/√10, b), its view box, the expected loss's
contour rings (exact ellipses) and the run's path clipped to the view."""

from __future__ import annotations

import bisect
import itertools
import math
from typing import Any

import torch

from .. import theory
from ..engine import History
from ..narration import near
from .traces import MAX_CURVE_POINTS, _round

_STAR_ROOM = 0.15  # the share of the view kept between the optimum and the view's edge
_VALLEY_DECADES = 6  # contour rings drawn, one per power of ten of the expected loss
_CROSS_ROOM = 0.15  # a diverging run's path stops this share of the view inside its edge, where the ✕ goes
PATH_POINTS = 800
PATH_WIDTH = 2  # px; a piece of the path not yet walked is 0 wide: not drawn at all
_PIECE_POINTS = 60  # points per piece of the valley's path: pieces (a width each per frame) and a tail balance


def _path_rows(rows: int, limit: int = MAX_CURVE_POINTS) -> torch.Tensor:
    """Rows of a path to draw: every one of the first 200 (the fast phase's zigzag), then evenly spaced."""
    if rows <= limit:
        return torch.arange(rows)
    head = torch.arange(200)
    return torch.cat([head, torch.linspace(0, rows - 1, limit - 200).round().long()]).unique()


class _Valley:
    """The run seen on the plane (u = Σw/√10, b): its view box, the contour rings and the clipped path.

    On that plane (w = u/√10 · 1, so ‖w − mean w‖ = 0) the expected loss is the quadratic
    E(u, b) = ½·[u, b − t]·Q·[u, b − t]ᵀ with Q = Bᵀ·H·B, H the Hessian (``theory.hessian``) and B
    the plane's two unit vectors in [w, b]; its level sets are ellipses with semi-axes √(2L/λ)
    along Q's eigenvectors, drawn exactly rather than interpolated from a grid.
    """

    def __init__(self, history: History) -> None:
        # The rings' centre: the fit (a, c) of the targets seen on the plane, (Σa/√10, c); (0, t) for the lucky
        # number. The rest of w − a lies outside the plane and only adds a constant there.
        fit = theory.least_squares(history.config)
        self.target = t = float(fit.bias)
        self.centre_u = float(fit.weight.sum()) / math.sqrt(10)
        self.coords = theory.valley_coordinates(history)  # (steps + 1, 2) float64
        self.left_at = history.diverged_at
        optimum = torch.tensor([self.centre_u, t], dtype=torch.float64)
        dist = (self.coords - optimum).norm(dim=-1)
        # A diverging run leaves for 1e18 and beyond: the view keeps what is within 3× the start's
        # distance to the optimum (at least 1), and the path is clipped to it.
        radius = 3 * max(float(dist[0]), 1.0)
        near = self.coords[dist <= radius]
        pts = torch.cat([near, optimum[None], self.coords[:1]])
        lo, hi = pts.min(0).values, pts.max(0).values
        pad = 0.08 * (hi - lo).clamp(min=0.5)
        lo, hi = lo - pad, hi + pad
        # The optimum's star (16 px) whole inside the plot, even where the path ends at it on the box's edge:
        # a 90 px tall valley (1280×720) needs its centre about 11 px from the edge.
        room = _STAR_ROOM * (hi - lo)
        lo, hi = torch.minimum(lo, optimum - room), torch.maximum(hi, optimum + room)
        # A diverging run's path is clipped to a box inside the view, so the ✕ where it leaves lies whole inside
        # the plot (on the view's edge it was cut in half, under the panel's title).
        clip_lo, clip_hi = lo, hi
        if self.left_at is not None:
            margin = _CROSS_ROOM * (hi - lo)
            lo, hi = lo - margin, hi + margin
        self.u_range = (float(lo[0]), float(hi[0]))
        self.b_range = (float(lo[1]), float(hi[1]))
        self.inside = ((self.coords >= clip_lo) & (self.coords <= clip_hi)).all(-1)
        # A diverging run's path ends where it first leaves the view, so the ✕ sits on the box's edge in the
        # direction the run went: its later jumps of 10¹⁸ and back would cross the view in straight lines.
        rows = self.coords.shape[0]
        self.left_view = None  # the first row outside the view, for a diverging run that leaves it
        if self.left_at is not None and not bool(self.inside.all()):
            self.left_view = int((~self.inside).nonzero()[0])
            rows = self.left_view + 1
        self.clip = (clip_lo.tolist(), clip_hi.tolist())
        self.path_u, self.path_b, self.exit_point = self._clipped_path(*self.clip, rows)

    def plane_loss(self, u: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """theory.expected_loss at w = u/√10 · 1 (shape of u), b, measured from the fit (the plane's part)."""
        w = ((u.double() - self.centre_u) / math.sqrt(10)).unsqueeze(-1).expand(*u.shape, 10)
        return theory.expected_loss(w, b, self.target)

    def right_line(self, u: float) -> float:
        """b on the line where the average answer is right, 0.5·Σ(w − a) + b = c, at ``u`` (b = t − (√10/2)·u
        for the lucky number)."""
        return self.target - math.sqrt(10) / 2 * (u - self.centre_u)

    def rings(self, points: int = 73) -> list[tuple[float, tuple[list[float | None], list[float | None]]]]:
        """(level, (u, b)) for each of the ``_VALLEY_DECADES`` powers of ten up to the view's largest loss."""
        basis = torch.zeros(11, 2, dtype=torch.float64)
        basis[:10, 0] = 1 / math.sqrt(10)
        basis[10, 1] = 1.0
        q = basis.T @ theory.hessian() @ basis
        lam, vec = torch.linalg.eigh(q)
        corners = torch.tensor([[u, b] for u in self.u_range for b in self.b_range], dtype=torch.float64)
        top = math.floor(math.log10(float(self.plane_loss(corners[:, 0], corners[:, 1]).max())))
        theta = torch.linspace(0, 2 * math.pi, points, dtype=torch.float64)
        circle = torch.stack([theta.cos(), theta.sin()])  # (2, points)
        rings = []
        for k in range(top - _VALLEY_DECADES + 1, top + 1):
            level = 10.0**k
            ellipse = vec @ (torch.sqrt(2 * level / lam)[:, None] * circle)  # E = ½·eᵀQe = level
            rings.append((level, (_round(ellipse[0] + self.centre_u, 7), _round(ellipse[1] + self.target, 7))))
        return rings

    def _clipped_path(
        self, lo: list[float], hi: list[float], count: int
    ) -> tuple[list[float | None], list[float | None], tuple[float, float]]:
        """The path's drawn rows among its first ``count`` clipped to the box [lo, hi] (u, b) (Liang–Barsky), with
        None between pieces; and where it last left the box (or its last point), to mark a divergence."""
        rows = _path_rows(count, 800)
        pts = self.coords[rows].tolist()
        (u0, b0), (u1, b1) = lo, hi
        us: list[float | None] = []
        bs: list[float | None] = []
        last: tuple[float, float] | None = None
        if len(pts) == 1:
            us, bs = [pts[0][0]], [pts[0][1]]
        for (ax, ay), (bx, by) in itertools.pairwise(pts):
            seg = _clip_segment(ax, ay, bx, by, u0, u1, b0, b1)
            if seg is None:
                continue
            (cx, cy), (dx, dy) = seg
            if last != (cx, cy):
                if us:
                    us.append(None)
                    bs.append(None)
                us.append(cx)
                bs.append(cy)
            us.append(dx)
            bs.append(dy)
            last = (dx, dy)
        exit_point = last if last is not None else (pts[0][0], pts[0][1])
        return _round(us, 6), _round(bs, 6), exit_point


def _clip_segment(ax: float, ay: float, bx: float, by: float, x0: float, x1: float, y0: float, y1: float):
    """The part of segment a→b inside the box [x0, x1]×[y0, y1] (Liang–Barsky), or None."""
    dx, dy = bx - ax, by - ay
    t0, t1 = 0.0, 1.0
    for p, q in ((-dx, ax - x0), (dx, x1 - ax), (-dy, ay - y0), (dy, y1 - ay)):
        if p == 0:
            if q < 0:
                return None
            continue
        r = q / p
        if p < 0:
            t0 = max(t0, r)
        else:
            t1 = min(t1, r)
        if t0 > t1:
            return None
    # The end points themselves when not cut, so the drawn path holds the run's own numbers.
    start = (ax, ay) if t0 == 0.0 else (ax + t0 * dx, ay + t0 * dy)
    end = (bx, by) if t1 == 1.0 else (ax + t1 * dx, ay + t1 * dy)
    return start, end


class ValleyPath:
    """The run's path on the valley's plane, in pieces, for time running forward.

    The path goes through the rows ``_path_rows`` picks and every frame's row, inside the view box (a
    diverging run's path stops where it leaves the view, with a gap where it is outside). Pieces end at frames
    and hold about ``_PIECE_POINTS`` points each, so a frame carries one width per piece and the path since
    the last complete piece: a bounded amount, whatever the epoch.
    """

    def __init__(self, history: History, v: _Valley, epochs: list[int], digits: int = 6) -> None:
        self.target = history.config.target
        self.digits = digits  # significant digits of each point: a projector's picture needs fewer
        rows = sorted(set(_path_rows(history.steps + 1, PATH_POINTS).tolist()) | set(epochs))
        coords = v.coords[rows].tolist()
        inside = v.inside[rows].tolist()
        self.u = [c[0] if ok else None for c, ok in zip(coords, inside, strict=True)]
        self.b = [c[1] if ok else None for c, ok in zip(coords, inside, strict=True)]
        self.index = {r: i for i, r in enumerate(rows)}
        self.epochs = epochs
        ends = [0]  # frame indices where pieces end (the first piece starts at frame 0)
        for f in range(1, len(epochs)):
            if self.index[epochs[f]] - self.index[epochs[ends[-1]]] >= _PIECE_POINTS or f == len(epochs) - 1:
                ends.append(f)
        self.ends = ends  # piece j runs from frame ends[j] to frame ends[j + 1], both ends included
        self.pieces = [self._between(epochs[a], epochs[b]) for a, b in itertools.pairwise(ends)]

    def _between(self, a: int, b: int) -> tuple[list[Any], list[Any]]:
        i, j = self.index[a], self.index[b] + 1
        return _round(self.u[i:j], self.digits), _round(self.b[i:j], self.digits)

    def _done(self, frame: int) -> int:
        """How many pieces are complete at ``frame``."""
        return bisect.bisect_right(self.ends, frame) - 1

    def tail(self, frame: int) -> tuple[list[Any], list[Any]]:
        """The path from the last complete piece's end to frame ``frame``'s epoch."""
        return self._between(self.epochs[self.ends[self._done(frame)]], self.epochs[frame])

    def position(self, frame: int) -> tuple[float | None, float | None]:
        i = self.index[self.epochs[frame]]
        return _round([self.u[i]])[0], _round([self.b[i]])[0]

    def said(self, frame: int) -> str:
        """Where the run is at ``frame``, in words: b with the digits that tell it from the lucky number."""
        b = self.b[self.index[self.epochs[frame]]]
        return "outside the view" if b is None else f"b = {near(b, self.target)}"

    def frame(self, frame: int, epoch: int) -> list[dict]:
        done = self._done(frame)
        us, bs = self.tail(frame)
        u, b = self.position(frame)
        pieces = [{"line": {"width": PATH_WIDTH if j < done else 0}} for j in range(len(self.pieces))]
        return [*pieces, {"x": us, "y": bs}, {"x": [u], "y": [b], "customdata": [epoch], "text": [self.said(frame)]}]
