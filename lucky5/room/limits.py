"""How fast one client may join, train and create rooms: token buckets, sized for a real hall.

A hall reaches the server from one address (one Wi-Fi, one NAT), so a limit per address must let a whole hall
in at once; it is there to bound what one script costs, not to tell people from scripts (seats do that:
``seats``). Each ``Limit`` is a token bucket: ``burst`` tokens, refilled at ``rate`` per second; an action
takes one token or is refused with the seconds until the next (``slow_down``).

The bucket's rule is ``take`` (a pure function of the bucket, the limit and the time); ``MemoryStore`` applies
it under its lock, ``RedisStore`` in one Lua script with Redis's clock (shared by every replica).
"""

from __future__ import annotations

import math
from typing import NamedTuple

from .codes import RoomError


class Limit(NamedTuple):
    """A token bucket: at most ``burst`` actions at once, then ``rate`` per second. ``name`` keys the bucket
    and ``what`` names the action in a refusal."""

    name: str
    burst: float
    rate: float
    what: str

    @property
    def idle_seconds(self) -> float:
        """How long an untouched bucket takes to fill: after that it is the same as no bucket (forgettable)."""
        return self.burst / self.rate


# Joins per client address: a hall of 1,000 scanning within ten seconds is 100 a second on average; twice
# the 150 a second a hall behind one NAT may reach, with a burst of two seconds' worth.
JOINS = Limit("join", burst=600.0, rate=300.0, what="joins")
# New rooms per client address: ten at once (speakers behind one NAT, trying things), then one every 6 s, so
# a script's burst costs a speaker behind the same address seconds, and fills at most ten of ``MAX_ROOMS``.
ROOMS = Limit("room", burst=10.0, rate=1 / 6, what="new rooms")
# Runs per participant: five in a row (the learning-rate stage invites trying a few), then one every 6 s.
RUNS = Limit("run", burst=5.0, rate=1 / 6, what="runs")
LIMITS = {limit.name: limit for limit in (JOINS, ROOMS, RUNS)}
MAX_BUCKETS = 20_000  # buckets a MemoryStore keeps (the ones idle longest go first)
MAX_WHO_CHARS = 100  # an address or a room's participant, as a bucket's name


def take(tokens: float, at: float, now: float, limit: Limit) -> tuple[float, float]:
    """One action on a bucket that held ``tokens`` at time ``at`` (seconds), asked at ``now``.

    Returns ``(tokens left, wait)``: ``wait`` is 0 when the action is allowed (a token taken), else the
    seconds until a token is there (nothing taken). A bucket never seen is full: ``take(limit.burst, now, ...)``.
    """
    tokens = min(limit.burst, tokens + max(0.0, now - at) * limit.rate)
    if tokens >= 1.0:
        return tokens - 1.0, 0.0
    return tokens, (1.0 - tokens) / limit.rate


def slow_down(limit: Limit, wait: float) -> RoomError:
    """The refusal of an action over ``limit``, saying how many seconds to wait (rounded up; also its
    ``retry_after``)."""
    seconds = max(1, math.ceil(wait))
    err = RoomError("slow_down", f"Too many {limit.what} from here at once: try again in {seconds} s.")
    err.retry_after = seconds
    return err


def address(host: object) -> str:
    """The bucket name of a client address as the server reports it; Streamlit reports a loopback client as None
    (``st.context.ip_address``), the light phone's routes as 127.0.0.1: both are the same machine."""
    return host if isinstance(host, str) and host and host != "::1" else "127.0.0.1"


def bucket_name(limit: Limit, who: str) -> str:
    """The bucket's key: the limit's name and ``who`` (an address, or a room's participant), bounded in length."""
    return f"{limit.name}:{who[:MAX_WHO_CHARS]}"
