"""Small statistics: proportions and their Wilson score interval."""

from __future__ import annotations

import math

Z95 = 1.959963984540054  # the normal quantile of 0.975, as statsmodels uses


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float] | tuple[None, None]:
    """Wilson score interval for successes / n (95% by default); (None, None) when n == 0.

    Unlike the normal approximation it stays inside [0, 1] and behaves for rates near
    0 or 1 and for small n, which is the common case for one evaluee and one group.
    """
    if n <= 0:
        return None, None
    p = successes / n
    z2 = z * z
    denom = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def competition_ranks(values: list[float], ndigits: int = 2) -> list[int]:
    """Rank 1 = highest; values equal as published (2 decimals) share a rank and the
    next rank skips (1, 2, 2, 4): two totals shown as 84.78 never get different ranks."""
    rounded = [round(v, ndigits) for v in values]
    return [1 + sum(1 for w in rounded if w > v) for v in rounded]


def mean_interval(points: dict[float, int], units: int, z: float = Z95) -> tuple[float, float] | None:
    """A 95% interval of a mean of points: ``points`` maps a value to how many answers gave
    it, ``units`` is the number of independent units behind them (ballots: one rater's
    answers are not independent of each other, so counting ballots, not answers, keeps
    the interval honest). Normal approximation; None without answers."""
    n = sum(points.values())
    if not n or units <= 0:
        return None
    mean = sum(v * k for v, k in points.items()) / n
    var = sum(k * (v - mean) ** 2 for v, k in points.items()) / n
    half = z * math.sqrt(var / units)
    return mean - half, mean + half
