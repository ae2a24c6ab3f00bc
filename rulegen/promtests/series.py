"""promtool's expanding notation for input series: ``0+10x4320`` is 0, 10,
20, ... 43200, one value per input interval."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import accumulate


def cumulative(increments: Sequence[int]) -> list[int]:
    """Counter values at each sample, from the increments between samples
    (the counter starts at 0)."""
    return [0, *accumulate(increments)]


def notation(values: Sequence[int]) -> str:
    """``values`` written as runs of equal steps, shortest first found."""
    parts = []
    start = 0
    while start < len(values):
        end = start
        if start + 1 < len(values):
            step = values[start + 1] - values[start]
            end = start + 1
            while end + 1 < len(values) and values[end + 1] - values[end] == step:
                end += 1
        parts.append(_run(values[start], values[end], end - start))
        start = end + 1
    return " ".join(parts)


def _run(first: int, last: int, steps: int) -> str:
    if steps == 0:
        return str(first)
    step = (last - first) // steps
    if step == 0:
        return f"{first}x{steps}"
    sign = "+" if step > 0 else "-"
    return f"{first}{sign}{abs(step)}x{steps}"
